//! The rules of the C Stream Interface (../shared/spec/C-INTERFACES.md part 2, DESIGN.md "Rules the
//! code keeps"), checked from both sides.
//!
//! Producer side: our exported streams are driven through their raw callbacks (`as_sys()` and
//! `as_mut_ptr()`), as a C consumer would. Consumer side: hand-made producers in this file (a
//! configurable fake and a release-counting wrapper) feed `RecordBatchStreamReader` and
//! `ArrayStreamReader` what a foreign producer might.

use std::collections::{HashMap, VecDeque};
use std::ffi::{c_char, c_int, CStr, CString};
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use arrow_array::builder::{ListBuilder, StringBuilder};
use arrow_array::{
    Array, ArrayRef, Int32Array, RecordBatch, RecordBatchOptions, RecordBatchReader, StringArray,
    StructArray,
};
use arrow_cabi::array::import_array_data;
use arrow_cabi::ffi::{FFI_ArrowArray, FFI_ArrowSchema, Validation};
use arrow_cabi::ffi_stream::{
    export_arrays, export_batches, ArrayStreamReader, RecordBatchStreamReader, FFI_ArrowArrayStream,
};
use arrow_cabi_sys::{ArrowArray, ArrowArrayStream, ArrowSchema};
use arrow_data::ArrayData;
use arrow_schema::{ArrowError, DataType, Field, FieldRef, Schema, SchemaRef};

// ---------------------------------------------------------------------------------------------
// Helpers: data, and raw calls on a stream.

fn schema() -> SchemaRef {
    let metadata = HashMap::from([("origin".to_owned(), "stream_rules".to_owned())]);
    Arc::new(
        Schema::new(vec![
            Field::new("a", DataType::Int32, true),
            Field::new("s", DataType::Utf8, true),
        ])
        .with_metadata(metadata),
    )
}

fn batch(start: i32) -> RecordBatch {
    let a: ArrayRef = Arc::new(Int32Array::from(vec![Some(start), None, Some(start + 2)]));
    let s: ArrayRef = Arc::new(StringArray::from(vec![Some("x"), Some("yy"), None]));
    RecordBatch::try_new(schema(), vec![a, s]).unwrap()
}

fn struct_type(schema: &Schema) -> DataType {
    DataType::Struct(schema.fields().clone())
}

/// Calls `get_next` through the raw callback.
fn raw_next(stream: &mut FFI_ArrowArrayStream) -> (c_int, FFI_ArrowArray) {
    let get_next = stream.as_sys().get_next.expect("get_next callback");
    let mut out = FFI_ArrowArray::empty();
    // SAFETY: the stream is ours and unreleased; `out` is a writable released struct.
    let code = unsafe { get_next(stream.as_mut_ptr(), out.as_mut_ptr()) };
    (code, out)
}

/// Calls `get_schema` through the raw callback.
fn raw_schema(stream: &mut FFI_ArrowArrayStream) -> (c_int, FFI_ArrowSchema) {
    let get_schema = stream.as_sys().get_schema.expect("get_schema callback");
    let mut out = FFI_ArrowSchema::empty();
    // SAFETY: as in `raw_next`.
    let code = unsafe { get_schema(stream.as_mut_ptr(), out.as_mut_ptr()) };
    (code, out)
}

/// Calls `get_last_error` through the raw callback.
fn raw_last_error(stream: &mut FFI_ArrowArrayStream) -> *const c_char {
    let get_last_error = stream
        .as_sys()
        .get_last_error
        .expect("get_last_error callback");
    // SAFETY: the stream is ours and unreleased.
    unsafe { get_last_error(stream.as_mut_ptr()) }
}

fn last_error_text(stream: &mut FFI_ArrowArrayStream) -> Option<String> {
    let message = raw_last_error(stream);
    (!message.is_null()).then(|| {
        // SAFETY: non-NULL messages are NUL-terminated and valid until the next call on the stream.
        unsafe { CStr::from_ptr(message) }
            .to_string_lossy()
            .into_owned()
    })
}

/// Releases the stream through its raw callback, as a C consumer would.
fn raw_release(stream: &mut FFI_ArrowArrayStream) {
    let release = stream.as_sys().release.expect("release callback");
    // SAFETY: the stream is ours and unreleased; it is not used again but to check `is_released`.
    unsafe { release(stream.as_mut_ptr()) };
}

/// Imports a raw array of a stream of `schema()`'s batches.
fn import_batch(array: FFI_ArrowArray, schema: &SchemaRef) -> RecordBatch {
    let data = import_array_data(array, &struct_type(schema), Validation::Full).unwrap();
    RecordBatch::from(StructArray::from(data))
        .with_schema(schema.clone())
        .unwrap()
}

fn io_error(message: &str) -> ArrowError {
    ArrowError::IoError(
        message.to_owned(),
        std::io::Error::other(message.to_owned()),
    )
}

// ---------------------------------------------------------------------------------------------
// Producer side.

#[test]
fn errno_follows_the_error_kind() {
    let cases: Vec<(ArrowError, c_int, &str)> = vec![
        (io_error("disk on fire"), libc::EIO, "disk on fire"),
        (
            ArrowError::NotYetImplemented("no such codec".into()),
            libc::ENOSYS,
            "no such codec",
        ),
        (
            ArrowError::MemoryError("out of memory here".into()),
            libc::ENOMEM,
            "out of memory here",
        ),
        (
            ArrowError::ComputeError("bad compute".into()),
            libc::EINVAL,
            "bad compute",
        ),
        (
            ArrowError::InvalidArgumentError("bad argument".into()),
            libc::EINVAL,
            "bad argument",
        ),
        (
            ArrowError::ParseError("bad parse".into()),
            libc::EINVAL,
            "bad parse",
        ),
        (
            ArrowError::SchemaError("bad schema".into()),
            libc::EINVAL,
            "bad schema",
        ),
        (
            ArrowError::ExternalError(Box::new(std::fmt::Error)),
            libc::EINVAL,
            "error",
        ),
    ];
    for (error, code, text) in cases {
        let described = format!("{error:?}");
        let mut stream = export_batches(schema(), vec![Err(error)]);
        let (got, out) = raw_next(&mut stream);
        assert_eq!(got, code, "{described}");
        assert!(
            out.is_released(),
            "{described}: a failed get_next must leave the array released"
        );
        let message =
            last_error_text(&mut stream).unwrap_or_else(|| panic!("{described}: no last error"));
        assert!(message.contains(text), "{described}: message {message:?}");
        // The end follows.
        let (got, out) = raw_next(&mut stream);
        assert_eq!(got, 0);
        assert!(out.is_released());
    }
}

#[test]
fn last_error_lives_until_the_next_call_and_is_null_after_success() {
    let items = vec![
        Err(ArrowError::ComputeError("first failure".into())),
        Ok(batch(0)),
        Err(io_error("second failure")),
        Ok(batch(10)),
    ];
    let mut stream = export_batches(schema(), items);

    let (code, out) = raw_next(&mut stream);
    assert_eq!(code, libc::EINVAL);
    assert!(out.is_released());
    let first = raw_last_error(&mut stream);
    assert!(!first.is_null());
    // Work that allocates and frees, then the same pointer and text: the message stays put until the
    // next call on the stream.
    let noise: Vec<String> = (0..1000).map(|i| format!("noise {i}")).collect();
    drop(noise);
    assert_eq!(
        raw_last_error(&mut stream),
        first,
        "get_last_error is stable between calls"
    );
    // SAFETY: valid until the next call, which has not happened.
    let text = unsafe { CStr::from_ptr(first) }
        .to_str()
        .unwrap()
        .to_owned();
    assert!(text.contains("first failure"), "{text}");

    let (code, out) = raw_next(&mut stream);
    assert_eq!(code, 0);
    assert_eq!(import_batch(out, &schema()), batch(0));
    assert!(
        raw_last_error(&mut stream).is_null(),
        "no message after a successful call"
    );

    let (code, _) = raw_next(&mut stream);
    assert_eq!(code, libc::EIO);
    let text = last_error_text(&mut stream).unwrap();
    assert!(
        text.contains("second failure") && !text.contains("first"),
        "{text}"
    );

    // A successful get_schema clears it too.
    let (code, schema_out) = raw_schema(&mut stream);
    assert_eq!(code, 0);
    assert!(!schema_out.is_released());
    assert!(raw_last_error(&mut stream).is_null());

    let (code, out) = raw_next(&mut stream);
    assert_eq!(code, 0);
    assert_eq!(import_batch(out, &schema()), batch(10));
    let (code, out) = raw_next(&mut stream);
    assert_eq!((code, out.is_released()), (0, true));
}

/// An iterator that ends, then would start again: the stream must keep signalling the end.
struct Restarting {
    calls: usize,
}

impl Iterator for Restarting {
    type Item = Result<RecordBatch, ArrowError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.calls += 1;
        match self.calls {
            1 | 2 => Some(Ok(batch(self.calls as i32))),
            3 => None,
            _ => Some(Ok(batch(99))),
        }
    }
}

#[test]
fn end_of_stream_is_signalled_again_and_again() {
    let mut stream = export_batches(schema(), Restarting { calls: 0 });
    for expected in 1..=2 {
        let (code, out) = raw_next(&mut stream);
        assert_eq!(code, 0);
        assert_eq!(import_batch(out, &schema()), batch(expected));
    }
    for round in 0..5 {
        let (code, out) = raw_next(&mut stream);
        assert_eq!(code, 0, "round {round}");
        assert!(
            out.is_released(),
            "round {round}: end of stream is a released array"
        );
        assert!(raw_last_error(&mut stream).is_null());
    }
    raw_release(&mut stream);
    assert!(stream.is_released());

    // The same through the reader.
    let mut reader =
        RecordBatchStreamReader::try_new(export_batches(schema(), Restarting { calls: 0 })).unwrap();
    assert_eq!(reader.next().unwrap().unwrap(), batch(1));
    assert_eq!(reader.next().unwrap().unwrap(), batch(2));
    for _ in 0..5 {
        assert!(reader.next().is_none());
    }

    // And an empty stream.
    let mut stream = export_batches(schema(), Vec::new());
    for _ in 0..5 {
        let (code, out) = raw_next(&mut stream);
        assert_eq!((code, out.is_released()), (0, true));
    }
}

#[test]
fn a_batch_of_another_schema_is_an_error_not_a_batch() {
    let other = Arc::new(Schema::new(vec![
        Field::new("a", DataType::Utf8, true),
        Field::new("s", DataType::Utf8, true),
    ]));
    let wrong = RecordBatch::try_new(
        other,
        vec![
            Arc::new(StringArray::from(vec!["1"])) as ArrayRef,
            Arc::new(StringArray::from(vec!["2"])) as ArrayRef,
        ],
    )
    .unwrap();
    let fewer = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new("a", DataType::Int32, true)])),
        vec![Arc::new(Int32Array::from(vec![1])) as ArrayRef],
    )
    .unwrap();
    let mut stream = export_batches(schema(), vec![Ok(wrong), Ok(fewer), Ok(batch(5))]);
    for what in ["other column type", "fewer columns"] {
        let (code, out) = raw_next(&mut stream);
        assert_eq!(code, libc::EINVAL, "{what}");
        assert!(out.is_released(), "{what}");
        let message = last_error_text(&mut stream).unwrap();
        assert!(message.contains("does not match"), "{what}: {message}");
    }
    // The stream goes on.
    let (code, out) = raw_next(&mut stream);
    assert_eq!(code, 0);
    assert_eq!(import_batch(out, &schema()), batch(5));

    // Through the reader: an Err, then the good batch.
    let wrong = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("a", DataType::Int64, true),
            Field::new("s", DataType::Utf8, true),
        ])),
        vec![
            Arc::new(arrow_array::Int64Array::from(vec![1])) as ArrayRef,
            Arc::new(StringArray::from(vec!["2"])) as ArrayRef,
        ],
    )
    .unwrap();
    let mut reader =
        RecordBatchStreamReader::try_new(export_batches(schema(), vec![Ok(wrong), Ok(batch(1))]))
            .unwrap();
    let error = reader.next().unwrap().unwrap_err();
    assert!(error.to_string().contains("does not match"), "{error}");
    assert_eq!(reader.next().unwrap().unwrap(), batch(1));
    assert!(reader.next().is_none());

    // export_arrays: an array of another type than the field's.
    let field = Arc::new(Field::new("v", DataType::Int32, true));
    let arrays = vec![
        Ok(Arc::new(StringArray::from(vec!["no"])) as ArrayRef),
        Ok(Arc::new(Int32Array::from(vec![4])) as ArrayRef),
    ];
    let mut stream = export_arrays(field, arrays);
    let (code, out) = raw_next(&mut stream);
    assert_eq!((code, out.is_released()), (libc::EINVAL, true));
    assert!(last_error_text(&mut stream)
        .unwrap()
        .contains("does not match"));
    let (code, out) = raw_next(&mut stream);
    assert_eq!((code, out.is_released()), (0, false));
}

#[test]
fn get_schema_can_be_called_again_and_again() {
    let nested = Arc::new(
        Schema::new(vec![
            Field::new("a", DataType::Int32, false)
                .with_metadata(HashMap::from([("k".into(), "v".into())])),
            Field::new_list("l", Field::new_list_field(DataType::Utf8, true), true),
            Field::new_dictionary("d", DataType::Int8, DataType::Utf8, true),
        ])
        .with_metadata(HashMap::from([(
            "schema-key".into(),
            "schema-value".into(),
        )])),
    );
    let mut stream = export_batches(nested.clone(), Vec::new());
    let mut seen = Vec::new();
    for round in 0..4 {
        let (code, out) = raw_schema(&mut stream);
        assert_eq!(code, 0, "round {round}");
        assert!(!out.is_released());
        seen.push(out);
        if round == 1 {
            let (code, out) = raw_next(&mut stream);
            assert_eq!((code, out.is_released()), (0, true));
        }
    }
    // Each result is independent of the others and of the stream.
    raw_release(&mut stream);
    for out in &seen {
        assert_eq!(Schema::try_from(out).unwrap(), *nested);
    }
    drop(seen);
}

/// A reader whose first `next` panics; then it yields one batch and ends.
struct PanicsOnce {
    calls: usize,
}

impl Iterator for PanicsOnce {
    type Item = Result<RecordBatch, ArrowError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.calls += 1;
        match self.calls {
            1 => panic!("reader exploded on call {}", self.calls),
            2 => Some(Ok(batch(2))),
            _ => None,
        }
    }
}

impl RecordBatchReader for PanicsOnce {
    fn schema(&self) -> SchemaRef {
        schema()
    }
}

#[test]
fn a_panicking_reader_becomes_an_error_and_the_stream_keeps_answering() {
    let mut stream = FFI_ArrowArrayStream::new(Box::new(PanicsOnce { calls: 0 }));
    let (code, out) = raw_next(&mut stream);
    assert_ne!(code, 0);
    assert!(out.is_released());
    let message = last_error_text(&mut stream).unwrap();
    assert!(
        message.contains("panic") && message.contains("reader exploded on call 1"),
        "{message}"
    );
    // It keeps answering.
    let (code, _) = raw_schema(&mut stream);
    assert_eq!(code, 0);
    let (code, out) = raw_next(&mut stream);
    assert_eq!(code, 0);
    assert_eq!(import_batch(out, &schema()), batch(2));
    let (code, out) = raw_next(&mut stream);
    assert_eq!((code, out.is_released()), (0, true));
    raw_release(&mut stream);
    assert!(stream.is_released());

    // Through our reader: an Err naming the panic, then the batch.
    let mut reader =
        RecordBatchStreamReader::try_new(FFI_ArrowArrayStream::new(Box::new(PanicsOnce {
            calls: 0,
        })))
        .unwrap();
    let error = reader.next().unwrap().unwrap_err();
    assert!(error.to_string().contains("reader exploded"), "{error}");
    assert_eq!(reader.next().unwrap().unwrap(), batch(2));
    assert!(reader.next().is_none());
}

/// A reader whose `Drop` panics.
struct DropPanics {
    dropped: Arc<AtomicBool>,
}

impl Iterator for DropPanics {
    type Item = Result<RecordBatch, ArrowError>;
    fn next(&mut self) -> Option<Self::Item> {
        None
    }
}

impl RecordBatchReader for DropPanics {
    fn schema(&self) -> SchemaRef {
        schema()
    }
}

impl Drop for DropPanics {
    fn drop(&mut self) {
        self.dropped.store(true, Ordering::SeqCst);
        panic!("drop exploded");
    }
}

#[test]
fn release_completes_when_the_readers_drop_panics() {
    let dropped = Arc::new(AtomicBool::new(false));
    let mut stream = FFI_ArrowArrayStream::new(Box::new(DropPanics {
        dropped: dropped.clone(),
    }));
    let (code, out) = raw_next(&mut stream);
    assert_eq!((code, out.is_released()), (0, true));
    raw_release(&mut stream);
    assert!(
        stream.is_released(),
        "release must mark the stream released even if Drop panicked"
    );
    assert!(stream.as_sys().private_data.is_null());
    assert!(dropped.load(Ordering::SeqCst));
    drop(stream); // released: nothing more happens

    // The same through our reader's Drop.
    let dropped = Arc::new(AtomicBool::new(false));
    let reader = RecordBatchStreamReader::try_new(FFI_ArrowArrayStream::new(Box::new(DropPanics {
        dropped: dropped.clone(),
    })))
    .unwrap();
    drop(reader);
    assert!(dropped.load(Ordering::SeqCst));
}

// ---------------------------------------------------------------------------------------------
// A hand-made foreign producer, configurable to misbehave.

enum Item {
    Data(ArrayData),
    Fail(c_int),
}

enum Message {
    Text(CString),
    Null,
}

struct Fake {
    field: Field,
    schema_code: c_int,
    leave_schema_released: bool,
    items: VecDeque<Item>,
    message: Message,
    releases: Arc<AtomicUsize>,
}

impl Fake {
    fn new(field: Field) -> Self {
        Fake {
            field,
            schema_code: 0,
            leave_schema_released: false,
            items: VecDeque::new(),
            message: Message::Text(CString::new("fake producer failed").unwrap()),
            releases: Arc::new(AtomicUsize::new(0)),
        }
    }

    fn of_schema(schema: &Schema) -> Self {
        Fake::new(
            Field::new("", struct_type(schema), false).with_metadata(schema.metadata().clone()),
        )
    }

    fn item(mut self, item: Item) -> Self {
        self.items.push_back(item);
        self
    }

    /// The stream, with the callbacks this test chooses; and its release counter.
    fn stream(
        self,
        get_schema: bool,
        get_next: bool,
        get_last_error: bool,
    ) -> (FFI_ArrowArrayStream, Arc<AtomicUsize>) {
        let releases = self.releases.clone();
        let raw = ArrowArrayStream {
            get_schema: get_schema.then_some(fake_get_schema as _),
            get_next: get_next.then_some(fake_get_next as _),
            get_last_error: get_last_error.then_some(fake_get_last_error as _),
            release: Some(fake_release),
            private_data: Box::into_raw(Box::new(self)).cast(),
        };
        // SAFETY: the callbacks below follow the interface.
        (unsafe { FFI_ArrowArrayStream::from_sys(raw) }, releases)
    }
}

/// # Safety
/// `stream` is a fake stream, unreleased.
unsafe fn fake<'a>(stream: *mut ArrowArrayStream) -> &'a mut Fake {
    // SAFETY: per the caller, private_data is our boxed `Fake`.
    unsafe { &mut *(*stream).private_data.cast::<Fake>() }
}

unsafe extern "C" fn fake_get_schema(
    stream: *mut ArrowArrayStream,
    out: *mut ArrowSchema,
) -> c_int {
    // SAFETY: called by the consumer on an unreleased fake stream.
    let fake = unsafe { fake(stream) };
    if fake.schema_code != 0 {
        return fake.schema_code;
    }
    if !fake.leave_schema_released {
        match FFI_ArrowSchema::try_from(&fake.field) {
            // SAFETY: `out` is writable per the interface.
            Ok(schema) => unsafe { ptr::write(out, schema.into_sys()) },
            Err(_) => return libc::EINVAL,
        }
    }
    0
}

unsafe extern "C" fn fake_get_next(stream: *mut ArrowArrayStream, out: *mut ArrowArray) -> c_int {
    // SAFETY: called by the consumer on an unreleased fake stream.
    let fake = unsafe { fake(stream) };
    let array = match fake.items.pop_front() {
        None => ArrowArray::EMPTY,
        Some(Item::Data(data)) => FFI_ArrowArray::new(&data).into_sys(),
        Some(Item::Fail(code)) => return code,
    };
    // SAFETY: `out` is writable per the interface.
    unsafe { ptr::write(out, array) };
    0
}

unsafe extern "C" fn fake_get_last_error(stream: *mut ArrowArrayStream) -> *const c_char {
    // SAFETY: called by the consumer on an unreleased fake stream.
    match &unsafe { fake(stream) }.message {
        Message::Text(text) => text.as_ptr(),
        Message::Null => ptr::null(),
    }
}

unsafe extern "C" fn fake_release(stream: *mut ArrowArrayStream) {
    // SAFETY: called once by the consumer on an unreleased fake stream.
    let stream = unsafe { &mut *stream };
    // SAFETY: private_data is our boxed `Fake`, reclaimed once (release is set to None below).
    let fake = unsafe { Box::from_raw(stream.private_data.cast::<Fake>()) };
    fake.releases.fetch_add(1, Ordering::SeqCst);
    drop(fake);
    stream.private_data = ptr::null_mut();
    stream.release = None;
}

/// Wraps any stream; counts the calls to its release, which releases the inner stream.
struct Counted {
    inner: FFI_ArrowArrayStream,
    releases: Arc<AtomicUsize>,
}

fn counted(inner: FFI_ArrowArrayStream) -> (FFI_ArrowArrayStream, Arc<AtomicUsize>) {
    let releases = Arc::new(AtomicUsize::new(0));
    let raw = ArrowArrayStream {
        get_schema: Some(counted_get_schema),
        get_next: Some(counted_get_next),
        get_last_error: Some(counted_get_last_error),
        release: Some(counted_release),
        private_data: Box::into_raw(Box::new(Counted {
            inner,
            releases: releases.clone(),
        }))
        .cast(),
    };
    // SAFETY: the callbacks forward to a valid stream.
    (unsafe { FFI_ArrowArrayStream::from_sys(raw) }, releases)
}

/// # Safety
/// `stream` is a counted stream, unreleased.
unsafe fn inner<'a>(stream: *mut ArrowArrayStream) -> &'a mut FFI_ArrowArrayStream {
    // SAFETY: per the caller, private_data is our boxed `Counted`.
    unsafe { &mut (*(*stream).private_data.cast::<Counted>()).inner }
}

unsafe extern "C" fn counted_get_schema(
    stream: *mut ArrowArrayStream,
    out: *mut ArrowSchema,
) -> c_int {
    // SAFETY: forwarded to the inner, unreleased stream.
    let inner = unsafe { inner(stream) };
    // SAFETY: as above.
    unsafe { inner.as_sys().get_schema.unwrap()(inner.as_mut_ptr(), out) }
}

unsafe extern "C" fn counted_get_next(
    stream: *mut ArrowArrayStream,
    out: *mut ArrowArray,
) -> c_int {
    // SAFETY: forwarded to the inner, unreleased stream.
    let inner = unsafe { inner(stream) };
    // SAFETY: as above.
    unsafe { inner.as_sys().get_next.unwrap()(inner.as_mut_ptr(), out) }
}

unsafe extern "C" fn counted_get_last_error(stream: *mut ArrowArrayStream) -> *const c_char {
    // SAFETY: forwarded to the inner, unreleased stream.
    let inner = unsafe { inner(stream) };
    // SAFETY: as above.
    unsafe { inner.as_sys().get_last_error.unwrap()(inner.as_mut_ptr()) }
}

unsafe extern "C" fn counted_release(stream: *mut ArrowArrayStream) {
    // SAFETY: called once per the interface.
    let stream = unsafe { &mut *stream };
    // SAFETY: private_data is our boxed `Counted`; a second call would find it NULL.
    if stream.private_data.is_null() {
        return;
    }
    // SAFETY: as above.
    let counted = unsafe { Box::from_raw(stream.private_data.cast::<Counted>()) };
    counted.releases.fetch_add(1, Ordering::SeqCst);
    drop(counted); // releases the inner stream
    stream.private_data = ptr::null_mut();
    stream.release = None;
}

fn struct_data(columns: Vec<(&str, ArrayRef)>) -> ArrayData {
    let fields: Vec<(FieldRef, ArrayRef)> = columns
        .into_iter()
        .map(|(name, a)| (Arc::new(Field::new(name, a.data_type().clone(), true)), a))
        .collect();
    StructArray::from(fields).into_data()
}

// ---------------------------------------------------------------------------------------------
// Consumer side.

#[test]
fn a_producer_error_carries_the_producers_message() {
    let mut reader = RecordBatchStreamReader::try_new(export_batches(
        schema(),
        vec![Ok(batch(0)), Err(io_error("disk on fire"))],
    ))
    .unwrap();
    assert_eq!(reader.next().unwrap().unwrap(), batch(0));
    let error = reader.next().unwrap().unwrap_err();
    assert!(
        matches!(error, ArrowError::IoError(..)),
        "EIO imports as an I/O error: {error:?}"
    );
    assert!(error.to_string().contains("disk on fire"), "{error}");
    assert!(reader.next().is_none());

    // From a foreign producer: the fake's message and code.
    let fake = Fake::of_schema(&schema()).item(Item::Fail(libc::ENOMEM));
    let (stream, releases) = fake.stream(true, true, true);
    let mut reader = RecordBatchStreamReader::try_new(stream).unwrap();
    let error = reader.next().unwrap().unwrap_err();
    assert!(matches!(error, ArrowError::MemoryError(_)), "{error:?}");
    assert!(
        error.to_string().contains("fake producer failed"),
        "{error}"
    );
    drop(reader);
    assert_eq!(releases.load(Ordering::SeqCst), 1);

    // From arrow-rs's producer.
    let reader = arrow::record_batch::RecordBatchIterator::new(
        vec![Err(io_error("arrow-rs disk"))],
        schema(),
    );
    let mut theirs = arrow::ffi_stream::FFI_ArrowArrayStream::new(Box::new(reader));
    // SAFETY: layout-identical structs; ours moves the stream out.
    let mut reader = unsafe {
        RecordBatchStreamReader::from_raw(
            (&mut theirs as *mut arrow::ffi_stream::FFI_ArrowArrayStream).cast(),
        )
    }
    .unwrap();
    let error = reader.next().unwrap().unwrap_err();
    assert!(error.to_string().contains("arrow-rs disk"), "{error}");

    // A failing get_schema: try_new fails with the message, and the stream is released once.
    let mut fake = Fake::of_schema(&schema());
    fake.schema_code = libc::EIO;
    fake.message = Message::Text(CString::new("no schema today").unwrap());
    let (stream, releases) = fake.stream(true, true, true);
    let error = RecordBatchStreamReader::try_new(stream).unwrap_err();
    assert!(error.to_string().contains("no schema today"), "{error}");
    assert_eq!(releases.load(Ordering::SeqCst), 1);
}

#[test]
fn a_producer_without_a_message_gives_a_clear_one() {
    for (has_callback, expected) in [
        (false, "no get_last_error"),
        (true, "get_last_error returned NULL"),
    ] {
        let mut fake = Fake::of_schema(&schema()).item(Item::Fail(libc::EINVAL));
        fake.message = Message::Null;
        let (stream, releases) = fake.stream(true, true, has_callback);
        let mut reader = RecordBatchStreamReader::try_new(stream).unwrap();
        let error = reader.next().unwrap().unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains("get_next") && text.contains(expected),
            "{text}"
        );
        assert!(text.contains("EINVAL"), "{text}");
        drop(reader);
        assert_eq!(releases.load(Ordering::SeqCst), 1);

        let mut fake = Fake::of_schema(&schema());
        fake.schema_code = libc::EIO;
        fake.message = Message::Null;
        let (stream, _) = fake.stream(true, true, has_callback);
        let text = RecordBatchStreamReader::try_new(stream)
            .unwrap_err()
            .to_string();
        assert!(
            text.contains("get_schema") && text.contains(expected),
            "{text}"
        );
    }
}

#[test]
fn malformed_producers_are_errors_not_panics() {
    // NULL callbacks: refused, and the stream is still released once.
    for (get_schema, get_next, name) in [(false, true, "get_schema"), (true, false, "get_next")] {
        let (stream, releases) = Fake::of_schema(&schema()).stream(get_schema, get_next, true);
        let error = RecordBatchStreamReader::try_new(stream).unwrap_err();
        assert!(error.to_string().contains(name), "{error}");
        assert_eq!(releases.load(Ordering::SeqCst), 1, "{name}");
        let (stream, releases) = Fake::of_schema(&schema()).stream(get_schema, get_next, true);
        assert!(ArrayStreamReader::try_new(stream).is_err());
        assert_eq!(releases.load(Ordering::SeqCst), 1, "{name}");
    }

    // A released stream.
    let error = RecordBatchStreamReader::try_new(FFI_ArrowArrayStream::empty()).unwrap_err();
    assert!(error.to_string().contains("released"), "{error}");
    assert!(ArrayStreamReader::try_new(FFI_ArrowArrayStream::empty()).is_err());
    let mut empty = FFI_ArrowArrayStream::empty();
    // SAFETY: a released stream.
    assert!(unsafe { RecordBatchStreamReader::from_raw(&mut empty) }.is_err());

    // get_schema returns 0 but fills nothing.
    let mut fake = Fake::of_schema(&schema());
    fake.leave_schema_released = true;
    let (stream, releases) = fake.stream(true, true, true);
    assert!(RecordBatchStreamReader::try_new(stream).is_err());
    assert_eq!(releases.load(Ordering::SeqCst), 1);

    // A schema that is not a struct: fine for ArrayStreamReader, an error for RecordBatchStreamReader.
    let (stream, releases) =
        Fake::new(Field::new("x", DataType::Int32, true)).stream(true, true, true);
    let error = RecordBatchStreamReader::try_new(stream).unwrap_err();
    assert!(!error.to_string().is_empty());
    assert_eq!(releases.load(Ordering::SeqCst), 1);
    let fake = Fake::new(Field::new("x", DataType::Int32, true))
        .item(Item::Data(Int32Array::from(vec![1, 2]).into_data()));
    let (stream, releases) = fake.stream(true, true, true);
    let mut reader = ArrayStreamReader::try_new(stream).unwrap();
    assert_eq!(reader.field().data_type(), &DataType::Int32);
    let array = reader.next().unwrap().unwrap();
    assert_eq!(array.as_ref(), &Int32Array::from(vec![1, 2]) as &dyn Array);
    assert!(reader.next().is_none());
    drop(reader);
    assert_eq!(releases.load(Ordering::SeqCst), 1);
}

// ---------------------------------------------------------------------------------------------
// A producer that releases the stream itself inside one of its callbacks (a broken producer, but
// one a consumer can detect: `release` is NULL when the callback returns). The reader must stop with
// an error naming the callback, never call the stream again, never release it twice, and release
// whatever the callback wrote into its out struct (Miri's leak check sees that on this file).

/// Which callback releases the stream.
#[derive(Clone, Copy, PartialEq, Debug)]
enum ReleaseIn {
    GetSchema,
    /// The `get_next` call of this index (0 for the first).
    GetNext(usize),
}

/// What the self-releasing producer did; shared with the test, which reclaims it at the end.
struct SelfReleasing {
    release_in: ReleaseIn,
    /// What the releasing callback returns, and whether it fills its out struct first.
    code: c_int,
    fill: bool,
    next_calls: AtomicUsize,
    released: AtomicBool,
    releases: AtomicUsize,
    /// Calls of any callback (release included) on the stream after it was released.
    calls_after_release: AtomicUsize,
}

impl SelfReleasing {
    /// The stream; `private_data` holds one count of the returned `Arc` (reclaimed by [`Self::reclaim`]).
    fn stream(release_in: ReleaseIn, code: c_int, fill: bool) -> (FFI_ArrowArrayStream, Arc<SelfReleasing>) {
        let probe = Arc::new(SelfReleasing {
            release_in,
            code,
            fill,
            next_calls: AtomicUsize::new(0),
            released: AtomicBool::new(false),
            releases: AtomicUsize::new(0),
            calls_after_release: AtomicUsize::new(0),
        });
        let raw = ArrowArrayStream {
            get_schema: Some(self_releasing_get_schema),
            get_next: Some(self_releasing_get_next),
            get_last_error: Some(self_releasing_get_last_error),
            release: Some(self_releasing_release),
            private_data: Arc::into_raw(probe.clone()).cast_mut().cast(),
        };
        // SAFETY: the callbacks below follow the interface until the producer breaks it on purpose.
        (unsafe { FFI_ArrowArrayStream::from_sys(raw) }, probe)
    }

    /// # Safety
    /// `stream` is a stream made by [`Self::stream`] (released or not: release keeps `private_data`).
    unsafe fn of<'a>(stream: *mut ArrowArrayStream) -> &'a SelfReleasing {
        // SAFETY: per the caller; the test holds another count of the `Arc` until after the stream is gone.
        unsafe { &*(*stream).private_data.cast::<SelfReleasing>() }
    }

    /// Whether the stream was released already (a call now breaks the interface): counted.
    fn called_after_release(&self) -> bool {
        let released = self.released.load(Ordering::SeqCst);
        if released {
            self.calls_after_release.fetch_add(1, Ordering::SeqCst);
        }
        released
    }
}

unsafe extern "C" fn self_releasing_get_schema(stream: *mut ArrowArrayStream, out: *mut ArrowSchema) -> c_int {
    // SAFETY: a stream of `SelfReleasing::stream`.
    let probe = unsafe { SelfReleasing::of(stream) };
    if probe.called_after_release() {
        return libc::EINVAL;
    }
    let releasing = probe.release_in == ReleaseIn::GetSchema;
    if !releasing || probe.fill {
        let schema = FFI_ArrowSchema::try_from(schema().as_ref()).unwrap();
        // SAFETY: `out` is writable per the interface.
        unsafe { ptr::write(out, schema.into_sys()) };
    }
    if !releasing {
        return 0;
    }
    // SAFETY: the stream is unreleased (checked above); the producer releases it itself.
    unsafe { self_releasing_release(stream) };
    probe.code
}

unsafe extern "C" fn self_releasing_get_next(stream: *mut ArrowArrayStream, out: *mut ArrowArray) -> c_int {
    // SAFETY: a stream of `SelfReleasing::stream`.
    let probe = unsafe { SelfReleasing::of(stream) };
    if probe.called_after_release() {
        return libc::EINVAL;
    }
    let index = probe.next_calls.fetch_add(1, Ordering::SeqCst);
    let releasing = probe.release_in == ReleaseIn::GetNext(index);
    if !releasing || probe.fill {
        let data = StructArray::from(batch(index as i32)).into_data();
        // SAFETY: `out` is writable per the interface.
        unsafe { ptr::write(out, FFI_ArrowArray::new(&data).into_sys()) };
    }
    if !releasing {
        return 0;
    }
    // SAFETY: as in `self_releasing_get_schema`.
    unsafe { self_releasing_release(stream) };
    probe.code
}

unsafe extern "C" fn self_releasing_get_last_error(stream: *mut ArrowArrayStream) -> *const c_char {
    // SAFETY: a stream of `SelfReleasing::stream`.
    let probe = unsafe { SelfReleasing::of(stream) };
    if probe.called_after_release() {
        return ptr::null();
    }
    c"self-releasing producer".as_ptr()
}

unsafe extern "C" fn self_releasing_release(stream: *mut ArrowArrayStream) {
    // SAFETY: a stream of `SelfReleasing::stream`.
    let probe = unsafe { SelfReleasing::of(stream) };
    if probe.called_after_release() {
        return;
    }
    probe.released.store(true, Ordering::SeqCst);
    probe.releases.fetch_add(1, Ordering::SeqCst);
    // SAFETY: the stream struct is writable by its producer; private_data stays, so that later
    // (forbidden) calls are counted rather than undefined.
    unsafe { (*stream).release = None };
}


/// The producer's own count of its `Arc`, held by `private_data`, given back after the stream is gone.
fn reclaim(probe: &Arc<SelfReleasing>) {
    // SAFETY: `private_data` was `Arc::into_raw` of a clone of `probe`, given back once here.
    drop(unsafe { Arc::from_raw(Arc::as_ptr(probe)) });
}

#[test]
fn a_stream_released_inside_get_schema_is_an_error_and_never_called_again() {
    for (code, fill) in [(0, true), (0, false), (libc::EIO, false), (libc::EINVAL, true)] {
        for batches in [true, false] {
            let (stream, probe) = SelfReleasing::stream(ReleaseIn::GetSchema, code, fill);
            let error = if batches {
                RecordBatchStreamReader::try_new(stream).unwrap_err().to_string()
            } else {
                ArrayStreamReader::try_new(stream).unwrap_err().to_string()
            };
            assert!(error.contains("stream.get_schema: the producer released the stream inside get_schema"), "{error}");
            assert_eq!(probe.releases.load(Ordering::SeqCst), 1, "code {code}, fill {fill}");
            assert_eq!(probe.calls_after_release.load(Ordering::SeqCst), 0, "code {code}, fill {fill}");
            reclaim(&probe);
        }
    }
}

#[test]
fn a_stream_released_inside_get_next_is_an_error_and_never_called_again() {
    for at in [0, 1] {
        for (code, fill) in [(0, true), (0, false), (libc::EIO, false), (libc::ENOMEM, true)] {
            let (stream, probe) = SelfReleasing::stream(ReleaseIn::GetNext(at), code, fill);
            let mut reader = RecordBatchStreamReader::try_new(stream).unwrap();
            for index in 0..at {
                assert_eq!(reader.next().unwrap().unwrap(), batch(index as i32));
            }
            let error = reader.next().unwrap().unwrap_err().to_string();
            assert!(error.contains("stream.get_next: the producer released the stream inside get_next"), "{error}");
            // Nothing more from a released stream, however often it is asked.
            assert!(reader.next().is_none());
            assert!(reader.next().is_none());
            drop(reader);
            assert_eq!(probe.releases.load(Ordering::SeqCst), 1, "at {at}, code {code}, fill {fill}");
            assert_eq!(probe.calls_after_release.load(Ordering::SeqCst), 0, "at {at}, code {code}, fill {fill}");
            assert_eq!(probe.next_calls.load(Ordering::SeqCst), at + 1);
            reclaim(&probe);
        }
    }
    let (stream, probe) = SelfReleasing::stream(ReleaseIn::GetNext(0), 0, true);
    let mut reader = ArrayStreamReader::try_new(stream).unwrap();
    assert!(reader.next().unwrap().is_err());
    assert!(reader.next().is_none());
    drop(reader);
    assert_eq!((probe.releases.load(Ordering::SeqCst), probe.calls_after_release.load(Ordering::SeqCst)), (1, 0));
    reclaim(&probe);
}

#[test]
fn a_batch_that_does_not_match_the_schema_is_an_error() {
    let declared = Arc::new(Schema::new(vec![Field::new("a", DataType::Int32, true)]));
    let ints: ArrayRef = Arc::new(Int32Array::from(vec![Some(1), None]));
    let strings: ArrayRef = Arc::new(StringArray::from(vec!["p", "q"]));
    let wrong: Vec<(&str, ArrayData)> = vec![
        (
            "a utf8 column for an int32 one",
            struct_data(vec![("a", strings.clone())]),
        ),
        (
            "two columns for one",
            struct_data(vec![("a", ints.clone()), ("b", ints.clone())]),
        ),
        ("no struct at all", ints.to_data()),
        ("a string array instead of a struct", strings.to_data()),
    ];
    for (what, data) in wrong {
        let fake = Fake::of_schema(&declared)
            .item(Item::Data(data))
            .item(Item::Data(struct_data(vec![("a", ints.clone())])));
        let (stream, releases) = fake.stream(true, true, true);
        let mut reader = RecordBatchStreamReader::try_new(stream).unwrap();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| reader.next()));
        let item = outcome.unwrap_or_else(|_| panic!("{what}: the reader panicked"));
        assert!(item.expect("an item").is_err(), "{what}: accepted");
        drop(reader);
        assert_eq!(releases.load(Ordering::SeqCst), 1, "{what}");
    }

    // The same for ArrayStreamReader with a non-struct field.
    let fake =
        Fake::new(Field::new("x", DataType::Int32, true)).item(Item::Data(strings.to_data()));
    let (stream, _) = fake.stream(true, true, true);
    let mut reader = ArrayStreamReader::try_new(stream).unwrap();
    assert!(reader.next().unwrap().is_err());
}

#[test]
fn dropping_the_reader_releases_the_stream_exactly_once() {
    let batches = || (0..4).map(|i| Ok(batch(i * 10))).collect::<Vec<_>>();

    // Drained to the end.
    let (stream, releases) = counted(export_batches(schema(), batches()));
    let reader = RecordBatchStreamReader::try_new(stream).unwrap();
    let all = reader.collect::<Result<Vec<_>, _>>().unwrap();
    assert_eq!(all.len(), 4);
    assert_eq!(
        releases.load(Ordering::SeqCst),
        1,
        "the reader was consumed by collect and dropped"
    );

    // Dropped in the middle.
    let (stream, releases) = counted(export_batches(schema(), batches()));
    let mut reader = RecordBatchStreamReader::try_new(stream).unwrap();
    let first = reader.next().unwrap().unwrap();
    let second = reader.next().unwrap().unwrap();
    assert_eq!(releases.load(Ordering::SeqCst), 0);
    drop(reader);
    assert_eq!(releases.load(Ordering::SeqCst), 1);
    // Imported batches outlive the stream.
    assert_eq!(first, batch(0));
    assert_eq!(second, batch(10));

    // Dropped before any batch; and from a raw pointer (the source is left released, not released again).
    let (mut stream, releases) = counted(export_batches(schema(), batches()));
    // SAFETY: a valid stream; from_raw moves it out.
    let reader = unsafe { RecordBatchStreamReader::from_raw(&mut stream) }.unwrap();
    assert!(stream.is_released());
    drop(stream);
    assert_eq!(releases.load(Ordering::SeqCst), 0);
    drop(reader);
    assert_eq!(releases.load(Ordering::SeqCst), 1);

    // ArrayStreamReader, in the middle.
    let field = Arc::new(Field::new("v", DataType::Int32, true));
    let arrays = (0..3)
        .map(|i| Ok(Arc::new(Int32Array::from(vec![i])) as ArrayRef))
        .collect::<Vec<_>>();
    let (stream, releases) = counted(export_arrays(field, arrays));
    let mut reader = ArrayStreamReader::try_new(stream).unwrap();
    let _ = reader.next().unwrap().unwrap();
    drop(reader);
    assert_eq!(releases.load(Ordering::SeqCst), 1);

    // After a producer error.
    let (stream, releases) = counted(export_batches(
        schema(),
        vec![Err(io_error("x")), Ok(batch(1))],
    ));
    let mut reader = RecordBatchStreamReader::try_new(stream).unwrap();
    assert!(reader.next().unwrap().is_err());
    drop(reader);
    assert_eq!(releases.load(Ordering::SeqCst), 1);
}

#[test]
fn a_batch_without_columns_keeps_its_row_count() {
    // arrow-rs issue #9394: a zero-column batch's row count was lost crossing the stream interface.
    let empty = Arc::new(Schema::empty());
    let options = RecordBatchOptions::new().with_row_count(Some(7));
    let seven = RecordBatch::try_new_with_options(empty.clone(), vec![], &options).unwrap();
    let none = RecordBatch::try_new_with_options(
        empty.clone(),
        vec![],
        &RecordBatchOptions::new().with_row_count(Some(0)),
    )
    .unwrap();

    let mut stream = export_batches(empty.clone(), vec![Ok(seven.clone()), Ok(none.clone())]);
    let (code, out) = raw_next(&mut stream);
    assert_eq!(code, 0);
    assert_eq!(
        out.as_sys().length,
        7,
        "the exported struct array carries the row count"
    );
    assert_eq!(out.as_sys().n_children, 0);

    let reader =
        RecordBatchStreamReader::try_new(export_batches(empty.clone(), vec![Ok(seven), Ok(none)]))
            .unwrap();
    let rows: Vec<usize> = reader.map(|b| b.unwrap().num_rows()).collect();
    assert_eq!(rows, vec![7, 0]);

    // From a foreign producer: a struct array of length 5 with no children.
    let data = ArrayData::builder(DataType::Struct(Default::default()))
        .len(5)
        .build()
        .unwrap();
    let (stream, _) = Fake::of_schema(&empty)
        .item(Item::Data(data))
        .stream(true, true, true);
    let mut reader = RecordBatchStreamReader::try_new(stream).unwrap();
    assert_eq!(reader.next().unwrap().unwrap().num_rows(), 5);
}

#[test]
fn array_streams_carry_any_type_and_the_fields_metadata() {
    let item = Field::new_list_field(DataType::Utf8, true);
    let metadata = HashMap::from([
        ("ARROW:extension:name".to_owned(), "my.tags".to_owned()),
        (
            "ARROW:extension:metadata".to_owned(),
            "{\"v\":1}".to_owned(),
        ),
        ("note".to_owned(), "kept".to_owned()),
    ]);
    let field =
        Arc::new(Field::new("tags", DataType::List(Arc::new(item)), true).with_metadata(metadata));
    let list = |rows: Vec<Option<Vec<Option<&str>>>>| -> ArrayRef {
        let mut builder = ListBuilder::new(StringBuilder::new());
        for row in rows {
            match row {
                Some(values) => {
                    for v in values {
                        builder.values().append_option(v);
                    }
                    builder.append(true);
                }
                None => builder.append(false),
            }
        }
        Arc::new(builder.finish())
    };
    let arrays = vec![
        list(vec![Some(vec![Some("a"), None]), None, Some(vec![])]),
        list(vec![Some(vec![Some("bbb"), Some("cc"), Some("d")])]).slice(0, 1),
        list(vec![]),
    ];
    let stream = export_arrays(field.clone(), arrays.clone().into_iter().map(Ok));
    let reader = ArrayStreamReader::try_new(stream).unwrap();
    assert_eq!(
        reader.field(),
        &field,
        "name, nullability and metadata survive"
    );
    assert_eq!(arrow_array::ArrayReader::field(&reader), &field);
    let got = reader.collect::<Result<Vec<_>, _>>().unwrap();
    assert_eq!(got.len(), arrays.len());
    for (a, b) in arrays.iter().zip(&got) {
        assert_eq!(a.as_ref(), b.as_ref());
    }

    // The same stream read by arrow-rs's ArrayStreamReader.
    let mut stream = export_arrays(field.clone(), arrays.clone().into_iter().map(Ok));
    // SAFETY: layout-identical structs; arrow-rs moves the stream out.
    let theirs = unsafe {
        arrow::ffi_stream::ArrayStreamReader::from_raw(
            (&mut stream as *mut FFI_ArrowArrayStream).cast(),
        )
    }
    .unwrap();
    assert_eq!(arrow::array::ArrayReader::field(&theirs), &field);
    let got = theirs.collect::<Result<Vec<_>, _>>().unwrap();
    for (a, b) in arrays.iter().zip(&got) {
        assert_eq!(a.as_ref(), b.as_ref());
    }
}

/// `RecordBatchStreamReader` (and `ArrayStreamReader`) can move to another thread.
const _: () = {
    const fn send<T: Send>() {}
    send::<RecordBatchStreamReader>();
    send::<ArrayStreamReader>();
    send::<FFI_ArrowArrayStream>();
};

#[test]
fn a_reader_can_be_read_on_another_thread() {
    let reader =
        RecordBatchStreamReader::try_new(export_batches(schema(), vec![Ok(batch(3))])).unwrap();
    let batches = std::thread::spawn(move || reader.collect::<Result<Vec<_>, _>>().unwrap())
        .join()
        .unwrap();
    assert_eq!(batches, vec![batch(3)]);
}
