//! Full validation (O(data)) of one imported node, after its children passed theirs.
//!
//! Variable-size binary and utf8 arrays and lists, the layouts where most of the data is, get checks of
//! our own, in one pass each: offsets non-decreasing and within the values (or child), UTF-8 over the
//! whole values buffer at once, and every offset on a character boundary. Every other layout goes
//! through arrow-rs's own `validate`, `validate_nulls` and `validate_values`, so the level catches what
//! arrow-rs's `validate_full` catches.
#![forbid(unsafe_code)]

use arrow_array::cast::AsArray;
use arrow_array::{Array, OffsetSizeTrait};
use arrow_buffer::ArrowNativeType;
use arrow_schema::{DataType, FieldRef};

/// Checks `array`'s own data; its children were checked when they were imported.
pub(crate) fn validate(array: &dyn Array) -> Result<(), String> {
    match array.data_type() {
        DataType::Utf8 => bytes::<i32>(array.as_string::<i32>().value_offsets(), array.as_string::<i32>().values(), true),
        DataType::LargeUtf8 => bytes::<i64>(array.as_string::<i64>().value_offsets(), array.as_string::<i64>().values(), true),
        DataType::Binary => bytes::<i32>(array.as_binary::<i32>().value_offsets(), array.as_binary::<i32>().values(), false),
        DataType::LargeBinary => bytes::<i64>(array.as_binary::<i64>().value_offsets(), array.as_binary::<i64>().values(), false),
        DataType::List(field) => list::<i32>(array.as_list::<i32>().value_offsets(), array.as_list::<i32>().values().as_ref(), field),
        DataType::LargeList(field) => list::<i64>(array.as_list::<i64>().value_offsets(), array.as_list::<i64>().values().as_ref(), field),
        _ => {
            let data = array.to_data();
            data.validate()
                .and_then(|()| data.validate_nulls())
                .and_then(|()| data.validate_values())
                .map_err(|e| e.to_string())
        }
    }
}

/// Offsets that never decrease and stay within `len`; returns the first and last.
fn offsets<O: OffsetSizeTrait>(offsets: &[O], len: usize) -> Result<(usize, usize), String> {
    let mut previous = 0usize;
    for (index, offset) in offsets.iter().enumerate() {
        let offset = offset.to_usize().ok_or_else(|| format!("offset {index} is negative"))?;
        if index > 0 && offset < previous {
            return Err(format!("non-monotonic offsets: offset {index} ({offset}) is less than the one before ({previous})"));
        }
        if offset > len {
            return Err(format!("offset {index} ({offset}) is past the end of the values ({len})"));
        }
        previous = offset;
    }
    let first = offsets.first().and_then(|o| o.to_usize()).unwrap_or(0);
    Ok((first, previous))
}

/// A byte array: its offsets, and for utf8 the whole spanned values buffer as UTF-8 with every offset
/// on a character boundary (so that each value is UTF-8 on its own).
fn bytes<O: OffsetSizeTrait>(value_offsets: &[O], values: &[u8], utf8: bool) -> Result<(), String> {
    let (first, last) = offsets(value_offsets, values.len())?;
    if !utf8 {
        return Ok(());
    }
    let text = std::str::from_utf8(&values[first..last]).map_err(|e| format!("invalid utf8 data: {e}"))?;
    for (index, offset) in value_offsets.iter().enumerate() {
        let at = offset.as_usize() - first;
        if !text.is_char_boundary(at) {
            return Err(format!("invalid utf8 value: offset {index} ({}) splits a character", offset.as_usize()));
        }
    }
    Ok(())
}

/// A list: its offsets within the child, and no nulls in the child if the item field forbids them.
fn list<O: OffsetSizeTrait>(value_offsets: &[O], child: &dyn Array, field: &FieldRef) -> Result<(), String> {
    offsets(value_offsets, child.len())?;
    if !field.is_nullable() && child.null_count() > 0 {
        return Err(format!("non-nullable child field {:?} has {} nulls", field.name(), child.null_count()));
    }
    Ok(())
}
