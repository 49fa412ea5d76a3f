//! Schema checks: the importer's checks (format strings, flags, metadata, names, children,
//! dictionaries, maps) on a schema the producer still owns.

use arrow_cabi_sys::ArrowSchema;
use arrow_schema::Field;

use super::{rules, Finding};
use crate::schema::FFI_ArrowSchema;

/// The release callback of a borrowed copy: marks the copy released, frees nothing.
unsafe extern "C" fn forget(schema: *mut ArrowSchema) {
    // SAFETY: called by our own owner with a pointer to its copy.
    unsafe { (*schema).release = None };
}

/// A copy of `raw` that reads the producer's schema without owning it: dropping it calls [`forget`].
fn borrowed(raw: &ArrowSchema) -> FFI_ArrowSchema {
    let copy = ArrowSchema { release: raw.release.map(|_| forget as unsafe extern "C" fn(*mut ArrowSchema)), ..*raw };
    // SAFETY: the copy has the producer's fields and a release of ours that frees nothing; the
    // producer's struct outlives it (the copy is dropped before the producer's release is called).
    unsafe { FFI_ArrowSchema::from_sys(copy) }
}

/// Imports the producer's schema at `raw` as a field; a refusal is a finding at `context`.
pub(crate) fn field(raw: &ArrowSchema, context: &str) -> Result<Field, Finding> {
    crate::schema::import_field(&borrowed(raw)).map_err(|e| rules::finding(e, context))
}
