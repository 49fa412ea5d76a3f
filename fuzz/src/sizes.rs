//! The byte size of each buffer of one array node, as the Arrow columnar format implies it from the
//! node's type, length and offset (and, for values and variadic buffers, from the offsets and sizes
//! they hold). arrow-rs's `ffi::from_ffi` creates its buffers with exactly these sizes (its
//! `buffer_len`), trusting the producer; the seed generator uses them to copy exported buffers.

use arrow_schema::{DataType, UnionMode};

use crate::desc::{child_types, ArrayDesc};

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
    each_buffer_size(data_type, slots, buffers).into_iter().collect()
}

/// As [`buffer_sizes`], one entry per buffer, `None` where that buffer's size cannot be computed
/// (yet: a values buffer's size needs the offsets buffer to hold the last offset).
pub fn each_buffer_size(data_type: &DataType, slots: usize, buffers: &dyn Buffers) -> Vec<Option<usize>> {
    let bitmap = Some(slots.div_ceil(8));
    let fixed = |width: usize| slots.checked_mul(width);
    let offsets = |width: usize| slots.checked_add(1)?.checked_mul(width);
    match data_type {
        DataType::Null | DataType::RunEndEncoded(..) => vec![],
        DataType::Dictionary(key, _) => each_buffer_size(key, slots, buffers),
        DataType::Boolean => vec![bitmap, bitmap],
        DataType::Utf8 | DataType::Binary => vec![bitmap, offsets(4), offsets(4).and_then(|len| last_offset::<4>(buffers, len))],
        DataType::LargeUtf8 | DataType::LargeBinary => vec![bitmap, offsets(8), offsets(8).and_then(|len| last_offset::<8>(buffers, len))],
        DataType::Utf8View | DataType::BinaryView => {
            let variadic = buffers.count().saturating_sub(3);
            let sizes_len = variadic * 8;
            let sizes = buffers.get(buffers.count().saturating_sub(1), sizes_len);
            let mut out = vec![bitmap, fixed(16)];
            for i in 0..variadic {
                let size = sizes.map(|sizes| i64::from_le_bytes(sizes[i * 8..i * 8 + 8].try_into().expect("8 bytes")));
                out.push(size.and_then(|size| usize::try_from(size).ok()));
            }
            out.push(Some(sizes_len));
            out
        }
        DataType::List(_) | DataType::Map(..) => vec![bitmap, offsets(4)],
        DataType::LargeList(_) => vec![bitmap, offsets(8)],
        DataType::ListView(_) => vec![bitmap, fixed(4), fixed(4)],
        DataType::LargeListView(_) => vec![bitmap, fixed(8), fixed(8)],
        DataType::FixedSizeList(..) | DataType::Struct(_) => vec![bitmap],
        DataType::Union(_, UnionMode::Sparse) => vec![Some(slots)],
        DataType::Union(_, UnionMode::Dense) => vec![Some(slots), fixed(4)],
        DataType::FixedSizeBinary(width) => vec![bitmap, usize::try_from(*width).ok().and_then(fixed)],
        other => vec![bitmap, other.primitive_width().and_then(fixed)],
    }
}

/// Most bytes the producer pads one buffer to (see [`fit_buffers`]).
pub const BUFFER_CAP: usize = 1 << 20;

/// Pads each buffer of `desc` (and of its children and dictionary, against their types) with zeros
/// up to the size its node's type, length and offset imply: a producer cannot claim bytes it does
/// not have, since no importer could detect that, and the C interface carries no buffer sizes.
/// Buffers already as long are kept as they are, and NULL ones NULL. Nodes whose size cannot be
/// computed (a negative or overflowing length or offset) are left alone: an importer must refuse
/// them. `false` if a size past [`BUFFER_CAP`] would be needed (the input is not used).
pub fn fit_buffers(desc: &mut ArrayDesc, data_type: &DataType) -> bool {
    if let Some(slots) = desc.length.checked_add(desc.offset).filter(|_| desc.length >= 0 && desc.offset >= 0) {
        let Ok(slots) = usize::try_from(slots) else { return true };
        // Twice: a values buffer's size is known once its offsets buffer holds the last offset.
        for _ in 0..2 {
            let sizes = each_buffer_size(data_type, slots, &Desc(desc));
            for (buffer, size) in desc.buffers.iter_mut().zip(sizes) {
                let (Some(bytes), Some(size)) = (buffer.bytes_mut(), size) else { continue };
                if bytes.len() < size {
                    if size > BUFFER_CAP {
                        return false;
                    }
                    bytes.resize(size, 0);
                }
            }
        }
    }
    let children_ok = desc.children.iter_mut().zip(child_types(data_type)).all(|(child, t)| fit_buffers(child, &t));
    let dictionary_ok = match (data_type, &mut desc.dictionary) {
        (DataType::Dictionary(_, values), Some(d)) => fit_buffers(d, values),
        _ => true,
    };
    children_ok && dictionary_ok
}

/// A description's buffers, read as a consumer would.
pub struct Desc<'a>(pub &'a ArrayDesc);

impl Buffers for Desc<'_> {
    fn get(&self, index: usize, len: usize) -> Option<&[u8]> {
        self.0.buffers.get(index)?.bytes()?.get(..len)
    }
    fn count(&self) -> usize {
        self.0.buffers.len()
    }
}

/// The last entry of an offsets buffer of `len` bytes (entries `W` bytes wide), as a size.
fn last_offset<const W: usize>(buffers: &dyn Buffers, len: usize) -> Option<usize> {
    let bytes = buffers.get(1, len)?;
    let last: [u8; W] = bytes.get(len.checked_sub(W)?..)?.try_into().ok()?;
    let value = match W {
        4 => i64::from(i32::from_le_bytes(last[..4].try_into().ok()?)),
        _ => i64::from_le_bytes(last[..8].try_into().ok()?),
    };
    usize::try_from(value).ok()
}
