//! Stream export: any source of record batches or arrays behind the callbacks of a plain
//! `ArrowArrayStream` or a device `ArrowDeviceArrayStream` (one producer, generic over the
//! [`Interface`]; the device stream's `get_next` writes the device fields around the array).
//!
//! Each callback runs through [`boundary::catch`]: a panicking source becomes an error code and a
//! message. After the end, every `get_next` signals the end again. The message of the last failed call
//! lives in the producer state until the next call.

use std::ffi::{c_char, c_int, CString};
use std::ptr;

use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_cabi_sys::ArrowSchema;
use arrow_schema::{ArrowError, DataType, FieldRef, SchemaRef};

use super::import::Consumer;
use super::interface::Interface;
use crate::array::{ExportCounts, FFI_ArrowArray};
use crate::boundary;
use crate::error::{Error, Result};
use crate::owned::Releasable;
use crate::schema::FFI_ArrowSchema;

/// What a stream hands out: a schema, then arrays of that schema's type, exported.
pub(crate) trait Source: Send {
    /// The stream's schema, exported.
    fn schema(&mut self) -> Result<FFI_ArrowSchema>;
    /// The next item, checked against the schema and exported; `None` at the end.
    fn next_array(&mut self) -> Option<Result<FFI_ArrowArray>>;
}

/// Any iterator of batches with a schema (a `RecordBatchReader` is one) as a [`Source`] of struct arrays.
pub(crate) struct Batches<I> {
    schema: SchemaRef,
    batches: I,
    /// What each export writes, known from the schema (unless it has views).
    counts: Option<ExportCounts>,
}

impl<I> Batches<I> {
    pub(crate) fn new(schema: SchemaRef, batches: I) -> Self {
        let counts = ExportCounts::of_type(&DataType::Struct(schema.fields().clone()));
        Batches { schema, batches, counts }
    }
}

impl<I: Iterator<Item = Result<RecordBatch, ArrowError>> + Send> Source for Batches<I> {
    fn schema(&mut self) -> Result<FFI_ArrowSchema> {
        Ok(FFI_ArrowSchema::try_from(self.schema.as_ref())?)
    }

    fn next_array(&mut self) -> Option<Result<FFI_ArrowArray>> {
        Some(match self.batches.next()? {
            Ok(batch) => check_batch(&self.schema, &batch).map(|()| FFI_ArrowArray::from_batch_counted(batch, self.counts)),
            Err(error) => Err(error.into()),
        })
    }
}

/// A batch whose columns do not have the stream's declared types is an error naming both types
/// (the async export shares this check).
pub(crate) fn check_batch(schema: &SchemaRef, batch: &RecordBatch) -> Result<()> {
    if fits(schema, batch) {
        return Ok(());
    }
    Err(Error::Arrow(ArrowError::SchemaError(format!(
        "batch does not match the stream's schema: declared {}, got {}",
        DataType::Struct(schema.fields().clone()),
        DataType::Struct(batch.schema().fields().clone())
    ))))
}

/// Whether the batch's columns have the declared schema's types (names and metadata may differ).
/// A batch that carries the declared schema itself fits without a look at its columns, since a
/// record batch's columns always have its schema's types.
fn fits(schema: &SchemaRef, batch: &RecordBatch) -> bool {
    if std::sync::Arc::ptr_eq(schema, batch.schema_ref()) {
        return true;
    }
    let (declared, columns) = (schema.fields(), batch.columns());
    declared.len() == columns.len()
        && declared.iter().zip(columns).all(|(field, column)| field.data_type() == column.data_type())
}

/// Any iterator of arrays with a field, as a [`Source`].
pub(crate) struct Arrays<I> {
    pub field: FieldRef,
    pub arrays: I,
}

impl<I: Iterator<Item = Result<ArrayRef, ArrowError>> + Send> Source for Arrays<I> {
    fn schema(&mut self) -> Result<FFI_ArrowSchema> {
        Ok(FFI_ArrowSchema::try_from(self.field.as_ref())?)
    }

    fn next_array(&mut self) -> Option<Result<FFI_ArrowArray>> {
        Some(match self.arrays.next()? {
            Ok(array) if array.data_type() == self.field.data_type() => Ok(FFI_ArrowArray::from_array(array)),
            Ok(array) => Err(Error::Arrow(ArrowError::SchemaError(format!(
                "array of type {} does not match the stream's field type {}",
                array.data_type(),
                self.field.data_type()
            )))),
            Err(error) => Err(error.into()),
        })
    }
}

/// A foreign stream, read by our consumer, as the source of a stream of the other interface: the
/// conversions between plain and device streams. Zero-copy: each array is moved from one struct to
/// the other. A failed call of the foreign stream is relayed with its code and message
/// ([`boundary::answer`] passes a producer's error on as it is).
impl<S: Interface> Source for Consumer<S> {
    fn schema(&mut self) -> Result<FFI_ArrowSchema> {
        Consumer::schema(self)
    }

    fn next_array(&mut self) -> Option<Result<FFI_ArrowArray>> {
        self.next().transpose()
    }
}

/// The producer state behind `private_data`.
struct Producer {
    source: Box<dyn Source>,
    /// The message of the last failed call; kept until the next call.
    last_error: Option<CString>,
    finished: bool,
}

/// Builds the stream struct of interface `S` for `source`. Costs one allocation.
pub(crate) fn export<S: Interface>(source: Box<dyn Source>) -> S {
    let producer = Box::new(Producer { source, last_error: None, finished: false });
    S::exported(get_schema::<S>, get_next::<S>, get_last_error::<S>, release::<S>, Box::into_raw(producer).cast())
}

/// Runs one callback: clears the last error, runs `body` with the producer, and on failure stores the
/// message and returns the error's errno.
///
/// # Safety
/// `stream` is NULL or a stream this module exported and not yet released.
unsafe fn call<S: Interface>(stream: *mut S, body: impl FnOnce(&mut Producer) -> Result<()>) -> c_int {
    // SAFETY: per the caller, a non-NULL stream is ours, so `private_data` is NULL or our `Producer`.
    let producer = unsafe { stream.as_mut().and_then(|s| s.private_data().cast::<Producer>().as_mut()) };
    let Some(producer) = producer else {
        return libc::EINVAL;
    };
    producer.last_error = None;
    let result = boundary::catch(|| body(producer).map(|()| 0));
    boundary::answer(result, &mut producer.last_error)
}

/// `get_schema`: exports the schema into `out`; may be called any number of times.
///
/// # Safety
/// `stream` is one of ours, unreleased; `out` is NULL or writable.
unsafe extern "C" fn get_schema<S: Interface>(stream: *mut S, out: *mut ArrowSchema) -> c_int {
    let body = |producer: &mut Producer| {
        if out.is_null() {
            return Err(Error::Unsupported("get_schema: the out pointer is NULL".into()));
        }
        let schema = producer.source.schema()?;
        // SAFETY: `out` is non-NULL and writable per the caller; a struct there is overwritten
        // without release, as the interface says `out` is uninitialized.
        unsafe { ptr::write(out, schema.into_sys()) };
        Ok(())
    };
    // SAFETY: forwarded from the caller.
    unsafe { call::<S>(stream, body) }
}

/// `get_next`: exports the next item into `out` (a device stream's with the CPU device fields), or
/// a released array at (and after) the end.
///
/// # Safety
/// `stream` is one of ours, unreleased; `out` is NULL or writable.
unsafe extern "C" fn get_next<S: Interface>(stream: *mut S, out: *mut S::Array) -> c_int {
    let body = |producer: &mut Producer| {
        if out.is_null() {
            return Err(Error::Unsupported("get_next: the out pointer is NULL".into()));
        }
        let next = if producer.finished { None } else { producer.source.next_array().transpose()? };
        producer.finished |= next.is_none();
        let array = next.map_or(<S::Array as Releasable>::EMPTY, S::export_array);
        // SAFETY: `out` is non-NULL and writable per the caller.
        unsafe { ptr::write(out, array) };
        Ok(())
    };
    // SAFETY: forwarded from the caller.
    unsafe { call::<S>(stream, body) }
}

/// `get_last_error`: the message of the last failed call, valid until the next call; NULL if none.
///
/// # Safety
/// `stream` is one of ours, unreleased.
unsafe extern "C" fn get_last_error<S: Interface>(stream: *mut S) -> *const c_char {
    // SAFETY: per the caller, a non-NULL stream is ours, so `private_data` is NULL or our `Producer`.
    let producer = unsafe { stream.as_ref().and_then(|s| s.private_data().cast::<Producer>().as_ref()) };
    producer.and_then(|p| p.last_error.as_ref()).map_or(ptr::null(), |message| message.as_ptr())
}

/// `release`: drops the source (a panic in its `Drop` is caught) and marks the stream released.
///
/// # Safety
/// `stream` is NULL or one of ours.
unsafe extern "C" fn release<S: Interface>(stream: *mut S) {
    // SAFETY: per the caller.
    let Some(stream) = (unsafe { stream.as_mut() }) else { return };
    let producer = std::mem::replace(stream.private_data_mut(), ptr::null_mut()).cast::<Producer>();
    *stream.release_mut() = None;
    if producer.is_null() {
        return;
    }
    // SAFETY: `private_data` came from `Box::into_raw(Box<Producer>)` in `export` and was reset above,
    // so it is reclaimed once.
    let producer = unsafe { Box::from_raw(producer) };
    boundary::catch_in_release(move || drop(producer));
}
