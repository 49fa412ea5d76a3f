//! Imports an `ArrowSchema` tree built from the fuzz bytes (see README.md) through every public
//! schema import: `DataType`, `Field` and `Schema` from `&FFI_ArrowSchema`, then the `ImportPlan`
//! of what was accepted. A finding: a panic, a sanitizer report, a release count other than one on
//! the root (the schema is borrowed: the importer must release nothing), or an accepted type that
//! arrow-cabi cannot export and import back as itself.
#![no_main]

use arrow_cabi::ffi::FFI_ArrowSchema;
use arrow_cabi::{ImportPlan, Nullability};
use arrow_cabi_fuzz::desc::SchemaDesc;
use arrow_cabi_fuzz::input::Reader;
use arrow_cabi_fuzz::producer::Producer;
use arrow_schema::{DataType, Field, Schema};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let desc = SchemaDesc::read(&mut Reader::new(data));
    let producer = Producer::new();
    // SAFETY: the producer built a schema that follows the C Data Interface in everything an
    // importer cannot check (pointers valid, strings NUL-terminated, allocations as claimed).
    let schema = unsafe { FFI_ArrowSchema::from_sys(producer.schema(&desc)) };
    let data_type = DataType::try_from(&schema);
    let field = Field::try_from(&schema);
    let batch_schema = Schema::try_from(&schema);
    if let Ok(data_type) = &data_type {
        let _ = format!("{data_type:?}");
        let plan = ImportPlan::with_nullability(data_type, Nullability::Relax);
        assert_eq!(plan.data_type(), data_type);
        let _ = ImportPlan::new(data_type);
    }
    if let Ok(field) = &field {
        assert_eq!(Ok(field.data_type()), data_type.as_ref().map_err(|_| ()), "Field and DataType imports disagree");
        let exported = FFI_ArrowSchema::try_from(field).expect("an imported field exports");
        let again = Field::try_from(&exported).expect("an exported field imports");
        assert_eq!(&again, field, "an accepted field does not survive export and import");
    }
    if let Ok(batch_schema) = &batch_schema {
        let _ = format!("{batch_schema:?}");
    }
    drop(schema);
    producer.check_releases();
});
