//! The built-in sample: one column of every Arrow type, with nulls, in a few batches.
//!
//! [`COLUMNS`] is the whole sample: a name and a constructor per column. A constructor gets the batch
//! number and the row count and builds that batch's column from the global row index, so batches differ
//! and every run builds the same data. Row `i` is null where [`valid`] says so (one row in seven).

use std::sync::Arc;

use arrow_array::builder::{Int32Builder, MapBuilder, StringBuilder};
use arrow_array::types::{
    ArrowPrimitiveType, Date32Type, Date64Type, Decimal128Type, Decimal256Type, Decimal32Type, Decimal64Type,
    DurationMicrosecondType, DurationMillisecondType, DurationNanosecondType, DurationSecondType, Float16Type,
    Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, IntervalDayTimeType, IntervalMonthDayNanoType,
    IntervalYearMonthType, Time32MillisecondType, Time32SecondType, Time64MicrosecondType, Time64NanosecondType,
    TimestampMicrosecondType, TimestampNanosecondType, TimestampSecondType, UInt16Type, UInt32Type, UInt64Type,
    UInt8Type,
};
use arrow_array::{
    Array, ArrayRef, BinaryArray, BinaryViewArray, BooleanArray, DictionaryArray, FixedSizeBinaryArray,
    FixedSizeListArray, Int32Array, LargeBinaryArray, LargeListArray, LargeListViewArray, LargeStringArray, ListArray,
    ListViewArray, NullArray, PrimitiveArray, RecordBatch, RunArray, StringArray, StringViewArray, StructArray,
    UnionArray,
};
use arrow_buffer::{i256, IntervalDayTime, IntervalMonthDayNano, NullBuffer, ScalarBuffer};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef, UnionFields};

/// How many batches the sample has.
pub const BATCHES: usize = 3;
/// How many rows each batch has.
pub const ROWS: usize = 1000;

/// Builds one batch's column: `(batch number, rows)`.
type Make = fn(usize, usize) -> Result<ArrayRef, ArrowError>;

/// The sample's columns, in order. Every column is nullable and has nulls.
pub const COLUMNS: &[(&str, Make)] = &[
    ("null", |_, n| Ok(Arc::new(NullArray::new(n)))),
    ("boolean", |b, n| Ok(Arc::new(rows(b, n).map(|i| opt(i, i % 3 == 0)).collect::<BooleanArray>()))),
    ("int8", |b, n| primitive::<Int8Type>(b, n, |i| (i % 256) as u8 as i8)),
    ("int16", |b, n| primitive::<Int16Type>(b, n, |i| (i as i16).wrapping_mul(-7))),
    ("int32", |b, n| primitive::<Int32Type>(b, n, |i| i as i32 - 1500)),
    ("int64", |b, n| primitive::<Int64Type>(b, n, |i| (i as i64) << 33)),
    ("uint8", |b, n| primitive::<UInt8Type>(b, n, |i| (i % 256) as u8)),
    ("uint16", |b, n| primitive::<UInt16Type>(b, n, |i| i as u16)),
    ("uint32", |b, n| primitive::<UInt32Type>(b, n, |i| (i as u32).wrapping_mul(2_654_435_761))),
    ("uint64", |b, n| primitive::<UInt64Type>(b, n, |i| u64::MAX - i as u64)),
    ("float16", |b, n| primitive::<Float16Type>(b, n, |i| Native::<Float16Type>::from_f32(i as f32 / 8.0))),
    ("float32", |b, n| primitive::<Float32Type>(b, n, |i| i as f32 * 0.5)),
    ("float64", |b, n| primitive::<Float64Type>(b, n, |i| (i as f64).sqrt())),
    ("decimal32", |b, n| decimal::<Decimal32Type>(b, n, 9, 2, |i| i as i32 * 101)),
    ("decimal64", |b, n| decimal::<Decimal64Type>(b, n, 18, 4, |i| i as i64 * -100_003)),
    ("decimal128", |b, n| decimal::<Decimal128Type>(b, n, 38, 10, |i| (i as i128) << 70)),
    ("decimal256", |b, n| decimal::<Decimal256Type>(b, n, 76, 20, |i| i256::from_i128(i as i128) << 130)),
    ("date32", |b, n| primitive::<Date32Type>(b, n, |i| i as i32 - 365)),
    ("date64", |b, n| primitive::<Date64Type>(b, n, |i| i as i64 * 86_400_000)),
    ("time32_s", |b, n| primitive::<Time32SecondType>(b, n, |i| (i * 37 % 86_400) as i32)),
    ("time32_ms", |b, n| primitive::<Time32MillisecondType>(b, n, |i| (i * 37_001 % 86_400_000) as i32)),
    ("time64_us", |b, n| primitive::<Time64MicrosecondType>(b, n, |i| i as i64 * 1_000_003)),
    ("time64_ns", |b, n| primitive::<Time64NanosecondType>(b, n, |i| i as i64 * 1_000_000_007)),
    ("timestamp_s", |b, n| primitive::<TimestampSecondType>(b, n, |i| 1_700_000_000 + i as i64)),
    ("timestamp_ns", |b, n| primitive::<TimestampNanosecondType>(b, n, |i| i as i64 * 999_999_937)),
    ("timestamp_us_utc", |b, n| {
        let values = primitive_array::<TimestampMicrosecondType>(b, n, |i| i as i64 * 1_000_001);
        Ok(Arc::new(values.with_timezone("UTC")))
    }),
    ("timestamp_ns_paris", |b, n| {
        let values = primitive_array::<TimestampNanosecondType>(b, n, |i| i as i64 * 1_000_000_001);
        Ok(Arc::new(values.with_timezone("Europe/Paris")))
    }),
    ("duration_s", |b, n| primitive::<DurationSecondType>(b, n, |i| i as i64 - 10)),
    ("duration_ms", |b, n| primitive::<DurationMillisecondType>(b, n, |i| i as i64 * 1_001)),
    ("duration_us", |b, n| primitive::<DurationMicrosecondType>(b, n, |i| i as i64 * -7)),
    ("duration_ns", |b, n| primitive::<DurationNanosecondType>(b, n, |i| i as i64 * 1_000_000_000)),
    ("interval_year_month", |b, n| primitive::<IntervalYearMonthType>(b, n, |i| (i % 240) as i32 - 120)),
    ("interval_day_time", |b, n| {
        primitive::<IntervalDayTimeType>(b, n, |i| IntervalDayTime::new(i as i32 % 30, (i * 1_000) as i32))
    }),
    ("interval_month_day_nano", |b, n| {
        primitive::<IntervalMonthDayNanoType>(b, n, |i| {
            IntervalMonthDayNano::new(i as i32 % 12, i as i32 % 31, i as i64 * 1_000_001)
        })
    }),
    ("binary", |b, n| Ok(Arc::new(rows(b, n).map(|i| opt(i, bytes(i))).collect::<BinaryArray>()))),
    ("large_binary", |b, n| Ok(Arc::new(rows(b, n).map(|i| opt(i, bytes(i))).collect::<LargeBinaryArray>()))),
    ("fixed_size_binary", |b, n| {
        let values = rows(b, n).map(|i| opt(i, (i as u32).to_le_bytes()));
        Ok(Arc::new(FixedSizeBinaryArray::try_from_sparse_iter_with_size(values, 4)?))
    }),
    ("binary_view", |b, n| Ok(Arc::new(rows(b, n).map(|i| opt(i, bytes(i))).collect::<BinaryViewArray>()))),
    ("utf8", |b, n| Ok(Arc::new(rows(b, n).map(|i| opt(i, text(i))).collect::<StringArray>()))),
    ("large_utf8", |b, n| Ok(Arc::new(rows(b, n).map(|i| opt(i, text(i))).collect::<LargeStringArray>()))),
    ("utf8_view", |b, n| Ok(Arc::new(rows(b, n).map(|i| opt(i, text(i))).collect::<StringViewArray>()))),
    ("utf8_sliced", |b, n| {
        // Three rows more, sliced off the front: offsets start past zero and the validity bitmap
        // starts at bit 3, which the C Data Interface can only say with the array's offset.
        let whole = rows(b, n + 3).map(|i| opt(i, text(i))).collect::<StringArray>();
        Ok(Arc::new(whole.slice(3, n)))
    }),
    ("list", |b, n| Ok(Arc::new(ListArray::from_iter_primitive::<Int32Type, _, _>(items(b, n))))),
    ("large_list", |b, n| Ok(Arc::new(LargeListArray::from_iter_primitive::<Int32Type, _, _>(items(b, n))))),
    ("list_view", |b, n| Ok(Arc::new(ListViewArray::from_iter_primitive::<Int32Type, _, _>(items(b, n))))),
    ("large_list_view", |b, n| Ok(Arc::new(LargeListViewArray::from_iter_primitive::<Int32Type, _, _>(items(b, n))))),
    ("fixed_size_list", |b, n| {
        let values = rows(b, n).map(|i| opt(i, (0..3).map(|k| item(i, k)).collect::<Vec<_>>()));
        Ok(Arc::new(FixedSizeListArray::from_iter_primitive::<Int32Type, _, _>(values, 3)))
    }),
    ("struct", |b, n| {
        let fields = vec![Field::new("id", DataType::Int32, true), Field::new("label", DataType::Utf8, true)];
        let id: Int32Array = rows(b, n).map(|i| opt(i + 1, i as i32)).collect();
        let label: StringArray = rows(b, n).map(|i| opt(i + 2, text(i))).collect();
        let nulls = NullBuffer::from_iter(rows(b, n).map(valid));
        Ok(Arc::new(StructArray::try_new(fields.into(), vec![Arc::new(id), Arc::new(label)], Some(nulls))?))
    }),
    ("map", |b, n| {
        let mut map = MapBuilder::new(None, StringBuilder::new(), Int32Builder::new());
        for i in rows(b, n) {
            for k in 0..i % 4 {
                map.keys().append_value(format!("key{k}"));
                map.values().append_option(item(i, k));
            }
            map.append(valid(i))?;
        }
        Ok(Arc::new(map.finish()))
    }),
    ("dense_union", |b, n| union(b, n, true)),
    ("sparse_union", |b, n| union(b, n, false)),
    ("run_end_encoded", |b, n| {
        // Runs of 1 to 5 equal values; every run's value is null where its first row is.
        let mut ends = vec![];
        let mut values = vec![];
        let mut end = 0;
        while end < n {
            let row = b * n + end;
            end = (end + 1 + row % 5).min(n);
            ends.push(i32::try_from(end).map_err(|e| ArrowError::ComputeError(e.to_string()))?);
            values.push(opt(row, text(row)));
        }
        let values: StringArray = values.into_iter().collect();
        Ok(Arc::new(RunArray::<Int32Type>::try_new(&Int32Array::from(ends), &values)?))
    }),
    ("dictionary", |b, n| {
        let colors = ["red", "green", "blue", "a colour name longer than twelve bytes"];
        let values = rows(b, n).map(|i| opt(i, colors[i % colors.len()]));
        Ok(Arc::new(values.collect::<DictionaryArray<Int32Type>>()))
    }),
];

/// The sample's schema and its [`BATCHES`] batches of [`ROWS`] rows.
pub fn batches() -> Result<(SchemaRef, Vec<RecordBatch>), ArrowError> {
    let mut schema = None;
    let mut batches = Vec::with_capacity(BATCHES);
    for batch in 0..BATCHES {
        let columns = COLUMNS.iter().map(|(_, make)| make(batch, ROWS)).collect::<Result<Vec<_>, _>>()?;
        let schema = schema.get_or_insert_with(|| {
            let fields = COLUMNS.iter().zip(&columns);
            let fields = fields.map(|((name, _), column)| Field::new(*name, column.data_type().clone(), true));
            Arc::new(Schema::new(fields.collect::<Vec<_>>()))
        });
        batches.push(RecordBatch::try_new(schema.clone(), columns)?);
    }
    Ok((schema.unwrap_or_else(|| Arc::new(Schema::empty())), batches))
}

type Native<T> = <T as ArrowPrimitiveType>::Native;

/// The global row indices of batch `batch`.
fn rows(batch: usize, n: usize) -> std::ops::Range<usize> {
    batch * n..(batch + 1) * n
}

/// Whether row `i` is valid: all but one row in seven.
fn valid(i: usize) -> bool {
    i % 7 != 3
}

/// `value` at a valid row, null at the others.
fn opt<T>(i: usize, value: T) -> Option<T> {
    valid(i).then_some(value)
}

/// Text of every length from 6 to 26 bytes, so views hold some strings inline and some out of line.
fn text(i: usize) -> String {
    format!("row {i} {}", "abcdefghijklmnopqrstuvwxyz".get(..i % 20).unwrap_or_default())
}

/// Bytes of every length from 0 to 22.
fn bytes(i: usize) -> Vec<u8> {
    (0..i % 23).map(|k| (i + k) as u8).collect()
}

/// Item `k` of list row `i`, null now and then.
fn item(i: usize, k: usize) -> Option<i32> {
    ((i + k) % 5 != 0).then_some((i * 10 + k) as i32)
}

/// List rows of 0 to 4 items.
fn items(batch: usize, n: usize) -> impl Iterator<Item = Option<Vec<Option<i32>>>> {
    rows(batch, n).map(|i| opt(i, (0..i % 5).map(|k| item(i, k)).collect()))
}

fn primitive_array<T: ArrowPrimitiveType>(b: usize, n: usize, f: fn(usize) -> T::Native) -> PrimitiveArray<T> {
    rows(b, n).map(|i| opt(i, f(i))).collect()
}

fn primitive<T: ArrowPrimitiveType>(b: usize, n: usize, f: fn(usize) -> T::Native) -> Result<ArrayRef, ArrowError> {
    Ok(Arc::new(primitive_array::<T>(b, n, f)))
}

fn decimal<T>(b: usize, n: usize, precision: u8, scale: i8, f: fn(usize) -> T::Native) -> Result<ArrayRef, ArrowError>
where
    T: arrow_array::types::DecimalType,
{
    Ok(Arc::new(primitive_array::<T>(b, n, f).with_precision_and_scale(precision, scale)?))
}

/// A union of an int32 child (type id 2) and a utf8 child (type id 5), alternating; nulls live in the
/// children.
fn union(b: usize, n: usize, dense: bool) -> Result<ArrayRef, ArrowError> {
    let fields = UnionFields::try_new(
        [2, 5],
        [Field::new("int", DataType::Int32, true), Field::new("str", DataType::Utf8, true)],
    )?;
    let type_ids: ScalarBuffer<i8> = rows(b, n).map(|i| if i % 2 == 0 { 2 } else { 5 }).collect();
    let (offsets, ints, strs): (_, Int32Array, StringArray) = if dense {
        let offsets = rows(b, n).map(|i| (i - b * n) as i32 / 2).collect::<ScalarBuffer<i32>>();
        let ints = rows(b, n).filter(|i| i % 2 == 0).map(|i| opt(i, i as i32)).collect();
        let strs = rows(b, n).filter(|i| i % 2 == 1).map(|i| opt(i, text(i))).collect();
        (Some(offsets), ints, strs)
    } else {
        let ints = rows(b, n).map(|i| opt(i, i as i32)).collect();
        let strs = rows(b, n).map(|i| opt(i, text(i))).collect();
        (None, ints, strs)
    };
    Ok(Arc::new(UnionArray::try_new(fields, type_ids, offsets, vec![Arc::new(ints), Arc::new(strs)])?))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use arrow_schema::{IntervalUnit, TimeUnit, UnionMode};

    use super::*;

    /// The family of a type: its variant, with the unit, time-zone presence or mode where the sample
    /// must cover each.
    fn family(data_type: &DataType) -> String {
        match data_type {
            DataType::Timestamp(_, tz) => format!("Timestamp(tz: {})", tz.is_some()),
            DataType::Union(_, mode) => format!("Union({mode:?})"),
            DataType::Time32(_) | DataType::Time64(_) | DataType::Interval(_) => format!("{data_type:?}"),
            other => format!("{other:?}").split('(').next().unwrap_or_default().to_owned(),
        }
    }

    /// Every family in `data_type`, children and dictionary values included.
    fn collect(data_type: &DataType, out: &mut BTreeSet<String>) {
        out.insert(family(data_type));
        match data_type {
            DataType::List(f)
            | DataType::LargeList(f)
            | DataType::ListView(f)
            | DataType::LargeListView(f)
            | DataType::FixedSizeList(f, _)
            | DataType::Map(f, _) => collect(f.data_type(), out),
            DataType::Struct(fields) => fields.iter().for_each(|f| collect(f.data_type(), out)),
            DataType::Union(fields, _) => fields.iter().for_each(|(_, f)| collect(f.data_type(), out)),
            DataType::RunEndEncoded(ends, values) => {
                collect(ends.data_type(), out);
                collect(values.data_type(), out);
            }
            DataType::Dictionary(key, value) => {
                collect(key, out);
                collect(value, out);
            }
            _ => {}
        }
    }

    #[test]
    fn covers_every_type() {
        let (schema, _) = batches().unwrap();
        let mut seen = BTreeSet::new();
        schema.fields().iter().for_each(|f| collect(f.data_type(), &mut seen));
        let expected = [
            DataType::Null,
            DataType::Boolean,
            DataType::Int8,
            DataType::Int16,
            DataType::Int32,
            DataType::Int64,
            DataType::UInt8,
            DataType::UInt16,
            DataType::UInt32,
            DataType::UInt64,
            DataType::Float16,
            DataType::Float32,
            DataType::Float64,
            DataType::Decimal32(9, 2),
            DataType::Decimal64(18, 2),
            DataType::Decimal128(38, 2),
            DataType::Decimal256(76, 2),
            DataType::Date32,
            DataType::Date64,
            DataType::Time32(TimeUnit::Second),
            DataType::Time32(TimeUnit::Millisecond),
            DataType::Time64(TimeUnit::Microsecond),
            DataType::Time64(TimeUnit::Nanosecond),
            DataType::Timestamp(TimeUnit::Second, None),
            DataType::Timestamp(TimeUnit::Second, Some("UTC".into())),
            DataType::Duration(TimeUnit::Second),
            DataType::Interval(IntervalUnit::YearMonth),
            DataType::Interval(IntervalUnit::DayTime),
            DataType::Interval(IntervalUnit::MonthDayNano),
            DataType::Binary,
            DataType::LargeBinary,
            DataType::FixedSizeBinary(4),
            DataType::BinaryView,
            DataType::Utf8,
            DataType::LargeUtf8,
            DataType::Utf8View,
            DataType::List(Arc::new(Field::new_list_field(DataType::Int32, true))),
            DataType::LargeList(Arc::new(Field::new_list_field(DataType::Int32, true))),
            DataType::ListView(Arc::new(Field::new_list_field(DataType::Int32, true))),
            DataType::LargeListView(Arc::new(Field::new_list_field(DataType::Int32, true))),
            DataType::FixedSizeList(Arc::new(Field::new_list_field(DataType::Int32, true)), 3),
            DataType::Struct(Default::default()),
            DataType::Map(Arc::new(Field::new("entries", DataType::Null, false)), false),
            DataType::Union(UnionFields::empty(), UnionMode::Dense),
            DataType::Union(UnionFields::empty(), UnionMode::Sparse),
            DataType::RunEndEncoded(
                Arc::new(Field::new("run_ends", DataType::Int32, false)),
                Arc::new(Field::new("values", DataType::Utf8, true)),
            ),
            DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
        ];
        let missing: Vec<_> = expected.iter().map(family).filter(|f| !seen.contains(f)).collect();
        assert!(missing.is_empty(), "the sample lacks {missing:?}; it has {seen:?}");
        // Each family above is distinct, so the list really names as many kinds as it has entries.
        assert_eq!(expected.iter().map(family).collect::<BTreeSet<_>>().len(), expected.len());
    }

    #[test]
    fn every_column_has_nulls_and_every_batch_differs() {
        let (schema, batches) = batches().unwrap();
        assert_eq!(batches.len(), BATCHES);
        for batch in &batches {
            assert_eq!(batch.num_rows(), ROWS);
            for (field, column) in schema.fields().iter().zip(batch.columns()) {
                assert!(column.logical_null_count() > 0, "{} has no nulls", field.name());
            }
        }
        assert_ne!(batches[0], batches[1]);
    }
}
