//! arrow-cabi: the Arrow C Data, C Stream and C Device interfaces for arrow-rs.
#![deny(unsafe_op_in_unsafe_fn)]

pub mod error;
pub mod format;
pub mod metadata;

pub use error::{Error, Result};
