//! The names of arrow-rs 60.1's `arrow::ffi` module (and of `arrow_schema::ffi`, `arrow_data::ffi`,
//! `arrow_array::ffi`), so that switching is a change of `use` lines.
//!
//! Every item has arrow-rs's signature and meaning; MIGRATING.md at the repository root lists the
//! deliberate differences. The main one: every import here checks the structs (at
//! [`Validation::Default`]) and returns `Err` naming the field on a malformed one, even through the
//! `unsafe` functions kept for signature compatibility.

pub use crate::array::{from_ffi, from_ffi_and_data_type, to_ffi, FFI_ArrowArray, Validation};
pub use crate::schema::{Flags, FFI_ArrowSchema};
pub use crate::device::{from_device_ffi, from_device_ffi_and_data_type, to_device_ffi, ArrowDeviceType, FFI_ArrowDeviceArray};
