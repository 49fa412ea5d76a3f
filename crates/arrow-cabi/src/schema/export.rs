//! Schema export: a `Field`, `Schema` or `DataType` written as a tree of `ArrowSchema` nodes.
//!
//! Each node owns one heap block (its [`Node`]) holding its strings, its child pointers and the child
//! structs; the node's `release` frees the block after releasing whatever children were not moved out.

use std::ffi::{c_char, CString};
use std::ptr;

use arrow_cabi_sys::{
    ArrowSchema, ARROW_FLAG_DICTIONARY_ORDERED, ARROW_FLAG_MAP_KEYS_SORTED, ARROW_FLAG_NULLABLE,
};
use arrow_schema::{DataType, Field, Metadata, Schema};

use crate::error::{Error, Result};
use crate::{boundary, format, metadata};

/// What a node owns: the memory behind every pointer of its `ArrowSchema`.
struct Node {
    format: CString,
    name: CString,
    metadata: Option<Vec<u8>>,
    /// `children` of the C struct points at this array; each entry came from `Box::into_raw`.
    children: Box<[*mut ArrowSchema]>,
    /// From `Box::into_raw`, or NULL.
    dictionary: *mut ArrowSchema,
}

/// Exports a field: its name, type, nullability and metadata (extension metadata included).
pub(crate) fn export_field(field: &Field) -> Result<ArrowSchema> {
    let mut flags = if field.is_nullable() { ARROW_FLAG_NULLABLE } else { 0 };
    if field.dict_is_ordered() == Some(true) {
        flags |= ARROW_FLAG_DICTIONARY_ORDERED;
    }
    export_node(field.name(), field.data_type(), flags, field.metadata())
}

/// Exports a schema as the struct (`+s`) whose children are its fields; the schema's metadata goes
/// on that struct, as the interface describes record batches.
pub(crate) fn export_schema(schema: &Schema) -> Result<ArrowSchema> {
    let fields = DataType::Struct(schema.fields().clone());
    export_node("", &fields, 0, schema.metadata())
}

/// Exports a bare data type: empty name, nullable, no metadata.
pub(crate) fn export_data_type(data_type: &DataType) -> Result<ArrowSchema> {
    export_node("", data_type, ARROW_FLAG_NULLABLE, &Metadata::new())
}

fn export_node(
    name: &str,
    data_type: &DataType,
    mut flags: i64,
    metadata: &Metadata,
) -> Result<ArrowSchema> {
    let format = format::encode(data_type).map_err(|e| Error::Unsupported(e.to_string()))?;
    let mut dictionary = None;
    let children: Vec<ArrowSchema> = match data_type {
        DataType::List(child)
        | DataType::LargeList(child)
        | DataType::ListView(child)
        | DataType::LargeListView(child)
        | DataType::FixedSizeList(child, _) => vec![export_field(child)?],
        DataType::Map(entries, keys_sorted) => {
            if *keys_sorted {
                flags |= ARROW_FLAG_MAP_KEYS_SORTED;
            }
            vec![export_field(entries)?]
        }
        DataType::Struct(fields) => fields.iter().map(|f| export_field(f)).collect::<Result<_>>()?,
        DataType::Union(fields, _) => fields.iter().map(|(_, f)| export_field(f)).collect::<Result<_>>()?,
        DataType::RunEndEncoded(run_ends, values) => vec![export_field(run_ends)?, export_field(values)?],
        DataType::Dictionary(_, values) => {
            dictionary = Some(export_data_type(values)?);
            Vec::new()
        }
        _ => Vec::new(),
    };
    let text = |what: &str, value: &str| {
        CString::new(value).map_err(|_| Error::Unsupported(format!("{what} {value:?} contains a NUL byte")))
    };
    let node = Box::new(Node {
        format: text("format", &format)?,
        name: text("field name", name)?,
        metadata: metadata::encode(metadata.iter().map(|(k, v)| (k.as_str(), v.as_str()))).map_err(|e| Error::Unsupported(e.to_string()))?,
        children: children.into_iter().map(|c| Box::into_raw(Box::new(c))).collect(),
        dictionary: dictionary.map_or(ptr::null_mut(), |d| Box::into_raw(Box::new(d))),
    });
    Ok(ArrowSchema {
        format: node.format.as_ptr(),
        name: node.name.as_ptr(),
        metadata: node.metadata.as_ref().map_or(ptr::null(), |m| m.as_ptr().cast::<c_char>()),
        flags,
        n_children: node.children.len() as i64,
        // The boxed slice's heap block does not move when the box does.
        children: node.children.as_ptr().cast_mut(),
        dictionary: node.dictionary,
        release: Some(release_schema),
        private_data: Box::into_raw(node).cast(),
    })
}

/// The `release` of every exported schema node.
///
/// # Safety
/// `schema` is NULL or points to a node this module exported (possibly moved), not yet released.
unsafe extern "C" fn release_schema(schema: *mut ArrowSchema) {
    boundary::catch_in_release(|| {
        // SAFETY: the caller passes a valid pointer or NULL (checked by `as_mut`).
        let Some(schema) = (unsafe { schema.as_mut() }) else { return };
        if schema.private_data.is_null() {
            return;
        }
        // SAFETY: private_data came from `Box::into_raw(Box<Node>)` in `export_node` and is reset below,
        // so it is reclaimed once.
        let node = unsafe { Box::from_raw(schema.private_data.cast::<Node>()) };
        for child in node.children.iter().copied().chain(Some(node.dictionary)) {
            if child.is_null() {
                continue;
            }
            // SAFETY: each child pointer came from `Box::into_raw` in `export_node` and is freed only here.
            let mut child = unsafe { Box::from_raw(child) };
            // A consumer may have moved the child out, leaving it released; otherwise release it now.
            if let Some(release) = child.release {
                // SAFETY: the child is one of our exported, unreleased nodes.
                unsafe { release(&mut *child) };
            }
        }
        schema.private_data = ptr::null_mut();
        schema.release = None;
    });
}
