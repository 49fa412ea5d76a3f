//! Arrow C++ as the peer of the Async Device Stream Interface, both ways, on every gold file.
//!
//! A small C++ shim (`tests/cpp/async_shim.cc`, built by `common/arrow_cpp.rs` against pyarrow's
//! libarrow) gives a C API over Arrow C++'s two async entry points: `CreateAsyncDeviceStreamHandler`
//! (Arrow C++ consumes: every batch validated with `ValidateFull`, then handed back as a plain C
//! stream that arrow-rs's own `ffi_stream` reads) and `ExportAsyncRecordBatchReader` (Arrow C++
//! produces the batches of a gold file it read with its IPC reader). The truth is each file's
//! `.json.gz` (read with arrow-integration-test) and the file read directly with arrow-ipc.
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
use arrow_schema::{DataType, Field, Fields, SchemaRef};
use arrow_cabi_sys::ArrowAsyncDeviceStreamHandler;

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

    /// Blocks until the stream ended or failed; the batches read back with arrow-rs's `ffi_stream`.
    fn wait(&mut self) -> Result<Consumed, String> {
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
#[cfg_attr(miri, ignore)]
fn arrow_cpp_producer_feeds_arrow_cpp_consumer_on_every_gold_file() {
    let Some(shim) = shim() else { return };
    every_gold_file(CPP_REJECTS, |path| {
        let mut consumer = CppConsumer::new(shim, 2);
        // SAFETY: the consumer's handler outlives the producer, which is waited for below.
        let mut producer = unsafe { CppProducer::start(shim, path, consumer.handler(), None) }?;
        let consumed = consumer.wait();
        producer.wait().map_err(|e| format!("producer: {e}"))?;
        let consumed = consumed?;
        if consumed.device_type != 1 {
            return Err(format!("device type {} declared, CPU (1) expected", consumed.device_type));
        }
        same_as_gold(path, &consumed.schema, &consumed.batches)
    });
}

#[test]
#[cfg_attr(miri, ignore)]
fn the_shim_s_producer_error_reaches_arrow_cpp_s_consumer() {
    let Some(shim) = shim() else { return };
    let Some(files) = gold_files() else { return };
    let (_, path) = files.iter().find(|(name, _)| name == "cpp-21.0.0/generated_primitive").unwrap();
    let mut consumer = CppConsumer::new(shim, 2);
    // SAFETY: the consumer's handler outlives the producer, which is waited for below.
    let mut producer = unsafe { CppProducer::start(shim, path, consumer.handler(), Some(1)) }.unwrap();
    let consumed = consumer.wait();
    let produced = producer.wait();
    let consumed = consumed.err().expect("the consumer sees the error");
    assert!(consumed.contains("error injected after 1 batches"), "{consumed}");
    assert!(produced.unwrap_err().contains("error injected after 1 batches"));
}
