//! The device methods of the PyCapsule protocol: `__arrow_c_device_array__` and
//! `__arrow_c_device_stream__`, for CPU data.
//!
//! Export hands over CPU device arrays and streams (device_type CPU, device_id -1): the same
//! structs as the plain methods, wrapped zero-copy. Import takes what the host can read: a device
//! array or stream of any other device type is a ValueError naming it (the struct is released).
//! As the protocol asks, keyword arguments other than `requested_schema` are accepted only at
//! their default, `None` ([`check_device_kwargs`], which raises NotImplementedError as pyarrow does).

use arrow_array::{ArrayRef, RecordBatch, RecordBatchReader};
use arrow_cabi::device::{FFI_ArrowDeviceArray, FFI_ArrowDeviceArrayStream};
use arrow_cabi::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use arrow_cabi::ffi_stream::FFI_ArrowArrayStream;
use arrow_schema::FieldRef;
use pyo3::exceptions::{PyNotImplementedError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyDict, PyList, PyTuple};

use crate::capsule::{check, new_capsule, take_from_capsule};
use crate::to_py_err;

/// Raises NotImplementedError (as pyarrow does) when any keyword argument of a device method is
/// not `None`: the protocol reserves them for future use, and a consumer that sets one expects
/// behaviour this producer does not have.
pub fn check_device_kwargs(kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<()> {
    let Some(kwargs) = kwargs else { return Ok(()) };
    let set: Vec<Bound<'_, PyAny>> = kwargs.iter().filter(|(_, value)| !value.is_none()).map(|(name, _)| name).collect();
    if set.is_empty() {
        return Ok(());
    }
    // pyarrow's message, with the names as a Python list.
    let names = PyList::new(kwargs.py(), set)?.repr()?;
    Err(PyNotImplementedError::new_err(format!("Received unsupported keyword argument(s): {names}")))
}

/// The `(arrow_schema, arrow_device_array)` capsule pair of `array` with `field`, cast to
/// `requested_schema` as [`array_to_capsules`](crate::array_to_capsules) does; a CPU device array.
pub fn array_to_device_capsules<'py>(
    py: Python<'py>,
    field: &FieldRef,
    array: &ArrayRef,
    requested_schema: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyTuple>> {
    let (array, schema) = crate::export_array_pair(field, array, requested_schema)?;
    device_pair(py, array, schema)
}

/// The `(arrow_schema, arrow_device_array)` capsule pair of `batch` as a struct array, cast to
/// `requested_schema` as [`batch_to_capsules`](crate::batch_to_capsules) does; a CPU device array.
pub fn batch_to_device_capsules<'py>(
    py: Python<'py>,
    batch: &RecordBatch,
    requested_schema: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyTuple>> {
    let (array, schema) = crate::export_batch_pair(batch, requested_schema)?;
    device_pair(py, array, schema)
}

/// An `arrow_device_array_stream` capsule streaming `reader` as CPU device arrays, cast to
/// `requested_schema` as [`reader_to_capsule`](crate::reader_to_capsule) does.
pub fn reader_to_device_capsule<'py>(
    py: Python<'py>,
    reader: Box<dyn RecordBatchReader + Send>,
    requested_schema: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyCapsule>> {
    new_capsule(py, FFI_ArrowDeviceArrayStream::new(crate::cast_reader(reader, requested_schema)?))
}

fn device_pair<'py>(py: Python<'py>, array: FFI_ArrowArray, schema: FFI_ArrowSchema) -> PyResult<Bound<'py, PyTuple>> {
    let schema = new_capsule(py, schema)?;
    let array = new_capsule(py, FFI_ArrowDeviceArray::from_host(array))?;
    PyTuple::new(py, [schema.into_any(), array.into_any()])
}

/// Takes the pair of `object.__arrow_c_device_array__()` and hands over the schema and the
/// embedded array, if it is in host memory (CPU); any other device type is a ValueError naming it.
pub(crate) fn take_device_array_pair(object: &Bound<'_, PyAny>) -> PyResult<(FFI_ArrowSchema, FFI_ArrowArray)> {
    let pair = object.call_method0("__arrow_c_device_array__")?;
    let (schema, array): (Bound<'_, PyAny>, Bound<'_, PyAny>) = pair.extract().map_err(|_| {
        PyTypeError::new_err("__arrow_c_device_array__ must return a tuple of two capsules (arrow_schema, arrow_device_array)")
    })?;
    check::<FFI_ArrowSchema>(&schema)?;
    check::<FFI_ArrowDeviceArray>(&array)?;
    let schema = take_from_capsule::<FFI_ArrowSchema>(&schema)?;
    let array = take_from_capsule::<FFI_ArrowDeviceArray>(&array)?;
    Ok((schema, array.into_host_array().map_err(to_py_err)?))
}

/// Whether `object` offers a device stream but no plain one (or is an `arrow_device_array_stream`
/// capsule): the extractors then take the device stream.
pub(crate) fn has_only_device_stream(object: &Bound<'_, PyAny>) -> PyResult<bool> {
    if object.is_instance_of::<PyCapsule>() {
        // A consumed device stream capsule (ValueError) is still one: taking it raises the right error.
        return Ok(match check::<FFI_ArrowDeviceArrayStream>(object) {
            Ok(()) => true,
            Err(error) => error.is_instance_of::<PyValueError>(object.py()),
        });
    }
    Ok(!object.hasattr("__arrow_c_stream__")? && object.hasattr("__arrow_c_device_stream__")?)
}

/// Takes the device stream of `object` (its `__arrow_c_device_stream__`, or the capsule itself)
/// as a plain stream, if it declares CPU; any other device type is a ValueError naming it.
pub(crate) fn take_device_stream(object: &Bound<'_, PyAny>) -> PyResult<FFI_ArrowArrayStream> {
    let capsule = if object.is_instance_of::<PyCapsule>() {
        object.clone()
    } else {
        object.call_method0("__arrow_c_device_stream__")?
    };
    let stream = take_from_capsule::<FFI_ArrowDeviceArrayStream>(&capsule)?;
    stream.into_host_stream().map_err(to_py_err)
}
