//! The raw structs of the Arrow C ABI, exactly as Apache Arrow's `abi.h` declares them.
//!
//! This crate has no dependencies and no logic: `#[repr(C)]` structs whose fields carry the names and
//! types of `abi.h`, the flag and device-type constants, and tests that check the size, alignment and
//! offset of every field. Callback fields are `Option<unsafe extern "C" fn ...>` so that a NULL pointer
//! from C is `None` rather than undefined behaviour.
//!
//! The safe layer lives in the `arrow-cabi` crate; use these structs directly only to talk to C code
//! that this crate's owners do not cover.
//!
//! None of these structs is `Send` or `Sync`: they hold raw pointers and own nothing. To move one to
//! another thread, wrap it in `arrow-cabi`'s owned type (`FFI_ArrowArray` and the others), or write
//! your own `unsafe impl` on a wrapper that keeps the interface's rules.
//!
//! ```
//! use arrow_cabi_sys::{ArrowArray, ArrowSchema};
//! assert_eq!(core::mem::size_of::<ArrowSchema>(), 72);
//! assert_eq!(core::mem::size_of::<ArrowArray>(), 80);
//! // A struct whose `release` is `None` is released (or was never filled).
//! assert!(ArrowSchema::EMPTY.release.is_none());
//! ```
#![no_std]

use core::ffi::{c_char, c_int, c_void};
use core::ptr;

/// `ARROW_FLAG_DICTIONARY_ORDERED`: the dictionary's values are ordered.
pub const ARROW_FLAG_DICTIONARY_ORDERED: i64 = 1;
/// `ARROW_FLAG_NULLABLE`: the field may hold nulls.
pub const ARROW_FLAG_NULLABLE: i64 = 2;
/// `ARROW_FLAG_MAP_KEYS_SORTED`: the keys of each map entry are sorted.
pub const ARROW_FLAG_MAP_KEYS_SORTED: i64 = 4;

/// `ArrowDeviceType` of abi.h: an `int32_t` holding one of the `ARROW_DEVICE_*` values (DLPack's).
pub type ArrowDeviceType = i32;
/// Host memory.
pub const ARROW_DEVICE_CPU: ArrowDeviceType = 1;
/// CUDA device memory.
pub const ARROW_DEVICE_CUDA: ArrowDeviceType = 2;
/// Pinned CUDA host memory.
pub const ARROW_DEVICE_CUDA_HOST: ArrowDeviceType = 3;
/// OpenCL device memory.
pub const ARROW_DEVICE_OPENCL: ArrowDeviceType = 4;
/// Vulkan buffer.
pub const ARROW_DEVICE_VULKAN: ArrowDeviceType = 7;
/// Metal (Apple GPU) buffer.
pub const ARROW_DEVICE_METAL: ArrowDeviceType = 8;
/// Verilog simulator buffer.
pub const ARROW_DEVICE_VPI: ArrowDeviceType = 9;
/// ROCm device memory.
pub const ARROW_DEVICE_ROCM: ArrowDeviceType = 10;
/// Pinned ROCm host memory.
pub const ARROW_DEVICE_ROCM_HOST: ArrowDeviceType = 11;
/// Reserved for extension devices.
pub const ARROW_DEVICE_EXT_DEV: ArrowDeviceType = 12;
/// CUDA managed (unified) memory.
pub const ARROW_DEVICE_CUDA_MANAGED: ArrowDeviceType = 13;
/// Intel oneAPI unified shared memory.
pub const ARROW_DEVICE_ONEAPI: ArrowDeviceType = 14;
/// WebGPU buffer.
pub const ARROW_DEVICE_WEBGPU: ArrowDeviceType = 15;
/// Qualcomm Hexagon DSP memory.
pub const ARROW_DEVICE_HEXAGON: ArrowDeviceType = 16;

/// `struct ArrowSchema`: the type, name, flags and metadata of one field and its children.
#[repr(C)]
#[derive(Debug)]
pub struct ArrowSchema {
    /// Mandatory UTF-8, NUL-terminated format string.
    pub format: *const c_char,
    /// Optional NUL-terminated field name (NULL or empty allowed).
    pub name: *const c_char,
    /// Optional binary key/value metadata; NULL when there is none.
    pub metadata: *const c_char,
    /// Bit set of `ARROW_FLAG_*`.
    pub flags: i64,
    /// Number of entries in `children`.
    pub n_children: i64,
    /// Array of `n_children` pointers to child schemas.
    pub children: *mut *mut ArrowSchema,
    /// The value type of a dictionary-encoded field, or NULL.
    pub dictionary: *mut ArrowSchema,
    /// Releases this schema and everything it owns; NULL once released.
    pub release: Option<unsafe extern "C" fn(schema: *mut ArrowSchema)>,
    /// Producer-owned data, opaque to consumers.
    pub private_data: *mut c_void,
}

/// `struct ArrowArray`: the buffers, children and dictionary of one array node.
#[repr(C)]
#[derive(Debug)]
pub struct ArrowArray {
    /// Logical length in elements.
    pub length: i64,
    /// Number of nulls, or -1 if not computed.
    pub null_count: i64,
    /// Logical offset into the buffers, in elements.
    pub offset: i64,
    /// Number of entries in `buffers`.
    pub n_buffers: i64,
    /// Number of entries in `children`.
    pub n_children: i64,
    /// Array of `n_buffers` buffer pointers (each may be NULL where the spec allows).
    pub buffers: *mut *const c_void,
    /// Array of `n_children` pointers to child arrays.
    pub children: *mut *mut ArrowArray,
    /// The dictionary values of a dictionary-encoded array, or NULL.
    pub dictionary: *mut ArrowArray,
    /// Releases this array and everything it owns; NULL once released.
    pub release: Option<unsafe extern "C" fn(array: *mut ArrowArray)>,
    /// Producer-owned data, opaque to consumers.
    pub private_data: *mut c_void,
}

/// `struct ArrowArrayStream`: a pull-based stream of arrays sharing one schema.
#[repr(C)]
#[derive(Debug)]
pub struct ArrowArrayStream {
    /// Writes the stream's schema into `out`; returns 0 or an errno-like code.
    pub get_schema:
        Option<unsafe extern "C" fn(stream: *mut ArrowArrayStream, out: *mut ArrowSchema) -> c_int>,
    /// Writes the next array into `out` (released `out` = end of stream); returns 0 or an errno-like code.
    pub get_next:
        Option<unsafe extern "C" fn(stream: *mut ArrowArrayStream, out: *mut ArrowArray) -> c_int>,
    /// The message of the last failed call, valid until the next call on the stream; may be NULL.
    pub get_last_error: Option<unsafe extern "C" fn(stream: *mut ArrowArrayStream) -> *const c_char>,
    /// Releases the stream; NULL once released.
    pub release: Option<unsafe extern "C" fn(stream: *mut ArrowArrayStream)>,
    /// Producer-owned data, opaque to consumers.
    pub private_data: *mut c_void,
}

/// `struct ArrowDeviceArray`: an `ArrowArray` whose buffers live on a device.
#[repr(C)]
#[derive(Debug)]
pub struct ArrowDeviceArray {
    /// The array; its `release` releases the whole device array.
    pub array: ArrowArray,
    /// Device id, or -1 where the device type has only one.
    pub device_id: i64,
    /// One of the `ARROW_DEVICE_*` constants.
    pub device_type: ArrowDeviceType,
    /// Event to wait on before reading the buffers, or NULL.
    pub sync_event: *mut c_void,
    /// Reserved; producers must zero it.
    pub reserved: [i64; 3],
}

/// `struct ArrowDeviceArrayStream`: a stream of device arrays, all on `device_type`.
#[repr(C)]
#[derive(Debug)]
pub struct ArrowDeviceArrayStream {
    /// The device type every array of the stream is on.
    pub device_type: ArrowDeviceType,
    /// Writes the stream's schema into `out`; returns 0 or an errno-like code.
    pub get_schema: Option<
        unsafe extern "C" fn(stream: *mut ArrowDeviceArrayStream, out: *mut ArrowSchema) -> c_int,
    >,
    /// Writes the next device array into `out`; returns 0 or an errno-like code.
    pub get_next: Option<
        unsafe extern "C" fn(stream: *mut ArrowDeviceArrayStream, out: *mut ArrowDeviceArray) -> c_int,
    >,
    /// The message of the last failed call, valid until the next call; may be NULL.
    pub get_last_error:
        Option<unsafe extern "C" fn(stream: *mut ArrowDeviceArrayStream) -> *const c_char>,
    /// Releases the stream; NULL once released.
    pub release: Option<unsafe extern "C" fn(stream: *mut ArrowDeviceArrayStream)>,
    /// Producer-owned data, opaque to consumers.
    pub private_data: *mut c_void,
}

/// `struct ArrowAsyncTask`: one unit of data handed to an async handler's `on_next_task`.
#[repr(C)]
#[derive(Debug)]
pub struct ArrowAsyncTask {
    /// Moves the task's data into `out` (or discards it when `out` is NULL); call exactly once.
    pub extract_data:
        Option<unsafe extern "C" fn(task: *mut ArrowAsyncTask, out: *mut ArrowDeviceArray) -> c_int>,
    /// Producer-owned data, opaque to consumers.
    pub private_data: *mut c_void,
}

/// `struct ArrowAsyncProducer`: the producer side of an async device stream, for back-pressure.
#[repr(C)]
#[derive(Debug)]
pub struct ArrowAsyncProducer {
    /// The device type every array of the stream is on.
    pub device_type: ArrowDeviceType,
    /// Asks for `n` (> 0) more tasks.
    pub request: Option<unsafe extern "C" fn(producer: *mut ArrowAsyncProducer, n: i64)>,
    /// Asks the producer to stop; idempotent.
    pub cancel: Option<unsafe extern "C" fn(producer: *mut ArrowAsyncProducer)>,
    /// Optional metadata in the `ArrowSchema.metadata` encoding, or NULL.
    pub additional_metadata: *const c_char,
    /// Producer-owned data, opaque to consumers.
    pub private_data: *mut c_void,
}

/// `struct ArrowAsyncDeviceStreamHandler`: the consumer-allocated callbacks of an async device stream.
#[repr(C)]
#[derive(Debug)]
pub struct ArrowAsyncDeviceStreamHandler {
    /// Receives the schema, first and once; non-zero asks the producer to stop.
    pub on_schema: Option<
        unsafe extern "C" fn(handler: *mut ArrowAsyncDeviceStreamHandler, schema: *mut ArrowSchema) -> c_int,
    >,
    /// Receives the next task, or NULL at the end of the stream; non-zero asks the producer to stop.
    pub on_next_task: Option<
        unsafe extern "C" fn(
            handler: *mut ArrowAsyncDeviceStreamHandler,
            task: *mut ArrowAsyncTask,
            metadata: *const c_char,
        ) -> c_int,
    >,
    /// Receives a producer error; no other callback but `release` follows.
    pub on_error: Option<
        unsafe extern "C" fn(
            handler: *mut ArrowAsyncDeviceStreamHandler,
            code: c_int,
            message: *const c_char,
            metadata: *const c_char,
        ),
    >,
    /// Releases the handler; NULL once released.
    pub release: Option<unsafe extern "C" fn(handler: *mut ArrowAsyncDeviceStreamHandler)>,
    /// Set by the producer before `on_schema`.
    pub producer: *mut ArrowAsyncProducer,
    /// Consumer-owned data, opaque to producers.
    pub private_data: *mut c_void,
}

impl ArrowSchema {
    /// A released schema with every pointer NULL: the value a consumer allocates for a producer to fill.
    pub const EMPTY: Self = Self {
        format: ptr::null(),
        name: ptr::null(),
        metadata: ptr::null(),
        flags: 0,
        n_children: 0,
        children: ptr::null_mut(),
        dictionary: ptr::null_mut(),
        release: None,
        private_data: ptr::null_mut(),
    };
}

impl ArrowArray {
    /// A released array with every pointer NULL: the value a consumer allocates for a producer to fill.
    pub const EMPTY: Self = Self {
        length: 0,
        null_count: 0,
        offset: 0,
        n_buffers: 0,
        n_children: 0,
        buffers: ptr::null_mut(),
        children: ptr::null_mut(),
        dictionary: ptr::null_mut(),
        release: None,
        private_data: ptr::null_mut(),
    };
}

impl ArrowArrayStream {
    /// A released stream with every callback NULL.
    pub const EMPTY: Self = Self {
        get_schema: None,
        get_next: None,
        get_last_error: None,
        release: None,
        private_data: ptr::null_mut(),
    };
}

impl ArrowDeviceArray {
    /// A released device array: the embedded array is [`ArrowArray::EMPTY`], the rest zero.
    pub const EMPTY: Self = Self {
        array: ArrowArray::EMPTY,
        device_id: 0,
        device_type: 0,
        sync_event: ptr::null_mut(),
        reserved: [0; 3],
    };
}

impl ArrowDeviceArrayStream {
    /// A released device stream with every callback NULL.
    pub const EMPTY: Self = Self {
        device_type: 0,
        get_schema: None,
        get_next: None,
        get_last_error: None,
        release: None,
        private_data: ptr::null_mut(),
    };
}

#[cfg(test)]
mod layout_tests;
