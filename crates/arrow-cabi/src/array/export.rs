//! Array export: an `ArrayData` written as a tree of `ArrowArray` nodes pointing at its buffers.
//!
//! Nothing is copied but the validity bitmap of a node whose bitmap starts at a different bit than its
//! data (a typed array sliced at an offset that is not a multiple of 8), and the variadic-sizes buffer
//! of views, which the C ABI adds. Each node owns one [`Node`] block that shares its buffers (keeping
//! them alive) and holds its children's structs, until the consumer releases it.

use std::ffi::c_void;
use std::ptr;

use arrow_buffer::{BooleanBufferBuilder, Buffer};
use arrow_cabi_sys::ArrowArray;
use arrow_data::ArrayData;
use arrow_schema::DataType;

use crate::boundary;
use crate::layout::{self, Buffer as Slot};

/// What a node owns: the memory behind every pointer of its `ArrowArray`.
struct Node {
    /// Keeps the exported buffers alive: the node's own (shared, not copied) and any made for the export.
    _buffers: Vec<Buffer>,
    /// `buffers` of the C struct points here.
    pointers: Vec<*const c_void>,
    /// The child structs, then the dictionary's, in place: `children` and `dictionary` point in here.
    arrays: Vec<ArrowArray>,
    /// `children` of the C struct points here.
    children: Vec<*mut ArrowArray>,
}

/// Exports `data`; costs one node block and its vectors per node (none per row or per byte).
pub(crate) fn export_array(data: &ArrayData) -> ArrowArray {
    let layout = layout::layout(data.data_type());
    let own = data.buffers();
    let mut buffers = Vec::with_capacity(own.len() + 2);
    let mut pointers: Vec<*const c_void> = Vec::with_capacity(layout.buffers.len() + own.len() + 1);
    let mut own = own.iter();
    for slot in layout.buffers {
        let buffer = match slot {
            Slot::Validity => validity(data),
            _ => own.next().cloned(),
        };
        pointers.push(buffer.as_ref().map_or(ptr::null(), |b| b.as_ptr().cast()));
        buffers.extend(buffer);
    }
    if layout.variadic {
        let variadic: Vec<&Buffer> = own.collect();
        let sizes = Buffer::from_iter(variadic.iter().map(|buffer| buffer.len() as i64));
        pointers.extend(variadic.iter().map(|buffer| buffer.as_ptr().cast::<c_void>()));
        pointers.push(sizes.as_ptr().cast());
        buffers.extend(variadic.into_iter().cloned());
        buffers.push(sizes);
    }

    let is_dictionary = matches!(data.data_type(), DataType::Dictionary(..));
    let mut arrays: Vec<ArrowArray> = data.child_data().iter().map(export_array).collect();
    let n_children = if is_dictionary { 0 } else { arrays.len() };
    let children: Vec<*mut ArrowArray> = arrays[..n_children].iter_mut().map(|a| a as *mut ArrowArray).collect();
    let dictionary = if is_dictionary { arrays.last_mut().map_or(ptr::null_mut(), |d| d as *mut ArrowArray) } else { ptr::null_mut() };
    let node = Box::new(Node { _buffers: buffers, pointers, arrays, children });
    ArrowArray {
        length: data.len() as i64,
        null_count: data.null_count() as i64,
        offset: data.offset() as i64,
        n_buffers: node.pointers.len() as i64,
        n_children: node.children.len() as i64,
        // The vectors' heap blocks do not move when the box moves into `private_data`.
        buffers: node.pointers.as_ptr().cast_mut(),
        children: node.children.as_ptr().cast_mut(),
        dictionary,
        release: Some(release_array),
        private_data: Box::into_raw(node).cast(),
    }
}

/// A validity bitmap whose bit `data.offset() + i` is element `i`'s: the bitmap itself (shared, moved
/// by whole bytes) when its bit offset lines up on a byte, otherwise a copy shifted to line up; `None`
/// when there are no nulls.
fn validity(data: &ArrayData) -> Option<Buffer> {
    let nulls = data.nulls().filter(|nulls| nulls.null_count() > 0)?;
    let (have, want) = (nulls.offset(), data.offset());
    if have >= want && (have - want) % 8 == 0 {
        let skip = (have - want) / 8;
        return Some(nulls.buffer().slice(skip));
    }
    let mut bits = BooleanBufferBuilder::new(want + nulls.len());
    bits.append_n(want, false);
    bits.append_buffer(nulls.inner());
    Some(bits.finish().into_inner())
}

/// The `release` of every exported array node.
///
/// # Safety
/// `array` is NULL or points to a node this module exported (possibly moved), not yet released.
unsafe extern "C" fn release_array(array: *mut ArrowArray) {
    boundary::catch_in_release(|| {
        // SAFETY: the caller passes a valid pointer or NULL (checked by `as_mut`).
        let Some(array) = (unsafe { array.as_mut() }) else { return };
        if array.private_data.is_null() {
            return;
        }
        // SAFETY: private_data came from `Box::into_raw(Box<Node>)` in `export_array` and is reset
        // below, so it is reclaimed once.
        let mut node = unsafe { Box::from_raw(array.private_data.cast::<Node>()) };
        for child in &mut node.arrays {
            // A consumer may have moved the child out, leaving it released; otherwise release it now.
            if let Some(release) = child.release {
                // SAFETY: the child is one of our exported, unreleased nodes.
                unsafe { release(child) };
            }
        }
        array.private_data = ptr::null_mut();
        array.release = None;
    });
}
