//! [`FFI_ArrowDeviceArrayStream`]: the owned `ArrowDeviceArrayStream`, its exports, and the
//! conversions to and from a plain `ArrowArrayStream`.

use std::ffi::{c_char, c_int, c_void};

use arrow_array::{ArrayRef, RecordBatch, RecordBatchReader};
use arrow_cabi_sys::{ArrowDeviceArray, ArrowDeviceArrayStream, ArrowSchema};
use arrow_schema::{ArrowError, FieldRef, SchemaRef};

use super::{to_device, to_host, ArrowDeviceType, FFI_ArrowDeviceArray};
use crate::error::Result;
use crate::schema::FFI_ArrowSchema;
use crate::stream::FFI_ArrowArrayStream;

crate::owned::owned_struct! {
    /// An owned `ArrowDeviceArrayStream`: released when dropped, unless it was moved out or is
    /// already released.
    ///
    /// `#[repr(transparent)]` over [`arrow_cabi_sys::ArrowDeviceArrayStream`], so a pointer to it can
    /// be handed to C as a `struct ArrowDeviceArrayStream*`. Made by export
    /// ([`new`](Self::new), [`export_device_batches`], [`export_device_arrays`],
    /// [`from_host_stream`](Self::from_host_stream)), from a producer's own callbacks
    /// ([`new_unchecked`](Self::new_unchecked)), or moved in with [`from_raw`](Self::from_raw).
    /// Every value is released or follows the C Device Data Interface.
    pub struct FFI_ArrowDeviceArrayStream(ArrowDeviceArrayStream): "device stream", "C Device Data Interface";
}

/// arrow-rs's `get_schema` callback type, on the owned structs.
type GetSchema = unsafe extern "C" fn(*mut FFI_ArrowDeviceArrayStream, *mut FFI_ArrowSchema) -> c_int;
/// arrow-rs's `get_next` callback type, on the owned structs.
type GetNext = unsafe extern "C" fn(*mut FFI_ArrowDeviceArrayStream, *mut FFI_ArrowDeviceArray) -> c_int;
/// arrow-rs's `get_last_error` callback type, on the owned struct.
type GetLastError = unsafe extern "C" fn(*mut FFI_ArrowDeviceArrayStream) -> *const c_char;
/// arrow-rs's `release` callback type, on the owned struct.
type Release = unsafe extern "C" fn(*mut FFI_ArrowDeviceArrayStream);

impl FFI_ArrowDeviceArrayStream {
    /// Exports a record batch reader as a CPU device stream (arrow-rs's constructor): the plain
    /// stream export ([`FFI_ArrowArrayStream::new`]) behind [`from_host_stream`](Self::from_host_stream).
    /// Costs two allocations; each batch is exported zero-copy on `get_next`.
    pub fn new(reader: Box<dyn RecordBatchReader + Send>) -> Self {
        Self::from_host_stream(FFI_ArrowArrayStream::new(reader))
    }

    /// A device stream of a producer's own callbacks (arrow-rs's constructor, for a crate that
    /// produces arrays on a device). Free: the fields are stored as given.
    ///
    /// # Safety
    /// The caller takes on the C Device Data Interface's contract: each callback is sound to call
    /// with a pointer to this stream and does what the interface says; every array `get_next`
    /// writes is on `device_type`; the schema `get_schema` writes is in host memory and
    /// independent of the stream; `get_last_error`'s string lives until the next call; `release`
    /// frees `private_data` once and sets `release` to NULL.
    pub unsafe fn new_unchecked(
        device_type: ArrowDeviceType,
        get_schema: GetSchema,
        get_next: GetNext,
        get_last_error: GetLastError,
        release: Release,
        private_data: *mut c_void,
    ) -> Self {
        // SAFETY: the owned structs are `repr(transparent)` over the raw ones, so each callback type
        // is ABI-compatible with the raw one it is stored as.
        let raw = unsafe {
            ArrowDeviceArrayStream {
                device_type: device_type.value(),
                get_schema: Some(std::mem::transmute::<
                    GetSchema,
                    unsafe extern "C" fn(*mut ArrowDeviceArrayStream, *mut ArrowSchema) -> c_int,
                >(get_schema)),
                get_next: Some(std::mem::transmute::<
                    GetNext,
                    unsafe extern "C" fn(*mut ArrowDeviceArrayStream, *mut ArrowDeviceArray) -> c_int,
                >(get_next)),
                get_last_error: Some(std::mem::transmute::<
                    GetLastError,
                    unsafe extern "C" fn(*mut ArrowDeviceArrayStream) -> *const c_char,
                >(get_last_error)),
                release: Some(std::mem::transmute::<Release, unsafe extern "C" fn(*mut ArrowDeviceArrayStream)>(
                    release,
                )),
                private_data,
            }
        };
        FFI_ArrowDeviceArrayStream(raw)
    }

    /// The device type every array of the stream is on.
    pub fn device_type(&self) -> ArrowDeviceType {
        ArrowDeviceType::new(self.0.device_type)
    }

    /// A plain stream as a CPU device stream, zero-copy: each `get_next` asks the plain stream
    /// for its next array and writes it into the device array's embedded array, with device_type
    /// CPU, device_id -1, sync_event NULL and `reserved` zeroed; `get_schema` and
    /// `get_last_error` are the plain stream's. One allocation; per batch, one more indirect call.
    /// A released plain stream gives a released device stream.
    pub fn from_host_stream(stream: FFI_ArrowArrayStream) -> Self {
        FFI_ArrowDeviceArrayStream(to_device::wrap(stream))
    }

    /// This stream as a plain stream, when it declares CPU, zero-copy: each `get_next` asks for
    /// the next device array and moves its embedded array out. A device array of another device
    /// type than the stream declared is a `get_next` error (`EINVAL`, its message naming both;
    /// the array is released). One allocation; per batch, one more indirect call.
    ///
    /// A released stream, a NULL `get_schema` or `get_next`, or a stream declaring any device
    /// type but CPU is an error (the stream is released).
    pub fn into_host_stream(self) -> Result<FFI_ArrowArrayStream> {
        // SAFETY: the raw stream follows the interface (this type's invariant) and is moved in.
        Ok(unsafe { FFI_ArrowArrayStream::from_sys(to_host::wrap(self)?) })
    }
}

/// Exports any iterator of record batches with their schema as a CPU device stream, as
/// [`export_batches`](crate::ffi_stream::export_batches) exports a plain one.
pub fn export_device_batches<I>(schema: SchemaRef, batches: I) -> FFI_ArrowDeviceArrayStream
where
    I: IntoIterator<Item = Result<RecordBatch, ArrowError>>,
    I::IntoIter: Send + 'static,
{
    FFI_ArrowDeviceArrayStream::from_host_stream(crate::stream::export_batches(schema, batches))
}

/// Exports any iterator of arrays of one field as a CPU device stream, as
/// [`export_arrays`](crate::ffi_stream::export_arrays) exports a plain one.
pub fn export_device_arrays<I>(field: FieldRef, arrays: I) -> FFI_ArrowDeviceArrayStream
where
    I: IntoIterator<Item = Result<ArrayRef, ArrowError>>,
    I::IntoIter: Send + 'static,
{
    FFI_ArrowDeviceArrayStream::from_host_stream(crate::stream::export_arrays(field, arrays))
}
