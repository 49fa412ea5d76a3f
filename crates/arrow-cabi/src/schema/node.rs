//! arrow-rs's node-by-node schema builder: [`FFI_ArrowSchema::try_new`], `with_name`, `with_flags`,
//! `with_metadata`, and the [`Flags`] type.
//!
//! A node built here owns what its fields point at in one private block ([`Node`]). The `with_*`
//! methods work on any unreleased schema, ours or a foreign producer's: they never write into memory
//! the schema's producer owns. Instead they move the schema into a new node and point the fields they
//! change at the new node's strings, keeping the other fields as the moved schema had them; releasing
//! the new node releases the moved schema too. That is why `with_metadata` is sound here for every
//! schema (arrow-rs's requires one its own `try_new` made).

use std::ffi::{c_void, CString};
use std::ptr;

use arrow_cabi_sys::ArrowSchema;
use arrow_schema::ArrowError;

use super::FFI_ArrowSchema;
use crate::{boundary, metadata};

bitflags::bitflags! {
    /// The `ArrowSchema.flags` bits, as arrow-rs's `ffi::Flags`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct Flags: i64 {
        /// `ARROW_FLAG_DICTIONARY_ORDERED`: the dictionary's indices are ordered.
        const DICTIONARY_ORDERED = arrow_cabi_sys::ARROW_FLAG_DICTIONARY_ORDERED;
        /// `ARROW_FLAG_NULLABLE`: the field may hold nulls.
        const NULLABLE = arrow_cabi_sys::ARROW_FLAG_NULLABLE;
        /// `ARROW_FLAG_MAP_KEYS_SORTED`: each map's keys are sorted.
        const MAP_KEYS_SORTED = arrow_cabi_sys::ARROW_FLAG_MAP_KEYS_SORTED;
    }
}

/// Everything a node built here points at: its private data. The fields are read through the
/// schema's raw pointers, which [`Node::install`] takes only once the node is in its final place (on
/// the heap), so that no move of an owned buffer invalidates them.
#[allow(dead_code)]
struct Node {
    /// The format `try_new` set.
    format: Option<CString>,
    /// The name `with_name` set.
    name: Option<CString>,
    /// The metadata `with_metadata` set: `Some(None)` for none (NULL).
    metadata: Option<Option<Vec<u8>>>,
    /// The `children` array: pointers into `children`.
    child_pointers: Box<[*mut ArrowSchema]>,
    /// The children passed to `try_new`, released with the node.
    children: Box<[FFI_ArrowSchema]>,
    /// The dictionary passed to `try_new`.
    dictionary: Option<Box<FFI_ArrowSchema>>,
    /// The schema a `with_*` call re-headed (released for a `try_new` node).
    moved: FFI_ArrowSchema,
}

impl Node {
    /// A node that sets nothing yet.
    fn blank() -> Node {
        Node {
            format: None,
            name: None,
            metadata: None,
            child_pointers: Box::new([]),
            children: Box::new([]),
            dictionary: None,
            moved: FFI_ArrowSchema::empty(),
        }
    }

    /// Moves the node to the heap, points `raw`'s fields at what it set, and installs its release.
    /// A `try_new` node (nothing moved) supplies the children and dictionary too; a re-headed one
    /// keeps the moved schema's. Costs one allocation, and one for the children array.
    fn install(self, mut raw: ArrowSchema) -> FFI_ArrowSchema {
        let node = Box::into_raw(Box::new(self));
        // SAFETY: `node` was just allocated and nothing else refers to it yet.
        let this = unsafe { &mut *node };
        if let Some(format) = &this.format {
            raw.format = format.as_ptr();
        }
        if let Some(name) = &this.name {
            raw.name = name.as_ptr();
        }
        if let Some(metadata) = &this.metadata {
            raw.metadata = metadata.as_ref().map_or(ptr::null(), |bytes| bytes.as_ptr().cast());
        }
        if this.moved.is_released() {
            this.child_pointers = this.children.iter_mut().map(FFI_ArrowSchema::as_mut_ptr).collect();
            // A boxed slice never holds more than `isize::MAX` elements, so the length fits.
            raw.n_children = this.children.len() as i64;
            raw.children = this.child_pointers.as_mut_ptr();
            raw.dictionary = this.dictionary.as_mut().map_or(ptr::null_mut(), |dictionary| dictionary.as_mut_ptr());
        }
        raw.release = Some(release_node);
        raw.private_data = node.cast::<c_void>();
        // SAFETY: every pointer in `raw` points into the node (heap blocks that stay put until the
        // node is dropped) or into the moved schema it owns, and `release_node` frees exactly the node.
        unsafe { FFI_ArrowSchema::from_sys(raw) }
    }
}

/// The release callback of nodes built here: drops the node (releasing its children, dictionary and
/// moved schema) and marks the schema released.
unsafe extern "C" fn release_node(schema: *mut ArrowSchema) {
    boundary::catch_in_release(|| {
        // SAFETY: the caller passes a valid pointer or NULL (checked by `as_mut`).
        let Some(schema) = (unsafe { schema.as_mut() }) else { return };
        if !schema.private_data.is_null() {
            // SAFETY: `private_data` came from `Box::into_raw` in `Node::install` and is reset below,
            // so the node is reclaimed once.
            drop(unsafe { Box::from_raw(schema.private_data.cast::<Node>()) });
        }
        *schema = ArrowSchema::EMPTY;
    });
}

/// `text` as a C string, or the error arrow-rs gives for an interior NUL in `what`.
fn c_string(text: &str, what: &str) -> Result<CString, ArrowError> {
    CString::new(text).map_err(|error| {
        ArrowError::CDataInterface(format!(
            "Null byte at position {} not allowed in {what}",
            error.nul_position()
        ))
    })
}

impl FFI_ArrowSchema {
    /// Builds a schema node of `format` over `children` and `dictionary`, which it takes over
    /// (arrow-rs's constructor). Name NULL, flags 0, no metadata. Costs two allocations (the node and
    /// its children array) and a copy of `format`.
    ///
    /// Fails if `format` holds a NUL byte, or if a child or the dictionary is released (a released
    /// struct inside an unreleased one would break the interface; arrow-rs accepts it).
    pub fn try_new(
        format: &str,
        children: Vec<FFI_ArrowSchema>,
        dictionary: Option<FFI_ArrowSchema>,
    ) -> Result<Self, ArrowError> {
        let format = c_string(format, "format")?;
        let released = |what: String| ArrowError::CDataInterface(format!("schema.{what} is released"));
        if let Some(index) = children.iter().position(FFI_ArrowSchema::is_released) {
            return Err(released(format!("children[{index}]")));
        }
        if dictionary.as_ref().is_some_and(FFI_ArrowSchema::is_released) {
            return Err(released("dictionary".to_owned()));
        }
        let node = Node {
            format: Some(format),
            children: children.into(),
            dictionary: dictionary.map(Box::new),
            ..Node::blank()
        };
        Ok(node.install(ArrowSchema::EMPTY))
    }

    /// Sets the name (arrow-rs's builder step). Costs one allocation for the new node and a copy of
    /// `name`; the schema's other fields are kept as they were.
    ///
    /// Fails if `name` holds a NUL byte or the schema is released.
    pub fn with_name(self, name: &str) -> Result<Self, ArrowError> {
        let name = c_string(name, "name")?;
        self.rehead(Node { name: Some(name), ..Node::blank() })
    }

    /// Sets the flags (arrow-rs's builder step). Free: the flags are a plain field of the struct.
    /// Never fails; the `Result` is arrow-rs's signature.
    pub fn with_flags(mut self, flags: Flags) -> Result<Self, ArrowError> {
        self.0.flags = flags.bits();
        Ok(self)
    }

    /// Replaces the metadata with `metadata` (none at all for an empty iterator), as arrow-rs's
    /// builder step. Costs one allocation for the new node and one for the encoded pairs.
    ///
    /// Fails if a count or length does not fit in an `int32`, or the schema is released.
    ///
    /// # Safety
    /// None: this works on any schema, foreign ones included (see the module docs). `unsafe` only to
    /// keep arrow-rs's signature, which needs a schema its own `try_new` made.
    pub unsafe fn with_metadata<I, S>(self, metadata: I) -> Result<Self, ArrowError>
    where
        I: IntoIterator<Item = (S, S)>,
        S: AsRef<str>,
    {
        let pairs: Vec<(S, S)> = metadata.into_iter().collect();
        let encoded = metadata::encode(pairs.iter().map(|(key, value)| (key.as_ref(), value.as_ref())))
            .map_err(|error| ArrowError::CDataInterface(format!("schema.metadata: {error}")))?;
        self.rehead(Node { metadata: Some(encoded), ..Node::blank() })
    }

    /// Moves this schema into `node`, whose fields it set replace this schema's; the others stay.
    fn rehead(self, mut node: Node) -> Result<Self, ArrowError> {
        if self.is_released() {
            return Err(ArrowError::CDataInterface("schema is released".to_owned()));
        }
        let old = self.as_sys();
        let raw = ArrowSchema {
            format: old.format,
            name: old.name,
            metadata: old.metadata,
            flags: old.flags,
            n_children: old.n_children,
            children: old.children,
            dictionary: old.dictionary,
            release: None,
            private_data: ptr::null_mut(),
        };
        node.moved = self;
        Ok(node.install(raw))
    }
}
