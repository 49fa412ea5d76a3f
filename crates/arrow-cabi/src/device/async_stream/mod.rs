//! The Async Device Stream Interface (experimental in Arrow): a producer pushes record batches to
//! a consumer's `ArrowAsyncDeviceStreamHandler`, and the consumer applies back-pressure with the
//! producer's `request(n)`, without a thread blocked in `get_next`.
//!
//! Both directions, on the caller's executor (this crate runs no runtime and spawns no thread):
//!
//! - **Export** ([`export_async_device_stream`]): any
//!   `futures::Stream<Item = Result<RecordBatch, ArrowError>> + Send` with its schema drives a
//!   foreign handler. The returned future ([`AsyncDeviceStreamExport`]) calls `on_schema` first,
//!   then one `on_next_task` per batch only while the consumer has requested more, `on_next_task`
//!   with a NULL task at the end, `on_error` when the stream fails, and `release` exactly once at
//!   the end, whatever the end. `request` and `cancel` may be called from any thread, also from
//!   inside `on_schema`/`on_next_task`: they only count, set a flag and wake the future.
//! - **Import** ([`AsyncDeviceStreamReader`]): a handler of ours that a foreign producer drives,
//!   read from Rust as a `futures::Stream` of record batches, with the schema first
//!   ([`AsyncDeviceStreamReader::schema`]). The queue is bounded: the handler requests
//!   `queue_size` tasks when the schema arrives, then one more for each batch the Rust side takes.
//!   Dropping the reader cancels the producer.
//!
//! Only CPU memory is moved, through the device layer's rules ([`super::FFI_ArrowDeviceArray`]):
//! export writes CPU device arrays (device_type CPU, device_id -1, sync_event NULL); import
//! refuses a producer whose `device_type` is not CPU (by name, in `on_schema`, so the producer
//! stops), and each array through [`FFI_ArrowDeviceArray::into_host_array`](super::FFI_ArrowDeviceArray::into_host_array)
//! and the plain importer at [`Validation::Default`](crate::Validation::Default) unless told
//! otherwise.
//!
//! # Tasks: who extracts, who releases
//!
//! The spec: "If the consumer does not care about the data that is owned by this task, it must
//! still call `extract_data` so that the producer can perform any required cleanup", and "The
//! `ArrowAsyncTask` object provided to `on_next_task` is owned by the producer and will be cleaned
//! up during the invocation of calling `extract_data` on it". So a task is released only by its
//! one `extract_data` call, never by the producer on its own:
//!
//! - Our import moves each task out of `on_next_task` into its queue and calls `extract_data`
//!   exactly once: with an array when the Rust side takes the batch, with NULL (discard) for tasks
//!   still queued when the reader is dropped or arriving after it was dropped. The extracted
//!   array is released by the imported batch's buffers, once, when the last of them is dropped.
//! - Our export's tasks each own their batch; `extract_data` exports it into the consumer's array
//!   (or drops it for NULL) and frees the task. A consumer that never calls `extract_data` leaks
//!   that one batch: the task may have been copied anywhere, and freeing it on the producer's side
//!   would turn the consumer's later, valid `extract_data` into a use after free. The same holds
//!   for a task the consumer refused (`on_next_task` returned non-zero): the spec does not say
//!   the consumer did not keep it, so it is left to the consumer's `extract_data`.
//!
//! # Threads and re-entrancy
//!
//! Handler callbacks are serialized (the spec's rule): the export calls them only from its
//! future's `poll` and `Drop`, which have `&mut self`. No lock of ours is held while a foreign
//! callback runs. The import's handler keeps its state under one mutex that each callback takes
//! briefly; the reader calls the producer's `request`/`cancel` outside it, and the handler's
//! `release` waits until such a call in flight on another thread has returned (the producer frees
//! its `ArrowAsyncProducer` right after `release`), but not for one on its own thread (a producer
//! that releases from inside `cancel`).
//!
//! # Where the spec's prose and abi.h disagree
//!
//! Binaries follow abi.h, and so does this crate ([`arrow_cabi_sys`]'s structs are abi.h's,
//! with layout tests); each discrepancy in `../shared/spec/C-INTERFACES.md`'s words and ours:
//!
//! - The prose spec's code block gives `ArrowAsyncProducer` a `void (*release)(struct
//!   ArrowAsyncProducer* self)` between `cancel` and `additional_metadata`; abi.h has no such
//!   field, so every later field's offset differs (abi.h: `ArrowAsyncProducer` is 40 bytes,
//!   "ArrowAsyncTask 16, ArrowAsyncProducer 40, ArrowAsyncDeviceStreamHandler 48" as measured
//!   with gcc on x86_64). **Choice: abi.h**, no producer `release`; the producer struct we hand
//!   out lives past our call to the handler's `release`, as the spec's prose says ("The producer
//!   maintains ownership of the `ArrowAsyncProducer` and must clean it up *after* calling the
//!   release callback"): until the export and every task not yet extracted are gone, because
//!   Arrow C++'s consumer calls `request(1)` as it takes each queued task, before extracting it,
//!   even after the release (`request` and `cancel` do nothing then).
//! - "Doc vs header mismatches: doc uses `ArrowArrayTask*` and `uint64_t` for request; abi.h uses
//!   `ArrowAsyncTask*` and `int64_t n` — follow abi.h." **Choice: abi.h**: `request` takes an
//!   `i64`, and a value `<= 0` ("request n<=0 invalid") is answered by our export with `on_error`
//!   (`EINVAL`) and `release`, as the spec asks ("Producers should error (e.g. call `on_error`) if
//!   receiving such a value"); `extract_data` takes an `ArrowAsyncTask*` (the spec's
//!   `ArrowArrayTask` is a typo: no such struct exists).
//!
//! # Python
//!
//! There is no Python helper for async streams: the `arrow_cabi` package neither hands an async
//! stream to Arrow C++ nor reads one, and pyarrow exposes no async device stream capsule (the
//! PyCapsule protocol names none). What Python can do today is go through Rust or C++: a PyO3
//! extension can export with [`export_async_device_stream`] into a handler that Arrow C++'s
//! `CreateAsyncDeviceStreamHandler` made, or read Arrow C++'s `ExportAsyncRecordBatchReader`
//! with [`AsyncDeviceStreamReader`], on its own runtime; and the synchronous device stream
//! (`__arrow_c_device_stream__`) works from Python as before.

mod consumer;
mod export;
mod handler;
mod producer;
mod task;
mod reader;

pub use export::{export_async_device_stream, AsyncDeviceStreamExport, StreamEnd};
pub use reader::AsyncDeviceStreamReader;
