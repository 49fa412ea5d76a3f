//! arrow-rs 60.1's own tests of `ffi` and `ffi_stream` (`arrow-schema/src/ffi.rs`,
//! `arrow-array/src/ffi.rs`, `arrow-array/src/ffi_stream.rs`), extracted by `build.rs` from the
//! registry sources of the crates in Cargo.lock with only their paths rewritten, run twice:
//! `against_arrow_cabi::*` with `ffi` / `ffi_stream` pointed at arrow-cabi, and `against_arrow_rs::*`,
//! the control, pointed at arrow-rs itself from outside its crate. MIGRATING.md lists the tests that
//! fail against arrow-cabi and why; `build.rs` lists those left out (they use arrow-rs's private
//! internals, so they cannot compile from outside arrow-rs either).
//!
//! The code is arrow-rs's, unedited but for paths; the lints of this workspace do not apply to it.
#![allow(missing_docs, unused_imports, unused_mut, dead_code, deprecated, unexpected_cfgs)]
#![allow(clippy::all, clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]

/// arrow-rs's tests, pointed at arrow-cabi.
mod against_arrow_cabi {
    include!(concat!(env!("OUT_DIR"), "/against_arrow_cabi.rs"));
}

/// The same tests, pointed at arrow-rs: the control. Not built under Miri: no arrow-cabi code runs in
/// it, and it took half of this file's Miri time (docs/SAFETY.md).
#[cfg(not(miri))]
mod against_arrow_rs {
    include!(concat!(env!("OUT_DIR"), "/against_arrow_rs.rs"));
}
