//! [`FFI_ArrowDeviceArrayStream`]: the owned `ArrowDeviceArrayStream`, its exports, and the
//! conversions to and from a plain `ArrowArrayStream`.

use std::ffi::{c_char, c_int, c_void};

use arrow_array::{ArrayRef, RecordBatch, RecordBatchReader};
use arrow_cabi_sys::{ArrowDeviceArray, ArrowDeviceArrayStream, ArrowSchema};
use arrow_schema::{ArrowError, FieldRef, SchemaRef};

use super::interface::HostAccess;
use super::{ArrowDeviceType, FFI_ArrowDeviceArray};
use crate::error::Result;
use crate::schema::FFI_ArrowSchema;
use crate::stream::{self, Consumer, FFI_ArrowArrayStream};

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
    /// stream's producer, whose `get_next` writes the CPU device fields around each array.
    /// Costs one allocation; each batch is exported zero-copy on `get_next`, at the plain
    /// stream's cost plus the three fields.
    pub fn new(reader: Box<dyn RecordBatchReader + Send>) -> Self {
        FFI_ArrowDeviceArrayStream(stream::export_reader(reader))
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

    /// A plain stream as a CPU device stream, zero-copy, for a foreign plain stream (this crate's
    /// own exports write device streams directly): each `get_next` asks the plain stream for its
    /// next array and moves it into a device array with device_type CPU, device_id -1,
    /// sync_event NULL and `reserved` zeroed; a failed call of the plain stream is relayed with
    /// its code and message. One allocation; per batch, one call of the plain stream's `get_next`
    /// inside ours.
    ///
    /// A released plain stream gives a released device stream, and so does one whose
    /// `get_schema` or `get_next` is NULL (it is released).
    pub fn from_host_stream(stream: FFI_ArrowArrayStream) -> Self {
        // SAFETY: the invariant of `FFI_ArrowArrayStream`, whose stream is moved in.
        match unsafe { Consumer::new(stream.into_sys(), ()) } {
            Ok(consumer) => FFI_ArrowDeviceArrayStream(stream::relay(consumer)),
            Err(_) => Self::empty(),
        }
    }

    /// This stream as a plain stream, when it declares CPU, zero-copy: each `get_next` asks for
    /// the next device array and moves its embedded array out; a failed call is relayed with its
    /// code and message. A device array of another device type than the stream declared is a
    /// `get_next` error (`EINVAL`, its message naming both; the array is released). One
    /// allocation; per batch, one call of the device stream's `get_next` inside ours.
    ///
    /// A released stream, a NULL `get_schema` or `get_next`, or a stream declaring any device
    /// type but CPU is an error (the stream is released).
    pub fn into_host_stream(self) -> Result<FFI_ArrowArrayStream> {
        // SAFETY: the invariant of this type; the stream is moved in.
        let consumer = unsafe { Consumer::new(self.into_sys(), HostAccess::cpu()) }?;
        // SAFETY: the relay follows the C Stream Interface.
        Ok(unsafe { FFI_ArrowArrayStream::from_sys(stream::relay(consumer)) })
    }

    /// As [`into_host_stream`](Self::into_host_stream), but also for a stream of host-accessible
    /// device memory (CUDA_HOST, CUDA_MANAGED, ROCM_HOST), which the safe call refuses: each
    /// array is handed to `synchronise` before its embedded array is moved out, and an error
    /// `synchronise` returns is that `get_next`'s error (the array is released; the stream goes
    /// on). For a CPU stream `synchronise` is never called.
    ///
    /// # Safety
    /// As [`ArrowDeviceArrayStreamReader::with_synchronisation`](super::ArrowDeviceArrayStreamReader::with_synchronisation),
    /// for whoever reads the plain stream: when `synchronise` returns `Ok(())` for an array, the
    /// host may read its buffers, and nothing on the device writes them until it is released.
    pub unsafe fn into_host_stream_synchronised(
        self,
        synchronise: impl FnMut(&FFI_ArrowDeviceArray) -> Result<(), ArrowError> + Send + 'static,
    ) -> Result<FFI_ArrowArrayStream> {
        // SAFETY: the caller's contract is `HostAccess::synchronised`'s.
        let accept = unsafe { HostAccess::synchronised(Box::new(synchronise)) };
        // SAFETY: the invariant of this type; the stream is moved in.
        let consumer = unsafe { Consumer::new(self.into_sys(), accept) }?;
        // SAFETY: the relay follows the C Stream Interface, its arrays host-readable per the caller.
        Ok(unsafe { FFI_ArrowArrayStream::from_sys(stream::relay(consumer)) })
    }
}

/// Exports any iterator of record batches with their schema as a CPU device stream, as
/// [`export_batches`](crate::ffi_stream::export_batches) exports a plain one.
pub fn export_device_batches<I>(schema: SchemaRef, batches: I) -> FFI_ArrowDeviceArrayStream
where
    I: IntoIterator<Item = Result<RecordBatch, ArrowError>>,
    I::IntoIter: Send + 'static,
{
    FFI_ArrowDeviceArrayStream(stream::export_batches_as(schema, batches))
}

/// Exports any iterator of arrays of one field as a CPU device stream, as
/// [`export_arrays`](crate::ffi_stream::export_arrays) exports a plain one.
pub fn export_device_arrays<I>(field: FieldRef, arrays: I) -> FFI_ArrowDeviceArrayStream
where
    I: IntoIterator<Item = Result<ArrayRef, ArrowError>>,
    I::IntoIter: Send + 'static,
{
    FFI_ArrowDeviceArrayStream(stream::export_arrays_as(field, arrays))
}
