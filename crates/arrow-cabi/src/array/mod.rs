//! `ArrowArray`: the owned struct [`FFI_ArrowArray`], export of arrow-rs arrays and validated import.

mod export;
mod import;

use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch};
use arrow_cabi_sys::ArrowArray;
use arrow_data::ArrayData;
use arrow_schema::{ArrowError, DataType, Field, SchemaRef};

use crate::error::Result;
use crate::schema::FFI_ArrowSchema;
use import::validate::Level;
pub(crate) use export::Counts as ExportCounts;
pub use import::{ImportPlan, Nullability, Validation};

crate::owned::owned_struct! {
    /// An owned `ArrowArray`: released when dropped, unless it was moved out or is already released.
    ///
    /// `#[repr(transparent)]` over [`arrow_cabi_sys::ArrowArray`], so a pointer to it can be handed to C
    /// as a `struct ArrowArray*`. Made by export ([`FFI_ArrowArray::new`]), filled by a producer through
    /// [`as_mut_ptr`](Self::as_mut_ptr) on an [`empty`](Self::empty) one, or moved in with
    /// [`from_raw`](Self::from_raw). Every value of this type is released or follows the C Data
    /// Interface.
    ///
    /// `Send` and `Sync`, as in arrow-rs: the interface lets an array be released from any thread, and
    /// `&self` only reads it.
    pub struct FFI_ArrowArray(ArrowArray): "array", "C Data Interface";
}

// SAFETY: shared references only read the struct.
unsafe impl Sync for FFI_ArrowArray {}

impl FFI_ArrowArray {
    /// Exports `data` without copying its buffers: its fields are written as they are, without
    /// building typed arrays, into one heap block for the whole tree of nodes, as
    /// [`from_array`](Self::from_array) writes. The export keeps each buffer it points at (a reference
    /// count, in one vector), not a clone of `data`, until the consumer releases it. Costs two heap
    /// blocks and nothing per row or per byte (but the copies `from_array` makes, of a validity bitmap
    /// that starts at a bit the C offset cannot express and of the sizes buffer of views).
    ///
    /// Never panics on data arrow-rs accepts: buffers are not reinterpreted as typed values, so an
    /// empty buffer whose pointer is not aligned for its values is passed on as it is (the interface
    /// only recommends alignment, and a consumer reads no byte of an empty buffer).
    pub fn new(data: &ArrayData) -> Self {
        FFI_ArrowArray(export::export_data(data))
    }

    /// Exports `data` as [`new`](Self::new) does, then drops it (the export keeps its buffers).
    pub fn from_data(data: ArrayData) -> Self {
        Self::new(&data)
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
/// Cost: compiling `data_type`'s [`ImportPlan`] (one small allocation per nested node; keep one and
/// call [`import_array_with`] to pay it once), then O(1) per buffer and node below
/// [`Validation::Full`] (one allocation per buffer and one per node), O(data) at it.
pub fn import_array_as(array: FFI_ArrowArray, data_type: &DataType, validation: Validation) -> Result<ArrayRef> {
    import_array_with(array, &ImportPlan::new(data_type), validation)
}

/// Imports `array` as a typed array of `plan`'s data type, checked at `validation`; zero-copy.
///
/// Cost: O(1) per buffer and node below [`Validation::Full`] (one allocation per buffer and one per
/// node), O(data) at it; nothing is decided per node that the plan decided already.
pub fn import_array_with(array: FFI_ArrowArray, plan: &ImportPlan, validation: Validation) -> Result<ArrayRef> {
    import_array_at(array, plan, validation, "array")
}

/// As [`import_array_with`], with errors naming paths from `root` (the device layer's
/// `device_array.array`).
pub(crate) fn import_array_at(array: FFI_ArrowArray, plan: &ImportPlan, validation: Validation, root: &str) -> Result<ArrayRef> {
    // SAFETY: the invariant of `FFI_ArrowArray`: released (refused first) or valid per the interface.
    unsafe { import::import_array(array.into_sys(), plan, Level::Checked(validation), root) }
}

/// Imports `array`, a struct array without nulls, as a record batch of `schema` (the columns are the
/// struct's children), checked at `validation`; zero-copy.
///
/// Cost: compiling the schema's [`ImportPlan`] (see [`import_batch_with`] to keep one), then as
/// [`import_array_as`] for the columns, minus the struct array (two allocations): one allocation per
/// buffer and one per column, plus the batch's vector of columns.
pub fn import_batch(array: FFI_ArrowArray, schema: &SchemaRef, validation: Validation) -> Result<RecordBatch> {
    let plan = ImportPlan::new(&DataType::Struct(schema.fields().clone()));
    import_batch_with(array, schema, &plan, validation)
}

/// As [`import_batch`], with the plan of the struct type of `schema`'s fields at hand (a stream
/// reader keeps one for all its batches). A plan of another type is refused, or its batches fail.
pub fn import_batch_with(array: FFI_ArrowArray, schema: &SchemaRef, plan: &ImportPlan, validation: Validation) -> Result<RecordBatch> {
    import_batch_at(array, schema, plan, validation, "array")
}

/// As [`import_batch_with`], with errors naming paths from `root` (the device layer's
/// `device_array.array`).
pub(crate) fn import_batch_at(
    array: FFI_ArrowArray,
    schema: &SchemaRef,
    plan: &ImportPlan,
    validation: Validation,
    root: &str,
) -> Result<RecordBatch> {
    if !matches!(plan.data_type(), DataType::Struct(fields) if fields == schema.fields()) {
        return Err(crate::Error::Unsupported(format!(
            "the import plan is for {}, not for the schema's struct of {} fields",
            plan.data_type(),
            schema.fields().len()
        )));
    }
    // SAFETY: the invariant of `FFI_ArrowArray`: released (refused first) or valid per the interface.
    unsafe { import::import_batch(array.into_sys(), schema, plan, Level::Checked(validation), root) }
}

/// As [`import_array_as`], as the `ArrayData` arrow-rs's `from_ffi` returns, built directly (no typed
/// array is built and taken apart): one allocation per node and its vector of buffers. At
/// [`Validation::Full`] each node's typed array is built for its checks.
pub fn import_array_data(array: FFI_ArrowArray, data_type: &DataType, validation: Validation) -> Result<ArrayData> {
    import_array_data_at(array, data_type, validation, "array")
}

/// As [`import_array_data`], with errors naming paths from `root` (the device layer's
/// `device_array.array`).
pub(crate) fn import_array_data_at(array: FFI_ArrowArray, data_type: &DataType, validation: Validation, root: &str) -> Result<ArrayData> {
    // SAFETY: the invariant of `FFI_ArrowArray`: released (refused first) or valid per the interface.
    unsafe { import::import_array_data(array.into_sys(), &ImportPlan::new(data_type), Level::Checked(validation), root) }
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
    unsafe { import::import_array(array.into_sys(), &ImportPlan::new(data_type), Level::Structure, "array") }
}

/// Imports an array and its schema as a field and an [`ArrayRef`]: the usual one-call import.
pub fn import_array(array: FFI_ArrowArray, schema: &FFI_ArrowSchema, validation: Validation) -> Result<(Field, ArrayRef)> {
    let field = crate::schema::import_field(schema)?;
    let array = import_array_as(array, field.data_type(), validation)?;
    Ok((field, array))
}

/// Exports an array with its field (name, nullability and metadata, extension types included), as
/// [`FFI_ArrowArray::from_array`] does.
pub fn export_array(array: &ArrayRef, field: &Field) -> Result<(FFI_ArrowArray, FFI_ArrowSchema)> {
    let schema = FFI_ArrowSchema::try_from(field)?;
    Ok((FFI_ArrowArray::from_array(array.clone()), schema))
}

/// Exports a record batch with its schema: the struct array the interface sends for a batch (no
/// nulls, the columns as children) and the schema as a struct (`+s`) whose children are the fields
/// and whose metadata is the schema's. What `__arrow_c_array__` of a record batch hands over.
///
/// Cost: one heap block for all the array's nodes (as [`FFI_ArrowArray::from_batch`]), the schema's
/// export, and a clone of the batch (an `Arc` per column); no buffer is copied.
pub fn export_batch(batch: &RecordBatch) -> Result<(FFI_ArrowArray, FFI_ArrowSchema)> {
    let schema = FFI_ArrowSchema::try_from(batch.schema_ref().as_ref())?;
    Ok((FFI_ArrowArray::from_batch(batch.clone()), schema))
}

/// Imports a record batch and its schema, as [`export_batch`] or any producer of
/// `__arrow_c_array__` for a batch hands them over: the schema (a struct) is imported and compiled
/// into its [`ImportPlan`], then the array is imported as a batch of it, checked at `validation`.
/// Errors in either name their field path (`schema.children[3].format`, `array.children[3]...`).
/// Nulls in a column marked non-nullable are an error under [`Nullability::Enforce`]; under
/// [`Nullability::Relax`] the batch's schema marks such columns nullable instead.
///
/// Cost: the schema's import and plan (per call; a caller crossing many batches of one schema keeps
/// both and calls [`import_batch_with`]), then as [`import_batch`].
pub fn import_batch_from(
    array: FFI_ArrowArray,
    schema: &FFI_ArrowSchema,
    validation: Validation,
    nullability: Nullability,
) -> Result<RecordBatch> {
    let schema = Arc::new(crate::schema::import_schema(schema)?);
    let plan = ImportPlan::with_nullability(&DataType::Struct(schema.fields().clone()), nullability);
    import_batch_with(array, &schema, &plan, validation)
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
