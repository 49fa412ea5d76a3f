//! A plain `ArrowArrayStream` behind the `ArrowDeviceArrayStream` callbacks: the CPU device
//! stream export, zero-copy. Each callback runs through [`boundary::catch`].

use std::ffi::{c_char, c_int, CString};
use std::ptr;

use arrow_cabi_sys::{ArrowArray, ArrowDeviceArray, ArrowDeviceArrayStream, ArrowSchema};

use super::ArrowDeviceType;
use crate::boundary;
use crate::error::{Error, Result};
use crate::stream::FFI_ArrowArrayStream;

/// The state behind `private_data`: the plain stream, and the message of our own last failure.
struct ToDevice {
    host: FFI_ArrowArrayStream,
    last_error: Option<CString>,
}

/// The device stream around `host`; a released `host` gives a released device stream. One allocation.
pub(super) fn wrap(host: FFI_ArrowArrayStream) -> ArrowDeviceArrayStream {
    if host.is_released() {
        return ArrowDeviceArrayStream::EMPTY;
    }
    let state = Box::new(ToDevice { host, last_error: None });
    ArrowDeviceArrayStream {
        device_type: ArrowDeviceType::CPU.value(),
        get_schema: Some(get_schema),
        get_next: Some(get_next),
        get_last_error: Some(get_last_error),
        release: Some(release),
        private_data: Box::into_raw(state).cast(),
    }
}

/// Runs one callback body with the state; our own failure becomes `EINVAL` (or its errno) and a message.
///
/// # Safety
/// `stream` is NULL or a stream [`wrap`] made, not yet released.
unsafe fn call(stream: *mut ArrowDeviceArrayStream, body: impl FnOnce(&mut ToDevice) -> Result<c_int>) -> c_int {
    // SAFETY: per the caller, a non-NULL stream is ours, so `private_data` is NULL or our state.
    let Some(state) = (unsafe { stream.as_mut().and_then(|s| s.private_data.cast::<ToDevice>().as_mut()) }) else {
        return libc::EINVAL;
    };
    state.last_error = None;
    let result = boundary::catch(|| body(state));
    boundary::answer(result, &mut state.last_error)
}

/// `get_schema`: the plain stream's.
///
/// # Safety
/// As [`call`]; `out` is NULL or writable.
unsafe extern "C" fn get_schema(stream: *mut ArrowDeviceArrayStream, out: *mut ArrowSchema) -> c_int {
    let body = |state: &mut ToDevice| {
        let get_schema = state.host.as_sys().get_schema.ok_or_else(|| Error::Unsupported("get_schema: the plain stream has none".into()))?;
        // SAFETY: the plain stream is unreleased and follows its interface; `out` per the caller.
        Ok(unsafe { get_schema(state.host.as_mut_ptr(), out) })
    };
    // SAFETY: forwarded from the caller.
    unsafe { call(stream, body) }
}

/// `get_next`: writes a CPU device array into `out` and the plain stream's next array into its
/// embedded array (released at the end, as the plain stream signals it).
///
/// # Safety
/// As [`call`]; `out` is NULL or writable.
unsafe extern "C" fn get_next(stream: *mut ArrowDeviceArrayStream, out: *mut ArrowDeviceArray) -> c_int {
    let body = |state: &mut ToDevice| {
        if out.is_null() {
            return Err(Error::Unsupported("get_next: the out pointer is NULL".into()));
        }
        let get_next = state.host.as_sys().get_next.ok_or_else(|| Error::Unsupported("get_next: the plain stream has none".into()))?;
        let device = ArrowDeviceArray {
            array: ArrowArray::EMPTY,
            device_id: -1,
            device_type: ArrowDeviceType::CPU.value(),
            sync_event: ptr::null_mut(),
            reserved: [0; 3],
        };
        // SAFETY: `out` is non-NULL and writable per the caller; it is uninitialised, so it is
        // overwritten without release.
        unsafe { ptr::write(out, device) };
        // SAFETY: the plain stream is unreleased; `out`'s embedded array is writable.
        Ok(unsafe { get_next(state.host.as_mut_ptr(), ptr::addr_of_mut!((*out).array)) })
    };
    // SAFETY: forwarded from the caller.
    unsafe { call(stream, body) }
}

/// `get_last_error`: our own message if our code failed, else the plain stream's.
///
/// # Safety
/// As [`call`].
unsafe extern "C" fn get_last_error(stream: *mut ArrowDeviceArrayStream) -> *const c_char {
    // SAFETY: per the caller, a non-NULL stream is ours.
    let Some(state) = (unsafe { stream.as_mut().and_then(|s| s.private_data.cast::<ToDevice>().as_mut()) }) else {
        return ptr::null();
    };
    if let Some(message) = &state.last_error {
        return message.as_ptr();
    }
    match state.host.as_sys().get_last_error {
        // SAFETY: the plain stream is unreleased; its string lives until its next call, which is
        // the device stream's next call.
        Some(get_last_error) => unsafe { get_last_error(state.host.as_mut_ptr()) },
        None => ptr::null(),
    }
}

/// `release`: releases the plain stream (a panic in its `Drop` is caught) and marks this one released.
///
/// # Safety
/// `stream` is NULL or one [`wrap`] made.
unsafe extern "C" fn release(stream: *mut ArrowDeviceArrayStream) {
    // SAFETY: per the caller.
    let Some(stream) = (unsafe { stream.as_mut() }) else { return };
    let state = std::mem::replace(&mut stream.private_data, ptr::null_mut()).cast::<ToDevice>();
    stream.release = None;
    if state.is_null() {
        return;
    }
    // SAFETY: `private_data` came from `Box::into_raw` in `wrap` and was reset above, so it is
    // reclaimed once.
    let state = unsafe { Box::from_raw(state) };
    boundary::catch_in_release(move || drop(state));
}
