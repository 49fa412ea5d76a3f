//! The conformance checker (`arrow_cabi::check`) on well-behaved producers: arrow-cabi's own
//! exports and arrow-rs's `ffi`/`ffi_stream` exports (the independent peer) of generated batches of
//! every type are reported clean, with the batches and rows counted. Broken producers (written in C)
//! are the CLI's tests (`crates/arrow-cabi-cli/tests/check.rs`); here a few broken structs built
//! from a good export show that the same checks do fire in-process.
//!
//! The number of cases follows `PROPTEST_CASES` (256 by default).
#![allow(missing_docs)]

mod common;

use std::sync::Arc;

use arrow_array::{ArrayRef, Int32Array, RecordBatch, RecordBatchIterator, StringArray};
use arrow_cabi::check::{check_array, check_device_array, check_device_stream, check_stream, Collected, Finding, Options, Rule};
use arrow_cabi::device::{export_device_batch, export_device_batches, ArrowDeviceType, FFI_ArrowDeviceArray};
use arrow_cabi::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use arrow_cabi::ffi_stream::{export_batches, FFI_ArrowArrayStream};
use arrow_cabi::export_batch;
use common::arrays::record_batch;
use proptest::prelude::*;

/// arrow-rs's stream export of `batches`, moved into our owner (the same C struct).
fn arrow_rs_stream(batches: Vec<RecordBatch>, schema: arrow_schema::SchemaRef) -> FFI_ArrowArrayStream {
    let reader = RecordBatchIterator::new(batches.into_iter().map(Ok), schema);
    let mut theirs = arrow::ffi_stream::FFI_ArrowArrayStream::new(Box::new(reader));
    // SAFETY: arrow-rs's stream struct has the C layout ours has; `from_raw` moves it out.
    unsafe { FFI_ArrowArrayStream::from_raw((&mut theirs as *mut arrow::ffi_stream::FFI_ArrowArrayStream).cast()) }
}

fn rows(batches: &[RecordBatch]) -> u64 {
    batches.iter().map(|b| b.num_rows() as u64).sum()
}

proptest! {
    #[test]
    fn our_stream_exports_are_clean(batch in record_batch()) {
        let batches = vec![batch.clone(), batch.slice(0, batch.num_rows() / 2), batch.clone()];
        let mut findings: Vec<Finding> = Vec::new();
        let summary = check_stream(export_batches(batch.schema(), batches.clone().into_iter().map(Ok)), &mut findings);
        prop_assert!(findings.is_empty(), "{findings:#?}");
        prop_assert_eq!(summary.batches, 3);
        prop_assert_eq!(summary.rows, rows(&batches));
    }

    #[test]
    fn arrow_rs_stream_exports_are_clean(batch in record_batch()) {
        let batches = vec![batch.clone(), batch.clone()];
        let mut findings: Vec<Finding> = Vec::new();
        let summary = check_stream(arrow_rs_stream(batches.clone(), batch.schema()), &mut findings);
        prop_assert!(findings.is_empty(), "{findings:#?}");
        prop_assert_eq!(summary.batches, 2);
        prop_assert_eq!(summary.rows, rows(&batches));
    }

    #[test]
    fn array_exports_are_clean_ours_and_arrow_rs(batch in record_batch()) {
        let (array, schema) = export_batch(&batch).unwrap();
        let mut findings: Vec<Finding> = Vec::new();
        check_array(array, schema, &mut findings);
        prop_assert!(findings.is_empty(), "ours: {findings:#?}");

        let data = arrow_array::StructArray::from(batch.clone()).into();
        let (mut array, mut schema) = arrow::ffi::to_ffi(&data).unwrap();
        // SAFETY: arrow-rs's structs have the C layout ours have; `from_raw` moves them out.
        let (array, schema) = unsafe {
            (
                FFI_ArrowArray::from_raw((&mut array as *mut arrow::ffi::FFI_ArrowArray).cast()),
                FFI_ArrowSchema::from_raw((&mut schema as *mut arrow::ffi::FFI_ArrowSchema).cast()),
            )
        };
        let summary = check_array(array, schema, &mut findings);
        prop_assert!(findings.is_empty(), "arrow-rs: {findings:#?}");
        prop_assert_eq!(summary.rows, batch.num_rows() as u64);
    }

    // 68 s under Miri at 4 cases: the device code paths run there through the two small tests below.
    #[test]
    #[cfg_attr(miri, ignore)]
    fn our_device_exports_are_clean(batch in record_batch()) {
        let batches = vec![batch.clone(), batch.slice(0, batch.num_rows() / 2)];
        let mut seen = Collected::default();
        let stream = export_device_batches(batch.schema(), batches.clone().into_iter().map(Ok));
        let summary = check_device_stream(stream, &Options::default(), &mut seen);
        prop_assert!(seen.findings.is_empty() && seen.notes.is_empty(), "stream: {seen:#?}");
        prop_assert_eq!((summary.batches, summary.rows), (2, rows(&batches)));

        let (array, schema) = export_device_batch(&batch).unwrap();
        let summary = check_device_array(array, schema, &mut seen);
        prop_assert!(seen.findings.is_empty() && seen.notes.is_empty(), "array: {seen:#?}");
        prop_assert_eq!(summary.rows, batch.num_rows() as u64);
    }
}

#[test]
fn our_device_stream_of_two_columns_is_clean() {
    let batch = two_columns();
    let mut seen = Collected::default();
    let stream = export_device_batches(batch.schema(), vec![Ok(batch.clone()), Ok(batch)]);
    let summary = check_device_stream(stream, &Options::default().max_batches(Some(5)), &mut seen);
    assert!(seen.findings.is_empty() && seen.notes.is_empty(), "{seen:#?}");
    assert_eq!((summary.batches, summary.rows), (2, 6));
}

#[test]
fn device_fields_are_checked_and_another_devices_buffers_are_not_read() {
    let (array, schema) = export_device_batch(&two_columns()).unwrap();
    let mut raw = array.into_sys();
    // The spec's rules broken on a CPU array of our own export: an id below -1, a sync event on
    // a device without events, `reserved` not zeroed.
    static EVENT: u8 = 0;
    raw.device_id = -7;
    raw.sync_event = std::ptr::addr_of!(EVENT).cast_mut().cast();
    raw.reserved[2] = 1;
    // SAFETY: still our own export (the fields changed are not read by its release).
    let array = unsafe { FFI_ArrowDeviceArray::from_sys(raw) };
    let mut seen = Collected::default();
    check_device_array(array, schema, &mut seen);
    let found: Vec<(Rule, &str)> = rules(&seen.findings);
    let expected = [
        (Rule::DeviceId, "device_array.device_id"),
        (Rule::DeviceSyncEvent, "device_array.sync_event"),
        (Rule::DeviceReserved, "device_array.reserved"),
    ];
    assert_eq!(found, expected, "{seen:#?}");

    // Declared CUDA, with host buffers whose string column is not UTF-8: the buffers are not read,
    // so only a note says the data was not checked.
    let (array, schema) = export_batch(&two_columns()).unwrap();
    let raw = array.into_sys();
    static BAD: [u8; 4] = [0xff, 0xfe, 0xfd, 0];
    // SAFETY: our own export: the second child is the utf8 column with three buffers.
    unsafe { *(**raw.children.add(1)).buffers.add(2) = BAD.as_ptr().cast() };
    // SAFETY: our own export, its buffers described as device addresses (never read as such).
    let array = unsafe { FFI_ArrowDeviceArray::new(FFI_ArrowArray::from_sys(raw), ArrowDeviceType::CUDA, 0, std::ptr::null_mut()) };
    let mut seen = Collected::default();
    let summary = check_device_array(array, schema, &mut seen);
    assert!(seen.findings.is_empty(), "{seen:#?}");
    assert_eq!(summary.rows, 3);
    assert!(seen.notes[0].starts_with("device_array: the buffers are in CUDA (2) memory and are not read"), "{seen:#?}");
}

fn two_columns() -> RecordBatch {
    RecordBatch::try_from_iter([
        ("id", Arc::new(Int32Array::from(vec![1, 2, 3])) as ArrayRef),
        ("name", Arc::new(StringArray::from(vec!["a", "bc", "d"])) as ArrayRef),
    ])
    .unwrap()
}

fn rules(findings: &[Finding]) -> Vec<(Rule, &str)> {
    findings.iter().map(|f| (f.rule, f.path.as_str())).collect()
}

#[test]
fn a_corrupted_string_column_is_an_utf8_finding_at_its_path() {
    let batch = two_columns();
    let (array, schema) = export_batch(&batch).unwrap();
    let raw = array.into_sys();
    // Point the string column's values at bytes that are not UTF-8 (3 bytes, as its offsets need).
    static BAD: [u8; 4] = [0xff, 0xfe, 0xfd, 0];
    // SAFETY: our own export: the struct's second child is the utf8 column with three buffers, whose
    // pointer array the export owns; the static outlives the check.
    unsafe {
        let child = &mut **raw.children.add(1);
        *child.buffers.add(2) = BAD.as_ptr().cast();
    }
    // SAFETY: still a struct from our export, released by its own callback.
    let array = unsafe { FFI_ArrowArray::from_sys(raw) };
    let mut findings = Vec::new();
    check_array(array, schema, &mut findings);
    assert_eq!(rules(&findings), [(Rule::ArrayUtf8, "array.children[1]")], "{findings:#?}");
}

#[test]
fn a_stream_handed_over_released_is_a_finding() {
    let mut findings = Vec::new();
    check_stream(FFI_ArrowArrayStream::empty(), &mut findings);
    assert_eq!(rules(&findings), [(Rule::Released, "stream")]);
}

#[test]
fn a_stream_of_arrays_is_checked_as_arrays_of_its_type() {
    use arrow_cabi::ffi_stream::export_arrays;
    let field = Arc::new(arrow_schema::Field::new("s", arrow_schema::DataType::Utf8, true));
    let arrays: Vec<ArrayRef> = vec![Arc::new(StringArray::from(vec![Some("a"), None])), Arc::new(StringArray::from(vec!["bc"]))];
    let mut findings = Vec::new();
    let summary = check_stream(export_arrays(field, arrays.into_iter().map(Ok)), &mut findings);
    assert!(findings.is_empty(), "{findings:#?}");
    assert_eq!((summary.batches, summary.rows), (2, 3));
}
