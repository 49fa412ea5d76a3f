//! [`ArrowDeviceArrayStreamReader`]: a device stream read as record batches.

use arrow_array::{RecordBatch, RecordBatchReader};
use arrow_cabi_sys::ArrowDeviceArrayStream;
use arrow_schema::{ArrowError, SchemaRef};

use super::interface::HostAccess;
use super::{ArrowDeviceType, FFI_ArrowDeviceArray, FFI_ArrowDeviceArrayStream};
use crate::array::{Nullability, Validation};
use crate::error::Result;
use crate::stream::{BatchReader, Consumer};

/// Reads a foreign device stream of struct arrays as record batches: arrow-rs's (PR #10754)
/// `ArrowDeviceArrayStreamReader`.
///
/// The safe constructors read only a stream declaring CPU; any other device type is refused when
/// the reader is made (the stream is released), and an array of another device type than the
/// stream's is an error for that batch (the array is released; the stream goes on).
/// [`with_synchronisation`](Self::with_synchronisation) also reads host-accessible device memory.
///
/// The plain stream's reader, calling the device stream's callbacks directly: each batch is
/// zero-copy and costs what a plain stream's does, plus the device type check. Errors in a
/// batch's content name paths from `device_array.array`, as the single device array import's
/// do; errors about the stream from `device_stream`.
#[derive(Debug)]
pub struct ArrowDeviceArrayStreamReader {
    inner: BatchReader<ArrowDeviceArrayStream>,
}

impl ArrowDeviceArrayStreamReader {
    /// Takes the stream and reads its schema, validating batches at [`Validation::Default`].
    pub fn try_new(stream: FFI_ArrowDeviceArrayStream) -> Result<Self, ArrowError> {
        Ok(Self::with_options(stream, Validation::Default, Nullability::Enforce)?)
    }

    /// Takes the stream and reads its schema; batches are validated at `validation`, with nulls in
    /// non-nullable columns treated as `nullability` says (see
    /// [`RecordBatchStreamReader::with_options`](crate::ffi_stream::RecordBatchStreamReader::with_options)).
    pub fn with_options(stream: FFI_ArrowDeviceArrayStream, validation: Validation, nullability: Nullability) -> Result<Self> {
        Self::reading(stream, HostAccess::cpu(), validation, nullability)
    }

    /// As [`with_options`](Self::with_options), but also for a stream of host-accessible device
    /// memory (CUDA_HOST, CUDA_MANAGED, ROCM_HOST; [`ArrowDeviceType::is_host_accessible_after_sync`]),
    /// which the safe constructors refuse. Each array of such a stream is handed to
    /// `synchronise` before any of its buffers is read, once, on the thread calling `next`; an
    /// error it returns is that batch's error (the array is released and the stream goes on). A
    /// CPU stream is read as [`with_options`](Self::with_options) reads it, and `synchronise` is
    /// never called. A stream of device memory proper (CUDA, ROCM, ...) is still refused.
    ///
    /// A consumer cannot synchronise on batches that do not exist yet, so the promise is made per
    /// array, by `synchronise`. Typically it waits on the array's
    /// [`sync_event`](FFI_ArrowDeviceArray::sync_event) with the device's API when it is not NULL
    /// (`cudaEventSynchronize` on the `cudaEvent_t` it points at; `hipEventSynchronize` for ROCm),
    /// and, when it is NULL, relies on what it knows of the producer (one that synchronises before
    /// handing each array over) or returns an error.
    ///
    /// # Safety
    /// When `synchronise` returns `Ok(())` for an array, the host may read all its buffers
    /// (children's and dictionary's too): the device has finished writing them, and nothing on the
    /// device writes them until the array is released, which is when the last buffer of the
    /// batch imported from it is dropped.
    pub unsafe fn with_synchronisation(
        stream: FFI_ArrowDeviceArrayStream,
        validation: Validation,
        nullability: Nullability,
        synchronise: impl FnMut(&FFI_ArrowDeviceArray) -> Result<(), ArrowError> + Send + 'static,
    ) -> Result<Self> {
        // SAFETY: the caller's contract is `HostAccess::synchronised`'s.
        let accept = unsafe { HostAccess::synchronised(Box::new(synchronise)) };
        Self::reading(stream, accept, validation, nullability)
    }

    fn reading(stream: FFI_ArrowDeviceArrayStream, accept: HostAccess, validation: Validation, nullability: Nullability) -> Result<Self> {
        // SAFETY: the invariant of `FFI_ArrowDeviceArrayStream`, whose stream is moved in.
        let consumer = unsafe { Consumer::new(stream.into_sys(), accept) }?;
        Ok(ArrowDeviceArrayStreamReader { inner: BatchReader::new(consumer, validation, nullability)? })
    }

    /// Moves the stream out of `stream` (leaving it released) and reads its schema.
    ///
    /// # Safety
    /// As [`FFI_ArrowDeviceArrayStream::from_raw`].
    pub unsafe fn from_raw(stream: *mut FFI_ArrowDeviceArrayStream) -> Result<Self, ArrowError> {
        // SAFETY: forwarded from the caller.
        Self::try_new(unsafe { FFI_ArrowDeviceArrayStream::from_raw(stream) })
    }

    /// The device type the stream declared, which every array of it is on: CPU, or what
    /// [`with_synchronisation`](Self::with_synchronisation) accepted.
    pub fn device_type(&self) -> ArrowDeviceType {
        ArrowDeviceType::new(self.inner.stream().device_type)
    }
}

impl Iterator for ArrowDeviceArrayStreamReader {
    type Item = Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next_batch().map_err(ArrowError::from).transpose()
    }
}

impl RecordBatchReader for ArrowDeviceArrayStreamReader {
    fn schema(&self) -> SchemaRef {
        self.inner.schema().clone()
    }
}
