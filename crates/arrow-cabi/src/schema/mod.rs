//! `ArrowSchema`: the owned struct [`FFI_ArrowSchema`], and conversions from and to arrow-rs types.

mod export;
mod import;
mod node;

pub use node::Flags;

pub(crate) use import::MAX_DEPTH;

use std::collections::HashMap;
use std::ffi::{c_char, CStr};

use arrow_cabi_sys::{
    ArrowSchema, ARROW_FLAG_DICTIONARY_ORDERED, ARROW_FLAG_MAP_KEYS_SORTED, ARROW_FLAG_NULLABLE,
};
use arrow_schema::{ArrowError, DataType, Field, FieldRef, Schema};

crate::owned::owned_struct! {
    /// An owned `ArrowSchema`: released when dropped, unless it was moved out or is already released.
    ///
    /// `#[repr(transparent)]` over [`arrow_cabi_sys::ArrowSchema`], so a pointer to it can be handed to C
    /// as a `struct ArrowSchema*`. Built by export (`FFI_ArrowSchema::try_from(&field)`) or node by node
    /// ([`try_new`](Self::try_new)), filled by a producer through [`as_mut_ptr`](Self::as_mut_ptr) on an
    /// [`empty`](Self::empty) one, or moved in from C with [`from_raw`](Self::from_raw). Its fields are
    /// private: every value of this type is either released or a struct that follows the C Data
    /// Interface.
    ///
    /// `Send`, not `Sync`, as in arrow-rs: a schema may be released from any thread; its accessors hand
    /// out the producer's raw pointers.
    pub struct FFI_ArrowSchema(ArrowSchema): "schema", "C Data Interface";
}

impl FFI_ArrowSchema {
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

    /// The flags, or `None` if a bit outside [`Flags::all`] is set (arrow-rs's accessor; the raw bits
    /// are [`as_sys`](Self::as_sys)`().flags`).
    pub fn flags(&self) -> Option<Flags> {
        Flags::from_bits(self.0.flags)
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

    /// The child at `index` (arrow-rs's accessor).
    ///
    /// # Panics
    /// If `index >= n_children()` (the caller's misuse, as in arrow-rs), or if the producer left the
    /// child pointer NULL. [`child_opt`](Self::child_opt) never panics; import never calls this.
    pub fn child(&self, index: usize) -> &FFI_ArrowSchema {
        assert!(index < self.n_children(), "child index {index} out of range: the schema has {} children", self.n_children());
        self.child_opt(index).expect("the producer left a child pointer NULL")
    }

    /// The child at `index`, or `None` past the end or where the pointer is NULL. Free.
    pub fn child_opt(&self, index: usize) -> Option<&FFI_ArrowSchema> {
        if index >= self.n_children() || self.0.children.is_null() {
            return None;
        }
        // SAFETY: the type's invariant: `children` holds `n_children` pointers, each NULL or to a
        // schema as valid as this one; `FFI_ArrowSchema` is `repr(transparent)` over `ArrowSchema`.
        unsafe { (*self.0.children.add(index)).cast::<FFI_ArrowSchema>().as_ref() }
    }

    /// The children in order (stopping at a NULL child pointer).
    pub fn children(&self) -> impl Iterator<Item = &FFI_ArrowSchema> + '_ {
        (0..self.n_children()).map_while(|index| self.child_opt(index))
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
