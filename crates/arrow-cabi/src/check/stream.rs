//! The stream protocol: `get_schema` (twice), every batch against the schema, end of stream
//! repeated, the error path, the stream's release, and the first schema and batch outliving it;
//! the same for a plain stream and a device stream ([`Protocol`]), whose arrays also have their
//! device fields checked.

use std::ffi::{c_char, CStr};
use std::sync::Arc;

use arrow_cabi_sys::{ArrowArray, ArrowArrayStream, ArrowDeviceArray, ArrowDeviceArrayStream, ArrowSchema};
use arrow_schema::{DataType, Field, Schema};

use super::array::{data, move_out, release_checked, release_plain, struct_children};
use super::device::{poisoned, Devices, Reach};
use super::release::release_watched;
use super::{schema, Finding, Observer, Options, Rule, Summary};
use crate::device::ArrowDeviceType;
use crate::error::errno_name;
use crate::owned::CStruct;
use crate::ImportPlan;

/// A stream struct the protocol checks can drive: the plain `ArrowArrayStream` or the
/// `ArrowDeviceArrayStream`, which differ in what `get_next` writes ([`Protocol::Item`]).
pub(crate) trait Protocol: CStruct {
    /// What `get_next` fills: an `ArrowArray` or an `ArrowDeviceArray`.
    type Item;
    /// Whether `get_schema`, `get_next` and `get_last_error` are set.
    fn callbacks(&self) -> [bool; 3];
    /// The device type the stream declares, for a device stream.
    fn device_type(&self) -> Option<ArrowDeviceType>;
    /// A released item for `get_next` to fill.
    fn empty_item() -> Self::Item;
    /// The item's (embedded) array.
    fn array(item: &mut Self::Item) -> &mut ArrowArray;
    /// The device fields of an unreleased item checked at `context`; what its data checks may read.
    fn device_fields(item: &Self::Item, context: &str, stream: Option<ArrowDeviceType>, devices: &mut Devices, observer: &mut dyn Observer) -> Reach;
    /// Calls `get_schema` (which [`callbacks`](Protocol::callbacks) said is set).
    ///
    /// # Safety
    /// `self` is an unreleased stream; `out` a released schema.
    unsafe fn get_schema(&mut self, out: &mut ArrowSchema) -> i32;
    /// Calls `get_next` (which [`callbacks`](Protocol::callbacks) said is set).
    ///
    /// # Safety
    /// `self` is an unreleased stream; `out` a released item.
    unsafe fn get_next(&mut self, out: &mut Self::Item) -> i32;
    /// Calls `get_last_error`, if set.
    ///
    /// # Safety
    /// `self` is an unreleased stream.
    unsafe fn get_last_error(&mut self) -> Option<*const c_char>;
}

/// Defines the callback calls of [`Protocol`] for a stream struct whose callbacks take `$item`.
macro_rules! callbacks {
    ($item:ty) => {
        fn callbacks(&self) -> [bool; 3] {
            [self.get_schema.is_some(), self.get_next.is_some(), self.get_last_error.is_some()]
        }
        unsafe fn get_schema(&mut self, out: &mut ArrowSchema) -> i32 {
            // SAFETY: per the caller.
            self.get_schema.map_or(libc::ENOSYS, |f| unsafe { f(self, out) })
        }
        unsafe fn get_next(&mut self, out: &mut $item) -> i32 {
            // SAFETY: per the caller.
            self.get_next.map_or(libc::ENOSYS, |f| unsafe { f(self, out) })
        }
        unsafe fn get_last_error(&mut self) -> Option<*const c_char> {
            // SAFETY: per the caller.
            self.get_last_error.map(|f| unsafe { f(self) })
        }
    };
}

impl Protocol for ArrowArrayStream {
    type Item = ArrowArray;
    callbacks!(ArrowArray);
    fn device_type(&self) -> Option<ArrowDeviceType> {
        None
    }
    fn empty_item() -> ArrowArray {
        ArrowArray::EMPTY
    }
    fn array(item: &mut ArrowArray) -> &mut ArrowArray {
        item
    }
    fn device_fields(_: &ArrowArray, _: &str, _: Option<ArrowDeviceType>, _: &mut Devices, _: &mut dyn Observer) -> Reach {
        Reach::Host
    }
}

impl Protocol for ArrowDeviceArrayStream {
    type Item = ArrowDeviceArray;
    callbacks!(ArrowDeviceArray);
    fn device_type(&self) -> Option<ArrowDeviceType> {
        Some(ArrowDeviceType::new(self.device_type))
    }
    fn empty_item() -> ArrowDeviceArray {
        poisoned()
    }
    fn array(item: &mut ArrowDeviceArray) -> &mut ArrowArray {
        &mut item.array
    }
    fn device_fields(
        item: &ArrowDeviceArray,
        context: &str,
        stream: Option<ArrowDeviceType>,
        devices: &mut Devices,
        observer: &mut dyn Observer,
    ) -> Reach {
        devices.array(item, context, stream, observer)
    }
}

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

    /// Checks one batch (or array) of the stream against the schema, as `reach` allows.
    fn data(&self, raw: &ArrowArray, reach: Reach, context: &str) -> Result<(), Finding> {
        data(raw, &self.plan, self.batches.as_ref(), reach, context)
    }
}

/// Checks the stream `stream` to its end (or to `options.max_batches`) and releases it.
///
/// # Safety
/// `stream` is released or a stream from a producer, whose callbacks may be called as the interface
/// says.
pub(crate) unsafe fn check<S: Protocol>(stream: &mut S, options: &Options, observer: &mut dyn Observer) -> Summary {
    let mut summary = Summary::default();
    if stream.release().is_none() {
        observer.finding(Finding::new(Rule::Released, "stream", "the stream was handed over released"));
        return summary;
    }
    let mut devices = Devices::default();
    let declared = stream.device_type();
    if let Some(device) = declared {
        devices.stream(device, observer);
    }
    let [has_schema, has_next, has_last_error] = stream.callbacks();
    if !has_last_error {
        observer.finding(Finding::new(Rule::StreamCallbacks, "stream.get_last_error", "NULL callback"));
    }
    if !has_schema || !has_next {
        let which = if !has_schema { "stream.get_schema" } else { "stream.get_next" };
        observer.finding(Finding::new(Rule::StreamCallbacks, which, "NULL callback"));
        // SAFETY: an unreleased stream of the producer's.
        unsafe { release_plain(stream, "stream", observer) };
        return summary;
    }

    let mut first = ArrowSchema::EMPTY;
    observer.step("get_schema");
    // SAFETY: an unreleased stream; `first` is a released schema for the producer to fill.
    let code = unsafe { stream.get_schema(&mut first) };
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
    unsafe { second_schema(stream, expected.as_ref(), observer) };

    let mut held: Option<(S::Item, bool, Reach)> = None;
    for index in 0.. {
        if options.max_batches.is_some_and(|max| index >= max) {
            observer.note(&format!(
                "stopped after {index} batches (the batch limit): the stream was released without reading it to its \
                 end, so the end of stream and the calls after it were not checked"
            ));
            break;
        }
        let mut item = S::empty_item();
        observer.step(&format!("get_next (batch {index})"));
        // SAFETY: an unreleased stream; `item` is a released array for the producer to fill.
        let code = unsafe { stream.get_next(&mut item) };
        if code != 0 {
            // SAFETY: the stream is unreleased.
            unsafe { failed(stream, &format!("stream.get_next (batch {index})"), code, observer) };
            break;
        }
        if S::array(&mut item).release.is_none() {
            // SAFETY: the stream is unreleased.
            unsafe { ends_again(stream, observer) };
            break;
        }
        let context = format!("batches[{index}]");
        let reach = S::device_fields(&item, &context, declared, &mut devices, observer);
        let batch = S::array(&mut item);
        let rows = usize::try_from(batch.length).unwrap_or(0);
        summary.batches += 1;
        summary.rows += rows as u64;
        observer.batch(index, rows);
        let data_ok = match &expected {
            Some(e) => e.data(batch, reach, &context).map_err(|finding| observer.finding(finding)).is_ok(),
            None => false,
        };
        if index == 0 {
            // Held until the stream is released: it must outlive it.
            held = Some((item, data_ok, reach));
        } else {
            // SAFETY: an unreleased batch of the producer's, accepted by the checks when `data_ok`.
            unsafe { finish(batch, data_ok, expected.as_ref(), &context, index, reach, observer) };
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
    if let Some((mut item, mut data_ok, reach)) = held {
        let batch = S::array(&mut item);
        if let (true, Some(e)) = (data_ok, &expected) {
            if let Err(finding) = e.data(batch, reach, "batches[0]") {
                data_ok = false;
                observer.finding(Finding::new(
                    Rule::StreamLifetime,
                    finding.path,
                    format!("invalid once the stream was released: {}", finding.seen),
                ));
            }
        }
        // SAFETY: an unreleased batch of the producer's, accepted by the checks when `data_ok`.
        unsafe { finish(batch, data_ok, expected.as_ref(), "batches[0]", 0, reach, observer) };
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
/// `batch` is an unreleased batch of the producer's, accepted by the checks when `data_ok`.
unsafe fn finish(
    batch: &mut ArrowArray,
    data_ok: bool,
    expected: Option<&Expected>,
    context: &str,
    index: usize,
    reach: Reach,
    observer: &mut dyn Observer,
) {
    match expected {
        Some(e) if data_ok => {
            let move_out = move_out(batch.n_children, index);
            // SAFETY: per the caller.
            unsafe { release_checked(batch, &e.children, context, move_out, reach, observer) };
        }
        // SAFETY: per the caller.
        _ => unsafe { release_plain(batch, context, observer) },
    }
}

/// Calls `get_schema` a second time: it must succeed with the same schema.
///
/// # Safety
/// `stream` is an unreleased stream with a `get_schema`.
unsafe fn second_schema<S: Protocol>(stream: &mut S, expected: Option<&Expected>, observer: &mut dyn Observer) {
    let place = "stream.get_schema (second call)";
    let mut second = ArrowSchema::EMPTY;
    observer.step(place);
    // SAFETY: per the caller; `second` is a released schema for the producer to fill.
    let code = unsafe { stream.get_schema(&mut second) };
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
/// `stream` is an unreleased stream with a `get_next`.
unsafe fn ends_again<S: Protocol>(stream: &mut S, observer: &mut dyn Observer) {
    for call in 1..=ENDS_AFTER_END {
        let place = format!("stream.get_next (call {call} after the end)");
        let mut item = S::empty_item();
        observer.step(&place);
        // SAFETY: per the caller; `item` is a released array for the producer to fill.
        let code = unsafe { stream.get_next(&mut item) };
        let extra = S::array(&mut item);
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
            unsafe { release_plain(extra, &place, observer) };
            return;
        }
    }
}

/// Reports a failed call: its code (which must be errno-like) and the producer's last error.
///
/// # Safety
/// `stream` is an unreleased stream.
unsafe fn failed<S: Protocol>(stream: &mut S, place: &str, code: i32, observer: &mut dyn Observer) {
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
unsafe fn last_error<S: Protocol>(stream: &mut S, observer: &mut dyn Observer) -> Option<String> {
    if !stream.callbacks()[2] {
        return None;
    }
    observer.step("get_last_error");
    // SAFETY: an unreleased stream's callback, called right after a failed call.
    let message = unsafe { stream.get_last_error() }?;
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
