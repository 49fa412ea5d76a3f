//! The validation levels of import, and the checks of a foreign array node that need no pointer reads.
#![forbid(unsafe_code)]

use arrow_buffer::Buffer;
use arrow_cabi_sys::ArrowArray;
use arrow_schema::DataType;

use crate::error::{Path, Result};
use crate::layout;

/// How much of a foreign array import checks, as nanoarrow names the levels.
///
/// Every level, and even the `unsafe` unchecked imports, checks the structure: lengths, offsets and
/// null counts non-negative, the counts of buffers and children those of the type, no NULL where a
/// pointer is required, and the sizes of the buffers derived from the lengths (and last offsets).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Validation {
    /// Also what arrow-rs's array types rely on to stay within the buffers: the first offset of every
    /// offsets buffer non-negative and not past the last, and every child holding what its parent
    /// indexes (lists' last offset, fixed-size lists, struct fields, sparse unions, run ends); O(1) per
    /// buffer and child.
    Minimal,
    /// Also what the null counts show in O(1): no nulls in a non-nullable struct field of a struct
    /// without nulls, in a map's keys, or in run ends.
    #[default]
    Default,
    /// Also everything arrow-rs's `ArrayData::validate_full` checks: every offset, UTF-8, union type ids
    /// and offsets, run ends, dictionary keys, list views, and the null counts; O(data).
    Full,
}

/// What an import checks: a public level, or (behind `unsafe`) only the structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Level {
    /// The structural checks every import runs.
    Structure,
    /// One of the public levels.
    Checked(Validation),
}

/// The checked numbers of one foreign node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shape {
    pub length: usize,
    pub offset: usize,
    /// `None` when the producer did not compute it (-1).
    pub null_count: Option<usize>,
    pub n_buffers: usize,
    pub n_children: usize,
}

/// Checks what can be checked of `array` without reading through its pointers: signs, counts against
/// `data_type`'s layout, and that the pointer arrays it needs are non-NULL.
pub(crate) fn shape(array: &ArrowArray, data_type: &DataType, path: &Path<'_>) -> Result<Shape> {
    let layout = layout::layout(data_type);
    // Unions have rules of their own; the null type and run-end-encoded arrays no buffers, views a
    // variable number.
    if matches!(data_type, DataType::Union(..)) || layout.buffers.is_empty() || layout.variadic {
        return checked_shape(array, data_type, path);
    }
    let dictionary = matches!(data_type, DataType::Dictionary(..));
    fixed_shape(array, layout.buffers.len(), layout::child_count(data_type), dictionary, data_type, path)
}

/// [`shape`], each check in turn, so that a failure names its field.
fn checked_shape(array: &ArrowArray, data_type: &DataType, path: &Path<'_>) -> Result<Shape> {
    let non_negative = |value: i64, name: &'static str| {
        usize::try_from(value).map_err(|_| path.field(name).invalid(format!("negative: {value}")))
    };
    let length = non_negative(array.length, "length")?;
    let offset = non_negative(array.offset, "offset")?;
    if length.checked_add(offset).is_none_or(|extent| extent > i64::MAX as usize) {
        return Err(path.invalid(format!("offset {offset} + length {length} overflows")));
    }
    let null_count = match array.null_count {
        -1 => None,
        count => Some(non_negative(count, "null_count")?),
    };
    if let Some(count) = null_count.filter(|&count| count > length) {
        return Err(path.field("null_count").invalid(format!("{count} nulls in {length} elements")));
    }
    let n_buffers = non_negative(array.n_buffers, "n_buffers")?;
    let n_children = non_negative(array.n_children, "n_children")?;

    let layout = layout::layout(data_type);
    let fixed = layout.buffers.len();
    let buffers_fit = match data_type {
        // Arrow C++ still accepts the legacy single (NULL) buffer of the null type.
        DataType::Null => n_buffers <= 1,
        _ if layout.variadic => n_buffers > fixed,
        _ => n_buffers == fixed,
    };
    if !buffers_fit {
        let wanted = if layout.variadic { format!("at least {}", fixed + 1) } else { fixed.to_string() };
        return Err(path.field("n_buffers").invalid(format!("{n_buffers}, but {data_type} needs {wanted}")));
    }
    let needs_children = layout::child_count(data_type);
    if n_children != needs_children {
        return Err(path
            .field("n_children")
            .invalid(format!("{n_children}, but {data_type} needs {needs_children}")));
    }
    if matches!(data_type, DataType::Union(..)) && null_count.unwrap_or(0) != 0 {
        return Err(path.field("null_count").invalid("a union has no validity, so its null_count must be 0"));
    }
    if n_buffers > 0 && array.buffers.is_null() {
        return Err(path.field("buffers").invalid(format!("NULL, but n_buffers is {n_buffers}")));
    }
    if n_children > 0 && array.children.is_null() {
        return Err(path.field("children").invalid(format!("NULL, but n_children is {n_children}")));
    }
    let is_dictionary = matches!(data_type, DataType::Dictionary(..));
    match (is_dictionary, array.dictionary.is_null()) {
        (true, true) => return Err(path.field("dictionary").invalid("NULL, but the type is a dictionary")),
        (false, false) => {
            return Err(path.field("dictionary").invalid(format!("set, but {data_type} is not a dictionary")))
        }
        _ => {}
    }
    Ok(Shape { length, offset, null_count, n_buffers, n_children })
}

/// [`shape`] for a node of a type that lists `n_buffers` buffers (at least one) and `n_children`
/// children, is a `dictionary` type or not, and is neither a union, the null type nor a view (the
/// leaf types, structs, lists, maps and dictionaries): the same checks, with the counts given rather
/// than looked up in the layout table, as one condition. A node that fails it goes through the
/// checks in turn, which name the fault.
pub(crate) fn fixed_shape(
    array: &ArrowArray,
    n_buffers: usize,
    n_children: usize,
    dictionary: bool,
    data_type: &DataType,
    path: &Path<'_>,
) -> Result<Shape> {
    let (length, offset, null_count) = (array.length, array.offset, array.null_count);
    let well_formed = length >= 0
        && offset >= 0
        && length.checked_add(offset).is_some()
        && (null_count == -1 || (0..=length).contains(&null_count))
        && array.n_buffers == n_buffers as i64
        && array.n_children == n_children as i64
        && !array.buffers.is_null()
        && (n_children == 0 || !array.children.is_null())
        && array.dictionary.is_null() != dictionary;
    if !well_formed {
        return checked_shape(array, data_type, path);
    }
    Ok(Shape {
        length: length as usize,
        offset: offset as usize,
        null_count: usize::try_from(null_count).ok(),
        n_buffers,
        n_children,
    })
}

/// Checks an offsets buffer holding `offset + length + 1` offsets of `width` bytes and returns the last
/// one, which is how many bytes (or child elements) the array spans. The last offset is always checked
/// to be non-negative; from [`Validation::Minimal`] up, the first must be too and no greater than the last.
#[inline]
pub(crate) fn offsets(
    buffer: &Buffer,
    width: usize,
    offset: usize,
    length: usize,
    level: Level,
    path: &Path<'_>,
) -> Result<usize> {
    let read = |index: usize| -> i64 {
        let at = index * width;
        match buffer.get(at..at + width) {
            Some(&[a, b, c, d]) => i32::from_ne_bytes([a, b, c, d]).into(),
            Some(bytes) => bytes.try_into().map_or(0, i64::from_ne_bytes),
            None => 0,
        }
    };
    let (first, last) = (read(offset), read(offset + length));
    let last_usize = usize::try_from(last).map_err(|_| path.invalid(format!("negative last offset {last}")))?;
    if level >= Level::Checked(Validation::Minimal) && (first < 0 || first > last) {
        return Err(path.invalid(format!("first offset {first} is negative or past the last offset {last}")));
    }
    Ok(last_usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn array(length: i64, offset: i64, null_count: i64, n_buffers: i64) -> ArrowArray {
        ArrowArray { length, offset, null_count, n_buffers, ..ArrowArray::EMPTY }
    }

    #[test]
    fn shape_errors_name_the_field() {
        let root = Path::root("array");
        let cases = [
            (array(-1, 0, 0, 2), "array.length: negative: -1"),
            (array(1, -3, 0, 2), "array.offset: negative: -3"),
            (array(1, 0, -2, 2), "array.null_count: negative: -2"),
            (array(1, 0, 2, 2), "array.null_count: 2 nulls in 1 elements"),
            (array(1, 0, 0, 3), "array.n_buffers: 3, but Int32 needs 2"),
            (array(1, 0, 0, 2), "array.buffers: NULL, but n_buffers is 2"),
        ];
        for (array, message) in cases {
            let error = shape(&array, &DataType::Int32, &root).unwrap_err();
            assert_eq!(error.to_string(), message);
        }
    }

    /// The fast check of the leaf and struct paths agrees with the checks in turn on every combination of the
    /// numbers and pointers it reads: the same shape, or the same error. Not under Miri: it reads no
    /// pointer, and its 9,600 cases took four minutes there.
    #[test]
    #[cfg_attr(miri, ignore = "reads no pointer; four minutes under Miri")]
    fn fixed_shape_agrees_with_shape() {
        let root = Path::root("array");
        let mut dictionary = ArrowArray::EMPTY;
        let mut slots = [std::ptr::null_mut::<std::ffi::c_void>(); 3];
        let buffers = slots.as_mut_ptr().cast();
        let children = slots.as_mut_ptr().cast();
        let int32 = DataType::Int32;
        let fields = vec![arrow_schema::Field::new("a", DataType::Int8, true)];
        let structure = DataType::Struct(fields.into());
        let dictionary_type = DataType::Dictionary(Box::new(DataType::Int16), Box::new(DataType::Utf8));
        let mut compared = 0;
        for (data_type, n_buffers, n_children, is_dictionary) in
            [(&int32, 2, 0, false), (&structure, 1, 1, false), (&dictionary_type, 2, 0, true)]
        {
            for length in [-1, 0, 5, i64::MAX] {
                for offset in [-1, 0, 3, i64::MAX] {
                    for null_count in [-2, -1, 0, 5, 6] {
                        for (buffers_at, children_at) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                            for (array_buffers, array_children) in [(1, 0), (2, 0), (1, 1), (2, 1), (3, -1)] {
                                for has_dictionary in [false, true] {
                                    let array = ArrowArray {
                                        length,
                                        offset,
                                        null_count,
                                        n_buffers: array_buffers,
                                        n_children: array_children,
                                        buffers: if buffers_at == 1 { buffers } else { std::ptr::null_mut() },
                                        children: if children_at == 1 { children } else { std::ptr::null_mut() },
                                        dictionary: if has_dictionary { &mut dictionary } else { std::ptr::null_mut() },
                                        ..ArrowArray::EMPTY
                                    };
                                    let fast = fixed_shape(&array, n_buffers, n_children, is_dictionary, data_type, &root);
                                    let reference = checked_shape(&array, data_type, &root);
                                    let show = |result: &Result<Shape>| match result {
                                        Ok(shape) => format!("{shape:?}"),
                                        Err(error) => error.to_string(),
                                    };
                                    assert_eq!(show(&fast), show(&reference), "{data_type} {array:?}");
                                    compared += 1;
                                }
                            }
                        }
                    }
                }
            }
        }
        assert_eq!(compared, 3 * 4 * 4 * 5 * 4 * 5 * 2);
    }

    #[test]
    fn offsets_report_the_last_and_check_the_first() {
        let root = Path::root("array");
        let buffer = Buffer::from_vec(vec![0i32, 3, 5, 2]);
        assert_eq!(offsets(&buffer, 4, 0, 2, Level::Checked(Validation::Default), &root).unwrap(), 5);
        // first (5) past last (2): caught from the minimal level up, not by the structural checks alone
        assert!(offsets(&buffer, 4, 2, 1, Level::Checked(Validation::Minimal), &root).is_err());
        assert_eq!(offsets(&buffer, 4, 2, 1, Level::Structure, &root).unwrap(), 2);
        let negative = Buffer::from_vec(vec![0i64, -4]);
        assert!(offsets(&negative, 8, 0, 1, Level::Checked(Validation::Minimal), &root).is_err());
    }
}
