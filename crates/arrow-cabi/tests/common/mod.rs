//! Shared helpers for the integration tests of arrow-cabi.
//!
//! Each test binary compiles this module separately and uses only part of it.
#![allow(dead_code)]

pub mod arrays;
pub mod counting;
