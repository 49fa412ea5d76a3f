//! The C Device Data Interface: `ArrowDeviceArray` and `ArrowDeviceArrayStream`, under the names of
//! arrow-rs's PR #10754 (re-exported from [`ffi`](crate::ffi) and [`ffi_stream`](crate::ffi_stream)
//! as that PR places them).
//!
//! Export writes CPU device arrays (device_type CPU, device_id -1, sync_event NULL, `reserved`
//! zeroed) around the plain export, zero-copy. Import reads what the host can read: a CPU device
//! array becomes a plain [`FFI_ArrowArray`](crate::ffi::FFI_ArrowArray)
//! ([`FFI_ArrowDeviceArray::into_host_array`]) and goes through the plain importer, with its
//! validation levels, exactly-once release and field paths (from `device_array.array`). Whatever
//! real producers put in the fields the CPU does not use is accepted: pyarrow's uninitialised
//! `reserved`, device_id 0, a non-NULL sync_event on CPU (ignored: the CPU has nothing to wait on).
//!
//! Any other device type is refused by the safe import with an error naming it, and the array is
//! released. CUDA_HOST, CUDA_MANAGED and ROCM_HOST memory is host-readable once the device is done
//! with it; only the caller knows it has synchronised, so only the `unsafe`
//! [`FFI_ArrowDeviceArray::into_host_array_synchronised`] accepts it. [`DeviceArrayTree`] takes a
//! device array of any device type and describes it without reading its buffers: each node's
//! lengths, and each buffer's device address and size (where the schema and lengths decide it).
//!
//! Streams: the plain stream's producer and consumer serve device streams too (they are generic
//! over the stream struct, `stream/interface.rs`), so a device stream's batches cost what a plain
//! stream's do, plus the device fields: every device stream export
//! ([`FFI_ArrowDeviceArrayStream::new`], [`export_device_batches`], [`export_device_arrays`])
//! writes CPU device arrays directly, and [`ArrowDeviceArrayStreamReader`] calls the device
//! stream's callbacks directly, its batches' errors naming paths from `device_array.array` as
//! the single array import does. [`ArrowDeviceArrayStreamReader::with_synchronisation`] reads
//! host-accessible device memory, with a synchronisation the caller supplies for each array.
//! [`FFI_ArrowDeviceArrayStream::from_host_stream`] and
//! [`FFI_ArrowDeviceArrayStream::into_host_stream`] convert between a foreign plain stream and a
//! CPU device stream both ways, zero-copy (the one consumer inside the one producer).
//!
//! Async device streams ([`async_stream`]): [`export_async_device_stream`] drives a foreign
//! `ArrowAsyncDeviceStreamHandler` with a `futures::Stream` of batches, and
//! [`AsyncDeviceStreamReader`] reads a foreign async producer as one.
//!
//! ```
//! use std::sync::Arc;
//! use arrow_array::{ArrayRef, Int32Array, RecordBatch};
//! use arrow_cabi::device::{export_device_batches, ArrowDeviceArrayStreamReader, ArrowDeviceType};
//!
//! let batch = RecordBatch::try_from_iter([("id", Arc::new(Int32Array::from(vec![1, 2, 3])) as ArrayRef)])?;
//! let stream = export_device_batches(batch.schema(), vec![Ok(batch.clone())]);
//! assert_eq!(stream.device_type(), ArrowDeviceType::CPU);
//! let reader = ArrowDeviceArrayStreamReader::try_new(stream)?;
//! assert_eq!(reader.collect::<Result<Vec<_>, _>>()?, vec![batch]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod array;
pub mod async_stream;
mod device_type;
mod import;
mod interface;
mod reader;
mod stream;
mod tree;

pub use array::FFI_ArrowDeviceArray;
pub use async_stream::{export_async_device_stream, AsyncDeviceStreamExport, AsyncDeviceStreamReader, StreamEnd};
pub use device_type::ArrowDeviceType;
pub use import::{
    export_device_array, export_device_batch, from_device_ffi, from_device_ffi_and_data_type, import_device_array,
    import_device_array_as, import_device_batch_from, to_device_ffi,
};
pub use reader::ArrowDeviceArrayStreamReader;
pub use stream::{export_device_arrays, export_device_batches, FFI_ArrowDeviceArrayStream};
pub use tree::{DeviceArrayTree, DeviceBuffer, DeviceNode};
