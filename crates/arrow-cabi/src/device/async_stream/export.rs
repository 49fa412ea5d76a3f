//! [`export_async_device_stream`]: a Rust stream of record batches driving a foreign
//! `ArrowAsyncDeviceStreamHandler`, as a future on the caller's executor.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use arrow_array::RecordBatch;
use arrow_cabi_sys::ArrowAsyncDeviceStreamHandler;
use arrow_schema::{ArrowError, DataType, SchemaRef};
use futures_core::Stream;

use super::consumer::Consumer;
use super::producer::{ProducerBlock, Turn};
use super::task;
use crate::array::ExportCounts;
use crate::error::{Error, Path, Result};
use crate::schema::FFI_ArrowSchema;

/// The batches handed over in one poll before the future yields to its executor.
const BUDGET: usize = 32;

/// How an export that reached its end without an error ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamEnd {
    /// The stream ran out: every batch was handed over, then the NULL task.
    Finished,
    /// The consumer called `cancel`: no more tasks were handed over.
    Cancelled,
}

/// The future that drives a foreign handler with a stream of batches; made by
/// [`export_async_device_stream`].
///
/// Resolves, after the handler's `release` has been called (exactly once), to
/// [`StreamEnd::Finished`] or [`StreamEnd::Cancelled`], or to an error: the stream's own error
/// (after `on_error` with its errno and message), [`Error::Consumer`](crate::Error::Consumer) when
/// `on_schema` or `on_next_task` returned non-zero (nothing but `release` follows), or an
/// [`Error::Invalid`](crate::Error::Invalid) for a `request(n)` with `n <= 0` (after `on_error`
/// with `EINVAL`). Dropped before its end, it calls `on_error` with `ECANCELED` (unless the
/// consumer cancelled or refused) and `release`. `Send`, `Unpin`, `'static`.
pub struct AsyncDeviceStreamExport {
    schema: SchemaRef,
    batches: Pin<Box<dyn Stream<Item = Result<RecordBatch, ArrowError>> + Send>>,
    /// What each batch's export writes, known from the schema (unless it has views).
    counts: Option<ExportCounts>,
    /// Our producer struct and the consumer's demand, shared with the tasks not yet extracted.
    producer: Arc<ProducerBlock>,
    /// The handler until its release: `None` once released (or never valid).
    consumer: Option<Consumer>,
    phase: Phase,
}

/// Where the export is.
enum Phase {
    /// `on_schema` not yet called.
    Start,
    /// Handing over batches as requested.
    Streaming,
    /// The handler was invalid: this error is the result (the handler released if it could be).
    Invalid(Option<Error>),
    /// Resolved (the handler released).
    Done,
}

/// Exports `batches`, of schema `schema`, to the foreign consumer whose handler is `handler`:
/// returns the future that does it, on the executor that polls it.
///
/// At once, `handler->producer` is set to a producer of ours (device type CPU, no additional
/// metadata, `request` and `cancel` callable from any thread); no callback runs until the future
/// is polled. Its first poll calls `on_schema`; then, for each batch
/// the consumer has requested, polls `batches` and hands the batch over in `on_next_task` as a
/// task whose `extract_data` exports it (zero-copy, a CPU device array) into the consumer's
/// array; at the end of `batches`, `on_next_task` with a NULL task (it too waits for a request
/// outstanding: it is an `on_next_task` call, which the spec bounds by the requests); then
/// `release`. A batch whose
/// column types differ from `schema`'s is a stream error. Each batch costs one small allocation
/// for its task beyond the plain export's; waiting costs nothing (the future is woken by
/// `request`, `cancel` and `batches`). At most 32 batches are handed over per poll before the
/// future yields to its executor.
///
/// A NULL `handler`, or one with a NULL callback, is an [`Error::Invalid`](crate::Error::Invalid)
/// naming it, which the future resolves to (a handler with a `release` is released first).
///
/// # Safety
/// - `handler` points at a handler the consumer initialised, whose callbacks follow the Async
///   Device Stream Interface (in particular, `on_error` and `release` call nothing of the
///   producer, and the task passed to `on_next_task` is extracted exactly once, possibly later and
///   on another thread);
/// - the handler stays valid, and is not handed to another producer, until its `release` has been
///   called; its callbacks may be called from any thread (the spec allows it), one at a time.
pub unsafe fn export_async_device_stream<S>(
    schema: SchemaRef,
    batches: S,
    handler: *mut ArrowAsyncDeviceStreamHandler,
) -> AsyncDeviceStreamExport
where
    S: Stream<Item = Result<RecordBatch, ArrowError>> + Send + 'static,
{
    let producer = ProducerBlock::new();
    // SAFETY: forwarded from the caller; the producer struct lives as long as the export (and
    // any task not yet extracted), so past the handler's release.
    let (consumer, phase) = match unsafe { Consumer::new(handler, producer.as_ptr()) } {
        Ok(consumer) => (Some(consumer), Phase::Start),
        Err(error) => (None, Phase::Invalid(Some(error))),
    };
    let counts = ExportCounts::of_type(&DataType::Struct(schema.fields().clone()));
    AsyncDeviceStreamExport { schema, batches: Box::pin(batches), counts, producer, consumer, phase }
}

impl AsyncDeviceStreamExport {
    /// Releases the handler (its last call); later `request`/`cancel` calls do nothing. The
    /// result is `result`.
    fn finish<T>(&mut self, result: Result<T>) -> Poll<Result<T>> {
        self.phase = Phase::Done;
        if let Some(consumer) = self.consumer.take() {
            consumer.release();
        }
        self.producer.demand().close();
        Poll::Ready(result)
    }

    /// Reports `error` with `on_error`, then releases the handler.
    fn fail<T>(&mut self, error: Error) -> Poll<Result<T>> {
        if let Some(consumer) = &mut self.consumer {
            consumer.on_error(&error);
        }
        self.finish(Err(error))
    }

    /// `on_schema`, with the schema exported; an export failure is reported with `on_error`.
    fn start(&mut self) -> Poll<Result<StreamEnd>> {
        let schema = match FFI_ArrowSchema::try_from(self.schema.as_ref()) {
            Ok(schema) => schema,
            Err(error) => return self.fail(Error::Arrow(error)),
        };
        let Some(consumer) = &mut self.consumer else { return self.finish(Ok(StreamEnd::Finished)) };
        if let Err(refused) = consumer.on_schema(schema) {
            return self.finish(Err(refused));
        }
        self.phase = Phase::Streaming;
        Poll::Pending
    }

    /// Hands over what the consumer requested, until it must wait or the stream ended.
    fn stream(&mut self, cx: &mut Context<'_>) -> Poll<Result<StreamEnd>> {
        for _ in 0..BUDGET {
            match self.producer.demand().turn(cx.waker()) {
                Turn::Wait => return Poll::Pending,
                Turn::Cancelled => return self.finish(Ok(StreamEnd::Cancelled)),
                Turn::InvalidRequest(n) => {
                    let path = Path::root("producer");
                    return self.fail(path.field("request").invalid(format!("request(n) with n = {n}: n must be > 0")));
                }
                Turn::Go => {}
            }
            let batch = match self.batches.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {
                    if let Some(consumer) = &mut self.consumer {
                        // The end; a refusal of it changes nothing.
                        let _ = consumer.on_next_task(None);
                    }
                    return self.finish(Ok(StreamEnd::Finished));
                }
                Poll::Ready(Some(Err(error))) => return self.fail(Error::Arrow(error)),
                Poll::Ready(Some(Ok(batch))) => batch,
            };
            if let Err(error) = crate::stream::check_batch(&self.schema, &batch) {
                return self.fail(error);
            }
            self.producer.demand().consume_one();
            let mut task = task::new(batch, self.counts, Arc::clone(&self.producer));
            let Some(consumer) = &mut self.consumer else { return self.finish(Ok(StreamEnd::Finished)) };
            if let Err(refused) = consumer.on_next_task(Some(&mut task)) {
                return self.finish(Err(refused));
            }
        }
        // Out of budget: let the executor run others, and come back.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

impl Future for AsyncDeviceStreamExport {
    type Output = Result<StreamEnd>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        loop {
            let poll = match &mut this.phase {
                Phase::Start => this.start(),
                Phase::Streaming => return this.stream(cx),
                Phase::Invalid(error) => {
                    let error = error.take().unwrap_or_else(|| Error::Unsupported("the export already resolved".into()));
                    return this.finish(Err(error));
                }
                Phase::Done => return Poll::Ready(Err(Error::Unsupported("the export already resolved".into()))),
            };
            if poll.is_ready() {
                return poll;
            }
        }
    }
}

impl Drop for AsyncDeviceStreamExport {
    /// Dropped before its end: `on_error` with `ECANCELED` (unless the consumer cancelled), then
    /// `release`.
    fn drop(&mut self) {
        if self.consumer.is_none() {
            return;
        }
        if !self.producer.demand().cancelled() {
            let error = Error::from_errno(libc::ECANCELED, "the producer was dropped before the end of the stream".into());
            let _ = self.fail::<()>(error);
        } else {
            let _ = self.finish(Ok(()));
        }
    }
}
