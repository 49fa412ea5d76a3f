//! The Arrow PyCapsule protocol for PyO3 extension authors, on arrow-cabi.
//!
//! **Taking data from Python.** [`PyField`], [`PySchema`], [`PyArray`], [`PyRecordBatch`] and
//! [`PyRecordBatchReader`] extract (`FromPyObject`, at [`Validation::Default`]) from any object with
//! `__arrow_c_schema__`, `__arrow_c_array__` or `__arrow_c_stream__` — pyarrow, polars, duckdb,
//! nanoarrow, arro3 — or from a bare capsule of the right name. `extract_with(obj, validation)` picks
//! the validation level. Each capsule is checked by name (`PyCapsule_IsValid`), and its struct is moved
//! out, leaving `release == NULL` behind, so the capsule's own destructor only frees it; a capsule can be
//! consumed once, and a second attempt raises ValueError.
//!
//! **Handing data to Python.** [`field_to_capsule`], [`schema_to_capsule`], [`array_to_capsules`],
//! [`batch_to_capsules`] and [`reader_to_capsule`] make the capsules that an extension's
//! `__arrow_c_schema__`, `__arrow_c_array__` and `__arrow_c_stream__` return, honouring
//! `requested_schema` where arrow-cast can cast the data (see [`cast`]). The capsule owns a heap copy
//! of the struct; its destructor calls `release` if no consumer moved the struct out, then frees it
//! (see [`capsule`] for why the raw `PyCapsule_New` is used).
//!
//! **Device data.** [`device`] does the same for `__arrow_c_device_array__` and
//! `__arrow_c_device_stream__` (CPU device arrays and streams; other device types are refused by
//! name), and the extractors above fall back to those methods for an object that has only them.
//!
//! Nothing here panics on bad input: not a capsule, a wrong name, a consumed capsule, a malformed
//! struct, a method that is missing or returns the wrong thing — each is a Python exception (TypeError
//! for the wrong kind of object, ValueError for bad or consumed data) carrying arrow-cabi's message.
//!
//! ```ignore
//! #[pyfunction]
//! fn row_count(reader: PyRecordBatchReader) -> PyResult<usize> {
//!     let mut rows = 0;
//!     for batch in reader.into_reader() {
//!         rows += batch.map_err(to_py_err)?.num_rows();
//!     }
//!     Ok(rows)
//! }
//! ```

pub mod capsule;
pub mod cast;
pub mod device;

use std::fmt::Display;
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, RecordBatchIterator, RecordBatchReader};
use arrow_cabi::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use arrow_cabi::ffi_stream::{RecordBatchStreamReader, FFI_ArrowArrayStream};
use arrow_cabi::Nullability;
use arrow_schema::{Field, FieldRef, Schema, SchemaRef};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyTuple};

pub use arrow_cabi::Validation;
pub use capsule::{
    new_capsule, take_from_capsule, ARRAY_CAPSULE_NAME, DEVICE_ARRAY_CAPSULE_NAME, DEVICE_STREAM_CAPSULE_NAME,
    SCHEMA_CAPSULE_NAME, STREAM_CAPSULE_NAME,
};
pub use device::{
    array_to_device_capsules, batch_to_device_capsules, check_device_kwargs, reader_to_device_capsule,
};

/// Turns an arrow-cabi or arrow-rs error into a Python ValueError carrying its message.
pub fn to_py_err<E: Display>(error: E) -> PyErr {
    PyValueError::new_err(error.to_string())
}

/// Parses a validation level named as in Python: `"minimal"`, `"default"` or `"full"`.
pub fn parse_validation(name: &str) -> PyResult<Validation> {
    match name.to_ascii_lowercase().as_str() {
        "minimal" => Ok(Validation::Minimal),
        "default" => Ok(Validation::Default),
        "full" => Ok(Validation::Full),
        _ => Err(PyValueError::new_err(format!(
            "validate must be 'minimal', 'default' or 'full', got '{name}'"
        ))),
    }
}

/// Parses the `nullability` argument of the Python API: `"enforce"` (nulls in a non-nullable
/// column are an error) or `"relax"` (such columns are imported as nullable).
pub fn parse_nullability(name: &str) -> PyResult<Nullability> {
    match name.to_ascii_lowercase().as_str() {
        "enforce" => Ok(Nullability::Enforce),
        "relax" => Ok(Nullability::Relax),
        _ => Err(PyValueError::new_err(format!("nullability must be 'enforce' or 'relax', got '{name}'"))),
    }
}

/// Calls the protocol method `method` of `object` with no arguments, or returns `object` itself when it
/// already is a capsule. TypeError when the object has no such method.
fn call_protocol<'py>(object: &Bound<'py, PyAny>, method: &str) -> PyResult<Bound<'py, PyAny>> {
    if object.is_instance_of::<PyCapsule>() {
        return Ok(object.clone());
    }
    if !object.hasattr(method)? {
        let type_name = object
            .get_type()
            .name()
            .map_or_else(|_| "?".to_owned(), |n| n.to_string());
        return Err(PyTypeError::new_err(format!(
            "expected an object with {method} (the Arrow PyCapsule protocol), got an object of type '{type_name}'"
        )));
    }
    object.call_method0(method)
}

/// Takes the `(schema capsule, array capsule)` pair of `__arrow_c_array__` (or the tuple itself).
fn take_array_pair(object: &Bound<'_, PyAny>) -> PyResult<(FFI_ArrowSchema, FFI_ArrowArray)> {
    if !object.is_instance_of::<PyTuple>() && !object.hasattr("__arrow_c_array__")? && object.hasattr("__arrow_c_device_array__")? {
        return device::take_device_array_pair(object);
    }
    let pair = if object.is_instance_of::<PyTuple>() {
        object.clone()
    } else {
        call_protocol(object, "__arrow_c_array__")?
    };
    let (schema, array): (Bound<'_, PyAny>, Bound<'_, PyAny>) = pair.extract().map_err(|_| {
        PyTypeError::new_err(
            "__arrow_c_array__ must return a tuple of two capsules (arrow_schema, arrow_array)",
        )
    })?;
    // Check both names before moving anything out, so a wrong pair consumes neither.
    capsule::check::<FFI_ArrowSchema>(&schema)?;
    capsule::check::<FFI_ArrowArray>(&array)?;
    let schema = take_from_capsule::<FFI_ArrowSchema>(&schema)?;
    let array = take_from_capsule::<FFI_ArrowArray>(&array)?;
    Ok((schema, array))
}

/// Implements `FromPyObject` at [`Validation::Default`] through the type's `extract_with`.
macro_rules! from_py_object {
    ($($type:ty),+) => {$(
        impl<'a, 'py> FromPyObject<'a, 'py> for $type {
            type Error = PyErr;
            fn extract(object: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
                <$type>::extract_with(&object, Validation::Default)
            }
        }
    )+};
}

/// A field from any object with `__arrow_c_schema__` (or an `arrow_schema` capsule).
#[derive(Debug, Clone)]
pub struct PyField(pub FieldRef);

impl PyField {
    /// Takes the schema capsule of `object` and imports it as a field. `validation` is unused (a schema
    /// is always fully checked) and kept so all types extract alike.
    pub fn extract_with(object: &Bound<'_, PyAny>, _validation: Validation) -> PyResult<Self> {
        let capsule = call_protocol(object, "__arrow_c_schema__")?;
        let schema = take_from_capsule::<FFI_ArrowSchema>(&capsule)?;
        Ok(PyField(Arc::new(
            Field::try_from(&schema).map_err(to_py_err)?,
        )))
    }

    /// The field.
    pub fn into_inner(self) -> FieldRef {
        self.0
    }
}

/// A schema (a struct `+s` at the top, whose metadata is the schema's) from any object with
/// `__arrow_c_schema__` (or an `arrow_schema` capsule).
#[derive(Debug, Clone)]
pub struct PySchema(pub SchemaRef);

/// The name the issue uses for [`PySchema`].
pub type PyArrowSchema = PySchema;

impl PySchema {
    /// Takes the schema capsule of `object` and imports it as a schema; ValueError if it is not a struct.
    pub fn extract_with(object: &Bound<'_, PyAny>, _validation: Validation) -> PyResult<Self> {
        let capsule = call_protocol(object, "__arrow_c_schema__")?;
        let schema = take_from_capsule::<FFI_ArrowSchema>(&capsule)?;
        Ok(PySchema(Arc::new(
            Schema::try_from(&schema).map_err(to_py_err)?,
        )))
    }

    /// The schema.
    pub fn into_inner(self) -> SchemaRef {
        self.0
    }
}

/// An array and its field from any object with `__arrow_c_array__` (or the capsule pair).
/// Zero-copy: the array's buffers are the producer's, released when the last of them is dropped.
#[derive(Debug, Clone)]
pub struct PyArray {
    /// The field: name, type, nullability and metadata (extension types included).
    pub field: FieldRef,
    /// The data.
    pub array: ArrayRef,
}

impl PyArray {
    /// Takes both capsules of `object.__arrow_c_array__()` and imports them, checked at `validation`.
    pub fn extract_with(object: &Bound<'_, PyAny>, validation: Validation) -> PyResult<Self> {
        let (schema, array) = take_array_pair(object)?;
        let (field, array) =
            arrow_cabi::import_array(array, &schema, validation).map_err(to_py_err)?;
        Ok(PyArray {
            field: Arc::new(field),
            array,
        })
    }

    /// The field and the array.
    pub fn into_inner(self) -> (FieldRef, ArrayRef) {
        (self.field, self.array)
    }
}

/// A record batch from any object whose `__arrow_c_array__` gives a struct array with no top-level
/// nulls (pyarrow's RecordBatch, arro3's RecordBatch, ...). The struct's metadata becomes the schema's.
#[derive(Debug, Clone)]
pub struct PyRecordBatch(pub RecordBatch);

impl PyRecordBatch {
    /// Takes both capsules of `object.__arrow_c_array__()` and imports a batch, checked at `validation`.
    pub fn extract_with(object: &Bound<'_, PyAny>, validation: Validation) -> PyResult<Self> {
        Self::extract_with_nullability(object, validation, Nullability::Enforce)
    }

    /// As [`extract_with`](Self::extract_with), with nulls in non-nullable columns treated as
    /// `nullability` says (pyarrow builds batches with them; [`Nullability::Relax`] marks those
    /// columns nullable instead of failing).
    pub fn extract_with_nullability(object: &Bound<'_, PyAny>, validation: Validation, nullability: Nullability) -> PyResult<Self> {
        let (schema, array) = take_array_pair(object)?;
        let batch = arrow_cabi::import_batch_from(array, &schema, validation, nullability).map_err(to_py_err)?;
        Ok(PyRecordBatch(batch))
    }

    /// The batch.
    pub fn into_inner(self) -> RecordBatch {
        self.0
    }
}

/// A stream of record batches from any object with `__arrow_c_stream__` (or an `arrow_array_stream`
/// capsule). Reading it calls the producer's `get_next`; each batch is checked at the chosen level.
#[derive(Debug)]
pub struct PyRecordBatchReader(pub RecordBatchStreamReader);

/// The name the issue uses for [`PyRecordBatchReader`].
pub type PyStream = PyRecordBatchReader;

impl PyRecordBatchReader {
    /// Takes the stream capsule of `object.__arrow_c_stream__()` and reads its schema; batches will be
    /// checked at `validation`.
    pub fn extract_with(object: &Bound<'_, PyAny>, validation: Validation) -> PyResult<Self> {
        Self::extract_with_nullability(object, validation, Nullability::Enforce)
    }

    /// As [`extract_with`](Self::extract_with), with nulls in non-nullable columns treated as
    /// `nullability` says.
    pub fn extract_with_nullability(object: &Bound<'_, PyAny>, validation: Validation, nullability: Nullability) -> PyResult<Self> {
        let stream = if device::has_only_device_stream(object)? {
            device::take_device_stream(object)?
        } else {
            let capsule = call_protocol(object, "__arrow_c_stream__")?;
            take_from_capsule::<FFI_ArrowArrayStream>(&capsule)?
        };
        let reader = RecordBatchStreamReader::with_options(stream, validation, nullability).map_err(to_py_err)?;
        Ok(PyRecordBatchReader(reader))
    }

    /// The stream's schema.
    pub fn schema(&self) -> SchemaRef {
        self.0.schema()
    }

    /// The reader, an iterator of `Result<RecordBatch, ArrowError>`.
    pub fn into_reader(self) -> RecordBatchStreamReader {
        self.0
    }
}

from_py_object!(
    PyField,
    PySchema,
    PyArray,
    PyRecordBatch,
    PyRecordBatchReader
);

/// An `arrow_schema` capsule holding `field` (name, nullability, metadata).
pub fn field_to_capsule<'py>(py: Python<'py>, field: &Field) -> PyResult<Bound<'py, PyCapsule>> {
    new_capsule(py, FFI_ArrowSchema::try_from(field).map_err(to_py_err)?)
}

/// An `arrow_schema` capsule holding `schema`, as a struct (`+s`) carrying the schema's metadata.
pub fn schema_to_capsule<'py>(py: Python<'py>, schema: &Schema) -> PyResult<Bound<'py, PyCapsule>> {
    new_capsule(py, FFI_ArrowSchema::try_from(schema).map_err(to_py_err)?)
}

/// The `(arrow_schema, arrow_array)` capsule pair of `array` with `field`, cast to `requested_schema`
/// (a schema capsule or `None`) when one is given and differs. Zero-copy when no cast is needed.
pub fn array_to_capsules<'py>(
    py: Python<'py>,
    field: &FieldRef,
    array: &ArrayRef,
    requested_schema: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyTuple>> {
    let (array, schema) = export_array_pair(field, array, requested_schema)?;
    let schema = new_capsule(py, schema)?;
    let array = new_capsule(py, array)?;
    PyTuple::new(py, [schema.into_any(), array.into_any()])
}

/// The `(arrow_schema, arrow_array)` capsule pair of `batch` as a struct array, cast by position to
/// `requested_schema` when one is given and differs.
pub fn batch_to_capsules<'py>(
    py: Python<'py>,
    batch: &RecordBatch,
    requested_schema: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyTuple>> {
    let (array, schema) = export_batch_pair(batch, requested_schema)?;
    let schema = new_capsule(py, schema)?;
    let array = new_capsule(py, array)?;
    PyTuple::new(py, [schema.into_any(), array.into_any()])
}

/// An `arrow_array_stream` capsule that streams `reader`, each batch cast by position to
/// `requested_schema` when one is given and differs. The request is checked here (field count and
/// castable types); a cast that fails on a batch's values is reported by the stream's `get_next`.
pub fn reader_to_capsule<'py>(
    py: Python<'py>,
    reader: Box<dyn RecordBatchReader + Send>,
    requested_schema: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyCapsule>> {
    new_capsule(py, export_reader(reader, requested_schema)?)
}

/// The array and schema of `array` with `field`, cast to `requested_schema` as
/// [`array_to_capsules`] does: what both that and the device export hand over.
pub(crate) fn export_array_pair(
    field: &FieldRef,
    array: &ArrayRef,
    requested_schema: Option<&Bound<'_, PyAny>>,
) -> PyResult<(FFI_ArrowArray, FFI_ArrowSchema)> {
    let requested = cast::requested_field(requested_schema)?;
    let (field, array) = cast::cast_array(field, array, requested)?;
    arrow_cabi::export_array(&array, &field).map_err(to_py_err)
}

/// The struct array and schema of `batch`, cast to `requested_schema` as [`batch_to_capsules`] does.
pub(crate) fn export_batch_pair(
    batch: &RecordBatch,
    requested_schema: Option<&Bound<'_, PyAny>>,
) -> PyResult<(FFI_ArrowArray, FFI_ArrowSchema)> {
    let requested = cast::requested_schema(requested_schema)?;
    let batch = match cast::plan_batch_cast(batch.schema_ref(), requested)? {
        None => batch.clone(),
        Some(target) => cast::cast_batch(batch, &target).map_err(|e| {
            PyValueError::new_err(format!("cannot cast to the requested schema: {e}"))
        })?,
    };
    let schema = FFI_ArrowSchema::try_from(batch.schema_ref().as_ref()).map_err(to_py_err)?;
    Ok((FFI_ArrowArray::from_batch(batch), schema))
}

/// The stream of `reader`, cast to `requested_schema` as [`reader_to_capsule`] does.
pub(crate) fn export_reader(
    reader: Box<dyn RecordBatchReader + Send>,
    requested_schema: Option<&Bound<'_, PyAny>>,
) -> PyResult<FFI_ArrowArrayStream> {
    Ok(FFI_ArrowArrayStream::new(cast_reader(reader, requested_schema)?))
}

/// `reader`, cast batch by batch to `requested_schema` when one is given and differs.
pub(crate) fn cast_reader(
    reader: Box<dyn RecordBatchReader + Send>,
    requested_schema: Option<&Bound<'_, PyAny>>,
) -> PyResult<Box<dyn RecordBatchReader + Send>> {
    let requested = cast::requested_schema(requested_schema)?;
    Ok(match cast::plan_batch_cast(&reader.schema(), requested)? {
        None => reader,
        Some(target) => Box::new(cast::CastReader {
            inner: reader,
            target,
        }),
    })
}

/// An `arrow_array_stream` capsule that streams `batches` with `schema` (see [`reader_to_capsule`]).
pub fn batches_to_capsule<'py>(
    py: Python<'py>,
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
    requested_schema: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyCapsule>> {
    let reader = RecordBatchIterator::new(batches.into_iter().map(Ok), schema);
    reader_to_capsule(py, Box::new(reader), requested_schema)
}
