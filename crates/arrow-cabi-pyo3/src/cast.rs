//! `requested_schema`: casting exported data to the schema a consumer asked for, where arrow-cast can.
//!
//! The protocol makes the request best effort, but an incompatible one should raise: a different
//! number of fields is a ValueError, a type arrow-cast cannot produce from the data is a TypeError, and
//! a cast that fails on the values (e.g. a string that does not parse as the requested number) is a
//! ValueError (never a silent null). When every requested type equals the data's, the data goes out unchanged, with its own
//! names and metadata.

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, RecordBatch, RecordBatchOptions, RecordBatchReader};
use arrow_cast::{can_cast_types, cast_with_options, CastOptions};
use arrow_schema::{ArrowError, Field, FieldRef, Schema, SchemaRef};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

use crate::capsule::with_borrowed_schema;
use crate::to_py_err;

/// Reads a `requested_schema` argument (an `arrow_schema` capsule, or any object with
/// `__arrow_c_schema__`) as a field, without consuming a capsule passed directly. `None` and Python
/// `None` mean no request.
pub fn requested_field(requested: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Field>> {
    let Some(requested) = requested.filter(|r| !r.is_none()) else {
        return Ok(None);
    };
    if requested.hasattr("__arrow_c_schema__")? {
        let capsule = requested.call_method0("__arrow_c_schema__")?;
        return with_borrowed_schema(&capsule, |schema| {
            Field::try_from(schema).map_err(to_py_err)
        })
        .map(Some);
    }
    with_borrowed_schema(requested, |schema| {
        Field::try_from(schema).map_err(to_py_err)
    })
    .map(Some)
}

/// Reads a `requested_schema` argument as a schema (a struct field whose children are the columns).
pub fn requested_schema(requested: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Schema>> {
    let Some(field) = requested_field(requested)? else {
        return Ok(None);
    };
    match field.data_type() {
        arrow_schema::DataType::Struct(fields) => Ok(Some(Schema::new_with_metadata(
            fields.clone(),
            field.metadata().clone(),
        ))),
        other => Err(PyTypeError::new_err(format!(
            "requested_schema must be a struct schema for record batches and streams, got {other}"
        ))),
    }
}

fn check_castable(from: &Field, to: &Field, what: &str) -> PyResult<()> {
    if from.data_type() == to.data_type() || can_cast_types(from.data_type(), to.data_type()) {
        return Ok(());
    }
    Err(PyTypeError::new_err(format!(
        "cannot cast {what} '{}' from {} to the requested {}",
        from.name(),
        from.data_type(),
        to.data_type()
    )))
}

/// Casts that fail on a value raise rather than turn the value into a null (arrow-cast's `safe: false`):
/// a request must not lose data silently.
fn cast(array: &ArrayRef, to: &arrow_schema::DataType) -> Result<ArrayRef, ArrowError> {
    let options = CastOptions {
        safe: false,
        ..CastOptions::default()
    };
    cast_with_options(array, to, &options)
}

fn cast_error(error: ArrowError) -> PyErr {
    PyValueError::new_err(format!("cannot cast to the requested schema: {error}"))
}

/// Casts one array of `field` to the requested field. Returns the (possibly unchanged) field and array.
pub fn cast_array(
    field: &FieldRef,
    array: &ArrayRef,
    requested: Option<Field>,
) -> PyResult<(FieldRef, ArrayRef)> {
    let Some(requested) = requested else {
        return Ok((field.clone(), array.clone()));
    };
    if requested.data_type() == field.data_type() {
        return Ok((field.clone(), array.clone()));
    }
    check_castable(field, &requested, "field")?;
    let cast = cast(array, requested.data_type()).map_err(cast_error)?;
    if !requested.is_nullable() && cast.null_count() > 0 {
        return Err(PyValueError::new_err(format!(
            "cannot cast to the requested schema: field '{}' is non-nullable but the data has nulls",
            requested.name()
        )));
    }
    Ok((Arc::new(requested), cast))
}

/// Checks a requested schema against `schema`: `None` when nothing needs casting, the target otherwise.
pub fn plan_batch_cast(schema: &Schema, requested: Option<Schema>) -> PyResult<Option<SchemaRef>> {
    let Some(requested) = requested else {
        return Ok(None);
    };
    if requested.fields().len() != schema.fields().len() {
        return Err(PyValueError::new_err(format!(
            "requested_schema has {} fields but the data has {}",
            requested.fields().len(),
            schema.fields().len()
        )));
    }
    let same = schema
        .fields()
        .iter()
        .zip(requested.fields().iter())
        .all(|(a, b)| a.data_type() == b.data_type());
    if same {
        return Ok(None);
    }
    for (from, to) in schema.fields().iter().zip(requested.fields().iter()) {
        check_castable(from, to, "column")?;
    }
    Ok(Some(Arc::new(requested)))
}

/// Casts each column of `batch` by position to `target` (checked by [`plan_batch_cast`]).
pub fn cast_batch(batch: &RecordBatch, target: &SchemaRef) -> Result<RecordBatch, ArrowError> {
    let columns = batch
        .columns()
        .iter()
        .zip(target.fields().iter())
        .map(|(column, field)| cast(column, field.data_type()))
        .collect::<Result<Vec<_>, _>>()?;
    let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
    RecordBatch::try_new_with_options(target.clone(), columns, &options)
}

/// A reader that casts every batch of another to a target schema, lazily.
pub(crate) struct CastReader {
    pub(crate) inner: Box<dyn RecordBatchReader + Send>,
    pub(crate) target: SchemaRef,
}

impl Iterator for CastReader {
    type Item = Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        let batch = self.inner.next()?;
        Some(batch.and_then(|batch| cast_batch(&batch, &self.target)))
    }
}

impl RecordBatchReader for CastReader {
    fn schema(&self) -> SchemaRef {
        self.target.clone()
    }
}
