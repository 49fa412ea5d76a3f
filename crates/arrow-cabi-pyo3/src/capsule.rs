//! The raw capsule layer: moving a C struct out of a capsule, and wrapping one in a new capsule.
//!
//! Every `unsafe` block of the crate is here.
//!
//! Capsules are made with the raw `PyCapsule_New` and an `extern "C"` destructor rather than pyo3's
//! `PyCapsule::new_with_destructor`: the capsule's pointer is then exactly the heap `ArrowSchema` /
//! `ArrowArray` / `ArrowArrayStream` (a `Box` of the `#[repr(transparent)]` owner), which is what every
//! consumer's `PyCapsule_GetPointer` expects, and the destructor is one short function whose behaviour
//! is the protocol's: call `release` if it is not NULL (a consumer that moved the struct out left NULL),
//! then free the struct.

use std::ffi::{c_void, CStr};

use arrow_cabi::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use arrow_cabi::device::{FFI_ArrowDeviceArray, FFI_ArrowDeviceArrayStream};
use arrow_cabi::ffi_stream::FFI_ArrowArrayStream;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::types::PyCapsule;
use pyo3::{ffi, prelude::*};

/// The capsule name of a schema: `arrow_schema`.
pub const SCHEMA_CAPSULE_NAME: &CStr = c"arrow_schema";
/// The capsule name of an array: `arrow_array`.
pub const ARRAY_CAPSULE_NAME: &CStr = c"arrow_array";
/// The capsule name of a stream: `arrow_array_stream`.
pub const STREAM_CAPSULE_NAME: &CStr = c"arrow_array_stream";
/// The capsule name of a device array: `arrow_device_array`.
pub const DEVICE_ARRAY_CAPSULE_NAME: &CStr = c"arrow_device_array";
/// The capsule name of a device stream: `arrow_device_array_stream`.
pub const DEVICE_STREAM_CAPSULE_NAME: &CStr = c"arrow_device_array_stream";

mod sealed {
    pub trait Sealed {}
    impl Sealed for arrow_cabi::ffi::FFI_ArrowSchema {}
    impl Sealed for arrow_cabi::ffi::FFI_ArrowArray {}
    impl Sealed for arrow_cabi::ffi_stream::FFI_ArrowArrayStream {}
    impl Sealed for arrow_cabi::device::FFI_ArrowDeviceArray {}
    impl Sealed for arrow_cabi::device::FFI_ArrowDeviceArrayStream {}
}

/// One of the owned C structs that travel in a capsule: [`FFI_ArrowSchema`], [`FFI_ArrowArray`],
/// [`FFI_ArrowArrayStream`], [`FFI_ArrowDeviceArray`] and [`FFI_ArrowDeviceArrayStream`]. Sealed:
/// each is `#[repr(transparent)]` over its C struct, released when dropped unless it is released (a
/// device array through its embedded array's `release`).
pub trait CapsuleStruct: sealed::Sealed + Sized + Send + 'static {
    /// The capsule name the PyCapsule protocol gives this struct.
    const NAME: &'static CStr;
    /// A released struct, left behind by a move.
    fn released() -> Self;
    /// Whether `release` is NULL.
    fn is_released_struct(&self) -> bool;
}

impl CapsuleStruct for FFI_ArrowSchema {
    const NAME: &'static CStr = SCHEMA_CAPSULE_NAME;
    fn released() -> Self {
        FFI_ArrowSchema::empty()
    }
    fn is_released_struct(&self) -> bool {
        self.is_released()
    }
}

impl CapsuleStruct for FFI_ArrowArray {
    const NAME: &'static CStr = ARRAY_CAPSULE_NAME;
    fn released() -> Self {
        FFI_ArrowArray::empty()
    }
    fn is_released_struct(&self) -> bool {
        self.is_released()
    }
}

impl CapsuleStruct for FFI_ArrowArrayStream {
    const NAME: &'static CStr = STREAM_CAPSULE_NAME;
    fn released() -> Self {
        FFI_ArrowArrayStream::empty()
    }
    fn is_released_struct(&self) -> bool {
        self.is_released()
    }
}

impl CapsuleStruct for FFI_ArrowDeviceArray {
    const NAME: &'static CStr = DEVICE_ARRAY_CAPSULE_NAME;
    fn released() -> Self {
        FFI_ArrowDeviceArray::empty()
    }
    fn is_released_struct(&self) -> bool {
        self.is_released()
    }
}

impl CapsuleStruct for FFI_ArrowDeviceArrayStream {
    const NAME: &'static CStr = DEVICE_STREAM_CAPSULE_NAME;
    fn released() -> Self {
        FFI_ArrowDeviceArrayStream::empty()
    }
    fn is_released_struct(&self) -> bool {
        self.is_released()
    }
}

/// Checks that `object` is a capsule named `T::NAME` (the `PyCapsule_IsValid` test) and returns the
/// pointer it holds. TypeError if it is not a capsule or has another name.
fn checked_pointer<T: CapsuleStruct>(object: &Bound<'_, PyAny>) -> PyResult<*mut T> {
    let wanted = T::NAME.to_string_lossy();
    if !object.is_instance_of::<PyCapsule>() {
        let type_name = object
            .get_type()
            .name()
            .map_or_else(|_| "?".to_owned(), |n| n.to_string());
        return Err(PyTypeError::new_err(format!(
            "expected a PyCapsule named '{wanted}', got an object of type '{type_name}'"
        )));
    }
    // SAFETY:
    // - `object` is a live object (we hold a reference) and the thread is attached to the interpreter;
    // - `T::NAME` is a NUL-terminated static string.
    let valid = unsafe { ffi::PyCapsule_IsValid(object.as_ptr(), T::NAME.as_ptr()) } == 1;
    if !valid {
        // SAFETY: `object` is a capsule (checked above); the returned name is NULL or a NUL-terminated
        // string that lives as long as the capsule, which we hold, and is copied out at once.
        let name = unsafe { ffi::PyCapsule_GetName(object.as_ptr()) };
        // A raw pointer throughout: a `&c_char` would cover one byte, not the whole string.
        let name = (!name.is_null()).then(|| {
            // SAFETY: as above, a non-NULL name is NUL-terminated and outlives this call.
            let name = unsafe { CStr::from_ptr(name) };
            name.to_string_lossy().into_owned()
        });
        // GetName on a valid capsule sets no error, but clear any so none leaks into a later call.
        drop(PyErr::take(object.py()));
        let found = name.map_or_else(
            || "a capsule with no name".to_owned(),
            |n| format!("a capsule named '{n}'"),
        );
        return Err(PyTypeError::new_err(format!(
            "expected a PyCapsule named '{wanted}', got {found}"
        )));
    }
    // SAFETY: `object` is a valid capsule named `T::NAME` (PyCapsule_IsValid returned 1), so this
    // returns its non-NULL pointer and sets no error.
    let pointer = unsafe { ffi::PyCapsule_GetPointer(object.as_ptr(), T::NAME.as_ptr()) };
    Ok(pointer.cast::<T>())
}

/// Checks, without consuming it, that `object` is a capsule named `T::NAME` holding an unreleased
/// struct: the errors [`take_from_capsule`] would raise.
pub fn check<T: CapsuleStruct>(object: &Bound<'_, PyAny>) -> PyResult<()> {
    let pointer = checked_pointer::<T>(object)?;
    // SAFETY: as in `take_from_capsule`: a live struct owned by the capsule we hold; only read.
    if unsafe { (*pointer).is_released_struct() } {
        return Err(consumed::<T>());
    }
    Ok(())
}

fn consumed<T: CapsuleStruct>() -> PyErr {
    PyValueError::new_err(format!(
        "the '{}' capsule was already consumed (its struct is released)",
        T::NAME.to_string_lossy()
    ))
}

/// Moves the struct out of a capsule named `T::NAME`, leaving a released struct (`release` NULL) behind,
/// so the capsule's destructor only frees it.
///
/// Errors (never a crash): TypeError when `object` is not a capsule or has another name; ValueError
/// when the struct is already released, i.e. the capsule was consumed before.
pub fn take_from_capsule<T: CapsuleStruct>(object: &Bound<'_, PyAny>) -> PyResult<T> {
    let pointer = checked_pointer::<T>(object)?;
    // SAFETY: by the PyCapsule protocol a capsule named `T::NAME` holds a pointer to a live, aligned,
    // writable `struct ArrowSchema` / `ArrowArray` / `ArrowArrayStream` owned by the capsule, released or
    // valid per the C interfaces; `T` is `repr(transparent)` over it. The thread is attached and we call
    // no Python code between this read and the write below, so no one else touches it meanwhile.
    let released = unsafe { (*pointer).is_released_struct() };
    if released {
        return Err(consumed::<T>());
    }
    // SAFETY: as above; `replace` moves the struct out and writes a released one in its place, which the
    // capsule's destructor will see as moved (release NULL) and only free.
    Ok(unsafe { std::ptr::replace(pointer, T::released()) })
}

/// Reads a schema capsule without consuming it, e.g. a `requested_schema` that stays its caller's.
/// Same errors as [`take_from_capsule`].
pub fn with_borrowed_schema<R>(
    object: &Bound<'_, PyAny>,
    f: impl FnOnce(&FFI_ArrowSchema) -> PyResult<R>,
) -> PyResult<R> {
    let pointer = checked_pointer::<FFI_ArrowSchema>(object)?;
    // SAFETY: as in `take_from_capsule`, the pointer is to a live schema owned by the capsule, which we
    // hold for the whole call; we only read it, and run no Python code that could consume it meanwhile.
    let schema = unsafe { &*pointer };
    if schema.is_released() {
        return Err(consumed::<FFI_ArrowSchema>());
    }
    f(schema)
}

/// The capsule destructor: calls `release` if the struct was not moved out, then frees the struct.
///
/// # Safety
/// Called by Python, attached, with a capsule made by [`new_capsule`] for the same `T`.
unsafe extern "C" fn destructor<T: CapsuleStruct>(capsule: *mut ffi::PyObject) {
    // SAFETY: Python passes the capsule being destroyed, still valid during this call; `T::NAME` is the
    // name it was created with, so this returns its pointer unless someone renamed the capsule.
    let pointer = unsafe { ffi::PyCapsule_GetPointer(capsule, T::NAME.as_ptr()) };
    if pointer.is_null() {
        // Renamed by someone else: we cannot know what the pointer is any more, so leak it rather than
        // free the wrong thing, and report through sys.unraisablehook (which clears the error).
        // SAFETY: attached; `capsule` is a valid object for the duration of the call.
        unsafe { ffi::PyErr_WriteUnraisable(capsule) };
        return;
    }
    // SAFETY: the pointer came from `Box::<T>::into_raw` in `new_capsule` and is freed only here, once.
    // Dropping `T` calls `release` when it is not NULL (the struct was not consumed).
    drop(unsafe { Box::from_raw(pointer.cast::<T>()) });
}

/// Wraps `value` in a new capsule named `T::NAME` that owns it: the struct moves to the heap, and the
/// capsule's destructor releases it (unless a consumer moved it out) and frees it.
pub fn new_capsule<T: CapsuleStruct>(py: Python<'_>, value: T) -> PyResult<Bound<'_, PyCapsule>> {
    let pointer = Box::into_raw(Box::new(value));
    // SAFETY:
    // - attached (we hold `py`);
    // - `pointer` is non-NULL, from `Box::into_raw`, and owned by the capsule from now on;
    // - the name is a static NUL-terminated string, so it outlives the capsule as the API requires;
    // - `destructor::<T>` matches the pointer's type and name.
    let capsule = unsafe {
        ffi::PyCapsule_New(
            pointer.cast::<c_void>(),
            T::NAME.as_ptr(),
            Some(destructor::<T>),
        )
    };
    if capsule.is_null() {
        // SAFETY: PyCapsule_New failed, so it did not take `pointer`: it is still ours to free (and the
        // drop releases the struct).
        drop(unsafe { Box::from_raw(pointer) });
        return Err(PyErr::fetch(py));
    }
    // SAFETY: `capsule` is a new (owned) reference to a capsule object.
    Ok(unsafe { Bound::from_owned_ptr(py, capsule).cast_into_unchecked() })
}
