//! Full validation (O(data)) of one imported node, after its children passed theirs.
//!
//! Structs, and variable-size binary and utf8 arrays and lists, the layouts where most of the data is,
//! get checks of our own, in one pass each: non-nullable fields null only where the struct is; offsets
//! non-decreasing and within the values (or child), UTF-8 over the whole values buffer at once (ASCII
//! first, a word at a time, then `simdutf8`), and every offset on a character boundary (free when the
//! text is ASCII). Every other layout goes through arrow-rs's own `validate`, `validate_nulls` and
//! `validate_values`, so the level catches what arrow-rs's `validate_full` catches.
#![forbid(unsafe_code)]

use std::str::Utf8Error;

use arrow_array::cast::AsArray;
use arrow_array::{Array, OffsetSizeTrait, StructArray};
use arrow_schema::{DataType, FieldRef, Fields};

/// Checks `array`'s own data; its children were checked when they were imported.
pub(crate) fn validate(array: &dyn Array) -> Result<(), String> {
    match array.data_type() {
        DataType::Utf8 => bytes::<i32>(array.as_string::<i32>().value_offsets(), array.as_string::<i32>().values(), true),
        DataType::LargeUtf8 => bytes::<i64>(array.as_string::<i64>().value_offsets(), array.as_string::<i64>().values(), true),
        DataType::Binary => bytes::<i32>(array.as_binary::<i32>().value_offsets(), array.as_binary::<i32>().values(), false),
        DataType::LargeBinary => bytes::<i64>(array.as_binary::<i64>().value_offsets(), array.as_binary::<i64>().values(), false),
        // Every bit pattern is a valid value, and import recounted the nulls at this level.
        data_type if data_type.is_primitive() => Ok(()),
        DataType::Null | DataType::Boolean | DataType::FixedSizeBinary(_) => Ok(()),
        DataType::Struct(fields) => structs(array.as_struct(), fields),
        DataType::Map(field, _) => list::<i32>(array.as_map().value_offsets(), array.as_map().entries(), field),
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
///
/// The common case (all fine) is one branch-free pass the compiler can vectorize; only a failure
/// looks again, to say where.
fn offsets<O: OffsetSizeTrait>(offsets: &[O], len: usize) -> Result<(usize, usize), String> {
    let (Some(first), Some(last)) = (offsets.first(), offsets.last()) else { return Ok((0, 0)) };
    let (first, last) = (first.to_isize().unwrap_or(-1), last.to_isize().unwrap_or(-1));
    let ordered = offsets.windows(2).fold(true, |ordered, pair| ordered & (pair[0] <= pair[1]));
    if ordered && first >= 0 && last as usize <= len {
        return Ok((first as usize, last as usize));
    }
    if first < 0 {
        return Err(format!("offset 0 is negative ({first})"));
    }
    if let Some(index) = offsets.windows(2).position(|pair| pair[0] > pair[1]) {
        return Err(format!(
            "non-monotonic offsets: offset {} ({}) is less than the one before ({})",
            index + 1,
            offsets[index + 1].as_usize(),
            offsets[index].as_usize()
        ));
    }
    Err(format!("the last offset ({last}) is past the end of the values ({len})"))
}

/// A byte array: its offsets, and for utf8 the whole spanned values buffer as UTF-8 with every offset
/// on a character boundary (so that each value is UTF-8 on its own).
fn bytes<O: OffsetSizeTrait>(value_offsets: &[O], values: &[u8], utf8: bool) -> Result<(), String> {
    let (first, last) = offsets(value_offsets, values.len())?;
    if !utf8 {
        return Ok(());
    }
    let text = &values[first..last];
    if text.is_ascii() {
        // The common case, checked a word at a time: valid UTF-8, and every byte starts a character.
        return Ok(());
    }
    if let Err(error) = check_utf8(text) {
        return Err(utf8_error(value_offsets, first, error));
    }
    // In valid UTF-8 a byte starts a character unless it is a continuation byte (0b10xx_xxxx), which
    // read as an `i8` is below -0x40. Every offset lies in `first..=last` (checked above): in `head`,
    // or at its end, a boundary by definition whatever lies beyond the checked text, read as ASCII.
    // One branch-free pass (the minimum byte) in the common case; only a failure looks again.
    let head = &values[..last];
    let byte_at = |offset: &O| i32::from(*head.get(offset.as_usize()).unwrap_or(&0) as i8);
    if value_offsets.iter().fold(0, |lowest, offset| lowest.min(byte_at(offset))) >= -0x40 {
        return Ok(());
    }
    let index = value_offsets.iter().position(|offset| byte_at(offset) < -0x40).unwrap_or(0);
    Err(format!("invalid utf8 value: offset {index} ({}) splits a character", value_offsets[index].as_usize()))
}

/// Checks that `text` is UTF-8 with `simdutf8` (SIMD where the CPU has it); only when that fails does
/// std's check run again, for an error that says where.
fn check_utf8(text: &[u8]) -> Result<(), Utf8Error> {
    match simdutf8::basic::from_utf8(text) {
        Ok(_) => Ok(()),
        Err(_) => std::str::from_utf8(text).map(drop),
    }
}

/// The message for `error` in the text that starts at byte `first` of the values: which value, and at
/// which byte of the values buffer.
fn utf8_error<O: OffsetSizeTrait>(value_offsets: &[O], first: usize, error: Utf8Error) -> String {
    let at = first + error.valid_up_to();
    // The last value starting at or before `at`: the one holding it, since the offsets are ordered.
    let index = value_offsets.partition_point(|offset| offset.as_usize() <= at).saturating_sub(1);
    let what = match error.error_len() {
        Some(len) => format!("an invalid {len}-byte sequence"),
        None => "an incomplete sequence at its end".to_string(),
    };
    format!("invalid utf8 data: value {index} has {what} at byte {at} of the values buffer")
}

/// A list: its offsets within the child, and no nulls in the child if the item field forbids them.
fn list<O: OffsetSizeTrait>(value_offsets: &[O], child: &dyn Array, field: &FieldRef) -> Result<(), String> {
    offsets(value_offsets, child.len())?;
    if !field.is_nullable() && child.null_count() > 0 {
        return Err(format!("non-nullable child field {:?} has {} nulls", field.name(), child.null_count()));
    }
    Ok(())
}

/// A struct: a non-nullable field may hold nulls only where the struct itself is null.
fn structs(array: &StructArray, fields: &Fields) -> Result<(), String> {
    for (field, child) in fields.iter().zip(array.columns()) {
        let Some(child_nulls) = child.nulls().filter(|_| !field.is_nullable()) else { continue };
        let outside = match array.nulls() {
            None => child_nulls.null_count(),
            Some(parent) => (&!child_nulls.inner() & parent.inner()).count_set_bits(),
        };
        if outside > 0 {
            return Err(format!("non-nullable child field {:?} has {outside} nulls where the struct is valid", field.name()));
        }
    }
    Ok(())
}
