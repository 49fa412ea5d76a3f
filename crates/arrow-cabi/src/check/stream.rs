//! The stream protocol: `get_schema` (twice), every batch against the schema, end of stream
//! repeated, the error path, the stream's release, and the first schema and batch outliving it.

use std::ffi::CStr;
use std::sync::Arc;

use arrow_cabi_sys::{ArrowArray, ArrowArrayStream, ArrowSchema};
use arrow_schema::{DataType, Field, Schema};

use super::array::{array_data, batch_data, move_out, release_checked, release_plain, struct_children};
use super::release::release_watched;
use super::{schema, Finding, Observer, Rule, Summary};
use crate::error::errno_name;
use crate::ImportPlan;

/// How many times `get_next` is called again after it first signals the end.
const ENDS_AFTER_END: usize = 2;

/// What the stream's schema decided, when it could be imported: a stream of record batches (a
/// struct schema) or of arrays of another type (as the PyCapsule protocol allows).
struct Expected {
    field: Field,
    /// The schema of the batches, for a struct.
    batches: Option<Arc<Schema>>,
    plan: ImportPlan,
    children: Vec<DataType>,
}

impl Expected {
    fn new(field: Field) -> Self {
        let batches = match field.data_type() {
            DataType::Struct(fields) => Some(Arc::new(Schema::new_with_metadata(fields.clone(), field.metadata().clone()))),
            _ => None,
        };
        Expected { plan: ImportPlan::new(field.data_type()), children: struct_children(field.data_type()), batches, field }
    }

    /// Checks one batch (or array) of the stream against the schema.
    fn data(&self, raw: &ArrowArray, context: &str) -> Result<(), Finding> {
        match &self.batches {
            Some(schema) => batch_data(raw, schema, &self.plan, context),
            None => array_data(raw, &self.plan, context),
        }
    }
}

/// Checks the stream `stream` to its end and releases it.
///
/// # Safety
/// `stream` is released or a stream from a producer, whose callbacks may be called as the interface
/// says.
pub(crate) unsafe fn check(stream: &mut ArrowArrayStream, observer: &mut dyn Observer) -> Summary {
    let mut summary = Summary::default();
    if stream.release.is_none() {
        observer.finding(Finding::new(Rule::Released, "stream", "the stream was handed over released"));
        return summary;
    }
    if stream.get_last_error.is_none() {
        observer.finding(Finding::new(Rule::StreamCallbacks, "stream.get_last_error", "NULL callback"));
    }
    let (Some(get_schema), Some(get_next)) = (stream.get_schema, stream.get_next) else {
        let which = if stream.get_schema.is_none() { "stream.get_schema" } else { "stream.get_next" };
        observer.finding(Finding::new(Rule::StreamCallbacks, which, "NULL callback"));
        // SAFETY: an unreleased stream of the producer's.
        unsafe { release_plain(stream, "stream", observer) };
        return summary;
    };

    let mut first = ArrowSchema::EMPTY;
    observer.step("get_schema");
    // SAFETY: an unreleased stream; `first` is a released schema for the producer to fill.
    let code = unsafe { get_schema(stream, &mut first) };
    if code != 0 || first.release.is_none() {
        if code != 0 {
            // SAFETY: the stream is unreleased.
            unsafe { failed(stream, "stream.get_schema", code, observer) };
        } else {
            observer.finding(Finding::new(Rule::Released, "stream.get_schema", "returned 0 but left the schema released"));
        }
        // SAFETY: an unreleased stream.
        unsafe { release_plain(stream, "stream", observer) };
        return summary;
    }
    let expected = schema::field(&first, "schema").map_err(|finding| observer.finding(finding)).ok().map(Expected::new);
    // SAFETY: an unreleased stream.
    unsafe { second_schema(stream, get_schema, expected.as_ref(), observer) };

    let mut held: Option<(ArrowArray, bool)> = None;
    for index in 0.. {
        let mut batch = ArrowArray::EMPTY;
        observer.step(&format!("get_next (batch {index})"));
        // SAFETY: an unreleased stream; `batch` is a released array for the producer to fill.
        let code = unsafe { get_next(stream, &mut batch) };
        if code != 0 {
            // SAFETY: the stream is unreleased.
            unsafe { failed(stream, &format!("stream.get_next (batch {index})"), code, observer) };
            break;
        }
        if batch.release.is_none() {
            // SAFETY: the stream is unreleased.
            unsafe { ends_again(stream, get_next, observer) };
            break;
        }
        let rows = usize::try_from(batch.length).unwrap_or(0);
        summary.batches += 1;
        summary.rows += rows as u64;
        observer.batch(index, rows);
        let context = format!("batches[{index}]");
        let data_ok = match &expected {
            Some(e) => e.data(&batch, &context).map_err(|finding| observer.finding(finding)).is_ok(),
            None => false,
        };
        if index == 0 {
            // Held until the stream is released: it must outlive it.
            held = Some((batch, data_ok));
        } else {
            // SAFETY: an unreleased batch of the producer's, accepted by the importer when `data_ok`.
            unsafe { finish(&mut batch, data_ok, expected.as_ref(), &context, index, observer) };
        }
    }
    // SAFETY: the stream is unreleased.
    unsafe { release_plain(stream, "stream", observer) };

    let mut schema_ok = expected.is_some();
    if let Some(e) = &expected {
        match schema::field(&first, "schema") {
            Ok(again) if again == e.field => {}
            Ok(_) => observer.finding(Finding::new(Rule::StreamLifetime, "schema", "the schema changed once the stream was released")),
            Err(finding) => {
                schema_ok = false;
                observer.finding(Finding::new(
                    Rule::StreamLifetime,
                    finding.path,
                    format!("invalid once the stream was released: {}", finding.seen),
                ));
            }
        }
    }
    if let Some((mut batch, mut data_ok)) = held {
        if let (true, Some(e)) = (data_ok, &expected) {
            if let Err(finding) = e.data(&batch, "batches[0]") {
                data_ok = false;
                observer.finding(Finding::new(
                    Rule::StreamLifetime,
                    finding.path,
                    format!("invalid once the stream was released: {}", finding.seen),
                ));
            }
        }
        // SAFETY: an unreleased batch of the producer's, accepted by the importer when `data_ok`.
        unsafe { finish(&mut batch, data_ok, expected.as_ref(), "batches[0]", 0, observer) };
    }
    if schema_ok {
        // SAFETY: an unreleased schema the importer accepted (after the stream's release too).
        unsafe { release_watched(&mut first, "schema", None, observer) };
    } else {
        // SAFETY: an unreleased schema of the producer's.
        unsafe { release_plain(&mut first, "schema", observer) };
    }
    summary
}

/// Releases a batch: under watch (one child moved out, spies on the others) when its data passed,
/// plainly when it did not (its children may not be readable).
///
/// # Safety
/// `batch` is an unreleased batch of the producer's, accepted by the importer when `data_ok`.
unsafe fn finish(batch: &mut ArrowArray, data_ok: bool, expected: Option<&Expected>, context: &str, index: usize, observer: &mut dyn Observer) {
    match expected {
        Some(e) if data_ok => {
            let move_out = move_out(batch.n_children, index);
            // SAFETY: per the caller.
            unsafe { release_checked(batch, &e.children, context, move_out, observer) };
        }
        // SAFETY: per the caller.
        _ => unsafe { release_plain(batch, context, observer) },
    }
}

/// Calls `get_schema` a second time: it must succeed with the same schema.
///
/// # Safety
/// `stream` is an unreleased stream and `get_schema` its callback.
unsafe fn second_schema(
    stream: &mut ArrowArrayStream,
    get_schema: unsafe extern "C" fn(*mut ArrowArrayStream, *mut ArrowSchema) -> i32,
    expected: Option<&Expected>,
    observer: &mut dyn Observer,
) {
    let place = "stream.get_schema (second call)";
    let mut second = ArrowSchema::EMPTY;
    observer.step(place);
    // SAFETY: per the caller; `second` is a released schema for the producer to fill.
    let code = unsafe { get_schema(stream, &mut second) };
    if code != 0 {
        // SAFETY: per the caller.
        let message = unsafe { last_error(stream, observer) };
        let seen = format!("returned {code} ({}): {}", errno_name(code), message.as_deref().unwrap_or("no message"));
        observer.finding(Finding::new(Rule::StreamSchemaRepeat, place, seen));
        return;
    }
    if second.release.is_none() {
        observer.finding(Finding::new(Rule::StreamSchemaRepeat, place, "returned 0 but left the schema released"));
        return;
    }
    let Some(e) = expected else {
        // SAFETY: an unreleased schema of the producer's.
        return unsafe { release_plain(&mut second, place, observer) };
    };
    let imported = match schema::field(&second, place) {
        Ok(again) if again == e.field => true,
        Ok(again) => {
            let seen = format!("returned another schema: {:?}, the first was {:?}", again.data_type(), e.field.data_type());
            observer.finding(Finding::new(Rule::StreamSchemaRepeat, place, seen));
            true
        }
        Err(finding) => {
            observer.finding(Finding::new(Rule::StreamSchemaRepeat, finding.path, finding.seen));
            false
        }
    };
    if imported {
        // SAFETY: an unreleased schema the importer accepted.
        unsafe { release_watched(&mut second, place, None, observer) };
    } else {
        // SAFETY: an unreleased schema of the producer's.
        unsafe { release_plain(&mut second, place, observer) };
    }
}

/// After the end: every later `get_next` must return 0 and a released array again.
///
/// # Safety
/// `stream` is an unreleased stream and `get_next` its callback.
unsafe fn ends_again(
    stream: &mut ArrowArrayStream,
    get_next: unsafe extern "C" fn(*mut ArrowArrayStream, *mut ArrowArray) -> i32,
    observer: &mut dyn Observer,
) {
    for call in 1..=ENDS_AFTER_END {
        let place = format!("stream.get_next (call {call} after the end)");
        let mut extra = ArrowArray::EMPTY;
        observer.step(&place);
        // SAFETY: per the caller; `extra` is a released array for the producer to fill.
        let code = unsafe { get_next(stream, &mut extra) };
        if code != 0 {
            // SAFETY: per the caller.
            let message = unsafe { last_error(stream, observer) };
            let seen = format!(
                "returned {code} ({}) instead of 0 with a released array: {}",
                errno_name(code),
                message.as_deref().unwrap_or("no message")
            );
            observer.finding(Finding::new(Rule::StreamEnd, place, seen));
            return;
        }
        if extra.release.is_some() {
            let seen = format!("returned a batch of {} rows after signalling the end", extra.length);
            observer.finding(Finding::new(Rule::StreamEnd, &place, seen));
            // SAFETY: an unreleased array of the producer's.
            unsafe { release_plain(&mut extra, &place, observer) };
            return;
        }
    }
}

/// Reports a failed call: its code (which must be errno-like) and the producer's last error.
///
/// # Safety
/// `stream` is an unreleased stream.
unsafe fn failed(stream: &mut ArrowArrayStream, place: &str, code: i32, observer: &mut dyn Observer) {
    if code < 0 {
        observer.finding(Finding::new(Rule::StreamErrno, place, format!("returned {code}, not a positive errno code")));
    }
    // SAFETY: per the caller.
    let message = unsafe { last_error(stream, observer) };
    let message = message.as_deref().unwrap_or("get_last_error returned NULL");
    observer.finding(Finding::new(Rule::StreamError, place, format!("returned {code} ({}): {message}", errno_name(code))));
}

/// The producer's `get_last_error` message, copied at once (it lives only until the next call);
/// `None` when there is no callback or it returns NULL. Text that is not UTF-8 is a finding.
///
/// # Safety
/// `stream` is an unreleased stream.
unsafe fn last_error(stream: &mut ArrowArrayStream, observer: &mut dyn Observer) -> Option<String> {
    let get_last_error = stream.get_last_error?;
    observer.step("get_last_error");
    // SAFETY: an unreleased stream's callback, called right after a failed call.
    let message = unsafe { get_last_error(stream) };
    if message.is_null() {
        return None;
    }
    // SAFETY: a non-NULL result is a NUL-terminated string valid until the next call on the stream.
    let bytes = unsafe { CStr::from_ptr(message) }.to_bytes();
    match std::str::from_utf8(bytes) {
        Ok(text) => Some(text.to_owned()),
        Err(e) => {
            let text = String::from_utf8_lossy(bytes).into_owned();
            observer.finding(Finding::new(Rule::StreamLastError, "stream.get_last_error", format!("not UTF-8 ({e}): {text:?}")));
            Some(text)
        }
    }
}
