//! `ArrowArrayStream`: the owned struct [`FFI_ArrowArrayStream`], stream export from readers and
//! iterators, and the readers that import a foreign stream.

mod export;
mod import;

use arrow_array::{ArrayRef, RecordBatch, RecordBatchReader};
use arrow_cabi_sys::ArrowArrayStream;
use arrow_schema::{ArrowError, FieldRef, SchemaRef};

pub use import::{ArrayStreamReader, ArrowArrayStreamReader};

/// An owned `ArrowArrayStream`: released when dropped, unless it was moved out or is already released.
///
/// `#[repr(transparent)]` over [`arrow_cabi_sys::ArrowArrayStream`], so a pointer to it can be handed to
/// C as a `struct ArrowArrayStream*`. Every value of this type is released or follows the C Stream
/// Interface.
#[allow(non_camel_case_types)]
#[repr(transparent)]
#[derive(Debug)]
pub struct FFI_ArrowArrayStream(ArrowArrayStream);

// SAFETY: the interface lets a stream be used from any one thread at a time; `&mut self` serializes calls.
unsafe impl Send for FFI_ArrowArrayStream {}

impl FFI_ArrowArrayStream {
    /// Exports a record batch reader. Costs one allocation; each batch is exported zero-copy on `get_next`.
    pub fn new(reader: Box<dyn RecordBatchReader + Send>) -> Self {
        let schema = reader.schema();
        FFI_ArrowArrayStream(export::export(Box::new(export::Batches::new(schema, reader))))
    }

    /// A released stream, for a producer to fill through [`as_mut_ptr`](Self::as_mut_ptr). Free.
    pub const fn empty() -> Self {
        FFI_ArrowArrayStream(ArrowArrayStream::EMPTY)
    }

    /// Moves the stream out of `stream`, leaving it released (its `release` set to NULL).
    ///
    /// # Safety
    /// `stream` is non-NULL, aligned, valid for reads and writes, and points to a released stream or one
    /// that follows the C Stream Interface (its callbacks sound to call as the interface describes, and
    /// the schemas and arrays they produce valid per the C Data Interface) until its `release`.
    pub unsafe fn from_raw(stream: *mut FFI_ArrowArrayStream) -> Self {
        // SAFETY: per the caller, `stream` is valid for reads and writes.
        unsafe { std::ptr::replace(stream, Self::empty()) }
    }

    /// Wraps a raw struct, taking over its release.
    ///
    /// # Safety
    /// As [`from_raw`](Self::from_raw): `raw` is released or follows the C Stream Interface.
    pub unsafe fn from_sys(raw: ArrowArrayStream) -> Self {
        FFI_ArrowArrayStream(raw)
    }

    /// The raw struct, for reading its fields.
    pub fn as_sys(&self) -> &ArrowArrayStream {
        &self.0
    }

    /// A pointer to hand to C: to a producer that fills this (empty) stream, or to a consumer that moves
    /// it out. Whoever writes through it must leave a released or valid stream behind.
    pub fn as_mut_ptr(&mut self) -> *mut ArrowArrayStream {
        &mut self.0
    }

    /// Gives up ownership: the raw struct, which the caller must now release.
    pub fn into_sys(self) -> ArrowArrayStream {
        let this = std::mem::ManuallyDrop::new(self);
        // SAFETY: `this` is never used or dropped again, so the struct is moved exactly once.
        unsafe { std::ptr::read(&this.0) }
    }

    /// Whether the stream is released (its `release` is NULL).
    pub fn is_released(&self) -> bool {
        self.0.release.is_none()
    }
}

impl Drop for FFI_ArrowArrayStream {
    fn drop(&mut self) {
        if let Some(release) = self.0.release {
            // SAFETY: an unreleased stream's release is the producer's and may be called once.
            unsafe { release(&mut self.0) };
        }
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
    let source = export::Batches::new(schema, batches.into_iter());
    FFI_ArrowArrayStream(export::export(Box::new(source)))
}

/// Exports any iterator of arrays of one field (any type, not only structs). The field's name,
/// nullability and metadata travel as the stream's schema; an array of another type is sent as an error.
pub fn export_arrays<I>(field: FieldRef, arrays: I) -> FFI_ArrowArrayStream
where
    I: IntoIterator<Item = Result<ArrayRef, ArrowError>>,
    I::IntoIter: Send + 'static,
{
    let source = export::Arrays { field, arrays: arrays.into_iter() };
    FFI_ArrowArrayStream(export::export(Box::new(source)))
}

