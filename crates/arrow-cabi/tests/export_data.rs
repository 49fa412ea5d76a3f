//! `FFI_ArrowArray::new(&ArrayData)`, `from_data` and `to_ffi` (the arrow-rs entry points), with
//! arrow-rs's `ffi` as the consumer: every generated type, at zero and non-zero `ArrayData` offsets,
//! sliced, with nulls, and empty arrays made every way arrow-rs makes them (dangling buffers, some
//! misaligned). Each export is imported by arrow-rs equal to its source, points at the source's own
//! buffers, and is released exactly once, after which every buffer is back to its owners alone.
//!
//! The number of cases follows `PROPTEST_CASES` (256 by default); set it low under Miri.
#![allow(missing_docs)]

mod common;

use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use arrow_array::{make_array, Array, StringViewArray};
use arrow_buffer::{Buffer, ScalarBuffer};
use arrow_cabi::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use arrow_cabi_sys::ArrowArray;
use arrow_data::ArrayData;
use arrow_schema::DataType;
use common::arrays::{any_data, empty_data, misalign_empty_buffers};
use common::counting;
use proptest::prelude::*;

/// `array` moved into arrow-rs's struct, with its root's release wrapped in one that counts.
fn count_releases(array: FFI_ArrowArray) -> (arrow::ffi::FFI_ArrowArray, Arc<AtomicUsize>) {
    let mut raw = array.into_sys();
    let count = counting::count_releases(&mut raw);
    // SAFETY: arrow-rs's struct is `repr(C)` with abi.h's fields, as ours is; `from_raw` moves the
    // struct out and leaves `raw` released, and `raw` is a plain struct with no drop.
    let theirs = unsafe { arrow::ffi::FFI_ArrowArray::from_raw((&mut raw as *mut ArrowArray).cast()) };
    (theirs, count)
}

/// arrow-rs's import of `array` as `data_type` (with arrow-rs's own schema of it), checked in full.
fn arrow_rs_import(array: arrow::ffi::FFI_ArrowArray, data_type: &DataType) -> ArrayData {
    let schema = arrow::ffi::FFI_ArrowSchema::try_from(data_type).expect("arrow-rs exports the type");
    // SAFETY: `array` is a valid export of this crate, and `schema` arrow-rs's of its type.
    let imported = unsafe { arrow::ffi::from_ffi(array, &schema) }.expect("arrow-rs imports our export");
    imported.validate_full().expect("arrow-rs's import of our export is valid");
    imported
}

/// Whether arrow-rs's `ffi` imports its own export of `data` as valid data: not so for an empty utf8
/// or binary array whose one offset is not 0 (it takes the values buffer as empty, and builds data
/// that `validate_full` refuses, the offset being past the end of the values).
fn arrow_rs_round_trips(data: &ArrayData) -> bool {
    let (array, schema) = arrow::ffi::to_ffi(data).unwrap();
    // SAFETY: a valid export of arrow-rs.
    unsafe { arrow::ffi::from_ffi(array, &schema) }.is_ok_and(|data| data.validate_full().is_ok())
}

fn releases(count: &AtomicUsize) -> usize {
    count.load(Ordering::SeqCst)
}

// ---------------------------------------------------------------------------------------------------
// What the export points at.

/// The strong counts of every buffer and bitmap of `data` and its descendants.
fn strong_counts(data: &ArrayData) -> Vec<usize> {
    let mut counts: Vec<usize> = data.buffers().iter().map(Buffer::strong_count).collect();
    counts.extend(data.nulls().map(|nulls| nulls.buffer().strong_count()));
    counts.extend(data.child_data().iter().flat_map(strong_counts));
    counts
}

/// Checks the exported node `array` against `data`, and below it: the numbers arrow-rs's own export
/// writes, each of `data`'s buffers by address after the validity slot (which arrow-rs's layout says
/// is there), the validity bits of every element at its offset, and the children and dictionary.
fn assert_points_at(array: &FFI_ArrowArray, data: &ArrayData, path: &str) {
    let layout = arrow_data::layout(data.data_type());
    let validity = usize::from(layout.can_contain_null_mask);
    let variadic = usize::from(layout.variadic);
    assert_eq!(array.len(), data.len(), "{path}.length");
    assert_eq!(array.offset(), data.offset(), "{path}.offset");
    // As arrow-rs's export (and Arrow C++'s, and the IPC format) writes it: the null type's length.
    let null_count = if data.data_type() == &arrow_schema::DataType::Null { data.len() } else { data.null_count() };
    assert_eq!(array.null_count(), null_count, "{path}.null_count");
    assert_eq!(array.num_buffers(), validity + data.buffers().len() + variadic, "{path}.n_buffers");
    for (index, buffer) in data.buffers().iter().enumerate() {
        assert_eq!(array.buffer(validity + index), buffer.as_ptr(), "{path}.buffers[{}] was copied", validity + index);
    }
    match data.nulls().filter(|nulls| nulls.null_count() > 0) {
        None if validity == 1 => assert!(array.buffer(0).is_null(), "{path}.buffers[0]: no nulls, no bitmap"),
        None => {}
        Some(nulls) => {
            let bitmap = array.buffer(0);
            for index in 0..data.len() {
                let bit = data.offset() + index;
                // SAFETY: the exported bitmap covers bits `offset..offset + length`.
                let valid = unsafe { *bitmap.add(bit / 8) } & (1 << (bit % 8)) != 0;
                assert_eq!(valid, nulls.is_valid(index), "{path}.buffers[0] bit {bit}");
            }
        }
    }
    if layout.variadic {
        let sizes = array.buffer(array.num_buffers() - 1).cast::<i64>();
        for (index, buffer) in data.buffers()[1..].iter().enumerate() {
            // SAFETY: the sizes buffer holds one `i64` per data buffer.
            assert_eq!(unsafe { sizes.add(index).read_unaligned() }, buffer.len() as i64, "{path} variadic size {index}");
        }
    }
    if let DataType::Dictionary(..) = data.data_type() {
        assert_eq!(array.num_children(), 0, "{path}.n_children");
        let values = array.dictionary().unwrap_or_else(|| panic!("{path}.dictionary is NULL"));
        assert_points_at(values, &data.child_data()[0], &format!("{path}.dictionary"));
    } else {
        assert!(array.dictionary().is_none(), "{path}.dictionary");
        assert_eq!(array.num_children(), data.child_data().len(), "{path}.n_children");
        for (index, child) in data.child_data().iter().enumerate() {
            let exported = array.child_opt(index).unwrap_or_else(|| panic!("{path}.children[{index}] is NULL"));
            assert_points_at(exported, child, &format!("{path}.children[{index}]"));
        }
    }
}

/// Whether any buffer or bitmap of arrow-rs's import `data`, or below it, holds bytes: each such
/// buffer points into the export and keeps it (arrow-rs makes its own empty buffers, and releases an
/// export it takes no bytes from at once).
fn holds_bytes(data: &ArrayData) -> bool {
    data.buffers().iter().any(|buffer| !buffer.is_empty())
        || data.nulls().is_some_and(|nulls| !nulls.buffer().is_empty())
        || data.child_data().iter().any(holds_bytes)
}

/// Exports `data` with `FFI_ArrowArray::new`, checks what it points at, and hands it to arrow-rs
/// as [`check_into_arrow_rs`] does.
fn check_new_into_arrow_rs(data: &ArrayData) {
    check_into_arrow_rs(data, |data| {
        let array = FFI_ArrowArray::new(data);
        assert_points_at(&array, data, "array");
        array
    });
}

/// Hands `export(data)` to arrow-rs (counting the release), and checks arrow-rs's import is equal
/// to `data`; the release runs once, when the import is dropped (or at once if it took no bytes),
/// and leaves every buffer's count where it was before the export.
fn check_into_arrow_rs(data: &ArrayData, export: impl FnOnce(&ArrayData) -> FFI_ArrowArray) {
    let before = strong_counts(data);
    let (theirs, count) = count_releases(export(data));
    if !arrow_rs_round_trips(data) {
        // arrow-rs's import is wrong here for its own export too; what our export points at is checked.
        drop(theirs);
        assert_eq!(releases(&count), 1, "released once, when dropped");
        assert_eq!(strong_counts(data), before, "the export holds no buffer after its release");
        return;
    }
    let imported = arrow_rs_import(theirs, data.data_type());
    assert_eq!(&imported, data, "arrow-rs's import equals the source");
    if holds_bytes(&imported) {
        assert_eq!(releases(&count), 0, "released while arrow-rs still holds the buffers");
    }
    drop(imported);
    assert_eq!(releases(&count), 1, "released once, by the time arrow-rs's import is dropped");
    assert_eq!(strong_counts(data), before, "the export holds no buffer after its release");
}

proptest! {
    // Under Miri's isolation proptest cannot look up the directory to persist failures in.
    #![proptest_config(ProptestConfig {
        failure_persistence: if cfg!(miri) { None } else { ProptestConfig::default().failure_persistence },
        ..ProptestConfig::default()
    })]

    /// `FFI_ArrowArray::new(&data)` of any generated data, imported by arrow-rs.
    #[test]
    fn new_into_arrow_rs(data in any_data()) {
        check_new_into_arrow_rs(&data);
    }

    /// `to_ffi(&data)` (our schema too) and `from_data(data)` (taking the data over), imported by
    /// arrow-rs, equal to the source.
    #[test]
    fn to_ffi_and_from_data_into_arrow_rs(data in any_data()) {
        prop_assume!(arrow_rs_round_trips(&data));
        let (array, schema) = arrow_cabi::ffi::to_ffi(&data).unwrap();
        let mut schema = std::mem::ManuallyDrop::new(schema);
        // SAFETY: layout-identical structs; `from_raw` moves ours out and ours is never dropped.
        let theirs_schema = unsafe { arrow::ffi::FFI_ArrowSchema::from_raw(FFI_ArrowSchema::as_mut_ptr(&mut schema).cast()) };
        let (theirs, count) = count_releases(array);
        // SAFETY: valid exports of this crate.
        let imported = unsafe { arrow::ffi::from_ffi(theirs, &theirs_schema) }.unwrap();
        prop_assert_eq!(&imported, &data);
        drop(imported);
        prop_assert_eq!(releases(&count), 1);

        check_into_arrow_rs(&data, |data| FFI_ArrowArray::from_data(data.clone()));
    }

    /// An empty array of any type, made any way arrow-rs makes one, exported with
    /// `FFI_ArrowArray::new` and (where arrow-rs can build the typed array) with `from_array`:
    /// no panic, and arrow-rs imports an empty array of the type.
    #[test]
    fn empty_arrays_of_every_type_export((how, data) in empty_data()) {
        check_new_into_arrow_rs(&data);
        if how != "misaligned dangling buffers" {
            check_into_arrow_rs(&data, |data| FFI_ArrowArray::from_array(make_array(data.clone())));
        }
    }
}

/// arrow-rs's own case (its `test_utf8_view_ffi_from_dangling_pointer`): an empty string-view array
/// whose views buffer is at a dangling address no views are aligned for. Building its typed array
/// from its data panics in arrow-buffer, as `FFI_ArrowArray::new` did when it built one.
#[test]
fn empty_view_array_with_a_dangling_views_buffer_exports() {
    // SAFETY: the buffer holds no bytes and is never read; its owner frees nothing.
    let views = unsafe { Buffer::from_custom_allocation(NonNull::<u8>::dangling(), 0, Arc::new(())) };
    // SAFETY: an empty array with no views and no data buffers is valid whatever the views' address.
    let array = unsafe { StringViewArray::new_unchecked(ScalarBuffer::new_unchecked(views), vec![].into(), None) };
    let data = array.to_data();
    assert_eq!(data.buffers()[0].as_ptr() as usize, 1);
    assert!(std::panic::catch_unwind(|| StringViewArray::from(data.clone())).is_err(), "arrow-rs refuses the typed array");

    check_new_into_arrow_rs(&data);
    check_into_arrow_rs(&data, |_| FFI_ArrowArray::from_array(Arc::new(array.clone())));
    // And our own import takes the export too.
    let (array, schema) = arrow_cabi::ffi::to_ffi(&data).unwrap();
    // SAFETY: valid exports of this crate.
    let imported = unsafe { arrow_cabi::ffi::from_ffi(array, &schema) }.unwrap();
    assert_eq!(imported, ArrayData::new_empty(&DataType::Utf8View));
}

/// Every empty buffer at address 1, at every level, for a type of each layout: exported as data,
/// arrow-rs imports them empty.
#[test]
fn misaligned_empty_buffers_of_every_layout_export() {
    use arrow_schema::{Field, UnionFields, UnionMode};
    let item = Arc::new(Field::new("item", DataType::Int64, true));
    let union = UnionFields::try_new(vec![3, 1], vec![Field::new("a", DataType::Int32, true), Field::new("b", DataType::Utf8, true)]).unwrap();
    let types = [
        DataType::Null,
        DataType::Boolean,
        DataType::Decimal256(40, 2),
        DataType::LargeUtf8,
        DataType::BinaryView,
        DataType::FixedSizeBinary(3),
        DataType::LargeList(item.clone()),
        DataType::ListView(item.clone()),
        DataType::FixedSizeList(item.clone(), 2),
        DataType::Struct(vec![Field::new("s", DataType::Utf8View, true)].into()),
        DataType::Union(union.clone(), UnionMode::Sparse),
        DataType::Union(union, UnionMode::Dense),
        DataType::Dictionary(Box::new(DataType::UInt16), Box::new(DataType::Utf8)),
        DataType::RunEndEncoded(
            Arc::new(Field::new("run_ends", DataType::Int32, false)),
            Arc::new(Field::new("values", DataType::Float64, true)),
        ),
    ];
    for data_type in types {
        check_new_into_arrow_rs(&misalign_empty_buffers(&ArrayData::new_empty(&data_type)));
    }
}

/// The bitmap of data sliced apart from its offset: a struct's slice moves to its children and
/// leaves the struct's offset 0 while its bitmap starts at bit 3, so the export copies the bits to
/// line up; a boolean's slice keeps bitmap and data at the same bit, so the export points at the
/// source's bitmap.
#[test]
fn bitmaps_sliced_apart_from_the_offset_are_lined_up() {
    use arrow_array::{BooleanArray, Int32Array, StructArray};
    use arrow_buffer::NullBuffer;
    use arrow_schema::Field;
    let ints: Arc<dyn Array> = Arc::new(Int32Array::from_iter((0..12).map(|i| (i % 4 != 1).then_some(i))));
    let nulls = NullBuffer::from_iter((0..12).map(|i| i % 3 != 0));
    let fields = vec![Field::new("i", DataType::Int32, true)];
    let structs = StructArray::new(fields.into(), vec![ints], Some(nulls)).into_data().slice(3, 7);
    assert_eq!((structs.offset(), structs.nulls().unwrap().offset()), (0, 3));
    let array = FFI_ArrowArray::new(&structs);
    assert_ne!(array.buffer(0), structs.nulls().unwrap().buffer().as_ptr(), "bit 3 cannot be bit 0 in place");
    drop(array);
    check_new_into_arrow_rs(&structs);

    let booleans = BooleanArray::from_iter((0..20).map(|i| (i % 5 != 2).then_some(i % 2 == 0))).into_data().slice(3, 15);
    assert_eq!((booleans.offset(), booleans.nulls().unwrap().offset()), (3, 3));
    let array = FFI_ArrowArray::new(&booleans);
    assert_eq!(array.buffer(0), booleans.nulls().unwrap().buffer().as_ptr(), "the source's bitmap, at the same offset");
    drop(array);
    check_new_into_arrow_rs(&booleans);
}
