//! One table: the buffers of each physical layout in C Data Interface order, and how big each one is.
//!
//! Export and import both read this table, so the two cannot disagree about which buffer comes where.
#![forbid(unsafe_code)]

use arrow_schema::{DataType, FieldRef, IntervalUnit, UnionMode};

/// What one buffer of a layout holds, and so how its byte length follows from the array's extent
/// (`offset + length` elements).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Buffer {
    /// The validity bitmap; may be NULL when the array has no nulls.
    Validity,
    /// Bit-packed boolean values.
    Bits,
    /// `width` bytes per element: union type ids and offsets, views, list-view offsets and sizes.
    Fixed(usize),
    /// [`fixed_width`] bytes per element: primitive values, decimals, fixed-size binary, dictionary keys.
    Data,
    /// `width`-byte offsets, one more than there are elements.
    Offsets(usize),
    /// The values of a variable-size binary or utf8 array; its length is the last offset.
    Values,
}

/// The buffers of a layout, in the order the C Data Interface lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    /// The fixed buffers.
    pub buffers: &'static [Buffer],
    /// Binary and utf8 views: after the fixed buffers come any number of data buffers, then one
    /// buffer of their `int64` sizes (an extra the C ABI adds to the columnar format).
    pub variadic: bool,
}

/// The most buffers a view node may list: arrow-rs counts a view's data buffers in `u32`s, and a
/// larger count from C would size the slice of buffer pointers past what memory can hold.
pub(crate) const MAX_VARIADIC_BUFFERS: usize = i32::MAX as usize;

const fn fixed(buffers: &'static [Buffer]) -> Layout {
    Layout { buffers, variadic: false }
}

use Buffer::*;

/// The layout of `data_type`'s own node (children and dictionary values have their own).
pub(crate) fn layout(data_type: &DataType) -> Layout {
    match data_type {
        DataType::Null | DataType::RunEndEncoded(..) => fixed(&[]),
        DataType::Boolean => fixed(&[Validity, Bits]),
        DataType::Binary | DataType::Utf8 => fixed(&[Validity, Offsets(4), Values]),
        DataType::LargeBinary | DataType::LargeUtf8 => fixed(&[Validity, Offsets(8), Values]),
        DataType::BinaryView | DataType::Utf8View => Layout { buffers: &[Validity, Fixed(16)], variadic: true },
        DataType::List(_) | DataType::Map(..) => fixed(&[Validity, Offsets(4)]),
        DataType::LargeList(_) => fixed(&[Validity, Offsets(8)]),
        DataType::ListView(_) => fixed(&[Validity, Fixed(4), Fixed(4)]),
        DataType::LargeListView(_) => fixed(&[Validity, Fixed(8), Fixed(8)]),
        DataType::FixedSizeList(..) | DataType::Struct(_) => fixed(&[Validity]),
        DataType::Union(_, UnionMode::Sparse) => fixed(&[Fixed(1)]),
        DataType::Union(_, UnionMode::Dense) => fixed(&[Fixed(1), Fixed(4)]),
        DataType::Dictionary(key, _) => layout(key),
        // Every fixed-width type: validity and one buffer of `fixed_width` bytes per element.
        _ => fixed(&[Validity, Data]),
    }
}

/// The byte width of one element of `data_type`'s data buffer, for the fixed-width layouts. The import
/// plan takes its widths from the native types; its tests check them against this. The device layer
/// sizes buffers it cannot read with it.
pub(crate) fn fixed_width(data_type: &DataType) -> Option<usize> {
    Some(match data_type {
        DataType::Int8 | DataType::UInt8 => 1,
        DataType::Int16 | DataType::UInt16 | DataType::Float16 => 2,
        DataType::Int32 | DataType::UInt32 | DataType::Float32 | DataType::Date32 => 4,
        DataType::Time32(_) | DataType::Decimal32(..) => 4,
        DataType::Interval(IntervalUnit::YearMonth) => 4,
        DataType::Int64 | DataType::UInt64 | DataType::Float64 | DataType::Date64 => 8,
        DataType::Time64(_) | DataType::Timestamp(..) | DataType::Duration(_) => 8,
        DataType::Decimal64(..) | DataType::Interval(IntervalUnit::DayTime) => 8,
        DataType::Decimal128(..) | DataType::Interval(IntervalUnit::MonthDayNano) => 16,
        DataType::Decimal256(..) => 32,
        DataType::FixedSizeBinary(width) => usize::try_from(*width).ok()?,
        _ => return None,
    })
}

/// The alignment arrow-rs's typed arrays need of `data_type`'s data buffer: the value type's alignment,
/// which is not always its width (fixed-size binary is bytes; intervals are structs of smaller integers).
#[cfg(test)]
pub(crate) fn data_alignment(data_type: &DataType) -> usize {
    match data_type {
        DataType::FixedSizeBinary(_) => 1,
        DataType::Interval(IntervalUnit::DayTime) => 4,
        DataType::Interval(IntervalUnit::MonthDayNano) => 8,
        other => fixed_width(other).map_or(1, |width| width.min(16)),
    }
}

/// How many children `data_type`'s C struct has (a dictionary's values are not a child).
pub(crate) fn child_count(data_type: &DataType) -> usize {
    match data_type {
        DataType::List(_)
        | DataType::LargeList(_)
        | DataType::ListView(_)
        | DataType::LargeListView(_)
        | DataType::FixedSizeList(..)
        | DataType::Map(..) => 1,
        DataType::RunEndEncoded(..) => 2,
        DataType::Struct(fields) => fields.len(),
        DataType::Union(fields, _) => fields.len(),
        _ => 0,
    }
}

/// The field of child `index` of `data_type`'s C struct, or `None` past [`child_count`].
pub(crate) fn child_field(data_type: &DataType, index: usize) -> Option<&FieldRef> {
    match data_type {
        DataType::List(child)
        | DataType::LargeList(child)
        | DataType::ListView(child)
        | DataType::LargeListView(child)
        | DataType::FixedSizeList(child, _)
        | DataType::Map(child, _) => (index == 0).then_some(child),
        DataType::RunEndEncoded(run_ends, values) => [run_ends, values].get(index).copied(),
        DataType::Struct(fields) => fields.get(index),
        DataType::Union(fields, _) => fields.iter().nth(index).map(|(_, field)| field),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_schema::{Field, TimeUnit, UnionFields};
    use std::sync::Arc;

    /// n_buffers of every layout, as the table of ../shared/spec/C-INTERFACES.md part 1 gives them.
    #[test]
    fn buffer_counts_follow_the_spec_table() {
        let item = Arc::new(Field::new("item", DataType::Int32, true));
        let union = UnionFields::try_new(vec![0], vec![Field::new("a", DataType::Int32, true)]).unwrap();
        let cases = [
            (DataType::Null, 0, 0),
            (DataType::Boolean, 2, 0),
            (DataType::Int64, 2, 0),
            (DataType::Decimal256(40, 2), 2, 0),
            (DataType::Timestamp(TimeUnit::Nanosecond, None), 2, 0),
            (DataType::FixedSizeBinary(3), 2, 0),
            (DataType::Utf8, 3, 0),
            (DataType::LargeBinary, 3, 0),
            (DataType::Utf8View, 2, 0),
            (DataType::List(item.clone()), 2, 1),
            (DataType::LargeListView(item.clone()), 3, 1),
            (DataType::FixedSizeList(item.clone(), 2), 1, 1),
            (DataType::Struct(vec![Field::new("a", DataType::Int8, true)].into()), 1, 1),
            (DataType::Union(union.clone(), UnionMode::Sparse), 1, 1),
            (DataType::Union(union, UnionMode::Dense), 2, 1),
            (DataType::Dictionary(Box::new(DataType::Int16), Box::new(DataType::Utf8)), 2, 0),
        ];
        for (data_type, buffers, children) in cases {
            assert_eq!(layout(&data_type).buffers.len(), buffers, "{data_type}");
            assert_eq!(child_count(&data_type), children, "{data_type}");
            assert!(child_field(&data_type, children).is_none(), "{data_type}");
            assert!(children == 0 || child_field(&data_type, children - 1).is_some(), "{data_type}");
        }
        assert!(layout(&DataType::BinaryView).variadic);
        assert_eq!(fixed_width(&DataType::FixedSizeBinary(5)), Some(5));
    }

    /// The alignments match the Rust value types arrow-rs reads the buffers as.
    #[test]
    fn data_alignment_is_the_value_types() {
        use arrow_buffer::{i256, IntervalDayTime, IntervalMonthDayNano};
        use std::mem::align_of;
        let cases = [
            (DataType::Int64, align_of::<i64>()),
            (DataType::Decimal128(10, 2), align_of::<i128>()),
            (DataType::Decimal256(40, 2), align_of::<i256>()),
            (DataType::Interval(IntervalUnit::DayTime), align_of::<IntervalDayTime>()),
            (DataType::Interval(IntervalUnit::MonthDayNano), align_of::<IntervalMonthDayNano>()),
            (DataType::FixedSizeBinary(16), 1),
        ];
        for (data_type, align) in cases {
            assert_eq!(data_alignment(&data_type), align, "{data_type}");
        }
    }
}
