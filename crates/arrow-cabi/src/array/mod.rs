//! `ArrowArray`: the owned struct [`FFI_ArrowArray`], export of arrow-rs arrays and validated import.

mod build;
mod export;
mod full;
mod import;
mod leaf;
mod validate;

use arrow_array::{ArrayRef, RecordBatch};
use arrow_cabi_sys::ArrowArray;
use arrow_data::ArrayData;
use arrow_schema::{ArrowError, DataType, Field, SchemaRef};

use crate::error::Result;
use crate::schema::FFI_ArrowSchema;
use validate::Level;
pub(crate) use export::Counts as ExportCounts;
pub use validate::Validation;

crate::owned::owned_struct! {
    /// An owned `ArrowArray`: released when dropped, unless it was moved out or is already released.
    ///
    /// `#[repr(transparent)]` over [`arrow_cabi_sys::ArrowArray`], so a pointer to it can be handed to C
    /// as a `struct ArrowArray*`. Made by export ([`FFI_ArrowArray::new`]), filled by a producer through
    /// [`as_mut_ptr`](Self::as_mut_ptr) on an [`empty`](Self::empty) one, or moved in with
    /// [`from_raw`](Self::from_raw). Every value of this type is released or follows the C Data
    /// Interface.
    pub struct FFI_ArrowArray(ArrowArray): "array", "C Data Interface";
}

// SAFETY: shared references only read the struct.
unsafe impl Sync for FFI_ArrowArray {}

impl FFI_ArrowArray {
    /// Exports `data` without copying its buffers. The export keeps `data`'s buffers alive until the
    /// consumer releases it. Costs a clone of `data` (one small vector per node) and the export of
    /// [`from_data`](Self::from_data).
    pub fn new(data: &ArrayData) -> Self {
        Self::from_data(data.clone())
    }

    /// Exports `data`, taking it over: builds its typed array (one allocation per node, as arrow-rs's
    /// `make_array` does) and exports that as [`from_array`](Self::from_array) does.
    pub fn from_data(data: ArrayData) -> Self {
        Self::from_array(arrow_array::make_array(data))
    }

    /// Exports `array`, keeping it alive until the consumer releases the export: one heap block for
    /// the whole tree of nodes, whatever its size, and nothing per row or per byte (but a copy of a
    /// validity bitmap that starts at a bit the C offset cannot express, and the sizes buffer of views).
    pub fn from_array(array: ArrayRef) -> Self {
        FFI_ArrowArray(export::export_array(export::Root::Array(array), None))
    }

    /// Exports a record batch as the struct array the interface sends (no nulls, the columns as
    /// children), as [`from_array`](Self::from_array) does, in one heap block.
    pub fn from_batch(batch: RecordBatch) -> Self {
        FFI_ArrowArray(export::export_array(export::Root::Batch(batch), None))
    }

    /// As [`from_batch`](Self::from_batch), with the export's counts known beforehand (from the
    /// stream's schema, whose types the batch's columns have).
    pub(crate) fn from_batch_counted(batch: RecordBatch, counts: Option<ExportCounts>) -> Self {
        FFI_ArrowArray(export::export_array(export::Root::Batch(batch), counts))
    }

    /// The length in elements (0 if negative).
    pub fn len(&self) -> usize {
        usize::try_from(self.0.length).unwrap_or(0)
    }

    /// Whether the length is 0.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The offset in elements (0 if negative).
    pub fn offset(&self) -> usize {
        usize::try_from(self.0.offset).unwrap_or(0)
    }

    /// The null count; 0 when the producer did not compute it (-1).
    pub fn null_count(&self) -> usize {
        self.null_count_opt().unwrap_or(0)
    }

    /// The null count, or `None` when the producer did not compute it (-1).
    pub fn null_count_opt(&self) -> Option<usize> {
        usize::try_from(self.0.null_count).ok()
    }

    /// Sets the null count (arrow-rs's setter; -1 means "not computed").
    ///
    /// # Safety
    /// `null_count` is -1 or the number of nulls the array's validity bitmap holds: importers trust it.
    pub unsafe fn set_null_count(&mut self, null_count: i64) {
        self.0.null_count = null_count;
    }

    /// The number of buffers (0 if negative).
    pub fn num_buffers(&self) -> usize {
        usize::try_from(self.0.n_buffers).unwrap_or(0)
    }

    /// The pointer of buffer `index` (arrow-rs's accessor; NULL where the producer left it NULL).
    ///
    /// # Panics
    /// If `index >= num_buffers()` (the caller's misuse, as in arrow-rs) or the producer's `buffers`
    /// array is NULL. [`buffer_opt`](Self::buffer_opt) never panics; import never calls this.
    pub fn buffer(&self, index: usize) -> *const u8 {
        assert!(index < self.num_buffers(), "buffer index {index} out of range: the array has {} buffers", self.num_buffers());
        self.buffer_opt(index).expect("the producer left the buffers array NULL")
    }

    /// The pointer of buffer `index`, or `None` past the end or where the `buffers` array is NULL. Free.
    pub fn buffer_opt(&self, index: usize) -> Option<*const u8> {
        if index >= self.num_buffers() || self.0.buffers.is_null() {
            return None;
        }
        // SAFETY: the type's invariant: `buffers` holds `n_buffers` pointers.
        Some(unsafe { *self.0.buffers.add(index) }.cast())
    }

    /// The number of children (0 if negative).
    pub fn num_children(&self) -> usize {
        usize::try_from(self.0.n_children).unwrap_or(0)
    }

    /// The child at `index` (arrow-rs's accessor).
    ///
    /// # Panics
    /// If `index >= num_children()` (the caller's misuse, as in arrow-rs), or if the producer left the
    /// child pointer NULL. [`child_opt`](Self::child_opt) never panics; import never calls this.
    pub fn child(&self, index: usize) -> &FFI_ArrowArray {
        assert!(index < self.num_children(), "child index {index} out of range: the array has {} children", self.num_children());
        self.child_opt(index).expect("the producer left a child pointer NULL")
    }

    /// The child at `index`, or `None` past the end or where the pointer is NULL. Free.
    pub fn child_opt(&self, index: usize) -> Option<&FFI_ArrowArray> {
        if index >= self.num_children() || self.0.children.is_null() {
            return None;
        }
        // SAFETY: the type's invariant: `children` holds `n_children` pointers, each NULL or to an array
        // as valid as this one; `FFI_ArrowArray` is `repr(transparent)` over `ArrowArray`.
        unsafe { (*self.0.children.add(index)).cast::<FFI_ArrowArray>().as_ref() }
    }

    /// The dictionary values, for a dictionary-encoded array.
    pub fn dictionary(&self) -> Option<&FFI_ArrowArray> {
        // SAFETY: the type's invariant, as in `child`.
        unsafe { self.0.dictionary.cast::<FFI_ArrowArray>().as_ref() }
    }
}

/// Imports `array` as a typed array of `data_type`, checked at `validation`; zero-copy (see the crate
/// docs).
///
/// Cost: O(1) per buffer and node below [`Validation::Full`] (one allocation per buffer and one per
/// node), O(data) at it.
pub fn import_array_as(array: FFI_ArrowArray, data_type: &DataType, validation: Validation) -> Result<ArrayRef> {
    // SAFETY: the invariant of `FFI_ArrowArray`: released (refused first) or valid per the interface.
    unsafe { import::import_array(array.into_sys(), data_type, Level::Checked(validation)) }
}

/// Imports `array`, a struct array without nulls, as a record batch of `schema` (the columns are the
/// struct's children), checked at `validation`; zero-copy.
///
/// Cost: as [`import_array_as`] for the columns, minus the struct array that importing the root as an
/// array would build (two allocations): one allocation per buffer and one per column, plus the
/// batch's vector of columns.
pub fn import_batch(array: FFI_ArrowArray, schema: &SchemaRef, validation: Validation) -> Result<RecordBatch> {
    import_batch_of(array, schema, &DataType::Struct(schema.fields().clone()), validation)
}

/// As [`import_batch`], with the struct type of `schema`'s fields at hand (a stream reader keeps it).
pub(crate) fn import_batch_of(
    array: FFI_ArrowArray,
    schema: &SchemaRef,
    data_type: &DataType,
    validation: Validation,
) -> Result<RecordBatch> {
    // SAFETY: the invariant of `FFI_ArrowArray`: released (refused first) or valid per the interface.
    unsafe { import::import_batch(array.into_sys(), schema, data_type, Level::Checked(validation)) }
}

/// As [`import_array_as`], as `ArrayData` (one more small vector per node).
pub fn import_array_data(array: FFI_ArrowArray, data_type: &DataType, validation: Validation) -> Result<ArrayData> {
    import_array_as(array, data_type, validation).map(|array| array.to_data())
}

/// Imports `array` as `data_type` with only the structural checks every import runs (see
/// [`Validation`]): the "none" level, below [`Validation::Minimal`].
///
/// # Safety
/// The array follows the C Data Interface *and* is internally consistent for `data_type`: every child
/// as long as its parent indexes, every offset in range, UTF-8 where required, union ids and run ends
/// valid, as arrow-rs's `ArrayData::validate_full` would accept.
pub unsafe fn import_array_unchecked(array: FFI_ArrowArray, data_type: &DataType) -> Result<ArrayRef> {
    // SAFETY: as `import_array_as`; the stronger caller guarantee makes skipping the checks sound.
    unsafe { import::import_array(array.into_sys(), data_type, Level::Structure) }
}

/// Imports an array and its schema as a field and an [`ArrayRef`]: the usual one-call import.
pub fn import_array(array: FFI_ArrowArray, schema: &FFI_ArrowSchema, validation: Validation) -> Result<(Field, ArrayRef)> {
    let field = Field::try_from(schema)?;
    let array = import_array_as(array, field.data_type(), validation)?;
    Ok((field, array))
}

/// Exports an array with its field (name, nullability and metadata, extension types included), as
/// [`FFI_ArrowArray::from_array`] does.
pub fn export_array(array: &ArrayRef, field: &Field) -> Result<(FFI_ArrowArray, FFI_ArrowSchema)> {
    let schema = FFI_ArrowSchema::try_from(field)?;
    Ok((FFI_ArrowArray::from_array(array.clone()), schema))
}

/// Exports `data` with a schema of its bare data type. The arrow-rs `to_ffi`.
pub fn to_ffi(data: &ArrayData) -> Result<(FFI_ArrowArray, FFI_ArrowSchema), ArrowError> {
    Ok((FFI_ArrowArray::new(data), FFI_ArrowSchema::try_from(data.data_type())?))
}

/// Imports an array described by `schema`, at the default validation level. The arrow-rs `from_ffi`.
///
/// # Safety
/// None beyond the types' invariants; `unsafe` only to keep arrow-rs's signature. Both structs are
/// checked, and a malformed one is an `Err`.
pub unsafe fn from_ffi(array: FFI_ArrowArray, schema: &FFI_ArrowSchema) -> Result<ArrayData, ArrowError> {
    let data_type = DataType::try_from(schema)?;
    Ok(import_array_data(array, &data_type, Validation::Default)?)
}

/// Imports an array of a known data type, at the default validation level. The arrow-rs
/// `from_ffi_and_data_type`.
///
/// # Safety
/// As [`from_ffi`].
pub unsafe fn from_ffi_and_data_type(array: FFI_ArrowArray, data_type: DataType) -> Result<ArrayData, ArrowError> {
    Ok(import_array_data(array, &data_type, Validation::Default)?)
}
