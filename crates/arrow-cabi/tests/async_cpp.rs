//! Arrow C++ as the peer of the Async Device Stream Interface, both ways, on every gold file.
//!
//! A small C++ shim (`tests/cpp/async_shim.cc`, built by `common/arrow_cpp.rs` against pyarrow's
//! libarrow) gives a C API over Arrow C++'s two async entry points: `CreateAsyncDeviceStreamHandler`
//! (Arrow C++ consumes: every batch validated with `ValidateFull`, then handed back as a plain C
//! stream that arrow-rs's own `ffi_stream` reads) and `ExportAsyncRecordBatchReader` (Arrow C++
//! produces the batches of a gold file it read with its IPC reader). The truth is each file's
//! `.json.gz` (read with arrow-integration-test), with map fields named as Arrow C++ names them,
//! and the schema metadata of the file read directly with arrow-ipc. The shim is first proven on
//! its own (Arrow C++ producer into Arrow C++ consumer), then crossed with our export and reader.
//!
//! What Arrow C++ 26 does (cpp/src/arrow/c/bridge.cc), seen here or read there, that a peer of it
//! must live with:
//! - its consumer copies each task in `on_next_task` and extracts it later on a thread of its
//!   executor, calling `producer->request(1)` just before, even after the handler's release (so
//!   our export keeps its producer struct while a task is not extracted; it was freed at release,
//!   as the spec allows, which these tests found as a use after free);
//! - its consumer never calls `cancel`: a consumer that stops reading leaves the producer waiting,
//!   so the shim reads a stream to its end even after a batch failed validation;
//! - its producer answers a cancel with `on_error` ("Cancelled: Consumer requested cancellation")
//!   before `release`, which the spec forbids for a successful cancel; it also calls `on_error` (or,
//!   for an empty stream, the NULL task) after `on_schema` or `on_next_task` returned an error, and
//!   its `on_error` code is always EINVAL;
//! - its producer blocks its thread while nothing is requested (the shim gives it a thread).
//!
//! Not covered: a cancel by Arrow C++'s consumer (it has none); a schema that Arrow C++'s consumer
//! refuses (none of ours is). Empty streams are covered by the three gold files without batches.
//!
//! Where Python, pyarrow or g++ is missing the tests print a skip message and pass, unless
//! `ARROW_CABI_REQUIRE_PEERS=1`; where the gold files are missing, likewise with
//! `ARROW_CABI_REQUIRE_GOLDEN=1`. None of this runs under Miri (it calls foreign C++ code).

use std::ffi::{c_char, c_void, CStr, CString};
use std::path::Path;
use std::ptr::{self, NonNull};
use std::sync::{Arc, OnceLock};

use arrow_array::{make_array, RecordBatch, RecordBatchReader};
use arrow_data::ArrayData;
use arrow_schema::{ArrowError, DataType, Field, Fields, SchemaRef};
use arrow_cabi::device::{export_async_device_stream, AsyncDeviceStreamReader, StreamEnd};
use arrow_cabi::Validation;
use arrow_cabi_sys::ArrowAsyncDeviceStreamHandler;
use futures::{StreamExt, TryStreamExt};

#[path = "common/arrow_cpp.rs"]
mod arrow_cpp;
#[path = "common/gold.rs"]
mod gold;

/// Gold files whose own values Arrow C++'s `ValidateFull` refuses, with the words of its refusal:
/// the consumer shim validates every batch, so these cannot pass through it whoever produces.
/// The self-check asserts that each fails with these words, so that the list hides nothing else.
const CPP_REJECTS: &[(&str, &str)] = &[
    ("1.0.0-littleendian/generated_datetime", "date64"),
    ("1.0.0-littleendian/generated_decimal", "precision"),
    ("1.0.0-littleendian/generated_decimal256", "precision"),
];

type ConsumerNew = unsafe extern "C" fn(*mut ArrowAsyncDeviceStreamHandler, u64) -> *mut c_void;
type ConsumerWait = unsafe extern "C" fn(*mut c_void, *mut arrow::ffi_stream::FFI_ArrowArrayStream, *mut i32) -> *const c_char;
type ProducerStart =
    unsafe extern "C" fn(*const c_char, *mut ArrowAsyncDeviceStreamHandler, i64, *mut *const c_char) -> *mut c_void;
type ProducerWait = unsafe extern "C" fn(*mut c_void) -> *const c_char;
type Free = unsafe extern "C" fn(*mut c_void);

/// The shim's C API (see async_shim.cc for each function's contract).
struct Shim {
    consumer_new: ConsumerNew,
    consumer_wait: ConsumerWait,
    consumer_free: Free,
    producer_start: ProducerStart,
    producer_wait: ProducerWait,
    producer_free: Free,
}

/// The loaded shim, or `None` (after a skip message) where the peer is not installed.
fn shim() -> Option<&'static Shim> {
    static SHIM: OnceLock<Result<Shim, String>> = OnceLock::new();
    let loaded = SHIM.get_or_init(|| {
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cpp/async_shim.cc");
        let library: &'static libloading::Library = Box::leak(Box::new(arrow_cpp::load_shim(&source)?));
        macro_rules! symbol {
            ($name:literal) => {
                // SAFETY: the symbol has the type async_shim.cc declares, written out above.
                *unsafe { library.get(concat!($name, "\0").as_bytes()) }
                    .unwrap_or_else(|e| panic!("{}: {e}", $name))
            };
        }
        Ok(Shim {
            consumer_new: symbol!("arrow_cabi_async_consumer_new"),
            consumer_wait: symbol!("arrow_cabi_async_consumer_wait"),
            consumer_free: symbol!("arrow_cabi_async_consumer_free"),
            producer_start: symbol!("arrow_cabi_async_producer_start"),
            producer_wait: symbol!("arrow_cabi_async_producer_wait"),
            producer_free: symbol!("arrow_cabi_async_producer_free"),
        })
    });
    match loaded {
        Ok(shim) => Some(shim),
        Err(why) => {
            eprintln!("SKIP async_cpp: Arrow C++ peer not available: {why}");
            None
        }
    }
}

/// The shim's error text, or `Ok` for NULL.
///
/// # Safety
/// `error` is NULL or a NUL-terminated string alive for the call.
unsafe fn outcome(error: *const c_char) -> Result<(), String> {
    if error.is_null() {
        Ok(())
    } else {
        // SAFETY: the caller's contract.
        Err(unsafe { CStr::from_ptr(error) }.to_string_lossy().into_owned())
    }
}

/// What Arrow C++'s consumer received: the producer's declared device type, the schema, the batches.
struct Consumed {
    device_type: i32,
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
}

/// Arrow C++ as the consumer: a handler filled by `CreateAsyncDeviceStreamHandler`.
///
/// The handler lives in a box of ours, so its address is stable; drop the consumer only after its
/// producer has released the handler.
struct CppConsumer {
    shim: &'static Shim,
    handler: Box<ArrowAsyncDeviceStreamHandler>,
    consumer: NonNull<c_void>,
}

impl CppConsumer {
    fn new(shim: &'static Shim, queue_size: u64) -> Self {
        let mut handler = Box::new(empty_handler());
        // SAFETY: `handler` is a writable, zeroed handler that outlives the consumer.
        let consumer = unsafe { (shim.consumer_new)(&mut *handler, queue_size) };
        let consumer = NonNull::new(consumer).expect("Arrow C++ made its consumer's thread pool");
        Self { shim, handler, consumer }
    }

    /// The handler to hand to a producer.
    fn handler(&mut self) -> *mut ArrowAsyncDeviceStreamHandler {
        &mut *self.handler
    }

    /// Blocks until the stream ended or failed (within a minute, else the test fails); the
    /// batches read back with arrow-rs's `ffi_stream`. The consumer is given back.
    fn wait(mut self) -> (Self, Result<Consumed, String>) {
        within_a_minute("Arrow C++'s consumer", move || {
            let consumed = self.wait_here();
            (self, consumed)
        })
    }

    fn wait_here(&mut self) -> Result<Consumed, String> {
        let mut stream = arrow::ffi_stream::FFI_ArrowArrayStream::empty();
        let mut device_type = 0;
        // SAFETY: the consumer is live; `stream` and `device_type` are writable; the error string
        // lives until the consumer is freed.
        unsafe { outcome((self.shim.consumer_wait)(self.consumer.as_ptr(), &mut stream, &mut device_type)) }?;
        // SAFETY: Arrow C++ filled `stream` with ExportRecordBatchReader.
        let reader = unsafe { arrow::ffi_stream::RecordBatchStreamReader::from_raw(&mut stream) }
            .map_err(|e| format!("arrow-rs import of Arrow C++'s plain stream: {e}"))?;
        let schema = reader.schema();
        let batches = reader
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("arrow-rs reading Arrow C++'s plain stream: {e}"))?;
        if let Some(batch) = batches.iter().find(|b| b.schema() != schema) {
            return Err(format!("a batch's schema differs from the stream's: {:?}", batch.schema()));
        }
        Ok(Consumed { device_type, schema, batches })
    }
}

// SAFETY: the shim's consumer (Arrow C++'s future and thread pool) and our boxed handler may be
// waited for and freed from any thread; ownership and `&mut self` keep those calls one at a time.
unsafe impl Send for CppConsumer {}

impl Drop for CppConsumer {
    fn drop(&mut self) {
        // SAFETY: the consumer is live and freed once; its producer released the handler.
        unsafe { (self.shim.consumer_free)(self.consumer.as_ptr()) };
    }
}

/// Arrow C++ as the producer: `ExportAsyncRecordBatchReader` over a gold file, on a thread of its own.
struct CppProducer {
    shim: &'static Shim,
    producer: NonNull<c_void>,
}

impl CppProducer {
    /// Starts producing the IPC file at `path` into `handler`, failing after `fail_after` batches
    /// if given.
    ///
    /// # Safety
    /// `handler` is a filled handler whose address stays valid until the producer releases it.
    unsafe fn start(
        shim: &'static Shim,
        path: &Path,
        handler: *mut ArrowAsyncDeviceStreamHandler,
        fail_after: Option<i64>,
    ) -> Result<Self, String> {
        let path = CString::new(path.to_str().expect("UTF-8 path")).unwrap();
        let mut error = ptr::null();
        // SAFETY: `path` is NUL-terminated; `handler` as the caller guarantees; `error` is writable.
        let producer = unsafe { (shim.producer_start)(path.as_ptr(), handler, fail_after.unwrap_or(-1), &mut error) };
        match NonNull::new(producer) {
            Some(producer) => Ok(Self { shim, producer }),
            // SAFETY: the shim set `error` to its thread's open error.
            None => Err(unsafe { outcome(error) }.expect_err("an error where no producer")),
        }
    }

    /// Blocks until the producer released the handler; Arrow C++'s final status.
    fn wait(&mut self) -> Result<(), String> {
        // SAFETY: the producer is live; the error string lives until it is freed.
        unsafe { outcome((self.shim.producer_wait)(self.producer.as_ptr())) }
    }
}

// SAFETY: the shim's producer (a thread handle and a status) may be waited for and freed from any
// thread; ownership and `&mut self` keep those calls one at a time.
unsafe impl Send for CppProducer {}

impl Drop for CppProducer {
    fn drop(&mut self) {
        // SAFETY: the producer is live and freed once.
        unsafe { (self.shim.producer_free)(self.producer.as_ptr()) };
    }
}

fn empty_handler() -> ArrowAsyncDeviceStreamHandler {
    ArrowAsyncDeviceStreamHandler {
        on_schema: None,
        on_next_task: None,
        on_error: None,
        release: None,
        producer: ptr::null_mut(),
        private_data: ptr::null_mut(),
    }
}

/// The gold files, or `None` (after a skip message) where they are absent and not required.
fn gold_files() -> Option<Vec<(String, std::path::PathBuf)>> {
    let files = gold::gold_files(&gold::golden_dir()?);
    assert_eq!(files.len(), gold::EXPECTED_FILES, "gold .arrow_file count");
    Some(files)
}

/// Compares what Arrow C++ delivered with the gold file: the schema's fields and the batches with
/// its JSON description, the schema's metadata (which the JSON reader does not carry) with the file
/// read directly by arrow-ipc. Arrow C++ cannot name a map's fields otherwise than `entries`,
/// `key`, `value` (its IPC reader renames them too), so the JSON's map fields are given those
/// names first (a no-op but for the two `map_non_canonical` files).
fn same_as_gold(path: &Path, schema: &SchemaRef, got: &[RecordBatch]) -> Result<(), String> {
    let (json_schema, json_batches) = gold::read_json(path)?;
    let json_fields: Vec<Field> = json_schema.fields().iter().map(|f| canonical_field(f)).collect();
    if schema.fields() != &Fields::from(json_fields) {
        return Err(format!("schema differs from the JSON's:\n{schema:#?}\nvs\n{json_schema:#?}"));
    }
    let (direct_schema, _) = gold::read_direct(path)?;
    if schema.metadata() != direct_schema.metadata() {
        return Err(format!("schema metadata {:?}, the file has {:?}", schema.metadata(), direct_schema.metadata()));
    }
    let json_batches = json_batches
        .iter()
        .map(|batch| {
            let columns = batch.columns().iter().map(|c| make_array(canonical_data(c.to_data()))).collect();
            RecordBatch::try_new(schema.clone(), columns).map_err(|e| format!("canonical JSON batch: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    gold::same_batches("Arrow C++ vs json", &json_batches, got)
}

/// `field` with every map below it named as Arrow C++ names maps.
fn canonical_field(field: &Field) -> Field {
    field.clone().with_data_type(canonical_type(field.data_type()))
}

fn canonical_type(data_type: &DataType) -> DataType {
    match data_type {
        DataType::Map(entries, sorted) => {
            let DataType::Struct(pair) = entries.data_type() else { unreachable!("a map's entries are a struct") };
            let pair = [("key", &pair[0]), ("value", &pair[1])]
                .map(|(name, field)| canonical_field(&field.as_ref().clone().with_name(name)));
            DataType::Map(Arc::new(entries.as_ref().clone().with_name("entries").with_data_type(DataType::Struct(Fields::from(pair.to_vec())))), *sorted)
        }
        DataType::Struct(fields) => DataType::Struct(fields.iter().map(|f| canonical_field(f)).collect()),
        DataType::List(f) => DataType::List(Arc::new(canonical_field(f))),
        DataType::LargeList(f) => DataType::LargeList(Arc::new(canonical_field(f))),
        DataType::ListView(f) => DataType::ListView(Arc::new(canonical_field(f))),
        DataType::LargeListView(f) => DataType::LargeListView(Arc::new(canonical_field(f))),
        DataType::FixedSizeList(f, n) => DataType::FixedSizeList(Arc::new(canonical_field(f)), *n),
        DataType::Union(fields, mode) => DataType::Union(
            fields.iter().map(|(id, f)| (id, Arc::new(canonical_field(f)))).collect(),
            *mode,
        ),
        DataType::Dictionary(key, value) => DataType::Dictionary(key.clone(), Box::new(canonical_type(value))),
        DataType::RunEndEncoded(ends, values) => DataType::RunEndEncoded(ends.clone(), Arc::new(canonical_field(values))),
        other => other.clone(),
    }
}

/// `data` with its type and its children's (a dictionary's values among them) renamed by
/// [`canonical_type`].
fn canonical_data(data: ArrayData) -> ArrayData {
    let data_type = canonical_type(data.data_type());
    let mut children: Vec<ArrayData> = data.child_data().iter().cloned().map(canonical_data).collect();
    if let DataType::Map(entries, _) = &data_type {
        // The entries' own type names the pair's fields, which only the map knows.
        let pair = children.pop().expect("a map has its entries");
        children.push(pair.into_builder().data_type(entries.data_type().clone()).build().expect("renamed entries"));
    }
    data.into_builder()
        .data_type(data_type)
        .child_data(children)
        .build()
        .expect("renaming fields keeps the data valid")
}

/// Runs `check` on every gold file (but `skip`), each failure named; a skipped file must fail
/// `check` with the words listed for it, so that skipping hides nothing else.
fn every_gold_file(skip: &[(&str, &str)], check: impl Fn(&Path) -> Result<(), String>) {
    let Some(files) = gold_files() else { return };
    let mut problems = Vec::new();
    for (name, path) in &files {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(path)))
            .unwrap_or_else(|payload| Err(format!("panic: {}", gold::panic_text(&*payload))));
        match (outcome, skip.iter().find(|(n, _)| n == name)) {
            (Ok(()), None) => println!("ok    {name}"),
            (Err(error), None) => {
                println!("FAIL  {name}: {error}");
                problems.push(format!("{name}: {error}"));
            }
            (Err(error), Some((_, words))) if error.contains(words) => println!("skip  {name}: {error}"),
            (outcome, Some((_, words))) => {
                problems.push(format!("{name} is skipped for an error with {words:?}, but got {outcome:?}"))
            }
        }
    }
    assert!(problems.is_empty(), "{} gold file problem(s):\n{}", problems.len(), problems.join("\n"));
}

#[test]
#[cfg_attr(miri, ignore = "calls Arrow C++, a C++ library loaded with dlopen")]
fn arrow_cpp_producer_feeds_arrow_cpp_consumer_on_every_gold_file() {
    let Some(shim) = shim() else { return };
    every_gold_file(CPP_REJECTS, |path| {
        let mut consumer = CppConsumer::new(shim, 2);
        // SAFETY: the consumer's handler outlives the producer, which is waited for below.
        let mut producer = unsafe { CppProducer::start(shim, path, consumer.handler(), None) }?;
        let (_consumer, consumed) = consumer.wait();
        producer.wait().map_err(|e| format!("producer: {e}"))?;
        let consumed = consumed?;
        if consumed.device_type != 1 {
            return Err(format!("device type {} declared, CPU (1) expected", consumed.device_type));
        }
        same_as_gold(path, &consumed.schema, &consumed.batches)
    });
}

#[test]
#[cfg_attr(miri, ignore = "calls Arrow C++, a C++ library loaded with dlopen")]
fn the_shim_s_producer_error_reaches_arrow_cpp_s_consumer() {
    let Some(shim) = shim() else { return };
    let Some(files) = gold_files() else { return };
    let (_, path) = files.iter().find(|(name, _)| name == "cpp-21.0.0/generated_primitive").unwrap();
    let mut consumer = CppConsumer::new(shim, 2);
    // SAFETY: the consumer's handler outlives the producer, which is waited for below.
    let mut producer = unsafe { CppProducer::start(shim, path, consumer.handler(), Some(1)) }.unwrap();
    let (_consumer, consumed) = consumer.wait();
    let produced = producer.wait();
    let consumed = consumed.err().expect("the consumer sees the error");
    assert!(consumed.contains("error injected after 1 batches"), "{consumed}");
    assert!(produced.unwrap_err().contains("error injected after 1 batches"));
}

/// A multi-threaded tokio runtime for our side of the stream (the shim's calls block the test's
/// own thread, outside the runtime).
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

/// `work` on a thread of its own, which must finish within a minute: a peer that never releases
/// the handler or never ends the stream fails the test instead of hanging it.
fn within_a_minute<T: Send + 'static>(what: &str, work: impl FnOnce() -> T + Send + 'static) -> T {
    let (done, outcome) = std::sync::mpsc::channel();
    std::thread::spawn(move || done.send(work()));
    outcome
        .recv_timeout(std::time::Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("{what} did not finish within a minute"))
}

/// The gold file `name`'s path, or `None` where the gold files are absent and not required.
fn gold_file(name: &str) -> Option<std::path::PathBuf> {
    let files = gold_files()?;
    Some(files.into_iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("{name} is a gold file")).1)
}

/// Our async export of `batches` into Arrow C++'s consumer: what it received, and our future's end.
fn through_arrow_cpp_consumer(
    shim: &'static Shim,
    schema: SchemaRef,
    batches: Vec<Result<RecordBatch, ArrowError>>,
) -> (Result<Consumed, String>, arrow_cabi::Result<StreamEnd>) {
    let runtime = runtime();
    let mut consumer = CppConsumer::new(shim, 2);
    // SAFETY: Arrow C++ filled the handler; it lives in `consumer`, dropped after the export ended
    // (the export resolves after the handler's release).
    let export = unsafe { export_async_device_stream(schema, futures::stream::iter(batches), consumer.handler()) };
    let exporting = runtime.spawn(export);
    let (_consumer, consumed) = consumer.wait();
    let ended = runtime.block_on(exporting).expect("the export task did not panic");
    (consumed, ended)
}

/// What our reader read: the schema, then the batches.
type Read = (SchemaRef, Vec<RecordBatch>);

/// Arrow C++'s async export of the gold file at `path` into our reader (queue of 2, full
/// validation), failing after `fail_after` batches if given: the schema and batches we read (or
/// the first error), and Arrow C++'s final status.
fn from_arrow_cpp_producer(
    shim: &'static Shim,
    path: &Path,
    fail_after: Option<i64>,
) -> (Result<Read, String>, Result<(), String>) {
    let runtime = runtime();
    let mut reader = AsyncDeviceStreamReader::with_validation(2, Validation::Full);
    // SAFETY: our reader's handler stays valid until the producer releases it (the reader's
    // contract), and is handed to this one producer.
    let mut producer = unsafe { CppProducer::start(shim, path, reader.handler(), fail_after) }.unwrap();
    let read = runtime.block_on(async move {
        let schema = reader.schema().await.map_err(|e| format!("schema: {e}"))?;
        let batches: Vec<RecordBatch> = reader.try_collect().await.map_err(|e| format!("batches: {e}"))?;
        Ok((schema, batches))
    });
    let produced = within_a_minute("Arrow C++'s producer", move || producer.wait());
    (read, produced)
}

#[test]
#[cfg_attr(miri, ignore = "calls Arrow C++, a C++ library loaded with dlopen")]
fn arrow_cpp_consumes_our_async_export_on_every_gold_file() {
    let Some(shim) = shim() else { return };
    every_gold_file(CPP_REJECTS, |path| {
        let (schema, batches) = gold::read_direct(path)?;
        let (consumed, ended) = through_arrow_cpp_consumer(shim, schema, batches.into_iter().map(Ok).collect());
        let consumed = consumed?;
        match ended {
            Ok(StreamEnd::Finished) => {}
            other => return Err(format!("our export ended with {other:?}, Finished expected")),
        }
        if consumed.device_type != 1 {
            return Err(format!("Arrow C++ saw device type {}, CPU (1) expected", consumed.device_type));
        }
        same_as_gold(path, &consumed.schema, &consumed.batches)
    });
}

#[test]
#[cfg_attr(miri, ignore = "calls Arrow C++, a C++ library loaded with dlopen")]
fn we_consume_arrow_cpp_s_async_export_on_every_gold_file() {
    let Some(shim) = shim() else { return };
    every_gold_file(&[], |path| {
        let (read, produced) = from_arrow_cpp_producer(shim, path, None);
        produced.map_err(|e| format!("Arrow C++'s producer: {e}"))?;
        let (schema, batches) = read?;
        same_as_gold(path, &schema, &batches)
    });
}

#[test]
#[cfg_attr(miri, ignore = "calls Arrow C++, a C++ library loaded with dlopen")]
fn arrow_cpp_s_producer_error_reaches_our_reader_after_the_batches_before_it() {
    let Some(shim) = shim() else { return };
    let Some(path) = gold_file("cpp-21.0.0/generated_primitive") else { return };
    let runtime = runtime();
    let mut reader = AsyncDeviceStreamReader::new(2);
    // SAFETY: as in `from_arrow_cpp_producer`.
    let mut producer = unsafe { CppProducer::start(shim, &path, reader.handler(), Some(1)) }.unwrap();
    let items: Vec<Result<RecordBatch, ArrowError>> = runtime.block_on(async move {
        reader.schema().await.unwrap();
        reader.collect().await
    });
    let produced = within_a_minute("Arrow C++'s producer", move || producer.wait());
    assert_eq!(items.len(), 2, "one batch, then the error: {items:?}");
    let (direct_schema, direct) = gold::read_direct(&path).unwrap();
    let first = items[0].as_ref().expect("the batch before the error");
    assert_eq!(first.columns(), direct[0].columns());
    assert_eq!(first.schema(), direct_schema);
    let error = items[1].as_ref().expect_err("the producer's error").to_string();
    assert!(error.contains("async_shim: error injected after 1 batches"), "{error}");
    assert!(produced.unwrap_err().contains("error injected after 1 batches"));
}

#[test]
#[cfg_attr(miri, ignore = "calls Arrow C++, a C++ library loaded with dlopen")]
fn dropping_our_reader_mid_stream_stops_arrow_cpp_s_producer() {
    let Some(shim) = shim() else { return };
    // 36 batches, so that Arrow C++ is still producing when we stop after the first.
    let Some(path) = gold_file("1.0.0-littleendian/generated_decimal") else { return };
    let runtime = runtime();
    let mut reader = AsyncDeviceStreamReader::new(2);
    // SAFETY: as in `from_arrow_cpp_producer`; the handler outlives the reader's drop until the
    // producer's release.
    let mut producer = unsafe { CppProducer::start(shim, &path, reader.handler(), None) }.unwrap();
    let first = runtime.block_on(async move { reader.next().await });
    first.expect("a first batch").expect("a first batch, not an error");
    // The reader is dropped: it cancels. Arrow C++ then reports its cancellation through
    // on_error, which the spec forbids for a successful cancel; our handler must take it.
    let produced = within_a_minute("Arrow C++'s producer after the cancel", move || producer.wait());
    let error = produced.expect_err("Arrow C++ ends a cancelled export with an error status");
    assert!(error.contains("Cancelled: Consumer requested cancellation"), "{error}");
}

#[test]
#[cfg_attr(miri, ignore = "calls Arrow C++, a C++ library loaded with dlopen")]
fn dropping_our_reader_unread_lets_arrow_cpp_s_producer_finish() {
    let Some(shim) = shim() else { return };
    let Some(path) = gold_file("1.0.0-littleendian/generated_decimal") else { return };
    let mut reader = AsyncDeviceStreamReader::new(2);
    // SAFETY: as in `dropping_our_reader_mid_stream_stops_arrow_cpp_s_producer`.
    let mut producer = unsafe { CppProducer::start(shim, &path, reader.handler(), None) }.unwrap();
    drop(reader);
    // Whether on_schema came before or after the drop, Arrow C++ must get to its release.
    let produced = within_a_minute("Arrow C++'s producer after the drop", move || producer.wait());
    if let Err(error) = produced {
        assert!(error.contains("Cancelled") || error.contains("on_schema"), "{error}");
    }
}

/// Our export of the gold file's first `before` batches, then a stream error, into Arrow C++'s
/// consumer: Arrow C++ fails with our message, our export with the stream's error.
fn our_stream_error_reaches_arrow_cpp_s_consumer_after(before: usize) {
    let Some(shim) = shim() else { return };
    let Some(path) = gold_file("cpp-21.0.0/generated_primitive") else { return };
    let (schema, batches) = gold::read_direct(&path).unwrap();
    let mut items: Vec<_> = batches.into_iter().take(before).map(Ok).collect();
    items.push(Err(ArrowError::ComputeError("ours: failing on purpose".into())));
    let (consumed, ended) = through_arrow_cpp_consumer(shim, schema, items);
    let error = consumed.err().expect("Arrow C++ sees the stream fail");
    assert!(error.contains("ours: failing on purpose"), "{error}");
    let ended = ended.expect_err("our export ends with the stream's error").to_string();
    assert!(ended.contains("ours: failing on purpose"), "{ended}");
}

#[test]
#[cfg_attr(miri, ignore = "calls Arrow C++, a C++ library loaded with dlopen")]
fn our_stream_error_reaches_arrow_cpp_s_consumer() {
    our_stream_error_reaches_arrow_cpp_s_consumer_after(0);
}

#[test]
#[cfg_attr(miri, ignore = "calls Arrow C++, a C++ library loaded with dlopen")]
fn our_stream_error_after_a_batch_reaches_arrow_cpp_s_consumer() {
    our_stream_error_reaches_arrow_cpp_s_consumer_after(1);
}
