//! Schema export: a `Field`, `Schema` or `DataType` written as a tree of `ArrowSchema` nodes.
//!
//! All the nodes of one export live in one heap block, however many: a [`Tree`] header that counts the
//! nodes not yet released, then the node structs, their child pointers, their metadata blobs and their
//! strings (names and parametrised formats; a fixed format points at the codec's static table). A first
//! walk sizes the block and finds every error, a second writes it. Every node's `private_data` points at
//! the header; a consumer may move children out and release them in any order, on any thread, and the
//! block is freed when the last node is released.

use std::alloc::{self, Layout};
use std::ffi::{c_char, c_void};
use std::fmt::{self, Write as _};
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};

use arrow_cabi_sys::{
    ArrowSchema, ARROW_FLAG_DICTIONARY_ORDERED, ARROW_FLAG_MAP_KEYS_SORTED, ARROW_FLAG_NULLABLE,
};
use arrow_schema::{DataType, Field, Metadata, Schema};

use crate::error::{Error, Result};
use crate::format::{self, Encoded, Params};
use crate::tree::{release_in_place, Region};
use crate::{boundary, layout, metadata};

/// The header of an export's block; the nodes, child pointers, metadata blobs and strings follow it.
struct Tree {
    /// The block's layout, to free it.
    block: Layout,
    /// Nodes not yet released; the last release frees the block.
    live: AtomicUsize,
}

/// One node to export: what its C struct says beyond the shape of its type.
#[derive(Clone, Copy)]
struct Item<'a> {
    /// NULL when `None`.
    name: Option<&'a str>,
    data_type: &'a DataType,
    /// The flags of the field; `MAP_KEYS_SORTED` is added from the type.
    flags: i64,
    /// `None` when there are no pairs (the C struct's metadata is NULL then).
    metadata: Option<&'a Metadata>,
}

impl<'a> Item<'a> {
    /// A field: its name, nullability, dictionary ordering and metadata.
    fn field(field: &'a Field) -> Self {
        let mut flags = if field.is_nullable() { ARROW_FLAG_NULLABLE } else { 0 };
        if field.dict_is_ordered() == Some(true) {
            flags |= ARROW_FLAG_DICTIONARY_ORDERED;
        }
        Item { name: Some(field.name()), data_type: field.data_type(), flags, metadata: pairs(field.metadata()) }
    }

    /// A bare type, as arrow-rs 60.1 writes one (the root of a type's export, and a dictionary's
    /// values): NULL name, no flags but the type's own, no metadata.
    fn bare(data_type: &'a DataType) -> Self {
        Item { name: None, data_type, flags: 0, metadata: None }
    }

    /// The C struct's flags: the field's, and `MAP_KEYS_SORTED` for a map whose keys are sorted.
    fn flags(&self) -> i64 {
        match self.data_type {
            DataType::Map(_, true) => self.flags | ARROW_FLAG_MAP_KEYS_SORTED,
            _ => self.flags,
        }
    }


    /// The values of a dictionary-encoded type.
    fn dictionary(&self) -> Option<Item<'a>> {
        match self.data_type {
            DataType::Dictionary(_, values) => Some(Item::bare(values)),
            _ => None,
        }
    }

    /// The children, in C order.
    fn children(&self) -> impl Iterator<Item = Item<'a>> + 'a {
        let data_type = self.data_type;
        (0..layout::child_count(data_type)).filter_map(move |index| layout::child_field(data_type, index)).map(|field| Item::field(field))
    }
}

/// `metadata`, or `None` if it has no pairs: a check of one pointer, so that nodes without metadata
/// (most) never walk it.
fn pairs(metadata: &Metadata) -> Option<&Metadata> {
    (!metadata.is_empty()).then_some(metadata)
}

/// The pairs of `metadata`, as the codec takes them.
fn strings(metadata: &Metadata) -> impl Iterator<Item = (&str, &str)> + Clone {
    metadata.iter().map(|(key, value)| (key.as_str(), value.as_str()))
}

/// Exports a field: its name, type, nullability and metadata (extension metadata included).
pub(crate) fn export_field(field: &Field) -> Result<ArrowSchema> {
    export(Item::field(field))
}

/// Exports a schema as the struct (`+s`) whose children are its fields; the schema's metadata goes
/// on that struct, as the interface describes record batches. Its name is empty and its flags 0.
pub(crate) fn export_schema(schema: &Schema) -> Result<ArrowSchema> {
    let fields = DataType::Struct(schema.fields().clone());
    export(Item { name: Some(""), data_type: &fields, flags: 0, metadata: pairs(schema.metadata()) })
}

/// Exports a bare data type as arrow-rs 60.1 does: NULL name, flags 0 (but `MAP_KEYS_SORTED` for a
/// sorted map), no metadata.
pub(crate) fn export_data_type(data_type: &DataType) -> Result<ArrowSchema> {
    export(Item::bare(data_type))
}

/// Exports `root` and everything below it into one block. Fails, before allocating, on a type
/// without a format string, a name or format with a NUL byte, or metadata too long for an `int32`.
fn export(root: Item<'_>) -> Result<ArrowSchema> {
    let mut sizes = Sizes::default();
    sizes.add(root)?;
    let (block, at) = sizes.layout().ok_or_else(|| Error::Unsupported("the schema is too large to export".into()))?;
    // SAFETY: the layout is never zero-sized (it starts with the header).
    let base = unsafe { alloc::alloc(block) };
    if base.is_null() {
        alloc::handle_alloc_error(block);
    }
    let tree = base.cast::<Tree>();
    // SAFETY: `base` is a fresh block of `block`'s layout, which starts with a `Tree`.
    unsafe { tree.write(Tree { block, live: AtomicUsize::new(sizes.nodes) }) };
    // SAFETY: `at` are offsets inside the block, aligned for their element types, and the regions hold
    // `sizes` elements each; the walk below writes as much as the first one counted (checked as it goes).
    unsafe {
        let mut writer = Writer {
            nodes: Region::new(base.add(at.nodes).cast(), sizes.nodes),
            children: Region::new(base.add(at.children).cast(), sizes.children),
            blobs: Region::new(base.add(at.blobs), sizes.blobs),
            text: Region::new(base.add(at.text), sizes.text),
            tree: tree.cast(),
        };
        let root = writer.add(root);
        // The root handed out is a copy; its slot in the block is never pointed at.
        Ok(ptr::replace(root, ArrowSchema::EMPTY))
    }
}

/// What an export writes: nodes, child pointers, bytes of metadata blobs (each padded to a multiple
/// of 4, so that every blob starts aligned for its `int32`s) and bytes of NUL-terminated strings.
#[derive(Default)]
struct Sizes {
    nodes: usize,
    children: usize,
    blobs: usize,
    text: usize,
}

/// Where each region starts in the block, in bytes.
struct Offsets {
    nodes: usize,
    children: usize,
    blobs: usize,
    text: usize,
}

impl Sizes {
    /// Counts `item` and everything below it, checking everything the writer will write.
    fn add(&mut self, item: Item<'_>) -> Result<()> {
        self.nodes += 1;
        if let Encoded::Written(params) = format::encode_parts(item.data_type).map_err(|e| Error::Unsupported(e.to_string()))? {
            let mut measure = Measure::default();
            // Measuring cannot fail.
            let _ = write!(measure, "{params}");
            if measure.nul {
                return Err(contains_nul("format", &params.to_string()));
            }
            self.text += measure.len + 1;
        }
        if let Some(name) = item.name {
            if name.as_bytes().contains(&0) {
                return Err(contains_nul("field name", name));
            }
            self.text += name.len() + 1;
        }
        if let Some(pairs) = item.metadata {
            let len = metadata::encoded_len(strings(pairs)).map_err(|e| Error::Unsupported(e.to_string()))?;
            self.blobs += len.unwrap_or(0).next_multiple_of(4);
        }
        for child in item.children() {
            self.children += 1;
            self.add(child)?;
        }
        item.dictionary().map_or(Ok(()), |values| self.add(values))
    }

    /// The block's layout: the header, then the four regions; `None` if it overflows.
    fn layout(&self) -> Option<(Layout, Offsets)> {
        let (block, nodes) = Layout::new::<Tree>().extend(Layout::array::<ArrowSchema>(self.nodes).ok()?).ok()?;
        let (block, children) = block.extend(Layout::array::<*mut ArrowSchema>(self.children).ok()?).ok()?;
        let (block, blobs) = block.extend(Layout::array::<i32>(self.blobs / 4).ok()?).ok()?;
        let (block, text) = block.extend(Layout::array::<u8>(self.text).ok()?).ok()?;
        Some((block, Offsets { nodes, children, blobs, text }))
    }
}

/// "{what} {value:?} contains a NUL byte"
fn contains_nul(what: &str, value: &str) -> Error {
    Error::Unsupported(format!("{what} {value:?} contains a NUL byte"))
}

/// Counts the bytes a format string's `Display` writes, and whether any is NUL.
#[derive(Default)]
struct Measure {
    len: usize,
    nul: bool,
}

impl fmt::Write for Measure {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        self.len += text.len();
        self.nul |= text.as_bytes().contains(&0);
        Ok(())
    }
}

impl Region<u8> {
    /// Appends `bytes`; returns where they start.
    fn put(&mut self, bytes: &[u8]) -> *mut u8 {
        let at = self.claim(bytes.len());
        // SAFETY: `claim` reserved `bytes.len()` bytes at `at`, which `bytes` (borrowed, outside the
        // block) does not overlap.
        unsafe { ptr::copy_nonoverlapping(bytes.as_ptr(), at, bytes.len()) };
        at
    }
}

impl fmt::Write for Region<u8> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        self.put(text.as_bytes());
        Ok(())
    }
}

/// The second walk: writes the nodes, in pre-order, into the regions the first walk counted.
struct Writer {
    nodes: Region<ArrowSchema>,
    children: Region<*mut ArrowSchema>,
    blobs: Region<u8>,
    text: Region<u8>,
    tree: *mut c_void,
}

impl Writer {
    /// Writes `item` and everything below it; returns its node.
    fn add(&mut self, item: Item<'_>) -> *mut ArrowSchema {
        let at = self.nodes.claim(1);
        let format = match format::encode_parts(item.data_type) {
            Ok(Encoded::Fixed(format)) => format.as_ptr(),
            Ok(Encoded::Written(params)) => self.format(params),
            Err(_) => unreachable!("the first walk checked every format"),
        };
        let name = item.name.map_or(ptr::null(), |name| self.string(name.as_bytes()));
        let metadata = item.metadata.map_or(ptr::null(), |pairs| self.metadata(pairs));
        let n_children = layout::child_count(item.data_type);
        let children = self.children.claim(n_children);
        for (index, child) in item.children().enumerate() {
            let child = self.add(child);
            // SAFETY: `claim` reserved `n_children` slots from `children`, and `children()` yields
            // `child_count` items.
            unsafe { children.add(index).write(child) };
        }
        let dictionary = item.dictionary().map_or(ptr::null_mut(), |values| self.add(values));
        let node = ArrowSchema {
            format,
            name,
            metadata,
            flags: item.flags(),
            n_children: n_children as i64,
            children,
            dictionary,
            release: Some(release_schema),
            private_data: self.tree,
        };
        // SAFETY: `at` is a claimed slot of the nodes region.
        unsafe { at.write(node) };
        at
    }

    /// Writes `bytes` and a NUL; returns the string.
    fn string(&mut self, bytes: &[u8]) -> *const c_char {
        let at = self.text.put(bytes);
        self.text.put(&[0]);
        at.cast_const().cast()
    }

    /// Writes a parametrised format string and a NUL; returns the string.
    fn format(&mut self, params: Params<'_>) -> *const c_char {
        let at = self.text.claim(0);
        // Writing into the region cannot fail (it asserts its capacity instead).
        let _ = write!(self.text, "{params}\0");
        at.cast_const().cast()
    }

    /// Writes a metadata blob (of at least one pair, which the first walk measured); returns it.
    fn metadata(&mut self, pairs: &Metadata) -> *const c_char {
        let Ok(Some(len)) = metadata::encoded_len(strings(pairs)) else { return ptr::null() };
        let padded = len.next_multiple_of(4);
        let at = self.blobs.claim(padded);
        // SAFETY: `claim` reserved `padded` bytes at `at`, which nothing else points at yet; they are
        // zeroed first, so the slice is of initialized bytes.
        let blob = unsafe {
            ptr::write_bytes(at, 0, padded);
            std::slice::from_raw_parts_mut(at, padded)
        };
        metadata::encode_into(strings(pairs), blob);
        at.cast_const().cast()
    }
}

/// The `release` of every exported schema node: releases it and the nodes below it still in place (a
/// consumer may have moved some out), and frees the block with its last node.
///
/// # Safety
/// `schema` is NULL or points to a node this module exported (possibly moved), not yet released.
unsafe extern "C" fn release_schema(schema: *mut ArrowSchema) {
    boundary::catch_in_release(|| {
        // SAFETY: the caller passes a valid pointer or NULL (checked by `as_mut`).
        let Some(schema) = (unsafe { schema.as_mut() }) else { return };
        let tree = schema.private_data.cast::<Tree>();
        if tree.is_null() || schema.release.is_none() {
            return;
        }
        // SAFETY: one of our exported, unreleased nodes.
        let released = unsafe { release_in_place(schema) };
        // SAFETY: the block lives while any node is unreleased, and these nodes were.
        let last = unsafe { (*tree).live.fetch_sub(released, Ordering::AcqRel) } == released;
        if last {
            // SAFETY: every node is released, so nothing points into the block any more; it was
            // allocated with `block` in `export`, and this is the one release that saw the count reach
            // 0. The regions after the header hold plain data with nothing to drop.
            unsafe {
                let block = (*tree).block;
                alloc::dealloc(tree.cast(), block);
            }
        }
    });
}

