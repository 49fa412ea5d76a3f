//! The `ArrayData` output: every node as the `ArrayData` arrow-rs's `from_ffi` returns, assembled from
//! the checked parts in one step, with no typed array built and taken apart on the way.
//!
//! `ArrayData` keeps a node's offset and its buffers whole, as the C struct does, and its children
//! carry the parent's offset where the parent indexes them one to one (struct fields, sparse union
//! variants), so nothing is sliced here.

use arrow_array::make_array;
use arrow_buffer::{ArrowNativeType, Buffer};
use arrow_data::ArrayData;
use arrow_schema::{DataType, FieldRef, Fields, UnionFields};

use super::build::{self, Extent};
use super::full;
use super::output::Output;
use crate::error::{Path, Result};

/// The `ArrayData` output.
pub(super) struct Data;

/// The node of `data_type` over its checked parts.
fn node(data_type: &DataType, extent: &mut Extent, buffers: Vec<Buffer>, children: Vec<ArrayData>) -> ArrayData {
    // The bitmap and its count rather than the `NullBuffer` (over the node's extent, as `ArrayData`
    // rebuilds it): `ArrayData::new_unchecked` takes them in one call, where the builder's by-value
    // steps were a tenth of the node's import.
    let (count, bitmap) = match extent.nulls.take() {
        Some(nulls) => (nulls.null_count(), Some(nulls.into_inner().into_inner())),
        None => (0, None),
    };
    // SAFETY: the walk checked the parts as its validation level says, which is what the typed arrays
    // that `make_array` builds from this rely on (see `Output`); the data buffers are sized by the view,
    // and the bitmap spans the node's extent with `count` nulls.
    unsafe { ArrayData::new_unchecked(data_type.clone(), extent.length, Some(count), bitmap, extent.offset, buffers, children) }
}

impl Output for Data {
    type Array = ArrayData;
    type Struct = ArrayData;

    fn len(array: &ArrayData) -> usize {
        array.len()
    }
    fn null_count(array: &ArrayData) -> usize {
        array.null_count()
    }
    fn data_type(array: &ArrayData) -> &DataType {
        array.data_type()
    }
    /// `ArrayData` children carry their parent's offset: nothing to cut.
    fn cut(_: &mut ArrayData, _: usize, _: usize, _: usize) {}
    fn last_run_end(ends: &ArrayData) -> Option<usize> {
        let index = (ends.offset() + ends.len()).checked_sub(1)?;
        let values = ends.buffers().first()?;
        match ends.data_type() {
            DataType::Int16 => values.typed_data::<i16>().get(index).map(|end| end.as_usize()),
            DataType::Int32 => values.typed_data::<i32>().get(index).map(|end| end.as_usize()),
            DataType::Int64 => values.typed_data::<i64>().get(index).map(|end| end.as_usize()),
            _ => None,
        }
    }
    /// Through the typed array of the node, as the typed output checks it (at `Full` only, where the
    /// O(data) checks dwarf building it).
    fn full(array: &ArrayData) -> Result<(), String> {
        full::validate(make_array(array.clone()).as_ref())
    }
    fn full_struct(array: &ArrayData) -> Result<(), String> {
        Self::full(array)
    }

    fn null(data_type: &DataType, length: usize) -> ArrayData {
        node(data_type, &mut Extent { offset: 0, length, nulls: None }, Vec::new(), Vec::new())
    }
    fn primitive(_: build::Primitive, data_type: &DataType, extent: &mut Extent, values: Buffer) -> ArrayData {
        node(data_type, extent, vec![values], Vec::new())
    }
    fn boolean(extent: &mut Extent, bits: Buffer) -> ArrayData {
        node(&DataType::Boolean, extent, vec![bits], Vec::new())
    }
    fn fixed_size_binary(data_type: &DataType, _: i32, extent: &mut Extent, values: Buffer, _: &Path<'_>) -> Result<ArrayData> {
        Ok(node(data_type, extent, vec![values], Vec::new()))
    }
    fn bytes(_: build::Bytes, data_type: &DataType, extent: &mut Extent, offsets: Buffer, values: Buffer) -> ArrayData {
        node(data_type, extent, vec![offsets, values], Vec::new())
    }
    fn views(_: build::Views, data_type: &DataType, extent: &mut Extent, views: Buffer, data: Vec<Buffer>) -> ArrayData {
        let mut buffers = Vec::with_capacity(1 + data.len());
        buffers.push(views);
        buffers.extend(data);
        node(data_type, extent, buffers, Vec::new())
    }
    fn structure(fields: &Fields, extent: &mut Extent, columns: Vec<ArrayData>) -> ArrayData {
        node(&DataType::Struct(fields.clone()), extent, Vec::new(), columns)
    }
    fn from_struct(array: ArrayData) -> ArrayData {
        array
    }
    fn list(_: build::List, data_type: &DataType, _: &FieldRef, extent: &mut Extent, offsets: Buffer, child: ArrayData) -> ArrayData {
        node(data_type, extent, vec![offsets], vec![child])
    }
    fn list_view(
        _: build::ListView,
        data_type: &DataType,
        _: &FieldRef,
        extent: &mut Extent,
        offsets: Buffer,
        sizes: Buffer,
        child: ArrayData,
    ) -> ArrayData {
        node(data_type, extent, vec![offsets, sizes], vec![child])
    }
    fn fixed_size_list(data_type: &DataType, _: &FieldRef, _: i32, extent: &mut Extent, child: ArrayData) -> ArrayData {
        node(data_type, extent, Vec::new(), vec![child])
    }
    fn map(data_type: &DataType, _: &FieldRef, _: bool, extent: &mut Extent, offsets: Buffer, entries: ArrayData) -> ArrayData {
        node(data_type, extent, vec![offsets], vec![entries])
    }
    fn union(data_type: &DataType, _: &UnionFields, extent: &mut Extent, type_ids: Buffer, offsets: Option<Buffer>, children: Vec<ArrayData>) -> ArrayData {
        let buffers = std::iter::once(type_ids).chain(offsets).collect();
        node(data_type, extent, buffers, children)
    }
    fn run_end(_: build::RunEnd, data_type: &DataType, extent: &mut Extent, ends: ArrayData, values: ArrayData, _: &Path<'_>) -> Result<ArrayData> {
        Ok(node(data_type, extent, Vec::new(), vec![ends, values]))
    }
    fn dictionary(_: build::Dictionary, data_type: &DataType, extent: &mut Extent, keys: Buffer, values: ArrayData) -> ArrayData {
        node(data_type, extent, vec![keys], vec![values])
    }
}
