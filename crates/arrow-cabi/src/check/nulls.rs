//! Declared null counts against the validity bitmaps. The importer at `Full` recounts a bitmap
//! rather than trusting `null_count` (a consumer may), so a count that disagrees with its bitmap
//! imports fine; the interface still asks for -1 or the true count (CDI "null_count"), and a
//! consumer that trusts it (arrow-rs's `from_ffi`, Arrow C++) reads wrong nulls.

use arrow_buffer::bit_chunk_iterator::UnalignedBitChunk;
use arrow_cabi_sys::ArrowArray;
use arrow_schema::DataType;

use super::{Finding, Rule};

/// The first node below `raw` (of type `data_type`, at `path`) whose `null_count` is neither -1
/// nor the number of unset bits of its validity bitmap over `offset..offset + length`.
///
/// # Safety
/// The importer accepted `raw` as `data_type` at full validation: every pointer followed here is
/// valid and every bitmap as long as the node's offset and length need.
pub(crate) unsafe fn mismatch(raw: &ArrowArray, data_type: &DataType, path: &str) -> Option<Finding> {
    if has_validity(data_type) && raw.null_count >= 0 {
        let (offset, length) = (usize::try_from(raw.offset).ok()?, usize::try_from(raw.length).ok()?);
        // SAFETY: per the caller, an accepted node with a validity slot has at least one buffer.
        let bitmap = unsafe { *raw.buffers }.cast::<u8>();
        let nulls = if bitmap.is_null() {
            0
        } else {
            // SAFETY: per the caller, the bitmap covers offset + length bits.
            let bytes = unsafe { std::slice::from_raw_parts(bitmap, (offset + length).div_ceil(8)) };
            length - UnalignedBitChunk::new(bytes, offset, length).count_ones()
        };
        if nulls as i64 != raw.null_count {
            let seen = format!("null_count is {}, but the validity bitmap holds {nulls} nulls", raw.null_count);
            return Some(Finding::new(Rule::ArrayNullCount, format!("{path}.null_count"), seen));
        }
    }
    if let DataType::Dictionary(_, values) = data_type {
        // SAFETY: per the caller, an accepted dictionary node has its values.
        let dictionary = unsafe { raw.dictionary.as_ref() }?;
        // SAFETY: as for the node itself.
        return unsafe { mismatch(dictionary, values, &format!("{path}.dictionary")) };
    }
    for (index, child_type) in children(data_type).into_iter().enumerate() {
        // SAFETY: per the caller, an accepted node has the children its type needs.
        let child = unsafe { (*raw.children.add(index)).as_ref() }?;
        // SAFETY: as for the node itself.
        if let Some(finding) = unsafe { mismatch(child, child_type, &format!("{path}.children[{index}]")) } {
            return Some(finding);
        }
    }
    None
}

/// Whether the layout's first buffer is a validity bitmap.
fn has_validity(data_type: &DataType) -> bool {
    !matches!(data_type, DataType::Null | DataType::Union(..) | DataType::RunEndEncoded(..))
}

/// The types of the C struct's children, in order.
fn children(data_type: &DataType) -> Vec<&DataType> {
    match data_type {
        DataType::Struct(fields) => fields.iter().map(|f| f.data_type()).collect(),
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::ListView(f)
        | DataType::LargeListView(f)
        | DataType::FixedSizeList(f, _)
        | DataType::Map(f, _) => vec![f.data_type()],
        DataType::Union(fields, _) => fields.iter().map(|(_, f)| f.data_type()).collect(),
        DataType::RunEndEncoded(ends, values) => vec![ends.data_type(), values.data_type()],
        _ => Vec::new(),
    }
}
