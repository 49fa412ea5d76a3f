//! Nothing to use: this crate's test target, `tests/arrow_rs.rs`, runs arrow-rs 60.1's own tests of
//! `ffi` and `ffi_stream` against arrow-cabi. Its build script extracts them from the registry
//! sources of the exact arrow-rs crates in Cargo.lock and rewrites only their paths.
