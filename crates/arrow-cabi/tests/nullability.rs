//! `Nullability::Relax`: a producer (here arrow-rs's `ffi`, as pyarrow does it) hands over a batch whose
//! schema marks columns non-nullable that hold nulls. Enforced (the default) it is an error naming the
//! column; relaxed, the columns come back nullable with the producer's values.

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, Int32Array, Int64Array, RecordBatch, StringArray, StructArray};
use arrow_cabi::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use arrow_cabi::{import_batch_from, Nullability, Validation};
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
