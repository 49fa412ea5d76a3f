//! The data types the array and differential targets import against: every layout of the columnar
//! format (and every zero-width and zero-length one), a few nested in each other. An input's first
//! byte picks one (modulo the table's length).

use std::sync::{Arc, OnceLock};

use arrow_schema::{DataType, Field, Fields, IntervalUnit, TimeUnit, UnionFields, UnionMode};

fn field(name: &str, data_type: DataType, nullable: bool) -> Arc<Field> {
    Arc::new(Field::new(name, data_type, nullable))
}

fn item(data_type: DataType) -> Arc<Field> {
    field("item", data_type, true)
}

fn union(mode: UnionMode) -> DataType {
    let fields = UnionFields::try_new([3, 0], [Field::new("i", DataType::Int32, true), Field::new("s", DataType::Utf8, true)]).expect("distinct ids");
    DataType::Union(fields, mode)
}

fn map(keys_sorted: bool) -> DataType {
    let entries = Fields::from(vec![Field::new("key", DataType::Utf8, false), Field::new("value", DataType::Int32, true)]);
    DataType::Map(field("entries", DataType::Struct(entries), false), keys_sorted)
}

fn build() -> Vec<DataType> {
    use DataType::*;
    let structs = Fields::from(vec![Field::new("a", Int32, true), Field::new("b", Utf8, false)]);
    vec![
        Null,
        Boolean,
        Int8,
        Int16,
        Int32,
        Int64,
        UInt8,
        UInt16,
        UInt32,
        UInt64,
        Float16,
        Float32,
        Float64,
        Date32,
        Date64,
        Time32(TimeUnit::Second),
        Time64(TimeUnit::Nanosecond),
        Timestamp(TimeUnit::Microsecond, None),
        Timestamp(TimeUnit::Second, Some("+01:00".into())),
        Duration(TimeUnit::Millisecond),
        Interval(IntervalUnit::YearMonth),
        Interval(IntervalUnit::DayTime),
        Interval(IntervalUnit::MonthDayNano),
        Decimal32(9, 2),
        Decimal64(18, 3),
        Decimal128(38, 10),
        Decimal256(76, 5),
        Utf8,
        LargeUtf8,
        Binary,
        LargeBinary,
        Utf8View,
        BinaryView,
        FixedSizeBinary(3),
        FixedSizeBinary(0),
        List(item(Int32)),
        LargeList(item(Utf8)),
        ListView(item(Int16)),
        LargeListView(item(Utf8)),
        FixedSizeList(item(Int8), 2),
        FixedSizeList(item(Int8), 0),
        FixedSizeList(item(FixedSizeBinary(0)), 2),
        List(item(FixedSizeBinary(0))),
        Struct(structs.clone()),
        Struct(Fields::empty()),
        Struct(Fields::from(vec![Field::new("w", FixedSizeBinary(0), true)])),
        map(false),
        map(true),
        union(UnionMode::Dense),
        union(UnionMode::Sparse),
        Dictionary(Box::new(Int8), Box::new(Utf8)),
        Dictionary(Box::new(UInt32), Box::new(Int64)),
        Dictionary(Box::new(Int16), Box::new(List(item(Int32)))),
        RunEndEncoded(field("run_ends", Int32, false), field("values", Utf8, true)),
        RunEndEncoded(field("run_ends", Int64, false), field("values", Int8, true)),
        List(item(Struct(structs))),
        Struct(Fields::from(vec![Field::new("l", List(item(Utf8View)), true), Field::new("d", Dictionary(Box::new(Int32), Box::new(Binary)), true)])),
    ]
}

/// The table (built once).
pub fn table() -> &'static [DataType] {
    static TABLE: OnceLock<Vec<DataType>> = OnceLock::new();
    TABLE.get_or_init(build)
}

/// The type an input's first byte picks.
pub fn pick(byte: u8) -> &'static DataType {
    let table = table();
    &table[usize::from(byte) % table.len()]
}
