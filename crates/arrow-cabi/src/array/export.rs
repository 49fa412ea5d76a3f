//! Array export: an `ArrayData` written as a tree of `ArrowArray` nodes pointing at its buffers.
//!
//! Nothing is copied but the validity bitmap of a node whose bitmap starts at a different bit than its
//! data (a typed array sliced at an offset that is not a multiple of 8), and the variadic-sizes buffer
//! of views, which the C ABI adds.
//!
//! All the nodes of one export live in one [`Tree`]: one block of node structs, one of buffer pointers,
//! one of child pointers, whatever the number of columns. Every node's `private_data` points at the
//! tree, which counts the nodes not yet released; a consumer may move children out and release them in
//! any order, on any thread, and the tree (with the `ArrayData` that keeps the buffers alive) is freed
//! when the last node is released.

use std::ffi::c_void;
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};

use arrow_array::cast::AsArray;
use arrow_array::{downcast_primitive_array, Array, ArrayRef, RecordBatch};
use arrow_buffer::{BooleanBufferBuilder, Buffer, NullBuffer};
use arrow_cabi_sys::ArrowArray;
use arrow_data::ArrayData;
use arrow_schema::DataType;

use crate::boundary;
use crate::layout::{self, Buffer as Slot};

/// The memory behind every pointer of every node of one export.
struct Tree {
    /// The node structs, in pre-order; the root's is copied out to the caller.
    nodes: Vec<ArrowArray>,
    /// Each node's buffer pointers, node after node.
    pointers: Vec<*const c_void>,
    /// Each node's child pointers (into `nodes`), node after node.
    children: Vec<*mut ArrowArray>,
    /// Keeps the exported buffers alive.
    _root: Root,
    /// The `ArrayData` of arrays exported through it (all but the leaves read directly).
    _kept: Vec<ArrayData>,
    /// Buffers made for the export: realigned bitmaps and variadic sizes.
    _made: Vec<Buffer>,
    /// Nodes not yet released; the last release frees the tree.
    live: AtomicUsize,
}

/// Where a node's pointers go, noted while the vectors still grow and resolved once they are full.
struct Plan {
    first_buffer: usize,
    first_child: usize,
    dictionary: Option<usize>,
}

/// What an export shares out, kept alive by its tree.
pub(crate) enum Root {
    /// Any array, as `ArrayData`.
    Data(ArrayData),
    /// Any array; leaves are read without building `ArrayData`.
    Array(ArrayRef),
    /// A record batch, as a struct array without nulls whose children are the columns.
    Batch(RecordBatch),
}

/// Exports `root`; costs one tree block and its three vectors however many nodes there are, plus an
/// `ArrayData` for each array that is not a primitive, boolean or byte array.
pub(crate) fn export_array(root: Root) -> ArrowArray {
    let mut builder = Builder::default();
    match &root {
        Root::Data(data) => builder.add_data(data),
        Root::Array(array) => builder.add_array(array.as_ref()),
        Root::Batch(batch) => builder.add_batch(batch),
    };
    let Builder { nodes, pointers, child_nodes, plans, made, kept } = builder;
    let live = AtomicUsize::new(nodes.len());
    let tree = Tree { nodes, pointers, children: Vec::new(), _root: root, _kept: kept, _made: made, live };
    let tree = Box::into_raw(Box::new(tree));

    // From here on the nodes are reached only through `base`, one raw pointer, as C will reach them.
    // SAFETY: `tree` was just made and is not shared yet; the vectors are complete, so their heap blocks
    // no longer move (moving a vector does not move its block).
    unsafe {
        let base = (*tree).nodes.as_mut_ptr();
        (*tree).children = child_nodes.into_iter().map(|index| base.add(index)).collect();
        let pointers = (*tree).pointers.as_ptr();
        let children = (*tree).children.as_ptr();
        for (index, plan) in plans.iter().enumerate() {
            let node = base.add(index);
            (*node).buffers = pointers.add(plan.first_buffer).cast_mut();
            (*node).children = children.add(plan.first_child).cast_mut();
            (*node).dictionary = plan.dictionary.map_or(ptr::null_mut(), |index| base.add(index));
            (*node).private_data = tree.cast();
        }
        // The root handed out is a copy; its slot in `nodes` is never pointed at.
        ptr::replace(base, ArrowArray::EMPTY)
    }
}

#[derive(Default)]
struct Builder {
    nodes: Vec<ArrowArray>,
    pointers: Vec<*const c_void>,
    child_nodes: Vec<usize>,
    plans: Vec<Plan>,
    made: Vec<Buffer>,
    kept: Vec<ArrayData>,
}

impl Builder {
    /// Adds a node whose buffer pointers were pushed from `first_buffer` on, and reserves its
    /// `n_children` child slots; returns the node's index and its first child slot.
    fn node(&mut self, length: usize, null_count: usize, offset: usize, first_buffer: usize, n_children: usize) -> (usize, usize) {
        let index = self.nodes.len();
        self.nodes.push(ArrowArray {
            length: length as i64,
            null_count: null_count as i64,
            offset: offset as i64,
            n_buffers: (self.pointers.len() - first_buffer) as i64,
            n_children: n_children as i64,
            release: Some(release_array),
            ..ArrowArray::EMPTY
        });
        let first_child = self.child_nodes.len();
        self.plans.push(Plan { first_buffer, first_child, dictionary: None });
        self.child_nodes.resize(first_child + n_children, 0);
        (index, first_child)
    }

    /// Adds `data` and everything below it in pre-order; returns its node index.
    fn add_data(&mut self, data: &ArrayData) -> usize {
        let first_buffer = self.pointers.len();
        let layout = layout::layout(data.data_type());
        let mut own = data.buffers().iter();
        for slot in layout.buffers {
            let pointer = match slot {
                Slot::Validity => validity(data.nulls(), data.offset(), &mut self.made),
                _ => own.next().map_or(ptr::null(), |buffer| buffer.as_ptr()),
            };
            self.pointers.push(pointer.cast());
        }
        if layout.variadic {
            let variadic = own.as_slice();
            self.pointers.extend(variadic.iter().map(|buffer| buffer.as_ptr().cast::<c_void>()));
            let sizes = Buffer::from_iter(variadic.iter().map(|buffer| buffer.len() as i64));
            self.pointers.push(sizes.as_ptr().cast());
            self.made.push(sizes);
        }
        let (children, dictionary) = match data.data_type() {
            DataType::Dictionary(..) => (&[][..], data.child_data().first()),
            _ => (data.child_data(), None),
        };
        let (index, first_child) = self.node(data.len(), data.null_count(), data.offset(), first_buffer, children.len());
        for (slot, child) in children.iter().enumerate() {
            let child_index = self.add_data(child);
            self.child_nodes[first_child + slot] = child_index;
        }
        let dictionary = dictionary.map(|values| self.add_data(values));
        self.plans[index].dictionary = dictionary;
        index
    }

    /// Adds `array`: a leaf whose buffers its typed array exposes directly, or anything else through
    /// its `ArrayData` (kept with the tree).
    fn add_array(&mut self, array: &dyn Array) -> usize {
        let Some(leaf) = Leaf::of(array) else {
            let data = array.to_data();
            let index = self.add_data(&data);
            self.kept.push(data);
            return index;
        };
        let first_buffer = self.pointers.len();
        let validity = validity(array.nulls(), leaf.offset, &mut self.made);
        self.pointers.push(validity.cast());
        self.pointers.extend(leaf.buffers.iter().take(leaf.count).map(|pointer| pointer.cast::<c_void>()));
        self.node(array.len(), array.null_count(), leaf.offset, first_buffer, 0).0
    }

    /// Adds a record batch as the struct array the interface sends: no nulls, the columns as children.
    fn add_batch(&mut self, batch: &RecordBatch) -> usize {
        let first_buffer = self.pointers.len();
        self.pointers.push(ptr::null());
        let columns = batch.columns();
        let (index, first_child) = self.node(batch.num_rows(), 0, 0, first_buffer, columns.len());
        for (slot, column) in columns.iter().enumerate() {
            let child_index = self.add_array(column.as_ref());
            self.child_nodes[first_child + slot] = child_index;
        }
        index
    }
}

/// The data buffers of a leaf array read straight from its typed array, after the validity bitmap.
struct Leaf {
    /// The C offset: the boolean values' bit offset; 0 where arrow-rs slices the buffers themselves.
    offset: usize,
    buffers: [*const u8; 2],
    count: usize,
}

impl Leaf {
    /// The leaf parts of primitive, boolean and (large) utf8 and binary arrays; `None` for the rest.
    fn of(array: &dyn Array) -> Option<Leaf> {
        let one = |offset, buffer: *const u8| Leaf { offset, buffers: [buffer, ptr::null()], count: 1 };
        let two = |offsets: *const u8, values: *const u8| Leaf { offset: 0, buffers: [offsets, values], count: 2 };
        Some(downcast_primitive_array!(
            array => one(0, array.values().inner().as_ptr()),
            DataType::Boolean => {
                let values = array.as_boolean().values();
                one(values.offset(), values.inner().as_ptr())
            }
            DataType::Utf8 => {
                let array = array.as_string::<i32>();
                two(array.value_offsets().as_ptr().cast(), array.values().as_ptr())
            }
            DataType::LargeUtf8 => {
                let array = array.as_string::<i64>();
                two(array.value_offsets().as_ptr().cast(), array.values().as_ptr())
            }
            DataType::Binary => {
                let array = array.as_binary::<i32>();
                two(array.value_offsets().as_ptr().cast(), array.values().as_ptr())
            }
            DataType::LargeBinary => {
                let array = array.as_binary::<i64>();
                two(array.value_offsets().as_ptr().cast(), array.values().as_ptr())
            }
            _ => return None
        ))
    }
}

/// A validity pointer whose bit `offset + i` is element `i`'s: the bitmap itself when its bit offset
/// lines up on a byte, otherwise a copy shifted to line up; NULL when there are no nulls.
fn validity(nulls: Option<&NullBuffer>, offset: usize, made: &mut Vec<Buffer>) -> *const u8 {
    let Some(nulls) = nulls.filter(|nulls| nulls.null_count() > 0) else {
        return ptr::null();
    };
    let have = nulls.offset();
    if have >= offset && (have - offset) % 8 == 0 {
        // SAFETY: `(have - offset) / 8` bytes in is inside the bitmap, which covers bit `have`.
        return unsafe { nulls.buffer().as_ptr().add((have - offset) / 8) };
    }
    let mut bits = BooleanBufferBuilder::new(offset + nulls.len());
    bits.append_n(offset, false);
    bits.append_buffer(nulls.inner());
    let buffer = bits.finish().into_inner();
    let pointer = buffer.as_ptr();
    made.push(buffer);
    pointer
}

/// The `release` of every exported array node: releases the children still in place (a consumer may
/// have moved some out), marks the node released, and frees the tree with its last node.
///
/// # Safety
/// `array` is NULL or points to a node this module exported (possibly moved), not yet released.
unsafe extern "C" fn release_array(array: *mut ArrowArray) {
    boundary::catch_in_release(|| {
        // SAFETY: the caller passes a valid pointer or NULL (checked by `as_mut`).
        let Some(array) = (unsafe { array.as_mut() }) else { return };
        let tree = array.private_data.cast::<Tree>();
        if tree.is_null() || array.release.is_none() {
            return;
        }
        let count = usize::try_from(array.n_children).unwrap_or(0);
        // SAFETY: `children` points at `n_children` pointers into the live tree's `nodes`.
        let children = (0..count).map(|index| unsafe { *array.children.add(index) });
        for node in children.chain(Some(array.dictionary)) {
            // SAFETY: each pointer is NULL (no dictionary) or one of the tree's nodes, which are alive.
            let Some(node) = (unsafe { node.as_mut() }) else { continue };
            // A consumer may have moved the node out, leaving it released; otherwise release it now.
            if let Some(release) = node.release {
                // SAFETY: one of our exported, unreleased nodes.
                unsafe { release(node) };
            }
        }
        array.private_data = ptr::null_mut();
        array.release = None;
        // SAFETY: the tree lives while any node is unreleased, and this node was.
        let last = unsafe { (*tree).live.fetch_sub(1, Ordering::AcqRel) } == 1;
        if last {
            // SAFETY: every node is released, so nothing points into the tree any more; it came from
            // `Box::into_raw` in `export_array` and this is the one release that saw the count reach 0.
            drop(unsafe { Box::from_raw(tree) });
        }
    });
}
