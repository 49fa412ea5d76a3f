//! Array export: an `ArrayData` written as a tree of `ArrowArray` nodes pointing at its buffers.
//!
//! Nothing is copied but the validity bitmap of a node whose bitmap starts at a different bit than its
//! data (a typed array sliced at an offset that is not a multiple of 8), and the variadic-sizes buffer
//! of views, which the C ABI adds. Each node owns one [`Node`] block that keeps its `ArrayData` (and so
//! every buffer) alive until the consumer releases it.

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
    /// Keeps the exported buffers alive.
    _data: ArrayData,
    /// Buffers made for the export (a realigned bitmap, variadic sizes).
    _made: Vec<Buffer>,
    buffers: Box<[*const c_void]>,
    /// Each from `Box::into_raw`.
    children: Box<[*mut ArrowArray]>,
    /// From `Box::into_raw`, or NULL.
    dictionary: *mut ArrowArray,
}

/// Exports `data`; costs one heap block per node plus its pointer arrays, nothing per row.
pub(crate) fn export_array(data: &ArrayData) -> ArrowArray {
    let mut made = Vec::new();
    let layout = layout::layout(data.data_type());
    let mut own = data.buffers().iter();
    let mut buffers: Vec<*const c_void> = Vec::with_capacity(layout.buffers.len() + data.buffers().len() + 1);
    for slot in layout.buffers {
        let pointer = match slot {
            Slot::Validity => validity(data, &mut made),
            _ => own.next().map_or(ptr::null(), |buffer| buffer.as_ptr()),
        };
        buffers.push(pointer.cast());
    }
    if layout.variadic {
        let variadic: Vec<&Buffer> = own.collect();
        let sizes: Vec<i64> = variadic.iter().map(|buffer| buffer.len() as i64).collect();
        buffers.extend(variadic.iter().map(|buffer| buffer.as_ptr().cast::<c_void>()));
        let sizes = Buffer::from_vec(sizes);
        buffers.push(sizes.as_ptr().cast());
        made.push(sizes);
    }

    let (children, dictionary): (&[ArrayData], Option<&ArrayData>) = match data.data_type() {
        DataType::Dictionary(..) => (&[], data.child_data().first()),
        _ => (data.child_data(), None),
    };
    let node = Box::new(Node {
        _data: data.clone(),
        _made: made,
        buffers: buffers.into_boxed_slice(),
        children: children.iter().map(|child| Box::into_raw(Box::new(export_array(child)))).collect(),
        dictionary: dictionary.map_or(ptr::null_mut(), |d| Box::into_raw(Box::new(export_array(d)))),
    });
    ArrowArray {
        length: data.len() as i64,
        null_count: data.null_count() as i64,
        offset: data.offset() as i64,
        n_buffers: node.buffers.len() as i64,
        n_children: node.children.len() as i64,
        // Boxed slices keep their heap blocks when the box moves into `private_data`.
        buffers: node.buffers.as_ptr().cast_mut(),
        children: node.children.as_ptr().cast_mut(),
        dictionary: node.dictionary,
        release: Some(release_array),
        private_data: Box::into_raw(node).cast(),
    }
}

/// A validity pointer whose bit `data.offset() + i` is element `i`'s: the bitmap itself when its bit
/// offset lines up on a byte, otherwise a copy shifted to line up; NULL when there are no nulls.
fn validity(data: &ArrayData, made: &mut Vec<Buffer>) -> *const u8 {
    let Some(nulls) = data.nulls().filter(|nulls| nulls.null_count() > 0) else {
        return ptr::null();
    };
    let (have, want) = (nulls.offset(), data.offset());
    if have >= want && (have - want) % 8 == 0 {
        // SAFETY: `(have - want) / 8` bytes in is inside the bitmap, which covers bit `have`.
        return unsafe { nulls.buffer().as_ptr().add((have - want) / 8) };
    }
    let mut bits = BooleanBufferBuilder::new(want + nulls.len());
    bits.append_n(want, false);
    bits.append_buffer(nulls.inner());
    let buffer = bits.finish().into_inner();
    let pointer = buffer.as_ptr();
    made.push(buffer);
    pointer
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
        let node = unsafe { Box::from_raw(array.private_data.cast::<Node>()) };
        for child in node.children.iter().copied().chain(Some(node.dictionary)) {
            if child.is_null() {
                continue;
            }
            // SAFETY: each child pointer came from `Box::into_raw` in `export_array`, freed only here.
            let mut child = unsafe { Box::from_raw(child) };
            // A consumer may have moved the child out, leaving it released; otherwise release it now.
            if let Some(release) = child.release {
                // SAFETY: the child is one of our exported, unreleased nodes.
                unsafe { release(&mut *child) };
            }
        }
        array.private_data = ptr::null_mut();
        array.release = None;
    });
}
