//! Shapes and crossing operations shared by the criterion bench (`benches/crossing.rs`) and the
//! instruction-count binary (`examples/crossing_instructions.rs`), so both measure the same code.
//!
//! Every operation exists twice: once through arrow-cabi and once through arrow-rs's own `ffi`, with the
//! same input and the same amount of work around the crossing (building the reader, iterating, dropping).
#![allow(dead_code)]

use std::sync::Arc;

use arrow_array::builder::{Int64Builder, ListBuilder, MapBuilder, StringBuilder, StringDictionaryBuilder};
use arrow_array::types::Int32Type;
use arrow_array::{
    Array,
    ArrayRef, BooleanArray, Float64Array, Int32Array, Int64Array, RecordBatch, RecordBatchIterator, StringArray,
    StructArray,
};
use arrow_data::ArrayData;
use arrow_schema::{DataType, Schema, SchemaRef};

/// Batches in each exported stream; round-trip figures are per batch (the stream's cost / this).
pub const BATCHES_PER_STREAM: usize = 100;
/// Rows of S1, S2 and S3.
pub const ROWS: usize = 1024;
/// Rows of S4.
pub const ROWS_S4: usize = 1 << 20;

/// The four shapes of issue 6.
pub const SHAPES: [&str; 4] = ["s1", "s2", "s3", "s4"];

/// Puts the allocator in the state every process that has ever started a thread is in, before
/// anything is measured. glibc's malloc skips its arena locks until a second thread exists; criterion
/// starts threads for its analysis after the first benchmark, so without this the first benchmark
/// (S1, arrow-cabi) would run on cheaper allocations than every later one (arrow-cabi's S2 round trip
/// measured 1.39 ms per stream before any thread, 1.70 ms after; arrow-rs's 5.90 and 6.84 ms).
pub fn settle_allocator() {
    std::thread::spawn(|| {}).join().expect("an empty thread");
}

/// The batch of a shape by name (`s1`..`s4`), or of S2's column mix at another width (`cols-N`).
pub fn shape(name: &str) -> RecordBatch {
    match name {
        "s1" => int32_batch(ROWS),
        "s2" => mixed_batch(100, ROWS),
        "s3" => nested_batch(ROWS),
        "s4" => int32_batch(ROWS_S4),
        other => match other.strip_prefix("cols-").and_then(|n| n.parse().ok()) {
            Some(columns) => mixed_batch(columns, ROWS),
            None => panic!("unknown shape {other:?}: expected s1..s4 or cols-N"),
        },
    }
}

/// S1 and S4: one non-nullable Int32 column.
pub fn int32_batch(rows: usize) -> RecordBatch {
    let column = Int32Array::from_iter_values((0..rows).map(|i| i as i32));
    RecordBatch::try_from_iter([("c0", Arc::new(column) as ArrayRef)]).expect("valid batch")
}

/// S2's column mix: Int64, Float64, Utf8, nullable Int32, Boolean, cycled over `columns` columns.
pub fn mixed_batch(columns: usize, rows: usize) -> RecordBatch {
    let words = ["", "a", "arrow", "columnar", "crossing the C ABI", "zero-copy", "ß∂ƒ", "0123456789abcdef"];
    let columns = (0..columns).map(|c| {
        let column: ArrayRef = match c % 5 {
            0 => Arc::new(Int64Array::from_iter_values((0..rows).map(|i| (i * 31 + c) as i64))),
            1 => Arc::new(Float64Array::from_iter_values((0..rows).map(|i| i as f64 * 0.5 + c as f64))),
            2 => Arc::new(StringArray::from_iter_values((0..rows).map(|i| words[(i + c) % words.len()]))),
            3 => Arc::new(Int32Array::from_iter((0..rows).map(|i| ((i + c) % 7 != 0).then_some(i as i32)))),
            _ => Arc::new(BooleanArray::from_iter((0..rows).map(|i| Some((i + c) % 3 == 0)))),
        };
        (format!("c{c}"), column)
    });
    RecordBatch::try_from_iter(columns).expect("valid batch")
}

/// S3: one column Struct{List<Utf8>, Dictionary<Int32, Utf8>, Map<Utf8, Int64>}.
pub fn nested_batch(rows: usize) -> RecordBatch {
    let mut list = ListBuilder::new(StringBuilder::new());
    let mut dictionary = StringDictionaryBuilder::<Int32Type>::new();
    let mut map = MapBuilder::new(None, StringBuilder::new(), Int64Builder::new());
    for i in 0..rows {
        for j in 0..i % 4 {
            list.values().append_value(format!("item-{}", (i + j) % 50));
        }
        list.append(i % 11 != 0);
        if i % 13 == 0 {
            dictionary.append_null();
        } else {
            dictionary.append_value(format!("category-{}", i % 16));
        }
        for j in 0..i % 3 {
            map.keys().append_value(format!("key-{j}"));
            map.values().append_value((i * j) as i64);
        }
        map.append(true).expect("map entry");
    }
    let list: ArrayRef = Arc::new(list.finish());
    let dictionary: ArrayRef = Arc::new(dictionary.finish());
    let map: ArrayRef = Arc::new(map.finish());
    let nested = StructArray::try_from(vec![("list", list), ("dictionary", dictionary), ("map", map)])
        .expect("valid struct");
    RecordBatch::try_from_iter([("c0", Arc::new(nested) as ArrayRef)]).expect("valid batch")
}

/// A reader of `BATCHES_PER_STREAM` copies of `batch` (each copy is a clone of the columns' `Arc`s).
pub fn reader(batch: &RecordBatch) -> RecordBatchIterator<std::vec::IntoIter<Result<RecordBatch, arrow_schema::ArrowError>>> {
    let batches: Vec<_> = (0..BATCHES_PER_STREAM).map(|_| Ok(batch.clone())).collect();
    RecordBatchIterator::new(batches.into_iter(), batch.schema())
}

/// The batch as a single struct array, as both libraries export a record batch.
pub fn batch_data(batch: &RecordBatch) -> ArrayData {
    StructArray::from(batch.clone()).into_data()
}

// ---------------------------------------------------------------------------------------------------
// (a) stream round trip: export a reader of BATCHES_PER_STREAM batches, import, iterate, drop.

/// arrow-cabi: the number of rows read (so the work can't be optimized away).
pub fn roundtrip_ours(batch: &RecordBatch) -> usize {
    let stream = arrow_cabi::ffi_stream::FFI_ArrowArrayStream::new(Box::new(reader(batch)));
    let reader = arrow_cabi::ffi_stream::RecordBatchStreamReader::try_new(stream).expect("import stream");
    reader.map(|batch| batch.expect("import batch").num_rows()).sum()
}

/// arrow-cabi through the device stream: the reader exported as CPU device arrays
/// (`FFI_ArrowDeviceArrayStream::new`) and read back (`ArrowDeviceArrayStreamReader`).
pub fn roundtrip_ours_device(batch: &RecordBatch) -> usize {
    let stream = arrow_cabi::ffi_stream::FFI_ArrowDeviceArrayStream::new(Box::new(reader(batch)));
    let reader = arrow_cabi::ffi_stream::ArrowDeviceArrayStreamReader::try_new(stream).expect("import device stream");
    reader.map(|batch| batch.expect("import batch").num_rows()).sum()
}

/// As [`collect_ours`], through the device stream.
pub fn collect_ours_device(batch: &RecordBatch) -> Vec<RecordBatch> {
    let stream = arrow_cabi::ffi_stream::FFI_ArrowDeviceArrayStream::new(Box::new(reader(batch)));
    let reader = arrow_cabi::ffi_stream::ArrowDeviceArrayStreamReader::try_new(stream).expect("import device stream");
    reader.collect::<Result<_, _>>().expect("import batches")
}

/// arrow-cabi through the async device stream: the batches as a `futures::Stream` into
/// `export_async_device_stream`, driving an `AsyncDeviceStreamReader` of queue size `queue_size`,
/// both polled by `futures::executor::block_on` on this thread (no runtime, no thread hop).
pub fn roundtrip_ours_async(batch: &RecordBatch, queue_size: usize) -> usize {
    async_batches(batch, queue_size, |batch| batch.num_rows()).into_iter().sum()
}

/// As [`collect_ours`], through the async device stream.
pub fn collect_ours_async(batch: &RecordBatch, queue_size: usize) -> Vec<RecordBatch> {
    async_batches(batch, queue_size, |batch| batch)
}

/// Each batch of one async round trip, mapped by `each` as it arrives.
fn async_batches<T>(batch: &RecordBatch, queue_size: usize, each: impl FnMut(RecordBatch) -> T) -> Vec<T> {
    use futures::StreamExt;
    let owned = batch.clone();
    let batches = futures::stream::iter((0..BATCHES_PER_STREAM).map(move |_| Ok(owned.clone())));
    let mut reader = arrow_cabi::device::AsyncDeviceStreamReader::new(queue_size);
    // SAFETY: our own handler, which lives until the export releases it.
    let export = unsafe { arrow_cabi::device::export_async_device_stream(batch.schema(), batches, reader.handler()) };
    let read = reader.map(|batch| batch.expect("import batch")).map(each).collect::<Vec<_>>();
    let (end, read) = futures::executor::block_on(futures::future::join(export, read));
    end.expect("export");
    read
}

/// arrow-rs `ffi_stream`.
pub fn roundtrip_arrow_rs(batch: &RecordBatch) -> usize {
    let stream = arrow::ffi_stream::FFI_ArrowArrayStream::new(Box::new(reader(batch)));
    let reader = arrow::ffi_stream::RecordBatchStreamReader::try_new(stream).expect("import stream");
    reader.map(|batch| batch.expect("import batch").num_rows()).sum()
}

/// The batches of one round trip, kept (for the zero-copy check).
pub fn collect_ours(batch: &RecordBatch) -> Vec<RecordBatch> {
    let stream = arrow_cabi::ffi_stream::FFI_ArrowArrayStream::new(Box::new(reader(batch)));
    let reader = arrow_cabi::ffi_stream::RecordBatchStreamReader::try_new(stream).expect("import stream");
    reader.collect::<Result<_, _>>().expect("import batches")
}

/// As [`collect_ours`], through arrow-rs.
pub fn collect_arrow_rs(batch: &RecordBatch) -> Vec<RecordBatch> {
    let stream = arrow::ffi_stream::FFI_ArrowArrayStream::new(Box::new(reader(batch)));
    let reader = arrow::ffi_stream::RecordBatchStreamReader::try_new(stream).expect("import stream");
    reader.collect::<Result<_, _>>().expect("import batches")
}

/// Every buffer address of `data` and its descendants (values, offsets, validity, dictionary values).
fn addresses(data: &ArrayData, path: String, out: &mut Vec<(String, *const u8)>) {
    for (i, buffer) in data.buffers().iter().enumerate() {
        out.push((format!("{path}.buffers[{i}]"), buffer.as_ptr()));
    }
    if let Some(nulls) = data.nulls() {
        out.push((format!("{path}.validity"), nulls.buffer().as_ptr()));
    }
    for (i, child) in data.child_data().iter().enumerate() {
        addresses(child, format!("{path}.children[{i}]"), out);
    }
}

/// The buffer addresses of a batch's columns, by path (`column[c].children[i].buffers[j]`).
fn batch_addresses(batch: &RecordBatch) -> Vec<(String, *const u8)> {
    let mut out = Vec::new();
    for (c, column) in batch.columns().iter().enumerate() {
        addresses(&column.to_data(), format!("column[{c}]"), &mut out);
    }
    out
}

/// The buffer addresses of an array and its descendants, by path (`array.children[i].buffers[j]`).
fn array_addresses(data: &ArrayData) -> Vec<(String, *const u8)> {
    let mut out = Vec::new();
    addresses(data, "array".to_string(), &mut out);
    out
}

/// Checks that every buffer in `got` is the buffer at the same path in `expected` (same address) and
/// that no data buffer is missing: zero bytes of array data copied. A validity buffer the importer left
/// out (no nulls) is not a copy; any other difference is. Returns the number of buffers compared.
fn assert_same_buffers(what: &str, expected: &[(String, *const u8)], got: &[(String, *const u8)]) -> usize {
    for (path, address) in got {
        let original = expected.iter().find(|(p, _)| p == path);
        assert!(
            original.is_some_and(|(_, a)| a == address),
            "{what}: {path} at {address:?} is not the original buffer {original:?}: data was copied"
        );
    }
    let data_buffers = |list: &[(String, *const u8)]| list.iter().filter(|(p, _)| !p.ends_with("validity")).count();
    assert_eq!(data_buffers(got), data_buffers(expected), "{what}: buffer count");
    got.len()
}

/// Checks that every buffer of every imported batch of a stream round trip is the original's buffer
/// (see [`assert_same_buffers`]). Returns the number of buffers compared.
pub fn assert_zero_copy(library: &str, original: &RecordBatch, imported: &[RecordBatch]) -> usize {
    assert_eq!(imported.len(), BATCHES_PER_STREAM, "{library}: batches read");
    let expected = batch_addresses(original);
    imported
        .iter()
        .enumerate()
        .map(|(b, batch)| assert_same_buffers(&format!("{library}: batch {b}"), &expected, &batch_addresses(batch)))
        .sum()
}

/// As [`assert_zero_copy`], for one imported batch.
pub fn assert_zero_copy_batch(library: &str, original: &RecordBatch, imported: &RecordBatch) -> usize {
    assert_eq!(imported.schema(), original.schema(), "{library}: imported schema");
    assert_eq!(imported.num_rows(), original.num_rows(), "{library}: imported rows");
    assert_same_buffers(library, &batch_addresses(original), &batch_addresses(imported))
}

/// As [`assert_zero_copy`], for one imported array (compared with the original `ArrayData`).
pub fn assert_zero_copy_array(library: &str, original: &ArrayData, imported: &ArrayData) -> usize {
    assert_eq!(imported.data_type(), original.data_type(), "{library}: imported type");
    assert_eq!(imported.len(), original.len(), "{library}: imported length");
    assert_same_buffers(library, &array_addresses(original), &array_addresses(imported))
}

// ---------------------------------------------------------------------------------------------------
// (b) export alone: each library's way to export a record batch, then release. arrow-cabi exports the
// batch itself, as its stream exporter does; arrow-rs has only `RecordBatch -> StructArray ->
// ArrayData -> FFI_ArrowArray`, as its stream exporter does.

/// arrow-cabi export of one batch, released by the drop at the end.
pub fn export_ours(batch: &RecordBatch) -> arrow_cabi::ffi::FFI_ArrowArray {
    arrow_cabi::ffi::FFI_ArrowArray::from_batch(batch.clone())
}

/// arrow-rs export of one batch.
pub fn export_arrow_rs(batch: &RecordBatch) -> arrow::ffi::FFI_ArrowArray {
    arrow::ffi::FFI_ArrowArray::new(&batch_data(batch))
}

// ---------------------------------------------------------------------------------------------------
// (c) import alone: FFI_ArrowArray (fresh export of the same library) -> RecordBatch, schema known.

/// arrow-cabi import of one exported batch at `validation`, as its stream reader does it.
pub fn import_ours(
    array: arrow_cabi::ffi::FFI_ArrowArray,
    schema: &SchemaRef,
    validation: arrow_cabi::Validation,
) -> RecordBatch {
    arrow_cabi::array::import_batch(array, schema, validation).expect("import")
}

/// arrow-rs import of one exported batch, as its stream reader does it.
pub fn import_arrow_rs(array: arrow::ffi::FFI_ArrowArray, schema: &SchemaRef, data_type: &DataType) -> RecordBatch {
    // SAFETY: `array` is a fresh export by arrow-rs of valid data of type `data_type`.
    let data = unsafe { arrow::ffi::from_ffi_and_data_type(array, data_type.clone()) }.expect("import");
    let rows = data.len();
    let columns = StructArray::from(data).into_parts().1;
    let options = arrow_array::RecordBatchOptions::new().with_row_count(Some(rows));
    RecordBatch::try_new_with_options(schema.clone(), columns, &options).expect("batch")
}

// ---------------------------------------------------------------------------------------------------
// (d) schema import alone: FFI_ArrowSchema -> Schema.

/// arrow-cabi's exported schema of `schema`.
pub fn schema_export_ours(schema: &Schema) -> arrow_cabi::ffi::FFI_ArrowSchema {
    arrow_cabi::ffi::FFI_ArrowSchema::try_from(schema).expect("export schema")
}

/// arrow-rs's exported schema of `schema`.
pub fn schema_export_arrow_rs(schema: &Schema) -> arrow::ffi::FFI_ArrowSchema {
    arrow::ffi::FFI_ArrowSchema::try_from(schema).expect("export schema")
}

/// arrow-cabi schema import.
pub fn schema_import_ours(schema: &arrow_cabi::ffi::FFI_ArrowSchema) -> Schema {
    Schema::try_from(schema).expect("import schema")
}

/// arrow-rs schema import.
pub fn schema_import_arrow_rs(schema: &arrow::ffi::FFI_ArrowSchema) -> Schema {
    Schema::try_from(schema).expect("import schema")
}

// ---------------------------------------------------------------------------------------------------
// (e) full validation: arrow-rs's `ArrayData::validate_full` on the batch's data.

/// arrow-rs full validation of every column (and the struct) of the batch.
pub fn validate_full_arrow_rs(data: &ArrayData) {
    data.validate_full().expect("valid data");
}

// ---------------------------------------------------------------------------------------------------
// (f) the paths of issue 12 other than the stream, each a whole crossing: export, import, drop. Each is
// one function per library, so a change of the API measured is one line here.

/// Schema export + import through arrow-cabi: `FFI_ArrowSchema::try_from(&Schema)` then
/// `Schema::try_from(&ffi)`; the export is released here, the imported schema by the caller.
pub fn schema_roundtrip_ours(schema: &Schema) -> Schema {
    let exported = arrow_cabi::ffi::FFI_ArrowSchema::try_from(schema).expect("export schema");
    Schema::try_from(&exported).expect("import schema")
}

/// As [`schema_roundtrip_ours`], through arrow-rs's `arrow::ffi::FFI_ArrowSchema`.
pub fn schema_roundtrip_arrow_rs(schema: &Schema) -> Schema {
    let exported = arrow::ffi::FFI_ArrowSchema::try_from(schema).expect("export schema");
    Schema::try_from(&exported).expect("import schema")
}

/// One array with its schema under arrow-rs's names, through arrow-cabi: `to_ffi(&data)`, then
/// `make_array(from_ffi(array, &schema)?)`. `data` is the batch as a struct `ArrayData` ([`batch_data`]).
pub fn array_roundtrip_ours(data: &ArrayData) -> ArrayRef {
    let (array, schema) = arrow_cabi::ffi::to_ffi(data).expect("export");
    // SAFETY: `array` and `schema` are arrow-cabi's fresh export of `data`, unreleased and unaliased.
    arrow_array::make_array(unsafe { arrow_cabi::ffi::from_ffi(array, &schema) }.expect("import"))
}

/// As [`array_roundtrip_ours`], through arrow-rs's `arrow::ffi`.
pub fn array_roundtrip_arrow_rs(data: &ArrayData) -> ArrayRef {
    let (array, schema) = arrow::ffi::to_ffi(data).expect("export");
    // SAFETY: `array` and `schema` are arrow-rs's fresh export of `data`, unreleased and unaliased.
    arrow_array::make_array(unsafe { arrow::ffi::from_ffi(array, &schema) }.expect("import"))
}

/// One record batch with its schema through arrow-cabi's own typed API: `export_batch`, then
/// `import_batch_from` (the schema's import and plan, then the batch) at the default validation.
pub fn batch_roundtrip_ours(batch: &RecordBatch) -> RecordBatch {
    let (array, schema) = arrow_cabi::export_batch(batch).expect("export");
    arrow_cabi::import_batch_from(array, &schema, arrow_cabi::Validation::Default, arrow_cabi::Nullability::Enforce)
        .expect("import")
}

/// The same through arrow-rs, which has no batch API: the batch as a `StructArray`, `to_ffi`,
/// `from_ffi`, the `StructArray` (what `make_array` builds for a struct type, without its `Arc` and the
/// clone a downcast would need), `RecordBatch::from`.
pub fn batch_roundtrip_arrow_rs(batch: &RecordBatch) -> RecordBatch {
    let (array, schema) = arrow::ffi::to_ffi(&batch_data(batch)).expect("export");
    // SAFETY: `array` and `schema` are arrow-rs's fresh export of the batch, unreleased and unaliased.
    let data = unsafe { arrow::ffi::from_ffi(array, &schema) }.expect("import");
    RecordBatch::from(StructArray::from(data))
}

/// Checks each path of (f) through both libraries on `batch`: the schema comes back equal, and every
/// buffer of the imported array or batch is the original's (zero bytes copied). Returns a line saying
/// how many buffers were compared.
pub fn assert_paths_zero_copy(batch: &RecordBatch) -> String {
    let schema = batch.schema();
    assert_eq!(schema_roundtrip_ours(&schema), *schema, "arrow-cabi: schema round trip");
    assert_eq!(schema_roundtrip_arrow_rs(&schema), *schema, "arrow-rs: schema round trip");
    assert_eq!(schema_floor(&schema), *schema, "the schema floor builds the same schema");
    let data = batch_data(batch);
    assert_eq!(array_floor(&data).to_data(), data, "the array floor builds the same array");
    let array_ours = assert_zero_copy_array("arrow-cabi: array", &data, &array_roundtrip_ours(&data).to_data());
    let array_theirs = assert_zero_copy_array("arrow-rs: array", &data, &array_roundtrip_arrow_rs(&data).to_data());
    let batch_ours = assert_zero_copy_batch("arrow-cabi: batch", batch, &batch_roundtrip_ours(batch));
    let batch_theirs = assert_zero_copy_batch("arrow-rs: batch", batch, &batch_roundtrip_arrow_rs(batch));
    format!(
        "schemas equal; imported buffers at their original addresses: array {array_ours} (arrow-cabi), \
         {array_theirs} (arrow-rs); batch {batch_ours} (arrow-cabi), {batch_theirs} (arrow-rs)"
    )
}

// The floor of issue 12's paths: what any importer that returns arrow-rs's types must build, with
// nothing of the C interface (no format string parsed, no struct read, no check, no export). A
// crossing can cost no less than its floor plus its export; the floor is what arrow-rs's types cost
// to build and drop, whoever builds them. (The batch and stream paths build typed arrays, which a
// floor would have to build per type; only these two paths, whose output types are fixed by
// arrow-rs's names, have one here.)

/// The floor of a schema import: `schema`'s `Schema` built again from its parts, every `Field`,
/// name, metadata map and `Fields` list a fresh allocation, as an import makes them.
pub fn schema_floor(schema: &Schema) -> Schema {
    Schema::new_with_metadata(
        schema.fields().iter().map(|field| rebuild_field(field)).collect::<Vec<_>>(),
        schema.metadata().clone(),
    )
}

/// The floor of an array import under arrow-rs's names (`make_array(from_ffi(..))`): `data`'s type
/// built again as [`schema_floor`] builds fields, every buffer wrapped again over the same memory
/// (`Buffer::from_custom_allocation`, one shared owner, as an importer keeps the C struct alive),
/// every node's `ArrayData` assembled without checks, then `make_array`.
pub fn array_floor(data: &ArrayData) -> ArrayRef {
    let owner: Arc<dyn arrow_buffer::alloc::Allocation> = Arc::new(());
    arrow_array::make_array(rebuild_data(data, rebuild_type(data.data_type()), &owner))
}

fn rebuild_field(field: &arrow_schema::Field) -> arrow_schema::FieldRef {
    Arc::new(
        arrow_schema::Field::new(field.name().clone(), rebuild_type(field.data_type()), field.is_nullable())
            .with_metadata(field.metadata().clone()),
    )
}

fn rebuild_type(data_type: &DataType) -> DataType {
    match data_type {
        DataType::Struct(fields) => DataType::Struct(fields.iter().map(|field| rebuild_field(field)).collect()),
        DataType::List(field) => DataType::List(rebuild_field(field)),
        DataType::LargeList(field) => DataType::LargeList(rebuild_field(field)),
        DataType::FixedSizeList(field, size) => DataType::FixedSizeList(rebuild_field(field), *size),
        DataType::Map(field, sorted) => DataType::Map(rebuild_field(field), *sorted),
        DataType::Dictionary(key, value) => {
            DataType::Dictionary(Box::new(rebuild_type(key)), Box::new(rebuild_type(value)))
        }
        // The shapes measured have no other nested type; a leaf type owns no allocation.
        other => other.clone(),
    }
}

/// The types of a node's children (`ArrayData::child_data` order), cloned from the node's type as
/// an importer's are: a nested type's clone shares its fields.
fn child_types(data_type: &DataType) -> Vec<DataType> {
    match data_type {
        DataType::Struct(fields) => fields.iter().map(|field| field.data_type().clone()).collect(),
        DataType::List(field) | DataType::LargeList(field) | DataType::FixedSizeList(field, _) | DataType::Map(field, _) => {
            vec![field.data_type().clone()]
        }
        DataType::Dictionary(_, value) => vec![value.as_ref().clone()],
        _ => Vec::new(),
    }
}

fn rebuild_data(data: &ArrayData, data_type: DataType, owner: &Arc<dyn arrow_buffer::alloc::Allocation>) -> ArrayData {
    let wrap = |buffer: &arrow_buffer::Buffer| {
        let ptr = std::ptr::NonNull::new(buffer.as_ptr() as *mut u8).expect("a buffer's pointer is not NULL");
        // SAFETY: `ptr` points to `buffer.len()` bytes that `data` (borrowed by the caller for as long
        // as the result lives, in the benchmarks) keeps alive; `owner` stands for the importer's owner.
        unsafe { arrow_buffer::Buffer::from_custom_allocation(ptr, buffer.len(), Arc::clone(owner)) }
    };
    // The bitmap as the original holds it (in arrow-rs, a node's bitmap starts at the node's offset).
    let nulls = data.nulls().map(|nulls| wrap(nulls.buffer()));
    let buffers = data.buffers().iter().map(wrap).collect();
    let children =
        data.child_data().iter().zip(child_types(&data_type)).map(|(child, child_type)| rebuild_data(child, child_type, owner)).collect();
    // SAFETY: every part is the original's (valid `data`), wrapped again over the same memory.
    unsafe { ArrayData::new_unchecked(data_type, data.len(), Some(data.null_count()), nulls, data.offset(), buffers, children) }
}
