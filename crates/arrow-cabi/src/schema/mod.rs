//! `ArrowSchema`: the owned struct [`FFI_ArrowSchema`], and conversions from and to arrow-rs types.

mod export;
mod import;

pub(crate) use import::MAX_DEPTH;

use std::collections::HashMap;
use std::ffi::{c_char, CStr};

use arrow_cabi_sys::{
    ArrowSchema, ARROW_FLAG_DICTIONARY_ORDERED, ARROW_FLAG_MAP_KEYS_SORTED, ARROW_FLAG_NULLABLE,
};
use arrow_schema::{ArrowError, DataType, Field, FieldRef, Schema};

/// An owned `ArrowSchema`: released when dropped, unless it was moved out or is already released.
///
/// `#[repr(transparent)]` over [`arrow_cabi_sys::ArrowSchema`], so a pointer to it can be handed to C
/// as a `struct ArrowSchema*`. Built by export (`FFI_ArrowSchema::try_from(&field)`), filled by a
/// producer through [`as_mut_ptr`](Self::as_mut_ptr) on an [`empty`](Self::empty) one, or moved in
/// from C with [`from_raw`](Self::from_raw). Its fields are private: every value of this type is either
/// released or a struct that follows the C Data Interface.
#[allow(non_camel_case_types)]
#[repr(transparent)]
#[derive(Debug)]
pub struct FFI_ArrowSchema(ArrowSchema);

// SAFETY: the interface lets a schema be released from any thread, and this type never shares
// the struct while it is being mutated.
unsafe impl Send for FFI_ArrowSchema {}

impl FFI_ArrowSchema {
    /// A released schema, for a producer to fill through [`as_mut_ptr`](Self::as_mut_ptr). Free.
    pub const fn empty() -> Self {
        FFI_ArrowSchema(ArrowSchema::EMPTY)
    }

    /// Moves the schema out of `schema`, leaving it released (its `release` set to NULL), as the
    /// interface defines a move. Costs one 72-byte copy.
    ///
    /// # Safety
    /// `schema` is non-NULL, aligned, valid for reads and writes, and points to a released schema or
    /// one that follows the C Data Interface (every pointer reachable from it valid, strings
    /// NUL-terminated) until its `release` is called.
    pub unsafe fn from_raw(schema: *mut FFI_ArrowSchema) -> Self {
        // SAFETY: per the caller, `schema` is valid for reads and writes.
        unsafe { std::ptr::replace(schema, Self::empty()) }
    }

    /// Wraps a raw struct, taking over its release.
    ///
    /// # Safety
    /// As [`from_raw`](Self::from_raw): `raw` is released or follows the C Data Interface.
    pub unsafe fn from_sys(raw: ArrowSchema) -> Self {
        FFI_ArrowSchema(raw)
    }

    /// The raw struct, for reading its fields.
    pub fn as_sys(&self) -> &ArrowSchema {
        &self.0
    }

    /// A pointer to hand to C: to a producer that fills this (empty) schema, or to a consumer that
    /// moves it out. Whoever writes through it must leave a released or valid schema behind.
    pub fn as_mut_ptr(&mut self) -> *mut ArrowSchema {
        &mut self.0
    }

    /// Gives up ownership: the raw struct, which the caller must now release.
    pub fn into_sys(self) -> ArrowSchema {
        let this = std::mem::ManuallyDrop::new(self);
        // SAFETY: `this` is never used or dropped again, so the struct is moved exactly once.
        unsafe { std::ptr::read(&this.0) }
    }

    /// Whether the schema is released (its `release` is NULL).
    pub fn is_released(&self) -> bool {
        self.0.release.is_none()
    }

    /// The format string; `""` if it is NULL (released) or not UTF-8.
    pub fn format(&self) -> &str {
        // SAFETY: the type's invariant: strings of an unreleased schema are valid and NUL-terminated.
        unsafe { optional_text(self.0.format) }.unwrap_or("")
    }

    /// The field name, or `None` if it is NULL or not UTF-8.
    pub fn name(&self) -> Option<&str> {
        // SAFETY: as in `format`.
        unsafe { optional_text(self.0.name) }
    }

    /// The raw `ARROW_FLAG_*` bits.
    pub fn flags(&self) -> i64 {
        self.0.flags
    }

    /// Whether `ARROW_FLAG_NULLABLE` is set.
    pub fn nullable(&self) -> bool {
        self.0.flags & ARROW_FLAG_NULLABLE != 0
    }

    /// Whether `ARROW_FLAG_DICTIONARY_ORDERED` is set.
    pub fn dictionary_ordered(&self) -> bool {
        self.0.flags & ARROW_FLAG_DICTIONARY_ORDERED != 0
    }

    /// Whether `ARROW_FLAG_MAP_KEYS_SORTED` is set.
    pub fn map_keys_sorted(&self) -> bool {
        self.0.flags & ARROW_FLAG_MAP_KEYS_SORTED != 0
    }

    /// The number of children (0 if the count is negative).
    pub fn n_children(&self) -> usize {
        usize::try_from(self.0.n_children).unwrap_or(0)
    }

    /// The child at `index`, or `None` past the end or where the pointer is NULL.
    pub fn child(&self, index: usize) -> Option<&FFI_ArrowSchema> {
        if index >= self.n_children() || self.0.children.is_null() {
            return None;
        }
        // SAFETY: the type's invariant: `children` holds `n_children` pointers, each NULL or to a
        // schema as valid as this one; `FFI_ArrowSchema` is `repr(transparent)` over `ArrowSchema`.
        unsafe { (*self.0.children.add(index)).cast::<FFI_ArrowSchema>().as_ref() }
    }

    /// The children in order (stopping at a NULL child pointer).
    pub fn children(&self) -> impl Iterator<Item = &FFI_ArrowSchema> + '_ {
        (0..self.n_children()).map_while(|index| self.child(index))
    }

    /// The dictionary's value schema, for a dictionary-encoded field.
    pub fn dictionary(&self) -> Option<&FFI_ArrowSchema> {
        // SAFETY: the type's invariant, as in `child`.
        unsafe { self.0.dictionary.cast::<FFI_ArrowSchema>().as_ref() }
    }

    /// The decoded key/value metadata. Fails on truncated or non-UTF-8 metadata.
    pub fn metadata(&self) -> Result<HashMap<String, String>, ArrowError> {
        // SAFETY: the type's invariant: metadata is NULL or a well-formed blob.
        unsafe { import::read_metadata(self.0.metadata) }
            .map(|metadata| metadata.into_iter().collect())
            .map_err(|e| ArrowError::CDataInterface(format!("schema.metadata: {e}")))
    }
}

/// A NUL-terminated UTF-8 string, or `None` for NULL or invalid UTF-8.
///
/// # Safety
/// `ptr` is NULL or a NUL-terminated string that outlives `'a`.
unsafe fn optional_text<'a>(ptr: *const c_char) -> Option<&'a str> {
    // SAFETY: per the caller.
    (!ptr.is_null()).then(|| unsafe { CStr::from_ptr(ptr) }.to_str().ok()).flatten()
}

impl Drop for FFI_ArrowSchema {
    fn drop(&mut self) {
        if let Some(release) = self.0.release {
            // SAFETY: an unreleased schema's release is the producer's and may be called once; the
            // producer sets it to NULL.
            unsafe { release(&mut self.0) };
        }
    }
}

impl TryFrom<&FFI_ArrowSchema> for Field {
    type Error = ArrowError;
    /// Imports the field, checking every node; cost grows with the number of nodes.
    fn try_from(schema: &FFI_ArrowSchema) -> Result<Self, ArrowError> {
        // SAFETY: the type's invariant: an unreleased schema follows the interface; a released one
        // is refused before any pointer is read.
        Ok(unsafe { import::import_field(&schema.0)? })
    }
}

impl TryFrom<&FFI_ArrowSchema> for DataType {
    type Error = ArrowError;
    /// Imports the field's data type (name, flags and metadata are checked, then dropped).
    fn try_from(schema: &FFI_ArrowSchema) -> Result<Self, ArrowError> {
        Field::try_from(schema).map(|field| field.data_type().clone())
    }
}

impl TryFrom<&FFI_ArrowSchema> for Schema {
    type Error = ArrowError;
    /// Imports a schema from a struct (`+s`) node, whose metadata becomes the schema's.
    fn try_from(schema: &FFI_ArrowSchema) -> Result<Self, ArrowError> {
        // SAFETY: as for `Field`.
        Ok(unsafe { import::import_schema(&schema.0)? })
    }
}

/// Implements `TryFrom<T>` and `TryFrom<&T>` into `FFI_ArrowSchema` with one export function.
macro_rules! export_from {
    ($($source:ty => $export:path),+ $(,)?) => {$(
        impl TryFrom<&$source> for FFI_ArrowSchema {
            type Error = ArrowError;
            /// Exports it: one heap block per node, strings and metadata copied once.
            fn try_from(value: &$source) -> Result<Self, ArrowError> {
                Ok(FFI_ArrowSchema($export(value)?))
            }
        }
        impl TryFrom<$source> for FFI_ArrowSchema {
            type Error = ArrowError;
            /// Exports it, as the by-reference conversion.
            fn try_from(value: $source) -> Result<Self, ArrowError> {
                FFI_ArrowSchema::try_from(&value)
            }
        }
    )+};
}

export_from! {
    Field => export::export_field,
    DataType => export::export_data_type,
    Schema => export::export_schema,
}

impl TryFrom<&FieldRef> for FFI_ArrowSchema {
    type Error = ArrowError;
    /// Exports the field behind the reference.
    fn try_from(value: &FieldRef) -> Result<Self, ArrowError> {
        FFI_ArrowSchema::try_from(value.as_ref())
    }
}

/// Imports `schema` as a field, as `Field::try_from` does, keeping the crate's [`Error`](crate::Error)
/// with its field path (the conversion to `ArrowError` is for the arrow-rs-named surface).
pub(crate) fn import_field(schema: &FFI_ArrowSchema) -> crate::Result<Field> {
    // SAFETY: the type's invariant: an unreleased schema follows the interface; a released one is
    // refused before any pointer is read.
    unsafe { import::import_field(&schema.0) }
}

/// Imports `schema` as a schema, as `Schema::try_from` does, keeping the crate's error.
pub(crate) fn import_schema(schema: &FFI_ArrowSchema) -> crate::Result<Schema> {
    // SAFETY: as for `import_field`.
    unsafe { import::import_schema(&schema.0) }
}
