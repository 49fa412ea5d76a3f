//! Schema import: a tree of foreign `ArrowSchema` nodes read into a `Field`, `Schema` or `DataType`.
//!
//! Nothing is trusted beyond the pointers themselves: every format string, count, flag, name and
//! metadata blob is checked, and each error names the field path where it was found.

use std::ffi::{c_char, CStr};
use std::marker::PhantomData;
use std::sync::Arc;

use arrow_cabi_sys::{
    ArrowSchema, ARROW_FLAG_DICTIONARY_ORDERED, ARROW_FLAG_MAP_KEYS_SORTED, ARROW_FLAG_NULLABLE,
};
use arrow_schema::{DataType, Field, FieldRef, Fields, Metadata, Schema, UnionFields};
use smallvec::SmallVec;

use crate::error::{Path, Result};
use crate::format::{self, Format};
use crate::metadata::{self, MetadataError};

/// The deepest nesting accepted, as Arrow C++'s importer (`kMaxImportRecursionLevel`).
pub(crate) const MAX_DEPTH: usize = 64;

const KNOWN_FLAGS: i64 = ARROW_FLAG_DICTIONARY_ORDERED | ARROW_FLAG_NULLABLE | ARROW_FLAG_MAP_KEYS_SORTED;

/// Imports a field: name, type, nullability, dictionary ordering and metadata.
///
/// # Safety
/// `schema` and every pointer reachable from it are valid for reads as the C Data Interface
/// describes (strings NUL-terminated, `children` holding `n_children` pointers).
pub(crate) unsafe fn import_field(schema: &ArrowSchema) -> Result<Field> {
    // SAFETY: forwarded from the caller.
    unsafe { Importer::default().field(schema, &Path::root("schema")) }
}

/// Imports a schema from a struct (`+s`) node: its children are the fields, its metadata the schema's.
///
/// # Safety
/// As [`import_field`].
pub(crate) unsafe fn import_schema(schema: &ArrowSchema) -> Result<Schema> {
    // SAFETY: forwarded from the caller.
    let root = unsafe { Importer::default().parts(schema, &Path::root("schema"))? };
    match root.data_type {
        DataType::Struct(fields) => Ok(Schema::new_with_metadata(fields, root.metadata)),
        other => Err(Path::root("schema")
            .field("format")
            .invalid(format!("a schema must be a struct (+s), found {other}"))),
    }
}

/// Walks a schema tree, remembering the nodes above the current one to refuse cycles.
struct Importer {
    /// The nodes above the current one (the first `depth`), for the cycle check; on the stack, as the
    /// depth is bounded.
    ancestors: [*const ArrowSchema; MAX_DEPTH],
    depth: usize,
}

impl Default for Importer {
    fn default() -> Self {
        Importer { ancestors: [std::ptr::null(); MAX_DEPTH], depth: 0 }
    }
}

/// What a node says, checked, before it becomes a `Field` (a schema's root and a dictionary's values
/// never do).
struct Parts<'a> {
    name: &'a str,
    data_type: DataType,
    flags: i64,
    metadata: Metadata,
}

impl Parts<'_> {
    fn into_field(self) -> Field {
        let field = Field::new(self.name, self.data_type, self.flags & ARROW_FLAG_NULLABLE != 0)
            .with_dict_is_ordered(self.flags & ARROW_FLAG_DICTIONARY_ORDERED != 0);
        if self.metadata.is_empty() {
            field
        } else {
            field.with_metadata(self.metadata)
        }
    }
}

/// The most children a struct (the one format whose count is free) may claim: Arrow C++ and the IPC
/// format count children in `int32`, and a count past what memory could hold pointers for (a
/// producer's `i64::MAX`) would be read past the end of any `children` array. As many as the most
/// data buffers of a view array (array import).
const MAX_CHILDREN: usize = i32::MAX as usize;

impl Importer {
    /// # Safety
    /// As [`import_field`].
    unsafe fn field(&mut self, schema: &ArrowSchema, path: &Path<'_>) -> Result<Field> {
        // SAFETY: forwarded from the caller.
        unsafe { self.parts(schema, path) }.map(Parts::into_field)
    }

    /// # Safety
    /// As [`import_field`].
    unsafe fn parts<'a>(&mut self, schema: &'a ArrowSchema, path: &Path<'_>) -> Result<Parts<'a>> {
        if schema.release.is_none() {
            return Err(path.invalid("the schema is released (its release callback is NULL)"));
        }
        let depth = self.depth;
        if depth >= MAX_DEPTH {
            return Err(path.invalid(format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        let address: *const ArrowSchema = schema;
        if self.ancestors[..depth].contains(&address) {
            return Err(path.invalid("points back at one of its ancestors (a cycle)"));
        }
        self.ancestors[depth] = address;
        self.depth = depth + 1;
        // SAFETY: forwarded from the caller.
        let field = unsafe { self.node(schema, path) };
        self.depth = depth;
        field
    }

    /// # Safety
    /// As [`import_field`].
    unsafe fn node<'a>(&mut self, schema: &'a ArrowSchema, path: &Path<'_>) -> Result<Parts<'a>> {
        let format_path = path.field("format");
        if schema.format.is_null() {
            return Err(format_path.invalid("NULL, but the format is mandatory"));
        }
        // SAFETY: non-NULL and, per the caller, NUL-terminated.
        let format_bytes = unsafe { CStr::from_ptr(schema.format) };
        // The formats without parameters are ASCII: only the others need the UTF-8 check.
        let format = match format::parse_fixed(format_bytes.to_bytes()) {
            Some(format) => format,
            None => format::parse(utf8(format_bytes, &format_path)?).map_err(|e| format_path.invalid(e.to_string()))?,
        };

        let name_path = path.field("name");
        let name = if schema.name.is_null() {
            ""
        } else {
            // SAFETY: non-NULL and, per the caller, NUL-terminated.
            unsafe { text(schema.name, &name_path)? }
        };

        let flags = schema.flags;
        if flags & !KNOWN_FLAGS != 0 {
            return Err(path.field("flags").invalid(format!("unknown flag bits in {flags:#x}")));
        }
        // SAFETY: forwarded from the caller.
        let metadata = unsafe { read_metadata(schema.metadata) }
            .map_err(|e| path.field("metadata").invalid(e.to_string()))?;

        // SAFETY: forwarded from the caller.
        let children = unsafe { self.children(schema, &format, path)? };
        let data_type = build(format, children, flags, path)?;

        let data_type = if schema.dictionary.is_null() {
            data_type
        } else {
            let dictionary_path = path.field("dictionary");
            if !data_type.is_dictionary_key_type() {
                return Err(format_path.invalid(format!(
                    "a dictionary's index must be an integer type, found {data_type}"
                )));
            }
            // SAFETY: non-NULL, and valid per the caller.
            let values = unsafe { self.parts(&*schema.dictionary, &dictionary_path)? };
            DataType::Dictionary(Box::new(data_type), Box::new(values.data_type))
        };
        let is_dictionary = matches!(data_type, DataType::Dictionary(..));
        if flags & ARROW_FLAG_DICTIONARY_ORDERED != 0 && !is_dictionary {
            return Err(path.field("flags").invalid("DICTIONARY_ORDERED set on a field that is not a dictionary"));
        }
        if flags & ARROW_FLAG_MAP_KEYS_SORTED != 0 && !matches!(data_type, DataType::Map(..)) {
            return Err(path.field("flags").invalid("MAP_KEYS_SORTED set on a field that is not a map"));
        }
        Ok(Parts { name, data_type, flags, metadata })
    }

    /// The children of a node of `format`, their count checked against the one the format decides
    /// before any child pointer is read: a producer whose node claims more children than its format
    /// has may hold fewer pointers than it claims.
    ///
    /// # Safety
    /// As [`import_field`].
    unsafe fn children(&mut self, schema: &ArrowSchema, format: &Format, path: &Path<'_>) -> Result<Children> {
        let count = usize::try_from(schema.n_children)
            .map_err(|_| path.field("n_children").invalid(format!("negative: {}", schema.n_children)))?;
        if let Some(needed) = child_count(format).filter(|&needed| needed != count) {
            let what = match format {
                Format::Union(..) => format!("the format lists {needed} type ids"),
                _ => format!("this format needs {needed}"),
            };
            return Err(path.field("n_children").invalid(format!("{count} children, but {what}")));
        }
        if count > MAX_CHILDREN {
            return Err(path.field("n_children").invalid(format!("{count} children, more than the {MAX_CHILDREN} a schema may have")));
        }
        if count == 0 {
            return Ok(Children::new());
        }
        if schema.children.is_null() {
            return Err(path.field("children").invalid(format!("NULL, but n_children is {count}")));
        }
        let mut fields = Children::with_capacity(count.min(4096));
        for index in 0..count {
            let child_path = path.index("children", index);
            // SAFETY: `children` holds `n_children` pointers, per the caller.
            let child = unsafe { *schema.children.add(index) };
            if child.is_null() {
                return Err(child_path.invalid("NULL child pointer"));
            }
            // SAFETY: non-NULL, and valid per the caller.
            fields.push(Arc::new(unsafe { self.field(&*child, &child_path)? }));
        }
        Ok(fields)
    }
}

/// How many children a node of `format` has; `None` for a struct, which has any number.
fn child_count(format: &Format) -> Option<usize> {
    match format {
        Format::Leaf(_) => Some(0),
        Format::List
        | Format::LargeList
        | Format::ListView
        | Format::LargeListView
        | Format::FixedSizeList(_)
        | Format::Map => Some(1),
        Format::RunEndEncoded => Some(2),
        Format::Union(_, type_ids) => Some(type_ids.len()),
        Format::Struct => None,
    }
}

/// Builds the data type a format string and its children (as many as [`child_count`] says) describe;
/// checks the children's types fit.
fn build(format: Format, children: Children, flags: i64, path: &Path<'_>) -> Result<DataType> {
    let one = |children| exactly::<1>(children, path).map(|[child]| child);
    Ok(match format {
        Format::Leaf(data_type) => {
            exactly::<0>(children, path)?;
            data_type
        }
        Format::List => DataType::List(one(children)?),
        Format::LargeList => DataType::LargeList(one(children)?),
        Format::ListView => DataType::ListView(one(children)?),
        Format::LargeListView => DataType::LargeListView(one(children)?),
        Format::FixedSizeList(size) => DataType::FixedSizeList(one(children)?, size),
        Format::Struct => DataType::Struct(fields(children)),
        Format::Map => {
            let entries = one(children)?;
            if !matches!(entries.data_type(), DataType::Struct(kv) if kv.len() == 2) {
                return Err(path.index("children", 0).invalid(format!(
                    "a map's entries must be a struct of key and value, found {}",
                    entries.data_type()
                )));
            }
            DataType::Map(entries, flags & ARROW_FLAG_MAP_KEYS_SORTED != 0)
        }
        Format::Union(mode, type_ids) => {
            let fields = UnionFields::try_new(type_ids, children.into_vec())
                .map_err(|e| path.field("format").invalid(e.to_string()))?;
            DataType::Union(fields, mode)
        }
        Format::RunEndEncoded => {
            let [run_ends, values] = exactly::<2>(children, path)?;
            if !matches!(run_ends.data_type(), DataType::Int16 | DataType::Int32 | DataType::Int64) {
                return Err(path.index("children", 0).invalid(format!(
                    "run ends must be int16, int32 or int64, found {}",
                    run_ends.data_type()
                )));
            }
            DataType::RunEndEncoded(run_ends, values)
        }
    })
}

/// The fields of a node's children: inline for the counts of lists, maps, run-end-encoded types and
/// small structs, so that those nodes allocate nothing for them.
type Children = SmallVec<[FieldRef; 4]>;

/// A struct's fields, moved into the one allocation `Fields` needs: from the heap list where the
/// children spilled to one, otherwise cloned from the inline list (a reference count each).
fn fields(children: Children) -> Fields {
    if children.spilled() {
        Fields::from(children.into_vec())
    } else {
        Fields::from(children.as_slice())
    }
}

/// The children as an array of exactly `N`, or an error naming the count the format needs.
fn exactly<const N: usize>(children: Children, path: &Path<'_>) -> Result<[FieldRef; N]> {
    if children.len() != N {
        return Err(path.field("n_children").invalid(format!("{} children, but this format needs {N}", children.len())));
    }
    let mut children = children.into_iter();
    // The count was checked just above.
    Ok(std::array::from_fn(|_| children.next().unwrap_or_else(|| unreachable!("{N} children"))))
}

/// A NUL-terminated UTF-8 string.
///
/// # Safety
/// `ptr` is non-NULL and points to a NUL-terminated string that lives as long as `'a`.
unsafe fn text<'a>(ptr: *const c_char, path: &Path<'_>) -> Result<&'a str> {
    // SAFETY: per the caller.
    utf8(unsafe { CStr::from_ptr(ptr) }, path)
}

/// The string as UTF-8, or the error at `path` that it is not. Names are ASCII nearly always: that is
/// checked first, a word at a time, before the full UTF-8 check.
fn utf8<'a>(text: &'a CStr, path: &Path<'_>) -> Result<&'a str> {
    let bytes = text.to_bytes();
    if bytes.is_ascii() {
        // SAFETY: ASCII is UTF-8.
        return Ok(unsafe { std::str::from_utf8_unchecked(bytes) });
    }
    std::str::from_utf8(bytes).map_err(|e| path.invalid(format!("not UTF-8 ({e})")))
}

/// Reads a metadata blob; NULL is no metadata.
///
/// # Safety
/// `ptr` is NULL or points to a well-formed metadata blob of the producer.
pub(crate) unsafe fn read_metadata(ptr: *const c_char) -> Result<Metadata, MetadataError> {
    if ptr.is_null() {
        return Ok(Metadata::new());
    }
    metadata::decode_into(ProducerBytes { next: ptr.cast(), lifetime: PhantomData })
}

/// The producer's metadata memory, read front to back.
struct ProducerBytes<'a> {
    next: *const u8,
    lifetime: PhantomData<&'a [u8]>,
}

impl<'a> metadata::Source<'a> for ProducerBytes<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], MetadataError> {
        // SAFETY: `read_metadata`'s caller guarantees the blob is well formed, so the counts and lengths
        // read so far delimit bytes that exist; a lying producer is outside that contract.
        let bytes = unsafe { std::slice::from_raw_parts(self.next, n) };
        // SAFETY: stays within (or one past) the bytes just read.
        self.next = unsafe { self.next.add(n) };
        Ok(bytes)
    }
}
