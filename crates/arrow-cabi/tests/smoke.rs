//! A first crossing with arrow-rs's `ffi`: a few arrays through our export into its import and back.
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Int32Array, StringArray, StructArray, ListArray, DictionaryArray};
use arrow::datatypes::{Int8Type, Int32Type};

fn arrays() -> Vec<ArrayRef> {
    let strings: ArrayRef = Arc::new(StringArray::from(vec![Some("a"), None, Some("ccc"), Some("dddd")]));
    let ints: ArrayRef = Arc::new(Int32Array::from(vec![Some(1), None, Some(3), Some(4)]));
    let list: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
        Some(vec![Some(1), None]), None, Some(vec![]), Some(vec![Some(7)]),
    ]));
    let dict: ArrayRef = Arc::new(DictionaryArray::<Int8Type>::from_iter(["x", "y", "x", "z"]));
    let strukt: ArrayRef = Arc::new(StructArray::from(vec![
        (Arc::new(arrow::datatypes::Field::new("s", strings.data_type().clone(), true)), strings.clone()),
        (Arc::new(arrow::datatypes::Field::new("i", ints.data_type().clone(), true)), ints.clone()),
    ]));
    let mut all = vec![strings, ints, list, dict, strukt];
    let sliced: Vec<ArrayRef> = all.iter().map(|a| a.slice(1, 3)).collect();
    all.extend(sliced);
    all
}

#[test]
fn ours_to_arrow_rs_and_back() {
    for array in arrays() {
        let data = array.to_data();
        let (ffi_array, ffi_schema) = arrow_cabi::ffi::to_ffi(&data).unwrap();
        // our structs are layout-identical to arrow-rs's: move them across by pointer
        let mut ffi_array = std::mem::ManuallyDrop::new(ffi_array);
        let mut ffi_schema = std::mem::ManuallyDrop::new(ffi_schema);
        let theirs_array = unsafe { arrow::ffi::FFI_ArrowArray::from_raw(ffi_array.as_mut_ptr().cast()) };
        let theirs_schema = unsafe { arrow::ffi::FFI_ArrowSchema::from_raw(ffi_schema.as_mut_ptr().cast()) };
        let imported = unsafe { arrow::ffi::from_ffi(theirs_array, &theirs_schema) }.unwrap();
        assert_eq!(arrow::array::make_array(imported).as_ref(), array.as_ref());

        let (mut a, mut s) = arrow::ffi::to_ffi(&data).unwrap();
        let ours_array = unsafe { arrow_cabi::ffi::FFI_ArrowArray::from_raw((&mut a as *mut arrow::ffi::FFI_ArrowArray).cast()) };
        let ours_schema = unsafe { arrow_cabi::ffi::FFI_ArrowSchema::from_raw((&mut s as *mut arrow::ffi::FFI_ArrowSchema).cast()) };
        let back = unsafe { arrow_cabi::ffi::from_ffi(ours_array, &ours_schema) }.unwrap();
        assert_eq!(arrow::array::make_array(back).as_ref(), array.as_ref());
    }
}
