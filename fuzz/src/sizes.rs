//! The byte size of each buffer of one array node, as the Arrow columnar format implies it from the
//! node's type, length and offset (and, for values and variadic buffers, from the offsets and sizes
//! they hold). arrow-rs's `ffi::from_ffi` creates its buffers with exactly these sizes (its
//! `buffer_len`), trusting the producer; the seed generator uses them to copy exported buffers.

use arrow_schema::{DataType, UnionMode};

/// Reads buffer `index` of a node, `len` bytes of it, or `None` if it has fewer or is NULL.
pub trait Buffers {
    /// The first `len` bytes of buffer `index`, if it has them.
    fn get(&self, index: usize, len: usize) -> Option<&[u8]>;
    /// The node's `n_buffers`.
    fn count(&self) -> usize;
}

/// What each buffer of a node of `data_type` holds, `slots` = length + offset elements; `None` where
/// a size cannot be computed (an overflow, a negative or unreadable offset or size).
/// Entry `i` is the size of C buffer `i` (the validity bitmap first, where the type has one).
pub fn buffer_sizes(data_type: &DataType, slots: usize, buffers: &dyn Buffers) -> Option<Vec<usize>> {
    let bitmap = slots.div_ceil(8);
    let fixed = |width: usize| slots.checked_mul(width);
    let offsets = |width: usize| slots.checked_add(1)?.checked_mul(width);
    Some(match data_type {
        DataType::Null | DataType::RunEndEncoded(..) => vec![],
        DataType::Dictionary(key, _) => return buffer_sizes(key, slots, buffers),
        DataType::Boolean => vec![bitmap, bitmap],
        DataType::Utf8 | DataType::Binary => {
            let end = last_offset::<4>(buffers, offsets(4)?)?;
            vec![bitmap, offsets(4)?, end]
        }
        DataType::LargeUtf8 | DataType::LargeBinary => {
            let end = last_offset::<8>(buffers, offsets(8)?)?;
            vec![bitmap, offsets(8)?, end]
        }
        DataType::Utf8View | DataType::BinaryView => {
            let variadic = buffers.count().checked_sub(3)?;
            let sizes_len = variadic.checked_mul(8)?;
            let sizes = buffers.get(buffers.count() - 1, sizes_len)?;
            let mut out = vec![bitmap, fixed(16)?];
            for size in sizes.chunks_exact(8) {
                out.push(usize::try_from(i64::from_le_bytes(size.try_into().ok()?)).ok()?);
            }
            out.push(sizes_len);
            out
        }
        DataType::List(_) | DataType::Map(..) => vec![bitmap, offsets(4)?],
        DataType::LargeList(_) => vec![bitmap, offsets(8)?],
        DataType::ListView(_) => vec![bitmap, fixed(4)?, fixed(4)?],
        DataType::LargeListView(_) => vec![bitmap, fixed(8)?, fixed(8)?],
        DataType::FixedSizeList(..) | DataType::Struct(_) => vec![bitmap],
        DataType::Union(_, UnionMode::Sparse) => vec![slots],
        DataType::Union(_, UnionMode::Dense) => vec![slots, fixed(4)?],
        DataType::FixedSizeBinary(width) => vec![bitmap, fixed(usize::try_from(*width).ok()?)?],
        other => vec![bitmap, fixed(other.primitive_width()?)?],
    })
}

/// The last entry of an offsets buffer of `len` bytes (entries `W` bytes wide), as a size.
fn last_offset<const W: usize>(buffers: &dyn Buffers, len: usize) -> Option<usize> {
    let bytes = buffers.get(1, len)?;
    let last: [u8; W] = bytes.get(len.checked_sub(W)?..)?.try_into().ok()?;
    let value = if W == 4 { i64::from(i32::from_le_bytes(last[..4].try_into().ok()?)) } else { i64::from_le_bytes(last[..].try_into().ok()?) };
    usize::try_from(value).ok()
}
