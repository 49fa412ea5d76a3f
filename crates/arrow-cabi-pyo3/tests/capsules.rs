//! The capsule layer inside an embedded interpreter: round trips, single consumption, wrong names,
//! destructors of unconsumed capsules, requested-schema casts. (Peers are tested by python/tests.)

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, Int32Array, RecordBatch, RecordBatchReader, StringViewArray};
use arrow_cabi::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use arrow_cabi::ffi_stream::FFI_ArrowArrayStream;
use arrow_cabi_pyo3::*;
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

fn with_python<R>(f: impl for<'py> FnOnce(Python<'py>) -> R) -> R {
    Python::initialize();
    Python::attach(f)
}

fn batch() -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Int32, true)]));
    RecordBatch::try_new(
        schema,
        vec![Arc::new(Int32Array::from(vec![Some(1), None, Some(3)]))],
    )
    .unwrap()
}

#[test]
fn field_round_trip_and_single_consumption() {
    with_python(|py| {
        let field = Field::new("f", DataType::Utf8, false);
        let capsule = field_to_capsule(py, &field).unwrap();
        let back = PyField::extract_with(capsule.as_any(), Validation::Default).unwrap();
        assert_eq!(back.into_inner().as_ref(), &field);
        let again = PyField::extract_with(capsule.as_any(), Validation::Default).unwrap_err();
        assert!(again.is_instance_of::<PyValueError>(py));
        assert!(again.to_string().contains("already consumed"), "{again}");
    });
}

#[test]
fn array_and_batch_round_trip() {
    with_python(|py| {
        let field = Arc::new(Field::new("x", DataType::Int32, true));
        let array: ArrayRef = Arc::new(Int32Array::from(vec![Some(1), None]));
        let pair = array_to_capsules(py, &field, &array, None).unwrap();
        let back = PyArray::extract_with(pair.as_any(), Validation::Full).unwrap();
        assert_eq!(back.array.to_data(), array.to_data());
        assert_eq!(back.field, field);

        let pair = batch_to_capsules(py, &batch(), None).unwrap();
        let back: PyRecordBatch = pair.extract().unwrap();
        assert_eq!(back.into_inner(), batch());
    });
}

#[test]
fn stream_round_trip() {
    with_python(|py| {
        let capsule =
            batches_to_capsule(py, batch().schema(), vec![batch(), batch()], None).unwrap();
        let reader: PyRecordBatchReader = capsule.extract().unwrap();
        assert_eq!(reader.schema(), batch().schema());
        let batches: Vec<_> = reader.into_reader().collect::<Result<_, _>>().unwrap();
        assert_eq!(batches, vec![batch(), batch()]);
        let again = capsule.extract::<PyRecordBatchReader>().unwrap_err();
        assert!(again.is_instance_of::<PyValueError>(py));
    });
}

#[test]
fn wrong_names_and_non_capsules_are_type_errors() {
    with_python(|py| {
        let schema = field_to_capsule(py, &Field::new("f", DataType::Int8, true)).unwrap();
        let error = take_from_capsule::<FFI_ArrowArray>(schema.as_any()).unwrap_err();
        assert!(error.is_instance_of::<PyTypeError>(py));
        assert!(
            error
                .to_string()
                .contains("named 'arrow_array', got a capsule named 'arrow_schema'"),
            "{error}"
        );
        // the wrong-name attempt consumed nothing
        take_from_capsule::<FFI_ArrowSchema>(schema.as_any()).unwrap();

        let number = 5_i32.into_pyobject(py).unwrap();
        let error = take_from_capsule::<FFI_ArrowArrayStream>(number.as_any()).unwrap_err();
        assert!(error.is_instance_of::<PyTypeError>(py));
        let error = number.extract::<PyRecordBatchReader>().unwrap_err();
        assert!(error.to_string().contains("__arrow_c_stream__"), "{error}");
        let tuple = PyTuple::new(py, [1, 2]).unwrap();
        assert!(PyArray::extract_with(tuple.as_any(), Validation::Default)
            .unwrap_err()
            .is_instance_of::<PyTypeError>(py));
    });
}

struct Flagged {
    inner: Box<dyn RecordBatchReader + Send>,
    dropped: Arc<AtomicBool>,
}

impl Iterator for Flagged {
    type Item = Result<RecordBatch, ArrowError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next()
    }
}

impl RecordBatchReader for Flagged {
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }
}

impl Drop for Flagged {
    fn drop(&mut self) {
        self.dropped.store(true, Ordering::SeqCst);
    }
}

#[test]
fn an_unconsumed_capsule_releases_its_stream() {
    with_python(|py| {
        let dropped = Arc::new(AtomicBool::new(false));
        let inner = Box::new(arrow_array::RecordBatchIterator::new(
            vec![Ok(batch())],
            batch().schema(),
        ));
        let reader = Flagged {
            inner,
            dropped: dropped.clone(),
        };
        let capsule = reader_to_capsule(py, Box::new(reader), None).unwrap();
        assert!(!dropped.load(Ordering::SeqCst));
        drop(capsule);
        assert!(dropped.load(Ordering::SeqCst));
    });
}

#[test]
fn requested_schema_casts_views_and_refuses_the_impossible() {
    with_python(|py| {
        let field = Arc::new(Field::new("s", DataType::Utf8View, true));
        let array: ArrayRef = Arc::new(StringViewArray::from(vec![Some("a"), None]));
        let request = field_to_capsule(py, &Field::new("s", DataType::Utf8, true)).unwrap();
        let pair = array_to_capsules(py, &field, &array, Some(request.as_any())).unwrap();
        let back = PyArray::extract_with(pair.as_any(), Validation::Full).unwrap();
        assert_eq!(back.field.data_type(), &DataType::Utf8);
        assert_eq!(back.array.len(), 2);
        // the request capsule is only read, never consumed
        take_from_capsule::<FFI_ArrowSchema>(request.as_any()).unwrap();

        let request = field_to_capsule(
            py,
            &Field::new("s", DataType::Struct(Default::default()), true),
        )
        .unwrap();
        let error = array_to_capsules(py, &field, &array, Some(request.as_any())).unwrap_err();
        assert!(error.is_instance_of::<PyTypeError>(py), "{error}");

        let two = Schema::new(vec![
            Field::new("a", DataType::Int32, true),
            Field::new("b", DataType::Int32, true),
        ]);
        let request = schema_to_capsule(py, &two).unwrap();
        let error = batch_to_capsules(py, &batch(), Some(request.as_any())).unwrap_err();
        assert!(error.is_instance_of::<PyValueError>(py), "{error}");
    });
}
