//! The device capsules inside an embedded interpreter: names, the CPU fields, extraction from an
//! object with only the device methods, keyword arguments, non-CPU refusal, single consumption.
//! (pyarrow and Arrow C++ as peers are tested by python/tests/test_device*.py.)

use std::ffi::CString;
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, Int32Array, RecordBatch, RecordBatchIterator};
use arrow_cabi::device::FFI_ArrowDeviceArray;
use arrow_cabi_pyo3::*;
use arrow_schema::{DataType, Field, Schema};
use pyo3::exceptions::{PyNotImplementedError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

fn with_python<R>(f: impl for<'py> FnOnce(Python<'py>) -> R) -> R {
    Python::initialize();
    Python::attach(f)
}

fn batch() -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Int32, true)]));
    RecordBatch::try_new(schema, vec![Arc::new(Int32Array::from(vec![Some(1), None, Some(3)]))]).unwrap()
}

/// A Python object whose only protocol method is `method`, returning `value`.
fn only<'py>(py: Python<'py>, method: &str, value: Bound<'py, PyAny>) -> Bound<'py, PyAny> {
    let code = CString::new(format!(
        "class Only:\n    def __init__(self, value):\n        self.value = value\n    def {method}(self, requested_schema=None, **kwargs):\n        return self.value\n"
    ))
    .unwrap();
    let namespace = PyDict::new(py);
    py.run(&code, None, Some(&namespace)).unwrap();
    namespace.get_item("Only").unwrap().unwrap().call1((value,)).unwrap()
}

#[test]
fn device_array_pairs_are_cpu_and_extract_from_device_only_objects() {
    with_python(|py| {
        let field = Arc::new(Field::new("x", DataType::Int32, true));
        let array: ArrayRef = Arc::new(Int32Array::from(vec![Some(1), None]));
        let pair = array_to_device_capsules(py, &field, &array, None).unwrap();
        let (_, device): (Bound<'_, PyAny>, Bound<'_, PyAny>) = pair.extract().unwrap();
        let taken = take_from_capsule::<FFI_ArrowDeviceArray>(&device).unwrap();
        assert_eq!((taken.device_type().value(), taken.device_id()), (1, -1));
        drop(taken);

        let pair = array_to_device_capsules(py, &field, &array, None).unwrap();
        let back = PyArray::extract_with(&only(py, "__arrow_c_device_array__", pair.into_any()), Validation::Full).unwrap();
        assert_eq!(back.array.to_data(), array.to_data());

        let pair = batch_to_device_capsules(py, &batch(), None).unwrap();
        let back = PyRecordBatch::extract_with(&only(py, "__arrow_c_device_array__", pair.into_any()), Validation::Full).unwrap();
        assert_eq!(back.into_inner(), batch());
    });
}

#[test]
fn a_non_cpu_device_array_is_a_value_error_naming_it() {
    with_python(|py| {
        let field = Arc::new(Field::new("x", DataType::Int32, true));
        let array: ArrayRef = Arc::new(Int32Array::from(vec![1, 2]));
        let pair = array_to_device_capsules(py, &field, &array, None).unwrap();
        let (schema, device): (Bound<'_, PyAny>, Bound<'_, PyAny>) = pair.extract().unwrap();
        let mut taken = take_from_capsule::<FFI_ArrowDeviceArray>(&device).unwrap();
        // SAFETY: only the declared device type of our own unreleased export changes.
        unsafe { (*taken.as_mut_ptr()).device_type = 2 };
        let cuda = new_capsule(py, taken).unwrap();
        let pair = PyTuple::new(py, [schema, cuda.into_any()]).unwrap();
        let error = PyArray::extract_with(&only(py, "__arrow_c_device_array__", pair.into_any()), Validation::Default).unwrap_err();
        assert!(error.is_instance_of::<PyValueError>(py));
        assert!(error.to_string().contains("device_array.device_type: the buffers are in CUDA (2) memory"), "{error}");
    });
}

#[test]
fn device_streams_extract_once_from_the_capsule_or_a_device_only_object() {
    with_python(|py| {
        let reader = || Box::new(RecordBatchIterator::new(vec![Ok(batch())], batch().schema()));
        let capsule = reader_to_device_capsule(py, reader(), None).unwrap();
        let read = |object: &Bound<'_, PyAny>| -> PyResult<Vec<RecordBatch>> {
            let reader = PyRecordBatchReader::extract_with(object, Validation::Full)?.into_reader();
            Ok(reader.collect::<Result<_, _>>().unwrap())
        };
        assert_eq!(read(capsule.as_any()).unwrap(), vec![batch()]);
        let again = read(capsule.as_any()).unwrap_err();
        assert!(again.to_string().contains("already consumed"), "{again}");

        let capsule = reader_to_device_capsule(py, reader(), None).unwrap();
        assert_eq!(read(&only(py, "__arrow_c_device_stream__", capsule.into_any())).unwrap(), vec![batch()]);
    });
}

#[test]
fn device_keyword_arguments_are_accepted_only_at_none() {
    with_python(|py| {
        check_device_kwargs(None).unwrap();
        let kwargs = PyDict::new(py);
        kwargs.set_item("future", py.None()).unwrap();
        check_device_kwargs(Some(&kwargs)).unwrap();
        kwargs.set_item("copy", true).unwrap();
        let error = check_device_kwargs(Some(&kwargs)).unwrap_err();
        assert!(error.is_instance_of::<PyNotImplementedError>(py));
        assert_eq!(error.value(py).to_string(), "Received unsupported keyword argument(s): ['copy']");
    });
}
