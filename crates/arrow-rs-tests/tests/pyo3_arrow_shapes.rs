//! pyo3-arrow's stream producer and consumer shapes, written against arrow-cabi's `ffi` /
//! `ffi_stream` names as they are written against arrow-rs's.
//!
//! The producer: pyo3-arrow exports a chunked array (a stream of arrays of one field, not record
//! batches) by building an `FFI_ArrowArrayStream` with `new_unchecked` from its own `extern "C"`
//! callbacks and a boxed private state (the reader and the last error). The consumer: it reads the
//! callbacks back with `get_schema()` / `get_next()` / `get_last_error()`, calls them itself, and
//! imports each array with `from_ffi_and_data_type`. Both run here; the arrays they carry are checked
//! against the source arrays, and the producer is also read by arrow-rs's own `ArrayStreamReader`,
//! an independent consumer.
#![allow(missing_docs)]

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::sync::Arc;

use arrow_array::{make_array, Array, ArrayRef, Int32Array, StringArray};
use arrow_cabi::ffi::{from_ffi_and_data_type, FFI_ArrowArray, FFI_ArrowSchema};
use arrow_cabi::ffi_stream::FFI_ArrowArrayStream;
use arrow_schema::{ArrowError, DataType, Field, FieldRef};

/// The producer's private data, as pyo3-arrow keeps it: what is left to send and the last error.
struct Producer {
    field: FieldRef,
    arrays: Box<dyn Iterator<Item = Result<ArrayRef, ArrowError>> + Send>,
    last_error: Option<CString>,
}

/// The state behind a stream's `private_data`.
///
/// # Safety
/// `stream` points to a stream that `chunked_stream` made and that is not released.
unsafe fn producer<'a>(stream: *mut FFI_ArrowArrayStream) -> &'a mut Producer {
    // SAFETY: per the caller, `private_data` is the `Box<Producer>` `chunked_stream` leaked.
    unsafe { &mut *(*stream).private_data().cast::<Producer>() }
}

unsafe extern "C" fn get_schema(stream: *mut FFI_ArrowArrayStream, out: *mut FFI_ArrowSchema) -> c_int {
    // SAFETY: the consumer calls this with the stream it was read from, unreleased.
    let producer = unsafe { producer(stream) };
    match FFI_ArrowSchema::try_from(producer.field.as_ref()) {
        Ok(schema) => {
            // SAFETY: the consumer passes a struct to write into, which it owns.
            unsafe { std::ptr::write(out, schema) };
            0
        }
        Err(error) => {
            producer.last_error = CString::new(error.to_string()).ok();
            libc::EINVAL
        }
    }
}

unsafe extern "C" fn get_next(stream: *mut FFI_ArrowArrayStream, out: *mut FFI_ArrowArray) -> c_int {
    // SAFETY: as in `get_schema`.
    let producer = unsafe { producer(stream) };
    let array = match producer.arrays.next() {
        None => FFI_ArrowArray::empty(),
        Some(Ok(array)) => FFI_ArrowArray::new(&array.to_data()),
        Some(Err(error)) => {
            producer.last_error = CString::new(error.to_string()).ok();
            return libc::EIO;
        }
    };
    // SAFETY: as in `get_schema`.
    unsafe { std::ptr::write(out, array) };
    0
}

unsafe extern "C" fn get_last_error(stream: *mut FFI_ArrowArrayStream) -> *const c_char {
    // SAFETY: as in `get_schema`.
    let producer = unsafe { producer(stream) };
    producer.last_error.as_ref().map_or(std::ptr::null(), |error| error.as_ptr())
}

unsafe extern "C" fn release(stream: *mut FFI_ArrowArrayStream) {
    // SAFETY: called once, by the stream's owner, with the stream `chunked_stream` made.
    let stream = unsafe { &mut *stream };
    // SAFETY: `private_data` is the leaked `Box<Producer>`, reclaimed once: `release` is cleared below.
    drop(unsafe { Box::from_raw(stream.private_data().cast::<Producer>()) });
    // SAFETY: marking the stream released is what release must do last.
    unsafe { stream.set_release(None) };
}

/// pyo3-arrow's producer shape: a stream of `arrays`, all of `field`'s type, from callbacks.
fn chunked_stream(field: FieldRef, arrays: Vec<Result<ArrayRef, ArrowError>>) -> FFI_ArrowArrayStream {
    let private_data = Box::new(Producer { field, arrays: Box::new(arrays.into_iter()), last_error: None });
    // SAFETY: the callbacks above follow the C Stream Interface for this private data, which owns
    // everything they use; `release` frees it once and marks the stream released.
    unsafe {
        FFI_ArrowArrayStream::new_unchecked(
            Some(get_schema),
            Some(get_next),
            Some(get_last_error),
            Some(release),
            Box::into_raw(private_data).cast::<c_void>(),
        )
    }
}

/// pyo3-arrow's consumer shape: calls the stream's own callbacks, read back through the accessors.
fn consume(mut stream: FFI_ArrowArrayStream) -> Result<(Field, Vec<ArrayRef>), String> {
    let last_error = |stream: &mut FFI_ArrowArrayStream| {
        let get_last_error = stream.get_last_error().expect("the stream has get_last_error");
        // SAFETY: the stream is unreleased and its last call failed.
        let text = unsafe { get_last_error(stream) };
        // SAFETY: a non-NULL error is a NUL-terminated string that lives until the next call.
        (!text.is_null()).then(|| unsafe { CStr::from_ptr(text) }.to_string_lossy().into_owned())
    };
    let get_schema = stream.get_schema().expect("the stream has get_schema");
    let mut schema = FFI_ArrowSchema::empty();
    // SAFETY: the callback is called with the stream it was read from.
    if unsafe { get_schema(&mut stream, &mut schema) } != 0 {
        return Err(last_error(&mut stream).unwrap_or_default());
    }
    let field = Field::try_from(&schema).map_err(|error| error.to_string())?;
    let get_next = stream.get_next().expect("the stream has get_next");
    let mut arrays = Vec::new();
    loop {
        let mut array = FFI_ArrowArray::empty();
        // SAFETY: as for `get_schema`.
        if unsafe { get_next(&mut stream, &mut array) } != 0 {
            return Err(last_error(&mut stream).unwrap_or_default());
        }
        if array.is_released() {
            return Ok((field, arrays));
        }
        // SAFETY: the array comes from the stream's producer, for the schema it sent.
        let data = unsafe { from_ffi_and_data_type(array, field.data_type().clone()) }.map_err(|e| e.to_string())?;
        arrays.push(make_array(data));
    }
}

fn source() -> (FieldRef, Vec<ArrayRef>) {
    let field = Arc::new(Field::new("words", DataType::Utf8, true));
    let arrays: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec![Some("a"), None, Some("ccc")])),
        Arc::new(StringArray::from(Vec::<Option<&str>>::new())),
        Arc::new(StringArray::from(vec!["dd", "e", "ffff", "g"]).slice(1, 2)),
    ];
    (field, arrays)
}

#[test]
fn producer_and_consumer_shapes_carry_the_source_arrays() {
    let (field, arrays) = source();
    let stream = chunked_stream(field.clone(), arrays.iter().cloned().map(Ok).collect());
    let (received_field, received) = consume(stream).unwrap();
    assert_eq!(&received_field, field.as_ref());
    assert_eq!(received.len(), arrays.len());
    for (received, sent) in received.iter().zip(&arrays) {
        assert_eq!(received.to_data(), sent.to_data());
    }
}

#[test]
fn the_producer_shape_reads_back_in_arrow_rs() {
    let (field, arrays) = source();
    let mut stream = chunked_stream(field.clone(), arrays.iter().cloned().map(Ok).collect());
    // SAFETY: both stream types are `repr(C)`/`repr(transparent)` over the C struct; arrow-rs moves
    // the stream out, leaving ours released.
    let reader = unsafe {
        arrow::ffi_stream::ArrayStreamReader::from_raw(stream.as_mut_ptr().cast::<arrow::ffi_stream::FFI_ArrowArrayStream>())
    }
    .unwrap();
    assert!(stream.is_released());
    assert_eq!(arrow_array::ArrayReader::field(&reader).as_ref(), field.as_ref());
    let received: Vec<ArrayRef> = reader.collect::<Result<_, _>>().unwrap();
    assert_eq!(received.len(), arrays.len());
    for (received, sent) in received.iter().zip(&arrays) {
        assert_eq!(received.to_data(), sent.to_data());
    }
}

#[test]
fn the_consumer_shape_reports_the_producers_error() {
    let field = Arc::new(Field::new("n", DataType::Int32, false));
    let first: ArrayRef = Arc::new(Int32Array::from(vec![1, 2]));
    let stream = chunked_stream(field, vec![Ok(first), Err(ArrowError::ComputeError("chunk 2 is gone".into()))]);
    assert_eq!(consume(stream).unwrap_err(), "Compute error: chunk 2 is gone");
}

#[test]
fn the_consumer_shape_reads_arrow_cabi_streams() {
    // The consumer shape on a stream arrow-cabi exported, not one built from callbacks.
    let (field, arrays) = source();
    let stream = arrow_cabi::ffi_stream::export_arrays(field.clone(), arrays.clone().into_iter().map(Ok));
    let (received_field, received) = consume(stream).unwrap();
    assert_eq!(&received_field, field.as_ref());
    let sent: Vec<_> = arrays.iter().map(|array| array.to_data()).collect();
    let received: Vec<_> = received.iter().map(|array| array.to_data()).collect();
    assert_eq!(received, sent);
}
