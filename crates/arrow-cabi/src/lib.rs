//! arrow-cabi: the Arrow C Data, C Stream and C Device interfaces for arrow-rs.
#![deny(unsafe_op_in_unsafe_fn)]

pub mod array;
mod boundary;
pub mod error;
pub mod ffi;
pub mod ffi_stream;
pub mod format;
mod layout;
pub mod metadata;
pub mod schema;
pub mod stream;

pub use array::{export_array, import_array, Validation};
pub use error::{Error, Result};
