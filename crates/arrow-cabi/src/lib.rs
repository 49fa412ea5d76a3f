//! arrow-cabi moves Apache Arrow data across the Arrow C ABI: the C Data Interface (`ArrowSchema`,
//! `ArrowArray`), the C Stream Interface (`ArrowArrayStream`), the C Device Data Interface
//! (`ArrowDeviceArray`, `ArrowDeviceArrayStream`: CPU memory, see [`device`]) and the Async Device
//! Stream Interface (a `futures::Stream` of batches both ways, see [`device::async_stream`]), on
//! arrow-rs's in-memory types.
//!
//! It keeps the names of arrow-rs's `ffi` and `ffi_stream` modules, so switching is a change of `use`
//! lines, and it checks everything a foreign producer hands over: a malformed struct is an [`Error`]
//! naming the field path (`schema.children[2].dictionary.format`), never a panic. Import and export are
//! zero-copy: imported buffers point at the producer's memory, and the producer's `release` runs exactly
//! once, when the last of them is dropped. A crossing costs O(1) per buffer, nothing per row, at the
//! default [`Validation`] level.
//!
//! ```
//! use std::sync::Arc;
//! use arrow_array::{ArrayRef, Int32Array, RecordBatch, RecordBatchReader, StringArray};
//! use arrow_cabi::ffi_stream::{export_batches, RecordBatchStreamReader, FFI_ArrowArrayStream};
//!
//! let batch = RecordBatch::try_from_iter([
//!     ("id", Arc::new(Int32Array::from(vec![1, 2, 3])) as ArrayRef),
//!     ("name", Arc::new(StringArray::from(vec![Some("a"), None, Some("c")])) as ArrayRef),
//! ])?;
//! let schema = batch.schema();
//!
//! // A producer fills an `ArrowArrayStream`; any C, C++ or Python consumer could read it.
//! let mut stream: FFI_ArrowArrayStream = export_batches(schema.clone(), vec![Ok(batch.clone())]);
//!
//! // A consumer takes it over (here through the raw pointer, as it would arrive from C).
//! // SAFETY: `stream` holds the valid stream just exported.
//! let reader = unsafe { RecordBatchStreamReader::from_raw(&mut stream)? };
//! assert_eq!(reader.schema(), schema);
//! let batches = reader.collect::<Result<Vec<_>, _>>()?;
//! assert_eq!(batches, vec![batch.clone()]);
//!
//! // Zero-copy: the imported column points at the exported buffer.
//! let column = |b: &RecordBatch| b.column(1).to_data().buffers()[1].as_ptr();
//! assert_eq!(column(&batches[0]), column(&batch));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Modules: [`ffi`] and [`ffi_stream`] hold the arrow-rs-compatible names; [`schema`], [`array`](mod@array) and
//! [`stream`] the owned structs and the functions beyond arrow-rs's ([`import_array`] with a
//! [`Validation`] level, [`export_array`] with a `Field`, [`export_batch`] and [`import_batch_from`] for a
//! record batch with its schema, [`ffi_stream::export_batches`] and [`ffi_stream::export_arrays`] from any
//! iterator); [`device`] the device arrays and streams (under arrow-rs PR #10754's names, also
//! re-exported from [`ffi`] and [`ffi_stream`]); [`format`](mod@format) and [`metadata`] the two codecs.
//!
//! Import follows a plan compiled once per data type ([`ImportPlan`]): a stream reader compiles its
//! schema's once for all its batches, and a caller crossing many arrays of one type can keep one
//! ([`array::import_array_with`], [`array::import_batch_with`]). [`Nullability::Relax`] imports batches
//! whose non-nullable columns hold nulls (as pyarrow builds them) with those columns marked nullable.
//!
//! # Threads
//!
//! The C interfaces let a struct be released from any thread and a stream be used by one thread at a
//! time, which need not be the one that made it; the types follow, as arrow-rs 60.1's same-named
//! types do (`tests/concurrency.rs` asserts both crates' bounds side by side at compile time):
//!
//! | type | `Send` | `Sync` | why |
//! |---|---|---|---|
//! | [`FFI_ArrowArray`](ffi::FFI_ArrowArray) | yes | yes | released from any thread; `&self` only reads |
//! | [`FFI_ArrowSchema`](ffi::FFI_ArrowSchema) | yes | no | released from any thread; its accessors hand out the producer's raw pointers |
//! | [`FFI_ArrowArrayStream`](ffi_stream::FFI_ArrowArrayStream) | yes | no | a stream's callbacks are called by one thread at a time |
//! | [`RecordBatchStreamReader`](ffi_stream::RecordBatchStreamReader), [`ArrayStreamReader`](ffi_stream::ArrayStreamReader) | yes | no | each owns a stream |
//! | [`FFI_ArrowDeviceArray`](device::FFI_ArrowDeviceArray), [`DeviceArrayTree`](device::DeviceArrayTree) | yes | yes | as a plain array; `sync_event` is never dereferenced |
//! | [`FFI_ArrowDeviceArrayStream`](device::FFI_ArrowDeviceArrayStream), [`ArrowDeviceArrayStreamReader`](device::ArrowDeviceArrayStreamReader) | yes | no | as the plain stream and its reader |
//! | [`AsyncDeviceStreamExport`](device::AsyncDeviceStreamExport) | yes | no | a future, polled by one thread at a time; the handler it drives may be called from any thread |
//! | [`AsyncDeviceStreamReader`](device::AsyncDeviceStreamReader) | yes | no | a stream, polled by one thread at a time; its handler's callbacks may run on any thread (their state is behind a mutex) |
//! | [`ImportPlan`], [`Validation`], [`Nullability`], [`Flags`](ffi::Flags), [`Error`], [`format::Format`], [`format::FormatError`], [`metadata::MetadataError`] | yes | yes | plain data |
//!
//! Imported arrays are arrow-rs arrays (`Send + Sync`): their buffers may be dropped on any thread, and
//! the producer's `release` runs once, on whichever thread drops the last of them. An exported array's
//! nodes may be released on different threads in any order. The raw structs of `arrow-cabi-sys` are
//! neither `Send` nor `Sync` (they own nothing); cross threads with the owned types.
//!
//! What the `unsafe` functions require, what each validation level guarantees, and the tests behind
//! each claim: `docs/SAFETY.md` in the repository.
#![deny(unsafe_op_in_unsafe_fn)]

pub mod array;
pub mod check;
mod boundary;
pub mod device;
pub mod error;
pub mod ffi;
pub mod ffi_stream;
pub mod format;
mod layout;
pub mod metadata;
mod owned;
pub mod schema;
pub mod stream;
mod tree;

pub use array::{export_array, export_batch, import_array, import_batch_from, ImportPlan, Nullability, Validation};
pub use error::{Error, Result};
