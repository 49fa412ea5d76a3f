//! A view of one foreign `ArrowArray` node, checked against its plan: the one place that reads
//! through the producer's pointers, and the one place that sizes the producer's buffers.
//!
//! [`View::root`] is the only `unsafe` way in, and its contract is the interface's: the struct follows
//! the C Data Interface for the type the plan describes. From there everything is safe: a child's view
//! inherits the contract from its parent's, and each buffer is sized here from the node's checked
//! numbers (and for byte arrays from its own offsets), so every read stays inside what a valid producer
//! allocated.

use std::ptr::NonNull;
use std::sync::Arc;

use arrow_buffer::{BooleanBuffer, Buffer, MutableBuffer, NullBuffer};
use arrow_cabi_sys::ArrowArray;

use super::plan::{BufferCount, Node};
use super::validate::{self, Shape};
use super::Owner;
use crate::error::{Path, Result};

/// A foreign node whose numbers and counts passed [`validate::shape`] against its plan node.
pub(super) struct View<'a> {
    raw: &'a ArrowArray,
    /// Keeps the producer's memory alive; cloned into every buffer wrapped from it.
    owner: &'a Arc<Owner>,
    pub shape: Shape,
}

/// How many bytes (or child elements) a node's offsets span: its last offset, which only
/// [`View::offsets`] makes, so that [`View::values`] sizes the values buffer by the node's own offsets.
#[derive(Debug, Clone, Copy)]
pub(super) struct End(pub usize);

impl<'a> View<'a> {
    /// The view of the root `raw`, checked against `node`.
    ///
    /// # Safety
    /// `raw` follows the C Data Interface as an array of `node`'s data type for `'a`: every pointer
    /// reachable from it valid, and each buffer at least as long as the type's layout implies for the
    /// node's offset and length (and, for variable-size data, its offsets), until `owner` releases it.
    pub(super) unsafe fn root(raw: &'a ArrowArray, owner: &'a Arc<Owner>, node: &Node, path: &Path<'_>) -> Result<Self> {
        let shape = validate::shape(raw, node, path)?;
        Ok(View { raw, owner, shape })
    }

    /// Buffer pointer `index`, or NULL past `n_buffers` (which the plan never asks for).
    #[inline]
    fn pointer(&self, index: usize) -> *const u8 {
        if index >= self.shape.n_buffers {
            return std::ptr::null();
        }
        // SAFETY: `shape` checked that `buffers` is non-NULL when `n_buffers` is not 0, and by `root`'s
        // contract it holds `n_buffers` pointers.
        unsafe { *self.raw.buffers.add(index) }.cast()
    }

    /// The view of child `index`, checked against its plan `node`.
    pub(super) fn child(&self, index: usize, node: &Node, path: &Path<'_>) -> Result<View<'a>> {
        if index >= self.shape.n_children {
            return Err(path.invalid(format!("no child {index}: n_children is {}", self.shape.n_children)));
        }
        // SAFETY: `shape` checked that `children` is non-NULL when `n_children` is not 0, and by
        // `root`'s contract it holds `n_children` pointers.
        let pointer = unsafe { *self.raw.children.add(index) };
        // SAFETY: by `root`'s contract, a child pointer of a valid node is NULL (refused) or valid.
        let raw = unsafe { pointer.as_ref() }.ok_or_else(|| path.invalid("NULL child pointer"))?;
        // SAFETY: by `root`'s contract, a valid node's children follow the interface as arrays of
        // their fields' types, which their plan nodes describe.
        unsafe { View::root(raw, self.owner, node, path) }
    }

    /// The view of the dictionary's values, checked against their plan `node`.
    pub(super) fn dictionary(&self, node: &Node, path: &Path<'_>) -> Result<View<'a>> {
        // SAFETY: `shape` checked the pointer is non-NULL for a dictionary type, and by `root`'s
        // contract it points at a valid array of the values' type.
        let raw = unsafe { self.raw.dictionary.as_ref() }.ok_or_else(|| path.invalid("NULL dictionary"))?;
        // SAFETY: as for `child`.
        unsafe { View::root(raw, self.owner, node, path) }
    }

    /// The validity bitmap of buffer `index`, or `None` when the node has no nulls (a null count of
    /// 0 means none, whatever the bitmap holds, as arrow-rs and Arrow C++ import it). With `recount`,
    /// the producer's null count is not trusted but counted, and a count that disagrees with the
    /// bitmap is an error (as in arrow-rs's `validate_full`) naming the node's `null_count`. `path` is
    /// the node's.
    #[inline]
    pub(super) fn validity(&self, index: usize, recount: bool, path: &Path<'_>) -> Result<Option<NullBuffer>> {
        if self.shape.null_count == Some(0) {
            return Ok(None);
        }
        self.bitmap(index, recount, path)
    }

    /// [`validity`](Self::validity) of a node that may have nulls.
    fn bitmap(&self, index: usize, recount: bool, path: &Path<'_>) -> Result<Option<NullBuffer>> {
        let pointer = self.pointer(index);
        let shape = self.shape;
        let buffer = path.index("buffers", index);
        if pointer.is_null() {
            return match shape.null_count {
                None => Ok(None),
                Some(count) => Err(buffer.invalid(format!("NULL validity bitmap, but null_count is {count}"))),
            };
        }
        let bits = BooleanBuffer::new(self.bits(index, &buffer)?, shape.offset, shape.length);
        let nulls = match shape.null_count {
            // SAFETY: a producer-stated count is trusted unless recounting; full validation recounts.
            Some(count) if !recount => unsafe { NullBuffer::new_unchecked(bits, count) },
            stated => {
                let nulls = NullBuffer::new(bits);
                if let Some(count) = stated.filter(|&count| count != nulls.null_count()) {
                    let held = nulls.null_count();
                    return Err(path.field("null_count").invalid(format!("{count}, but the validity bitmap holds {held} nulls")));
                }
                nulls
            }
        };
        Ok(Some(nulls).filter(|nulls| nulls.null_count() > 0))
    }

    /// Buffer `index` as a bit per element of the node's extent.
    pub(super) fn bits(&self, index: usize, path: &Path<'_>) -> Result<Buffer> {
        self.wrap(index, self.shape.extent().div_ceil(8), 1, path)
    }

    /// Buffer `index` as `width` bytes per element of the node's extent, which arrow-rs reads as
    /// values aligned to `align` (copied if the producer's are not).
    #[inline]
    pub(super) fn fixed(&self, index: usize, width: usize, align: usize, path: &Path<'_>) -> Result<Buffer> {
        self.wrap(index, byte_len(self.shape.extent(), width, path)?, align, path)
    }

    /// Buffer `index` as the node's `width`-byte offsets (one more than its extent; a zero stands in for
    /// the NULL buffer an empty node may have), and its last offset, its first checked with `bounds`.
    #[inline]
    pub(super) fn offsets(&self, index: usize, width: usize, bounds: bool, path: &Path<'_>) -> Result<(Buffer, End)> {
        let Shape { offset, length, .. } = self.shape;
        let buffer = if offset + length == 0 && self.pointer(index).is_null() {
            MutableBuffer::from_len_zeroed(width).into()
        } else {
            self.wrap(index, byte_len(offset + length + 1, width, path)?, width, path)?
        };
        let last = validate::offsets(&buffer, width, offset, length, bounds, path)?;
        Ok((buffer, End(last)))
    }

    /// Buffer `index` as the bytes the node's offsets span (`end`, from [`offsets`](Self::offsets)).
    pub(super) fn values(&self, index: usize, end: End, path: &Path<'_>) -> Result<Buffer> {
        self.wrap(index, end.0, 1, path)
    }

    /// The data buffers of a view node (after its validity and views), each as long as its entry in
    /// the sizes buffer that follows them says.
    pub(super) fn variadic(&self, node: &Node, path: &Path<'_>) -> Result<Vec<Buffer>> {
        let BufferCount::Variadic(fixed) = node.n_buffers else { return Ok(Vec::new()) };
        // `shape` checked there is more than `fixed`: at least the sizes buffer.
        let sizes_index = self.shape.n_buffers - 1;
        let n_data = sizes_index - fixed;
        let sizes_path = path.index("buffers", sizes_index);
        let sizes = self.wrap(sizes_index, byte_len(n_data, 8, &sizes_path)?, 8, &sizes_path)?;
        let mut buffers = Vec::with_capacity(n_data);
        for (index, size) in sizes.typed_data::<i64>().iter().enumerate() {
            let size = usize::try_from(*size)
                .map_err(|_| sizes_path.invalid(format!("negative size {size} for variadic buffer {index}")))?;
            buffers.push(self.wrap(fixed + index, size, 1, &path.index("buffers", fixed + index))?);
        }
        Ok(buffers)
    }

    /// Buffer `index` as `len` bytes kept alive by the owner, or a copy where the pointer is not
    /// aligned to `align`. NULL is accepted only for an empty buffer. Private: every caller sizes
    /// `len` from the node's numbers as the layout says, which is what `root`'s contract covers.
    #[inline]
    fn wrap(&self, index: usize, len: usize, align: usize, path: &Path<'_>) -> Result<Buffer> {
        let Some(pointer) = NonNull::new(self.pointer(index).cast_mut()) else {
            return if len == 0 {
                Ok(MutableBuffer::new(0).into())
            } else {
                Err(path.invalid(format!("NULL, but {len} bytes are required")))
            };
        };
        debug_assert!(align.is_power_of_two(), "alignments come from the plan");
        if pointer.as_ptr() as usize & (align - 1) != 0 {
            // SAFETY: by `root`'s contract the buffer holds `len` bytes (the layout's size for the
            // node); the copy is aligned by arrow's allocator.
            return Ok(Buffer::from_slice_ref(unsafe { std::slice::from_raw_parts(pointer.as_ptr(), len) }));
        }
        // SAFETY: as above, and the bytes stay valid until the owner (held by the buffer) releases them.
        Ok(unsafe { Buffer::from_custom_allocation(pointer, len, self.owner.clone()) })
    }
}

/// The byte length of `count` elements of `width` bytes, or an error if a foreign length makes it overflow.
fn byte_len(count: usize, width: usize, path: &Path<'_>) -> Result<usize> {
    count
        .checked_mul(width)
        .filter(|&len| len <= isize::MAX as usize)
        .ok_or_else(|| path.invalid(format!("{count} elements of {width} bytes overflow the address space")))
}
