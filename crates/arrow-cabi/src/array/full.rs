//! Full validation (O(data)) of one imported node, after its children passed theirs.
//!
//! Structs, and variable-size binary and utf8 arrays and lists, the layouts where most of the data is,
//! get checks of our own, in one pass each: non-nullable fields null only where the struct is; offsets non-decreasing and within the values (or child), UTF-8 over the
//! whole values buffer at once (ASCII first, a word at a time), and every offset on a character
//! boundary (free when the text is ASCII). Every other layout goes
//! through arrow-rs's own `validate`, `validate_nulls` and `validate_values`, so the level catches what
//! arrow-rs's `validate_full` catches.
#![forbid(unsafe_code)]

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
    std::str::from_utf8(text).map_err(|e| format!("invalid utf8 data: {e}"))?;
    // In valid UTF-8 a byte starts a character unless it is a continuation byte (0b10xx_xxxx); an
    // offset at the end of the checked text is a boundary by definition, whatever lies beyond it.
    let starts_character = |offset: &O| {
        let at = offset.as_usize();
        at >= last || values.get(at).is_none_or(|&byte| (byte as i8) >= -0x40)
    };
    let inner = &value_offsets[..value_offsets.len().saturating_sub(1)];
    if inner.iter().fold(true, |all, offset| all & starts_character(offset)) {
        return Ok(());
    }
    let index = inner.iter().position(|offset| !starts_character(offset)).unwrap_or(0);
    Err(format!("invalid utf8 value: offset {index} ({}) splits a character", value_offsets[index].as_usize()))
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
