//! `Nullability::Relax`: a producer (here arrow-rs's `ffi`, as pyarrow does it) hands over a batch whose
//! schema marks columns non-nullable that hold nulls. Enforced (the default) it is an error naming the
//! column; relaxed, the columns come back nullable with the producer's values.

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, Int32Array, Int64Array, RecordBatch, StringArray, StructArray};
use arrow_cabi::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use arrow_buffer::Buffer;
use arrow_cabi::array::import_array_data;
use arrow_cabi::{import_batch_from, Nullability, Validation};
use arrow_data::ArrayData;
use arrow_schema::{DataType, Field, Fields, Schema};

/// The batch's data exported by arrow-rs, with a schema (also exported by arrow-rs) that declares
/// `declared` for the same columns.
fn crossing(batch: &RecordBatch, declared: &Schema) -> (FFI_ArrowArray, FFI_ArrowSchema) {
    let data = StructArray::from(batch.clone()).into_data();
    let mut array = arrow::ffi::FFI_ArrowArray::new(&data);
    let mut schema = arrow::ffi::FFI_ArrowSchema::try_from(declared).unwrap();
    // SAFETY: both crates' structs are `repr(C)` copies of abi.h's; `from_raw` moves each out, leaving
    // arrow-rs's released.
    unsafe {
        (
            FFI_ArrowArray::from_raw((&mut array as *mut arrow::ffi::FFI_ArrowArray).cast()),
            FFI_ArrowSchema::from_raw((&mut schema as *mut arrow::ffi::FFI_ArrowSchema).cast()),
        )
    }
}

fn columns() -> Vec<ArrayRef> {
    vec![
        Arc::new(Int64Array::from(vec![Some(1), None, Some(3)])),
        Arc::new(StringArray::from(vec![Some("a"), Some("b"), Some("c")])),
    ]
}

fn declared_non_nullable() -> Schema {
    Schema::new(vec![Field::new("id", DataType::Int64, false), Field::new("name", DataType::Utf8, false)])
}

fn source() -> RecordBatch {
    let nullable = Schema::new(vec![Field::new("id", DataType::Int64, true), Field::new("name", DataType::Utf8, true)]);
    RecordBatch::try_new(Arc::new(nullable), columns()).unwrap()
}

#[test]
fn enforced_nulls_in_a_non_nullable_column_name_the_column() {
    let (array, schema) = crossing(&source(), &declared_non_nullable());
    let error = import_batch_from(array, &schema, Validation::Default, Nullability::Enforce).unwrap_err();
    assert_eq!(error.to_string(), "array.children[0]: 1 nulls in a non-nullable field, which cannot hold nulls");
    // arrow-rs's own RecordBatch refuses the same columns under that schema
    assert!(RecordBatch::try_new(Arc::new(declared_non_nullable()), columns()).is_err());
}

#[test]
fn relaxed_only_the_columns_with_nulls_become_nullable() {
    for validation in [Validation::Minimal, Validation::Default, Validation::Full] {
        let (array, schema) = crossing(&source(), &declared_non_nullable());
        let batch = import_batch_from(array, &schema, validation, Nullability::Relax).unwrap();
        let expected = Schema::new(vec![Field::new("id", DataType::Int64, true), Field::new("name", DataType::Utf8, false)]);
        assert_eq!(batch.schema().as_ref(), &expected);
        assert_eq!(batch.columns(), source().columns());
        // a batch arrow-rs itself accepts
        RecordBatch::try_new(batch.schema(), batch.columns().to_vec()).unwrap();
    }
}

#[test]
fn relaxed_through_a_struct_column() {
    let inner_nullable = Fields::from(vec![Field::new("v", DataType::Int32, true)]);
    let inner_strict = Fields::from(vec![Field::new("v", DataType::Int32, false)]);
    let values: ArrayRef = Arc::new(Int32Array::from(vec![Some(1), None]));
    let column = StructArray::new(inner_nullable.clone(), vec![values], None);
    let source = RecordBatch::try_from_iter([("s", Arc::new(column.clone()) as ArrayRef)]).unwrap();
    let declared = Schema::new(vec![Field::new("s", DataType::Struct(inner_strict), false)]);

    let (array, schema) = crossing(&source, &declared);
    let error = import_batch_from(array, &schema, Validation::Default, Nullability::Enforce).unwrap_err();
    assert!(error.to_string().starts_with("array.children[0].children[0]: 1 nulls"), "{error}");

    let (array, schema) = crossing(&source, &declared);
    let batch = import_batch_from(array, &schema, Validation::Full, Nullability::Relax).unwrap();
    let expected = Schema::new(vec![Field::new("s", DataType::Struct(inner_nullable), false)]);
    assert_eq!(batch.schema().as_ref(), &expected);
    assert_eq!(batch.column(0).to_data(), column.to_data());
    RecordBatch::try_new(batch.schema(), batch.columns().to_vec()).unwrap();
}

#[test]
fn relax_changes_nothing_when_the_data_agrees() {
    let clean = RecordBatch::try_new(
        Arc::new(declared_non_nullable()),
        vec![Arc::new(Int64Array::from(vec![1, 2])), Arc::new(StringArray::from(vec!["a", "b"]))],
    )
    .unwrap();
    let (array, schema) = crossing(&clean, &declared_non_nullable());
    let batch = import_batch_from(array, &schema, Validation::Default, Nullability::Relax).unwrap();
    assert_eq!(batch, clean);
    assert!(batch.columns().iter().all(|c| c.null_count() == 0));
}

// ---------------------------------------------------------------------------------------------------
// A map whose entries field or key field is marked nullable (which the format's Schema.fbs forbids):
// refused at Full, as arrow-rs's `validate_full` refuses it, naming the field; accepted below Full, as
// Arrow C++ accepts it (DuckDB exported such maps until duckdb/duckdb#15733, nanoarrow until
// apache/arrow-nanoarrow#106).

/// `[{a: 1, b: 2}, null, {}]`, a map of utf8 keys to int32 values whose type marks the entries field
/// and the key field nullable as asked: built unchecked, as a producer may hand it over.
fn map_data(entries_nullable: bool, key_nullable: bool) -> ArrayData {
    let kv = Fields::from(vec![Field::new("key", DataType::Utf8, key_nullable), Field::new("value", DataType::Int32, true)]);
    let columns: Vec<ArrayRef> = vec![Arc::new(StringArray::from(vec!["a", "b"])), Arc::new(Int32Array::from(vec![1, 2]))];
    let entries = StructArray::new(kv.clone(), columns, None);
    let entries_field = Field::new("entries", DataType::Struct(kv), entries_nullable);
    let builder = ArrayData::builder(DataType::Map(Arc::new(entries_field), false))
        .len(3)
        .add_buffer(Buffer::from_slice_ref([0i32, 2, 2, 2]))
        .null_bit_buffer(Some(Buffer::from([0b101u8])))
        .add_child_data(entries.into_data());
    // SAFETY: every buffer and child is as long as the map needs; only the nullable flags are off.
    unsafe { builder.build_unchecked() }
}

/// `map` as the only field of a three-element struct.
fn in_a_struct(map: ArrayData) -> ArrayData {
    let fields = Fields::from(vec![Field::new("m", map.data_type().clone(), true)]);
    let builder = ArrayData::builder(DataType::Struct(fields)).len(3).add_child_data(map);
    // SAFETY: the child is as long as the struct.
    unsafe { builder.build_unchecked() }
}

/// `data` exported by arrow-rs's `ffi`, moved into our struct.
fn exported_by_arrow_rs(data: &ArrayData) -> FFI_ArrowArray {
    let mut array = arrow::ffi::FFI_ArrowArray::new(data);
    // SAFETY: layout-identical `repr(C)` structs; `from_raw` leaves arrow-rs's released.
    unsafe { FFI_ArrowArray::from_raw((&mut array as *mut arrow::ffi::FFI_ArrowArray).cast()) }
}

/// What arrow-rs's own `ffi` import and `validate_full` say of `data` crossing the interface.
fn arrow_rs_validate_full(data: &ArrayData) -> Result<(), String> {
    let array = arrow::ffi::FFI_ArrowArray::new(data);
    // SAFETY: a struct arrow-rs just exported, of that type.
    let imported = unsafe { arrow::ffi::from_ffi_and_data_type(array, data.data_type().clone()) }.map_err(|e| e.to_string())?;
    imported.validate_full().map_err(|e| e.to_string())
}

#[test]
fn a_map_with_nullable_entries_or_keys_is_refused_at_full_naming_the_field() {
    let cases = [
        (map_data(true, false), "array.children[0]: a map's entries field \"entries\" is marked nullable"),
        (map_data(false, true), "array.children[0].children[0]: a map's key field \"key\" is marked nullable"),
        (in_a_struct(map_data(true, false)), "array.children[0].children[0]: a map's entries field \"entries\" is marked nullable"),
        (in_a_struct(map_data(false, true)), "array.children[0].children[0].children[0]: a map's key field \"key\" is marked nullable"),
    ];
    for (data, message) in cases {
        let truth = arrow_rs_validate_full(&data);
        assert!(truth.is_err(), "arrow-rs's validate_full refuses {:?}", data.data_type());
        let error = import_array_data(exported_by_arrow_rs(&data), data.data_type(), Validation::Full).unwrap_err();
        assert_eq!(error.to_string(), message, "arrow-rs says: {}", truth.unwrap_err());
        for validation in [Validation::Minimal, Validation::Default] {
            let imported = import_array_data(exported_by_arrow_rs(&data), data.data_type(), validation).unwrap();
            assert_eq!(imported, data, "{validation:?}");
        }
    }
}

#[test]
fn a_map_as_the_format_defines_it_is_accepted_at_every_level() {
    for data in [map_data(false, false), in_a_struct(map_data(false, false))] {
        arrow_rs_validate_full(&data).unwrap();
        for validation in [Validation::Minimal, Validation::Default, Validation::Full] {
            let imported = import_array_data(exported_by_arrow_rs(&data), data.data_type(), validation).unwrap();
            assert_eq!(imported, data, "{validation:?}");
        }
    }
}
