//! Imports an `ArrowArray` tree built from the fuzz bytes against a data type from the table
//! (`types.rs`), at `Validation::Full`, through one of the public array imports (the input's second
//! byte picks it). A finding: a panic, a sanitizer report, a leak or double release (every node
//! released exactly once after the imported value is dropped), or an import accepted at Full whose
//! result fails arrow-rs's `validate_full`, `{:?}` or `==` with itself.
#![no_main]

use arrow_cabi::array::{import_array_as, import_array_with};
use arrow_cabi::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use arrow_cabi::{import_array, ImportPlan, Validation};
use arrow_cabi_fuzz::case::ArrayCase;
use arrow_cabi_fuzz::check;
use arrow_cabi_fuzz::input::Reader;
use arrow_cabi_fuzz::producer::Producer;
use arrow_schema::Field;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut input = Reader::new(data);
    let Some(ArrayCase { data_type, call, desc }) = ArrayCase::read_fitted(&mut input) else {
        return; // a buffer would have to be larger than the producer hands out
    };
    let producer = Producer::new();
    // SAFETY: the producer built an array that follows the C Data Interface in everything an
    // importer cannot check (pointers valid, allocations as large as their counts claim).
    let array = unsafe { FFI_ArrowArray::from_sys(producer.array(&desc)) };
    let imported = match call % 3 {
        0 => {
            let schema = FFI_ArrowSchema::try_from(&Field::new("f", data_type.clone(), true)).expect("the table's types export");
            import_array(array, &schema, Validation::Full).map(|(_, array)| array)
        }
        1 => import_array_as(array, data_type, Validation::Full),
        _ => import_array_with(array, &ImportPlan::new(data_type), Validation::Full),
    };
    match &imported {
        Ok(array) => check::accepted_array("array import", array.as_ref()),
        Err(error) => drop(error.to_string()),
    }
    drop(imported);
    producer.check_releases();
});
