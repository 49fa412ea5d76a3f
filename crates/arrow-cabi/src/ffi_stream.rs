//! The names of arrow-rs's `arrow::ffi_stream` module, so that switching is a change of `use` lines.

pub use crate::stream::{
    export_arrays, export_batches, export_reader_into_raw, ArrayStreamReader, ArrowArrayStreamReader,
    FFI_ArrowArrayStream,
};
