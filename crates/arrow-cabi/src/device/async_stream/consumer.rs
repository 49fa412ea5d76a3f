//! [`Consumer`]: the foreign handler our export drives, its callbacks called one at a time.

use std::ffi::{c_char, c_int, CString};
use std::ptr::{self, NonNull};

use arrow_cabi_sys::{ArrowAsyncDeviceStreamHandler, ArrowAsyncProducer, ArrowAsyncTask, ArrowSchema};

use crate::error::{Error, Path, Result};
use crate::schema::FFI_ArrowSchema;

/// The callback types of abi.h's handler.
type OnSchema = unsafe extern "C" fn(*mut ArrowAsyncDeviceStreamHandler, *mut ArrowSchema) -> c_int;
type OnNextTask = unsafe extern "C" fn(*mut ArrowAsyncDeviceStreamHandler, *mut ArrowAsyncTask, *const c_char) -> c_int;
type OnError = unsafe extern "C" fn(*mut ArrowAsyncDeviceStreamHandler, c_int, *const c_char, *const c_char);
type Release = unsafe extern "C" fn(*mut ArrowAsyncDeviceStreamHandler);

/// A foreign handler and its four callbacks (read once, when it is handed over), until its
/// `release` is called.
pub(super) struct Consumer {
    handler: NonNull<ArrowAsyncDeviceStreamHandler>,
    on_schema: OnSchema,
    on_next_task: OnNextTask,
    on_error: OnError,
    release: Release,
}

// SAFETY: the spec lets a producer call a handler's callbacks from any thread ("not guaranteed
// to be called from the same thread every time"), one at a time, which `&mut self` ensures.
unsafe impl Send for Consumer {}

impl Consumer {
    /// Checks `handler` (non-NULL, every callback set) and sets its `producer`. A handler with a
    /// `release` but a missing other callback is released here.
    ///
    /// # Safety
    /// `handler` is NULL or valid per [`export_async_device_stream`](super::export_async_device_stream),
    /// and `producer` stays valid until [`release`](Self::release) has returned.
    pub(super) unsafe fn new(handler: *mut ArrowAsyncDeviceStreamHandler, producer: *mut ArrowAsyncProducer) -> Result<Self> {
        let path = Path::root("handler");
        let Some(handler) = NonNull::new(handler) else { return Err(path.invalid("NULL handler")) };
        // SAFETY: per the caller, a non-NULL handler is valid and ours to use until released.
        let raw = unsafe { &mut *handler.as_ptr() };
        let Some(release) = raw.release else { return Err(path.field("release").invalid("NULL callback")) };
        let (Some(on_schema), Some(on_next_task), Some(on_error)) = (raw.on_schema, raw.on_next_task, raw.on_error) else {
            let name = if raw.on_schema.is_none() { "on_schema" } else if raw.on_next_task.is_none() { "on_next_task" } else { "on_error" };
            // SAFETY: the handler is valid and unreleased; release is its last call.
            unsafe { release(handler.as_ptr()) };
            return Err(path.field(name).invalid("NULL callback"));
        };
        raw.producer = producer;
        Ok(Consumer { handler, on_schema, on_next_task, on_error, release })
    }

    /// `on_schema` with `schema` (moved to the consumer); 0 or the consumer's refusal.
    pub(super) fn on_schema(&mut self, schema: FFI_ArrowSchema) -> Result<()> {
        let mut schema = schema.into_sys();
        // SAFETY: the handler is valid and unreleased (`release` consumes self); `schema` is a
        // valid schema whose ownership passes to it.
        let code = unsafe { (self.on_schema)(self.handler.as_ptr(), &mut schema) };
        refused("on_schema", code)
    }

    /// `on_next_task` with `task` (NULL at the end); 0 or the consumer's refusal.
    pub(super) fn on_next_task(&mut self, task: Option<&mut ArrowAsyncTask>) -> Result<()> {
        let task = task.map_or(ptr::null_mut(), ptr::from_mut);
        // SAFETY: the handler is valid and unreleased; the task is NULL or valid for the call.
        let code = unsafe { (self.on_next_task)(self.handler.as_ptr(), task, ptr::null()) };
        refused("on_next_task", code)
    }

    /// `on_error` with `error`'s errno and message (NUL bytes replaced).
    pub(super) fn on_error(&mut self, error: &Error) {
        let message = CString::new(error.to_string().replace('\0', "\u{FFFD}")).unwrap_or_default();
        // SAFETY: the handler is valid and unreleased; the message lives through the call.
        unsafe { (self.on_error)(self.handler.as_ptr(), error.errno(), message.as_ptr(), ptr::null()) };
    }

    /// `release`: the handler's last call.
    pub(super) fn release(self) {
        // SAFETY: the handler is valid and unreleased; `self` is consumed, so nothing follows.
        unsafe { (self.release)(self.handler.as_ptr()) };
    }
}

/// A handler callback's return code as a result.
fn refused(callback: &'static str, code: c_int) -> Result<()> {
    if code == 0 {
        Ok(())
    } else {
        Err(Error::Consumer { callback, code })
    }
}
