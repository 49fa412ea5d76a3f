//! Array import: a foreign `ArrowArray` tree read as typed arrays whose buffers point at the producer's
//! memory.
//!
//! Every imported buffer holds one [`Owner`] through an `Arc`; the owner holds the moved-in base struct
//! and calls its `release` when the last buffer is dropped, so the producer's release runs exactly once.
//! Buffers are copied only when under-aligned for their element type.

use std::ffi::c_void;
use std::mem::{align_of, size_of};
use std::ptr::NonNull;
use std::sync::Arc;

use arrow_buffer::{BooleanBuffer, Buffer, MutableBuffer, NullBuffer};
use arrow_cabi_sys::ArrowArray;
use arrow_array::types::ArrowDictionaryKeyType;
use arrow_array::{downcast_integer, ArrayRef, OffsetSizeTrait, RecordBatch, StructArray};
use arrow_schema::{DataType, FieldRef, Fields, SchemaRef};

use super::build::{self, build, Buffers, Checks, Parts};
use super::full;
use super::leaf::{self, Extent, Leaf};
use super::validate::{self, Level, Validation};
use crate::error::{Path, Result};
use crate::layout::{self, Buffer as Slot};
use crate::schema::MAX_DEPTH;

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

/// Imports `array` (moved in) as a typed array of `data_type`, checked at `level`.
///
/// # Safety
/// `array` is released or follows the C Data Interface: each pointer reachable from it valid, and each
/// buffer at least as long as its length, offset and (for variable-size data) offsets imply.
pub(crate) unsafe fn import_array(array: ArrowArray, data_type: &DataType, level: Level) -> Result<ArrayRef> {
    let path = Path::root("array");
    let owner = Owner::take(array, &path)?;
    let importer = Importer { owner: &owner, level };
    // SAFETY: forwarded from the caller; `owner.0` stays alive (and unreleased) while buffers use it.
    unsafe { importer.node(&owner.0, data_type, &path, 0) }
}

/// Imports `array` (moved in) as a record batch of `schema`: a struct array without nulls whose
/// children are the columns, read without building the struct array. `data_type` is the struct type
/// of `schema`'s fields.
///
/// # Safety
/// As [`import_array`].
pub(crate) unsafe fn import_batch(array: ArrowArray, schema: &SchemaRef, data_type: &DataType, level: Level) -> Result<RecordBatch> {
    let path = Path::root("array");
    let owner = Owner::take(array, &path)?;
    let importer = Importer { owner: &owner, level };
    // SAFETY: as in `import_array`.
    let (columns, rows) = unsafe { importer.batch(&owner.0, data_type, &path)? };
    // SAFETY: each column was built from its field's type and aligned to `rows` elements.
    Ok(unsafe { RecordBatch::new_unchecked(schema.clone(), columns, rows) })
}

impl Owner {
    /// Takes over `array`, refusing a released one.
    fn take(array: ArrowArray, path: &Path<'_>) -> Result<Arc<Owner>> {
        if array.release.is_none() {
            return Err(path.invalid("the array is released (its release callback is NULL)"));
        }
        Ok(Arc::new(Owner(array)))
    }
}

struct Importer<'a> {
    owner: &'a Arc<Owner>,
    level: Level,
}

impl Importer<'_> {
    /// Imports `array` and everything below it as a typed array of `data_type`.
    ///
    /// # Safety
    /// As [`import_array`], for `array` and everything below it.
    unsafe fn node(&self, array: &ArrowArray, data_type: &DataType, path: &Path<'_>, depth: usize) -> Result<ArrayRef> {
        // SAFETY: both arms forward the caller's guarantees for `array` and everything below it.
        let array = unsafe {
            match Leaf::of(data_type) {
                // A released leaf takes the general path, which reports it.
                Some(leaf) if array.release.is_some() => self.leaf(array, data_type, leaf, path)?,
                _ => self.nested(array, data_type, path, depth)?,
            }
        };
        if self.level == Level::Checked(Validation::Full) {
            // Node by node (children first) rather than once at the root, so the error names the node.
            full::validate(array.as_ref()).map_err(|e| path.invalid(e))?;
        }
        Ok(array)
    }

    /// A node of any layout but the leaves' (or a released leaf): structs, lists and maps each by
    /// their own path, the others by the general loop over the layout table.
    ///
    /// # Safety
    /// As [`import_array`], for `array` and everything below it.
    unsafe fn nested(&self, array: &ArrowArray, data_type: &DataType, path: &Path<'_>, depth: usize) -> Result<ArrayRef> {
        // SAFETY: every arm forwards the caller's guarantees for `array` and everything below it.
        Ok(unsafe {
            match data_type {
                DataType::Struct(fields) => Arc::new(self.structure(array, fields, data_type, path, depth)?),
                DataType::List(field) => self.list::<i32>(array, field, data_type, path, depth)?,
                DataType::LargeList(field) => self.list::<i64>(array, field, data_type, path, depth)?,
                DataType::Map(field, sorted) => self.map(array, field, *sorted, data_type, path, depth)?,
                DataType::Dictionary(key, values) => downcast_integer! {
                    key.as_ref() => (dictionary, self, array, values, data_type, path, depth),
                    _ => self.general(array, data_type, path, depth)?,
                },
                _ => self.general(array, data_type, path, depth)?,
            }
        })
    }

    /// A node of any other layout, read by the general loop over the layout table, then built by
    /// [`build`].
    ///
    /// # Safety
    /// As [`import_array`], for `array` and everything below it.
    unsafe fn general(&self, array: &ArrowArray, data_type: &DataType, path: &Path<'_>, depth: usize) -> Result<ArrayRef> {
        let mut parts = Parts::new(data_type);
        // SAFETY: forwarded from the caller.
        unsafe { self.read(array, &mut parts, path, depth)? };
        build(&mut parts, self.level, path)
    }

    /// A node of one of the leaf layouts most columns have, read as `leaf` says rather than by the
    /// general loop over the layout table.
    ///
    /// # Safety
    /// As [`import_array`], for `array`, which is unreleased.
    unsafe fn leaf(&self, array: &ArrowArray, data_type: &DataType, leaf: Leaf, path: &Path<'_>) -> Result<ArrayRef> {
        let shape = validate::fixed_shape(array, leaf.n_buffers(), 0, false, data_type, path)?;
        // SAFETY: `shape` checked that `buffers` holds the leaf's entries (two, or three for bytes).
        let pointers = unsafe { raw_slice(array.buffers.cast::<*const u8>(), shape.n_buffers) };
        let nulls = self.validity(pointers[0], data_type, &shape, &path.index("buffers", 0))?;
        let data_path = path.index("buffers", 1);
        let mut extent = Extent { offset: shape.offset, length: shape.length, nulls };
        Ok(match leaf {
            Leaf::Fixed { width, align, build } => {
                let len = byte_len(shape.offset + shape.length, width, &data_path)?;
                // SAFETY: per the caller the buffer holds `width` bytes for each element of the extent.
                build(data_type, &mut extent, unsafe { self.buffer(pointers[1], len, align, &data_path)? })
            }
            Leaf::Bits => {
                // SAFETY: per the caller the bitmap holds what its slot spans.
                let bits = unsafe { self.slot(Slot::Bits, pointers[1], data_type, &shape, 0, &data_path)? };
                leaf::boolean(&mut extent, bits)
            }
            Leaf::Bytes { width, build } => {
                // SAFETY: per the caller the offsets buffer holds `extent + 1` offsets.
                let (offsets, last) = unsafe { self.offsets(pointers[1], data_type, &shape, width, &data_path)? };
                let values_path = path.index("buffers", 2);
                // SAFETY: per the caller the values buffer holds what its slot spans (the last offset).
                let values = unsafe { self.slot(Slot::Values, pointers[2], data_type, &shape, last, &values_path)? };
                build(&mut extent, offsets, values)
            }
        })
    }

    /// A record batch's columns and rows: the children of a struct node without nulls, each checked
    /// and aligned as a struct's children are, read straight into the batch's vector of columns.
    ///
    /// # Safety
    /// As [`import_array`], for `array` (unreleased) and everything below it.
    unsafe fn batch(&self, array: &ArrowArray, data_type: &DataType, path: &Path<'_>) -> Result<(Vec<ArrayRef>, usize)> {
        let DataType::Struct(fields) = data_type else {
            return Err(path.invalid(format!("a record batch must be a struct array, not {data_type}")));
        };
        let shape = validate::fixed_shape(array, 1, fields.len(), false, data_type, path)?;
        // SAFETY: `shape` checked that `buffers` holds the struct's one entry.
        let validity = unsafe { *array.buffers }.cast::<u8>();
        if self.validity(validity, data_type, &shape, &path.index("buffers", 0))?.is_some() {
            return Err(path.field("null_count").invalid("a record batch's struct array has top-level nulls"));
        }
        let checks = Checks::at(self.level, path);
        let mut columns = Vec::with_capacity(fields.len());
        for (index, field) in fields.iter().enumerate() {
            let child_path = path.index("children", index);
            // SAFETY: `shape` checked the struct has a child per field; valid per the caller.
            let child = unsafe { child(array, index, &child_path)? };
            // SAFETY: forwarded from the caller.
            let mut column = unsafe { self.node(child, field.data_type(), &child_path, 1)? };
            checks.align(&mut column, index, shape.offset, shape.length, !field.is_nullable())?;
            columns.push(column);
        }
        Ok((columns, shape.length))
    }

    /// Checks `array`'s own node and reads into `parts` its buffers and (as typed arrays) its children.
    ///
    /// # Safety
    /// As [`import_array`], for `array` and everything below it.
    unsafe fn read(&self, array: &ArrowArray, parts: &mut Parts<'_>, path: &Path<'_>, depth: usize) -> Result<()> {
        let data_type = parts.data_type;
        enter(array, path, depth)?;
        let shape = validate::shape(array, data_type, path)?;
        let layout = layout::layout(data_type);
        // SAFETY: `shape` checked that `buffers` holds `n_buffers` entries.
        let pointers: &[*const c_void] = unsafe { raw_slice(array.buffers, shape.n_buffers) };

        parts.length = shape.length;
        parts.offset = shape.offset;
        let buffers = &mut parts.buffers;
        let mut last_offset = 0usize;
        for (index, slot) in layout.buffers.iter().enumerate() {
            let buffer_path = path.index("buffers", index);
            let pointer = pointers[index].cast::<u8>();
            match *slot {
                Slot::Validity => {
                    parts.nulls = self.validity(pointer, data_type, &shape, &buffer_path)?;
                    continue;
                }
                Slot::Offsets(width) => {
                    // SAFETY: per the caller the offsets buffer holds `extent + 1` offsets.
                    let (buffer, last) = unsafe { self.offsets(pointer, data_type, &shape, width, &buffer_path)? };
                    last_offset = last;
                    buffers.push(buffer);
                }
                slot => {
                    // SAFETY: per the caller the buffer holds what its slot spans.
                    buffers.push(unsafe { self.slot(slot, pointer, data_type, &shape, last_offset, &buffer_path)? });
                }
            }
        }
        if layout.variadic {
            // SAFETY: `pointers` has `n_buffers` entries; the variadic ones follow the fixed ones.
            unsafe { self.variadic(&pointers[layout.buffers.len()..], buffers, path)? };
        }

        let children = &mut parts.children;
        children.reserve_exact(shape.n_children + usize::from(!array.dictionary.is_null()));
        for index in 0..shape.n_children {
            let Some(child_field) = layout::child_field(data_type, index) else { break };
            let child_path = path.index("children", index);
            // SAFETY: `shape` checked the node has `n_children` children; valid per the caller.
            let child = unsafe { child(array, index, &child_path)? };
            // SAFETY: forwarded from the caller.
            children.push(unsafe { self.node(child, child_field.data_type(), &child_path, depth + 1)? });
        }
        if let DataType::Dictionary(_, values) = data_type {
            // SAFETY: `shape` checked the dictionary pointer is non-NULL for dictionary types.
            let dictionary = unsafe { &*array.dictionary };
            // SAFETY: forwarded from the caller.
            children.push(unsafe { self.node(dictionary, values, &path.field("dictionary"), depth + 1)? });
        }

        Ok(())
    }

    /// The node's offsets buffer of `width`-byte offsets (a zero stands in for the NULL buffer an empty
    /// array may have), and its last offset: how many bytes or child elements the node spans.
    ///
    /// # Safety
    /// `pointer` is NULL or holds `offset + length + 1` offsets of the node described by `shape`, valid
    /// as [`import_array`] says.
    unsafe fn offsets(
        &self,
        pointer: *const u8,
        data_type: &DataType,
        shape: &validate::Shape,
        width: usize,
        path: &Path<'_>,
    ) -> Result<(Buffer, usize)> {
        let buffer = if shape.offset + shape.length == 0 && pointer.is_null() {
            zero_offsets(width)
        } else {
            // SAFETY: per the caller.
            unsafe { self.slot(Slot::Offsets(width), pointer, data_type, shape, 0, path)? }
        };
        let last = validate::offsets(&buffer, width, shape.offset, shape.length, self.level, path)?;
        Ok((buffer, last))
    }

    /// A struct node of type `fields` (`data_type`), read without the general loop: its validity,
    /// then its children, which are then checked and aligned to its extent. Not behind an `Arc`,
    /// since a map takes its entries by value.
    ///
    /// # Safety
    /// As [`import_array`], for `array` and everything below it.
    unsafe fn structure(&self, array: &ArrowArray, fields: &Fields, data_type: &DataType, path: &Path<'_>, depth: usize) -> Result<StructArray> {
        enter(array, path, depth)?;
        let shape = validate::fixed_shape(array, 1, fields.len(), false, data_type, path)?;
        // SAFETY: `shape` checked that `buffers` holds the struct's one entry.
        let validity = unsafe { *array.buffers }.cast::<u8>();
        let nulls = self.validity(validity, data_type, &shape, &path.index("buffers", 0))?;
        let mut children = Vec::with_capacity(fields.len());
        for (index, field) in fields.iter().enumerate() {
            let child_path = path.index("children", index);
            // SAFETY: `shape` checked the struct has a child per field; valid per the caller.
            let child = unsafe { child(array, index, &child_path)? };
            // SAFETY: forwarded from the caller.
            children.push(unsafe { self.node(child, field.data_type(), &child_path, depth + 1)? });
        }
        build::struct_array(fields, children, nulls, (shape.offset, shape.length), &Checks::at(self.level, path))
    }

    /// A list node of `O` offsets, read without the general loop.
    ///
    /// # Safety
    /// As [`import_array`], for `array` and everything below it.
    unsafe fn list<O: OffsetSizeTrait>(&self, array: &ArrowArray, field: &FieldRef, data_type: &DataType, path: &Path<'_>, depth: usize) -> Result<ArrayRef> {
        // SAFETY: forwarded from the caller.
        let (shape, nulls, offsets, child) = unsafe { self.offsets_node(array, size_of::<O>(), data_type, path, depth)? };
        let child_path = path.index("children", 0);
        // SAFETY: forwarded from the caller.
        let values = unsafe { self.node(child, field.data_type(), &child_path, depth + 1)? };
        let offsets = build::checked_offsets(offsets, shape.offset, shape.length);
        build::list::<O>(field, offsets, values, nulls, &Checks::at(self.level, path))
    }

    /// A map node, read without the general loop; its entries are a struct array by value.
    ///
    /// # Safety
    /// As [`import_array`], for `array` and everything below it.
    unsafe fn map(&self, array: &ArrowArray, field: &FieldRef, sorted: bool, data_type: &DataType, path: &Path<'_>, depth: usize) -> Result<ArrayRef> {
        // SAFETY: forwarded from the caller.
        let (shape, nulls, offsets, child) = unsafe { self.offsets_node(array, size_of::<i32>(), data_type, path, depth)? };
        let child_path = path.index("children", 0);
        let DataType::Struct(fields) = field.data_type() else {
            // The child is read (and any fault in it reported) before its type is refused.
            // SAFETY: forwarded from the caller.
            unsafe { self.node(child, field.data_type(), &child_path, depth + 1)? };
            return Err(child_path.invalid("a map's entries must be a struct"));
        };
        // SAFETY: forwarded from the caller.
        let entries = unsafe { self.structure(child, fields, field.data_type(), &child_path, depth + 1)? };
        if self.level == Level::Checked(Validation::Full) {
            full::validate(&entries).map_err(|e| child_path.invalid(e))?;
        }
        let offsets = build::checked_offsets(offsets, shape.offset, shape.length);
        build::map(field, sorted, offsets, entries, nulls, &Checks::at(self.level, path))
    }

    /// A dictionary node with keys of `K`, read without the general loop: its keys as a primitive
    /// leaf, then its values (of `values`) from the `dictionary` pointer.
    ///
    /// # Safety
    /// As [`import_array`], for `array` and everything below it.
    unsafe fn dictionary<K: ArrowDictionaryKeyType>(
        &self,
        array: &ArrowArray,
        values: &DataType,
        data_type: &DataType,
        path: &Path<'_>,
        depth: usize,
    ) -> Result<ArrayRef> {
        enter(array, path, depth)?;
        let shape = validate::fixed_shape(array, 2, 0, true, data_type, path)?;
        // SAFETY: `shape` checked that `buffers` holds the node's two entries.
        let pointers = unsafe { raw_slice(array.buffers.cast::<*const u8>(), 2) };
        let nulls = self.validity(pointers[0], data_type, &shape, &path.index("buffers", 0))?;
        let keys_path = path.index("buffers", 1);
        let len = byte_len(shape.offset + shape.length, size_of::<K::Native>(), &keys_path)?;
        // SAFETY: per the caller the buffer holds a key for each element of the extent.
        let keys = unsafe { self.buffer(pointers[1], len, align_of::<K::Native>(), &keys_path)? };
        // SAFETY: `shape` checked the dictionary pointer is set; valid per the caller.
        let dictionary = unsafe { &*array.dictionary };
        // SAFETY: forwarded from the caller.
        let values = unsafe { self.node(dictionary, values, &path.field("dictionary"), depth + 1)? };
        Ok(build::dictionary::<K>(keys, (shape.offset, shape.length), nulls, values))
    }

    /// The shape, nulls and offsets buffer of a list or map node (`width`-byte offsets), and its
    /// one child, checked in the order the general loop checks them.
    ///
    /// # Safety
    /// As [`import_array`], for `array` and everything below it.
    unsafe fn offsets_node<'a>(
        &self,
        array: &'a ArrowArray,
        width: usize,
        data_type: &DataType,
        path: &Path<'_>,
        depth: usize,
    ) -> Result<(validate::Shape, Option<NullBuffer>, Buffer, &'a ArrowArray)> {
        enter(array, path, depth)?;
        let shape = validate::fixed_shape(array, 2, 1, false, data_type, path)?;
        // SAFETY: `shape` checked that `buffers` holds the node's two entries.
        let pointers = unsafe { raw_slice(array.buffers.cast::<*const u8>(), 2) };
        let nulls = self.validity(pointers[0], data_type, &shape, &path.index("buffers", 0))?;
        // SAFETY: per the caller the offsets buffer holds `extent + 1` offsets.
        let (offsets, _) = unsafe { self.offsets(pointers[1], data_type, &shape, width, &path.index("buffers", 1))? };
        // SAFETY: `shape` checked the node has one child; valid per the caller.
        let child = unsafe { child(array, 0, &path.index("children", 0))? };
        Ok((shape, nulls, offsets, child))
    }

    /// The buffer in `slot` of a node of `data_type`: as many bytes as the slot spans for the node's
    /// extent (`last_offset` for the values of a byte array), at the alignment arrow-rs's typed arrays
    /// need of it. The one place that sizes a foreign buffer from the layout table.
    ///
    /// # Safety
    /// `pointer` is NULL or holds those bytes, valid as [`import_array`] says.
    unsafe fn slot(
        &self,
        slot: Slot,
        pointer: *const u8,
        data_type: &DataType,
        shape: &validate::Shape,
        last_offset: usize,
        path: &Path<'_>,
    ) -> Result<Buffer> {
        let extent = shape.offset + shape.length;
        let (len, align) = match slot {
            Slot::Validity | Slot::Bits => (extent.div_ceil(8), 1),
            Slot::Offsets(width) => (byte_len(extent + 1, width, path)?, width),
            Slot::Values => (last_offset, 1),
            Slot::Fixed(width) => (byte_len(extent, width, path)?, width.min(16)),
            Slot::Data => {
                let element = match data_type {
                    DataType::Dictionary(key, _) => key,
                    other => other,
                };
                (byte_len(extent, layout::fixed_width(element).unwrap_or(0), path)?, layout::data_alignment(element))
            }
        };
        // SAFETY: per the caller.
        unsafe { self.buffer(pointer, len, align, path) }
    }

    /// The validity bitmap, or `None` when the array has no nulls.
    #[inline]
    fn validity(
        &self,
        pointer: *const u8,
        data_type: &DataType,
        shape: &validate::Shape,
        path: &Path<'_>,
    ) -> Result<Option<NullBuffer>> {
        if shape.null_count == Some(0) {
            return Ok(None);
        }
        self.bitmap(pointer, data_type, shape, path)
    }

    /// [`validity`](Self::validity) of a node that may have nulls.
    fn bitmap(
        &self,
        pointer: *const u8,
        data_type: &DataType,
        shape: &validate::Shape,
        path: &Path<'_>,
    ) -> Result<Option<NullBuffer>> {
        if pointer.is_null() {
            return match shape.null_count {
                None => Ok(None),
                Some(count) => Err(path.invalid(format!("NULL validity bitmap, but null_count is {count}"))),
            };
        }
        // SAFETY: per `import_array`'s caller the bitmap covers the node's extent.
        let bitmap = unsafe { self.slot(Slot::Validity, pointer, data_type, shape, 0, path)? };
        let bits = BooleanBuffer::new(bitmap, shape.offset, shape.length);
        Ok(Some(match shape.null_count {
            // SAFETY: a producer-stated count is trusted at this level; full validation recounts.
            Some(count) if self.level != Level::Checked(Validation::Full) => unsafe { NullBuffer::new_unchecked(bits, count) },
            _ => NullBuffer::new(bits),
        })
        .filter(|nulls| nulls.null_count() > 0))
    }

    /// The data buffers of a view array and their sizes buffer.
    ///
    /// # Safety
    /// `pointers` are the view array's buffers after the fixed ones, valid as [`import_array`] says.
    unsafe fn variadic(&self, pointers: &[*const c_void], buffers: &mut Buffers, path: &Path<'_>) -> Result<()> {
        let Some((&sizes_pointer, data)) = pointers.split_last() else {
            return Err(path.field("n_buffers").invalid("a view array needs its variadic sizes buffer"));
        };
        let sizes_path = path.index("buffers", pointers.len() + 1);
        // SAFETY: per the caller the sizes buffer holds one int64 per data buffer.
        let sizes = unsafe { self.buffer(sizes_pointer.cast(), byte_len(data.len(), 8, &sizes_path)?, 8, &sizes_path)? };
        for (index, (&pointer, size)) in data.iter().zip(sizes.typed_data::<i64>()).enumerate() {
            let buffer_path = path.index("buffers", index + 2);
            let size = usize::try_from(*size)
                .map_err(|_| sizes_path.invalid(format!("negative size {size} for variadic buffer {index}")))?;
            // SAFETY: per the caller the buffer holds `size` bytes.
            buffers.push(unsafe { self.buffer(pointer.cast(), size, 1, &buffer_path)? });
        }
        Ok(())
    }

    /// Wraps `len` bytes at `pointer` as a buffer kept alive by the owner, or copies them when the
    /// pointer is not aligned to `align`. NULL is accepted only for an empty buffer.
    ///
    /// # Safety
    /// `pointer` is NULL or valid for reads of `len` bytes for as long as the owner is unreleased.
    unsafe fn buffer(&self, pointer: *const u8, len: usize, align: usize, path: &Path<'_>) -> Result<Buffer> {
        let Some(pointer) = NonNull::new(pointer.cast_mut()) else {
            return if len == 0 {
                Ok(MutableBuffer::new(0).into())
            } else {
                Err(path.invalid(format!("NULL, but {len} bytes are required")))
            };
        };
        debug_assert!(align.is_power_of_two(), "alignments come from the layout table");
        if pointer.as_ptr() as usize & (align - 1) != 0 {
            // SAFETY: per the caller the bytes are readable; the copy is aligned by arrow's allocator.
            return Ok(Buffer::from_slice_ref(unsafe { std::slice::from_raw_parts(pointer.as_ptr(), len) }));
        }
        // SAFETY: per the caller the bytes stay valid until the owner (held by the buffer) releases them.
        Ok(unsafe { Buffer::from_custom_allocation(pointer, len, self.owner.clone()) })
    }
}

// The step of the `downcast_integer!` dispatch of dictionaries by key type (inside the caller's
// `unsafe` block).
macro_rules! dictionary {
    ($key:ty, $importer:ident, $array:ident, $values:ident, $data_type:ident, $path:ident, $depth:ident) => {
        $importer.dictionary::<$key>($array, $values, $data_type, $path, $depth)?
    };
}
use dictionary;

/// Refuses a node nested deeper than [`MAX_DEPTH`] or released, before anything else is read of it.
fn enter(array: &ArrowArray, path: &Path<'_>, depth: usize) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(path.invalid(format!("nesting deeper than {MAX_DEPTH} levels")));
    }
    if array.release.is_none() {
        return Err(path.invalid("the array is released (its release callback is NULL)"));
    }
    Ok(())
}

/// Child `index` of `array`, refusing a NULL pointer.
///
/// # Safety
/// `array.children` holds more than `index` pointers, each NULL or valid as [`import_array`] says.
unsafe fn child<'a>(array: &'a ArrowArray, index: usize, path: &Path<'_>) -> Result<&'a ArrowArray> {
    // SAFETY: per the caller.
    let child = unsafe { *array.children.add(index) };
    // SAFETY: NULL is refused; otherwise valid per the caller.
    unsafe { child.as_ref() }.ok_or_else(|| path.invalid("NULL child pointer"))
}

/// The byte length of `count` elements of `width` bytes, or an error if a foreign length makes it overflow.
fn byte_len(count: usize, width: usize, path: &Path<'_>) -> Result<usize> {
    count
        .checked_mul(width)
        .filter(|&len| len <= isize::MAX as usize)
        .ok_or_else(|| path.invalid(format!("{count} elements of {width} bytes overflow the address space")))
}

/// A single zero offset, standing in for the NULL offsets buffer a producer may give an empty array.
fn zero_offsets(width: usize) -> Buffer {
    MutableBuffer::from_len_zeroed(width).into()
}

/// The `len` entries at `pointer` (NULL only when `len` is 0).
///
/// # Safety
/// `pointer` is valid for reads of `len` entries for `'a`, or `len` is 0.
unsafe fn raw_slice<'a, T>(pointer: *const T, len: usize) -> &'a [T] {
    if len == 0 {
        return &[];
    }
    // SAFETY: per the caller.
    unsafe { std::slice::from_raw_parts(pointer, len) }
}
