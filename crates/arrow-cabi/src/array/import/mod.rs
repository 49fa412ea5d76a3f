//! Array import: a foreign `ArrowArray` tree read, by the plan of its data type, as typed arrays whose
//! buffers point at the producer's memory.
//!
//! - [`plan`]: the data type compiled once into what each node's import needs ([`ImportPlan`]).
//! - [`view`]: the foreign node, checked against its plan; the only reader of producer memory.
//! - [`walk`]: the one importer, following the plan over the views.
//! - [`output`]: what the walk builds each node into: typed arrays ([`build`], their constructors)
//!   or `ArrayData` ([`data`]).
//! - [`validate`]: the levels and their checks; [`full`]: the O(data) checks of [`Validation::Full`].
//!
//! Every imported buffer holds one [`Owner`] through an `Arc`; the owner holds the moved-in base struct
//! and calls its `release` when the last buffer is dropped, so the producer's release runs exactly once.
//! Buffers are copied only when under-aligned for their element type.

mod build;
mod data;
mod full;
mod output;
mod plan;
pub(crate) mod validate;
mod view;
mod walk;

use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch};
use arrow_data::ArrayData;
use arrow_cabi_sys::ArrowArray;
use arrow_schema::{Schema, SchemaRef};

use crate::error::{Path, Result};
pub use plan::{ImportPlan, Nullability};
use build::Typed;
use data::Data;
use output::Output;
use plan::Kind;
use validate::{Checks, Level};
pub use validate::Validation;
use view::View;
use walk::Walk;

/// Owns a moved-in base `ArrowArray`; dropping it calls the producer's `release` once.
#[derive(Debug)]
pub(crate) struct Owner(ArrowArray);

// SAFETY: the interface lets an array be released from any thread, and the owner only reads the
// struct (to find buffers) before its single release in `Drop`.
unsafe impl Send for Owner {}
// SAFETY: as above; shared access never mutates the struct.
unsafe impl Sync for Owner {}

impl Drop for Owner {
    fn drop(&mut self) {
        if let Some(release) = self.0.release {
            // SAFETY: the owner holds the only copy of the moved-in struct; release runs once.
            unsafe { release(&mut self.0) };
        }
    }
}

impl std::panic::RefUnwindSafe for Owner {}

impl Owner {
    /// Takes over `array`, refusing a released one.
    fn take(array: ArrowArray, path: &Path<'_>) -> Result<Arc<Owner>> {
        if array.release.is_none() {
            return Err(path.invalid("the array is released (its release callback is NULL)"));
        }
        Ok(Arc::new(Owner(array)))
    }
}

/// Imports `array` (moved in) as a typed array of `plan`'s type, checked at `level`; errors name
/// paths from `root` (`array`, or `device_array.array` for the array inside a device array).
///
/// # Safety
/// `array` is released or follows the C Data Interface as an array of `plan`'s type: each pointer
/// reachable from it valid, and each buffer at least as long as its length, offset and (for
/// variable-size data) offsets imply.
pub(crate) unsafe fn import_array(array: ArrowArray, plan: &ImportPlan, level: Level, root: &str) -> Result<ArrayRef> {
    // SAFETY: forwarded from the caller.
    unsafe { import::<Typed>(array, plan, level, root) }
}

/// As [`import_array`], as `ArrayData`.
///
/// # Safety
/// As [`import_array`].
pub(crate) unsafe fn import_array_data(array: ArrowArray, plan: &ImportPlan, level: Level, root: &str) -> Result<ArrayData> {
    // SAFETY: forwarded from the caller.
    unsafe { import::<Data>(array, plan, level, root) }
}

/// Imports `array` (moved in) into `O`'s output.
///
/// # Safety
/// As [`import_array`].
unsafe fn import<O: Output>(array: ArrowArray, plan: &ImportPlan, level: Level, root: &str) -> Result<O::Array> {
    let path = Path::root(root);
    let owner = Owner::take(array, &path)?;
    // SAFETY: forwarded from the caller; the owner keeps the struct unreleased while buffers use it.
    let view = unsafe { View::root(&owner.0, &owner, &plan.root, &path)? };
    Walk::<O>::new(Checks::at(level)).array(&view, &plan.root, &path)
}

/// Imports `array` (moved in) as a record batch of `schema`, whose struct type `plan` imports: a
/// struct array without nulls whose children are the columns, read without building the struct array.
/// Errors name paths from `root`, as in [`import_array`].
///
/// # Safety
/// As [`import_array`].
pub(crate) unsafe fn import_batch(
    array: ArrowArray,
    schema: &SchemaRef,
    plan: &ImportPlan,
    level: Level,
    root: &str,
) -> Result<RecordBatch> {
    let path = Path::root(root);
    let node = &plan.root;
    // Taken first, so that every error below releases the array.
    let owner = Owner::take(array, &path)?;
    if !matches!(node.kind, Kind::Struct { .. }) {
        return Err(path.invalid(format!("a record batch must be a struct array, not {}", node.data_type)));
    }
    // SAFETY: as in `import_array`.
    let view = unsafe { View::root(&owner.0, &owner, node, &path)? };
    let walk = Walk::<Typed>::new(Checks::at(level));
    if view.validity(0, walk.checks.full, &path)?.is_some() {
        return Err(path.field("null_count").invalid("a record batch's struct array has top-level nulls"));
    }
    let columns = walk.columns(&view, node, true, &path)?;
    let schema = match walk::relaxed_fields::<Typed>(node, schema.fields(), &columns) {
        None => schema.clone(),
        Some(fields) => Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone())),
    };
    // SAFETY: each column was built from its field's type (or, relaxed, given the field it now has)
    // and aligned to the batch's rows.
    Ok(unsafe { RecordBatch::new_unchecked(schema, columns, view.shape.length) })
}
