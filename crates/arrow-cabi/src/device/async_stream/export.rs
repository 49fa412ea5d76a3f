//! [`export_async_device_stream`]: a Rust stream of record batches driving a foreign
//! `ArrowAsyncDeviceStreamHandler`, as a future on the caller's executor.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use arrow_array::RecordBatch;
use arrow_cabi_sys::ArrowAsyncDeviceStreamHandler;
use arrow_schema::{ArrowError, SchemaRef};
use futures_core::Stream;

use crate::error::Result;

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
    _todo: (),
}

/// Exports `batches`, of schema `schema`, to the foreign consumer whose handler is `handler`:
/// returns the future that does it, on the executor that polls it (nothing happens until then).
///
/// On its first poll the future sets `handler->producer` to a producer of ours (device type CPU,
/// `request` and `cancel` callable from any thread) and calls `on_schema`; then, for each batch
/// the consumer has requested, polls `batches` and hands the batch over in `on_next_task` as a
/// task whose `extract_data` exports it (zero-copy, a CPU device array) into the consumer's
/// array; at the end of `batches`, `on_next_task` with a NULL task; then `release`. A batch whose
/// column types differ from `schema`'s is a stream error. Each batch costs one small allocation
/// for its task beyond the plain export's; waiting costs nothing (the future is woken by
/// `request`, `cancel` and `batches`). At most 32 batches are handed over per poll before the
/// future yields to its executor.
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
    let _ = (schema, batches, handler);
    todo!()
}

impl Future for AsyncDeviceStreamExport {
    type Output = Result<StreamEnd>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let _ = cx;
        todo!()
    }
}
