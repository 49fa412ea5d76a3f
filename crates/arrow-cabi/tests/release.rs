//! Exactly-once release, proved with counting release callbacks and buffer reference counts:
//! (a) an imported foreign array is released once, when its last buffer is dropped, however the
//! imported data is taken apart; (b) children moved out of our exported structs stay valid after the
//! parent is released, and releasing them frees everything; (c) import is zero-copy.
#![allow(missing_docs)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, DictionaryArray, Int32Array, Int64Array, ListArray, StringArray, StructArray,
};
use arrow::datatypes::{Int16Type, Int32Type};
use arrow_cabi::array::import_array_data;
use arrow_cabi::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use arrow_cabi::Validation;
use arrow_cabi_sys::{ArrowArray, ArrowSchema};
use arrow_data::ArrayData;
use arrow_schema::{DataType, Field};
use common::counting::count_releases;

// ---------------------------------------------------------------------------------------------------
// A foreign producer: arrow-rs's own export, with its release wrapped in one that counts.

/// arrow-rs's export of `data`, moved into a raw struct whose release counts into the returned counter.
fn foreign_export(data: &ArrayData) -> (ArrowArray, Arc<AtomicUsize>) {
    let theirs = arrow::ffi::FFI_ArrowArray::new(data);
    // SAFETY: arrow-rs's FFI_ArrowArray is `repr(C)` with abi.h's fields, like ArrowArray; reading it
    // and forgetting the original is a move.
    let mut raw: ArrowArray = unsafe { std::ptr::read((&theirs as *const arrow::ffi::FFI_ArrowArray).cast()) };
    std::mem::forget(theirs);
    let count = count_releases(&mut raw);
    (raw, count)
}

/// Imports `data` as a foreign (arrow-rs-exported, counting) array through our import.
fn import_foreign(data: &ArrayData, validation: Validation) -> (ArrayData, Arc<AtomicUsize>) {
    let (raw, count) = foreign_export(data);
    // SAFETY: `raw` is a valid array exported by arrow-rs.
    let array = unsafe { FFI_ArrowArray::from_sys(raw) };
    let imported = import_array_data(array, data.data_type(), validation).unwrap();
    (imported, count)
}

fn releases(count: &AtomicUsize) -> usize {
    count.load(Ordering::SeqCst)
}

fn nested_struct() -> StructArray {
    let ints: ArrayRef = Arc::new(Int32Array::from(vec![Some(1), None, Some(3), Some(4), None]));
    let strings: ArrayRef = Arc::new(StringArray::from(vec![Some("a"), Some("bb"), None, Some("dddd"), Some("")]));
    let lists: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
        Some(vec![Some(1), None]),
        None,
        Some(vec![]),
        Some(vec![Some(7), Some(8), Some(9)]),
        Some(vec![Some(10)]),
    ]));
    let dictionary: ArrayRef =
        Arc::new(DictionaryArray::<Int16Type>::from_iter([Some("x"), None, Some("y"), Some("x"), Some("z")]));
    StructArray::from(vec![
        (Arc::new(Field::new("i", ints.data_type().clone(), true)), ints),
        (Arc::new(Field::new("s", strings.data_type().clone(), true)), strings),
        (Arc::new(Field::new("l", lists.data_type().clone(), true)), lists),
        (Arc::new(Field::new("d", dictionary.data_type().clone(), true)), dictionary),
    ])
}

// ---------------------------------------------------------------------------------------------------
// (a) import: released once, when the last imported buffer is dropped

#[test]
fn import_releases_once_when_everything_is_dropped() {
    for validation in [Validation::Minimal, Validation::Default, Validation::Full] {
        let source = nested_struct();
        let (imported, count) = import_foreign(&source.to_data(), validation);
        assert_eq!(releases(&count), 0);
        let array = arrow::array::make_array(imported);
        assert_eq!(array.as_ref(), &source as &dyn Array);
        assert_eq!(releases(&count), 0);
        drop(array);
        assert_eq!(releases(&count), 1);
    }
}

#[test]
fn a_kept_child_array_keeps_the_whole_import_alive() {
    let source = nested_struct();
    let (imported, count) = import_foreign(&source.to_data(), Validation::Default);
    let array = StructArray::from(imported);
    let strings: ArrayRef = array.column(1).clone();
    drop(array);
    assert_eq!(releases(&count), 0, "the child's buffers still point into the producer's memory");
    assert_eq!(strings.as_any().downcast_ref::<StringArray>().unwrap().value(3), "dddd");
    drop(strings);
    assert_eq!(releases(&count), 1);
}

#[test]
fn a_kept_child_array_keeps_the_whole_import_alive_owned() {
    let source = nested_struct();
    let (imported, count) = import_foreign(&source.to_data(), Validation::Default);
    let (_, mut columns, _) = StructArray::from(imported).into_parts();
    let lists = columns.remove(2).as_any().downcast_ref::<ListArray>().unwrap().clone();
    drop(columns);
    assert_eq!(releases(&count), 0);
    assert_eq!(lists.value(3).as_any().downcast_ref::<Int32Array>().unwrap().values(), &[7, 8, 9]);
    drop(lists);
    assert_eq!(releases(&count), 1);
}

#[test]
fn a_kept_sliced_buffer_keeps_the_whole_import_alive() {
    let source = nested_struct();
    let (imported, count) = import_foreign(&source.to_data(), Validation::Default);
    // The string column's values buffer, sliced.
    let values = imported.child_data()[1].buffers()[1].slice(1);
    drop(imported);
    assert_eq!(releases(&count), 0);
    assert_eq!(values.as_slice(), b"bbdddd");
    drop(values);
    assert_eq!(releases(&count), 1);
}

#[test]
fn a_kept_validity_bitmap_or_dictionary_keeps_the_whole_import_alive() {
    let source = nested_struct();
    let (imported, count) = import_foreign(&source.to_data(), Validation::Default);
    let nulls = imported.child_data()[0].nulls().cloned().unwrap();
    let dictionary_values = imported.child_data()[3].child_data()[0].clone();
    drop(imported);
    assert_eq!(releases(&count), 0);
    assert_eq!(nulls.null_count(), 2);
    drop(nulls);
    assert_eq!(releases(&count), 0);
    let values = arrow::array::make_array(dictionary_values);
    assert_eq!(values.as_any().downcast_ref::<StringArray>().unwrap().value(1), "y");
    drop(values);
    assert_eq!(releases(&count), 1);
}

#[test]
fn a_sliced_foreign_array_is_released_once() {
    let source = nested_struct().slice(1, 3);
    let (imported, count) = import_foreign(&source.to_data(), Validation::Full);
    let array = arrow::array::make_array(imported);
    assert_eq!(array.as_ref(), &source as &dyn Array);
    let second = array.slice(1, 1);
    drop(array);
    assert_eq!(releases(&count), 0);
    drop(second);
    assert_eq!(releases(&count), 1);
}

#[test]
fn a_failed_import_releases_once() {
    let source = Int32Array::from(vec![1, 2, 3]);
    let (raw, count) = foreign_export(&source.to_data());
    // SAFETY: a valid array from arrow-rs.
    let array = unsafe { FFI_ArrowArray::from_sys(raw) };
    // Imported as a type with another layout: utf8 needs three buffers, int32 has two.
    let error = import_array_data(array, &DataType::Utf8, Validation::Default).unwrap_err();
    assert!(error.to_string().starts_with("array.n_buffers: 2"), "{error}");
    assert_eq!(releases(&count), 1);
}

#[test]
fn dropping_an_unimported_owner_releases_once() {
    let (raw, count) = foreign_export(&Int64Array::from(vec![5, 6]).to_data());
    // SAFETY: a valid array from arrow-rs.
    let array = unsafe { FFI_ArrowArray::from_sys(raw) };
    // Moving it (a bitwise copy that leaves the source released) does not release it.
    let mut slot = std::mem::ManuallyDrop::new(array);
    // SAFETY: `slot` holds a valid array and is never used again.
    let moved = unsafe { FFI_ArrowArray::from_raw(&mut *slot) };
    assert!(slot.is_released());
    assert_eq!(releases(&count), 0);
    drop(moved);
    assert_eq!(releases(&count), 1);
}

// ---------------------------------------------------------------------------------------------------
// (b) export: children moved out stay valid after the parent is released

/// Moves child `index` out of an exported array: a bitwise copy, the source marked released.
///
/// # Safety
/// `parent` is unreleased and has more than `index` children.
unsafe fn move_child_array(parent: &mut FFI_ArrowArray, index: usize) -> ArrowArray {
    // SAFETY: per the caller.
    unsafe {
        let child = *parent.as_sys().children.add(index);
        let moved = std::ptr::read(child);
        (*child).release = None;
        moved
    }
}

/// As [`move_child_array`], for a schema.
///
/// # Safety
/// As [`move_child_array`].
unsafe fn move_child_schema(parent: &mut FFI_ArrowSchema, index: usize) -> ArrowSchema {
    // SAFETY: per the caller.
    unsafe {
        let child = *parent.as_sys().children.add(index);
        let moved = std::ptr::read(child);
        (*child).release = None;
        moved
    }
}

/// Imports a moved-out child with arrow-rs's `ffi`.
fn arrow_rs_import(mut array: ArrowArray, mut schema: ArrowSchema) -> ArrayRef {
    // SAFETY: our raw structs are layout-identical to arrow-rs's; `from_raw` moves out of them.
    let (array, schema) = unsafe {
        (
            arrow::ffi::FFI_ArrowArray::from_raw((&mut array as *mut ArrowArray).cast()),
            arrow::ffi::FFI_ArrowSchema::from_raw((&mut schema as *mut ArrowSchema).cast()),
        )
    };
    // SAFETY: both are valid exports of this crate.
    arrow::array::make_array(unsafe { arrow::ffi::from_ffi(array, &schema) }.unwrap())
}

/// The strong counts of every buffer (and bitmap) of `data` and its descendants.
fn strong_counts(data: &ArrayData) -> Vec<usize> {
    let mut counts: Vec<usize> = data.buffers().iter().map(|buffer| buffer.strong_count()).collect();
    counts.extend(data.nulls().map(|nulls| nulls.buffer().strong_count()));
    for child in data.child_data() {
        counts.extend(strong_counts(child));
    }
    counts
}

#[test]
fn moved_children_outlive_their_released_parent() {
    let source = nested_struct();
    let data = source.to_data();
    let before = strong_counts(&data);
    let field = Field::new("root", source.data_type().clone(), true);
    let exported: ArrayRef = Arc::new(source.clone());
    let (mut array, mut schema) = arrow_cabi::export_array(&exported, &field).unwrap();
    assert_eq!(Arc::strong_count(&exported), 2, "the export holds the array");

    // Move the string and dictionary columns out, then release the parents at once.
    let moved: Vec<(ArrowArray, ArrowSchema)> = [1, 3]
        // SAFETY: four children, each unreleased and moved once.
        .map(|index| unsafe { (move_child_array(&mut array, index), move_child_schema(&mut schema, index)) })
        .into();
    drop(array);
    drop(schema);

    // The moved columns are still held. One export shares one block among all its nodes, and the
    // block holds the exported array, so the whole array is freed with the last node.
    assert_eq!(Arc::strong_count(&exported), 2, "the moved columns keep the export alive");

    for ((child_array, child_schema), index) in moved.into_iter().zip([1, 3]) {
        let imported = arrow_rs_import(child_array, child_schema);
        assert_eq!(imported.as_ref(), source.column(index).as_ref());
        drop(imported);
    }
    assert_eq!(Arc::strong_count(&exported), 1, "releasing the moved children freed the export");
    assert_eq!(strong_counts(&data), before, "no buffer is still held");
}

#[test]
fn a_moved_grandchild_outlives_every_ancestor() {
    let source = nested_struct();
    let data = source.to_data();
    let before = strong_counts(&data);
    let field = Field::new("root", source.data_type().clone(), false);
    let exported: ArrayRef = Arc::new(source.clone());
    let (array, schema) = arrow_cabi::export_array(&exported, &field).unwrap();

    // The list column's values: root.children[2].children[0].
    // SAFETY: the list column is unreleased and has one child; each is moved once.
    let (grandchild_array, grandchild_schema) = unsafe {
        let list_array = &mut *(*array.as_sys().children.add(2)).cast::<FFI_ArrowArray>();
        let list_schema = &mut *(*schema.as_sys().children.add(2)).cast::<FFI_ArrowSchema>();
        (move_child_array(list_array, 0), move_child_schema(list_schema, 0))
    };
    drop(array);
    drop(schema);
    let imported = arrow_rs_import(grandchild_array, grandchild_schema);
    let lists = source.column(2).as_any().downcast_ref::<ListArray>().unwrap();
    assert_eq!(imported.as_ref(), lists.values().as_ref());
    assert_eq!(Arc::strong_count(&exported), 2, "the moved grandchild keeps the export alive");
    drop(imported);
    assert_eq!(Arc::strong_count(&exported), 1, "releasing the grandchild freed the export");
    assert_eq!(strong_counts(&data), before, "no buffer is still held");
}

#[test]
fn releasing_an_export_without_moving_frees_everything() {
    let source = nested_struct();
    let data = source.to_data();
    let before = strong_counts(&data);
    let (array, schema) = arrow_cabi::ffi::to_ffi(&data).unwrap();
    assert_ne!(strong_counts(&data), before);
    drop((array, schema));
    assert_eq!(strong_counts(&data), before);
}

#[test]
fn releasing_through_the_raw_callback_frees_everything_once() {
    let source = nested_struct();
    let data = source.to_data();
    let before = strong_counts(&data);
    let mut raw = FFI_ArrowArray::new(&data).into_sys();
    let release = raw.release.unwrap();
    // SAFETY: an unreleased export; its release is called once.
    unsafe { release(&mut raw) };
    assert!(raw.release.is_none() && raw.private_data.is_null());
    assert_eq!(strong_counts(&data), before);
}

#[test]
fn our_import_of_our_export_releases_when_the_last_buffer_drops() {
    let source = nested_struct();
    let data = source.to_data();
    let before = strong_counts(&data);
    let (array, schema) = arrow_cabi::ffi::to_ffi(&data).unwrap();
    // SAFETY: valid exports of this crate.
    let imported = unsafe { arrow_cabi::ffi::from_ffi(array, &schema) }.unwrap();
    drop(schema);
    let kept = imported.child_data()[1].buffers()[0].clone();
    drop(imported);
    assert_ne!(strong_counts(&data), before, "one imported buffer still holds the export");
    drop(kept);
    assert_eq!(strong_counts(&data), before);
}

// ---------------------------------------------------------------------------------------------------
// (c) zero-copy: imported buffers are the producer's

/// Every buffer address of `data` and its descendants (bitmaps apart), in a fixed order.
fn buffer_addresses(data: &ArrayData) -> Vec<*const u8> {
    let mut addresses: Vec<*const u8> = data.buffers().iter().map(|buffer| buffer.as_ptr()).collect();
    for child in data.child_data() {
        addresses.extend(buffer_addresses(child));
    }
    addresses
}

fn bitmap_addresses(data: &ArrayData) -> Vec<Option<*const u8>> {
    let mut addresses = vec![data.nulls().map(|nulls| nulls.buffer().as_ptr())];
    for child in data.child_data() {
        addresses.extend(bitmap_addresses(child));
    }
    addresses
}

#[test]
fn import_of_an_arrow_rs_export_is_zero_copy() {
    let source = nested_struct();
    let data = source.to_data();
    for validation in [Validation::Minimal, Validation::Default, Validation::Full] {
        let (imported, count) = import_foreign(&data, validation);
        assert_eq!(buffer_addresses(&imported), buffer_addresses(&data));
        // Unsliced, each bitmap starts where the data does, so arrow-rs exports it as it is.
        assert_eq!(bitmap_addresses(&imported), bitmap_addresses(&data));
        drop(imported);
        assert_eq!(releases(&count), 1);
    }
}

#[test]
fn import_of_a_sliced_arrow_rs_export_is_zero_copy() {
    let strings = StringArray::from(vec![Some("a"), None, Some("ccc"), Some("dddd"), None, Some("ff")]);
    let source = strings.slice(2, 3);
    let data = source.to_data();
    let (imported, count) = import_foreign(&data, Validation::Full);
    assert_eq!(imported.offset(), data.offset());
    assert_eq!(buffer_addresses(&imported), buffer_addresses(&data));
    assert_eq!(StringArray::from(imported.clone()), source);
    drop(imported);
    assert_eq!(releases(&count), 1);
}

#[test]
fn export_is_zero_copy() {
    let source = nested_struct();
    let data = source.to_data();
    let array = FFI_ArrowArray::new(&data);
    // The int column: validity and values are the source's own buffers.
    let ints = array.child_opt(0).unwrap();
    assert_eq!(ints.buffer(0), data.child_data()[0].nulls().unwrap().buffer().as_ptr());
    assert_eq!(ints.buffer(1), data.child_data()[0].buffers()[0].as_ptr());
    let strings = array.child_opt(1).unwrap();
    assert_eq!(strings.buffer(1), data.child_data()[1].buffers()[0].as_ptr());
    assert_eq!(strings.buffer(2), data.child_data()[1].buffers()[1].as_ptr());
    let dictionary = array.child_opt(3).unwrap().dictionary().unwrap();
    assert_eq!(dictionary.buffer(2), data.child_data()[3].child_data()[0].buffers()[1].as_ptr());
}
