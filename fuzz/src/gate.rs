//! Which fuzz-built arrays the differential target may hand to arrow-rs's `ffi::from_ffi`.
//!
//! arrow-rs imports lazily: it trusts the producer and creates each buffer with the size the
//! columnar format implies (its `buffer_len`), reading the last offset of an offsets buffer and the
//! sizes buffer of views to size the buffers after them, and dereferences buffers as typed
//! pointers. On a buffer shorter than that size it reads out of bounds, and on a misaligned one it
//! trips a debug-build alignment check that aborts (not a panic it can unwind from). So an array
//! goes to arrow-rs only if every node of it satisfies [`arrow_rs_can_read`]'s rule; its panics
//! (on counts it asserts, on overflows) are caught and count as a rejection.

use arrow_schema::DataType;

use crate::desc::{child_types, ArrayDesc, BufferDesc, Count};
use crate::sizes::{buffer_sizes, Desc};

/// Most slots (length + offset) of a node handed to arrow-rs (it multiplies them unchecked).
pub const MAX_SLOTS: i64 = 1 << 16;

/// Whether arrow-rs can import `desc` as `data_type` without reading out of bounds or aborting:
/// at every node, handed over unreleased with exact counts, `0 <= length`, `0 <= offset`,
/// `length + offset <= MAX_SLOTS`, every buffer aligned, the number of buffers the type has (views:
/// at least 3), each buffer NULL or at least as long as arrow-rs takes it to be (the offsets and
/// sizes it reads to size the others present and in range), the children the type has, and a
/// dictionary exactly where the type has one.
pub fn arrow_rs_can_read(desc: &ArrayDesc, data_type: &DataType) -> bool {
    let node_ok = !desc.released
        && desc.buffers_count == Count::Exact
        && desc.children_count == Count::Exact
        && desc.length >= 0
        && desc.offset >= 0
        && desc.length.checked_add(desc.offset).is_some_and(|slots| slots <= MAX_SLOTS)
        && desc.buffers.iter().all(|b| !matches!(b, BufferDesc::Misaligned(_)));
    if !node_ok {
        return false;
    }
    let slots = (desc.length + desc.offset) as usize;
    let Some(sizes) = buffer_sizes(data_type, slots, &Desc(desc)) else { return false };
    let buffers_ok = sizes.len() == desc.buffers.len()
        && sizes.iter().zip(&desc.buffers).all(|(&size, buffer)| buffer.bytes().is_none_or(|b| b.len() >= size));
    let child_types = child_types(data_type);
    let children_ok = child_types.len() == desc.children.len() && desc.children.iter().zip(&child_types).all(|(c, t)| arrow_rs_can_read(c, t));
    let dictionary_ok = match (data_type, &desc.dictionary) {
        (DataType::Dictionary(_, values), Some(d)) => arrow_rs_can_read(d, values),
        (DataType::Dictionary(..), None) => false,
        (_, d) => d.is_none(),
    };
    buffers_ok && children_ok && dictionary_ok
}

/// arrow-rs's rejections of valid input that the differential target does not count as a
/// disagreement, each as (what its message contains, why it is wrong); `None` for any other error.
///
/// - An empty variable-size array (length 0, offset 0) whose single offset is not 0: arrow-rs's
///   import sizes its values buffer 0 without reading the offset ("can be an arbitrary value", its
///   comment says), then its `validate_full` rejects the offset as past the values.
/// - Not a fault of arrow-rs but a leniency of ours: an empty node (length 0, offset 0) of a
///   variable-size or list type whose offsets buffer is NULL. The interface asks producers for the
///   one offset (C-INTERFACES.md, buffer rule 10), and arrow-rs and Arrow C++ refuse its absence;
///   arrow-cabi, as nanoarrow does, reads it as the single offset 0 (`View::offsets`), so what it
///   imports is valid. (Found by this target in the session that added the rule.)
pub fn arrow_rs_known_fault(error: &str) -> Option<&'static str> {
    const FAULTS: [(&str, &str); 2] = [
        ("is larger than values length 0", "an empty variable-size array whose one offset is not 0"),
        ("The external buffer at position 1 is null", "an empty node's NULL offsets buffer, which arrow-cabi reads as the one offset 0"),
    ];
    FAULTS.iter().find(|(text, _)| error.contains(text)).map(|(_, why)| *why)
}

/// arrow-rs's acceptances of invalid input that the differential target does not count as a
/// disagreement: `Some(why)` if arrow-cabi's rejection `error` of `desc` (as `data_type`) is one.
///
/// - A null count that is neither -1 nor 0 on a node without a validity bitmap (a NULL one, or a
///   type that has none: null, unions, run-end encoded): arrow-rs's import drops it (its builder
///   keeps a null count only beside a bitmap), arrow-cabi refuses the count.
/// - A negative null count other than -1: arrow-rs takes any negative count as "not computed"; the
///   interface allows only -1, and arrow-cabi refuses the others.
/// - A run-end encoded array of length 0 whose offset lies past its last run end: arrow-rs checks
///   the run ends only of a non-empty array; arrow-cabi holds the runs to cover offset + length, as
///   the interface holds buffers to (the table has run-end encoded types at the top only).
pub fn arrow_rs_known_leniency(error: &str, desc: &ArrayDesc, data_type: &DataType) -> Option<&'static str> {
    fn bitmapless_count(desc: &ArrayDesc, data_type: &DataType) -> bool {
        let has_bitmap = !matches!(data_type, DataType::Null | DataType::Union(..) | DataType::RunEndEncoded(..));
        let no_bitmap = !has_bitmap || matches!(desc.buffers.first(), None | Some(BufferDesc::Null));
        let dictionary = match (data_type, &desc.dictionary) {
            (DataType::Dictionary(_, values), Some(d)) => bitmapless_count(d, values),
            _ => false,
        };
        (no_bitmap && !matches!(desc.null_count, -1 | 0))
            || desc.children.iter().zip(child_types(data_type)).any(|(c, t)| bitmapless_count(c, &t))
            || dictionary
    }
    fn below_minus_one(desc: &ArrayDesc) -> bool {
        desc.null_count < -1 || desc.children.iter().any(below_minus_one) || desc.dictionary.as_deref().is_some_and(below_minus_one)
    }
    if error.contains("before the array's end") && matches!(data_type, DataType::RunEndEncoded(..)) && desc.length == 0 {
        return Some("arrow-rs checks the run ends of a non-empty run-end encoded array only");
    }
    if error.contains("null_count: negative") && below_minus_one(desc) {
        return Some("arrow-rs takes any negative null count as not computed");
    }
    (error.contains("null_count") && bitmapless_count(desc, data_type)).then_some("arrow-rs drops the null count of a node without a validity bitmap")
}
