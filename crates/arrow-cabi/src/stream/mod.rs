//! `ArrowArrayStream`: the owned struct [`FFI_ArrowArrayStream`], stream export from readers and
//! iterators, and the readers that import a foreign stream. The producer and the consumer are
//! generic over the stream struct (`interface.rs`), so the device layer's streams are the same
//! code with the device fields.

mod export;
pub(crate) use export::check_batch;
mod import;
pub(crate) mod interface;

use std::ffi::{c_char, c_int, c_void};

use arrow_array::{ArrayRef, RecordBatch, RecordBatchReader};
use arrow_cabi_sys::{ArrowArray, ArrowArrayStream, ArrowSchema};
use arrow_schema::{ArrowError, FieldRef, SchemaRef};

use crate::array::FFI_ArrowArray;
use crate::schema::FFI_ArrowSchema;

#[allow(deprecated)]
pub use import::ArrowArrayStreamReader;
pub use import::{ArrayStreamReader, RecordBatchStreamReader};
pub(crate) use import::{BatchReader, Consumer};
pub(crate) use interface::Interface;

crate::owned::owned_struct! {
    /// An owned `ArrowArrayStream`: released when dropped, unless it was moved out or is already
    /// released.
    ///
    /// `#[repr(transparent)]` over [`arrow_cabi_sys::ArrowArrayStream`], so a pointer to it can be handed
    /// to C as a `struct ArrowArrayStream*`. Made by export ([`FFI_ArrowArrayStream::new`],
    /// [`export_batches`], [`export_arrays`]), from a producer's own callbacks
    /// ([`new_unchecked`](Self::new_unchecked)), or moved in with [`from_raw`](Self::from_raw). Every
    /// value of this type is released or follows the C Stream Interface.
    ///
    /// `Send`, not `Sync`, as in arrow-rs: a stream may move to another thread, but its callbacks are
    /// called by one thread at a time (the interface is not thread-safe).
    pub struct FFI_ArrowArrayStream(ArrowArrayStream): "stream", "C Stream Interface";
}

/// arrow-rs's `get_schema` callback type, on the owned structs.
type GetSchema = unsafe extern "C" fn(arg1: *mut FFI_ArrowArrayStream, out: *mut FFI_ArrowSchema) -> c_int;
/// arrow-rs's `get_next` callback type, on the owned structs.
type GetNext = unsafe extern "C" fn(arg1: *mut FFI_ArrowArrayStream, out: *mut FFI_ArrowArray) -> c_int;
/// arrow-rs's `get_last_error` callback type, on the owned struct.
type GetLastError = unsafe extern "C" fn(arg1: *mut FFI_ArrowArrayStream) -> *const c_char;
/// arrow-rs's `release` callback type, on the owned struct.
type Release = unsafe extern "C" fn(arg1: *mut FFI_ArrowArrayStream);
/// The raw `get_schema` callback type, as `arrow-cabi-sys` stores it.
type RawGetSchema = unsafe extern "C" fn(*mut ArrowArrayStream, *mut ArrowSchema) -> c_int;
/// The raw `get_next` callback type.
type RawGetNext = unsafe extern "C" fn(*mut ArrowArrayStream, *mut ArrowArray) -> c_int;
/// The raw `get_last_error` callback type.
type RawGetLastError = unsafe extern "C" fn(*mut ArrowArrayStream) -> *const c_char;
/// The raw `release` callback type.
type RawRelease = unsafe extern "C" fn(*mut ArrowArrayStream);

impl FFI_ArrowArrayStream {
    /// Exports a record batch reader. Costs one allocation; each batch is exported zero-copy on `get_next`.
    pub fn new(reader: Box<dyn RecordBatchReader + Send>) -> Self {
        FFI_ArrowArrayStream(export_reader(reader))
    }

    /// A stream of a producer's own callbacks and private data (arrow-rs's constructor, which
    /// pyo3-arrow and other producers use). Free: the five fields are stored as given.
    ///
    /// # Safety
    /// The caller takes on the C Stream Interface's contract: each callback that is `Some` is sound
    /// to call with a pointer to this stream and does what the interface says; `private_data` owns
    /// everything the callbacks use and stays valid until `release`; `release`, if `Some`, frees
    /// `private_data` exactly once and sets `release` to NULL; if `release` is `None` the stream is
    /// released and nothing is left to free.
    pub unsafe fn new_unchecked(
        get_schema: Option<GetSchema>,
        get_next: Option<GetNext>,
        get_last_error: Option<GetLastError>,
        release: Option<Release>,
        private_data: *mut c_void,
    ) -> Self {
        // SAFETY: `FFI_ArrowArrayStream`, `FFI_ArrowSchema` and `FFI_ArrowArray` are
        // `repr(transparent)` over the raw structs, so each callback type is ABI-compatible with the
        // raw one it is stored as.
        let raw = unsafe {
            ArrowArrayStream {
                get_schema: std::mem::transmute::<Option<GetSchema>, Option<RawGetSchema>>(get_schema),
                get_next: std::mem::transmute::<Option<GetNext>, Option<RawGetNext>>(get_next),
                get_last_error: std::mem::transmute::<Option<GetLastError>, Option<RawGetLastError>>(get_last_error),
                release: std::mem::transmute::<Option<Release>, Option<RawRelease>>(release),
                private_data,
            }
        };
        FFI_ArrowArrayStream(raw)
    }

    /// The producer's `get_schema` callback, if any (arrow-rs's accessor). Call it only with a pointer
    /// to the stream it was read from.
    pub fn get_schema(&self) -> Option<GetSchema> {
        // SAFETY: the callback types are ABI-compatible, as in `new_unchecked`.
        unsafe { std::mem::transmute::<Option<RawGetSchema>, Option<GetSchema>>(self.0.get_schema) }
    }

    /// The producer's `get_next` callback, if any (arrow-rs's accessor). Call it only with a pointer
    /// to the stream it was read from.
    pub fn get_next(&self) -> Option<GetNext> {
        // SAFETY: as in `get_schema`.
        unsafe { std::mem::transmute::<Option<RawGetNext>, Option<GetNext>>(self.0.get_next) }
    }

    /// The producer's `get_last_error` callback, if any (arrow-rs's accessor). Call it only with a
    /// pointer to the stream it was read from, after a call that failed; the string it returns is the
    /// producer's and lives until the next call on the stream.
    pub fn get_last_error(&self) -> Option<GetLastError> {
        // SAFETY: as in `get_schema`.
        unsafe { std::mem::transmute::<Option<RawGetLastError>, Option<GetLastError>>(self.0.get_last_error) }
    }
}

/// Exports `reader` into `out`, overwriting it without releasing what was there. The arrow-rs name.
///
/// # Safety
/// `out` is non-NULL, aligned and valid for writes.
pub unsafe fn export_reader_into_raw(reader: Box<dyn RecordBatchReader + Send>, out: *mut FFI_ArrowArrayStream) {
    // SAFETY: per the caller.
    unsafe { std::ptr::write(out, FFI_ArrowArrayStream::new(reader)) }
}

/// Exports any iterator of record batches with their schema, without writing a `RecordBatchReader`.
/// A batch whose column types differ from `schema`'s is sent as an error, not as a batch.
pub fn export_batches<I>(schema: SchemaRef, batches: I) -> FFI_ArrowArrayStream
where
    I: IntoIterator<Item = Result<RecordBatch, ArrowError>>,
    I::IntoIter: Send + 'static,
{
    FFI_ArrowArrayStream(export_batches_as(schema, batches))
}

/// Exports any iterator of arrays of one field (any type, not only structs). The field's name,
/// nullability and metadata travel as the stream's schema; an array of another type is sent as an error.
pub fn export_arrays<I>(field: FieldRef, arrays: I) -> FFI_ArrowArrayStream
where
    I: IntoIterator<Item = Result<ArrayRef, ArrowError>>,
    I::IntoIter: Send + 'static,
{
    FFI_ArrowArrayStream(export_arrays_as(field, arrays))
}

/// Exports a record batch reader as a stream of interface `S` (plain or device). One allocation.
pub(crate) fn export_reader<S: Interface>(reader: Box<dyn RecordBatchReader + Send>) -> S {
    let schema = reader.schema();
    export::export(Box::new(export::Batches::new(schema, reader)))
}

/// [`export_batches`] as a stream of interface `S`.
pub(crate) fn export_batches_as<S: Interface, I>(schema: SchemaRef, batches: I) -> S
where
    I: IntoIterator<Item = Result<RecordBatch, ArrowError>>,
    I::IntoIter: Send + 'static,
{
    export::export(Box::new(export::Batches::new(schema, batches.into_iter())))
}

/// [`export_arrays`] as a stream of interface `S`.
pub(crate) fn export_arrays_as<S: Interface, I>(field: FieldRef, arrays: I) -> S
where
    I: IntoIterator<Item = Result<ArrayRef, ArrowError>>,
    I::IntoIter: Send + 'static,
{
    export::export(Box::new(export::Arrays { field, arrays: arrays.into_iter() }))
}

/// The stream behind `consumer` (a foreign stream of interface `S`) as a stream of interface `T`:
/// the conversions between plain and device streams. Zero-copy, one allocation; per array, what
/// one consumer and one producer cost (no more indirect calls than the foreign stream's own).
pub(crate) fn relay<S: Interface, T: Interface>(consumer: Consumer<S>) -> T {
    export::export(Box::new(consumer))
}

