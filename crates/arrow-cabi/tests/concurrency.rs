//! Crossing threads: what the C interfaces allow (a struct may be released from any thread; a stream
//! is used by one thread at a time, which need not be the one that made it) and what arrow-rs 60.1's
//! `ffi` / `ffi_stream` types promise (`Send` / `Sync`), checked with peers on the other side.
//!
//! 1. A `RecordBatchStreamReader` over our export and over arrow-rs's export is made on one thread and
//!    read, to the end, on another; the producer's source is dropped once, on the reading thread.
//! 2. An exported stream is read on another thread by arrow-rs's reader and by ours, while the thread
//!    that made it drops everything it held and ends; the batches stay valid.
//! 3. An array exported by arrow-rs (its release wrapped in a counter) is imported on one thread, taken
//!    apart, and its parts dropped on other threads at once: the producer's release runs exactly once,
//!    after the last part, on one of those threads.
//! 4. Children moved out of our export are imported by arrow-rs on other threads and released there,
//!    in any order: the exported array is freed after the last one.
//! 5. `Send` and `Sync` of every public type, asserted at compile time beside arrow-rs 60.1's types of
//!    the same names: what a drop-in user relies on compiles the same, and what arrow-rs does not
//!    promise (a stream or a schema shared between threads) is refused the same.
//!
//! Under Miri (scripts/test-all.sh) the data-race detector watches every one of these crossings.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Barrier, Mutex};
use std::thread::{self, ThreadId};

use arrow::ffi_stream::RecordBatchStreamReader as ArrowRsStreamReader;
use arrow_array::types::Int16Type;
use arrow_array::{
    Array, ArrayRef, DictionaryArray, Int32Array, Int64Array, ListArray, RecordBatch,
    RecordBatchReader, StringArray, StructArray,
};
use arrow_cabi::ffi::FFI_ArrowArray;
use arrow_cabi::ffi_stream::{export_batches, ArrayStreamReader, RecordBatchStreamReader, FFI_ArrowArrayStream};
use arrow_cabi::{import_array, ImportPlan, Nullability, Validation};
use arrow_cabi_sys::ArrowArray;
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};
use common::counting::count_releases;

// ---------------------------------------------------------------------------------------------
// Data, and a producer's source that records how often and on which thread it is dropped.

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("i", DataType::Int64, true),
        Field::new("s", DataType::Utf8, true),
        Field::new("l", DataType::new_list(DataType::Int32, true), true),
    ]))
}

/// Batch `n` of the test stream: different values in each, nulls and nested lists.
fn batch(n: i64) -> RecordBatch {
    let i: ArrayRef = Arc::new(Int64Array::from(vec![Some(n), None, Some(n * 10)]));
    let s: ArrayRef = Arc::new(StringArray::from(vec![Some(format!("b{n}")), Some(String::new()), None]));
    let l: ArrayRef = Arc::new(ListArray::from_iter_primitive::<arrow_array::types::Int32Type, _, _>(vec![
        Some(vec![Some(n as i32), None]),
        None,
        Some(vec![]),
    ]));
    RecordBatch::try_new(schema(), vec![i, s, l]).unwrap()
}

const BATCHES: i64 = 3;

fn batches() -> Vec<RecordBatch> {
    (0..BATCHES).map(batch).collect()
}

/// How often a [`Watched`] source was dropped, and on which thread the last time.
#[derive(Default)]
struct Drops {
    count: AtomicUsize,
    thread: Mutex<Option<ThreadId>>,
}

impl Drops {
    fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }

    fn thread(&self) -> Option<ThreadId> {
        *self.thread.lock().unwrap()
    }
}

/// A producer's source of batches (a reader and an iterator), recording its drop.
struct Watched {
    batches: std::vec::IntoIter<RecordBatch>,
    drops: Arc<Drops>,
}

fn watched(batches: Vec<RecordBatch>) -> (Watched, Arc<Drops>) {
    let drops = Arc::new(Drops::default());
    (Watched { batches: batches.into_iter(), drops: drops.clone() }, drops)
}

impl Iterator for Watched {
    type Item = Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.batches.next().map(Ok)
    }
}

impl RecordBatchReader for Watched {
    fn schema(&self) -> SchemaRef {
        schema()
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        *self.drops.thread.lock().unwrap() = Some(thread::current().id());
        self.drops.count.fetch_add(1, Ordering::SeqCst);
    }
}

/// The two producers of a stream: arrow-cabi's export and arrow-rs's (the peer), each moved into
/// our owned struct as a C consumer receives it.
#[derive(Debug, Clone, Copy)]
enum Producer {
    ArrowCabi,
    ArrowRs,
}

const PRODUCERS: [Producer; 2] = [Producer::ArrowCabi, Producer::ArrowRs];

fn export(producer: Producer, source: Watched) -> FFI_ArrowArrayStream {
    match producer {
        Producer::ArrowCabi => export_batches(schema(), source),
        Producer::ArrowRs => {
            let mut theirs = arrow::ffi_stream::FFI_ArrowArrayStream::new(Box::new(source));
            // SAFETY: arrow-rs's stream is a valid `ArrowArrayStream` with abi.h's layout, as ours is;
            // `from_raw` moves it out, leaving arrow-rs's struct released (its drop does nothing).
            unsafe { FFI_ArrowArrayStream::from_raw((&mut theirs as *mut arrow::ffi_stream::FFI_ArrowArrayStream).cast()) }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 1. An imported reader moved to another thread.

#[test]
fn an_imported_reader_is_read_to_the_end_on_another_thread() {
    for producer in PRODUCERS {
        let (source, drops) = watched(batches());
        let reader = RecordBatchStreamReader::try_new(export(producer, source)).unwrap();
        assert_eq!(reader.schema(), schema(), "{producer:?}: the schema is read on the importing thread");

        let (reader_thread, got) = thread::spawn(move || {
            let got = reader.collect::<Result<Vec<_>, _>>();
            (thread::current().id(), got)
        })
        .join()
        .unwrap();

        assert_eq!(got.unwrap(), batches(), "{producer:?}");
        assert_eq!(drops.count(), 1, "{producer:?}: the producer's source is dropped exactly once");
        assert_eq!(drops.thread(), Some(reader_thread), "{producer:?}: by the release on the reading thread");
    }
}

#[test]
fn a_reader_moves_between_threads_batch_by_batch() {
    for producer in PRODUCERS {
        let (source, drops) = watched(batches());
        let mut reader = RecordBatchStreamReader::try_new(export(producer, source)).unwrap();
        // Each batch is read on a thread of its own, the reader handed on from one to the next.
        for n in 0..BATCHES {
            let (back, got) = thread::spawn(move || {
                let got = reader.next();
                (reader, got)
            })
            .join()
            .unwrap();
            reader = back;
            assert_eq!(got.unwrap().unwrap(), batch(n), "{producer:?}: batch {n}");
        }
        assert!(reader.next().is_none(), "{producer:?}");
        drop(reader);
        assert_eq!(drops.count(), 1, "{producer:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// 2. An exported stream consumed on another thread while its producer's thread lets go and ends.

/// The two consumers on the other thread: arrow-rs's reader (the peer) and ours.
#[derive(Debug, Clone, Copy)]
enum Consumer {
    ArrowRs,
    ArrowCabi,
}

/// A reader of `stream` by `consumer`, as a boxed iterator of batches.
fn consume(consumer: Consumer, mut stream: FFI_ArrowArrayStream) -> Box<dyn Iterator<Item = Result<RecordBatch, ArrowError>>> {
    match consumer {
        // SAFETY: our stream has abi.h's layout, as arrow-rs's does; `from_raw` moves it out.
        Consumer::ArrowRs => Box::new(unsafe { ArrowRsStreamReader::from_raw(stream.as_mut_ptr().cast()) }.unwrap()),
        Consumer::ArrowCabi => Box::new(RecordBatchStreamReader::try_new(stream).unwrap()),
    }
}

#[test]
fn an_exported_stream_is_read_on_another_thread_after_its_producer_thread_is_gone() {
    for consumer in [Consumer::ArrowRs, Consumer::ArrowCabi] {
        let (to_consumer, streams) = mpsc::channel::<FFI_ArrowArrayStream>();
        let (first_read, wait_first) = mpsc::channel::<()>();
        let (producer_gone, wait_gone) = mpsc::channel::<()>();

        // The producer's thread: builds the batches, keeps its own handles to them, exports a reader
        // over them, hands the stream over and, once the consumer has read a batch, drops everything
        // it kept and ends.
        let producer = thread::spawn(move || {
            let kept = batches();
            let (source, drops) = watched(kept.clone());
            let mut stream = FFI_ArrowArrayStream::new(Box::new(source));
            // The struct moves as C moves it: a bitwise copy, the original left released.
            // SAFETY: `stream` is our valid, unreleased export.
            to_consumer.send(unsafe { FFI_ArrowArrayStream::from_raw(&mut stream) }).unwrap();
            assert!(stream.is_released());
            wait_first.recv().unwrap();
            drop(kept);
            drop(stream);
            drops
        });

        // The consumer's thread: one batch while the producer's thread lives, the rest after it ended.
        let reader = thread::spawn(move || {
            let mut reader = consume(consumer, streams.recv().unwrap());
            let first = reader.next().unwrap().unwrap();
            first_read.send(()).unwrap();
            wait_gone.recv().unwrap();
            let rest = reader.collect::<Result<Vec<_>, _>>().unwrap();
            (first, rest, thread::current().id())
        });

        let drops = producer.join().unwrap();
        assert_eq!(drops.count(), 0, "{consumer:?}: the consumer still holds the stream");
        producer_gone.send(()).unwrap();
        let (first, rest, reader_thread) = reader.join().unwrap();
        assert_eq!(first, batch(0), "{consumer:?}: the batch read before the producer's thread ended");
        assert_eq!(rest, batches()[1..].to_vec(), "{consumer:?}: the batches read after it");
        assert_eq!(drops.count(), 1, "{consumer:?}: the source is dropped exactly once");
        assert_eq!(drops.thread(), Some(reader_thread), "{consumer:?}: by the consumer's release");
    }
}

// ---------------------------------------------------------------------------------------------
// 3. An import released on other threads than the one that imported it.

fn nested_struct() -> StructArray {
    let ints: ArrayRef = Arc::new(Int32Array::from(vec![Some(1), None, Some(3), Some(4)]));
    let strings: ArrayRef = Arc::new(StringArray::from(vec![Some("a"), Some("bb"), None, Some("dddd")]));
    let dictionary: ArrayRef =
        Arc::new(DictionaryArray::<Int16Type>::from_iter([Some("x"), None, Some("y"), Some("x")]));
    StructArray::from(vec![
        (Arc::new(Field::new("i", ints.data_type().clone(), true)), ints),
        (Arc::new(Field::new("s", strings.data_type().clone(), true)), strings),
        (Arc::new(Field::new("d", dictionary.data_type().clone(), true)), dictionary),
    ])
}

/// arrow-rs's export of `array`, moved into a raw struct whose release counts.
fn foreign_export(array: &StructArray) -> (ArrowArray, arrow::ffi::FFI_ArrowSchema, Arc<AtomicUsize>) {
    let (theirs, schema) = arrow::ffi::to_ffi(&array.to_data()).unwrap();
    // SAFETY: arrow-rs's FFI_ArrowArray is `repr(C)` with abi.h's fields; reading it and forgetting the
    // original is a move.
    let mut raw: ArrowArray = unsafe { std::ptr::read((&theirs as *const arrow::ffi::FFI_ArrowArray).cast()) };
    std::mem::forget(theirs);
    let count = count_releases(&mut raw);
    (raw, schema, count)
}

#[test]
fn an_import_is_released_once_by_the_last_of_its_parts_on_other_threads() {
    for validation in [Validation::Minimal, Validation::Default, Validation::Full] {
        let source = nested_struct();
        let (raw, mut their_schema, releases) = foreign_export(&source);
        // SAFETY: arrow-rs's schema has abi.h's layout; `from_raw` moves it out, leaving arrow-rs's
        // struct released (its drop does nothing).
        let schema = unsafe {
            arrow_cabi::ffi::FFI_ArrowSchema::from_raw((&mut their_schema as *mut arrow::ffi::FFI_ArrowSchema).cast())
        };
        // SAFETY: `raw` is arrow-rs's valid export.
        let array = unsafe { FFI_ArrowArray::from_sys(raw) };
        let (_, imported) = import_array(array, &schema, validation).unwrap();
        let imported = StructArray::from(imported.into_data());

        // Taken apart on the importing thread: each column, one column's buffers, the dictionary's values.
        let strings_values = imported.column(1).to_data().buffers()[1].clone();
        let dictionary = imported.column(2).as_any().downcast_ref::<DictionaryArray<Int16Type>>().unwrap();
        let dictionary_values = dictionary.values().clone();
        let parts: Vec<Box<dyn FnOnce() + Send>> = vec![
            {
                let (column, expected) = (imported.column(0).clone(), source.column(0).clone());
                Box::new(move || assert_eq!(column.as_ref(), expected.as_ref()))
            },
            {
                let (column, expected) = (imported.column(1).clone(), source.column(1).clone());
                Box::new(move || assert_eq!(column.as_ref(), expected.as_ref()))
            },
            Box::new(move || assert_eq!(strings_values.as_slice(), b"abbdddd")),
            Box::new(move || {
                let values = dictionary_values.as_any().downcast_ref::<StringArray>().unwrap();
                assert_eq!(values.iter().collect::<Vec<_>>(), vec![Some("x"), Some("y")]);
            }),
        ];
        drop(imported);
        assert_eq!(releases.load(Ordering::SeqCst), 0, "{validation:?}: the parts keep the import alive");

        // Every part checked and dropped on a thread of its own, all at once.
        let start = Arc::new(Barrier::new(parts.len()));
        let threads: Vec<_> = parts
            .into_iter()
            .map(|part| {
                let start = start.clone();
                thread::spawn(move || {
                    start.wait();
                    part(); // checks the values, then drops the part
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(releases.load(Ordering::SeqCst), 1, "{validation:?}: released exactly once, by the last part");
    }
}

#[test]
fn batches_read_on_one_thread_are_dropped_on_another() {
    let (source, drops) = watched(batches());
    let reader = RecordBatchStreamReader::try_new(export(Producer::ArrowRs, source)).unwrap();
    let got = reader.collect::<Result<Vec<_>, _>>().unwrap();
    // The stream is released (the reader dropped), the batches are not: they own their buffers.
    assert_eq!(drops.count(), 1);
    let expected = batches();
    thread::spawn(move || {
        assert_eq!(got, expected);
        drop(got);
    })
    .join()
    .unwrap();
}

// ---------------------------------------------------------------------------------------------
// 4. Children of our export moved out, imported by arrow-rs and released on other threads.

#[test]
fn children_of_our_export_are_released_on_other_threads_in_any_order() {
    let source: ArrayRef = Arc::new(nested_struct());
    let mut exported = FFI_ArrowArray::from_array(source.clone());
    assert_eq!(Arc::strong_count(&source), 2, "the export keeps the array");

    // Move every child out (a bitwise copy, the original marked released), then release the parent.
    let raw = exported.as_mut_ptr();
    let children: Vec<ArrowArray> = (0..source.as_any().downcast_ref::<StructArray>().unwrap().num_columns())
        .map(|i| {
            // SAFETY: our export's children pointers are valid and writable; moving a child out is what
            // the interface lets a consumer do.
            unsafe {
                let child = *(*raw).children.add(i);
                let moved = std::ptr::read(child);
                (*child).release = None;
                moved
            }
        })
        .collect();
    drop(exported);
    assert_eq!(Arc::strong_count(&source), 2, "the moved-out children keep the export alive");

    let start = Arc::new(Barrier::new(children.len()));
    let threads: Vec<_> = children
        .into_iter()
        .enumerate()
        .rev() // started last-first, released in whatever order the threads run
        .map(|(i, child)| {
            let (start, source) = (start.clone(), source.clone());
            // SAFETY: the moved-out child is a valid, unreleased array of our export, which arrow-rs's
            // `repr(C)` struct of the same layout takes over.
            let theirs: arrow::ffi::FFI_ArrowArray = unsafe { std::mem::transmute(child) };
            thread::spawn(move || {
                let expected = source.as_any().downcast_ref::<StructArray>().unwrap().column(i).clone();
                drop(source);
                start.wait();
                // SAFETY: arrow-rs imports a valid array of the child's data type.
                let data = unsafe { arrow::ffi::from_ffi_and_data_type(theirs, expected.data_type().clone()) }.unwrap();
                assert_eq!(arrow_array::make_array(data).as_ref(), expected.as_ref(), "child {i}");
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(Arc::strong_count(&source), 1, "the last child's release freed the export");
}

// ---------------------------------------------------------------------------------------------
// 5. Send and Sync, at compile time, beside arrow-rs 60.1.

/// Compiles only if `T: Send`.
const fn send<T: Send + ?Sized>() {}
/// Compiles only if `T: Sync`.
const fn sync<T: Sync + ?Sized>() {}

/// Compiles only if `$t` is *not* `Sync` (or `Send`): for such a type only one impl of the helper trait
/// applies and the path resolves; for a `Sync` type both do, and the call is ambiguous.
macro_rules! assert_not {
    ($marker:ident: $($t:ty),+ $(,)?) => {$(
        const _: fn() = || {
            trait Ambiguous<Which> {
                fn check() {}
            }
            impl<T: ?Sized> Ambiguous<()> for T {}
            struct IfMarker;
            impl<T: ?Sized + $marker> Ambiguous<IfMarker> for T {}
            let _ = <$t as Ambiguous<_>>::check;
        };
    )+};
}

/// The owned C structs and the readers: as arrow-rs 60.1, name for name.
const _: () = {
    // A schema or a stream moves between threads; an array can also be shared (read-only accessors).
    send::<arrow_cabi::ffi::FFI_ArrowSchema>();
    send::<arrow::ffi::FFI_ArrowSchema>();
    send::<FFI_ArrowArray>();
    send::<arrow::ffi::FFI_ArrowArray>();
    sync::<FFI_ArrowArray>();
    sync::<arrow::ffi::FFI_ArrowArray>();
    send::<FFI_ArrowArrayStream>();
    send::<arrow::ffi_stream::FFI_ArrowArrayStream>();
    send::<RecordBatchStreamReader>();
    send::<arrow::ffi_stream::RecordBatchStreamReader>();
    send::<ArrayStreamReader>();
    send::<arrow::ffi_stream::ArrayStreamReader>();
    send::<arrow_cabi::ffi::Flags>();
    sync::<arrow_cabi::ffi::Flags>();
    sync::<arrow_schema::ffi::Flags>();
    send::<arrow_schema::ffi::Flags>();
};
// A stream is not thread-safe (its callbacks are called by one thread at a time), nor is a reader of
// one; a schema's accessors hand out its producer's raw pointers. arrow-rs shares none of them.
assert_not!(Sync: arrow_cabi::ffi::FFI_ArrowSchema, FFI_ArrowArrayStream, RecordBatchStreamReader, ArrayStreamReader);
assert_not!(Sync: arrow::ffi::FFI_ArrowSchema, arrow::ffi_stream::FFI_ArrowArrayStream);
assert_not!(Sync: arrow::ffi_stream::RecordBatchStreamReader, arrow::ffi_stream::ArrayStreamReader);

/// The device layer (arrow-rs 60.1 has none; PR #10754 proposes the same names): a device array
/// moves and is shared as a plain one (its `sync_event` is never dereferenced), a device stream
/// and its reader move but are not shared, as the plain ones; the tree of a device array and what
/// describes it are plain data over the owned array.
const _: () = {
    use arrow_cabi::device::{
        ArrowDeviceArrayStreamReader, ArrowDeviceType, DeviceArrayTree, DeviceBuffer, DeviceNode, FFI_ArrowDeviceArray,
        FFI_ArrowDeviceArrayStream,
    };
    send::<FFI_ArrowDeviceArray>();
    sync::<FFI_ArrowDeviceArray>();
    send::<FFI_ArrowDeviceArrayStream>();
    send::<ArrowDeviceArrayStreamReader>();
    send::<DeviceArrayTree>();
    sync::<DeviceArrayTree>();
    send::<DeviceNode>();
    sync::<DeviceNode>();
    send::<DeviceBuffer>();
    sync::<DeviceBuffer>();
    send::<ArrowDeviceType>();
    sync::<ArrowDeviceType>();
};
assert_not!(Sync: arrow_cabi::device::FFI_ArrowDeviceArrayStream, arrow_cabi::device::ArrowDeviceArrayStreamReader);

/// arrow-cabi's own types: plain data, both `Send` and `Sync`.
const _: () = {
    send::<ImportPlan>();
    sync::<ImportPlan>();
    send::<Validation>();
    sync::<Validation>();
    send::<Nullability>();
    sync::<Nullability>();
    send::<arrow_cabi::Error>();
    sync::<arrow_cabi::Error>();
    send::<arrow_cabi::format::Format>();
    sync::<arrow_cabi::format::Format>();
    send::<arrow_cabi::format::FormatError>();
    sync::<arrow_cabi::format::FormatError>();
    send::<arrow_cabi::format::Encoded<'static>>();
    sync::<arrow_cabi::format::Encoded<'static>>();
    send::<arrow_cabi::format::Params<'static>>();
    sync::<arrow_cabi::format::Params<'static>>();
    send::<arrow_cabi::metadata::MetadataError>();
    sync::<arrow_cabi::metadata::MetadataError>();
};

// The raw `#[repr(C)]` structs of arrow-cabi-sys hold raw pointers and no owner: neither `Send` nor
// `Sync`, so that crossing a thread goes through an owned struct (or the user's own `unsafe impl`).
assert_not!(Send: arrow_cabi_sys::ArrowSchema, arrow_cabi_sys::ArrowArray, arrow_cabi_sys::ArrowArrayStream);
assert_not!(Sync: arrow_cabi_sys::ArrowSchema, arrow_cabi_sys::ArrowArray, arrow_cabi_sys::ArrowArrayStream);
assert_not!(Send: arrow_cabi_sys::ArrowDeviceArray, arrow_cabi_sys::ArrowDeviceArrayStream);
assert_not!(Sync: arrow_cabi_sys::ArrowDeviceArray, arrow_cabi_sys::ArrowDeviceArrayStream);
assert_not!(Send: arrow_cabi_sys::ArrowAsyncTask, arrow_cabi_sys::ArrowAsyncProducer, arrow_cabi_sys::ArrowAsyncDeviceStreamHandler);

#[test]
fn a_plan_is_shared_between_threads() {
    // `ImportPlan: Sync` in use: one plan, two threads importing with it at once.
    let plan = Arc::new(ImportPlan::with_nullability(&DataType::Struct(schema().fields().clone()), Nullability::Enforce));
    let threads: Vec<_> = (0..2)
        .map(|n| {
            let plan = plan.clone();
            thread::spawn(move || {
                let expected = batch(n);
                let array = FFI_ArrowArray::from_batch(expected.clone());
                let got = arrow_cabi::array::import_batch_with(array, &schema(), &plan, Validation::Full).unwrap();
                assert_eq!(got, expected);
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
}
