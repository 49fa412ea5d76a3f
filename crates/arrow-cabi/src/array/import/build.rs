//! Typed arrays from the checked parts of one imported node, built directly with arrow-rs's
//! constructors rather than through `ArrayData` and `make_array`.
//!
//! The plan picks each node's constructor once ([`super::plan::Kind`]); the generic families are
//! function pointers of the types below. Each constructor's O(1) conditions (children long enough for
//! what the parent indexes) are checked by the walk, as its level says, before an unchecked
//! constructor runs; [`Validation::Full`](super::Validation::Full) then checks the values (`full.rs`).
//! [`Typed`] is the walk's typed [`Output`]: it forwards to these.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{ArrowDictionaryKeyType, ByteArrayType, ByteViewType, Int16Type, Int32Type, Int64Type, RunEndIndexType};
use arrow_array::{
    Array, ArrayRef, ArrowPrimitiveType, BooleanArray, DictionaryArray, FixedSizeBinaryArray, FixedSizeListArray,
    GenericByteArray, GenericByteViewArray, GenericListArray, GenericListViewArray, MapArray, NullArray, OffsetSizeTrait,
    PrimitiveArray, RunArray, StructArray, UnionArray,
};
use arrow_buffer::{ArrowNativeType, BooleanBuffer, Buffer, NullBuffer, OffsetBuffer, RunEndBuffer, ScalarBuffer};
use arrow_schema::{DataType, FieldRef, Fields, UnionFields};

use super::full;
use super::output::Output;
use crate::error::{Path, Result};

/// The elements of a node a typed array is built over, and its nulls, which the constructor takes.
/// Constructors get it by reference: passed by value, the copy of its nulls stalled every leaf node
/// on store forwarding (measured: 3% of S2's round-trip time).
pub(super) struct Extent {
    pub offset: usize,
    pub length: usize,
    pub nulls: Option<NullBuffer>,
}

/// A primitive array of `data_type` over its values.
pub(super) type Primitive = fn(&DataType, &mut Extent, Buffer) -> ArrayRef;
/// A byte array over its offsets and values.
pub(super) type Bytes = fn(&mut Extent, Buffer, Buffer) -> ArrayRef;
/// A view array over its views and data buffers.
pub(super) type Views = fn(&mut Extent, Buffer, Vec<Buffer>) -> ArrayRef;
/// A list of the field over its offsets and child.
pub(super) type List = fn(&FieldRef, &mut Extent, Buffer, ArrayRef) -> ArrayRef;
/// A list view of the field over its offsets, sizes and child.
pub(super) type ListView = fn(&FieldRef, &mut Extent, Buffer, Buffer, ArrayRef) -> ArrayRef;
/// A run-end-encoded array of the type (`length` elements from `offset` on) over its run ends and values.
pub(super) type RunEnd = fn(&DataType, &Extent, ArrayRef, ArrayRef, &Path<'_>) -> Result<ArrayRef>;
/// A dictionary array over its keys and values.
pub(super) type Dictionary = fn(&mut Extent, Buffer, ArrayRef) -> ArrayRef;

/// `len` values of `T` from element `offset` of `buffer` on; without slicing (two atomic operations)
/// when the buffer is exactly that, as an unsliced array's is. Always inlined: it runs for every
/// imported buffer, and the call was a quarter of its cost.
#[inline(always)]
pub(super) fn scalars<T: ArrowNativeType>(buffer: Buffer, offset: usize, len: usize) -> ScalarBuffer<T> {
    if offset == 0 && buffer.len() == len * std::mem::size_of::<T>() {
        ScalarBuffer::from(buffer)
    } else {
        ScalarBuffer::new(buffer, offset, len)
    }
}

/// The `length + 1` offsets of the extent, whose first and last the view checked.
fn checked_offsets<O: OffsetSizeTrait>(buffer: Buffer, extent: &Extent) -> OffsetBuffer<O> {
    // SAFETY: the view checked the first and last offset (non-negative, in order) from
    // `Validation::Minimal` up; the middle ones are the producer's promise, which `Full` checks.
    unsafe { OffsetBuffer::new_unchecked(scalars(buffer, extent.offset, extent.length + 1)) }
}

pub(super) fn primitive<T: ArrowPrimitiveType>(data_type: &DataType, extent: &mut Extent, values: Buffer) -> ArrayRef {
    // SAFETY: the view built `nulls` (if any) over the node's `length` elements, as many as the values.
    let array = unsafe { PrimitiveArray::<T>::new_unchecked(scalars(values, extent.offset, extent.length), extent.nulls.take()) };
    // Only a time zone or a decimal's precision and scale can differ from the native type's default.
    let parameterized = matches!(
        data_type,
        DataType::Timestamp(_, Some(_))
            | DataType::Decimal32(..)
            | DataType::Decimal64(..)
            | DataType::Decimal128(..)
            | DataType::Decimal256(..)
    );
    Arc::new(if parameterized { array.with_data_type(data_type.clone()) } else { array })
}

pub(super) fn boolean(extent: &mut Extent, bits: Buffer) -> ArrayRef {
    Arc::new(BooleanArray::new(BooleanBuffer::new(bits, extent.offset, extent.length), extent.nulls.take()))
}

pub(super) fn bytes<T: ByteArrayType>(extent: &mut Extent, offsets: Buffer, values: Buffer) -> ArrayRef
where
    T::Offset: OffsetSizeTrait,
{
    let offsets = checked_offsets(offsets, extent);
    // SAFETY: the offsets are checked as `checked_offsets` says, and the view sized the values
    // buffer to the last offset; UTF-8 and the middle offsets are the producer's promise, which `Full`
    // checks.
    Arc::new(unsafe { GenericByteArray::<T>::new_unchecked(offsets, values, extent.nulls.take()) })
}

pub(super) fn views<T: ByteViewType + ?Sized>(extent: &mut Extent, views: Buffer, data: Vec<Buffer>) -> ArrayRef {
    let views = scalars::<u128>(views, extent.offset, extent.length);
    // SAFETY: the views buffer holds `length` views from the offset on; that each view points inside
    // its data buffer, and UTF-8, are the producer's promise, which `Full` checks.
    Arc::new(unsafe { GenericByteViewArray::<T>::new_unchecked(views, data.into(), extent.nulls.take()) })
}

pub(super) fn fixed_size_binary(width: usize, size: i32, extent: &mut Extent, values: Buffer, path: &Path<'_>) -> Result<ArrayRef> {
    let values = values.slice_with_length(extent.offset * width, extent.length * width);
    // With the length given: of zero-width values, the length cannot be told from the values.
    let array = FixedSizeBinaryArray::try_new_with_len(size, values, extent.nulls.take(), extent.length)
        .map_err(|e| path.invalid(e.to_string()))?;
    Ok(Arc::new(array))
}

/// The struct array of type `fields` over `columns`, which were built from the fields' types and
/// aligned to the extent.
pub(super) fn struct_array(fields: &Fields, extent: &mut Extent, columns: Vec<ArrayRef>) -> StructArray {
    // SAFETY: every column holds `length` elements (aligned by the walk) and has its field's type,
    // since the walk built it from that field.
    unsafe { StructArray::new_unchecked_with_length(fields.clone(), columns, extent.nulls.take(), extent.length) }
}

pub(super) fn list<O: OffsetSizeTrait>(field: &FieldRef, extent: &mut Extent, offsets: Buffer, child: ArrayRef) -> ArrayRef {
    let offsets = checked_offsets::<O>(offsets, extent);
    // SAFETY: the walk checked that the last offset is within the child.
    Arc::new(unsafe { GenericListArray::<O>::new_unchecked(field.clone(), offsets, child, extent.nulls.take()) })
}

pub(super) fn list_view<O: OffsetSizeTrait>(field: &FieldRef, extent: &mut Extent, offsets: Buffer, sizes: Buffer, child: ArrayRef) -> ArrayRef {
    let offsets = scalars::<O>(offsets, extent.offset, extent.length);
    let sizes = scalars::<O>(sizes, extent.offset, extent.length);
    // SAFETY: each view within the child is the producer's promise, which `Full` checks.
    Arc::new(unsafe { GenericListViewArray::<O>::new_unchecked(field.clone(), offsets, sizes, child, extent.nulls.take()) })
}

/// A fixed-size list of `size` elements per element.
pub(super) fn fixed_size_list(field: &FieldRef, size: i32, extent: &mut Extent, child: ArrayRef) -> ArrayRef {
    let width = usize::try_from(size).unwrap_or(0);
    let values = child.slice(extent.offset * width, extent.length * width);
    // SAFETY: the walk checked that the child holds `length * size` elements from the parent's offset on.
    Arc::new(unsafe { FixedSizeListArray::new_unchecked(field.clone(), size, values, extent.nulls.take(), extent.length) })
}

/// The map array of `field` over `entries` (built from the field's struct type).
pub(super) fn map(field: &FieldRef, sorted: bool, extent: &mut Extent, offsets: Buffer, entries: StructArray) -> ArrayRef {
    let offsets = checked_offsets::<i32>(offsets, extent);
    // SAFETY: the walk checked that the last offset is within the entries; the entries were built
    // from the field's struct type, so they have its two children.
    Arc::new(unsafe { MapArray::new_unchecked(field.clone(), offsets, entries, extent.nulls.take(), sorted) })
}

/// A union over its type ids, offsets (dense) and children (aligned to the extent, for sparse).
pub(super) fn union(fields: &UnionFields, extent: &Extent, type_ids: Buffer, offsets: Option<Buffer>, children: Vec<ArrayRef>) -> ArrayRef {
    let type_ids = scalars(type_ids, extent.offset, extent.length);
    let offsets = offsets.map(|offsets| scalars(offsets, extent.offset, extent.length));
    // SAFETY: the buffers hold `length` type ids and offsets from the node's offset on; a sparse union's
    // children cover its extent (checked); that ids and offsets are in range is the producer's promise,
    // which `Full` checks.
    Arc::new(unsafe { UnionArray::new_unchecked(fields.clone(), type_ids, offsets, children) })
}

pub(super) fn run<R: RunEndIndexType>(data_type: &DataType, extent: &Extent, ends: ArrayRef, values: ArrayRef, path: &Path<'_>) -> Result<ArrayRef> {
    let Some(ends) = ends.as_any().downcast_ref::<PrimitiveArray<R>>().map(|ends| ends.values().clone()) else {
        return Err(path.index("children", 0).invalid("run ends of the wrong type"));
    };
    // SAFETY: the walk checked that the run ends cover the array's extent; that they increase is the
    // producer's promise, which `Full` checks.
    let ends = unsafe { RunEndBuffer::new_unchecked(ends, extent.offset, extent.length) };
    // SAFETY: as above; the walk checked there are as many run ends as values.
    Ok(Arc::new(unsafe { RunArray::<R>::new_unchecked(data_type.clone(), ends, values) }))
}

pub(super) fn dictionary<K: ArrowDictionaryKeyType>(extent: &mut Extent, keys: Buffer, values: ArrayRef) -> ArrayRef {
    // SAFETY: the view built the nulls (if any) over the node's `length` elements.
    let keys = unsafe { PrimitiveArray::<K>::new_unchecked(scalars(keys, extent.offset, extent.length), extent.nulls.take()) };
    // SAFETY: the keys are in range of the values by the producer's promise, which `Full` checks.
    Arc::new(unsafe { DictionaryArray::new_unchecked(keys, values) })
}

/// The typed output: every node as the typed array arrow-rs's `make_array` would build for its type,
/// built directly with the plan's constructor.
pub(super) struct Typed;

impl Output for Typed {
    type Array = ArrayRef;
    type Struct = StructArray;

    fn len(array: &ArrayRef) -> usize {
        array.len()
    }
    fn null_count(array: &ArrayRef) -> usize {
        array.null_count()
    }
    fn data_type(array: &ArrayRef) -> &DataType {
        array.data_type()
    }
    /// Typed arrays do not carry their parent's offset: sliced (O(1)) unless already the extent.
    fn cut(child: &mut ArrayRef, len: usize, offset: usize, length: usize) {
        if offset != 0 || len != length {
            *child = child.slice(offset, length);
        }
    }
    fn last_run_end(ends: &ArrayRef) -> Option<usize> {
        match ends.data_type() {
            DataType::Int16 => ends.as_primitive::<Int16Type>().values().last().map(|end| end.as_usize()),
            DataType::Int32 => ends.as_primitive::<Int32Type>().values().last().map(|end| end.as_usize()),
            DataType::Int64 => ends.as_primitive::<Int64Type>().values().last().map(|end| end.as_usize()),
            _ => None,
        }
    }
    fn full(array: &ArrayRef) -> Result<(), String> {
        full::validate(array.as_ref())
    }
    fn full_struct(array: &StructArray) -> Result<(), String> {
        full::validate(array)
    }

    fn null(_: &DataType, length: usize) -> ArrayRef {
        Arc::new(NullArray::new(length))
    }
    fn primitive(build: Primitive, data_type: &DataType, extent: &mut Extent, values: Buffer) -> ArrayRef {
        build(data_type, extent, values)
    }
    fn boolean(extent: &mut Extent, bits: Buffer) -> ArrayRef {
        boolean(extent, bits)
    }
    fn fixed_size_binary(_: &DataType, size: i32, extent: &mut Extent, values: Buffer, path: &Path<'_>) -> Result<ArrayRef> {
        fixed_size_binary(usize::try_from(size).unwrap_or(0), size, extent, values, path)
    }
    fn bytes(build: Bytes, _: &DataType, extent: &mut Extent, offsets: Buffer, values: Buffer) -> ArrayRef {
        build(extent, offsets, values)
    }
    fn views(build: Views, _: &DataType, extent: &mut Extent, views: Buffer, data: Vec<Buffer>) -> ArrayRef {
        build(extent, views, data)
    }
    fn structure(fields: &Fields, extent: &mut Extent, columns: Vec<ArrayRef>) -> StructArray {
        struct_array(fields, extent, columns)
    }
    fn from_struct(array: StructArray) -> ArrayRef {
        Arc::new(array)
    }
    fn list(build: List, _: &DataType, field: &FieldRef, extent: &mut Extent, offsets: Buffer, child: ArrayRef) -> ArrayRef {
        build(field, extent, offsets, child)
    }
    fn list_view(build: ListView, _: &DataType, field: &FieldRef, extent: &mut Extent, offsets: Buffer, sizes: Buffer, child: ArrayRef) -> ArrayRef {
        build(field, extent, offsets, sizes, child)
    }
    fn fixed_size_list(_: &DataType, field: &FieldRef, size: i32, extent: &mut Extent, child: ArrayRef) -> ArrayRef {
        fixed_size_list(field, size, extent, child)
    }
    fn map(_: &DataType, field: &FieldRef, sorted: bool, extent: &mut Extent, offsets: Buffer, entries: StructArray) -> ArrayRef {
        map(field, sorted, extent, offsets, entries)
    }
    fn union(_: &DataType, fields: &UnionFields, extent: &mut Extent, type_ids: Buffer, offsets: Option<Buffer>, children: Vec<ArrayRef>) -> ArrayRef {
        union(fields, extent, type_ids, offsets, children)
    }
    fn run_end(build: RunEnd, data_type: &DataType, extent: &mut Extent, ends: ArrayRef, values: ArrayRef, path: &Path<'_>) -> Result<ArrayRef> {
        build(data_type, extent, ends, values, path)
    }
    fn dictionary(build: Dictionary, _: &DataType, extent: &mut Extent, keys: Buffer, values: ArrayRef) -> ArrayRef {
        build(extent, keys, values)
    }
}
