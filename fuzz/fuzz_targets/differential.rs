//! The same fuzz-built array (as `array_import` builds it, against a type from the table) imported
//! by arrow-cabi at `Validation::Full` and by arrow-rs's `ffi::from_ffi` followed by
//! `ArrayData::validate_full`. arrow-rs gets only the inputs it can read without reading out of
//! bounds (`gate.rs`); its panics are caught (with the panic hook that libfuzzer-sys installs, which
//! aborts, set aside meanwhile) and count as a rejection. A finding: the two disagree on validity,
//! or both accept and the arrays differ; or anything `array_import` finds.
#![no_main]

use std::panic::{self, AssertUnwindSafe};

use arrow_array::ffi as arrow_ffi;
use arrow_cabi::array::import_array_as;
use arrow_cabi::ffi::FFI_ArrowArray;
use arrow_cabi::Validation;
use arrow_cabi_fuzz::case::ArrayCase;
use arrow_cabi_fuzz::check;
use arrow_cabi_fuzz::desc::ArrayDesc;
use arrow_cabi_fuzz::gate::{arrow_rs_can_read, arrow_rs_known_fault, arrow_rs_known_leniency};
use arrow_cabi_fuzz::input::Reader;
use arrow_cabi_fuzz::producer::Producer;
use arrow_data::ArrayData;
use arrow_schema::DataType;
use libfuzzer_sys::fuzz_target;

/// arrow-rs's import and full validation of the array `producer` builds from `desc`; `Err` with
/// the error or the panic's message.
fn arrow_rs(producer: &Producer, desc: &ArrayDesc, data_type: &DataType) -> Result<ArrayData, String> {
    let schema = arrow_ffi::FFI_ArrowSchema::try_from(data_type).map_err(|e| e.to_string())?;
    let mut raw = producer.array(desc);
    // SAFETY: arrow-rs's FFI_ArrowArray has abi.h's layout; `raw` is moved out (left released).
    let array = unsafe { arrow_ffi::FFI_ArrowArray::from_raw((&mut raw as *mut arrow_cabi_sys::ArrowArray).cast()) };
    let hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    // SAFETY: the gate let through only arrays whose buffers cover every byte arrow-rs reads.
    let result = panic::catch_unwind(AssertUnwindSafe(|| unsafe { arrow_ffi::from_ffi(array, &schema) }.and_then(|data| data.validate_full().map(|()| data))));
    panic::set_hook(hook);
    match result {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(panic) => Err(format!("panic: {}", panic.downcast_ref::<String>().map(String::as_str).or(panic.downcast_ref::<&str>().copied()).unwrap_or("?"))),
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Reader::new(data);
    // The call byte is array_import's; read here so that the targets share a corpus.
    let Some(ArrayCase { data_type, desc, .. }) = ArrayCase::read_fitted(&mut input) else {
        return; // a buffer would have to be larger than the producer hands out
    };
    let producer = Producer::new();
    // SAFETY: as in array_import.
    let ours = import_array_as(unsafe { FFI_ArrowArray::from_sys(producer.array(&desc)) }, data_type, Validation::Full);
    if let Ok(array) = &ours {
        check::accepted_array("differential", array.as_ref());
    }
    if arrow_rs_can_read(&desc, data_type) {
        let theirs = arrow_rs(&producer, &desc, data_type);
        match (&ours, &theirs) {
            (Ok(ours), Ok(theirs)) => assert!(&ours.to_data() == theirs, "{data_type}: both accept, values differ:\narrow-cabi {ours:?}\narrow-rs {theirs:?}"),
            (Ok(_), Err(error)) if arrow_rs_known_fault(error).is_some() => {}
            (Ok(ours), Err(error)) => panic!("{data_type}: arrow-cabi accepts at Full, arrow-rs rejects ({error}):\n{ours:?}"),
            (Err(error), Ok(_)) if arrow_rs_known_leniency(&error.to_string(), &desc, data_type).is_some() => {}
            (Err(error), Ok(theirs)) => panic!("{data_type}: arrow-rs accepts, arrow-cabi rejects at Full ({error}):\n{theirs:?}"),
            (Err(_), Err(_)) => {}
        }
    }
    drop(ours);
    producer.check_releases();
});
