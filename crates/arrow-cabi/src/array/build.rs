//! Typed arrays from the checked parts of one imported node, built directly with arrow-rs's
//! constructors rather than through `ArrayData` and `make_array`.
//!
//! Each family's O(1) conditions (children long enough for what the parent indexes) are checked from
//! [`Validation::Minimal`] up before an unchecked constructor runs; [`Validation::Full`] then checks
//! the values (`full.rs`).

use std::sync::Arc;

use arrow_array::types::{ArrowDictionaryKeyType, BinaryViewType, ByteViewType, RunEndIndexType, StringViewType};
use arrow_array::{
    downcast_run_end_index, Array, ArrayRef, DictionaryArray, FixedSizeBinaryArray,
    FixedSizeListArray, GenericByteViewArray, GenericListArray, GenericListViewArray, MapArray, NullArray,
    OffsetSizeTrait, PrimitiveArray, RunArray, StructArray, UnionArray,
};
use arrow_buffer::{ArrowNativeType, Buffer, NullBuffer, OffsetBuffer, RunEndBuffer, ScalarBuffer};
use arrow_schema::{DataType, FieldRef, Fields, UnionMode};
use smallvec::SmallVec;

use super::validate::{Level, Validation};
use crate::error::{Path, Result};

/// A node's buffers after the validity bitmap; inline up to three, the most any layout but views has.
pub(crate) type Buffers = SmallVec<[Buffer; 3]>;

/// A node's children; inline up to two, so lists, maps, dictionaries and run-end-encoded arrays need
/// no vector of their own.
pub(crate) type Children = SmallVec<[ArrayRef; 2]>;

/// The checked parts of one imported node.
pub(crate) struct Parts<'a> {
    pub data_type: &'a DataType,
    pub length: usize,
    pub offset: usize,
    pub nulls: Option<NullBuffer>,
    /// The buffers after the validity bitmap, in C order (for views: the views, then the data buffers).
    pub buffers: Buffers,
    /// The children, then (for a dictionary) the values.
    pub children: Children,
}

impl<'a> Parts<'a> {
    /// Empty parts of a node of `data_type`, for the importer to fill.
    pub(crate) fn new(data_type: &'a DataType) -> Self {
        Parts { data_type, length: 0, offset: 0, nulls: None, buffers: Buffers::new(), children: Children::new() }
    }

    /// Buffer `index` (after validity) as `len` elements of `T` from the node's offset on.
    /// The importer sized every buffer for `offset + length` elements (or one more, for offsets).
    fn scalars<T: ArrowNativeType>(&self, index: usize, len: usize) -> ScalarBuffer<T> {
        scalars(self.buffers[index].clone(), self.offset, len)
    }
}

/// The `length + 1` offsets from element `offset` of `buffer` on, whose first and last the importer
/// checked.
pub(crate) fn checked_offsets<O: OffsetSizeTrait>(buffer: Buffer, offset: usize, length: usize) -> OffsetBuffer<O> {
    // SAFETY: the importer checked the first and last offset (non-negative, in order) from
    // `Validation::Minimal` up; the middle ones are the producer's promise, which `Full` checks.
    unsafe { OffsetBuffer::new_unchecked(scalars(buffer, offset, length + 1)) }
}

/// `len` values of `T` from element `offset` of `buffer` on; without slicing (two atomic operations)
/// when the buffer is exactly that, as an unsliced array's is. Always inlined: it runs for every
/// imported buffer, and the call was a quarter of its cost.
#[inline(always)]
pub(crate) fn scalars<T: ArrowNativeType>(buffer: Buffer, offset: usize, len: usize) -> ScalarBuffer<T> {
    if offset == 0 && buffer.len() == len * std::mem::size_of::<T>() {
        ScalarBuffer::from(buffer)
    } else {
        ScalarBuffer::new(buffer, offset, len)
    }
}

/// The O(1) conditions a node's constructor relies on, checked from [`Validation::Minimal`] up.
pub(crate) struct Checks<'p> {
    /// The bounds checks, from [`Validation::Minimal`] up.
    on: bool,
    /// The null-count checks, from [`Validation::Default`] up.
    nulls: bool,
    path: &'p Path<'p>,
}

impl<'p> Checks<'p> {
    pub(crate) fn at(level: Level, path: &'p Path<'p>) -> Self {
        Checks {
            on: level >= Level::Checked(Validation::Minimal),
            nulls: level >= Level::Checked(Validation::Default),
            path,
        }
    }

    /// `Err` naming `at` (this node, or one of its children) when `ok` is false and checks are on.
    fn require(&self, ok: bool, child: Option<usize>, what: impl FnOnce() -> String) -> Result<()> {
        if ok || !self.on {
            return Ok(());
        }
        Err(match child {
            Some(index) => self.path.index("children", index).invalid(what()),
            None => self.path.invalid(what()),
        })
    }

    /// No nulls in child `index` (`what` names it) where the type forbids them.
    fn no_nulls(&self, child: &dyn Array, index: usize, what: &str) -> Result<()> {
        let count = child.null_count();
        if !self.nulls || count == 0 {
            return Ok(());
        }
        Err(self.path.index("children", index).invalid(format!("{count} nulls in {what}, which cannot hold nulls")))
    }

    /// Child `index` of a struct or sparse union, which the parent (`length` elements from `offset`
    /// on) indexes one to one: checked to cover the parent's extent, and cut to it where longer or
    /// where the parent has an offset; with `no_nulls` (a non-nullable field of a struct without
    /// nulls), also checked to hold no nulls.
    #[inline]
    pub(crate) fn align(&self, child: &mut ArrayRef, index: usize, offset: usize, length: usize, no_nulls: bool) -> Result<()> {
        let (len, extent) = (child.len(), offset + length);
        self.require(len >= extent, Some(index), || format!("{len} elements, but the parent spans {extent}"))?;
        if no_nulls {
            self.no_nulls(child.as_ref(), index, "a non-nullable field")?;
        }
        if offset != 0 || len != length {
            *child = child.slice(offset, length);
        }
        Ok(())
    }

    /// The children of a struct or sparse union (`length` elements from `offset` on), each
    /// [`align`](Self::align)ed; with `fields` (a struct without nulls), the non-nullable ones also
    /// checked to hold no nulls.
    fn align_children(&self, children: &mut [ArrayRef], offset: usize, length: usize, fields: Option<&Fields>) -> Result<()> {
        for (index, child) in children.iter_mut().enumerate() {
            let no_nulls = fields.is_some_and(|fields| !fields[index].is_nullable());
            self.align(child, index, offset, length, no_nulls)?;
        }
        Ok(())
    }
}

// The per-type step of the `downcast_*!` dispatch below.
macro_rules! run_array {
    ($t:ty, $parts:ident, $checks:ident, $extent:ident) => {
        run::<$t>($parts, &$checks, $extent)?
    };
}

/// Builds the typed array of `parts`, checking (from [`Validation::Minimal`] up) what its constructor
/// relies on. The leaf layouts (primitive, boolean, utf8 and binary) are not built here but by the
/// importer's leaf path (`leaf.rs`), nor are structs, lists, maps and dictionaries with integer
/// keys, which the importer reads without `Parts` and builds with [`struct_array`], [`list`],
/// [`map`] and [`dictionary`].
pub(crate) fn build(parts: &mut Parts<'_>, level: Level, path: &Path<'_>) -> Result<ArrayRef> {
    let checks = Checks::at(level, path);
    let extent = parts.offset + parts.length;
    Ok(match parts.data_type {
        DataType::Null => Arc::new(NullArray::new(parts.length)),
        DataType::Utf8View => views::<StringViewType>(parts),
        DataType::BinaryView => views::<BinaryViewType>(parts),
        DataType::FixedSizeBinary(size) => {
            let width = usize::try_from(*size).unwrap_or(0);
            let values = parts.buffers[0].slice_with_length(parts.offset * width, parts.length * width);
            Arc::new(FixedSizeBinaryArray::try_new(*size, values, parts.nulls.take()).map_err(|e| path.invalid(e.to_string()))?)
        }
        DataType::ListView(field) => list_view::<i32>(field, parts),
        DataType::LargeListView(field) => list_view::<i64>(field, parts),
        DataType::FixedSizeList(field, size) => {
            let width = usize::try_from(*size).unwrap_or(0);
            let len = parts.children[0].len();
            let needed = extent.checked_mul(width);
            checks.require(needed.is_some_and(|needed| len >= needed), Some(0), || {
                format!("{len} elements, but {extent} lists of {width} need more")
            })?;
            let values = parts.children[0].slice(parts.offset * width, parts.length * width);
            // SAFETY: the child holds `length * size` elements from the parent's offset on (checked).
            Arc::new(unsafe { FixedSizeListArray::new_unchecked(field.clone(), *size, values, parts.nulls.take(), parts.length) })
        }
        DataType::Union(fields, UnionMode::Dense) => {
            let (type_ids, offsets) = (parts.scalars(0, parts.length), parts.scalars(1, parts.length));
            // SAFETY: the buffers hold `length` type ids and offsets from the node's offset on; that ids
            // and offsets are in range is the producer's promise, which `Full` checks.
            Arc::new(unsafe { UnionArray::new_unchecked(fields.clone(), type_ids, Some(offsets), std::mem::take(&mut parts.children).into_vec()) })
        }
        DataType::Union(fields, UnionMode::Sparse) => {
            let mut children = std::mem::take(&mut parts.children).into_vec();
            checks.align_children(&mut children, parts.offset, parts.length, None)?;
            // SAFETY: as for dense unions; the children cover the union's extent (checked).
            Arc::new(unsafe { UnionArray::new_unchecked(fields.clone(), parts.scalars(0, parts.length), None, children) })
        }
        DataType::RunEndEncoded(run_ends, _) => downcast_run_end_index! {
            run_ends.data_type() => (run_array, parts, checks, extent),
            other => return Err(path.invalid(format!("run ends of type {other}"))),
        },
        // Integer keys are read by the importer's own path and built by [`dictionary`].
        DataType::Dictionary(key, _) => return Err(path.invalid(format!("dictionary index of type {key}"))),
        other => return Err(path.invalid(format!("cannot import arrays of type {other}"))),
    })
}

/// The struct array of type `fields` over `children` (one per field, each built from its field's
/// type), `length` elements from `offset` on: the children checked and aligned as
/// [`Checks::align_children`] says, the null checks where the struct has no nulls of its own.
pub(crate) fn struct_array(
    fields: &Fields,
    mut children: Vec<ArrayRef>,
    nulls: Option<NullBuffer>,
    (offset, length): (usize, usize),
    checks: &Checks<'_>,
) -> Result<StructArray> {
    checks.align_children(&mut children, offset, length, nulls.is_none().then_some(fields))?;
    // SAFETY: every child holds `length` elements once aligned (checked); each child's type is its
    // field's, since the importer built it from that field.
    Ok(unsafe { StructArray::new_unchecked_with_length(fields.clone(), children, nulls, length) })
}

fn views<T: ByteViewType + ?Sized>(parts: &mut Parts<'_>) -> ArrayRef {
    let views = parts.scalars::<u128>(0, parts.length);
    let data: Arc<[Buffer]> = parts.buffers[1..].into();
    // SAFETY: the views buffer holds `length` views from the offset on; that each view points inside
    // its data buffer, and UTF-8, are the producer's promise, which `Full` checks.
    Arc::new(unsafe { GenericByteViewArray::<T>::new_unchecked(views, data, parts.nulls.take()) })
}

/// The last offset, checked to lie within the child of `len` elements.
fn last_offset_within<O: OffsetSizeTrait>(offsets: &OffsetBuffer<O>, len: usize, checks: &Checks<'_>) -> Result<()> {
    let end = offsets.last().as_usize();
    checks.require(end <= len, Some(0), || format!("{len} elements, but the offsets reach {end}"))
}

/// The dictionary array of `keys` (a buffer of `length` keys from element `offset` on, with their
/// nulls) into `values`.
pub(crate) fn dictionary<K: ArrowDictionaryKeyType>(
    keys: Buffer,
    (offset, length): (usize, usize),
    nulls: Option<NullBuffer>,
    values: ArrayRef,
) -> ArrayRef {
    // SAFETY: the importer built the nulls (if any) over the node's `length` elements.
    let keys = unsafe { PrimitiveArray::<K>::new_unchecked(scalars(keys, offset, length), nulls) };
    // SAFETY: the keys are in range of the values by the producer's promise, which `Full` checks.
    Arc::new(unsafe { DictionaryArray::new_unchecked(keys, values) })
}

/// The list array of `field` over `child` (built from the field's type), checked to hold what the
/// offsets (whose first and last the importer checked) reach.
pub(crate) fn list<O: OffsetSizeTrait>(
    field: &FieldRef,
    offsets: OffsetBuffer<O>,
    child: ArrayRef,
    nulls: Option<NullBuffer>,
    checks: &Checks<'_>,
) -> Result<ArrayRef> {
    last_offset_within(&offsets, child.len(), checks)?;
    // SAFETY: the last offset is within the child (checked).
    Ok(Arc::new(unsafe { GenericListArray::<O>::new_unchecked(field.clone(), offsets, child, nulls) }))
}

/// The map array of `field` over `entries` (built from the field's struct type), checked to hold
/// what the offsets reach, with no null keys.
pub(crate) fn map(
    field: &FieldRef,
    sorted: bool,
    offsets: OffsetBuffer<i32>,
    entries: StructArray,
    nulls: Option<NullBuffer>,
    checks: &Checks<'_>,
) -> Result<ArrayRef> {
    last_offset_within(&offsets, entries.len(), checks)?;
    checks.no_nulls(entries.column(0).as_ref(), 0, "a map's keys")?;
    // SAFETY: the last offset is within the entries (checked); the entries were built from the
    // field's struct type, so they have its two children.
    Ok(Arc::new(unsafe { MapArray::new_unchecked(field.clone(), offsets, entries, nulls, sorted) }))
}

fn list_view<O: OffsetSizeTrait>(field: &arrow_schema::FieldRef, parts: &mut Parts<'_>) -> ArrayRef {
    let offsets = parts.scalars::<O>(0, parts.length);
    let sizes = parts.scalars::<O>(1, parts.length);
    let child = parts.children[0].clone();
    // SAFETY: each view within the child is the producer's promise, which `Full` checks.
    Arc::new(unsafe { GenericListViewArray::<O>::new_unchecked(field.clone(), offsets, sizes, child, parts.nulls.take()) })
}

fn run<R: RunEndIndexType>(parts: &mut Parts<'_>, checks: &Checks<'_>, extent: usize) -> Result<ArrayRef> {
    let (ends, values) = (&parts.children[0], parts.children[1].clone());
    let (n_ends, n_values) = (ends.len(), values.len());
    checks.require(n_ends == n_values, None, || format!("{n_ends} run ends for {n_values} values"))?;
    checks.no_nulls(ends.as_ref(), 0, "run ends")?;
    let Some(ends) = ends.as_any().downcast_ref::<PrimitiveArray<R>>().map(|ends| ends.values().clone()) else {
        return Err(checks.path.index("children", 0).invalid("run ends of the wrong type"));
    };
    let last = ends.last().map_or(0, |end| end.as_usize());
    checks.require(last >= extent, Some(0), || format!("the last run ends at {last}, before the array's end {extent}"))?;
    // SAFETY: the run ends cover the array's extent (checked); that they increase is the producer's
    // promise, which `Full` checks.
    let ends = unsafe { RunEndBuffer::new_unchecked(ends, parts.offset, parts.length) };
    // SAFETY: as above; as many run ends as values (checked).
    Ok(Arc::new(unsafe { RunArray::<R>::new_unchecked(parts.data_type.clone(), ends, values) }))
}
