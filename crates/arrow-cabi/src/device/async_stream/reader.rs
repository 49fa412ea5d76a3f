//! [`AsyncDeviceStreamReader`]: a foreign async producer read as a `futures::Stream` of record
//! batches, through a handler of ours.

use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::Arc;
use std::task::{Context, Poll};

use arrow_array::RecordBatch;
use arrow_cabi_sys::ArrowAsyncDeviceStreamHandler;
use arrow_schema::{ArrowError, DataType, SchemaRef};
use futures_core::Stream;

use super::super::FFI_ArrowDeviceArray;
use super::handler::{self, SchemaSlot, Shared, Task};
use crate::array::{import_batch_at, ImportPlan, Validation};
use crate::error::{Error, Path, Result};

/// The root of the field paths a batch's errors name, as for a device array.
const ROOT: &str = "device_array.array";

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
    shared: Arc<Shared>,
    /// Our handler struct; ours to free until handed over.
    handler: NonNull<ArrowAsyncDeviceStreamHandler>,
    handed_over: bool,
    validation: Validation,
    /// The schema and its import plan, once accepted.
    schema: Option<(SchemaRef, ImportPlan)>,
    /// The stream's last item was delivered (its end, or an error that ends it).
    done: bool,
}

// SAFETY: the handler pointer is only freed (from any thread) if never handed over; everything
// else is in `Shared`, whose producer and task pointers may be used from any thread.
unsafe impl Send for AsyncDeviceStreamReader {}

impl std::fmt::Debug for AsyncDeviceStreamReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncDeviceStreamReader")
            .field("schema", &self.schema.as_ref().map(|(schema, _)| schema))
            .field("validation", &self.validation)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl AsyncDeviceStreamReader {
    /// A reader that keeps at most `queue_size` tasks waiting (0 counts as 1), validating batches
    /// at [`Validation::Default`]. One allocation for the handler and its shared state.
    pub fn new(queue_size: usize) -> Self {
        Self::with_validation(queue_size, Validation::Default)
    }

    /// As [`new`](Self::new), validating batches at `validation`.
    pub fn with_validation(queue_size: usize, validation: Validation) -> Self {
        let shared = Arc::new(Shared::new(queue_size));
        let handler = handler::new(&shared);
        AsyncDeviceStreamReader { shared, handler, handed_over: false, validation, schema: None, done: false }
    }

    /// The handler to hand to the producer, exactly once and to one producer. Its address is
    /// stable; from the moment it is handed over its memory belongs to the producer's `release`
    /// (freed there, even if the reader was dropped first). A handler never handed over (this
    /// call never made) is freed with the reader. Calling it again returns the same pointer.
    pub fn handler(&mut self) -> *mut ArrowAsyncDeviceStreamHandler {
        self.handed_over = true;
        self.handler.as_ptr()
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
        if let Some((schema, _)) = &self.schema {
            return Poll::Ready(Ok(schema.clone()));
        }
        let mut state = self.shared.lock();
        let failure = match &state.schema {
            SchemaSlot::Ready(schema) => {
                let schema = schema.clone();
                drop(state);
                let plan = ImportPlan::new(&DataType::Struct(schema.fields().clone()));
                self.schema = Some((schema.clone(), plan));
                return Poll::Ready(Ok(schema));
            }
            SchemaSlot::Refused(refusal) => duplicate(refusal),
            SchemaSlot::Awaiting => match &state.error {
                Some(error) => duplicate(error),
                None if state.released => {
                    Path::root("handler").invalid("the producer released the handler before calling on_schema")
                }
                None => {
                    let replaced = state.store_waker(cx.waker());
                    drop(state);
                    drop(replaced);
                    return Poll::Pending;
                }
            },
        };
        Poll::Ready(Err(failure))
    }

    /// The next item once the schema is known: a queued task's batch, then the producer's error,
    /// then the end.
    fn poll_batch(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<RecordBatch>>> {
        let mut state = self.shared.lock();
        if let Some(task) = state.queue.pop_front() {
            drop(state);
            let batch = self.import(task);
            // One taken, one more asked for (outside the lock; a no-op once the stream ended).
            // SAFETY: `call_producer` hands over the producer only while it is valid, and the
            // handler's release waits for this call.
            self.shared.call_producer(|producer| unsafe { handler::request(producer, 1) });
            return Poll::Ready(Some(batch));
        }
        if let Some(error) = state.error.take() {
            self.done = true;
            return Poll::Ready(Some(Err(error)));
        }
        if state.ended || state.released {
            self.done = true;
            return Poll::Ready(None);
        }
        let replaced = state.store_waker(cx.waker());
        drop(state);
        drop(replaced);
        Poll::Pending
    }

    /// Extracts the task's data (exactly once) and imports it as a batch of the schema.
    fn import(&self, task: Task) -> Result<RecordBatch> {
        let Some((schema, plan)) = &self.schema else {
            task.discard();
            return Err(Error::Unsupported("a task arrived before the schema".into()));
        };
        let mut array = FFI_ArrowDeviceArray::empty();
        // SAFETY: `array` is a writable, released device array.
        let code = unsafe { task.extract(array.as_mut_ptr()) };
        if code != 0 {
            return Err(Error::from_errno(code, "the task's extract_data failed".into()));
        }
        if array.is_released() {
            return Err(Path::root("task").field("extract_data").invalid("returned 0 but left the array released"));
        }
        import_batch_at(array.into_host_array()?, schema, plan, self.validation, ROOT)
    }
}

/// A copy of an error kept in the shared state, for a reader that asks again.
fn duplicate(error: &Error) -> Error {
    match error {
        Error::Invalid { path, message } => Error::Invalid { path: path.clone(), message: message.clone() },
        Error::Producer { code, message } => Error::Producer { code: *code, message: message.clone() },
        Error::Consumer { callback, code } => Error::Consumer { callback, code: *code },
        Error::Panic(message) => Error::Panic(message.clone()),
        other => Error::Unsupported(other.to_string()),
    }
}

impl Drop for AsyncDeviceStreamReader {
    /// Never handed over: frees the handler. Else cancels the producer (if it is still live) and
    /// discards the queued tasks; later tasks are discarded as they arrive, and the producer's
    /// `release` frees the handler.
    fn drop(&mut self) {
        if !self.handed_over {
            // SAFETY: made by `handler::new`, never handed to a producer, freed once here.
            unsafe { handler::free(self.handler) };
            return;
        }
        let queued = {
            let mut state = self.shared.lock();
            state.reader_gone = true;
            std::mem::take(&mut state.queue)
        };
        // SAFETY: as in `poll_batch`.
        self.shared.call_producer(|producer| unsafe { handler::cancel(producer) });
        queued.into_iter().for_each(Task::discard);
    }
}

impl Stream for AsyncDeviceStreamReader {
    type Item = Result<RecordBatch, ArrowError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        if this.schema.is_none() {
            match this.poll_schema(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(_)) => {}
                Poll::Ready(Err(error)) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(error.into())));
                }
            }
        }
        this.poll_batch(cx).map(|item| item.map(|batch| batch.map_err(ArrowError::from)))
    }
}
