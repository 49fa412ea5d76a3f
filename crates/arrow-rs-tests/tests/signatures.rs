//! The compile test of issue 13: every public item of arrow-rs 60.1's `ffi` and `ffi_stream`, in
//! arrow-rs's signature (`signatures/items.rs`, one line each), compiled against arrow-cabi and, as the
//! control that the lines are right, against arrow-rs; only the `use` lines differ.
#![allow(missing_docs)]

/// The items from arrow-cabi.
mod against_arrow_cabi {
    use arrow_cabi::ffi::{from_ffi, from_ffi_and_data_type, to_ffi, FFI_ArrowArray, FFI_ArrowSchema, Flags};
    #[allow(deprecated)]
    use arrow_cabi::ffi_stream::{ArrayStreamReader, ArrowArrayStreamReader, FFI_ArrowArrayStream, RecordBatchStreamReader};
    include!("signatures/items.rs");
}

/// The same items from arrow-rs (`Flags` lives only in `arrow_schema::ffi` there).
mod against_arrow_rs {
    use arrow::ffi::{from_ffi, from_ffi_and_data_type, to_ffi, FFI_ArrowArray, FFI_ArrowSchema};
    #[allow(deprecated)]
    use arrow::ffi_stream::{ArrayStreamReader, ArrowArrayStreamReader, FFI_ArrowArrayStream, RecordBatchStreamReader};
    use arrow_schema::ffi::Flags;
    include!("signatures/items.rs");
}
