//! Regression tests for what the fuzz targets of `fuzz/` found: each input rebuilt as a description
//! (the fuzz crate's own `desc`, built by its `producer`, which allocates exactly what a node claims
//! and counts every release), imported, and checked against the spec or arrow-rs, with every node
//! released exactly once.
#![allow(missing_docs, dead_code)]

#[path = "../../../fuzz/src/desc.rs"]
mod desc;
#[path = "../../../fuzz/src/input.rs"]
mod input;
#[path = "../../../fuzz/src/producer.rs"]
mod producer;
#[path = "../../../fuzz/src/sizes.rs"]
mod sizes;
#[path = "../../../fuzz/src/stream.rs"]
mod stream;

use arrow_cabi::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use arrow_cabi::ffi_stream::{FFI_ArrowArrayStream, RecordBatchStreamReader};
use arrow_cabi::{import_array, Validation};
use arrow_schema::{DataType, Field, Fields, Schema};
use desc::{ArrayDesc, BufferDesc, Count, SchemaDesc};
use producer::Producer;
use stream::{Player, Script, Step, END, SELF_RELEASE};

/// An unreleased array node with exact counts.
fn node(length: i64, buffers: Vec<BufferDesc>, children: Vec<ArrayDesc>) -> ArrayDesc {
    ArrayDesc {
        length,
        null_count: 0,
        offset: 0,
        released: false,
        buffers_count: Count::Exact,
        children_count: Count::Exact,
        buffers,
        children,
        dictionary: None,
    }
}

/// An unreleased schema node named `f` with exact counts.
fn field(format: &str, children: Vec<SchemaDesc>) -> SchemaDesc {
    SchemaDesc {
        format: format.as_bytes().to_vec(),
        name: Some(b"f".to_vec()),
        metadata: None,
        flags: 2,
        released: false,
        children_count: Count::Exact,
        children,
        dictionary: None,
    }
}

/// The array `desc` describes, as an owned struct of `producer`'s.
fn array(producer: &Producer, desc: &ArrayDesc) -> FFI_ArrowArray {
    // SAFETY: the producer's structs follow the C Data Interface in all an importer cannot check.
    unsafe { FFI_ArrowArray::from_sys(producer.array(desc)) }
}

/// The schema `desc` describes, as an owned struct of `producer`'s.
fn schema(producer: &Producer, desc: &SchemaDesc) -> FFI_ArrowSchema {
    // SAFETY: as `array`.
    unsafe { FFI_ArrowSchema::from_sys(producer.schema(desc)) }
}

/// What arrow-rs's own import and `validate_full` say of the array `desc` describes, as `data_type`.
fn arrow_rs_verdict(desc: &ArrayDesc, data_type: &DataType) -> Result<(), String> {
    let producer = Producer::new();
    let mut raw = producer.array(desc);
    let schema = arrow::ffi::FFI_ArrowSchema::try_from(data_type).unwrap();
    // SAFETY: arrow-rs's struct has abi.h's layout; `raw` is moved out. The buffers are as long as
    // arrow-rs reads (a bitmap of 1 byte for 3 or 8 slots, 4-byte values).
    let array = unsafe { arrow::ffi::FFI_ArrowArray::from_raw((&mut raw as *mut arrow_cabi_sys::ArrowArray).cast()) };
    // SAFETY: as above.
    let data = unsafe { arrow::ffi::from_ffi(array, &schema) }.map_err(|e| e.to_string())?;
    let verdict = data.validate_full().map_err(|e| e.to_string());
    drop(data);
    producer.check_releases();
    verdict
}

/// Found by `differential`: Full recounted the nulls and silently replaced a producer's null count
/// that disagrees with the validity bitmap, where arrow-rs's `validate_full` refuses it (and
/// Full promises what `validate_full` checks). An empty struct of 3 slots, all valid, claiming 3
/// nulls; an int32 array of 8 slots, one null, claiming 2. (A count of 0 still means no nulls,
/// whatever the bitmap: arrow-rs and Arrow C++ import it so; see the next test.)
#[test]
fn full_refuses_a_null_count_the_bitmap_contradicts() {
    let cases = [
        (DataType::Struct(Fields::empty()), ArrayDesc { null_count: 3, ..node(3, vec![BufferDesc::Aligned(vec![0xFF])], vec![]) }, "3, but the validity bitmap holds 0 nulls"),
        (DataType::Int32, ArrayDesc { null_count: 2, ..node(8, vec![BufferDesc::Aligned(vec![0xFE]), BufferDesc::Aligned(vec![0; 32])], vec![]) }, "2, but the validity bitmap holds 1 nulls"),
    ];
    for (data_type, desc, expected) in cases {
        let arrow_rs = arrow_rs_verdict(&desc, &data_type).expect_err("arrow-rs's validate_full refuses the count");
        assert!(arrow_rs.contains("doesn't match actual number of nulls"), "{arrow_rs}");
        let producer = Producer::new();
        let field = FFI_ArrowSchema::try_from(&Field::new("f", data_type.clone(), true)).unwrap();
        let error = import_array(array(&producer, &desc), &field, Validation::Full).expect_err("Full refuses the count").to_string();
        assert_eq!(error, format!("array.null_count: {expected}"), "{data_type}");
        // Below Full the count is trusted (documented: O(1) levels do not read the bitmap).
        let (_, imported) = import_array(array(&producer, &desc), &field, Validation::Default).expect("Default trusts the count");
        assert_eq!(imported.null_count(), desc.null_count as usize);
        drop(imported);
        producer.check_releases();
    }
}

/// A null count of 0 beside a bitmap of nulls: no nulls at every level, as arrow-rs imports it (its
/// builder drops the bitmap of a node whose count is 0); the differential target holds the two to it.
#[test]
fn a_null_count_of_zero_means_no_nulls() {
    let desc = node(8, vec![BufferDesc::Aligned(vec![0x00]), BufferDesc::Aligned((0..8).flat_map(|i: i32| i.to_le_bytes()).collect())], vec![]);
    arrow_rs_verdict(&desc, &DataType::Int32).expect("arrow-rs accepts");
    let producer = Producer::new();
    let field = FFI_ArrowSchema::try_from(&Field::new("f", DataType::Int32, true)).unwrap();
    let (_, imported) = import_array(array(&producer, &desc), &field, Validation::Full).expect("Full accepts");
    assert_eq!(imported.null_count(), 0);
    assert_eq!(imported.as_ref(), &arrow_array::Int32Array::from((0..8).collect::<Vec<_>>()) as &dyn arrow_array::Array);
    drop(imported);
    producer.check_releases();
}

/// Found by `stream_import`, as heap-buffer-overflows in `schema/import.rs`'s `children` under
/// AddressSanitizer: an `i` claiming 3 children with none allocated (the pointer array NULL), read
/// before the count was checked against the format (fixed by ecad24c); and, after that fix, a struct
/// (whose format allows any count) claiming `i64::MAX` children over one allocated, read past the
/// one. Each is refused at `n_children`, the struct's count as more than any schema may have.
#[test]
fn schema_children_are_counted_before_they_are_read() {
    let huge = SchemaDesc { children_count: Count::Huge, ..field("+s", vec![field("i", vec![])]) };
    let short = SchemaDesc { children_count: Count::Short, ..field("i", vec![field("i", vec![]), field("i", vec![]), field("i", vec![])]) };
    let cases = [
        (huge, "schema.n_children: 9223372036854775807 children, more than the 2147483647 a schema may have"),
        (short, "schema.n_children: 3 children, but this format needs 0"),
    ];
    for (desc, expected) in cases {
        let producer = Producer::new();
        let schema = schema(&producer, &desc);
        let error = Field::try_from(&schema).expect_err("a count the format does not allow").to_string();
        assert_eq!(error, format!("C Data interface error: {expected}"));
        drop(schema);
        producer.check_releases();
    }
}

/// Found by `stream_import` (callbacks on a released stream, before 805f7d0): a stream that
/// releases itself inside its second `get_next` was called again (`get_next` and `get_last_error`,
/// four times each). Now the reader yields the first batch, then an error, and calls nothing more.
#[test]
fn a_stream_released_inside_get_next_is_not_called_again() {
    let schema = FFI_ArrowSchema::try_from(&Schema::new(vec![Field::new("n", DataType::Null, true)])).unwrap();
    // SAFETY: an export follows the C Data Interface.
    let schema_desc = unsafe { SchemaDesc::from_raw(schema.as_sys()) };
    let batch = ArrayDesc { null_count: 0, ..node(4, vec![BufferDesc::Null], vec![ArrayDesc { null_count: 4, ..node(4, vec![], vec![]) }]) };
    let step = |flags| Step { code: 0, flags, message: None, value: Some(batch.clone()) };
    let script = Script {
        schema: Step { code: 0, flags: 0, message: None, value: Some(schema_desc) },
        batches: vec![step(0), step(SELF_RELEASE), Step { code: 0, flags: END, message: None, value: None }],
    };
    let player = Player::new(script);
    // SAFETY: the player outlives the reader.
    let stream = unsafe { FFI_ArrowArrayStream::from_sys(player.stream()) };
    let mut reader = RecordBatchStreamReader::with_validation(stream, Validation::Full).unwrap();
    assert_eq!(reader.next().unwrap().unwrap().num_rows(), 4);
    let error = reader.next().expect("an error").expect_err("the stream released itself").to_string();
    assert!(error.contains("release"), "{error}");
    for _ in 0..3 {
        let _ = reader.next();
    }
    drop(reader);
    assert_eq!(player.releases(), 1);
    assert!(player.after_release.borrow().is_empty(), "called after release: {:?}", player.after_release.borrow());
    player.producer.check_releases();
}
