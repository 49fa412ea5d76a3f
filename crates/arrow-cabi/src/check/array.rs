//! Array checks: the data at full validation (buffers, offsets, UTF-8, union ids, run ends,
//! dictionary keys, null counts), imported from a copy so the producer keeps its array, then the
//! producer's release under watch, with one child moved out first.

use arrow_cabi_sys::{ArrowArray, ArrowSchema};
use arrow_schema::{DataType, SchemaRef};

use super::device::Reach;
use super::release::{release_moved, release_watched};
use super::spy::release_once;
use super::{nulls, rules, schema, Finding, Observer, Rule, Summary};
use crate::array::{import_array_with, import_batch_with, FFI_ArrowArray};
use crate::device::{ArrowDeviceType, DeviceArrayTree, FFI_ArrowDeviceArray};
use crate::{ImportPlan, Validation};

/// The release callback of a borrowed copy: marks the copy released, frees nothing.
unsafe extern "C" fn forget(array: *mut ArrowArray) {
    // SAFETY: called by our own owner with a pointer to its copy.
    unsafe { (*array).release = None };
}

/// A copy of `raw` that reads the producer's array without owning it: dropping the imported data
/// calls [`forget`], and only the base struct's release is ever called by an importer.
fn borrowed(raw: &ArrowArray) -> FFI_ArrowArray {
    let copy = ArrowArray { release: raw.release.map(|_| forget as unsafe extern "C" fn(*mut ArrowArray)), ..*raw };
    // SAFETY: the copy has the producer's fields and a release of ours that frees nothing; the
    // producer's array outlives everything imported from the copy (dropped before it is released).
    unsafe { FFI_ArrowArray::from_sys(copy) }
}

/// A refusal of a batch's own shape (its child count, at `context` itself) is a mismatch with the
/// stream's schema.
fn as_schema_match(mut finding: Finding, context: &str) -> Finding {
    let own = finding.path.strip_prefix(context).unwrap_or("");
    if own.is_empty() || own == ".n_children" {
        finding.rule = Rule::StreamSchemaMatch;
    }
    finding
}

/// Checks `raw` as `reach` allows: its data at full validation ([`batch_data`] when `batch` gives
/// the stream's schema, else [`array_data`]) when it is host memory, only its node structs
/// ([`structure`]) when it is device memory.
pub(crate) fn data(raw: &ArrowArray, plan: &ImportPlan, batch: Option<&SchemaRef>, reach: Reach, context: &str) -> Result<(), Finding> {
    match (reach, batch) {
        (Reach::Host, Some(schema)) => batch_data(raw, schema, plan, context),
        (Reach::Host, None) => array_data(raw, plan, context),
        (Reach::Device(device), batch) => {
            let checked = structure(raw, plan.data_type(), device, context);
            if batch.is_some() {
                checked.map_err(|finding| as_schema_match(finding, context))
            } else {
                checked
            }
        }
    }
}

/// Checks the node structs of `raw` as `data_type` without reading a buffer (they are addresses
/// in `device` memory): [`DeviceArrayTree`] on a borrowed copy (released, signs, buffer and child
/// counts, NULL pointer arrays, dictionaries, depth). A refusal is a finding at `context`.
pub(crate) fn structure(raw: &ArrowArray, data_type: &DataType, device: ArrowDeviceType, context: &str) -> Result<(), Finding> {
    // SAFETY: the copy's buffer pointers are the producer's addresses on `device`; the tree only
    // records them, and reads the node structs, which the interface keeps in host memory. No sync
    // event: nothing reads the buffers.
    let copy = unsafe { FFI_ArrowDeviceArray::new(borrowed(raw), device, -1, std::ptr::null_mut()) };
    DeviceArrayTree::new(copy, data_type).map(drop).map_err(|error| {
        let error = match error {
            // The tree names paths from `device_array.array`; the checks name them from the array.
            crate::Error::Invalid { path, message } => {
                let path = path.strip_prefix("device_array.").map_or(path.clone(), str::to_owned);
                crate::Error::Invalid { path, message }
            }
            other => other,
        };
        rules::finding(error, context)
    })
}

/// Checks `raw` at full validation as a record batch of `schema`, and its null counts against its
/// bitmaps; a refusal is a finding at `context`, one about the batch's own shape (its child count)
/// a mismatch with the schema.
pub(crate) fn batch_data(raw: &ArrowArray, schema: &SchemaRef, plan: &ImportPlan, context: &str) -> Result<(), Finding> {
    import_batch_with(borrowed(raw), schema, plan, Validation::Full).map_err(|error| as_schema_match(rules::finding(error, context), context))?;
    // SAFETY: the importer accepted `raw` as the plan's type at full validation.
    unsafe { nulls::mismatch(raw, plan.data_type(), context) }.map_or(Ok(()), Err)
}

/// Checks `raw` at full validation as an array of `plan`'s type, and its null counts against its
/// bitmaps; a refusal is a finding at `context`.
pub(crate) fn array_data(raw: &ArrowArray, plan: &ImportPlan, context: &str) -> Result<(), Finding> {
    import_array_with(borrowed(raw), plan, Validation::Full).map_err(|error| rules::finding(error, context))?;
    // SAFETY: the importer accepted `raw` as the plan's type at full validation.
    unsafe { nulls::mismatch(raw, plan.data_type(), context) }.map_or(Ok(()), Err)
}

/// Which child a check moves out before releasing a parent of `n_children` (the others get spies):
/// the first when there are two or more; for one child, every other time (`turn` odd), so that both
/// checks run on a stream of one column.
pub(crate) fn move_out(n_children: i64, turn: usize) -> Option<usize> {
    match n_children {
        2.. => Some(0),
        1 if turn % 2 == 1 => Some(0),
        _ => None,
    }
}

/// Releases an array whose data passed the checks, under watch (see `release.rs`), with child
/// `move_out` moved out first; `children` are the types of a struct's fields, for checking the moved
/// child after its parent's release (at full validation, or its node structs as `reach` allows).
///
/// # Safety
/// `raw` is an unreleased array from a producer that the importer (or, for device memory, the
/// structure check) accepted.
pub(crate) unsafe fn release_checked(
    raw: &mut ArrowArray,
    children: &[DataType],
    context: &str,
    move_out: Option<usize>,
    reach: Reach,
    observer: &mut dyn Observer,
) {
    let move_out = move_out.filter(|&index| index < children.len());
    // SAFETY: per the caller; the importer checked the children pointers.
    let moved = unsafe { release_watched(raw, context, move_out, observer) };
    if let Some((path, mut child)) = moved {
        let data_type = &children[move_out.unwrap_or(0)];
        observer.step(&format!("reading {path}, moved out, after its parent's release"));
        if let Err(finding) = data(&child, &ImportPlan::new(data_type), None, reach, &path) {
            observer.finding(Finding::new(
                Rule::MovedChild,
                finding.path,
                format!("invalid once its parent was released: {} ({})", finding.seen, finding.rule),
            ));
        }
        // SAFETY: a child moved out of the producer's array.
        unsafe { release_moved(&mut child, &path, observer) };
    }
}

/// Releases a struct whose checks failed, without touching its children; reports a release that
/// leaves `release` set.
///
/// # Safety
/// `raw` is released or a struct from a producer.
pub(crate) unsafe fn release_plain<T: crate::owned::CStruct>(raw: &mut T, context: &str, observer: &mut dyn Observer) {
    if raw.release().is_some() {
        observer.step(&format!("release of {context}"));
        // SAFETY: per the caller; called once.
        if !unsafe { release_once(raw) } {
            observer.finding(Finding::new(Rule::ReleaseSetsNull, context, "release returned leaving its release callback set"));
            // Reported; never called twice.
            *raw.release_mut() = None;
        }
    }
}

/// The field types of a struct type (the children a check may move out), empty for other types.
pub(crate) fn struct_children(data_type: &DataType) -> Vec<DataType> {
    match data_type {
        DataType::Struct(fields) => fields.iter().map(|f| f.data_type().clone()).collect(),
        _ => Vec::new(),
    }
}

/// Checks one array and its schema, then releases both under watch; the array's data as `reach`
/// allows.
///
/// # Safety
/// Both are released or filled by a producer.
pub(crate) unsafe fn check_pair(array: &mut ArrowArray, schema: &mut ArrowSchema, reach: Reach, observer: &mut dyn Observer) -> Summary {
    let mut summary = Summary::default();
    if schema.release.is_none() {
        observer.finding(Finding::new(Rule::Released, "schema", "the schema was handed over released"));
    }
    if array.release.is_none() {
        observer.finding(Finding::new(Rule::Released, "array", "the array was handed over released"));
    }
    let field = match schema.release {
        Some(_) => schema::field(schema, "schema").map_err(|finding| observer.finding(finding)).ok(),
        None => None,
    };
    if let (Some(field), Some(_)) = (&field, array.release) {
        summary = Summary { batches: 1, rows: u64::try_from(array.length).unwrap_or(0) };
        observer.batch(0, usize::try_from(array.length).unwrap_or(0));
        match data(array, &ImportPlan::new(field.data_type()), None, reach, "array") {
            Ok(()) => {
                let children = struct_children(field.data_type());
                let move_out = move_out(array.n_children, 1);
                // SAFETY: an unreleased array the checks accepted.
                unsafe { release_checked(array, &children, "array", move_out, reach, observer) };
            }
            Err(finding) => observer.finding(finding),
        }
    }
    // SAFETY: released, or a producer's array not yet released.
    unsafe { release_plain(array, "array", observer) };
    if field.is_some() {
        // SAFETY: an unreleased schema the importer accepted.
        unsafe { release_watched(schema, "schema", None, observer) };
    } else {
        // SAFETY: released, or a producer's schema.
        unsafe { release_plain(schema, "schema", observer) };
    }
    summary
}
