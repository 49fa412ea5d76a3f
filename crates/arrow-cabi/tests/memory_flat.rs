//! Memory stays flat over a long stream (issue 6): 10,000 batches, each built only when the stream
//! asks for it, exported, imported and dropped one by one, never lift the allocator's peak of live
//! bytes above what the first 100 batches reached (give or take half a batch), and once the reader is
//! dropped every byte allocated since before the stream was made is given back. The same holds over
//! 10,000 single crossings on each of issue 12's other paths (a schema; one array with its schema
//! under arrow-rs's names; one batch with its schema through the typed API), run by the very functions
//! the benchmarks time (`benches/common/mod.rs`), each on a freshly built input.
//!
//! Why: export and import are zero-copy, and each batch's producer memory must be freed when the last
//! imported buffer drops. A batch, a private struct or a schema kept one step too long, or a few bytes
//! lost per batch, would make the peak climb with the length of the stream. A timed test cannot see
//! that; counting the allocator's bytes can.
//!
//! How: a counting `#[global_allocator]` over `System` keeps live bytes and their peak in atomics.
//! Only the thread running a measurement is counted: the producer's callbacks are called on the
//! consumer's thread, so every byte of the stream is allocated and freed there, while the test
//! harness's own thread allocates whenever it reports a finished test and starts the next one, which
//! would blur the figures. The tests also take one lock, so that only one of them measures at a time.
//!
//! Both stream producers are checked, arrow-cabi's exporter and arrow-rs's (the peer), read by our
//! `RecordBatchStreamReader`. And the measure is checked against itself: on every path, a consumer that
//! keeps every output must make the same check fail, by far.

use std::alloc::{GlobalAlloc, Layout, System};
use std::any::Any;
use std::cell::Cell;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use arrow_array::{
    ArrayRef, BooleanArray, Float64Array, Int32Array, Int64Array, ListArray, RecordBatch,
    RecordBatchIterator, StringArray, StructArray,
};
use arrow_buffer::{BooleanBuffer, Buffer, NullBuffer, OffsetBuffer};
use arrow_cabi::ffi_stream::{RecordBatchStreamReader, FFI_ArrowArrayStream};
use arrow_schema::{ArrowError, DataType, Field, Fields, Schema, SchemaRef};

/// The crossings the benchmarks time, shared with them so that both measure the same code.
#[path = "../benches/common/mod.rs"]
mod paths;

/// The length of the stream, and the number of single crossings, the issues ask for.
const STREAM_BATCHES: usize = 10_000;
/// The batches after which the warm-up peak is read: enough for every buffer size and every
/// allocation pattern of a batch to have occurred many times over.
const WARM_UP_BATCHES: usize = 100;
/// The length of the stream (or the crossings) whose consumer keeps every output: 900 past the warm-up
/// already put the peak hundreds of tolerances higher, without holding the 10,000 (about half a
/// gigabyte of batches).
const KEEPING_STREAM_BATCHES: usize = 1_000;
const ROWS_PER_BATCH: usize = 1024;
/// Every name is this many bytes long.
const NAME_BYTES: usize = 8;

// ---------------------------------------------------------------------------------------------------
// The counting allocator.

/// `System`, counting the live bytes allocated by counted threads and the peak they reach.
struct CountingAllocator;

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Bytes allocated and not yet freed by counted threads. Signed: a counted thread may free memory
/// that was allocated before it was counted.
static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);
/// The highest `LIVE_BYTES` has been since the last reset.
static PEAK_LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);

thread_local! {
    /// Whether this thread's allocations are counted. Const-initialized and without a destructor, so
    /// reading it never allocates (which would re-enter the allocator).
    static COUNTED_THREAD: Cell<bool> = const { Cell::new(false) };
}

fn this_thread_is_counted() -> bool {
    // During thread teardown the slot may be gone; such a thread is not counted.
    COUNTED_THREAD.try_with(Cell::get).unwrap_or(false)
}

fn count_allocated(bytes: usize) {
    if this_thread_is_counted() {
        // A `Layout`'s size never exceeds `isize::MAX`, so the conversion is exact.
        let bytes = bytes as isize;
        let live = LIVE_BYTES.fetch_add(bytes, Ordering::Relaxed) + bytes;
        PEAK_LIVE_BYTES.fetch_max(live, Ordering::Relaxed);
    }
}

fn count_freed(bytes: usize) {
    if this_thread_is_counted() {
        LIVE_BYTES.fetch_sub(bytes as isize, Ordering::Relaxed);
    }
}

// SAFETY: every method passes its caller's arguments unchanged to the same method of `System`, a sound
// allocator, and returns its result, so the `GlobalAlloc` contract `System` keeps is kept here. The
// counting beside each call only touches atomics and a const-initialized thread-local without a
// destructor: it never allocates, never unwinds, and never touches the memory being managed.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller keeps `alloc`'s contract (`layout` has a non-zero size); passed on as is.
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            count_allocated(layout.size());
        }
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as in `alloc`.
        let pointer = unsafe { System.alloc_zeroed(layout) };
        if !pointer.is_null() {
            count_allocated(layout.size());
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: the caller keeps `dealloc`'s contract: `pointer` was allocated by this allocator, which
        // means by `System`, with `layout`, and is not used again.
        unsafe { System.dealloc(pointer, layout) };
        count_freed(layout.size());
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller keeps `realloc`'s contract: `pointer` was allocated by `System` with
        // `layout`, and `new_size` is non-zero and, rounded up to `layout.align()`, fits in an `isize`.
        let new_pointer = unsafe { System.realloc(pointer, layout, new_size) };
        if !new_pointer.is_null() {
            // Counted as the net change: the old block is gone once the new one is returned.
            count_freed(layout.size());
            count_allocated(new_size);
        }
        new_pointer
    }
}

/// One measurement at a time: holds the lock that serializes this file's tests and counts the current
/// thread's allocations until dropped.
struct Measurement {
    _one_at_a_time: MutexGuard<'static, ()>,
}

static ONE_MEASUREMENT_AT_A_TIME: Mutex<()> = Mutex::new(());

impl Measurement {
    fn start() -> Self {
        // A test that failed while holding the lock poisons it; the counters are still sound.
        let guard = ONE_MEASUREMENT_AT_A_TIME
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        COUNTED_THREAD.with(|counted| counted.set(true));
        Measurement {
            _one_at_a_time: guard,
        }
    }

    fn live_bytes(&self) -> isize {
        LIVE_BYTES.load(Ordering::Relaxed)
    }

    fn peak_bytes(&self) -> isize {
        PEAK_LIVE_BYTES.load(Ordering::Relaxed)
    }

    /// Starts a new peak from the bytes live now.
    fn reset_peak(&self) {
        PEAK_LIVE_BYTES.store(LIVE_BYTES.load(Ordering::Relaxed), Ordering::Relaxed);
    }
}

impl Drop for Measurement {
    fn drop(&mut self) {
        COUNTED_THREAD.with(|counted| counted.set(false));
    }
}

// ---------------------------------------------------------------------------------------------------
// The lazy producer.

fn point_fields() -> Fields {
    Fields::from(vec![
        Field::new("x", DataType::Float64, false),
        Field::new("on_path", DataType::Boolean, false),
    ])
}

fn tags_item() -> Arc<Field> {
    Arc::new(Field::new_list_field(DataType::Int32, false))
}

/// Leaves (Int64, nullable Int32, Utf8) and nested columns (a nullable list and a nullable struct).
fn stream_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("score", DataType::Int32, true),
        Field::new("name", DataType::Utf8, false),
        Field::new("tags", DataType::List(tags_item()), true),
        Field::new("point", DataType::Struct(point_fields()), true),
    ]))
}

/// The `index`th batch of the stream: `ROWS_PER_BATCH` rows, the same buffer sizes in every batch, the
/// values shifted by `index`. Built from whole buffers rather than row by row, so 10,000 of them are
/// quick to make in a debug build.
fn build_batch(schema: &SchemaRef, index: usize) -> RecordBatch {
    let rows = ROWS_PER_BATCH;
    let first_id = (index * rows) as i64;
    let ids = Int64Array::from_iter_values(first_id..first_id + rows as i64);

    let score_valid = NullBuffer::new(BooleanBuffer::collect_bool(rows, |row| row % 7 != 0));
    let scores = Int32Array::new(
        (0..rows as i32).map(|row| row + index as i32).collect(),
        Some(score_valid),
    );

    let names = StringArray::new(
        OffsetBuffer::from_lengths(std::iter::repeat_n(NAME_BYTES, rows)),
        Buffer::from_vec(b"name-xyz".repeat(rows)),
        None,
    );

    // Row `r` holds `r % 4` tags; every fifth row is a null list of length 0.
    let tag_count = |row: usize| if row % 5 == 4 { 0 } else { row % 4 };
    let tag_values: usize = (0..rows).map(tag_count).sum();
    let tags = ListArray::new(
        tags_item(),
        OffsetBuffer::from_lengths((0..rows).map(tag_count)),
        Arc::new(Int32Array::from_iter_values(0..tag_values as i32)),
        Some(NullBuffer::new(BooleanBuffer::collect_bool(rows, |row| {
            row % 5 != 4
        }))),
    );

    let xs = Float64Array::from_iter_values((0..rows).map(|row| (row + index) as f64 * 0.5));
    let on_path = BooleanArray::new(BooleanBuffer::collect_bool(rows, |row| row % 3 == 0), None);
    let points = StructArray::new(
        point_fields(),
        vec![Arc::new(xs) as ArrayRef, Arc::new(on_path)],
        Some(NullBuffer::new(BooleanBuffer::collect_bool(rows, |row| {
            row % 11 != 0
        }))),
    );

    let columns: Vec<ArrayRef> = vec![
        Arc::new(ids),
        Arc::new(scores),
        Arc::new(names),
        Arc::new(tags),
        Arc::new(points),
    ];
    RecordBatch::try_new(schema.clone(), columns).expect("the batch matches the stream's schema")
}

/// Builds each batch when it is asked for, so nothing is allocated ahead for the stream's batches.
struct LazyBatches {
    schema: SchemaRef,
    next_index: usize,
    count: usize,
}

impl Iterator for LazyBatches {
    type Item = Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.next_index == self.count {
            return None;
        }
        let batch = build_batch(&self.schema, self.next_index);
        self.next_index += 1;
        Some(Ok(batch))
    }
}

// ---------------------------------------------------------------------------------------------------
// The measured run.

#[derive(Clone, Copy, Debug)]
enum Producer {
    ArrowCabi,
    ArrowRs,
}

/// What is crossed, many times over, in one measurement.
#[derive(Clone, Copy, Debug)]
enum Crossing {
    /// One stream of lazily built batches from `Producer`'s exporter, read by arrow-cabi's reader.
    Stream(Producer),
    /// A fresh schema through `paths::schema_roundtrip_ours`.
    Schema,
    /// A fresh batch as a struct `ArrayData` through `paths::array_roundtrip_ours` (arrow-rs's names).
    Array,
    /// A fresh batch through `paths::batch_roundtrip_ours` (arrow-cabi's typed API).
    Batch,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Consumer {
    DropsEachOutput,
    /// The deliberately faulty consumer that shows the measure can fail.
    KeepsEveryOutput,
}

/// Exports `count` lazily built batches with `producer`'s exporter.
fn export_stream(producer: Producer, count: usize) -> FFI_ArrowArrayStream {
    let schema = stream_schema();
    let batches = LazyBatches {
        schema: schema.clone(),
        next_index: 0,
        count,
    };
    let reader = Box::new(RecordBatchIterator::new(batches, schema));
    match producer {
        Producer::ArrowCabi => FFI_ArrowArrayStream::new(reader),
        Producer::ArrowRs => {
            let mut theirs = arrow::ffi_stream::FFI_ArrowArrayStream::new(reader);
            let raw = (&mut theirs as *mut arrow::ffi_stream::FFI_ArrowArrayStream).cast();
            // SAFETY:
            // - both types are a `#[repr(C)]` (theirs) or `#[repr(transparent)]` (ours) `ArrowArrayStream`,
            //   so `raw` is non-NULL, aligned and valid for reads and writes of ours;
            // - `theirs` is an unreleased stream arrow-rs just exported, which follows the interface;
            // - `from_raw` moves it out and leaves `theirs` released, so arrow-rs's drop of `theirs`
            //   does not release it a second time.
            unsafe { FFI_ArrowArrayStream::from_raw(raw) }
        }
    }
}

/// What a run saw, in bytes; every live-byte figure is relative to the bytes live before the run.
#[derive(Debug)]
struct Figures {
    crossing: Crossing,
    consumer: Consumer,
    /// Batches of the stream, or single crossings.
    crossings: usize,
    /// What one output holds: for a stream, `get_array_memory_size` of one batch as the producer
    /// builds it; for a single crossing, the live bytes one output keeps once its input is dropped,
    /// as the allocator counts them.
    output_bytes: usize,
    /// The peak over the first `WARM_UP_BATCHES` crossings (for a stream, with making it and reading
    /// its schema).
    warm_up_peak: isize,
    /// The peak over the whole run, warm-up included.
    whole_run_peak: isize,
    /// Live once the crossings are over (for a stream, once the reader and with it the stream is
    /// dropped), before the kept outputs are.
    live_after_crossings: isize,
    /// Live once everything the run made is dropped.
    live_at_end: isize,
}

impl Figures {
    fn growth_past_warm_up(&self) -> isize {
        self.whole_run_peak - self.warm_up_peak
    }

    /// Half of one output: whatever keeps even one output alive past its turn lifts the peak by a
    /// whole output, while growth below half of one cannot be a retained output. Spread over the
    /// 9,900 crossings after the warm-up, it also catches a leak of more than a few bytes per crossing.
    fn tolerance(&self) -> isize {
        (self.output_bytes / 2) as isize
    }

    /// The check: the peak after the warm-up stays within the tolerance of the warm-up peak.
    fn check_flat(&self) -> Result<(), String> {
        if self.growth_past_warm_up() <= self.tolerance() {
            return Ok(());
        }
        Err(format!(
            "{:?}, {:?}: the peak of live bytes grew by {} bytes after the first {} crossings \
             (warm-up peak {}, whole-run peak {} over {} crossings), more than the tolerance of {} bytes \
             (half of one output's {} bytes)",
            self.crossing,
            self.consumer,
            self.growth_past_warm_up(),
            WARM_UP_BATCHES,
            self.warm_up_peak,
            self.whole_run_peak,
            self.crossings,
            self.tolerance(),
            self.output_bytes
        ))
    }
}

/// Hands `output` to `consumer`: dropped at once, or kept in `kept`.
fn consume(consumer: Consumer, output: Box<dyn Any>, kept: &mut Vec<Box<dyn Any>>) {
    match consumer {
        Consumer::DropsEachOutput => drop(output),
        Consumer::KeepsEveryOutput => kept.push(output),
    }
}

/// Runs `crossings` of `crossing`, handing each output to `consumer`, measuring the live bytes and
/// their peak.
fn measure(crossing: Crossing, consumer: Consumer, crossings: usize) -> Figures {
    match crossing {
        Crossing::Stream(producer) => measure_stream(producer, consumer, crossings),
        _ => measure_single(crossing, consumer, crossings),
    }
}

/// Exports a lazy stream of `batches` with `producer`, imports it with our reader, and hands each
/// batch to `consumer`.
fn measure_stream(producer: Producer, consumer: Consumer, batches: usize) -> Figures {
    let output_bytes = build_batch(&stream_schema(), 0).get_array_memory_size();

    let measurement = Measurement::start();
    let baseline = measurement.live_bytes();
    measurement.reset_peak();

    let stream = export_stream(producer, batches);
    let mut reader = RecordBatchStreamReader::try_new(stream).unwrap_or_else(|error| {
        panic!("{producer:?} producer: importing the stream failed: {error}")
    });
    let mut kept = Vec::new();
    let mut warm_up_peak = None;
    let mut seen = 0;
    for batch in reader.by_ref() {
        let batch = batch.unwrap_or_else(|error| {
            panic!("{producer:?} producer: importing batch {seen} failed: {error}")
        });
        assert_eq!(
            batch.num_rows(),
            ROWS_PER_BATCH,
            "{producer:?} producer: batch {seen} has the wrong number of rows"
        );
        consume(consumer, Box::new(batch), &mut kept);
        seen += 1;
        if seen == WARM_UP_BATCHES {
            warm_up_peak = Some(measurement.peak_bytes() - baseline);
        }
    }
    let whole_run_peak = measurement.peak_bytes() - baseline;
    drop(reader);
    let live_after_crossings = measurement.live_bytes() - baseline;
    drop(kept);
    let live_at_end = measurement.live_bytes() - baseline;
    drop(measurement);

    assert_eq!(
        seen, batches,
        "{producer:?} producer: the reader yielded {seen} batches, the stream had {batches}"
    );
    Figures {
        crossing: Crossing::Stream(producer),
        consumer,
        crossings: batches,
        output_bytes,
        warm_up_peak: warm_up_peak.expect("the stream is longer than the warm-up"),
        whole_run_peak,
        live_after_crossings,
        live_at_end,
    }
}

/// One single crossing on a fresh input (the `index`th batch, or the schema built anew), the input
/// dropped before returning: the output alone is what stays.
fn cross_once(crossing: Crossing, index: usize) -> Box<dyn Any> {
    let schema = stream_schema();
    match crossing {
        Crossing::Stream(_) => unreachable!("a stream is measured by measure_stream"),
        Crossing::Schema => Box::new(paths::schema_roundtrip_ours(&schema)),
        Crossing::Array => {
            let data = paths::batch_data(&build_batch(&schema, index));
            Box::new(paths::array_roundtrip_ours(&data))
        }
        Crossing::Batch => Box::new(paths::batch_roundtrip_ours(&build_batch(&schema, index))),
    }
}

/// Runs `crossings` single crossings of `crossing`, handing each output to `consumer`.
fn measure_single(crossing: Crossing, consumer: Consumer, crossings: usize) -> Figures {
    let measurement = Measurement::start();
    // One output, kept while its input is gone, measures what an output holds; anything the first
    // crossing sets up once and keeps is then part of the baseline.
    let before = measurement.live_bytes();
    let first = cross_once(crossing, 0);
    let output_bytes = usize::try_from(measurement.live_bytes() - before)
        .expect("an output holds a non-negative number of bytes");
    drop(first);
    let baseline = measurement.live_bytes();
    measurement.reset_peak();

    let mut kept = Vec::new();
    let mut warm_up_peak = None;
    for index in 0..crossings {
        consume(consumer, cross_once(crossing, index), &mut kept);
        if index + 1 == WARM_UP_BATCHES {
            warm_up_peak = Some(measurement.peak_bytes() - baseline);
        }
    }
    let whole_run_peak = measurement.peak_bytes() - baseline;
    let live_after_crossings = measurement.live_bytes() - baseline;
    drop(kept);
    let live_at_end = measurement.live_bytes() - baseline;
    drop(measurement);

    Figures {
        crossing,
        consumer,
        crossings,
        output_bytes,
        warm_up_peak: warm_up_peak.expect("more crossings than the warm-up"),
        whole_run_peak,
        live_after_crossings,
        live_at_end,
    }
}

// ---------------------------------------------------------------------------------------------------
// The tests.

/// Every crossing measured: the stream from both producers, then issue 12's single crossings.
const CROSSINGS: [Crossing; 5] = [
    Crossing::Stream(Producer::ArrowCabi),
    Crossing::Stream(Producer::ArrowRs),
    Crossing::Schema,
    Crossing::Array,
    Crossing::Batch,
];

/// The issues' check for one crossing: flat peak over 10,000 crossings, nothing left after them.
fn assert_flat_and_no_leak(crossing: Crossing) {
    let figures = measure(crossing, Consumer::DropsEachOutput, STREAM_BATCHES);
    eprintln!("{figures:?}");
    if let Err(message) = figures.check_flat() {
        panic!("{message}");
    }
    assert_eq!(
        figures.live_after_crossings, 0,
        "{crossing:?}: {} bytes were still live after {} crossings were over (0 expected: every byte \
         allocated since before the first crossing must be freed)",
        figures.live_after_crossings, figures.crossings
    );
}

#[test]
#[cfg_attr(miri, ignore = "10,000 crossings per test would take hours under Miri, and Miri's allocator bookkeeping is not what is measured")]
fn arrow_cabi_export_keeps_peak_memory_flat_over_10000_batches() {
    assert_flat_and_no_leak(Crossing::Stream(Producer::ArrowCabi));
}

#[test]
#[cfg_attr(miri, ignore = "10,000 crossings per test would take hours under Miri, and Miri's allocator bookkeeping is not what is measured")]
fn arrow_rs_export_keeps_peak_memory_flat_over_10000_batches() {
    assert_flat_and_no_leak(Crossing::Stream(Producer::ArrowRs));
}

#[test]
#[cfg_attr(miri, ignore = "10,000 crossings per test would take hours under Miri, and Miri's allocator bookkeeping is not what is measured")]
fn schema_crossings_keep_peak_memory_flat_over_10000() {
    assert_flat_and_no_leak(Crossing::Schema);
}

#[test]
#[cfg_attr(miri, ignore = "10,000 crossings per test would take hours under Miri, and Miri's allocator bookkeeping is not what is measured")]
fn array_crossings_under_arrow_rs_names_keep_peak_memory_flat_over_10000() {
    assert_flat_and_no_leak(Crossing::Array);
}

#[test]
#[cfg_attr(miri, ignore = "10,000 crossings per test would take hours under Miri, and Miri's allocator bookkeeping is not what is measured")]
fn batch_crossings_through_the_typed_api_keep_peak_memory_flat_over_10000() {
    assert_flat_and_no_leak(Crossing::Batch);
}

/// The measure can fail: a consumer that keeps every output lifts the peak far past the tolerance, by
/// at least half of the bytes of the outputs kept after the warm-up (half is a margin: for a stream,
/// `get_array_memory_size` estimates a batch's heap bytes, it does not count its allocations).
#[test]
#[cfg_attr(miri, ignore = "10,000 crossings per test would take hours under Miri, and Miri's allocator bookkeeping is not what is measured")]
fn keeping_every_output_makes_the_check_fail() {
    for crossing in CROSSINGS {
        let figures = measure(crossing, Consumer::KeepsEveryOutput, KEEPING_STREAM_BATCHES);
        eprintln!("{figures:?}");
        assert!(figures.output_bytes > 0, "{crossing:?}: an output holds no bytes; the check could not fail");
        assert!(
            figures.check_flat().is_err(),
            "{crossing:?}: keeping all {} outputs should fail the flat check, but the peak grew by only {} \
             bytes past the warm-up peak of {} (tolerance {})",
            figures.crossings,
            figures.growth_past_warm_up(),
            figures.warm_up_peak,
            figures.tolerance()
        );
        let kept_after_warm_up = (KEEPING_STREAM_BATCHES - WARM_UP_BATCHES) * figures.output_bytes;
        assert!(
            figures.growth_past_warm_up() >= (kept_after_warm_up / 2) as isize,
            "{crossing:?}: keeping {} outputs of {} bytes after the warm-up lifted the peak by only {} bytes, \
             less than half of the {kept_after_warm_up} bytes kept",
            KEEPING_STREAM_BATCHES - WARM_UP_BATCHES,
            figures.output_bytes,
            figures.growth_past_warm_up()
        );
        assert!(
            figures.live_after_crossings >= (kept_after_warm_up / 2) as isize,
            "{crossing:?}: with {} outputs still kept, only {} bytes were live after the crossings; the \
             leak check would not see them",
            figures.crossings,
            figures.live_after_crossings
        );
        assert_eq!(
            figures.live_at_end, 0,
            "{crossing:?}: {} bytes were still live after the crossings and the kept outputs were dropped",
            figures.live_at_end
        );
    }
}
