//! [`ArrowDeviceArrayStreamReader`]: a CPU device stream read as record batches.

use arrow_array::{RecordBatch, RecordBatchReader};
use arrow_schema::{ArrowError, SchemaRef};

use super::{ArrowDeviceType, FFI_ArrowDeviceArrayStream};
use crate::array::{Nullability, Validation};
use crate::error::Result;
use crate::stream::RecordBatchStreamReader;

/// Reads a foreign device stream of struct arrays as record batches: arrow-rs's (PR #10754)
/// `ArrowDeviceArrayStreamReader`.
///
/// Only a stream declaring CPU is read; any other device type is refused when the reader is made,
/// and an array of another device type than the stream's is an error for that batch. The stream is
/// read through [`FFI_ArrowDeviceArrayStream::into_host_stream`] by a [`RecordBatchStreamReader`],
/// so each batch is zero-copy and costs what a plain stream's does, plus one indirect call. Errors
/// in a batch's content name paths from `array` (the device array's embedded array).
#[derive(Debug)]
pub struct ArrowDeviceArrayStreamReader {
    inner: RecordBatchStreamReader,
}

impl ArrowDeviceArrayStreamReader {
    /// Takes the stream and reads its schema, validating batches at [`Validation::Default`].
    pub fn try_new(stream: FFI_ArrowDeviceArrayStream) -> Result<Self, ArrowError> {
        Ok(Self::with_options(stream, Validation::Default, Nullability::Enforce)?)
    }

    /// Takes the stream and reads its schema; batches are validated at `validation`, with nulls in
    /// non-nullable columns treated as `nullability` says (see
    /// [`RecordBatchStreamReader::with_options`]).
    pub fn with_options(stream: FFI_ArrowDeviceArrayStream, validation: Validation, nullability: Nullability) -> Result<Self> {
        let inner = RecordBatchStreamReader::with_options(stream.into_host_stream()?, validation, nullability)?;
        Ok(ArrowDeviceArrayStreamReader { inner })
    }

    /// Moves the stream out of `stream` (leaving it released) and reads its schema.
    ///
    /// # Safety
    /// As [`FFI_ArrowDeviceArrayStream::from_raw`].
    pub unsafe fn from_raw(stream: *mut FFI_ArrowDeviceArrayStream) -> Result<Self, ArrowError> {
        // SAFETY: forwarded from the caller.
        Self::try_new(unsafe { FFI_ArrowDeviceArrayStream::from_raw(stream) })
    }

    /// The device type of the stream's arrays: always CPU, the only one this reader reads.
    pub fn device_type(&self) -> ArrowDeviceType {
        ArrowDeviceType::CPU
    }
}

impl Iterator for ArrowDeviceArrayStreamReader {
    type Item = Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next()
    }
}

impl RecordBatchReader for ArrowDeviceArrayStreamReader {
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }
}
