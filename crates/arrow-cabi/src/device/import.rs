//! Device array export and import of host memory: arrow-rs's `to_device_ffi`, `from_device_ffi`,
//! `from_device_ffi_and_data_type`, and the typed calls beside the plain ones.
//!
//! Every import goes through [`FFI_ArrowDeviceArray::into_host_array`] (CPU only, the array
//! released on refusal) and then the plain importer, whose errors here name paths from
//! `device_array.array`. No `unsafe` block here: the two `unsafe fn`s are so only for arrow-rs's
//! signatures.

use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch};
use arrow_data::ArrayData;
use arrow_schema::{ArrowError, DataType, Field};

use super::FFI_ArrowDeviceArray;
use crate::array::{import_array_at, import_array_data_at, import_batch_at, ImportPlan, Nullability, Validation};
use crate::error::Result;
use crate::schema::{self, FFI_ArrowSchema};

/// The root of the field paths a device array's errors name.
const ROOT: &str = "device_array.array";

/// Exports `data` as a CPU device array with a schema of its bare data type. The arrow-rs
/// `to_device_ffi`; costs what [`to_ffi`](crate::ffi::to_ffi) costs.
pub fn to_device_ffi(data: &ArrayData) -> Result<(FFI_ArrowDeviceArray, FFI_ArrowSchema), ArrowError> {
    Ok((FFI_ArrowDeviceArray::new_cpu(data), FFI_ArrowSchema::try_from(data.data_type())?))
}

/// Imports a CPU device array described by `schema`, at [`Validation::Default`]. The arrow-rs
/// `from_device_ffi`. Any device type but CPU is an error naming it (the array is released).
///
/// # Safety
/// None beyond the types' invariants; `unsafe` only to keep arrow-rs's signature.
pub unsafe fn from_device_ffi(array: FFI_ArrowDeviceArray, schema: &FFI_ArrowSchema) -> Result<ArrayData, ArrowError> {
    let data_type = DataType::try_from(schema)?;
    Ok(import_array_data_at(array.into_host_array()?, &data_type, Validation::Default, ROOT)?)
}

/// Imports a CPU device array of a known data type, at [`Validation::Default`]. The arrow-rs
/// `from_device_ffi_and_data_type`.
///
/// # Safety
/// As [`from_device_ffi`].
pub unsafe fn from_device_ffi_and_data_type(array: FFI_ArrowDeviceArray, data_type: DataType) -> Result<ArrayData, ArrowError> {
    Ok(import_array_data_at(array.into_host_array()?, &data_type, Validation::Default, ROOT)?)
}

/// Imports a CPU device array as a typed array of `data_type`, checked at `validation`:
/// [`import_array_as`](crate::array::import_array_as) after the device check, zero-copy, with
/// errors at `device_array.array...`.
pub fn import_device_array_as(array: FFI_ArrowDeviceArray, data_type: &DataType, validation: Validation) -> Result<ArrayRef> {
    import_array_at(array.into_host_array()?, &ImportPlan::new(data_type), validation, ROOT)
}

/// Imports a CPU device array and its schema as a field and an array (what
/// `__arrow_c_device_array__` hands over).
pub fn import_device_array(array: FFI_ArrowDeviceArray, schema: &FFI_ArrowSchema, validation: Validation) -> Result<(Field, ArrayRef)> {
    // The schema first, as the plain import; a bad schema still releases the array (dropped).
    let field = schema::import_field(schema)?;
    let array = import_device_array_as(array, field.data_type(), validation)?;
    Ok((field, array))
}

/// Imports a CPU device array of a record batch and its schema, as
/// [`import_batch_from`](crate::import_batch_from) imports the plain pair.
pub fn import_device_batch_from(
    array: FFI_ArrowDeviceArray,
    schema: &FFI_ArrowSchema,
    validation: Validation,
    nullability: Nullability,
) -> Result<RecordBatch> {
    let schema = Arc::new(schema::import_schema(schema)?);
    let plan = ImportPlan::with_nullability(&DataType::Struct(schema.fields().clone()), nullability);
    import_batch_at(array.into_host_array()?, &schema, &plan, validation, ROOT)
}

/// Exports an array with its field as a CPU device array, as
/// [`export_array`](crate::export_array) exports the plain pair.
pub fn export_device_array(array: &ArrayRef, field: &Field) -> Result<(FFI_ArrowDeviceArray, FFI_ArrowSchema)> {
    let schema = FFI_ArrowSchema::try_from(field)?;
    Ok((FFI_ArrowDeviceArray::from_array(array.clone()), schema))
}

/// Exports a record batch with its schema as a CPU device array, as
/// [`export_batch`](crate::export_batch) exports the plain pair.
pub fn export_device_batch(batch: &RecordBatch) -> Result<(FFI_ArrowDeviceArray, FFI_ArrowSchema)> {
    let (array, schema) = crate::export_batch(batch)?;
    Ok((FFI_ArrowDeviceArray::from_host(array), schema))
}
