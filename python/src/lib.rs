//! The `arrow_cabi` Python module: Arrow data through the PyCapsule protocol, on arrow-cabi.
//!
//! Four classes — `Schema`, `Array`, `RecordBatch`, `RecordBatchReader` — that take data from any
//! object implementing the protocol (`from_arrow`, the device methods too) and give it to any consumer
//! (`__arrow_c_schema__`, `__arrow_c_array__`, `__arrow_c_stream__`, and the CPU device methods
//! `__arrow_c_device_array__`, `__arrow_c_device_stream__`), plus `read_ipc_file` / `read_ipc_stream`.
//! The capsule work is `arrow-cabi-pyo3`'s; this crate is only the Python-facing classes.

mod check;

use std::fs::File;
use std::io::BufReader;
use std::sync::{Mutex, TryLockError};

use arrow_array::{
    Array as _, ArrayRef, RecordBatch as ArrowRecordBatch, RecordBatchOptions,
    RecordBatchReader as ArrowReader,
};
use arrow_cabi_pyo3::{
    array_to_capsules, array_to_device_capsules, batch_to_capsules, batch_to_device_capsules, check_device_kwargs,
    parse_nullability, parse_validation, reader_to_capsule, reader_to_device_capsule, schema_to_capsule, to_py_err,
    PyArray, PyRecordBatch, PyRecordBatchReader, PySchema, Validation,
};
use arrow_schema::{FieldRef, SchemaRef};
use pyo3::exceptions::{PyIndexError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyDict, PyTuple};

/// A schema: named, typed fields and metadata.
#[pyclass(module = "arrow_cabi", frozen, eq)]
struct Schema {
    inner: SchemaRef,
}

impl PartialEq for Schema {
    fn eq(&self, other: &Self) -> bool {
        self.inner == other.inner
    }
}

#[pymethods]
impl Schema {
    /// Imports a schema from any object with `__arrow_c_schema__` (or an `arrow_schema` capsule).
    #[staticmethod]
    fn from_arrow(obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(Schema {
            inner: PySchema::extract_with(obj, Validation::Default)?.into_inner(),
        })
    }

    /// An `arrow_schema` capsule (a struct, `+s`) describing this schema.
    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        schema_to_capsule(py, &self.inner)
    }

    /// The field names, in order.
    #[getter]
    fn names(&self) -> Vec<String> {
        self.inner
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }

    /// The field types, as arrow-rs writes them.
    #[getter]
    fn types(&self) -> Vec<String> {
        self.inner
            .fields()
            .iter()
            .map(|f| f.data_type().to_string())
            .collect()
    }

    fn __len__(&self) -> usize {
        self.inner.fields().len()
    }

    fn __repr__(&self) -> String {
        let fields: Vec<String> = self
            .inner
            .fields()
            .iter()
            .map(|f| format!("  {}: {}", f.name(), f.data_type()))
            .collect();
        format!("arrow_cabi.Schema\n{}", fields.join("\n"))
    }
}

/// One array and its field (name, type, nullability, metadata).
#[pyclass(module = "arrow_cabi", frozen, eq)]
struct Array {
    field: FieldRef,
    array: ArrayRef,
}

impl PartialEq for Array {
    fn eq(&self, other: &Self) -> bool {
        self.field.data_type() == other.field.data_type()
            && self.array.to_data() == other.array.to_data()
    }
}

#[pymethods]
impl Array {
    /// Imports an array from any object with `__arrow_c_array__`, checked at `validate`
    /// (`"minimal"`, `"default"` or `"full"`).
    #[staticmethod]
    #[pyo3(signature = (obj, validate = "default"))]
    fn from_arrow(obj: &Bound<'_, PyAny>, validate: &str) -> PyResult<Self> {
        let PyArray { field, array } = PyArray::extract_with(obj, parse_validation(validate)?)?;
        Ok(Array { field, array })
    }

    /// The `(arrow_schema, arrow_array)` capsule pair, cast to `requested_schema` where possible.
    #[pyo3(signature = (requested_schema = None))]
    fn __arrow_c_array__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        array_to_capsules(py, &self.field, &self.array, requested_schema.as_ref())
    }

    /// The `(arrow_schema, arrow_device_array)` capsule pair: a CPU device array (device_id -1),
    /// cast to `requested_schema` where possible. Other keyword arguments must be `None`
    /// (NotImplementedError otherwise), as the protocol asks.
    #[pyo3(signature = (requested_schema = None, **kwargs))]
    fn __arrow_c_device_array__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
        kwargs: Option<Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        check_device_kwargs(kwargs.as_ref())?;
        array_to_device_capsules(py, &self.field, &self.array, requested_schema.as_ref())
    }

    /// The field's name.
    #[getter]
    fn name(&self) -> String {
        self.field.name().clone()
    }

    /// The data type, as arrow-rs writes it.
    #[getter]
    fn r#type(&self) -> String {
        self.field.data_type().to_string()
    }

    /// The number of nulls.
    #[getter]
    fn null_count(&self) -> usize {
        self.array.null_count()
    }

    fn __len__(&self) -> usize {
        self.array.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "arrow_cabi.Array<{}>[{}]",
            self.field.data_type(),
            self.array.len()
        )
    }
}

/// A record batch: equal-length columns under a schema.
#[pyclass(module = "arrow_cabi", frozen, eq)]
struct RecordBatch {
    batch: ArrowRecordBatch,
}

impl PartialEq for RecordBatch {
    fn eq(&self, other: &Self) -> bool {
        self.batch == other.batch
    }
}

#[pymethods]
impl RecordBatch {
    /// Imports a batch from any object whose `__arrow_c_array__` gives a struct array without
    /// top-level nulls, checked at `validate` (`"minimal"`, `"default"` or `"full"`). Nulls in a
    /// column marked non-nullable are an error with `nullability="enforce"`; with `"relax"` the
    /// column is imported as nullable (pyarrow builds such batches).
    #[staticmethod]
    #[pyo3(signature = (obj, validate = "default", nullability = "enforce"))]
    fn from_arrow(obj: &Bound<'_, PyAny>, validate: &str, nullability: &str) -> PyResult<Self> {
        let (validation, nullability) = (parse_validation(validate)?, parse_nullability(nullability)?);
        Ok(RecordBatch {
            batch: PyRecordBatch::extract_with_nullability(obj, validation, nullability)?.into_inner(),
        })
    }

    /// The `(arrow_schema, arrow_array)` capsule pair of the batch as a struct array, cast to
    /// `requested_schema` where possible.
    #[pyo3(signature = (requested_schema = None))]
    fn __arrow_c_array__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        batch_to_capsules(py, &self.batch, requested_schema.as_ref())
    }

    /// The `(arrow_schema, arrow_device_array)` capsule pair of the batch as a CPU device array of
    /// its struct array, cast to `requested_schema` where possible. Other keyword arguments must be
    /// `None` (NotImplementedError otherwise).
    #[pyo3(signature = (requested_schema = None, **kwargs))]
    fn __arrow_c_device_array__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
        kwargs: Option<Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        check_device_kwargs(kwargs.as_ref())?;
        batch_to_device_capsules(py, &self.batch, requested_schema.as_ref())
    }

    /// The `arrow_schema` capsule of the batch's schema.
    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        schema_to_capsule(py, self.batch.schema_ref())
    }

    /// The schema.
    #[getter]
    fn schema(&self) -> Schema {
        Schema {
            inner: self.batch.schema(),
        }
    }

    /// The number of rows.
    #[getter]
    fn num_rows(&self) -> usize {
        self.batch.num_rows()
    }

    /// The number of columns.
    #[getter]
    fn num_columns(&self) -> usize {
        self.batch.num_columns()
    }

    /// Column `i` as an `Array` (negative counts from the end).
    fn column(&self, i: isize) -> PyResult<Array> {
        let n = self.batch.num_columns() as isize;
        let index = if i < 0 { i + n } else { i };
        if !(0..n).contains(&index) {
            return Err(PyIndexError::new_err(format!(
                "column {i} out of range for {n} columns"
            )));
        }
        let index = index as usize;
        Ok(Array {
            field: self.batch.schema_ref().fields()[index].clone(),
            array: self.batch.column(index).clone(),
        })
    }

    fn __len__(&self) -> usize {
        self.batch.num_rows()
    }

    fn __repr__(&self) -> String {
        format!(
            "arrow_cabi.RecordBatch[{} rows x {} columns]",
            self.batch.num_rows(),
            self.batch.num_columns()
        )
    }
}

type BoxedReader = Box<dyn ArrowReader + Send>;

/// A one-shot stream of record batches.
///
/// Iterating it yields `RecordBatch`es (the GIL is released while Rust reads the next batch);
/// `read_all()` drains it into a list. `__arrow_c_stream__` moves the stream out to a consumer, after
/// which the reader is closed and a second call raises. `__arrow_c_schema__` does not consume it, so a
/// consumer such as duckdb that asks for the schema first calls `__arrow_c_stream__` only once.
#[pyclass(module = "arrow_cabi", frozen)]
struct RecordBatchReader {
    schema: SchemaRef,
    inner: Mutex<Option<BoxedReader>>,
}

impl RecordBatchReader {
    fn new(reader: BoxedReader) -> Self {
        RecordBatchReader {
            schema: reader.schema(),
            inner: Mutex::new(Some(reader)),
        }
    }

    /// Runs `f` on the reader, or raises when it was moved out or is in use by another thread.
    fn with_reader<R>(
        &self,
        f: impl FnOnce(&mut Option<BoxedReader>) -> PyResult<R>,
    ) -> PyResult<R> {
        let mut guard = match self.inner.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => {
                return Err(PyRuntimeError::new_err(
                    "the RecordBatchReader is in use by another thread",
                ))
            }
        };
        f(&mut guard)
    }
}

fn closed() -> PyErr {
    PyValueError::new_err(
        "the RecordBatchReader was already consumed: its stream was exported by __arrow_c_stream__",
    )
}

#[pymethods]
impl RecordBatchReader {
    /// Takes the stream of any object with `__arrow_c_stream__`; batches are checked at `validate`
    /// (`"minimal"`, `"default"` or `"full"`) as they are read, and nulls in non-nullable columns
    /// treated as `nullability` (`"enforce"` or `"relax"`) says.
    #[staticmethod]
    #[pyo3(signature = (obj, validate = "default", nullability = "enforce"))]
    fn from_arrow(obj: &Bound<'_, PyAny>, validate: &str, nullability: &str) -> PyResult<Self> {
        let (validation, nullability) = (parse_validation(validate)?, parse_nullability(nullability)?);
        let reader = PyRecordBatchReader::extract_with_nullability(obj, validation, nullability)?.into_reader();
        Ok(RecordBatchReader::new(Box::new(reader)))
    }

    /// A reader over `batches` (an iterable of objects with `__arrow_c_array__`, imported at once) with
    /// `schema` (any object with `__arrow_c_schema__`). Every batch's column types must be the schema's.
    #[staticmethod]
    fn from_batches(schema: &Bound<'_, PyAny>, batches: &Bound<'_, PyAny>) -> PyResult<Self> {
        let schema = PySchema::extract_with(schema, Validation::Default)?.into_inner();
        let mut collected = Vec::new();
        for (index, item) in batches.try_iter()?.enumerate() {
            let batch = PyRecordBatch::extract_with(&item?, Validation::Default)?.into_inner();
            let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
            let batch = ArrowRecordBatch::try_new_with_options(
                schema.clone(),
                batch.columns().to_vec(),
                &options,
            )
            .map_err(|e| {
                PyValueError::new_err(format!("batch {index} does not match the schema: {e}"))
            })?;
            collected.push(Ok(batch));
        }
        let reader = arrow_array::RecordBatchIterator::new(collected, schema);
        Ok(RecordBatchReader::new(Box::new(reader)))
    }

    /// The schema of the stream.
    #[getter]
    fn schema(&self) -> Schema {
        Schema {
            inner: self.schema.clone(),
        }
    }

    /// Whether the stream was moved out by `__arrow_c_stream__`.
    #[getter]
    fn closed(&self) -> PyResult<bool> {
        self.with_reader(|reader| Ok(reader.is_none()))
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<RecordBatch>> {
        self.with_reader(|reader| {
            let reader = reader.as_mut().ok_or_else(closed)?;
            match py.detach(|| reader.next()) {
                None => Ok(None),
                Some(Ok(batch)) => Ok(Some(RecordBatch { batch })),
                Some(Err(error)) => Err(to_py_err(error)),
            }
        })
    }

    /// Reads every remaining batch and returns them as a list of `RecordBatch` (empty at the end of the
    /// stream). The GIL is released while the batches are read.
    fn read_all(&self, py: Python<'_>) -> PyResult<Vec<RecordBatch>> {
        self.with_reader(|reader| {
            let reader = reader.as_mut().ok_or_else(closed)?;
            let batches = py
                .detach(|| reader.collect::<Result<Vec<_>, _>>())
                .map_err(to_py_err)?;
            Ok(batches
                .into_iter()
                .map(|batch| RecordBatch { batch })
                .collect())
        })
    }

    /// The `arrow_schema` capsule of the stream's schema; does not consume the stream.
    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        schema_to_capsule(py, &self.schema)
    }

    /// Moves the stream out into an `arrow_array_stream` capsule, its batches cast to
    /// `requested_schema` where possible. A second call raises: the stream is read once.
    #[pyo3(signature = (requested_schema = None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        self.with_reader(|slot| {
            // Check the request before taking the stream, so a refused request leaves the reader usable.
            let requested = arrow_cabi_pyo3::cast::requested_schema(requested_schema.as_ref())?;
            arrow_cabi_pyo3::cast::plan_batch_cast(&self.schema, requested)?;
            let reader = slot.take().ok_or_else(closed)?;
            reader_to_capsule(py, reader, requested_schema.as_ref())
        })
    }

    /// Moves the stream out into an `arrow_device_array_stream` capsule of CPU device arrays, its
    /// batches cast to `requested_schema` where possible. Other keyword arguments must be `None`
    /// (NotImplementedError otherwise). A second call raises: the stream is read once.
    #[pyo3(signature = (requested_schema = None, **kwargs))]
    fn __arrow_c_device_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
        kwargs: Option<Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        check_device_kwargs(kwargs.as_ref())?;
        self.with_reader(|slot| {
            let requested = arrow_cabi_pyo3::cast::requested_schema(requested_schema.as_ref())?;
            arrow_cabi_pyo3::cast::plan_batch_cast(&self.schema, requested)?;
            let reader = slot.take().ok_or_else(closed)?;
            reader_to_device_capsule(py, reader, requested_schema.as_ref())
        })
    }

    fn __repr__(&self) -> String {
        let fields: Vec<String> = self
            .schema
            .fields()
            .iter()
            .map(|f| format!("{}: {}", f.name(), f.data_type()))
            .collect();
        format!("arrow_cabi.RecordBatchReader<{}>", fields.join(", "))
    }
}

/// Opens an Arrow IPC *file* (`ARROW1` magic; LZ4 and ZSTD body compression supported) as a reader.
#[pyfunction]
fn read_ipc_file(path: std::path::PathBuf) -> PyResult<RecordBatchReader> {
    let file = BufReader::new(File::open(&path)?);
    let reader = arrow_ipc::reader::FileReader::try_new(file, None).map_err(to_py_err)?;
    Ok(RecordBatchReader::new(Box::new(reader)))
}

/// Opens an Arrow IPC *stream* (LZ4 and ZSTD body compression supported) as a reader.
#[pyfunction]
fn read_ipc_stream(path: std::path::PathBuf) -> PyResult<RecordBatchReader> {
    let file = BufReader::new(File::open(&path)?);
    let reader = arrow_ipc::reader::StreamReader::try_new(file, None).map_err(to_py_err)?;
    Ok(RecordBatchReader::new(Box::new(reader)))
}

/// The native module behind the `arrow_cabi` package.
#[pymodule]
fn _arrow_cabi(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Schema>()?;
    m.add_class::<Array>()?;
    m.add_class::<RecordBatch>()?;
    m.add_class::<RecordBatchReader>()?;
    m.add_function(wrap_pyfunction!(read_ipc_file, m)?)?;
    m.add_function(wrap_pyfunction!(read_ipc_stream, m)?)?;
    m.add_function(wrap_pyfunction!(check::_check, m)?)?;
    Ok(())
}
