//! [`AsyncDeviceStreamReader`]: a foreign async producer read as a `futures::Stream` of record
//! batches, through a handler of ours.

use std::pin::Pin;
use std::task::{Context, Poll};

use arrow_array::RecordBatch;
use arrow_cabi_sys::ArrowAsyncDeviceStreamHandler;
use arrow_schema::{ArrowError, SchemaRef};
use futures_core::Stream;

use crate::array::Validation;
use crate::error::Result;

/// A foreign producer's async device stream, read as a `futures::Stream` of record batches.
///
/// Make one, hand [`handler`](Self::handler) to the producer (e.g. Arrow C++'s
/// `ExportAsyncRecordBatchReader`), then await [`schema`](Self::schema) and poll the batches. The
/// queue is bounded: the handler requests `queue_size` tasks when the schema arrives and one more
/// each time a batch is taken, so at most `queue_size` tasks wait. Each task's data is extracted
/// once, when its batch is polled, and imported zero-copy through the device layer (CPU only) at
/// the reader's validation level; its release runs once, when the batch's last buffer is dropped.
/// A producer's `on_error` is an `Err` carrying its code and message, after the batches before
/// it. The stream ends after the producer's NULL task, or when it released the handler.
///
/// Dropping the reader cancels the producer and discards (extracts with NULL) the tasks still
/// queued and any that arrive later; the handler's memory stays valid until the producer calls
/// `release`. `Send`, `Unpin`.
pub struct AsyncDeviceStreamReader {
    _todo: (),
}

impl AsyncDeviceStreamReader {
    /// A reader that keeps at most `queue_size` tasks waiting (0 counts as 1), validating batches
    /// at [`Validation::Default`]. One allocation for the handler and its shared state.
    pub fn new(queue_size: usize) -> Self {
        Self::with_validation(queue_size, Validation::Default)
    }

    /// As [`new`](Self::new), validating batches at `validation`.
    pub fn with_validation(queue_size: usize, validation: Validation) -> Self {
        let _ = (queue_size, validation);
        todo!()
    }

    /// The handler to hand to the producer, exactly once and to one producer. Its address is
    /// stable; from the moment it is handed over its memory belongs to the producer's `release`
    /// (freed there, even if the reader was dropped first). A handler never handed over (this
    /// call never made) is freed with the reader. Calling it again returns the same pointer.
    pub fn handler(&mut self) -> *mut ArrowAsyncDeviceStreamHandler {
        todo!()
    }

    /// The stream's schema, once `on_schema` arrived; the producer's error if it failed (or
    /// released the handler) before, or our refusal of the schema (a producer not on CPU, a
    /// schema that does not import). Cheap to call again.
    pub async fn schema(&mut self) -> Result<SchemaRef> {
        std::future::poll_fn(|cx| self.poll_schema(cx)).await
    }

    /// The poll behind [`schema`](Self::schema): `Pending` (the waker stored) until the schema
    /// arrived or the producer failed.
    pub fn poll_schema(&mut self, cx: &mut Context<'_>) -> Poll<Result<SchemaRef>> {
        let _ = cx;
        todo!()
    }
}

impl Stream for AsyncDeviceStreamReader {
    type Item = Result<RecordBatch, ArrowError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let _ = cx;
        todo!()
    }
}
