//! Conformance checks of a producer of the C Data, C Stream and C Device interfaces: what it hands
//! over is checked against the rules of the interfaces ([`Rule`]), and every rule it breaks is a
//! [`Finding`] naming the rule, the field path and what was seen; what could not be checked (a
//! device's buffers, a stream stopped at [`Options::max_batches`]) is a note
//! ([`Observer::note`]), which breaks no rule.
//!
//! [`check_stream`] reads a whole stream: its schema (twice: `get_schema` must be repeatable), every
//! batch at [`Validation::Full`](crate::Validation::Full) against that schema, end of stream (three
//! times), the error path (`get_last_error`), and the release protocol of every struct it returns:
//! each release sets `release` to NULL, a parent's release releases its children (watched through a
//! spy put in each child's place, see `spy.rs`), a child moved out stays valid after its parent's
//! release, and the first schema and batch stay valid after the stream's release.
//! [`check_array`] does the same for one array and its schema. [`check_device_stream`] and
//! [`check_device_array`] do the same for the device structs, and check their device fields.
//!
//! The checks read producer memory only as the interface allows a consumer to, so a producer that
//! breaks the interface badly enough (a dangling pointer) can still crash the process: the
//! `arrow-cabi check` command runs them in a child process for that reason. Data is imported without
//! taking it over (each batch is imported from a copy of its struct whose `release` does nothing), so
//! that the producer's own release callbacks can be exercised afterwards.
//!
//! ```
//! use std::sync::Arc;
//! use arrow_array::{ArrayRef, Int32Array, RecordBatch};
//! use arrow_cabi::check::{check_stream, Finding};
//! use arrow_cabi::ffi_stream::export_batches;
//!
//! let batch = RecordBatch::try_from_iter([("x", Arc::new(Int32Array::from(vec![1, 2])) as ArrayRef)])?;
//! let stream = export_batches(batch.schema(), vec![Ok(batch.clone()), Ok(batch)]);
//! let mut findings: Vec<Finding> = Vec::new();
//! let summary = check_stream(stream, &mut findings);
//! assert!(findings.is_empty(), "{findings:?}");
//! assert_eq!((summary.batches, summary.rows), (2, 4));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod array;
mod device;
mod nulls;
mod release;
mod rules;
mod schema;
mod spy;
mod stream;

use std::fmt;

pub use rules::Rule;

use crate::array::FFI_ArrowArray;
use crate::device::{FFI_ArrowDeviceArray, FFI_ArrowDeviceArrayStream};
use crate::schema::FFI_ArrowSchema;
use crate::stream::FFI_ArrowArrayStream;

/// One broken rule: which, where (a field path such as `batches[2].children[1].buffers[2]`), and
/// what was seen there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The rule broken.
    pub rule: Rule,
    /// Where: `schema…`, `batches[i]…`, `stream.get_next`, `array…`.
    pub path: String,
    /// What the producer did.
    pub seen: String,
}

impl Finding {
    /// A finding of `rule` at `path`.
    pub fn new(rule: Rule, path: impl Into<String>, seen: impl Into<String>) -> Self {
        Finding { rule, path: path.into(), seen: seen.into() }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}: {}", self.rule.id(), self.path, self.seen)
    }
}

/// Receives what a check finds, as it finds it (a supervisor can forward each event at once, so
/// that a later crash of the producer loses nothing).
pub trait Observer {
    /// A rule was broken.
    fn finding(&mut self, finding: Finding);
    /// The check is about to call into the producer for `what` (e.g. `get_next (call 3)`): where a
    /// crash happened, if one follows.
    fn step(&mut self, what: &str) {
        let _ = what;
    }
    /// Batch `index` of `rows` rows was read.
    fn batch(&mut self, index: usize, rows: usize) {
        let _ = (index, rows);
    }
    /// Something the report should say that breaks no rule: what was not checked and why (a
    /// device's buffers not read, a stream stopped at the batch limit), or a convention not
    /// followed where the spec only recommends it.
    fn note(&mut self, note: &str) {
        let _ = note;
    }
}

impl Observer for Vec<Finding> {
    fn finding(&mut self, finding: Finding) {
        self.push(finding);
    }
}

/// An observer that keeps what a check reports, in order: its findings and its notes (steps and
/// batches are not kept). One push per finding or note.
#[derive(Debug, Default)]
pub struct Collected {
    /// Every finding, in the order found.
    pub findings: Vec<Finding>,
    /// Every note, in the order given.
    pub notes: Vec<String>,
}

impl Observer for Collected {
    fn finding(&mut self, finding: Finding) {
        self.findings.push(finding);
    }
    fn note(&mut self, note: &str) {
        self.notes.push(note.to_owned());
    }
}

/// How a stream check runs. `Options::default()` reads the stream to its end.
#[non_exhaustive]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// Stop after this many batches (for a stream that never ends): the stream is then released
    /// before its end, a note says so, and the end-of-stream checks do not run. `None`: no limit.
    pub max_batches: Option<usize>,
}

impl Options {
    /// These options with the batch limit `max_batches`.
    pub fn max_batches(mut self, max_batches: Option<usize>) -> Self {
        self.max_batches = max_batches;
        self
    }
}

/// How much a check read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Batches (or arrays) read.
    pub batches: usize,
    /// Rows in them.
    pub rows: u64,
}

/// Checks a stream from a producer, reading it to its end, and releases it (see the module docs for
/// what is checked). Findings go to `observer` as they are found.
///
/// Cost: two `get_schema` calls, every batch imported at [`Validation::Full`](crate::Validation::Full)
/// (O(data)), two more `get_next` calls after the end; the first batch is held until the stream is
/// released.
pub fn check_stream(stream: FFI_ArrowArrayStream, observer: &mut dyn Observer) -> Summary {
    check_stream_with(stream, &Options::default(), observer)
}

/// [`check_stream`] with `options` (a batch limit).
pub fn check_stream_with(stream: FFI_ArrowArrayStream, options: &Options, observer: &mut dyn Observer) -> Summary {
    let mut raw = stream.into_sys();
    // SAFETY: the invariant of `FFI_ArrowArrayStream`: released (refused first) or a stream from a
    // producer, whose callbacks may be called as the interface says.
    unsafe { stream::check(&mut raw, options, observer) }
}

/// Checks a device stream from a producer (`__arrow_c_device_stream__`, or a C function
/// `int f(struct ArrowDeviceArrayStream*)`) as [`check_stream`] checks a plain one, and the device
/// fields: the stream's device_type one of abi.h's constants; every array on the stream's device
/// type, with a device_id of -1 or more, no sync_event on a device type without events (CPU, VPI,
/// WEBGPU, HEXAGON), and `reserved` zeroed (each `get_next` is handed a struct whose `reserved`
/// holds 0x5a bytes, so a producer that does not zero it is seen every time). A CPU array's data
/// is checked at full validation; on any other device the buffers are not read (only the node
/// structs are checked, see [`DeviceArrayTree`](crate::device::DeviceArrayTree)) and a note says so.
///
/// Cost: as [`check_stream`].
pub fn check_device_stream(stream: FFI_ArrowDeviceArrayStream, options: &Options, observer: &mut dyn Observer) -> Summary {
    let mut raw = stream.into_sys();
    // SAFETY: the invariant of `FFI_ArrowDeviceArrayStream`: released (refused first) or a stream
    // from a producer, whose callbacks may be called as the interface says.
    unsafe { stream::check(&mut raw, options, observer) }
}

/// Checks one array and its schema from a producer (as `__arrow_c_array__` or a C function
/// `int f(struct ArrowArray*, struct ArrowSchema*)` hands them over), then releases both.
///
/// Cost: the schema's import, the array's import at [`Validation::Full`](crate::Validation::Full)
/// (O(data)), and the two releases.
pub fn check_array(array: FFI_ArrowArray, schema: FFI_ArrowSchema, observer: &mut dyn Observer) -> Summary {
    let mut array = array.into_sys();
    let mut schema = schema.into_sys();
    // SAFETY: the invariants of both types: released (refused first) or filled by a producer.
    unsafe { array::check_pair(&mut array, &mut schema, device::Reach::Host, observer) }
}

/// Checks one device array and its schema from a producer (`__arrow_c_device_array__`, or a C
/// function `int f(struct ArrowDeviceArray*, struct ArrowSchema*)`) as [`check_array`] does, and
/// its device fields as [`check_device_stream`] does (device_type, device_id, sync_event,
/// `reserved`, at `device_array.…`); the data at full validation on CPU, the node structs only on
/// any other device. Field paths of the data are the embedded array's (`array.children[0]`).
///
/// Cost: as [`check_array`].
pub fn check_device_array(array: FFI_ArrowDeviceArray, schema: FFI_ArrowSchema, observer: &mut dyn Observer) -> Summary {
    let mut array = array.into_sys();
    let mut schema = schema.into_sys();
    let reach = match array.array.release {
        Some(_) => device::Devices::default().array(&array, "device_array", None, observer),
        None => device::Reach::Host,
    };
    // SAFETY: the invariants of both types: released (refused first) or filled by a producer; the
    // embedded array's release releases the device array.
    unsafe { array::check_pair(&mut array.array, &mut schema, reach, observer) }
}
