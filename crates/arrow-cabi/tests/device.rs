//! The C Device Data Interface: generated round trips of every Arrow type as CPU device arrays and
//! device streams, compared with the plain-struct path and crossed with arrow-rs's `ffi` (whose
//! exports are wrapped the way pyarrow sends device arrays: device_id 0, `reserved` not zeroed, a
//! sync_event); malformed device structs with their errors and release counts; the tree API for
//! device memory.
//!
//! The number of cases follows `PROPTEST_CASES` (256 by default); set it low under Miri.
#![allow(missing_docs)]

mod common;

use std::ffi::{c_char, c_int, c_void, CStr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use arrow_array::{make_array, Array, ArrayRef, Int32Array, RecordBatch, RecordBatchIterator, RecordBatchReader, StringArray, StructArray};
use arrow_cabi::device::{
    export_device_array, export_device_batch, export_device_batches, import_device_array, import_device_array_as,
    import_device_batch_from, ArrowDeviceArrayStreamReader, ArrowDeviceType, DeviceArrayTree, DeviceBuffer,
    FFI_ArrowDeviceArray, FFI_ArrowDeviceArrayStream,
};
use arrow_cabi::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use arrow_cabi::ffi_stream::{export_batches, FFI_ArrowArrayStream, RecordBatchStreamReader};
use arrow_cabi::{Nullability, Validation};
use arrow_cabi_sys::{ArrowArray, ArrowDeviceArray};
use arrow_data::ArrayData;
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};
use common::arrays::{any_field_and_array, record_batch};
use common::counting::count_releases;
use proptest::prelude::*;

const LEVELS: [Validation; 3] = [Validation::Minimal, Validation::Default, Validation::Full];

/// The buffer pointers of an exported array tree (children and dictionary too), in walk order.
fn buffer_pointers(array: &FFI_ArrowArray, out: &mut Vec<Option<*const u8>>) {
    for index in 0..array.num_buffers() {
        out.push(array.buffer_opt(index));
    }
    for index in 0..array.num_children() {
        buffer_pointers(array.child_opt(index).expect("an exported child"), out);
    }
    if let Some(dictionary) = array.dictionary() {
        buffer_pointers(dictionary, out);
    }
}

fn pointers(array: &FFI_ArrowArray) -> Vec<Option<*const u8>> {
    let mut out = Vec::new();
    buffer_pointers(array, &mut out);
    out
}

/// What our CPU export writes beside the array: device_type 1, device_id -1, no event, zeroes.
fn assert_cpu_fields(array: &FFI_ArrowDeviceArray) {
    let raw = array.as_sys();
    assert_eq!(raw.device_type, 1);
    assert_eq!(raw.device_id, -1);
    assert!(raw.sync_event.is_null());
    assert_eq!(raw.reserved, [0; 3]);
}

/// A producer's array as pyarrow hands a CPU device array over: device_id 0, `reserved` holding
/// whatever was in memory, and (as some producers do) a sync_event the CPU need not wait on.
fn as_pyarrow_would_send(array: ArrowArray, sync_event: *mut c_void) -> FFI_ArrowDeviceArray {
    let raw = ArrowDeviceArray { array, device_id: 0, device_type: 1, sync_event, reserved: [0x5eed, -1, 0x7fff_ffff] };
    // SAFETY: `array` is a valid CPU export moved in; the other fields are what a CPU producer may send.
    unsafe { FFI_ArrowDeviceArray::from_sys(raw) }
}

/// Moves arrow-rs's exported array into a plain raw struct, leaving arrow-rs's released.
fn arrow_rs_array(mut array: arrow::ffi::FFI_ArrowArray) -> ArrowArray {
    // SAFETY: layout-identical structs; `from_raw` leaves arrow-rs's released.
    unsafe { FFI_ArrowArray::from_raw((&mut array as *mut arrow::ffi::FFI_ArrowArray).cast()) }.into_sys()
}

/// A device array whose embedded array was `array`, on `device_type`.
fn on_device(array: FFI_ArrowArray, device_type: ArrowDeviceType) -> FFI_ArrowDeviceArray {
    // SAFETY: the buffers are host memory; declaring them as another device's only makes the safe
    // import refuse them, which is what these tests check, and the tree API never reads them.
    unsafe { FFI_ArrowDeviceArray::new(array, device_type, 0, std::ptr::null_mut()) }
}

/// Wraps the embedded array's release in a counting one.
fn count(array: &mut FFI_ArrowDeviceArray) -> Arc<std::sync::atomic::AtomicUsize> {
    // SAFETY: `as_mut_ptr` points at the owned, unreleased device array.
    count_releases(unsafe { &mut (*array.as_mut_ptr()).array })
}

proptest! {
    #![proptest_config(ProptestConfig {
        failure_persistence: if cfg!(miri) { None } else { ProptestConfig::default().failure_persistence },
        ..ProptestConfig::default()
    })]

    /// Our device export, our device import, at every level: the array back, and the same buffers
    /// as the plain export points at (zero-copy, the plain path's pointers).
    #[test]
    fn device_array_round_trip_matches_the_plain_path((field, array) in any_field_and_array()) {
        for validation in LEVELS {
            let (device, schema) = export_device_array(&array, &field).unwrap();
            assert_cpu_fields(&device);
            let (plain, _) = arrow_cabi::export_array(&array, &field).unwrap();
            // Zero-copy: the same buffer addresses as the plain export, but where every export
            // makes its own copy (a validity bitmap that must be shifted to line up), which a
            // second plain export shows.
            let (again, _) = arrow_cabi::export_array(&array, &field).unwrap();
            let (got, want, copies) = (pointers(device.array()), pointers(&plain), pointers(&again));
            prop_assert_eq!(got.len(), want.len());
            for (index, ((got, want), copy)) in got.iter().zip(&want).zip(&copies).enumerate() {
                prop_assert!(got == want || want != copy, "buffer {} was copied: {:?} vs {:?}", index, got, want);
            }
            drop(again);
            let (imported_field, imported) = import_device_array(device, &schema, validation).unwrap();
            let (_, plain_imported) = arrow_cabi::import_array(plain, &schema, validation).unwrap();
            prop_assert_eq!(&imported_field, &field);
            prop_assert_eq!(imported.as_ref(), array.as_ref());
            prop_assert_eq!(imported.to_data(), plain_imported.to_data());
        }
    }

    /// arrow-rs's export, sent as pyarrow sends a CPU device array, into our device import; and our
    /// device export's array into arrow-rs's import.
    #[test]
    fn device_arrays_cross_with_arrow_rs((field, array) in any_field_and_array()) {
        let data = array.to_data();
        let mut event = 0u64;
        for sync_event in [std::ptr::null_mut(), (&mut event as *mut u64).cast()] {
            let theirs = arrow_rs_array(arrow::ffi::FFI_ArrowArray::new(&data));
            let device = as_pyarrow_would_send(theirs, sync_event);
            let imported = import_device_array_as(device, field.data_type(), Validation::Full).unwrap();
            prop_assert_eq!(imported.as_ref(), array.as_ref());
        }
        // The arrow-rs names: to_device_ffi / from_device_ffi.
        let (device, schema) = arrow_cabi::ffi::to_device_ffi(&data).unwrap();
        assert_cpu_fields(&device);
        let embedded = device.into_host_array().unwrap();
        let mut embedded = std::mem::ManuallyDrop::new(embedded);
        // SAFETY: layout-identical structs; ours is left released and never dropped.
        let theirs = unsafe { arrow::ffi::FFI_ArrowArray::from_raw(embedded.as_mut_ptr().cast()) };
        let their_schema = arrow::ffi::FFI_ArrowSchema::try_from(field.data_type()).unwrap();
        // SAFETY: a valid export of this crate.
        let back = make_array(unsafe { arrow::ffi::from_ffi(theirs, &their_schema) }.unwrap());
        prop_assert_eq!(back.as_ref(), array.as_ref());
        drop(schema);
        let (device, schema) = arrow_cabi::ffi::to_device_ffi(&data).unwrap();
        // SAFETY: the arrow-rs signature only; both structs are ours and valid.
        let back = make_array(unsafe { arrow_cabi::ffi::from_device_ffi(device, &schema) }.unwrap());
        prop_assert_eq!(back.as_ref(), array.as_ref());
    }

    /// Record batches through the device pair and through the device stream, compared with the plain
    /// stream and crossed with arrow-rs's stream export and import.
    #[test]
    fn device_streams_round_trip_and_cross_with_arrow_rs(batch in record_batch()) {
        let schema = batch.schema();
        // The device pair of one batch.
        let (device, ffi_schema) = export_device_batch(&batch).unwrap();
        assert_cpu_fields(&device);
        let imported = import_device_batch_from(device, &ffi_schema, Validation::Full, Nullability::Enforce).unwrap();
        prop_assert_eq!(&imported, &batch);

        // Ours into ours, zero-copy beside the plain reader.
        let stream = export_device_batches(schema.clone(), vec![Ok(batch.clone()), Ok(batch.clone())]);
        prop_assert_eq!(stream.device_type(), ArrowDeviceType::CPU);
        let reader = ArrowDeviceArrayStreamReader::try_new(stream).unwrap();
        prop_assert_eq!(reader.schema(), schema.clone());
        let batches = reader.collect::<Result<Vec<_>, _>>().unwrap();
        let plain = RecordBatchStreamReader::try_new(export_batches(schema.clone(), vec![Ok(batch.clone())])).unwrap();
        let plain = plain.collect::<Result<Vec<_>, _>>().unwrap();
        prop_assert_eq!(&batches, &vec![batch.clone(), batch.clone()]);
        prop_assert_eq!(&batches[0], &plain[0]);
        for (got, want) in batches[0].columns().iter().zip(batch.columns()) {
            let (got, want) = (got.to_data(), want.to_data());
            prop_assert_eq!(got.buffers().first().map(|b| b.as_ptr()), want.buffers().first().map(|b| b.as_ptr()));
        }

        // Our device stream, as a plain stream, into arrow-rs's reader.
        let stream = export_device_batches(schema.clone(), vec![Ok(batch.clone())]).into_host_stream().unwrap();
        let mut stream = std::mem::ManuallyDrop::new(stream);
        // SAFETY: layout-identical structs; ours is left released and never dropped.
        let theirs = unsafe { arrow::ffi_stream::RecordBatchStreamReader::from_raw(stream.as_mut_ptr().cast()) }.unwrap();
        let theirs = theirs.collect::<Result<Vec<_>, _>>().unwrap();
        prop_assert_eq!(&theirs, &vec![batch.clone()]);

        // arrow-rs's plain stream export, as a device stream, into our device reader.
        let reader = RecordBatchIterator::new(vec![Ok(batch.clone())], schema.clone());
        let mut theirs = arrow::ffi_stream::FFI_ArrowArrayStream::new(Box::new(reader));
        // SAFETY: layout-identical structs; `from_raw` leaves arrow-rs's released.
        let plain = unsafe { FFI_ArrowArrayStream::from_raw((&mut theirs as *mut arrow::ffi_stream::FFI_ArrowArrayStream).cast()) };
        let reader = ArrowDeviceArrayStreamReader::try_new(FFI_ArrowDeviceArrayStream::from_host_stream(plain)).unwrap();
        prop_assert_eq!(reader.collect::<Result<Vec<_>, _>>().unwrap(), vec![batch]);
    }
}

fn int_struct() -> (Field, ArrayRef) {
    let strings: ArrayRef = Arc::new(StringArray::from(vec![Some("a"), None, Some("ccc")]));
    let ints: ArrayRef = Arc::new(Int32Array::from(vec![1, 2, 3]));
    let array: ArrayRef = Arc::new(StructArray::try_from(vec![("i", ints), ("s", strings)]).unwrap());
    (Field::new("t", array.data_type().clone(), true), array)
}

#[test]
fn a_released_device_array_is_refused_at_its_array() {
    let (field, _) = int_struct();
    let error = import_device_array_as(FFI_ArrowDeviceArray::empty(), field.data_type(), Validation::Default).unwrap_err();
    assert_eq!(error.to_string(), "device_array.array: the array is released (its release callback is NULL)");
}

#[test]
fn the_plain_importer_s_errors_name_paths_inside_the_device_array() {
    let (field, array) = int_struct();
    let (mut device, _schema) = export_device_array(&array, &field).unwrap();
    let releases = count(&mut device);
    // SAFETY: the export is ours and unreleased; child 1 (the strings) is made to declare one buffer
    // fewer than utf8 has, which the importer must refuse before reading any buffer.
    unsafe { (**(*device.as_mut_ptr()).array.children.add(1)).n_buffers = 2 };
    let error = import_device_array_as(device, field.data_type(), Validation::Default).unwrap_err();
    assert!(error.to_string().starts_with("device_array.array.children[1].n_buffers"), "{error}");
    assert_eq!(releases.load(Ordering::SeqCst), 1);
}

#[test]
fn a_non_cpu_device_array_is_refused_by_name_and_released_once() {
    let (field, array) = int_struct();
    for (device_type, name) in [
        (ArrowDeviceType::CUDA, "CUDA (2)"),
        (ArrowDeviceType::CUDA_HOST, "CUDA_HOST (3)"),
        (ArrowDeviceType::CUDA_MANAGED, "CUDA_MANAGED (13)"),
        (ArrowDeviceType::METAL, "METAL (8)"),
        (ArrowDeviceType::new(99), "unknown device type 99"),
        (ArrowDeviceType::new(0), "unknown device type 0"),
    ] {
        let mut device = on_device(FFI_ArrowArray::from_array(array.clone()), device_type);
        let releases = count(&mut device);
        let error = import_device_array_as(device, field.data_type(), Validation::Default).unwrap_err();
        let text = error.to_string();
        assert!(text.starts_with("device_array.device_type: the buffers are in "), "{text}");
        assert!(text.contains(name), "{text}");
        assert_eq!(releases.load(Ordering::SeqCst), 1, "{name}");
        assert!(matches!(error, arrow_cabi::Error::Unsupported(_)));
        // arrow-rs's name refuses it the same way.
        let mut device = on_device(FFI_ArrowArray::from_array(array.clone()), device_type);
        let releases = count(&mut device);
        let schema = FFI_ArrowSchema::try_from(&field).unwrap();
        // SAFETY: arrow-rs's signature only.
        let error = unsafe { arrow_cabi::ffi::from_device_ffi(device, &schema) }.unwrap_err();
        assert!(error.to_string().contains(name), "{error}");
        assert_eq!(releases.load(Ordering::SeqCst), 1);
    }
}

#[test]
fn host_accessible_device_memory_needs_the_caller_s_word_that_it_synchronised() {
    let (field, array) = int_struct();
    for device_type in [ArrowDeviceType::CUDA_HOST, ArrowDeviceType::CUDA_MANAGED, ArrowDeviceType::ROCM_HOST] {
        let device = on_device(FFI_ArrowArray::from_array(array.clone()), device_type);
        assert!(device.into_host_array().is_err());
        let mut device = on_device(FFI_ArrowArray::from_array(array.clone()), device_type);
        let releases = count(&mut device);
        // SAFETY: the buffers are host memory that nothing writes: synchronised by construction.
        let host = unsafe { device.into_host_array_synchronised() }.unwrap();
        let imported = arrow_cabi::array::import_array_as(host, field.data_type(), Validation::Full).unwrap();
        assert_eq!(imported.as_ref(), array.as_ref());
        assert_eq!(releases.load(Ordering::SeqCst), 0, "released only when the last buffer goes");
        drop(imported);
        assert_eq!(releases.load(Ordering::SeqCst), 1);
    }
    // Device memory proper stays refused even with the caller's word.
    let mut device = on_device(FFI_ArrowArray::from_array(array), ArrowDeviceType::CUDA);
    let releases = count(&mut device);
    // SAFETY: as above; the call refuses CUDA whatever the caller says.
    let error = unsafe { device.into_host_array_synchronised() }.unwrap_err();
    assert!(error.to_string().contains("CUDA (2) memory, which this process cannot read even after synchronisation"), "{error}");
    assert_eq!(releases.load(Ordering::SeqCst), 1);
}

#[test]
fn the_tree_describes_device_buffers_without_reading_them_and_releases_once() {
    let strings = StringArray::from(vec![Some("a"), None, Some("ccc"), Some("dd")]).slice(1, 3);
    let array: ArrayRef = Arc::new(strings);
    let source = FFI_ArrowArray::from_array(array.clone());
    let expected: Vec<usize> = (0..3).map(|i| source.buffer_opt(i).unwrap() as usize).collect();
    let mut event = 7u64;
    // SAFETY: as `on_device`; the event is a stand-in the tree must carry, never read.
    let mut device = unsafe { FFI_ArrowDeviceArray::new(source, ArrowDeviceType::CUDA, 3, (&mut event as *mut u64).cast()) };
    let releases = count(&mut device);
    let tree = DeviceArrayTree::new(device, &DataType::Utf8).unwrap();
    assert_eq!(tree.device_type(), ArrowDeviceType::CUDA);
    assert_eq!(tree.device_id(), 3);
    assert_eq!(tree.sync_event(), (&mut event as *mut u64).cast::<c_void>());
    let root = tree.root();
    let offset = tree.array().array().offset();
    assert_eq!((root.length, root.offset, root.null_count), (3, offset, Some(1)));
    // Validity: offset + 3 bits in whole bytes; offsets: offset + 4 int32; values: the last
    // offset's, which is on the device.
    assert_eq!(
        root.buffers,
        vec![
            DeviceBuffer { address: expected[0], size: Some((offset + 3).div_ceil(8)) },
            DeviceBuffer { address: expected[1], size: Some((offset + 4) * 4) },
            DeviceBuffer { address: expected[2], size: None },
        ]
    );
    assert_eq!(releases.load(Ordering::SeqCst), 0);
    let inner = tree.into_inner();
    assert_eq!(releases.load(Ordering::SeqCst), 0, "into_inner hands the release on");
    drop(inner);
    assert_eq!(releases.load(Ordering::SeqCst), 1);
}

#[test]
fn the_tree_sizes_nested_and_view_buffers() {
    use arrow_array::{BinaryViewArray, DictionaryArray, ListArray};
    use arrow_array::types::{Int16Type, Int32Type};
    let list: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Int32Type, _, _>(vec![Some(vec![Some(1), None]), None, Some(vec![])]));
    let views: ArrayRef = Arc::new(BinaryViewArray::from_iter_values([b"short".as_slice(), b"a value longer than twelve bytes", b"another long value, on the heap"]));
    let dictionary: ArrayRef = Arc::new(DictionaryArray::<Int16Type>::from_iter(["x", "y", "x"]));
    let sizes = |array: &ArrayRef| {
        let device = on_device(FFI_ArrowArray::from_array(array.clone()), ArrowDeviceType::ROCM);
        let tree = DeviceArrayTree::new(device, array.data_type()).unwrap();
        let node = tree.root().clone();
        node
    };
    let list = sizes(&list);
    assert_eq!(list.buffers.iter().map(|b| b.size).collect::<Vec<_>>(), [Some(1), Some(16)]);
    assert_eq!(list.children[0].buffers.iter().map(|b| b.size).collect::<Vec<_>>(), [Some(1), Some(8)]);
    let views = sizes(&views);
    let variadic = views.buffers.len() - 3;
    assert!(variadic >= 1);
    let mut want = vec![Some(1), Some(48)];
    want.extend(std::iter::repeat_n(None, variadic));
    want.push(Some(variadic * 8));
    assert_eq!(views.buffers.iter().map(|b| b.size).collect::<Vec<_>>(), want);
    // A view node's count is capped as the plain importer caps it, before its pointers are read.
    let mut device = on_device(FFI_ArrowArray::from_array(Arc::new(BinaryViewArray::from_iter_values([b"x".as_slice()]))), ArrowDeviceType::CUDA);
    // SAFETY: the owned, unreleased device array; only the count is changed.
    unsafe { (*device.as_mut_ptr()).array.n_buffers = i64::MAX };
    let error = DeviceArrayTree::new(device, &DataType::BinaryView).unwrap_err();
    assert_eq!(error.to_string(), "device_array.array.n_buffers: is 9223372036854775807; BinaryView has at most 2147483647");
    let dictionary = sizes(&dictionary);
    assert_eq!(dictionary.buffers.iter().map(|b| b.size).collect::<Vec<_>>(), [Some(1), Some(6)]);
    let values = dictionary.dictionary.expect("the values");
    assert_eq!(values.buffers.iter().map(|b| b.size).collect::<Vec<_>>(), [Some(1), Some(12), None]);
}

/// What a corrupting test changed, kept to be put back before the producer's release runs: the
/// exporter's release finds the nodes to free through the child pointers and counts, so a consumer
/// that corrupted them (as these tests do, playing a faulty producer) would make it leak.
struct Pristine {
    parent: ArrowArray,
    children: Vec<(*mut ArrowArray, ArrowArray)>,
    count: Arc<std::sync::atomic::AtomicUsize>,
}

/// Snapshots `raw` (a struct export of ours) and its children, and installs a release that puts
/// them back, counts, and runs the original release.
fn restore_before_release(raw: &mut ArrowArray) -> Arc<std::sync::atomic::AtomicUsize> {
    let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    // SAFETY: bitwise snapshots of our own unreleased export; they are only ever written back, never
    // released themselves. The children array holds `n_children` valid pointers.
    let pristine = unsafe {
        let children = (0..raw.n_children as usize)
            .map(|index| {
                let child = *raw.children.add(index);
                (child, std::ptr::read(child))
            })
            .collect();
        Pristine { parent: std::ptr::read(raw), children, count: count.clone() }
    };
    raw.private_data = Box::into_raw(Box::new(pristine)).cast();
    raw.release = Some(restoring_release);
    count
}

unsafe extern "C" fn restoring_release(array: *mut ArrowArray) {
    // SAFETY: `array` is the struct `restore_before_release` set up; its private data is the leaked
    // box, reclaimed once here; writing the snapshots back restores our export as it was made.
    unsafe {
        let pristine = Box::from_raw((*array).private_data.cast::<Pristine>());
        let Pristine { parent, children, count } = *pristine;
        std::ptr::write(array, parent);
        for (index, (pointer, child)) in children.into_iter().enumerate() {
            *(*array).children.add(index) = pointer;
            std::ptr::write(pointer, child);
        }
        count.fetch_add(1, Ordering::SeqCst);
        ((*array).release.expect("the export's release"))(array);
    }
}

#[test]
fn the_tree_refuses_malformed_nodes_by_path_and_releases_once() {
    let (field, array) = int_struct();
    type Corrupt = fn(&mut ArrowArray);
    // Each case changes only counts and pointers of our own unreleased export.
    let cases: [(Corrupt, &str); 6] = [
        (
            // SAFETY: the struct has two children.
            |raw| unsafe { *raw.children.add(0) = std::ptr::null_mut() },
            "device_array.array.children[0]: NULL child pointer",
        ),
        (|raw| raw.n_children = 1, "device_array.array.n_children: is 1; Struct"),
        (
            // SAFETY: the struct has two children, each a valid array.
            |raw| unsafe { (**raw.children.add(1)).length = -4 },
            "device_array.array.children[1].length: is negative (-4)",
        ),
        (
            // SAFETY: as above.
            |raw| unsafe { (**raw.children.add(1)).n_buffers = 2 },
            "device_array.array.children[1].n_buffers: is 2; Utf8 has 3",
        ),
        // Counts no allocation can hold are refused before any pointer array is read (found by
        // the device_import fuzz target: the tree made a slice of i64::MAX pointers).
        (|raw| raw.n_children = i64::MAX, "device_array.array.n_children: is 9223372036854775807; Struct"),
        (
            // SAFETY: as above.
            |raw| unsafe { (**raw.children.add(1)).n_buffers = i64::MAX },
            "device_array.array.children[1].n_buffers: is 9223372036854775807; Utf8 has 3",
        ),
    ];
    for (corrupt, message) in cases {
        let mut device = on_device(FFI_ArrowArray::from_array(array.clone()), ArrowDeviceType::CUDA);
        // SAFETY: the owned, unreleased device array.
        let raw = unsafe { &mut (*device.as_mut_ptr()).array };
        let releases = restore_before_release(raw);
        corrupt(raw);
        let error = DeviceArrayTree::new(device, field.data_type()).unwrap_err();
        assert!(error.to_string().starts_with(message), "{error} / {message}");
        assert_eq!(releases.load(Ordering::SeqCst), 1, "{message}");
    }
    let error = DeviceArrayTree::new(FFI_ArrowDeviceArray::empty(), field.data_type()).unwrap_err();
    assert_eq!(error.to_string(), "device_array.array: the array is released (its release callback is NULL)");
}

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![Field::new("i", DataType::Int32, false)]))
}

fn batch(start: i32) -> RecordBatch {
    RecordBatch::try_new(schema(), vec![Arc::new(Int32Array::from(vec![start, start + 1]))]).unwrap()
}

#[test]
fn malformed_device_streams_are_refused_by_path() {
    let error = ArrowDeviceArrayStreamReader::try_new(FFI_ArrowDeviceArrayStream::empty()).unwrap_err();
    assert!(error.to_string().contains("device_stream: the stream is released"), "{error}");

    let mut stream = export_device_batches(schema(), vec![Ok(batch(0))]);
    // SAFETY: only a callback is removed; release stays ours.
    unsafe { (*stream.as_mut_ptr()).get_next = None };
    let error = ArrowDeviceArrayStreamReader::try_new(stream).unwrap_err();
    assert!(error.to_string().contains("device_stream.get_next: NULL callback"), "{error}");

    let mut stream = export_device_batches(schema(), vec![Ok(batch(0))]);
    // SAFETY: the declared device type is changed; the reader must refuse the stream before reading.
    unsafe { (*stream.as_mut_ptr()).device_type = ArrowDeviceType::CUDA.value() };
    let error = ArrowDeviceArrayStreamReader::try_new(stream).unwrap_err();
    assert!(error.to_string().contains("device_stream.device_type: the stream's arrays are in CUDA (2) memory"), "{error}");
}

/// A device stream that forwards to an inner one, declaring its own device type and letting `tamper`
/// change each array it hands over (by its index), with each array's release and the stream's own
/// release counted.
struct Tampering {
    inner: FFI_ArrowDeviceArrayStream,
    handed: usize,
    tamper: fn(usize, &mut ArrowDeviceArray),
    releases: Vec<Arc<AtomicUsize>>,
    released: Arc<AtomicUsize>,
}

unsafe fn tampering<'a>(stream: *mut FFI_ArrowDeviceArrayStream) -> &'a mut Tampering {
    // SAFETY: the stream was made by `tampered`, whose private data is a `Tampering`.
    unsafe { &mut *(*stream).private_data().cast::<Tampering>() }
}

unsafe extern "C" fn tampering_get_schema(stream: *mut FFI_ArrowDeviceArrayStream, out: *mut FFI_ArrowSchema) -> c_int {
    // SAFETY: as `tampering`; the inner stream is ours and unreleased.
    unsafe {
        let state = tampering(stream);
        (state.inner.as_sys().get_schema.unwrap())(state.inner.as_mut_ptr(), out.cast())
    }
}

unsafe extern "C" fn tampering_get_next(stream: *mut FFI_ArrowDeviceArrayStream, out: *mut FFI_ArrowDeviceArray) -> c_int {
    // SAFETY: as `tampering_get_schema`; `out` is writable.
    unsafe {
        let state = tampering(stream);
        let code = (state.inner.as_sys().get_next.unwrap())(state.inner.as_mut_ptr(), out.cast());
        if code == 0 && !(*out).is_released() {
            state.releases.push(count(&mut *out));
            (state.tamper)(state.handed, &mut *(*out).as_mut_ptr());
            state.handed += 1;
        }
        code
    }
}

unsafe extern "C" fn tampering_get_last_error(stream: *mut FFI_ArrowDeviceArrayStream) -> *const c_char {
    // SAFETY: as `tampering_get_schema`.
    unsafe {
        let state = tampering(stream);
        (state.inner.as_sys().get_last_error.unwrap())(state.inner.as_mut_ptr())
    }
}

unsafe extern "C" fn tampering_release(stream: *mut FFI_ArrowDeviceArrayStream) {
    // SAFETY: the private data is the box made in `tampered`; reclaimed once, then the struct is
    // marked released.
    unsafe {
        let state = Box::from_raw((*stream).private_data().cast::<Tampering>());
        state.released.fetch_add(1, Ordering::SeqCst);
        drop(state);
        (*stream).set_release(None);
    }
}

/// `inner` behind [`Tampering`], declaring `declared`. Returns the stream, its state (alive until
/// the stream is released) and the count of the stream's releases.
fn tampered(
    inner: FFI_ArrowDeviceArrayStream,
    declared: ArrowDeviceType,
    tamper: fn(usize, &mut ArrowDeviceArray),
) -> (FFI_ArrowDeviceArrayStream, *mut Tampering, Arc<AtomicUsize>) {
    let released = Arc::new(AtomicUsize::new(0));
    let state = Box::into_raw(Box::new(Tampering { inner, handed: 0, tamper, releases: Vec::new(), released: released.clone() }));
    // SAFETY: the callbacks above follow the interface over the boxed state, which release frees;
    // what `tamper` changes is each test's business.
    let stream = unsafe {
        FFI_ArrowDeviceArrayStream::new_unchecked(
            declared,
            tampering_get_schema,
            tampering_get_next,
            tampering_get_last_error,
            tampering_release,
            state.cast(),
        )
    };
    (stream, state, released)
}

/// How often the `index`th array handed by the tampering stream was released.
///
/// # Safety
/// The stream is alive (its state too), and no callback runs meanwhile.
unsafe fn released(state: *mut Tampering, index: usize) -> usize {
    // SAFETY: per the caller; the state is borrowed only for the load.
    unsafe { (&(*state).releases)[index].load(Ordering::SeqCst) }
}

#[test]
fn an_array_of_another_device_type_mid_stream_is_an_error_naming_it_and_is_released() {
    let inner = export_device_batches(schema(), vec![Ok(batch(0)), Ok(batch(2)), Ok(batch(4))]);
    let (stream, state, _) = tampered(inner, ArrowDeviceType::CPU, |index, array| {
        if index == 1 {
            array.device_type = ArrowDeviceType::CUDA.value();
        }
    });
    let mut reader = ArrowDeviceArrayStreamReader::try_new(stream).unwrap();
    let first = reader.next().unwrap().unwrap();
    assert_eq!(first, batch(0));
    let error = reader.next().unwrap().unwrap_err().to_string();
    assert!(error.contains("device_array.device_type: the stream declared CPU (1), but get_next handed an array in CUDA (2) memory"), "{error}");
    // SAFETY: the reader holds the stream; no callback runs meanwhile.
    let released = |index| unsafe { released(state, index) };
    assert_eq!(released(1), 1, "the refused array is released");
    assert_eq!(released(0), 0, "the first batch is still alive");
    drop(first);
    assert_eq!(released(0), 1);
    // The stream goes on: the third batch.
    assert_eq!(reader.next().unwrap().unwrap(), batch(4));
    assert!(reader.next().is_none());
}

/// Corrupts our export of `batch(..)`: its one column declares one buffer fewer than Int32 has.
fn one_buffer_short(array: &mut ArrowArray) {
    // SAFETY: our export of a one-column batch: the struct has one valid child, and the importer
    // must refuse the count before reading any buffer.
    unsafe { (**array.children.add(0)).n_buffers = 1 };
}

#[test]
fn errors_inside_a_device_stream_s_batches_name_paths_from_device_array_as_the_single_import_does() {
    let want = "device_array.array.children[0].n_buffers: 1, but Int32 needs 2";
    // The single device array import of the corrupted batch.
    let (mut single, ffi_schema) = export_device_batch(&batch(0)).unwrap();
    // SAFETY: the owned, unreleased device array.
    one_buffer_short(unsafe { &mut (*single.as_mut_ptr()).array });
    let error = import_device_batch_from(single, &ffi_schema, Validation::Default, Nullability::Enforce).unwrap_err().to_string();
    assert_eq!(error, want);
    // The same corruption in a device stream's first batch.
    let inner = export_device_batches(schema(), vec![Ok(batch(0)), Ok(batch(2))]);
    let (stream, state, stream_releases) = tampered(inner, ArrowDeviceType::CPU, |index, array| {
        if index == 0 {
            one_buffer_short(&mut array.array);
        }
    });
    let mut reader = ArrowDeviceArrayStreamReader::try_new(stream).unwrap();
    let error = reader.next().unwrap().unwrap_err().to_string();
    assert!(error.ends_with(want), "{error}");
    assert!(!error.contains(" array.children"), "no path from the plain reader's root: {error}");
    // SAFETY: the reader holds the stream; no callback runs meanwhile.
    assert_eq!(unsafe { released(state, 0) }, 1, "the refused batch is released");
    assert_eq!(reader.next().unwrap().unwrap(), batch(2));
    assert!(reader.next().is_none());
    drop(reader);
    assert_eq!(stream_releases.load(Ordering::SeqCst), 1);
}

/// Stand-ins for the events a CUDA producer would point `sync_event` at: never dereferenced.
static EVENTS: [u8; 3] = [0; 3];

fn event(index: usize) -> *mut c_void {
    EVENTS[index..].as_ptr().cast_mut().cast()
}

/// Relabels each array of a CPU export as CUDA_HOST memory (which host memory is, to a process that
/// reads it after synchronising), with device_id 0 and its own stand-in event.
fn as_cuda_host(index: usize, array: &mut ArrowDeviceArray) {
    array.device_type = ArrowDeviceType::CUDA_HOST.value();
    array.device_id = 0;
    array.sync_event = event(index);
}

/// arrow-rs's plain stream export of batch(0), batch(2), batch(4), as a device stream.
fn arrow_rs_device_stream() -> FFI_ArrowDeviceArrayStream {
    let reader = RecordBatchIterator::new(vec![Ok(batch(0)), Ok(batch(2)), Ok(batch(4))], schema());
    let mut theirs = arrow::ffi_stream::FFI_ArrowArrayStream::new(Box::new(reader));
    // SAFETY: layout-identical structs; `from_raw` leaves arrow-rs's released.
    let plain = unsafe { FFI_ArrowArrayStream::from_raw((&mut theirs as *mut arrow::ffi_stream::FFI_ArrowArrayStream).cast()) };
    FFI_ArrowDeviceArrayStream::from_host_stream(plain)
}

/// What a synchronisation callback saw of one array: device type, device id, event, length.
type Seen = Arc<Mutex<Vec<(ArrowDeviceType, i64, usize, usize)>>>;

/// A synchronisation that records each array and fails for the `fail`th.
fn recording(fail: Option<usize>) -> (Seen, impl FnMut(&FFI_ArrowDeviceArray) -> Result<(), ArrowError> + Send + 'static) {
    let seen: Seen = Arc::default();
    let log = seen.clone();
    let synchronise = move |array: &FFI_ArrowDeviceArray| {
        let mut log = log.lock().unwrap();
        let index = log.len();
        log.push((array.device_type(), array.device_id(), array.sync_event() as usize, array.array().len()));
        match fail {
            Some(fail) if fail == index => Err(ArrowError::ComputeError(format!("cudaEventSynchronize failed on event {index}"))),
            _ => Ok(()),
        }
    };
    (seen, synchronise)
}

#[test]
fn a_cuda_host_stream_is_read_only_with_the_caller_s_synchronisation_of_each_array() {
    // The safe reader refuses it by name, and releases it once.
    let (stream, _, stream_releases) = tampered(arrow_rs_device_stream(), ArrowDeviceType::CUDA_HOST, as_cuda_host);
    let error = ArrowDeviceArrayStreamReader::try_new(stream).unwrap_err().to_string();
    assert!(error.contains("device_stream.device_type: the stream's arrays are in CUDA_HOST (3) memory, which this process cannot read"), "{error}");
    assert_eq!(stream_releases.load(Ordering::SeqCst), 1);

    // With a synchronisation, each array goes to it once, in order, before it is read; a failed
    // synchronisation is that batch's error (the array released) and the stream goes on.
    let (stream, state, stream_releases) = tampered(arrow_rs_device_stream(), ArrowDeviceType::CUDA_HOST, as_cuda_host);
    let (seen, synchronise) = recording(Some(1));
    // SAFETY: the buffers are host memory that nothing on a device writes.
    let mut reader = unsafe { ArrowDeviceArrayStreamReader::with_synchronisation(stream, Validation::Full, Nullability::Enforce, synchronise) }.unwrap();
    assert_eq!(reader.device_type(), ArrowDeviceType::CUDA_HOST);
    assert_eq!(reader.schema(), schema());
    assert!(seen.lock().unwrap().is_empty(), "nothing synchronised before the first batch is asked for");
    let first = reader.next().unwrap().unwrap();
    assert_eq!(first, batch(0));
    assert_eq!(seen.lock().unwrap().len(), 1);
    let error = reader.next().unwrap().unwrap_err().to_string();
    assert!(error.contains("cudaEventSynchronize failed on event 1"), "{error}");
    // SAFETY: the reader holds the stream; no callback runs meanwhile.
    assert_eq!(unsafe { released(state, 1) }, 1, "the array whose synchronisation failed is released");
    assert_eq!(reader.next().unwrap().unwrap(), batch(4));
    assert!(reader.next().is_none());
    let want: Vec<_> = (0..3).map(|index| (ArrowDeviceType::CUDA_HOST, 0, event(index) as usize, 2)).collect();
    assert_eq!(*seen.lock().unwrap(), want);
    // SAFETY: as above.
    assert_eq!(unsafe { released(state, 0) }, 0, "the first batch is still alive");
    drop(first);
    // SAFETY: as above.
    assert_eq!(unsafe { released(state, 0) }, 1);
    drop(reader);
    assert_eq!(stream_releases.load(Ordering::SeqCst), 1);
}

#[test]
fn synchronisation_does_not_open_device_memory_proper_nor_a_mismatched_array() {
    // A CUDA stream stays refused, by name, and is released.
    let (stream, _, stream_releases) = tampered(arrow_rs_device_stream(), ArrowDeviceType::CUDA, |_, _| {});
    let (seen, synchronise) = recording(None);
    // SAFETY: the call refuses the stream before any array is read.
    let error = unsafe { ArrowDeviceArrayStreamReader::with_synchronisation(stream, Validation::Default, Nullability::Enforce, synchronise) }
        .unwrap_err()
        .to_string();
    assert!(error.contains("device_stream.device_type: the stream's arrays are in CUDA (2) memory, which this process cannot read even after synchronisation"), "{error}");
    assert_eq!(stream_releases.load(Ordering::SeqCst), 1);
    assert!(seen.lock().unwrap().is_empty());

    // A CUDA_HOST stream that hands a CUDA array: that batch's error, never synchronised.
    let (stream, state, _) = tampered(arrow_rs_device_stream(), ArrowDeviceType::CUDA_HOST, |index, array| {
        as_cuda_host(index, array);
        if index == 1 {
            array.device_type = ArrowDeviceType::CUDA.value();
        }
    });
    let (seen, synchronise) = recording(None);
    // SAFETY: as in the test above.
    let mut reader = unsafe { ArrowDeviceArrayStreamReader::with_synchronisation(stream, Validation::Default, Nullability::Enforce, synchronise) }.unwrap();
    assert_eq!(reader.next().unwrap().unwrap(), batch(0));
    let error = reader.next().unwrap().unwrap_err().to_string();
    assert!(error.contains("device_array.device_type: the stream declared CUDA_HOST (3), but get_next handed an array in CUDA (2) memory"), "{error}");
    // SAFETY: the reader holds the stream; no callback runs meanwhile.
    assert_eq!(unsafe { released(state, 1) }, 1);
    assert_eq!(reader.next().unwrap().unwrap(), batch(4));
    assert_eq!(seen.lock().unwrap().iter().map(|seen| seen.2).collect::<Vec<_>>(), [event(0) as usize, event(2) as usize]);

    // A CPU stream under `with_synchronisation` is read as `try_new` reads it: nothing to wait on.
    let (seen, synchronise) = recording(None);
    let stream = export_device_batches(schema(), vec![Ok(batch(0))]);
    // SAFETY: CPU memory; the callback is never called.
    let reader = unsafe { ArrowDeviceArrayStreamReader::with_synchronisation(stream, Validation::Default, Nullability::Enforce, synchronise) }.unwrap();
    assert_eq!(reader.device_type(), ArrowDeviceType::CPU);
    assert_eq!(reader.collect::<Result<Vec<_>, _>>().unwrap(), vec![batch(0)]);
    assert!(seen.lock().unwrap().is_empty());
}

#[test]
fn a_synchronised_cuda_host_stream_converts_to_a_plain_stream_that_arrow_rs_reads() {
    let (stream, _, stream_releases) = tampered(arrow_rs_device_stream(), ArrowDeviceType::CUDA_HOST, as_cuda_host);
    let error = stream.into_host_stream().unwrap_err().to_string();
    assert!(error.contains("device_stream.device_type: the stream's arrays are in CUDA_HOST (3) memory"), "{error}");
    assert_eq!(stream_releases.load(Ordering::SeqCst), 1);

    let (stream, _, stream_releases) = tampered(arrow_rs_device_stream(), ArrowDeviceType::CUDA_HOST, as_cuda_host);
    let (seen, synchronise) = recording(None);
    // SAFETY: the buffers are host memory that nothing on a device writes.
    let plain = unsafe { stream.into_host_stream_synchronised(synchronise) }.unwrap();
    let mut plain = std::mem::ManuallyDrop::new(plain);
    // SAFETY: layout-identical structs; ours is left released and never dropped.
    let theirs = unsafe { arrow::ffi_stream::RecordBatchStreamReader::from_raw(plain.as_mut_ptr().cast()) }.unwrap();
    assert_eq!(theirs.collect::<Result<Vec<_>, _>>().unwrap(), vec![batch(0), batch(2), batch(4)]);
    assert_eq!(seen.lock().unwrap().len(), 3);
    assert_eq!(stream_releases.load(Ordering::SeqCst), 1, "arrow-rs's reader released the plain stream, which released ours");
}

/// arrow-rs's plain stream of batch(0) then a failure, moved into our owned struct.
fn arrow_rs_failing_stream() -> FFI_ArrowArrayStream {
    let failing = vec![Ok(batch(0)), Err(ArrowError::ComputeError("broke at batch 1".into()))];
    let mut theirs = arrow::ffi_stream::FFI_ArrowArrayStream::new(Box::new(RecordBatchIterator::new(failing, schema())));
    // SAFETY: layout-identical structs; `from_raw` leaves arrow-rs's released.
    unsafe { FFI_ArrowArrayStream::from_raw((&mut theirs as *mut arrow::ffi_stream::FFI_ArrowArrayStream).cast()) }
}

/// Calls `get_next` once: the code, the array, and the `get_last_error` message after a failure.
fn next_of(stream: &mut FFI_ArrowArrayStream) -> (c_int, FFI_ArrowArray, Option<String>) {
    let mut array = FFI_ArrowArray::empty();
    // SAFETY: an unreleased stream; `array` is writable; the message is copied before the next call.
    unsafe {
        let code = (stream.as_sys().get_next.unwrap())(stream.as_mut_ptr(), array.as_mut_ptr());
        let message = (code != 0).then(|| CStr::from_ptr((stream.as_sys().get_last_error.unwrap())(stream.as_mut_ptr())).to_str().unwrap().to_owned());
        (code, array, message)
    }
}

#[test]
fn conversions_keep_errors_and_end_of_stream() {
    // What arrow-rs's stream itself answers for the failure: code and message.
    let mut direct = arrow_rs_failing_stream();
    assert_eq!(next_of(&mut direct).0, 0);
    let (want_code, _, want_message) = next_of(&mut direct);
    assert_ne!(want_code, 0);
    assert!(want_message.as_deref().unwrap().contains("broke at batch 1"), "{want_message:?}");

    // The same stream through both conversions answers the same, unchanged.
    let device = FFI_ArrowDeviceArrayStream::from_host_stream(arrow_rs_failing_stream());
    let mut plain = device.into_host_stream().unwrap();
    let (code, array, _) = next_of(&mut plain);
    assert_eq!((code, array.is_released()), (0, false));
    let (code, _, message) = next_of(&mut plain);
    assert_eq!((code, message), (want_code, want_message));
    for _ in 0..3 {
        let (code, array, _) = next_of(&mut plain);
        assert_eq!((code, array.is_released()), (0, true), "end of stream, again and again");
    }
    // A released plain stream gives a released device stream, as does one without get_next.
    assert!(FFI_ArrowDeviceArrayStream::from_host_stream(FFI_ArrowArrayStream::empty()).is_released());
    let mut broken = export_batches(schema(), vec![Ok(batch(0))]);
    // SAFETY: only a callback is removed; release stays ours.
    unsafe { (*broken.as_mut_ptr()).get_next = None };
    assert!(FFI_ArrowDeviceArrayStream::from_host_stream(broken).is_released());
}

#[test]
fn the_device_type_is_cpu_on_every_exported_device_array() {
    let mut stream = FFI_ArrowDeviceArrayStream::new(Box::new(RecordBatchIterator::new(vec![Ok(batch(0))], schema())));
    let mut out = FFI_ArrowDeviceArray::empty();
    // SAFETY: our stream, unreleased; `out` is writable.
    let code = unsafe { (stream.as_sys().get_next.unwrap())(stream.as_mut_ptr(), out.as_mut_ptr()) };
    assert_eq!(code, 0);
    assert_cpu_fields(&out);
    let data: ArrayData = import_device_array_as(out, &DataType::Struct(schema().fields().clone()), Validation::Full).unwrap().to_data();
    assert_eq!(data.len(), 2);
}
