//! The format-string codec checked against a peer: arrow-rs's own `ffi` module must write the same
//! format string for every type, and read every leaf format string to the same `DataType`.

use std::sync::Arc;

use arrow::ffi::FFI_ArrowSchema;
use arrow_cabi::format::{encode, parse, Format};
use arrow_schema::{DataType, Field, Fields, IntervalUnit, TimeUnit, UnionFields, UnionMode};

fn types() -> Vec<DataType> {
    use DataType as D;
    let item = || Arc::new(Field::new_list_field(D::Int32, true));
    let entries = Fields::from(vec![
        Field::new("key", D::Utf8, false),
        Field::new("value", D::Int32, true),
    ]);
    let union_fields = || {
        UnionFields::try_new(
            [0, 3, 7],
            [
                Field::new("a", D::Int32, true),
                Field::new("b", D::Utf8, true),
                Field::new("c", D::Float64, true),
            ],
        )
        .unwrap()
    };
    let units = [
        TimeUnit::Second,
        TimeUnit::Millisecond,
        TimeUnit::Microsecond,
        TimeUnit::Nanosecond,
    ];
    let mut types = vec![
        D::Null,
        D::Boolean,
        D::Int8,
        D::UInt8,
        D::Int16,
        D::UInt16,
        D::Int32,
        D::UInt32,
        D::Int64,
        D::UInt64,
        D::Float16,
        D::Float32,
        D::Float64,
        D::Binary,
        D::LargeBinary,
        D::BinaryView,
        D::Utf8,
        D::LargeUtf8,
        D::Utf8View,
        D::FixedSizeBinary(0),
        D::FixedSizeBinary(24),
        D::Decimal32(9, 2),
        D::Decimal64(18, -3),
        D::Decimal128(38, 10),
        D::Decimal256(76, 0),
        D::Date32,
        D::Date64,
        D::Time32(TimeUnit::Second),
        D::Time32(TimeUnit::Millisecond),
        D::Time64(TimeUnit::Microsecond),
        D::Time64(TimeUnit::Nanosecond),
        D::Interval(IntervalUnit::YearMonth),
        D::Interval(IntervalUnit::DayTime),
        D::Interval(IntervalUnit::MonthDayNano),
        D::List(item()),
        D::LargeList(item()),
        D::ListView(item()),
        D::LargeListView(item()),
        D::FixedSizeList(item(), 5),
        D::Struct(entries.clone()),
        D::Map(
            Arc::new(Field::new("entries", D::Struct(entries), false)),
            false,
        ),
        D::Union(union_fields(), UnionMode::Dense),
        D::Union(union_fields(), UnionMode::Sparse),
        D::RunEndEncoded(
            Arc::new(Field::new("run_ends", D::Int32, false)),
            Arc::new(Field::new("values", D::Utf8, true)),
        ),
        D::Dictionary(Box::new(D::Int16), Box::new(D::Utf8)),
    ];
    for unit in units {
        types.push(D::Duration(unit));
        types.push(D::Timestamp(unit, None));
        types.push(D::Timestamp(unit, Some("Europe/Paris".into())));
    }
    types
}

#[test]
fn encode_agrees_with_arrow_rs_export() {
    for dt in types() {
        let theirs = FFI_ArrowSchema::try_from(&dt).unwrap();
        assert_eq!(encode(&dt).unwrap(), theirs.format(), "{dt}");
    }
}

#[test]
fn parse_agrees_with_arrow_rs_import_for_leaves() {
    for dt in types() {
        let format = encode(&dt).unwrap();
        let ours = parse(&format).unwrap();
        match (&ours, &dt) {
            (Format::Leaf(leaf), DataType::Dictionary(key, _)) => assert_eq!(leaf, &**key),
            (Format::Leaf(leaf), _) => {
                let c = FFI_ArrowSchema::try_new(&format, vec![], None).unwrap();
                assert_eq!(&DataType::try_from(&c).unwrap(), leaf, "{format}");
                assert_eq!(leaf, &dt);
            }
            (Format::Union(mode, ids), DataType::Union(fields, m)) => {
                assert_eq!(mode, m);
                assert!(ids.iter().copied().eq(fields.iter().map(|(id, _)| id)));
            }
            (Format::FixedSizeList(n), DataType::FixedSizeList(_, m)) => assert_eq!(n, m),
            _ => {}
        }
    }
}
