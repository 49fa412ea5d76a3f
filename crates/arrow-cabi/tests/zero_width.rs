//! Zero-width layouts, which the format allows: fixed-size binary of width 0 (`w:0`) and fixed-size
//! lists of size 0 (`+w:0`), alone, as struct fields and as list items, with and without nulls and
//! sliced. Each crosses arrow-rs's `ffi` export into our import and ours into arrow-rs's import, at
//! every level; the truth is arrow-rs's import of the same struct (and its `validate_full`), and
//! the spec's reading of the values: `length` empty values, null where the bitmap says.
#![allow(missing_docs)]

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{make_array, Array, ArrayRef};
use arrow_buffer::Buffer;
use arrow_cabi::array::import_array_data;
use arrow_cabi::ffi::FFI_ArrowArray;
use arrow_cabi::Validation;
use arrow_data::ArrayData;
use arrow_schema::{DataType, Field, Fields};

const LEVELS: [Validation; 3] = [Validation::Minimal, Validation::Default, Validation::Full];

/// Validity of the five-element cases: `[valid, null, valid, valid, null]`.
const VALIDITY: u8 = 0b01101;

fn validity(with_nulls: bool) -> Option<Buffer> {
    with_nulls.then(|| Buffer::from([VALIDITY]))
}

/// Five `w:0` values, null where [`VALIDITY`] says if `with_nulls`; built by arrow-rs's validating builder.
fn empty_binaries(with_nulls: bool) -> ArrayData {
    ArrayData::builder(DataType::FixedSizeBinary(0))
        .len(5)
        .add_buffer(Buffer::from(Vec::<u8>::new()))
        .null_bit_buffer(validity(with_nulls))
        .build()
        .unwrap()
}

/// Five `+w:0` lists of int32, null where [`VALIDITY`] says if `with_nulls`.
fn empty_lists(with_nulls: bool) -> ArrayData {
    let item = Arc::new(Field::new("item", DataType::Int32, true));
    ArrayData::builder(DataType::FixedSizeList(item, 0))
        .len(5)
        .null_bit_buffer(validity(with_nulls))
        .add_child_data(ArrayData::new_empty(&DataType::Int32))
        .build()
        .unwrap()
}

/// `child` as the only field of a five-element struct (without nulls of its own).
fn in_a_struct(child: ArrayData) -> ArrayData {
    let fields = Fields::from(vec![Field::new("z", child.data_type().clone(), true)]);
    ArrayData::builder(DataType::Struct(fields)).len(child.len()).add_child_data(child).build().unwrap()
}

/// `items` as the items of two lists: the first holding items 0..2, the second the rest.
fn as_list_items(items: ArrayData) -> ArrayData {
    let end = items.len() as i32;
    let item = Arc::new(Field::new("item", items.data_type().clone(), true));
    ArrayData::builder(DataType::List(item))
        .len(2)
        .add_buffer(Buffer::from_slice_ref([0i32, 2, end]))
        .add_child_data(items)
        .build()
        .unwrap()
}

/// Three `+w:3` lists whose items are nine `w:0` values.
fn lists_of_empty_binaries() -> ArrayData {
    let items = ArrayData::builder(DataType::FixedSizeBinary(0))
        .len(9)
        .add_buffer(Buffer::from(Vec::<u8>::new()))
        .build()
        .unwrap();
    let item = Arc::new(Field::new("item", DataType::FixedSizeBinary(0), true));
    ArrayData::builder(DataType::FixedSizeList(item, 3)).len(3).add_child_data(items).build().unwrap()
}

/// Every case, named, each also sliced.
fn cases() -> Vec<(String, ArrayData)> {
    let mut cases = Vec::new();
    for with_nulls in [false, true] {
        let binaries = empty_binaries(with_nulls);
        let lists = empty_lists(with_nulls);
        cases.push((format!("w:0 nulls={with_nulls}"), binaries.clone()));
        cases.push((format!("+w:0 nulls={with_nulls}"), lists.clone()));
        cases.push((format!("struct of w:0 nulls={with_nulls}"), in_a_struct(binaries.clone())));
        cases.push((format!("struct of +w:0 nulls={with_nulls}"), in_a_struct(lists.clone())));
        cases.push((format!("list of w:0 nulls={with_nulls}"), as_list_items(binaries)));
        cases.push((format!("list of +w:0 nulls={with_nulls}"), as_list_items(lists)));
    }
    cases.push(("+w:3 of w:0".to_string(), lists_of_empty_binaries()));
    let sliced: Vec<_> = cases.iter().map(|(name, data)| (format!("{name} sliced 1..{}", data.len() - 1), data.slice(1, data.len() - 2))).collect();
    cases.extend(sliced);
    cases
}

/// `data` exported by arrow-rs's `ffi`, moved into our struct.
fn exported_by_arrow_rs(data: &ArrayData) -> FFI_ArrowArray {
    let mut array = arrow::ffi::FFI_ArrowArray::new(data);
    // SAFETY: layout-identical `repr(C)` structs; `from_raw` leaves arrow-rs's released.
    unsafe { FFI_ArrowArray::from_raw((&mut array as *mut arrow::ffi::FFI_ArrowArray).cast()) }
}

/// arrow-rs's own import of its own export of `data`, checked with its `validate_full`.
fn arrow_rs_import(data: &ArrayData) -> ArrayData {
    let array = arrow::ffi::FFI_ArrowArray::new(data);
    // SAFETY: a struct arrow-rs just exported, of that type.
    let imported = unsafe { arrow::ffi::from_ffi_and_data_type(array, data.data_type().clone()) }.unwrap();
    imported.validate_full().unwrap();
    imported
}

/// The spec's reading of a zero-width array: `len` values, each empty, null where its bitmap says.
fn assert_zero_width_values(array: &dyn Array, source: &ArrayData, name: &str) {
    assert_eq!(array.len(), source.len(), "{name}: length");
    let nulls: Vec<bool> = (0..source.len()).map(|i| source.is_null(i)).collect();
    assert_eq!((0..array.len()).map(|i| array.is_null(i)).collect::<Vec<_>>(), nulls, "{name}: nulls");
    match array.data_type() {
        DataType::FixedSizeBinary(0) => {
            let values = array.as_fixed_size_binary();
            assert!((0..values.len()).all(|i| values.value(i).is_empty()), "{name}: empty values");
        }
        DataType::FixedSizeList(_, 0) => {
            let lists = array.as_fixed_size_list();
            assert!((0..lists.len()).all(|i| lists.value(i).is_empty()), "{name}: empty lists");
        }
        _ => {}
    }
}

#[test]
fn arrow_rs_exports_import_with_the_right_values() {
    for (name, data) in cases() {
        let truth = arrow_rs_import(&data);
        for validation in LEVELS {
            let imported = import_array_data(exported_by_arrow_rs(&data), data.data_type(), validation)
                .unwrap_or_else(|e| panic!("{name} at {validation:?}: {e}"));
            imported.validate_full().unwrap();
            assert_eq!(imported, truth, "{name} at {validation:?}: as arrow-rs imports it");
            assert_eq!(imported, data, "{name} at {validation:?}: as exported");
            let array = make_array(imported);
            let leaf: ArrayRef = match array.data_type() {
                DataType::Struct(_) => array.as_struct().column(0).clone(),
                DataType::List(_) => array.as_list::<i32>().values().clone(),
                _ => array.clone(),
            };
            let leaf_source = match data.data_type() {
                DataType::Struct(_) | DataType::List(_) => data.child_data()[0].clone(),
                _ => data.clone(),
            };
            if !matches!(data.data_type(), DataType::List(_)) {
                assert_zero_width_values(leaf.as_ref(), &leaf_source, &name);
            }
        }
    }
}

#[test]
fn our_exports_import_into_arrow_rs() {
    for (name, data) in cases() {
        let (array, schema) = arrow_cabi::ffi::to_ffi(&data).unwrap();
        let mut array = std::mem::ManuallyDrop::new(array);
        let mut schema = std::mem::ManuallyDrop::new(schema);
        // SAFETY: layout-identical structs; `from_raw` moves ours out (ours are never dropped).
        let (array, schema) = unsafe {
            (
                arrow::ffi::FFI_ArrowArray::from_raw(array.as_mut_ptr().cast()),
                arrow::ffi::FFI_ArrowSchema::from_raw(schema.as_mut_ptr().cast()),
            )
        };
        // SAFETY: structs our export just wrote, of that type.
        let imported = unsafe { arrow::ffi::from_ffi(array, &schema) }.unwrap_or_else(|e| panic!("{name}: {e}"));
        imported.validate_full().unwrap();
        assert_eq!(imported, data, "{name}");
    }
}

#[test]
fn a_null_data_buffer_is_accepted_for_zero_width_values() {
    // The spec lets a buffer be NULL when its size is 0: a producer may hand `w:0` so.
    let data = empty_binaries(true);
    let mut raw = exported_by_arrow_rs(&data);
    let buffers = raw.as_mut_ptr();
    // SAFETY: the struct arrow-rs just exported: two buffer pointers, and its release frees its own
    // copy of the buffers, so replacing the data pointer with NULL frees nothing it should not.
    unsafe { *(*buffers.cast::<arrow_cabi_sys::ArrowArray>()).buffers.add(1) = std::ptr::null() };
    let imported = import_array_data(raw, data.data_type(), Validation::Full).unwrap();
    assert_eq!(imported, data);
    assert_zero_width_values(make_array(imported).as_ref(), &data, "w:0 with a NULL data buffer");
}
