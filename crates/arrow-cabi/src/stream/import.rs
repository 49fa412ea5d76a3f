//! Stream import: a producer's `ArrowArrayStream` (or, through the same consumer, its
//! `ArrowDeviceArrayStream`) read as record batches or arrays.
//!
//! The schema is read and parsed once; each batch is imported against it, so a batch that does not
//! match is an error. A producer's failure carries its `get_last_error` message.

use std::ffi::CStr;
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, RecordBatchReader};
use arrow_schema::{ArrowError, DataType, FieldRef, Schema, SchemaRef};

use arrow_cabi_sys::ArrowArrayStream;

use super::interface::Interface;
use super::FFI_ArrowArrayStream;
use crate::array::{import_array_with, import_batch_at, FFI_ArrowArray, ImportPlan, Nullability, Validation};
use crate::error::{Error, Path, Result};
use crate::owned::Releasable;
use crate::schema::{self, FFI_ArrowSchema};

/// The consumer's side of a foreign stream of either interface: calls its callbacks, turns
/// failures into errors, and hands each array over as a host array (through
/// [`Interface::import_array`]). Releases the stream once when dropped.
#[derive(Debug)]
pub(crate) struct Consumer<S: Interface> {
    /// The stream, unreleased until `Drop` (or released by its producer inside a callback).
    stream: S,
    accept: S::Accept,
    /// Set once the producer signalled the end, or released the stream itself inside a callback (an
    /// error, reported once); later calls answer `None` without asking it.
    finished: bool,
}

// SAFETY: the stream interfaces let a stream move to another thread (its callbacks are called by
// one thread at a time, which `&mut self` on every call ensures); `Accept` is `Send`.
unsafe impl<S: Interface> Send for Consumer<S> {}

impl<S: Interface> Drop for Consumer<S> {
    fn drop(&mut self) {
        // SAFETY: the stream is released or follows its interface (`new`'s contract), and is
        // released here, once.
        unsafe { crate::owned::release(&mut self.stream) }
    }
}

impl<S: Interface> Consumer<S> {
    /// Takes `stream` and checks it: unreleased, `get_schema` and `get_next` set, and what it
    /// declares accepted by `accept`. On error the stream is released.
    ///
    /// # Safety
    /// `stream` is released or follows its interface (the invariant of the owned type it came out
    /// of), and nothing else releases it.
    pub(crate) unsafe fn new(stream: S, accept: S::Accept) -> Result<Self> {
        let consumer = Consumer { stream, accept, finished: false };
        let path = Path::root(S::STREAM);
        if consumer.stream.is_released() {
            return Err(path.invalid("the stream is released (its release callback is NULL)"));
        }
        if consumer.stream.get_schema().is_none() || consumer.stream.get_next().is_none() {
            let which = if consumer.stream.get_schema().is_none() { "get_schema" } else { "get_next" };
            return Err(path.field(which).invalid("NULL callback"));
        }
        consumer.stream.accept(&consumer.accept)?;
        Ok(consumer)
    }

    /// The stream, for reading what it declares.
    pub(crate) fn stream(&self) -> &S {
        &self.stream
    }

    /// Asks the producer for its schema.
    pub(crate) fn schema(&mut self) -> Result<FFI_ArrowSchema> {
        let mut schema = FFI_ArrowSchema::empty();
        if let Some(get_schema) = self.stream.get_schema() {
            // SAFETY: the stream is unreleased and follows the interface (`new`'s contract);
            // `schema` is a writable, released struct.
            let code = unsafe { get_schema(&mut self.stream, schema.as_mut_ptr()) };
            self.check(code, "get_schema")?;
        }
        if schema.is_released() {
            return Err(Path::root(S::STREAM).field("get_schema").invalid("returned 0 but left the schema released"));
        }
        Ok(schema)
    }

    /// Asks the producer for the next array, as a host array; `None` at the end (and after it).
    /// Inlined into each reader (the plain and the device one alike), so that the array and the
    /// result are not moved between frames.
    #[inline(always)]
    pub(crate) fn next(&mut self) -> Result<Option<FFI_ArrowArray>> {
        if self.finished {
            return Ok(None);
        }
        let mut array = <S::Array as Releasable>::EMPTY;
        if let Some(get_next) = self.stream.get_next() {
            // SAFETY: as in `schema`; `array` is a writable, released struct.
            let code = unsafe { get_next(&mut self.stream, &mut array) };
            if let Err(error) = self.check(code, "get_next") {
                // SAFETY: `array` is released, or what the producer wrote into it, released once here.
                unsafe { array.release_once() };
                return Err(error);
            }
        }
        self.finished = array.is_released();
        if self.finished {
            return Ok(None);
        }
        // SAFETY: `array` is unreleased, written by this stream's `get_next`.
        unsafe { self.stream.import_array(&mut self.accept, array) }.map(Some)
    }

    /// Turns a non-zero return code into an error carrying the producer's message, and a stream the
    /// producer released inside the callback into an error saying so: such a stream is never called
    /// again (nor released again: its `release` is NULL), and whatever the callback wrote into its
    /// out struct is released by the caller.
    fn check(&mut self, code: i32, call: &'static str) -> Result<()> {
        if self.stream.is_released() {
            self.finished = true;
            let returned = if code == 0 { "0".to_string() } else { format!("{} ({code})", crate::error::errno_name(code)) };
            return Err(Path::root(S::STREAM).field(call).invalid(format!(
                "the producer released the stream inside {call} (which returned {returned}); it cannot be read further"
            )));
        }
        if code == 0 {
            return Ok(());
        }
        let message = match self.stream.get_last_error() {
            None => format!("{call} failed and the producer has no get_last_error"),
            Some(get_last_error) => {
                // SAFETY: the stream is unreleased; the returned string is NULL or valid until the next call.
                let text = unsafe { get_last_error(&mut self.stream) };
                if text.is_null() {
                    format!("{call} failed and get_last_error returned NULL")
                } else {
                    // SAFETY: a non-NULL message is a NUL-terminated string, valid until the next call on
                    // the stream, and copied out before that.
                    unsafe { CStr::from_ptr(text) }.to_string_lossy().into_owned()
                }
            }
        };
        Err(Error::from_errno(code, message))
    }
}

/// A foreign stream of struct arrays read as record batches, of either interface: the body of
/// [`RecordBatchStreamReader`] and of the device layer's reader.
#[derive(Debug)]
pub(crate) struct BatchReader<S: Interface> {
    consumer: Consumer<S>,
    schema: SchemaRef,
    /// The plan of the struct type of the schema's fields, which every batch has: compiled once.
    plan: ImportPlan,
    validation: Validation,
}

impl<S: Interface> BatchReader<S> {
    /// Reads the consumer's schema, which must be a struct; see [`RecordBatchStreamReader::with_options`].
    pub(crate) fn new(mut consumer: Consumer<S>, validation: Validation, nullability: Nullability) -> Result<Self> {
        let mut schema = schema::import_schema(&consumer.schema()?)?;
        if nullability == Nullability::Relax {
            schema = Schema::new_with_metadata(Nullability::relax_fields(schema.fields()), schema.metadata().clone());
        }
        let schema = Arc::new(schema);
        let plan = ImportPlan::new(&DataType::Struct(schema.fields().clone()));
        Ok(BatchReader { consumer, schema, plan, validation })
    }

    /// The stream, for reading what it declares.
    pub(crate) fn stream(&self) -> &S {
        self.consumer.stream()
    }

    /// The schema every batch has.
    pub(crate) fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// The next batch, with errors inside it naming paths from [`Interface::ARRAY`]; `None` at the end.
    /// Inlined into each reader's `next`, as [`Consumer::next`] is.
    #[inline(always)]
    pub(crate) fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        let Some(array) = self.consumer.next()? else { return Ok(None) };
        Ok(Some(import_batch_at(array, &self.schema, &self.plan, self.validation, S::ARRAY)?))
    }
}

/// Reads a foreign stream of struct arrays as record batches; arrow-rs 60.1's `RecordBatchStreamReader`.
///
/// Each batch costs O(1) per buffer at the default validation level (none of it grows with rows),
/// and its buffers point at the producer's memory. Dropping the reader releases the stream once.
#[derive(Debug)]
pub struct RecordBatchStreamReader {
    inner: BatchReader<ArrowArrayStream>,
}

impl RecordBatchStreamReader {
    /// Takes the stream and reads its schema, validating batches at [`Validation::Default`].
    pub fn try_new(stream: FFI_ArrowArrayStream) -> Result<Self, ArrowError> {
        Ok(Self::with_validation(stream, Validation::Default)?)
    }

    /// Takes the stream and reads its schema, which must be a struct; batches are validated at `validation`.
    pub fn with_validation(stream: FFI_ArrowArrayStream, validation: Validation) -> Result<Self> {
        Self::with_options(stream, validation, Nullability::Enforce)
    }

    /// As [`with_validation`](Self::with_validation), with nulls in non-nullable columns treated as
    /// `nullability` says. Under [`Nullability::Relax`] the reader's schema (and every batch's)
    /// marks nullable each column, and each field of a struct column, that the relaxation may reach
    /// ([`Nullability::relax_fields`]): a stream declares its schema before its batches are seen.
    pub fn with_options(stream: FFI_ArrowArrayStream, validation: Validation, nullability: Nullability) -> Result<Self> {
        // SAFETY: the invariant of `FFI_ArrowArrayStream`, whose stream is moved in.
        let consumer = unsafe { Consumer::new(stream.into_sys(), ()) }?;
        Ok(RecordBatchStreamReader { inner: BatchReader::new(consumer, validation, nullability)? })
    }

    /// Moves the stream out of `stream` (leaving it released) and reads its schema.
    ///
    /// # Safety
    /// As [`FFI_ArrowArrayStream::from_raw`].
    pub unsafe fn from_raw(stream: *mut FFI_ArrowArrayStream) -> Result<Self, ArrowError> {
        // SAFETY: forwarded from the caller.
        Self::try_new(unsafe { FFI_ArrowArrayStream::from_raw(stream) })
    }

}

impl Iterator for RecordBatchStreamReader {
    type Item = Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next_batch().map_err(ArrowError::from).transpose()
    }
}

impl RecordBatchReader for RecordBatchStreamReader {
    fn schema(&self) -> SchemaRef {
        self.inner.schema().clone()
    }
}

/// The name arrow-rs used before 60.1, which deprecates it the same way.
#[deprecated(since = "60.1.0", note = "Use `RecordBatchStreamReader` instead")]
pub type ArrowArrayStreamReader = RecordBatchStreamReader;

/// Reads a foreign stream of arrays of any type (not only structs) as [`ArrayRef`]s.
#[derive(Debug)]
pub struct ArrayStreamReader {
    consumer: Consumer<ArrowArrayStream>,
    field: FieldRef,
    /// The plan of the field's type: compiled once.
    plan: ImportPlan,
    validation: Validation,
}

impl ArrayStreamReader {
    /// Takes the stream and reads its schema as a field; arrays are validated at `validation`.
    pub fn with_validation(stream: FFI_ArrowArrayStream, validation: Validation) -> Result<Self> {
        // SAFETY: the invariant of `FFI_ArrowArrayStream`, whose stream is moved in.
        let mut consumer = unsafe { Consumer::new(stream.into_sys(), ()) }?;
        let field = Arc::new(schema::import_field(&consumer.schema()?)?);
        let plan = ImportPlan::new(field.data_type());
        Ok(ArrayStreamReader { consumer, field, plan, validation })
    }

    /// Takes the stream, validating arrays at [`Validation::Default`].
    pub fn try_new(stream: FFI_ArrowArrayStream) -> Result<Self, ArrowError> {
        Ok(Self::with_validation(stream, Validation::Default)?)
    }

    /// Moves the stream out of `stream` (leaving it released) and reads its schema.
    ///
    /// # Safety
    /// As [`FFI_ArrowArrayStream::from_raw`].
    pub unsafe fn from_raw(stream: *mut FFI_ArrowArrayStream) -> Result<Self, ArrowError> {
        // SAFETY: forwarded from the caller.
        Self::try_new(unsafe { FFI_ArrowArrayStream::from_raw(stream) })
    }

    /// The field every array of the stream has.
    pub fn field(&self) -> &FieldRef {
        &self.field
    }

    fn next_array(&mut self) -> Result<Option<ArrayRef>> {
        let Some(array) = self.consumer.next()? else { return Ok(None) };
        Ok(Some(import_array_with(array, &self.plan, self.validation)?))
    }
}

impl Iterator for ArrayStreamReader {
    type Item = Result<ArrayRef, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_array().map_err(ArrowError::from).transpose()
    }
}

impl arrow_array::ArrayReader for ArrayStreamReader {
    fn field(&self) -> &FieldRef {
        &self.field
    }
}
