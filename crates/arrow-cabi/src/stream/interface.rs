//! The two stream interfaces that one producer ([`export`](super::export)) and one consumer
//! ([`import`](super::import)) serve: the C Stream Interface's `ArrowArrayStream` of `ArrowArray`s
//! and the C Device Data Interface's `ArrowDeviceArrayStream` of `ArrowDeviceArray`s.
//!
//! Their callbacks have the same names, roles and rules; what differs is the struct `get_next`
//! writes (a device array is a plain array with the device fields around it), the device type a
//! device stream declares, and the names its errors start with. [`Interface`] says those
//! differences, one impl per stream struct (this one for the plain stream, `device/interface.rs`
//! for the device stream), so a device stream is written and read directly, as a plain one is,
//! with no adapter (and no indirect call) between.

use std::ffi::{c_char, c_int, c_void};
use std::fmt::Debug;

use arrow_cabi_sys::{ArrowArray, ArrowArrayStream, ArrowSchema};

use crate::array::FFI_ArrowArray;
use crate::error::Result;
use crate::owned::{CStruct, Releasable};

/// A stream's `get_schema` callback.
pub(crate) type GetSchema<S> = unsafe extern "C" fn(*mut S, *mut ArrowSchema) -> c_int;
/// A stream's `get_next` callback, writing the stream's array struct.
pub(crate) type GetNext<S> = unsafe extern "C" fn(*mut S, *mut <S as Interface>::Array) -> c_int;
/// A stream's `get_last_error` callback.
pub(crate) type GetLastError<S> = unsafe extern "C" fn(*mut S) -> *const c_char;
/// A stream's `release` callback.
pub(crate) type Release<S> = unsafe extern "C" fn(*mut S);

/// A raw stream struct (`ArrowArrayStream` or `ArrowDeviceArrayStream`): its callbacks, the array
/// struct it hands out, and how a host array goes into that struct (export) and comes out of it
/// (import).
pub(crate) trait Interface: CStruct + Debug + 'static {
    /// The struct `get_next` writes: `ArrowArray` or `ArrowDeviceArray`.
    type Array: Releasable;
    /// What a consumer accepts of the arrays beyond the interface's rules (the device stream's
    /// device types and the caller's synchronisation); `()` for the plain stream.
    type Accept: Debug + Send;
    /// The root of the paths that errors about the stream name (`stream`, `device_stream`).
    const STREAM: &'static str;
    /// The root of the paths that errors inside an array name (`array`, `device_array.array`).
    const ARRAY: &'static str;

    /// The `get_schema` callback, if set.
    fn get_schema(&self) -> Option<GetSchema<Self>>;
    /// The `get_next` callback, if set.
    fn get_next(&self) -> Option<GetNext<Self>>;
    /// The `get_last_error` callback, if set.
    fn get_last_error(&self) -> Option<GetLastError<Self>>;

    /// A stream of this producer's callbacks over `private_data` (for the device stream: one
    /// declaring CPU, the only memory this crate exports).
    fn exported(
        get_schema: GetSchema<Self>,
        get_next: GetNext<Self>,
        get_last_error: GetLastError<Self>,
        release: Release<Self>,
        private_data: *mut c_void,
    ) -> Self;
    /// An exported host array as this stream's array struct (for the device stream, a CPU device
    /// array: device_id -1, sync_event NULL, `reserved` zeroed). Free.
    fn export_array(array: FFI_ArrowArray) -> Self::Array;

    /// Checks what the stream declares against what the consumer accepts, before the first call
    /// (the device stream's device type); the plain stream declares nothing.
    fn accept(&self, accept: &Self::Accept) -> Result<()>;
    /// The host array in `array`, after the checks `accept` asks for (the device stream's: the
    /// array is on the declared device, and the caller synchronised). On error `array` is released.
    ///
    /// # Safety
    /// `array` is an unreleased array that this stream's `get_next` wrote, so it follows the
    /// stream's interface.
    unsafe fn import_array(&self, accept: &mut Self::Accept, array: Self::Array) -> Result<FFI_ArrowArray>;
}

impl Interface for ArrowArrayStream {
    type Array = ArrowArray;
    type Accept = ();
    const STREAM: &'static str = "stream";
    const ARRAY: &'static str = "array";

    fn get_schema(&self) -> Option<GetSchema<Self>> {
        self.get_schema
    }

    fn get_next(&self) -> Option<GetNext<Self>> {
        self.get_next
    }

    fn get_last_error(&self) -> Option<GetLastError<Self>> {
        self.get_last_error
    }

    fn exported(
        get_schema: GetSchema<Self>,
        get_next: GetNext<Self>,
        get_last_error: GetLastError<Self>,
        release: Release<Self>,
        private_data: *mut c_void,
    ) -> Self {
        ArrowArrayStream {
            get_schema: Some(get_schema),
            get_next: Some(get_next),
            get_last_error: Some(get_last_error),
            release: Some(release),
            private_data,
        }
    }

    fn export_array(array: FFI_ArrowArray) -> ArrowArray {
        array.into_sys()
    }

    fn accept(&self, (): &()) -> Result<()> {
        Ok(())
    }

    unsafe fn import_array(&self, (): &mut (), array: ArrowArray) -> Result<FFI_ArrowArray> {
        // SAFETY: per the caller, `array` is an unreleased array of the C Stream Interface, which
        // follows the C Data Interface.
        Ok(unsafe { FFI_ArrowArray::from_sys(array) })
    }
}
