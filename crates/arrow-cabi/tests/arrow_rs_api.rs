//! The arrow-rs 60.1 API items that arrow-cabi adds for drop-in use, checked against arrow-rs: what
//! the builder (`try_new`, `with_name`, `with_flags`, `with_metadata`) makes is read back by arrow-rs's
//! own import; the builder works on schemas a foreign producer (arrow-rs's export) made, releasing them
//! exactly once; the release/private-data accessors let a consumer wrap release on all three structs;
//! the arrow-rs accessors that panic on the caller's misuse do, and their `_opt` twins do not.
#![allow(missing_docs)]

use std::collections::HashMap;
use std::ffi::c_void;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use arrow_array::{Array, Int32Array, RecordBatch, RecordBatchIterator};
use arrow_cabi::ffi::{FFI_ArrowArray, FFI_ArrowSchema, Flags};
use arrow_cabi::ffi_stream::FFI_ArrowArrayStream;
use arrow_schema::{DataType, Field, Schema};

/// Hands `schema` to arrow-rs (a move, as across a C boundary) and imports it there as a field.
fn arrow_rs_field(mut schema: FFI_ArrowSchema) -> Field {
    // SAFETY: both types are `repr(C)` / `repr(transparent)` over the C struct; arrow-rs moves it out
    // and leaves ours released.
    let theirs = unsafe { arrow::ffi::FFI_ArrowSchema::from_raw(schema.as_mut_ptr().cast()) };
    assert!(schema.is_released());
    Field::try_from(&theirs).expect("arrow-rs imports it")
}

/// A schema arrow-rs exported, moved into ours: a foreign producer's struct.
fn foreign_schema(field: &Field) -> FFI_ArrowSchema {
    let mut theirs = arrow::ffi::FFI_ArrowSchema::try_from(field).unwrap();
    // SAFETY: as in `arrow_rs_field`, the other way.
    unsafe { FFI_ArrowSchema::from_raw((&raw mut theirs).cast()) }
}

#[test]
fn the_builder_makes_what_arrow_rs_imports() {
    let int = FFI_ArrowSchema::try_new("i", vec![], None).unwrap().with_name("n").unwrap();
    let keys = FFI_ArrowSchema::try_new("c", vec![], Some(FFI_ArrowSchema::try_new("u", vec![], None).unwrap()))
        .unwrap()
        .with_name("words")
        .unwrap()
        .with_flags(Flags::NULLABLE | Flags::DICTIONARY_ORDERED)
        .unwrap();
    let root = FFI_ArrowSchema::try_new("+s", vec![int, keys], None).unwrap().with_name("root").unwrap();
    // SAFETY: as above.
    let root = unsafe { root.with_metadata(&HashMap::from([("origin".to_owned(), "builder".to_owned())])) }.unwrap();

    assert_eq!(root.n_children(), 2);
    assert_eq!(root.child(1).name(), Some("words"));
    assert_eq!(root.child(1).dictionary().map(FFI_ArrowSchema::format), Some("u"));
    assert_eq!(root.child(1).flags(), Some(Flags::NULLABLE | Flags::DICTIONARY_ORDERED));

    let field = arrow_rs_field(root);
    let dictionary_type = DataType::Dictionary(Box::new(DataType::Int8), Box::new(DataType::Utf8));
    #[allow(deprecated)]
    let words = Field::new_dict("words", dictionary_type, true, 0, true);
    let expected = Field::new_struct("root", vec![Field::new("n", DataType::Int32, false), words], false)
        .with_metadata(HashMap::from([("origin".to_owned(), "builder".to_owned())]));
    assert_eq!(field, expected);
}

#[test]
fn the_builder_works_on_a_foreign_schema_and_releases_it_once() {
    let field = Field::new("a", DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))), true)
        .with_metadata(HashMap::from([("old".to_owned(), "1".to_owned())]));
    let released = Arc::new(AtomicUsize::new(0));
    let schema = counting(foreign_schema(&field), &released);

    let renamed = schema.with_name("b").unwrap();
    // SAFETY: as above.
    let renamed = unsafe { renamed.with_metadata([("new", "2")]) }.unwrap();
    assert_eq!(released.load(Ordering::SeqCst), 0, "re-heading keeps the foreign schema alive");

    let expected = Field::new("b", field.data_type().clone(), true).with_metadata(HashMap::from([("new".to_owned(), "2".to_owned())]));
    assert_eq!(arrow_rs_field(renamed), expected);
    assert_eq!(released.load(Ordering::SeqCst), 1, "arrow-rs's drop released the foreign schema once");
}

#[test]
fn metadata_can_be_cleared_and_replaced() {
    let schema = FFI_ArrowSchema::try_new("i", vec![], None).unwrap();
    // SAFETY: as above.
    let schema = unsafe { schema.with_metadata([("a", "1"), ("b", "2")]) }.unwrap();
    assert_eq!(schema.metadata().unwrap(), HashMap::from([("a".into(), "1".into()), ("b".into(), "2".into())]));
    // SAFETY: as above.
    let schema = unsafe { schema.with_metadata(Vec::<(String, String)>::new()) }.unwrap();
    assert!(schema.as_sys().metadata.is_null(), "no pairs is NULL metadata, as the interface wants");
    assert_eq!(arrow_rs_field(schema), Field::new("", DataType::Int32, false));
}

#[test]
fn the_builder_refuses_released_structs() {
    let error = FFI_ArrowSchema::try_new("+s", vec![FFI_ArrowSchema::empty()], None).unwrap_err();
    assert_eq!(error.to_string(), "C Data interface error: schema.children[0] is released");
    let error = FFI_ArrowSchema::try_new("c", vec![], Some(FFI_ArrowSchema::empty())).unwrap_err();
    assert_eq!(error.to_string(), "C Data interface error: schema.dictionary is released");
    assert!(FFI_ArrowSchema::empty().with_name("x").is_err());
    // SAFETY: as above.
    assert!(unsafe { FFI_ArrowSchema::empty().with_metadata([("k", "v")]) }.is_err());
}

#[test]
fn flags_are_none_with_an_unknown_bit() {
    let schema = FFI_ArrowSchema::try_new("i", vec![], None).unwrap();
    assert_eq!(schema.flags(), Some(Flags::empty()));
    let schema = schema.with_flags(Flags::from_bits_retain(Flags::NULLABLE.bits() | 64)).unwrap();
    assert_eq!(schema.flags(), None, "as arrow-rs: from_bits fails on a bit it does not know");
    assert_eq!(schema.as_sys().flags, 66);
    assert!(schema.nullable());
}

#[test]
fn child_panics_past_the_end_and_child_opt_does_not() {
    let schema = FFI_ArrowSchema::try_from(&DataType::Int32).unwrap();
    assert!(schema.child_opt(0).is_none());
    let result = std::panic::catch_unwind(|| schema.child(0).format().to_owned());
    assert!(result.is_err());

    let array = FFI_ArrowArray::new(&Int32Array::from(vec![1]).to_data());
    assert!(array.child_opt(0).is_none());
    assert!(std::panic::catch_unwind(|| array.child(0).len()).is_err());
    assert_eq!(array.buffer_opt(2), None);
    assert!(std::panic::catch_unwind(|| array.buffer(2)).is_err());
    assert_eq!(Some(array.buffer(1)), array.buffer_opt(1));
    // arrow-rs reads the same pointer.
    let data = Int32Array::from(vec![7, 8]).to_data();
    let ours = FFI_ArrowArray::new(&data);
    let theirs = arrow::ffi::FFI_ArrowArray::new(&data);
    assert_eq!(ours.buffer(1), theirs.buffer(1));
    assert_eq!(ours.buffer(1), data.buffers()[0].as_ptr());
}

#[test]
fn set_null_count_is_what_import_reads() {
    let data = Int32Array::from(vec![Some(1), None, Some(3)]).to_data();
    let mut array = FFI_ArrowArray::new(&data);
    assert_eq!(array.null_count_opt(), Some(1));
    // SAFETY: -1 ("not computed") is always allowed.
    unsafe { array.set_null_count(-1) };
    assert_eq!(array.null_count_opt(), None);
    let schema = FFI_ArrowSchema::try_from(&DataType::Int32).unwrap();
    // SAFETY: arrow-cabi checks both structs; `unsafe` is arrow-rs's signature.
    let imported = unsafe { arrow_cabi::ffi::from_ffi(array, &schema) }.unwrap();
    assert_eq!(imported.null_count(), 1, "a -1 null count is computed from the bitmap");
}

/// What a counting wrapper saves: the producer's release and private data, and the counter.
type Saved<T> = (Option<unsafe extern "C" fn(*mut T)>, *mut c_void, Arc<AtomicUsize>);

/// Writes `$wrap(owner, &count)`, which wraps the owner's release with `$callback`: it counts the
/// call, restores the producer's release and private data, and chains to them. The use
/// `set_release` / `set_private_data` exist for, on each of the three structs.
macro_rules! counting_wrapper {
    ($wrap:ident, $callback:ident, $owner:ty) => {
        unsafe extern "C" fn $callback(raw: *mut $owner) {
            // SAFETY: `raw` is a struct `$wrap` wrapped, released once.
            let raw = unsafe { &mut *raw };
            // SAFETY: its private data is the `Box<Saved>` `$wrap` leaked, reclaimed once.
            let saved = unsafe { Box::from_raw(raw.private_data().cast::<Saved<$owner>>()) };
            let (release, private_data, count) = *saved;
            count.fetch_add(1, Ordering::SeqCst);
            // SAFETY: restoring the producer's own pair.
            unsafe {
                raw.set_private_data(private_data);
                raw.set_release(release);
            }
            if let Some(release) = raw.release() {
                // SAFETY: the producer's release, called once.
                unsafe { release(raw) };
            }
        }

        fn $wrap(mut raw: $owner, count: &Arc<AtomicUsize>) -> $owner {
            let saved = Box::new((raw.release(), raw.private_data(), count.clone()));
            // SAFETY: the new release restores the saved pair before chaining to it.
            unsafe {
                raw.set_release(Some($callback));
                raw.set_private_data(Box::into_raw(saved).cast());
            }
            raw
        }
    };
}

counting_wrapper!(counting, counting_schema_release, FFI_ArrowSchema);
counting_wrapper!(counting_array, counting_array_release, FFI_ArrowArray);
counting_wrapper!(counting_stream, counting_stream_release, FFI_ArrowArrayStream);

#[test]
fn release_can_be_wrapped_on_arrays_and_streams() {
    let data = Int32Array::from(vec![1, 2, 3]).to_data();
    let count = Arc::new(AtomicUsize::new(0));
    let array = counting_array(FFI_ArrowArray::new(&data), &count);
    let schema = FFI_ArrowSchema::try_from(&DataType::Int32).unwrap();
    // SAFETY: as above.
    let imported = unsafe { arrow_cabi::ffi::from_ffi(array, &schema) }.unwrap();
    assert_eq!(imported, data);
    assert_eq!(count.load(Ordering::SeqCst), 0, "the import holds the array until its buffers drop");
    drop(imported);
    assert_eq!(count.load(Ordering::SeqCst), 1);

    let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Int32, false)]));
    let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(Int32Array::from(vec![4, 5]))]).unwrap();
    let batch_data = batch.column(0).to_data();
    let count = Arc::new(AtomicUsize::new(0));
    let stream = counting_stream(
        FFI_ArrowArrayStream::new(Box::new(RecordBatchIterator::new(vec![Ok(batch)], schema))),
        &count,
    );
    // The wrapper owns `private_data` now, which the stream's other callbacks read: only release it.
    assert_eq!(count.load(Ordering::SeqCst), 0);
    drop(stream);
    assert_eq!(count.load(Ordering::SeqCst), 1, "dropping the stream ran the wrapper, then the producer's release, once");
    assert_eq!(batch_data.buffers()[0].strong_count(), 1, "the producer's release freed the batch it held");
}
