//! Async device streams (issue 16): our export driving a hand-written consumer, a hand-written
//! producer driving our reader, and our export into our reader.
//!
//! The two peers here follow the Async Device Stream Interface's rules as the spec states them and
//! use arrow-rs's `ffi` (a peer implementation) for the data: [`SpecConsumer`] imports the schema
//! and every extracted array with arrow-rs, and [`SpecProducer`] exports its batches with arrow-rs
//! and counts each task's extraction and each array's release. Each peer records the rules the
//! other side broke (more tasks than requested, a callback after `release`, overlapping callbacks,
//! a second extraction...) instead of panicking inside a C callback; the tests assert there are
//! none. Cases on one thread run under Miri (`futures::executor::block_on`, the producer pumped by
//! the test); the multi-threaded tokio cases are ignored there.

mod common;

use std::collections::VecDeque;
use std::ffi::{c_char, c_int, CStr, CString};
use std::mem::ManuallyDrop;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::task::Poll;

use arrow::ffi::{from_ffi, to_ffi, FFI_ArrowArray as RsArray, FFI_ArrowSchema as RsSchema};
use arrow_array::{Array, ArrayRef, Int32Array, RecordBatch, StringArray, StructArray};
use arrow_cabi::device::{export_async_device_stream, AsyncDeviceStreamReader, StreamEnd};
use arrow_cabi::Error;
use arrow_cabi_sys::{
    ArrowArray, ArrowAsyncDeviceStreamHandler, ArrowAsyncProducer, ArrowAsyncTask, ArrowDeviceArray, ArrowSchema,
    ARROW_DEVICE_CPU, ARROW_DEVICE_CUDA,
};
use arrow_schema::{ArrowError, Schema, SchemaRef};
use futures::executor::block_on;
use futures::{FutureExt, StreamExt};
use proptest::prelude::*;

use common::counting::count_releases;

// ---------------------------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------------------------

/// `n` batches of an id and a name column, `rows` rows each.
fn batches(n: usize, rows: usize) -> (SchemaRef, Vec<RecordBatch>) {
    let make = |b: usize| {
        let ids: Int32Array = (0..rows).map(|r| Some((b * rows + r) as i32)).collect();
        let names: StringArray = (0..rows).map(|r| (r % 3 != 0).then(|| format!("row {b}.{r}"))).collect();
        RecordBatch::try_from_iter([("id", Arc::new(ids) as ArrayRef), ("name", Arc::new(names) as ArrayRef)]).unwrap()
    };
    let all: Vec<_> = (0..n.max(1)).map(make).collect();
    (all[0].schema(), all.into_iter().take(n).collect())
}

/// An arrow-rs array moved into the sys struct (same layout: abi.h's).
fn into_sys(array: RsArray) -> ArrowArray {
    let array = ManuallyDrop::new(array);
    // SAFETY: both are abi.h's `struct ArrowArray`; the source is not dropped, so this is a move.
    unsafe { ptr::read(ptr::from_ref(&*array).cast::<ArrowArray>()) }
}

/// A sys array moved into arrow-rs's owner.
fn into_rs(array: ArrowArray) -> RsArray {
    // SAFETY: both are abi.h's `struct ArrowArray` (same size and layout); a move.
    unsafe { std::mem::transmute::<ArrowArray, RsArray>(array) }
}

/// A record batch imported by arrow-rs from a struct array and its schema.
fn rs_import(array: ArrowArray, schema: &RsSchema) -> Result<RecordBatch, ArrowError> {
    // SAFETY: the array came from a producer following the interface, of this schema.
    let data = unsafe { from_ffi(into_rs(array), schema) }?;
    let batch = RecordBatch::from(StructArray::from(data));
    let schema = Arc::new(Schema::try_from(schema)?);
    batch.with_schema(schema)
}

/// A context whose waker does nothing, for polling by hand.
fn noop_context() -> std::task::Context<'static> {
    std::task::Context::from_waker(std::task::Waker::noop())
}

/// The rules a peer saw broken, shared by its callbacks.
#[derive(Default)]
struct Violations(Mutex<Vec<String>>);

impl Violations {
    fn add(&self, what: impl Into<String>) {
        self.0.lock().unwrap().push(what.into());
    }
    fn assert_none(&self) {
        let seen = self.0.lock().unwrap();
        assert!(seen.is_empty(), "rules broken: {seen:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// A consumer written from the spec, driven by our export
// ---------------------------------------------------------------------------------------------

/// What the consumer does.
#[derive(Clone, Copy, Default)]
struct Plan {
    /// `request(n)` from inside `on_schema` (0: none).
    initial: i64,
    /// Extract each task inside `on_next_task` and `request(1)` from there (re-entrant), rather
    /// than keeping the tasks for [`SpecConsumer::take`].
    inline: bool,
    /// `on_schema` returns this code.
    refuse_schema: Option<c_int>,
    /// `on_next_task` returns EIO at this task (0-based), after discarding it.
    refuse_task: Option<usize>,
    /// `cancel` from inside `on_next_task` after this many tasks.
    cancel_after: Option<usize>,
}

struct ConsumerState {
    schema: Option<RsSchema>,
    producer: *mut ArrowAsyncProducer,
    requested: i64,
    received: usize,
    tasks: VecDeque<ArrowAsyncTask>,
    batches: Vec<RecordBatch>,
    ended: bool,
    error: Option<(c_int, String)>,
    released: usize,
    /// Callback names in order.
    calls: Vec<&'static str>,
    /// How many extracted arrays were released (by arrow-rs, when the batches went).
    array_releases: Vec<Arc<AtomicUsize>>,
}

impl Default for ConsumerState {
    fn default() -> Self {
        ConsumerState {
            schema: None,
            producer: ptr::null_mut(),
            requested: 0,
            received: 0,
            tasks: VecDeque::new(),
            batches: vec![],
            ended: false,
            error: None,
            released: 0,
            calls: vec![],
            array_releases: vec![],
        }
    }
}

/// A handler written from the spec's rules: arrow-rs imports what it receives.
struct SpecConsumer {
    plan: Plan,
    state: Mutex<ConsumerState>,
    in_callback: AtomicBool,
    violations: Violations,
    /// Written by the producer (its `producer` field): a raw allocation, freed on drop.
    handler: *mut ArrowAsyncDeviceStreamHandler,
}

impl Drop for SpecConsumer {
    fn drop(&mut self) {
        // SAFETY: `Box::into_raw` of `new`, freed once; the producer released it before.
        drop(unsafe { Box::from_raw(self.handler) });
    }
}

// SAFETY: the raw pointers inside are the producer's and the tasks', used as the spec allows.
unsafe impl Send for SpecConsumer {}
// SAFETY: as above; the state is behind a mutex.
unsafe impl Sync for SpecConsumer {}

impl SpecConsumer {
    fn new(plan: Plan) -> Arc<Self> {
        let mut consumer = Arc::new(SpecConsumer {
            plan,
            state: Mutex::default(),
            in_callback: AtomicBool::new(false),
            violations: Violations::default(),
            handler: Box::into_raw(Box::new(ArrowAsyncDeviceStreamHandler {
                on_schema: Some(consumer_on_schema),
                on_next_task: Some(consumer_on_next_task),
                on_error: Some(consumer_on_error),
                release: Some(consumer_release),
                producer: ptr::null_mut(),
                private_data: ptr::null_mut(),
            })),
        });
        let me = Arc::as_ptr(&consumer).cast_mut().cast();
        // SAFETY: the handler was just allocated and is not yet handed over.
        unsafe { (*Arc::get_mut(&mut consumer).unwrap().handler).private_data = me };
        consumer
    }

    fn handler(&self) -> *mut ArrowAsyncDeviceStreamHandler {
        self.handler
    }

    fn producer(&self) -> *mut ArrowAsyncProducer {
        self.state.lock().unwrap().producer
    }

    /// `request(n)` on the producer, from the consumer's own flow (any thread).
    fn request(&self, n: i64) {
        self.state.lock().unwrap().requested += n;
        let producer = self.producer();
        // SAFETY: the producer is valid until the handler's release (the tests request before it).
        unsafe { ((*producer).request.unwrap())(producer, n) };
    }

    /// Extracts (and imports) one kept task, then requests one more; false when none is kept.
    fn take(&self) -> bool {
        let Some(task) = self.state.lock().unwrap().tasks.pop_front() else { return false };
        self.extract(task);
        let state = self.state.lock().unwrap();
        // The producer struct lives until the handler's release: no request after it.
        if !state.ended && state.released == 0 {
            drop(state);
            self.request(1);
        }
        true
    }

    /// `extract_data` once into a device array, checked as CPU, imported by arrow-rs.
    fn extract(&self, mut task: ArrowAsyncTask) {
        let mut out = ArrowDeviceArray::EMPTY;
        // SAFETY: a task handed over by the producer, extracted once, into a writable array.
        let code = unsafe { (task.extract_data.unwrap())(&mut task, &mut out) };
        if code != 0 {
            return self.violations.add(format!("extract_data returned {code}"));
        }
        if out.device_type != ARROW_DEVICE_CPU || !out.sync_event.is_null() || out.reserved != [0; 3] {
            self.violations.add("not a CPU device array with NULL sync_event and zeroed reserved");
        }
        let releases = count_releases(&mut out.array);
        let mut state = self.state.lock().unwrap();
        let schema = state.schema.as_ref().expect("a task after the schema");
        match rs_import(out.array, schema) {
            Ok(batch) => state.batches.push(batch),
            Err(error) => self.violations.add(format!("arrow-rs refused a batch: {error}")),
        }
        state.array_releases.push(releases);
    }

    /// Every extracted array released exactly once (the batches were dropped).
    fn assert_arrays_released_once(&self) {
        let mut state = self.state.lock().unwrap();
        state.batches.clear();
        for (index, count) in state.array_releases.iter().enumerate() {
            assert_eq!(count.load(Ordering::SeqCst), 1, "array {index} released once");
        }
    }

    /// Enters a callback: serialized, never after release.
    fn enter(&self, name: &'static str) {
        if self.in_callback.swap(true, Ordering::SeqCst) {
            self.violations.add(format!("{name} overlapped another callback"));
        }
        let mut state = self.state.lock().unwrap();
        if state.released > 0 {
            self.violations.add(format!("{name} after release"));
        }
        if state.calls.is_empty() && name != "on_schema" && name != "on_error" && name != "release" {
            self.violations.add(format!("{name} before on_schema"));
        }
        state.calls.push(name);
    }

    fn leave(&self) {
        self.in_callback.store(false, Ordering::SeqCst);
    }
}

/// The consumer behind a handler.
///
/// # Safety
/// `handler` is a [`SpecConsumer`]'s, alive.
unsafe fn consumer<'a>(handler: *mut ArrowAsyncDeviceStreamHandler) -> &'a SpecConsumer {
    // SAFETY: per the caller.
    unsafe { &*(*handler).private_data.cast::<SpecConsumer>() }
}

unsafe extern "C" fn consumer_on_schema(handler: *mut ArrowAsyncDeviceStreamHandler, schema: *mut ArrowSchema) -> c_int {
    // SAFETY: our handler.
    let me = unsafe { consumer(handler) };
    me.enter("on_schema");
    // Moved in (the spec: "must be released or moved by the handler").
    // SAFETY: the producer hands over a valid schema.
    let taken = unsafe { ptr::read(schema.cast::<RsSchema>()) };
    // SAFETY: as above; the source is left released.
    unsafe { (*schema).release = None };
    // SAFETY: the producer sets it before on_schema.
    let producer = unsafe { (*handler).producer };
    // SAFETY: a non-NULL producer is valid during the callback.
    match unsafe { producer.as_ref() } {
        None => me.violations.add("producer NULL in on_schema"),
        Some(p) if p.device_type != ARROW_DEVICE_CPU => me.violations.add("producer not on CPU"),
        Some(_) => {}
    }
    {
        let mut state = me.state.lock().unwrap();
        state.schema = Some(taken);
        state.producer = producer;
    }
    let code = match me.plan.refuse_schema {
        Some(code) => code,
        None => {
            if me.plan.initial > 0 {
                me.request(me.plan.initial); // re-entrant, from inside on_schema
            }
            0
        }
    };
    me.leave();
    code
}

unsafe extern "C" fn consumer_on_next_task(handler: *mut ArrowAsyncDeviceStreamHandler, task: *mut ArrowAsyncTask, _metadata: *const c_char) -> c_int {
    // SAFETY: our handler.
    let me = unsafe { consumer(handler) };
    me.enter("on_next_task");
    if task.is_null() {
        me.state.lock().unwrap().ended = true;
        me.leave();
        return 0;
    }
    // SAFETY: valid during the call; moved out (the spec: "copy or move its contents").
    let task = unsafe { ptr::read(task) };
    let index = {
        let mut state = me.state.lock().unwrap();
        state.received += 1;
        if state.received as i64 > state.requested {
            me.violations.add(format!("task {} but only {} requested", state.received, state.requested));
        }
        state.received - 1
    };
    if me.plan.refuse_task == Some(index) {
        let mut task = task;
        // The refused task is discarded by us (extract_data with NULL), as the spec's cleanup.
        // SAFETY: extracted once.
        unsafe { (task.extract_data.unwrap())(&mut task, ptr::null_mut()) };
        me.leave();
        return libc::EIO;
    }
    if me.plan.inline {
        me.extract(task);
        me.request(1); // re-entrant, from inside on_next_task
    } else {
        me.state.lock().unwrap().tasks.push_back(task);
    }
    if me.plan.cancel_after == Some(index + 1) {
        let producer = me.producer();
        // SAFETY: valid until release; cancel twice (idempotent).
        unsafe {
            ((*producer).cancel.unwrap())(producer);
            ((*producer).cancel.unwrap())(producer);
        }
    }
    me.leave();
    0
}

unsafe extern "C" fn consumer_on_error(handler: *mut ArrowAsyncDeviceStreamHandler, code: c_int, message: *const c_char, _metadata: *const c_char) {
    // SAFETY: our handler.
    let me = unsafe { consumer(handler) };
    me.enter("on_error");
    // SAFETY: NULL or a string valid during the call.
    let message = (!message.is_null()).then(|| unsafe { CStr::from_ptr(message) }.to_string_lossy().into_owned());
    me.state.lock().unwrap().error = Some((code, message.unwrap_or_default()));
    me.leave();
}

unsafe extern "C" fn consumer_release(handler: *mut ArrowAsyncDeviceStreamHandler) {
    // SAFETY: our handler.
    let me = unsafe { consumer(handler) };
    me.enter("release");
    me.state.lock().unwrap().released += 1;
    me.leave();
}

/// Exports `batches` into a consumer following `plan`, on one thread: the consumer's kept tasks
/// are taken between polls. Returns the export's result.
fn export_on_one_thread(consumer: &SpecConsumer, schema: SchemaRef, batches: Vec<Result<RecordBatch, ArrowError>>) -> arrow_cabi::Result<StreamEnd> {
    // SAFETY: the consumer's handler follows the spec and outlives the export.
    let mut export = unsafe { export_async_device_stream(schema, futures::stream::iter(batches), consumer.handler()) };
    block_on(futures::future::poll_fn(|cx| {
        loop {
            if let Poll::Ready(result) = export.poll_unpin(cx) {
                // Tasks outlive the export: the consumer extracts what it kept.
                while consumer.take() {}
                return Poll::Ready(result);
            }
            if !consumer.take() {
                // Nothing to take and the export waits: only a consumer that stopped asking.
                return Poll::Ready(Err(Error::Unsupported("stalled".into())));
            }
        }
    }))
}

#[test]
fn export_hands_every_batch_to_a_spec_consumer_as_requested() {
    for (initial, inline) in [(1, false), (2, false), (3, true)] {
        let (schema, input) = batches(5, 4);
        let consumer = SpecConsumer::new(Plan { initial, inline, ..Plan::default() });
        let result = export_on_one_thread(&consumer, schema.clone(), input.iter().cloned().map(Ok).collect());
        assert_eq!(result.unwrap(), StreamEnd::Finished);
        consumer.violations.assert_none();
        let state = consumer.state.lock().unwrap();
        assert_eq!(state.batches.len(), input.len(), "initial {initial}, inline {inline}: {:?}", state.calls);
        assert_eq!(state.batches, input, "arrow-rs's import of every batch");
        assert_eq!(Schema::try_from(state.schema.as_ref().unwrap()).unwrap(), *schema);
        assert!(state.ended && state.released == 1 && state.error.is_none());
        assert_eq!(state.calls.first(), Some(&"on_schema"));
        assert_eq!(&state.calls[state.calls.len() - 2..], ["on_next_task", "release"], "the NULL task, then release");
        drop(state);
        consumer.assert_arrays_released_once();
    }
}

/// As Arrow C++'s consumer does: tasks kept in a queue, and for each one `request(1)` before
/// `extract_data`, after the export sent the end and released the handler. The producer struct
/// must still be valid then (under Miri, a use after free otherwise), and the calls do nothing.
#[test]
fn export_survives_request_after_release_before_extraction() {
    let (schema, input) = batches(3, 2);
    let consumer = SpecConsumer::new(Plan { initial: 8, ..Plan::default() });
    // SAFETY: the consumer's handler follows the spec and outlives the export.
    let export = unsafe { export_async_device_stream(schema, futures::stream::iter(input.clone().into_iter().map(Ok)), consumer.handler()) };
    assert_eq!(block_on(export).unwrap(), StreamEnd::Finished);
    assert_eq!(consumer.state.lock().unwrap().released, 1);
    let producer = consumer.producer();
    loop {
        let Some(task) = consumer.state.lock().unwrap().tasks.pop_front() else { break };
        // SAFETY: what Arrow C++ does; our producer struct lives while a task is not extracted.
        unsafe { ((*producer).request.unwrap())(producer, 1) };
        consumer.extract(task);
    }
    assert_eq!(consumer.state.lock().unwrap().batches, input);
    consumer.violations.assert_none();
    consumer.assert_arrays_released_once();
}

#[test]
fn export_of_an_empty_stream_sends_the_schema_then_the_end() {
    let (schema, _) = batches(0, 3);
    let consumer = SpecConsumer::new(Plan { initial: 1, ..Plan::default() });
    assert_eq!(export_on_one_thread(&consumer, schema, vec![]).unwrap(), StreamEnd::Finished);
    consumer.violations.assert_none();
    let state = consumer.state.lock().unwrap();
    assert_eq!(state.calls, ["on_schema", "on_next_task", "release"]);
    assert!(state.ended && state.batches.is_empty());
}

#[test]
fn export_stops_after_a_cancel_from_inside_on_next_task() {
    let (schema, input) = batches(6, 2);
    let consumer = SpecConsumer::new(Plan { initial: 2, inline: true, cancel_after: Some(2), ..Plan::default() });
    let result = export_on_one_thread(&consumer, schema, input.iter().cloned().map(Ok).collect());
    assert_eq!(result.unwrap(), StreamEnd::Cancelled);
    consumer.violations.assert_none();
    let state = consumer.state.lock().unwrap();
    assert_eq!(state.batches, input[..2]);
    assert_eq!(state.calls, ["on_schema", "on_next_task", "on_next_task", "release"], "no on_error, nothing after release");
    drop(state);
    consumer.assert_arrays_released_once();
}

#[test]
fn export_reports_a_stream_error_with_its_code_and_message() {
    let (schema, input) = batches(3, 2);
    let failing = vec![Ok(input[0].clone()), Err(ArrowError::IoError("disk gone".into(), std::io::Error::other("disk gone")))];
    let consumer = SpecConsumer::new(Plan { initial: 4, inline: true, ..Plan::default() });
    let error = export_on_one_thread(&consumer, schema, failing).unwrap_err();
    assert!(error.to_string().contains("disk gone"), "{error}");
    consumer.violations.assert_none();
    let state = consumer.state.lock().unwrap();
    let (code, message) = state.error.clone().unwrap();
    assert_eq!(code, libc::EIO);
    assert!(message.contains("disk gone"), "{message}");
    assert_eq!(state.calls, ["on_schema", "on_next_task", "on_error", "release"]);
    assert_eq!(state.batches, input[..1]);
}

#[test]
fn export_stops_when_the_consumer_refuses_the_schema_or_a_task() {
    let (schema, input) = batches(4, 2);
    let consumer = SpecConsumer::new(Plan { initial: 2, refuse_schema: Some(libc::ENOMEM), ..Plan::default() });
    let error = export_on_one_thread(&consumer, schema.clone(), input.iter().cloned().map(Ok).collect()).unwrap_err();
    assert!(matches!(error, Error::Consumer { callback: "on_schema", code } if code == libc::ENOMEM), "{error}");
    assert_eq!(consumer.state.lock().unwrap().calls, ["on_schema", "release"], "only release after a refusal");
    consumer.violations.assert_none();

    let consumer = SpecConsumer::new(Plan { initial: 3, inline: true, refuse_task: Some(1), ..Plan::default() });
    let error = export_on_one_thread(&consumer, schema, input.iter().cloned().map(Ok).collect()).unwrap_err();
    assert!(matches!(error, Error::Consumer { callback: "on_next_task", code } if code == libc::EIO), "{error}");
    let state = consumer.state.lock().unwrap();
    assert_eq!(state.calls, ["on_schema", "on_next_task", "on_next_task", "release"]);
    assert_eq!(state.batches, input[..1]);
    consumer.violations.assert_none();
}

#[test]
fn export_answers_an_invalid_request_and_a_drop_with_on_error() {
    let (schema, input) = batches(2, 2);
    // request(0) from inside on_schema: invalid ("n <= 0"), answered with on_error EINVAL.
    let consumer = SpecConsumer::new(Plan::default());
    // SAFETY: the consumer's handler follows the spec and outlives the export.
    let mut export = unsafe { export_async_device_stream(schema.clone(), futures::stream::iter(vec![Ok(input[0].clone())]), consumer.handler()) };
    assert!(export.poll_unpin(&mut noop_context()).is_pending());
    consumer.request(0);
    let error = block_on(export).unwrap_err();
    assert!(error.to_string().contains("n must be > 0"), "{error}");
    let state = consumer.state.lock().unwrap();
    assert_eq!(state.calls, ["on_schema", "on_error", "release"]);
    assert_eq!(state.error.as_ref().unwrap().0, libc::EINVAL);
    drop(state);

    // Dropped mid-stream: on_error ECANCELED, then release, once.
    let consumer = SpecConsumer::new(Plan { initial: 1, ..Plan::default() });
    // SAFETY: as above.
    let mut export = unsafe { export_async_device_stream(schema, futures::stream::iter(input.into_iter().map(Ok)), consumer.handler()) };
    assert!(export.poll_unpin(&mut noop_context()).is_pending(), "one task handed over, waiting");
    drop(export);
    let state = consumer.state.lock().unwrap();
    assert_eq!(state.calls, ["on_schema", "on_next_task", "on_error", "release"]);
    assert_eq!(state.error.as_ref().unwrap().0, libc::ECANCELED);
    drop(state);
    // The kept task is still the consumer's to extract, after the export is gone.
    assert!(consumer.take() || consumer.state.lock().unwrap().batches.len() == 1);
    consumer.violations.assert_none();
}

/// On a multi-threaded runtime: the export on one worker, the consumer taking tasks on another
/// task, requesting one by one; the consumer never receives more than it requested.
#[cfg_attr(miri, ignore = "a multi-threaded tokio runtime; the same paths run on one thread under Miri")]
#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn export_backpressure_across_threads() {
    let (schema, input) = batches(40, 3);
    let consumer = SpecConsumer::new(Plan { initial: 2, ..Plan::default() });
    // SAFETY: the consumer's handler follows the spec and outlives the export (joined below).
    let export = unsafe { export_async_device_stream(schema, futures::stream::iter(input.clone().into_iter().map(Ok)), consumer.handler()) };
    let exporting = tokio::spawn(export);
    let taker = Arc::clone(&consumer);
    let taking = tokio::spawn(async move {
        while taker.state.lock().unwrap().released == 0 {
            if !taker.take() {
                tokio::task::yield_now().await;
            }
            let state = taker.state.lock().unwrap();
            assert!(state.received as i64 <= state.requested, "{} received, {} requested", state.received, state.requested);
        }
    });
    assert_eq!(exporting.await.unwrap().unwrap(), StreamEnd::Finished);
    taking.await.unwrap();
    consumer.violations.assert_none();
    assert_eq!(consumer.state.lock().unwrap().batches, input);
    consumer.assert_arrays_released_once();
}

/// Cancel from another thread while the export waits for demand: it resolves, releases once.
#[cfg_attr(miri, ignore = "a multi-threaded tokio runtime; the same paths run on one thread under Miri")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_cancelled_from_another_thread() {
    let (schema, input) = batches(10, 2);
    let consumer = SpecConsumer::new(Plan { initial: 3, ..Plan::default() });
    // SAFETY: as above.
    let export = unsafe { export_async_device_stream(schema, futures::stream::iter(input.into_iter().map(Ok)), consumer.handler()) };
    let exporting = tokio::spawn(export);
    while consumer.state.lock().unwrap().received < 3 {
        tokio::task::yield_now().await;
    }
    let canceller = Arc::clone(&consumer);
    std::thread::spawn(move || {
        let producer = canceller.producer();
        // SAFETY: valid until release, which follows this cancel.
        unsafe { ((*producer).cancel.unwrap())(producer) };
    })
    .join()
    .unwrap();
    assert_eq!(exporting.await.unwrap().unwrap(), StreamEnd::Cancelled);
    while consumer.take() {}
    consumer.violations.assert_none();
    let state = consumer.state.lock().unwrap();
    assert_eq!((state.received, state.released), (3, 1));
    drop(state);
    consumer.assert_arrays_released_once();
}

// ---------------------------------------------------------------------------------------------
// A producer written from the spec, driving our reader
// ---------------------------------------------------------------------------------------------

/// What the producer sends.
#[derive(Clone)]
struct Script {
    batches: Vec<RecordBatch>,
    schema: SchemaRef,
    /// `on_error(code, message)` instead of the batch at this index.
    error_at: Option<(usize, c_int, &'static str)>,
    device_type: i32,
}

/// One task of ours: an arrow-rs export, its release counted.
struct SpecTask {
    array: Option<ArrowArray>,
    extractions: Arc<AtomicUsize>,
}

// SAFETY: the array is an arrow-rs export, releasable from any thread.
unsafe impl Send for SpecTask {}

#[derive(Default)]
struct ProducerState {
    requested: i64,
    sent: usize,
    cancelled: bool,
    /// `release` called on the handler.
    finished: bool,
    started: bool,
}

/// A producer written from the spec's rules: arrow-rs exports its batches.
struct SpecProducer {
    script: Script,
    handler: *mut ArrowAsyncDeviceStreamHandler,
    producer: Box<ArrowAsyncProducer>,
    state: Mutex<ProducerState>,
    demand: Condvar,
    violations: Violations,
    /// Per task: how often it was extracted, and how often its array was released.
    extractions: Mutex<Vec<Arc<AtomicUsize>>>,
    releases: Mutex<Vec<Arc<AtomicUsize>>>,
}

// SAFETY: the handler is called one callback at a time (the state's lock orders them); the spec
// lets a producer call it from any thread.
unsafe impl Send for SpecProducer {}
// SAFETY: as above.
unsafe impl Sync for SpecProducer {}

impl SpecProducer {
    fn new(script: Script, handler: *mut ArrowAsyncDeviceStreamHandler) -> Arc<Self> {
        let mut producer = Arc::new(SpecProducer {
            producer: Box::new(ArrowAsyncProducer {
                device_type: script.device_type,
                request: Some(producer_request),
                cancel: Some(producer_cancel),
                additional_metadata: ptr::null(),
                private_data: ptr::null_mut(),
            }),
            script,
            handler,
            state: Mutex::default(),
            demand: Condvar::new(),
            violations: Violations::default(),
            extractions: Mutex::default(),
            releases: Mutex::default(),
        });
        let me = Arc::as_ptr(&producer).cast_mut().cast();
        Arc::get_mut(&mut producer).unwrap().producer.private_data = me;
        producer
    }

    /// Sets `handler->producer` and calls `on_schema` with arrow-rs's export of the schema.
    fn start(&self) {
        self.state.lock().unwrap().started = true;
        // SAFETY: the handler is valid until we release it.
        unsafe { (*self.handler).producer = ptr::from_ref(&*self.producer).cast_mut() };
        let mut schema = ManuallyDrop::new(RsSchema::try_from(self.script.schema.as_ref()).unwrap());
        // SAFETY: our handler's callback, with a valid schema whose ownership passes to it.
        let code = unsafe { ((*self.handler).on_schema.unwrap())(self.handler, ptr::from_mut(&mut *schema).cast()) };
        if code != 0 {
            self.release();
        }
    }

    fn release(&self) {
        let mut state = self.state.lock().unwrap();
        if state.finished {
            return;
        }
        state.finished = true;
        drop(state);
        // SAFETY: the handler's last call, once.
        unsafe { ((*self.handler).release.unwrap())(self.handler) };
    }

    fn finished(&self) -> bool {
        self.state.lock().unwrap().finished
    }

    /// Sends what the consumer requested (or the end, the error, the release after a cancel);
    /// returns whether the stream is finished. Callbacks run outside the state lock.
    fn pump(&self) -> bool {
        loop {
            let (index, cancelled) = {
                let state = self.state.lock().unwrap();
                if state.finished {
                    return true;
                }
                if !state.cancelled && state.requested <= state.sent as i64 && state.sent < self.script.batches.len() {
                    return false;
                }
                (state.sent, state.cancelled)
            };
            if cancelled {
                self.release();
                return true;
            }
            if let Some((at, code, message)) = self.script.error_at.filter(|(at, _, _)| *at == index) {
                let _ = at;
                let message = CString::new(message).unwrap();
                // SAFETY: our handler's callback; the message lives through the call.
                unsafe { ((*self.handler).on_error.unwrap())(self.handler, code, message.as_ptr(), ptr::null()) };
                self.release();
                return true;
            }
            let Some(batch) = self.script.batches.get(index) else {
                // SAFETY: the end of the stream.
                let code = unsafe { ((*self.handler).on_next_task.unwrap())(self.handler, ptr::null_mut(), ptr::null()) };
                assert_eq!(code, 0);
                self.release();
                return true;
            };
            let (array, _) = to_ffi(&StructArray::from(batch.clone()).to_data()).unwrap();
            let mut array = into_sys(array);
            self.releases.lock().unwrap().push(count_releases(&mut array));
            let extractions = Arc::new(AtomicUsize::new(0));
            self.extractions.lock().unwrap().push(Arc::clone(&extractions));
            let private = Box::new(SpecTask { array: Some(array), extractions });
            let mut task = ArrowAsyncTask { extract_data: Some(task_extract), private_data: Box::into_raw(private).cast() };
            self.state.lock().unwrap().sent += 1;
            // SAFETY: our handler's callback; the task is valid during the call.
            let code = unsafe { ((*self.handler).on_next_task.unwrap())(self.handler, &mut task, ptr::null()) };
            if code != 0 {
                self.violations.add(format!("our handler refused a task: {code}"));
                self.release();
                return true;
            }
        }
    }

    /// Pumps on this thread until finished, waiting for demand in between.
    fn run(&self) {
        while !self.pump() {
            let state = self.state.lock().unwrap();
            let _unused = self
                .demand
                .wait_while(state, |s| !s.cancelled && s.requested <= s.sent as i64 && s.sent < self.script.batches.len())
                .unwrap();
        }
    }

    /// Every task extracted exactly once, every array released exactly once.
    fn assert_tasks_done(&self) {
        for (index, count) in self.extractions.lock().unwrap().iter().enumerate() {
            assert_eq!(count.load(Ordering::SeqCst), 1, "task {index} extracted once");
        }
        for (index, count) in self.releases.lock().unwrap().iter().enumerate() {
            assert_eq!(count.load(Ordering::SeqCst), 1, "array {index} released once");
        }
    }
}

/// # Safety
/// `producer` is a [`SpecProducer`]'s struct.
unsafe fn spec_producer<'a>(producer: *mut ArrowAsyncProducer) -> &'a SpecProducer {
    // SAFETY: per the caller.
    unsafe { &*(*producer).private_data.cast::<SpecProducer>() }
}

unsafe extern "C" fn producer_request(producer: *mut ArrowAsyncProducer, n: i64) {
    // SAFETY: ours.
    let me = unsafe { spec_producer(producer) };
    let mut state = me.state.lock().unwrap();
    if state.finished {
        me.violations.add("request after release");
    }
    if n <= 0 {
        me.violations.add(format!("request({n})"));
    }
    if !state.cancelled {
        state.requested += n;
    }
    me.demand.notify_all();
}

unsafe extern "C" fn producer_cancel(producer: *mut ArrowAsyncProducer) {
    // SAFETY: ours.
    let me = unsafe { spec_producer(producer) };
    let mut state = me.state.lock().unwrap();
    if state.finished {
        me.violations.add("cancel after release");
    }
    state.cancelled = true;
    me.demand.notify_all();
}

unsafe extern "C" fn task_extract(task: *mut ArrowAsyncTask, out: *mut ArrowDeviceArray) -> c_int {
    // SAFETY: a task of ours; `private_data` is its box, which stays allocated (see `KEPT`).
    let private = unsafe { &mut *(*task).private_data.cast::<SpecTask>() };
    // A second extraction is counted (and refused), never a use after free.
    if private.extractions.fetch_add(1, Ordering::SeqCst) > 0 {
        return libc::EINVAL;
    }
    let array = private.array.take().unwrap();
    if out.is_null() {
        drop(into_rs(array));
    } else {
        // SAFETY: `out` is writable.
        unsafe { ptr::write(out, ArrowDeviceArray { array, device_id: -1, device_type: ARROW_DEVICE_CPU, sync_event: ptr::null_mut(), reserved: [0; 3] }) };
    }
    // SAFETY: the box of `pump`, reclaimed on the first extraction only.
    KEPT.lock().unwrap().push(unsafe { Box::from_raw((*task).private_data.cast::<SpecTask>()) });
    0
}

/// Extracted tasks' boxes, kept until the process ends so that a second extraction is counted.
#[allow(clippy::vec_box)] // the boxes' addresses are the tasks' private data: they must not move
static KEPT: Mutex<Vec<Box<SpecTask>>> = Mutex::new(Vec::new());

fn script(batches: Vec<RecordBatch>, schema: SchemaRef) -> Script {
    Script { batches, schema, error_at: None, device_type: ARROW_DEVICE_CPU }
}

/// Reads everything from `reader` on this thread, pumping `producer` whenever the reader waits.
fn read_on_one_thread(reader: &mut AsyncDeviceStreamReader, producer: &SpecProducer) -> Vec<Result<RecordBatch, ArrowError>> {
    let mut items = vec![];
    block_on(futures::future::poll_fn(|cx| loop {
        match reader.poll_next_unpin(cx) {
            Poll::Ready(Some(item)) => items.push(item),
            Poll::Ready(None) => return Poll::Ready(()),
            Poll::Pending => {
                let finished = producer.finished();
                producer.pump();
                if finished {
                    return Poll::Ready(()); // the reader waits though the producer is done: report what came
                }
            }
        }
    }));
    items
}

#[test]
fn reader_reads_a_spec_producer() {
    let (schema, input) = batches(5, 3);
    let mut reader = AsyncDeviceStreamReader::new(2);
    let producer = SpecProducer::new(script(input.clone(), schema.clone()), reader.handler());
    producer.start();
    assert_eq!(block_on(reader.schema()).unwrap(), schema);
    assert_eq!(producer.state.lock().unwrap().requested, 2, "queue_size requested in on_schema");
    let items = read_on_one_thread(&mut reader, &producer);
    let got: Vec<_> = items.into_iter().map(Result::unwrap).collect();
    assert_eq!(got, input);
    assert!(producer.finished());
    producer.violations.assert_none();
    drop(got);
    producer.assert_tasks_done();
    drop(reader);
}

#[test]
fn reader_requests_only_as_it_is_polled() {
    let (schema, input) = batches(8, 1);
    let mut reader = AsyncDeviceStreamReader::new(3);
    let producer = SpecProducer::new(script(input.clone(), schema), reader.handler());
    producer.start();
    let mut cx = noop_context();
    producer.pump();
    assert_eq!(producer.state.lock().unwrap().sent, 3, "the queue is full: 3 tasks, no more");
    for taken in 1..=3 {
        let batch = reader.poll_next_unpin(&mut cx).map(|item| item.unwrap().unwrap());
        assert_eq!(batch, Poll::Ready(input[taken - 1].clone()));
        let state = producer.state.lock().unwrap();
        assert_eq!((state.requested, state.sent), (3 + taken as i64, 3), "one more requested per batch taken");
    }
    drop(reader);
    producer.pump();
    assert!(producer.finished(), "the drop cancelled the producer, which released the handler");
    producer.violations.assert_none();
    producer.assert_tasks_done();
}

#[test]
fn reader_reports_a_producer_error_with_its_code_and_message() {
    let (schema, input) = batches(3, 2);
    let mut reader = AsyncDeviceStreamReader::new(4);
    let mut script = script(input.clone(), schema);
    script.error_at = Some((2, libc::EIO, "the disk went away"));
    let producer = SpecProducer::new(script, reader.handler());
    producer.start();
    let items = read_on_one_thread(&mut reader, &producer);
    assert_eq!(items.len(), 3, "two batches, then the error: {items:?}");
    assert_eq!(items[0].as_ref().unwrap(), &input[0]);
    assert_eq!(items[1].as_ref().unwrap(), &input[1]);
    let error = items[2].as_ref().unwrap_err().to_string();
    assert!(error.contains("the disk went away") && error.contains("EIO (5)"), "{error}");
    assert!(block_on(reader.next()).is_none(), "the stream ends after the error");
    drop(items);
    producer.violations.assert_none();
    producer.assert_tasks_done();
}

#[test]
fn reader_of_an_empty_stream_has_the_schema_and_ends() {
    let (schema, _) = batches(0, 1);
    let mut reader = AsyncDeviceStreamReader::new(1);
    let producer = SpecProducer::new(script(vec![], schema.clone()), reader.handler());
    producer.start();
    assert_eq!(block_on(reader.schema()).unwrap(), schema);
    assert!(read_on_one_thread(&mut reader, &producer).is_empty());
    assert!(producer.finished());
    producer.violations.assert_none();
}

#[test]
fn reader_dropped_unread_cancels_and_discards_every_task() {
    // Dropped with tasks queued: each discarded (extract_data with NULL), released once.
    let (schema, input) = batches(5, 2);
    let mut reader = AsyncDeviceStreamReader::new(3);
    let producer = SpecProducer::new(script(input.clone(), schema.clone()), reader.handler());
    producer.start();
    producer.pump();
    drop(reader);
    assert!(producer.state.lock().unwrap().cancelled);
    producer.pump();
    assert!(producer.finished());
    assert_eq!(producer.extractions.lock().unwrap().len(), 3);
    producer.violations.assert_none();
    producer.assert_tasks_done();

    // Dropped before the schema arrived: on_schema refuses, the producer releases at once.
    let mut reader = AsyncDeviceStreamReader::new(3);
    let producer = SpecProducer::new(script(input, schema), reader.handler());
    drop(reader);
    producer.start();
    assert!(producer.finished());
    producer.violations.assert_none();

    // Never handed over: freed with the reader (Miri checks nothing leaks).
    drop(AsyncDeviceStreamReader::new(1));
}

#[test]
fn reader_refuses_a_producer_on_another_device_by_name() {
    let (schema, input) = batches(2, 2);
    let mut reader = AsyncDeviceStreamReader::new(2);
    let mut script = script(input, schema);
    script.device_type = ARROW_DEVICE_CUDA;
    let producer = SpecProducer::new(script, reader.handler());
    producer.start();
    assert!(producer.finished(), "on_schema refused, the producer released the handler");
    let error = block_on(reader.schema()).unwrap_err().to_string();
    assert!(error.contains("handler.producer.device_type") && error.contains("CUDA (2)"), "{error}");
    let first = block_on(reader.next()).unwrap().unwrap_err().to_string();
    assert!(first.contains("CUDA (2)"), "{first}");
    assert!(block_on(reader.next()).is_none());
    producer.violations.assert_none();
}

#[test]
fn reader_refuses_a_second_on_schema_and_keeps_the_first() {
    let (schema, input) = batches(2, 2);
    let mut reader = AsyncDeviceStreamReader::new(2);
    let producer = SpecProducer::new(script(input.clone(), schema.clone()), reader.handler());
    producer.start();
    let other = Schema::new(vec![arrow_schema::Field::new("x", arrow_schema::DataType::Int8, true)]);
    let mut again = ManuallyDrop::new(RsSchema::try_from(&other).unwrap());
    let handler = producer.handler;
    // SAFETY: our handler, unreleased; the schema's ownership passes to it.
    let code = unsafe { ((*handler).on_schema.unwrap())(handler, ptr::from_mut(&mut *again).cast()) };
    assert_eq!(code, libc::EINVAL);
    assert_eq!(block_on(reader.schema()).unwrap(), schema);
    let got: Vec<_> = read_on_one_thread(&mut reader, &producer).into_iter().map(Result::unwrap).collect();
    assert_eq!(got, input);
    producer.violations.assert_none();
}

#[test]
fn export_reports_a_batch_of_another_schema_as_a_stream_error() {
    let (schema, input) = batches(1, 2);
    let (_, other) = {
        let ids: ArrayRef = Arc::new(Int32Array::from(vec![1, 2]));
        let batch = RecordBatch::try_from_iter([("id", ids)]).unwrap();
        (batch.schema(), batch)
    };
    let consumer = SpecConsumer::new(Plan { initial: 3, inline: true, ..Plan::default() });
    let error = export_on_one_thread(&consumer, schema, vec![Ok(input[0].clone()), Ok(other)]).unwrap_err();
    assert!(error.to_string().contains("does not match the stream's schema"), "{error}");
    let state = consumer.state.lock().unwrap();
    assert_eq!(state.calls, ["on_schema", "on_next_task", "on_error", "release"]);
    assert_eq!(state.error.as_ref().unwrap().0, libc::EINVAL);
    drop(state);
    consumer.violations.assert_none();
}

#[test]
fn export_refuses_a_handler_with_a_null_callback_and_releases_it() {
    let (schema, input) = batches(1, 1);
    let consumer = SpecConsumer::new(Plan::default());
    // SAFETY: the handler is unreleased and ours to change.
    unsafe { (*consumer.handler()).on_error = None };
    // SAFETY: a handler that breaks the spec only in the way the export checks.
    let export = unsafe { export_async_device_stream(schema.clone(), futures::stream::iter(vec![Ok(input[0].clone())]), consumer.handler()) };
    let error = block_on(export).unwrap_err().to_string();
    assert!(error.starts_with("handler.on_error: NULL callback"), "{error}");
    assert_eq!(consumer.state.lock().unwrap().calls, ["release"]);
    // SAFETY: a NULL handler is refused without being read.
    let error = block_on(unsafe { export_async_device_stream(schema, futures::stream::iter(vec![]), ptr::null_mut()) }).unwrap_err();
    assert!(error.to_string().contains("NULL handler"), "{error}");
}

// Both ends cross threads as the executor pleases: the future and the stream are `Send`,
// `Unpin` and `'static`.
const _: () = {
    const fn movable<T: Send + Unpin + 'static>() {}
    movable::<arrow_cabi::device::AsyncDeviceStreamExport>();
    movable::<AsyncDeviceStreamReader>();
};

/// On a multi-threaded runtime: the producer on its own thread, the reader on a tokio worker,
/// dropped after two batches.
#[cfg_attr(miri, ignore = "a multi-threaded tokio runtime; the same paths run on one thread under Miri")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reader_across_threads_with_a_drop_mid_stream() {
    let (schema, input) = batches(30, 2);
    for stop_after in [2, usize::MAX] {
        let mut reader = AsyncDeviceStreamReader::new(4);
        let producer = SpecProducer::new(script(input.clone(), schema.clone()), reader.handler());
        let running = Arc::clone(&producer);
        let thread = std::thread::spawn(move || {
            running.start();
            running.run();
        });
        assert_eq!(reader.schema().await.unwrap(), schema);
        let mut got = vec![];
        while let Some(batch) = reader.next().await {
            got.push(batch.unwrap());
            let state = producer.state.lock().unwrap();
            assert!(state.sent as i64 <= state.requested && state.sent <= got.len() + 4, "bounded queue");
            drop(state);
            if got.len() == stop_after {
                break;
            }
        }
        drop(reader);
        thread.join().unwrap();
        assert_eq!(got, input[..got.len()]);
        assert_eq!(got.len(), stop_after.min(input.len()));
        drop(got);
        producer.violations.assert_none();
        producer.assert_tasks_done();
    }
}

// ---------------------------------------------------------------------------------------------
// Our export into our reader
// ---------------------------------------------------------------------------------------------

/// `batches` through our export into our reader, on one executor thread.
fn round_trip(schema: SchemaRef, batches: Vec<RecordBatch>, queue_size: usize) -> (StreamEnd, Vec<RecordBatch>) {
    let mut reader = AsyncDeviceStreamReader::new(queue_size);
    // SAFETY: our handler follows the spec and lives until the export releases it.
    let export = unsafe { export_async_device_stream(schema, futures::stream::iter(batches.into_iter().map(Ok)), reader.handler()) };
    let (end, got) = block_on(futures::future::join(export, reader.map(Result::unwrap).collect::<Vec<_>>()));
    (end.unwrap(), got)
}

proptest! {
    #![proptest_config(ProptestConfig {
        failure_persistence: if cfg!(miri) { None } else { ProptestConfig::default().failure_persistence },
        ..ProptestConfig::default()
    })]

    /// Every generated type: a stream of the batch, a slice of it and the batch again, through our
    /// export into our import, equal to arrow-rs's values of the input. Not under Miri, where
    /// building the generator alone takes a minute; the async layer is type-blind, and
    /// `our_export_into_our_reader_on_one_thread` runs its paths there.
    #[cfg_attr(miri, ignore = "building the generator alone takes a minute of Miri")]
    #[test]
    fn our_export_into_our_reader_for_every_generated_type(batch in common::arrays::record_batch(), queue_size in 1usize..4) {
        let mut stream = vec![batch.clone(), batch.slice(batch.num_rows() / 2, batch.num_rows() - batch.num_rows() / 2), batch.clone()];
        stream.truncate(if batch.num_rows() == 0 { 1 } else { 3 });
        let (end, got) = round_trip(batch.schema(), stream.clone(), queue_size);
        prop_assert_eq!(end, StreamEnd::Finished);
        prop_assert_eq!(got, stream);
    }
}

/// Our export into our reader on one executor thread, every queue size from 1 to past the
/// stream's length: every batch, in order (under Miri too).
#[test]
fn our_export_into_our_reader_on_one_thread() {
    let (schema, input) = batches(4, 3);
    for queue_size in 1..=5 {
        let (end, got) = round_trip(schema.clone(), input.clone(), queue_size);
        assert_eq!(end, StreamEnd::Finished);
        assert_eq!(got, input, "queue size {queue_size}");
    }
    let (end, got) = round_trip(schema, vec![], 1);
    assert_eq!((end, got), (StreamEnd::Finished, vec![]));
}

/// One type of every family, each as a one-column stream through our export into our reader.
#[cfg_attr(miri, ignore = "the family census walks 100,000 generated types")]
#[test]
fn our_export_into_our_reader_for_one_type_of_every_family() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    for data_type in common::arrays::one_type_of_every_family() {
        let array = common::arrays::array_exact(&data_type, 7, true).new_tree(&mut runner).unwrap().current();
        let batch = RecordBatch::try_from_iter([("column", array)]).unwrap();
        let (end, got) = round_trip(batch.schema(), vec![batch.clone(), batch.slice(2, 4)], 2);
        assert_eq!(end, StreamEnd::Finished);
        assert_eq!(got, vec![batch.clone(), batch.slice(2, 4)], "{data_type}");
    }
}

/// Our export on a tokio worker, our reader on another, a slow reader: every batch, in order.
#[cfg_attr(miri, ignore = "a multi-threaded tokio runtime; the same paths run on one thread under Miri")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_export_into_our_reader_across_threads() {
    let (schema, input) = batches(50, 5);
    let mut reader = AsyncDeviceStreamReader::new(2);
    // SAFETY: as in `round_trip`.
    let export = unsafe { export_async_device_stream(schema.clone(), futures::stream::iter(input.clone().into_iter().map(Ok)), reader.handler()) };
    let exporting = tokio::spawn(export);
    assert_eq!(reader.schema().await.unwrap(), schema);
    let mut got = vec![];
    while let Some(batch) = reader.next().await {
        got.push(batch.unwrap());
        if got.len() % 7 == 0 {
            tokio::task::yield_now().await;
        }
    }
    assert_eq!(exporting.await.unwrap().unwrap(), StreamEnd::Finished);
    assert_eq!(got, input);

    // Dropping our reader mid-stream cancels our export.
    let mut reader = AsyncDeviceStreamReader::new(2);
    // SAFETY: as above.
    let export = unsafe { export_async_device_stream(schema, futures::stream::iter(input.clone().into_iter().map(Ok)), reader.handler()) };
    let exporting = tokio::spawn(export);
    let first = reader.next().await.unwrap().unwrap();
    assert_eq!(first, input[0]);
    drop(reader);
    assert_eq!(exporting.await.unwrap().unwrap(), StreamEnd::Cancelled);
}
