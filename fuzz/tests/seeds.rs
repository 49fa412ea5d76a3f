//! The committed seeds are what they claim: every array seed imports at Full (so the encoding, the
//! producer and `sizes.rs` agree with the exports they were made from), arrow-rs is allowed to read
//! every one (`gate.rs` lets valid exports through) and accepts the same values, every schema seed
//! imports, and every stream seed of valid batches reads to its end.

use std::path::{Path, PathBuf};

use arrow_array::ffi as arrow_ffi;
use arrow_cabi::array::import_array_as;
use arrow_cabi::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use arrow_cabi::Validation;
use arrow_cabi_fuzz::case::ArrayCase;
use arrow_cabi_fuzz::desc::SchemaDesc;
use arrow_cabi_fuzz::gate::{arrow_rs_can_read, arrow_rs_known_fault};
use arrow_cabi_fuzz::input::Reader;
use arrow_cabi_fuzz::producer::Producer;
use arrow_cabi_fuzz::types;
use arrow_schema::Field;

fn seeds(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds").join(target);
    let mut out: Vec<_> = std::fs::read_dir(&dir).expect("the seeds are committed").map(|e| e.unwrap().path()).map(|p| (p.clone(), std::fs::read(p).unwrap())).collect();
    out.sort();
    assert!(!out.is_empty());
    out
}

#[test]
fn array_seeds_import_in_both_implementations() {
    for (path, bytes) in seeds("array_import") {
        let mut input = Reader::new(&bytes);
        let ArrayCase { data_type, desc, .. } = ArrayCase::read(&mut input);
        assert!(input.is_empty(), "{path:?}: bytes left over");
        let producer = Producer::new();
        // SAFETY: the producer builds valid C structs.
        let ours = import_array_as(unsafe { FFI_ArrowArray::from_sys(producer.array(&desc)) }, data_type, Validation::Full)
            .unwrap_or_else(|e| panic!("{path:?} ({data_type}): {e}"));
        assert!(arrow_rs_can_read(&desc, data_type), "{path:?} ({data_type}): the gate refuses a valid export");
        let schema = arrow_ffi::FFI_ArrowSchema::try_from(data_type).unwrap();
        let mut raw = producer.array(&desc);
        // SAFETY: arrow-rs's struct has abi.h's layout; `raw` is moved out.
        let theirs = unsafe { arrow_ffi::from_ffi(arrow_ffi::FFI_ArrowArray::from_raw((&mut raw as *mut arrow_cabi_sys::ArrowArray).cast()), &schema) }.unwrap();
        match theirs.validate_full() {
            Ok(()) => assert_eq!(ours.to_data(), theirs, "{path:?}"),
            Err(e) => assert!(arrow_rs_known_fault(&e.to_string()).is_some(), "{path:?}: arrow-rs rejects: {e}"),
        }
        drop((ours, theirs));
        producer.check_releases();
    }
}

#[test]
fn schema_seeds_import() {
    for (path, bytes) in seeds("schema_import") {
        let desc = SchemaDesc::read(&mut Reader::new(&bytes));
        let producer = Producer::new();
        // SAFETY: the producer builds valid C structs.
        let schema = unsafe { FFI_ArrowSchema::from_sys(producer.schema(&desc)) };
        let field = Field::try_from(&schema).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        assert!(types::table().contains(field.data_type()), "{path:?}: {field:?}");
        drop(schema);
        producer.check_releases();
    }
}
