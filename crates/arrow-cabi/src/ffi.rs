//! The names of arrow-rs's `arrow::ffi` module, so that switching is a change of `use` lines.
//!
//! Unlike arrow-rs, every import here checks the structs (at [`Validation::Default`]) and returns
//! `Err` on a malformed one, even through the `unsafe` functions kept for signature compatibility.

pub use crate::array::{from_ffi, from_ffi_and_data_type, to_ffi, FFI_ArrowArray, Validation};
pub use crate::schema::FFI_ArrowSchema;
