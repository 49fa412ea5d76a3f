//! The names of arrow-rs 60.1's `arrow::ffi_stream` module (`arrow_array::ffi_stream`), so that
//! switching is a change of `use` lines; beside them, arrow-cabi's stream exports from any iterator.

#[allow(deprecated)]
pub use crate::stream::ArrowArrayStreamReader;
pub use crate::stream::{
    export_arrays, export_batches, export_reader_into_raw, ArrayStreamReader, FFI_ArrowArrayStream,
    RecordBatchStreamReader,
};
pub use crate::device::{
    export_device_arrays, export_device_batches, ArrowDeviceArrayStreamReader, FFI_ArrowDeviceArrayStream,
};
