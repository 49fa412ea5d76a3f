//! A CPU `ArrowDeviceArrayStream` behind the plain `ArrowArrayStream` callbacks, zero-copy: each
//! device array's embedded array is moved out. Each callback runs through [`boundary::catch`].

use std::ffi::{c_char, c_int, CString};
use std::ptr;

use arrow_cabi_sys::{ArrowArray, ArrowArrayStream, ArrowSchema};

use super::{ArrowDeviceType, FFI_ArrowDeviceArray, FFI_ArrowDeviceArrayStream};
use crate::boundary;
use crate::error::{Error, Path, Result};

/// The state behind `private_data`: the device stream, and the message of our own last failure.
struct ToHost {
    device: FFI_ArrowDeviceArrayStream,
    last_error: Option<CString>,
}

/// The plain stream around `device`, after checking it: unreleased, with `get_schema` and
/// `get_next`, declaring CPU. On error `device` is released (dropped). One allocation.
pub(super) fn wrap(device: FFI_ArrowDeviceArrayStream) -> Result<ArrowArrayStream> {
    let path = Path::root("device_stream");
    let raw = device.as_sys();
    if raw.release.is_none() {
        return Err(path.invalid("the stream is released (its release callback is NULL)"));
    }
    if raw.get_schema.is_none() || raw.get_next.is_none() {
        let which = if raw.get_schema.is_none() { "get_schema" } else { "get_next" };
        return Err(path.field(which).invalid("NULL callback"));
    }
    let declared = device.device_type();
    if declared != ArrowDeviceType::CPU {
        return Err(Error::Unsupported(format!(
            "{}: the stream's arrays are in {declared} memory, which this process cannot read",
            path.field("device_type")
        )));
    }
    let state = Box::new(ToHost { device, last_error: None });
    Ok(ArrowArrayStream {
        get_schema: Some(get_schema),
        get_next: Some(get_next),
        get_last_error: Some(get_last_error),
        release: Some(release),
        private_data: Box::into_raw(state).cast(),
    })
}

/// Runs one callback body with the state; our own failure becomes its errno and a message.
///
/// # Safety
/// `stream` is NULL or a stream [`wrap`] made, not yet released.
unsafe fn call(stream: *mut ArrowArrayStream, body: impl FnOnce(&mut ToHost) -> Result<c_int>) -> c_int {
    // SAFETY: per the caller, a non-NULL stream is ours, so `private_data` is NULL or our state.
    let Some(state) = (unsafe { stream.as_mut().and_then(|s| s.private_data.cast::<ToHost>().as_mut()) }) else {
        return libc::EINVAL;
    };
    state.last_error = None;
    let result = boundary::catch(|| body(state));
    boundary::answer(result, &mut state.last_error)
}

/// `get_schema`: the device stream's (a schema is always in host memory).
///
/// # Safety
/// As [`call`]; `out` is NULL or writable.
unsafe extern "C" fn get_schema(stream: *mut ArrowArrayStream, out: *mut ArrowSchema) -> c_int {
    let body = |state: &mut ToHost| {
        let get_schema = state.device.as_sys().get_schema.ok_or_else(|| Error::Unsupported("get_schema: NULL".into()))?;
        // SAFETY: the device stream is unreleased and follows its interface; `out` per the caller.
        Ok(unsafe { get_schema(state.device.as_mut_ptr(), out) })
    };
    // SAFETY: forwarded from the caller.
    unsafe { call(stream, body) }
}

/// `get_next`: the device stream's next array, checked to be on the stream's device (CPU), with
/// its embedded array moved into `out`; a released array at the end.
///
/// # Safety
/// As [`call`]; `out` is NULL or writable.
unsafe extern "C" fn get_next(stream: *mut ArrowArrayStream, out: *mut ArrowArray) -> c_int {
    let body = |state: &mut ToHost| {
        if out.is_null() {
            return Err(Error::Unsupported("get_next: the out pointer is NULL".into()));
        }
        let get_next = state.device.as_sys().get_next.ok_or_else(|| Error::Unsupported("get_next: NULL".into()))?;
        let mut next = FFI_ArrowDeviceArray::empty();
        // SAFETY: the device stream is unreleased; `next` is a writable, released device array.
        let code = unsafe { get_next(state.device.as_mut_ptr(), next.as_mut_ptr()) };
        if code != 0 {
            return Ok(code);
        }
        let array = if next.is_released() {
            ArrowArray::EMPTY
        } else {
            let declared = state.device.device_type();
            if next.device_type() != declared {
                // `next` is dropped on return, which releases it.
                return Err(Path::root("device_array").field("device_type").invalid(format!(
                    "the stream declared {declared}, but get_next handed an array in {} memory",
                    next.device_type()
                )));
            }
            // Unreleased and on the stream's device, which `wrap` checked is CPU: its embedded
            // array is a plain array of host memory, moved out as it is.
            next.into_sys().array
        };
        // SAFETY: `out` is non-NULL and writable per the caller; it is uninitialised.
        unsafe { ptr::write(out, array) };
        Ok(0)
    };
    // SAFETY: forwarded from the caller.
    unsafe { call(stream, body) }
}

/// `get_last_error`: our own message if our code failed, else the device stream's.
///
/// # Safety
/// As [`call`].
unsafe extern "C" fn get_last_error(stream: *mut ArrowArrayStream) -> *const c_char {
    // SAFETY: per the caller, a non-NULL stream is ours.
    let Some(state) = (unsafe { stream.as_mut().and_then(|s| s.private_data.cast::<ToHost>().as_mut()) }) else {
        return ptr::null();
    };
    if let Some(message) = &state.last_error {
        return message.as_ptr();
    }
    match state.device.as_sys().get_last_error {
        // SAFETY: the device stream is unreleased; its string lives until its next call.
        Some(get_last_error) => unsafe { get_last_error(state.device.as_mut_ptr()) },
        None => ptr::null(),
    }
}

/// `release`: releases the device stream (a panic in a `Drop` is caught) and marks this one released.
///
/// # Safety
/// `stream` is NULL or one [`wrap`] made.
unsafe extern "C" fn release(stream: *mut ArrowArrayStream) {
    // SAFETY: per the caller.
    let Some(stream) = (unsafe { stream.as_mut() }) else { return };
    let state = std::mem::replace(&mut stream.private_data, ptr::null_mut()).cast::<ToHost>();
    stream.release = None;
    if state.is_null() {
        return;
    }
    // SAFETY: `private_data` came from `Box::into_raw` in `wrap` and was reset above, so it is
    // reclaimed once.
    let state = unsafe { Box::from_raw(state) };
    boundary::catch_in_release(move || drop(state));
}
