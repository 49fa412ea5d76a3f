//! What an import accepted at `Validation::Full` must satisfy, or the target reports a finding.

use arrow_array::{Array, RecordBatch};

/// Panics unless `array` passes arrow-rs's `ArrayData::validate_full`, formats with `{:?}` and
/// equals itself. `what` names the import in the message.
pub fn accepted_array(what: &str, array: &dyn Array) {
    let data = array.to_data();
    if let Err(error) = data.validate_full() {
        panic!("{what}: accepted at Full, but arrow-rs's validate_full fails: {error}\n{data:?}");
    }
    let _ = format!("{array:?}");
    assert!(data == data.clone(), "{what}: the imported array does not equal itself");
}

/// As [`accepted_array`], for each column of a batch and for the batch itself.
pub fn accepted_batch(what: &str, batch: &RecordBatch) {
    for (i, column) in batch.columns().iter().enumerate() {
        accepted_array(&format!("{what}, column {i}"), column.as_ref());
    }
    let _ = format!("{batch:?}");
    assert!(batch == &batch.clone(), "{what}: the imported batch does not equal itself");
}
