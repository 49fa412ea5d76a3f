//! What the walk builds each imported node into: typed arrays ([`Typed`](super::build::Typed), for
//! the crate's own API and the streams) or `ArrayData` ([`Data`](super::data::Data), for arrow-rs's
//! `from_ffi` names, which return it). The walk reads, sizes and checks every node the same way for
//! both; an output only assembles the checked parts.

use arrow_buffer::Buffer;
use arrow_schema::{DataType, FieldRef, Fields, UnionFields};

use super::build::{self, Extent};
use crate::error::{Path, Result};

/// An assembler of imported nodes. Each constructor gets parts the walk checked as the validation
/// level asks (children holding what the parent indexes, from [`Validation::Minimal`](super::Validation::Minimal)
/// up); the function pointers are the plan's choice of typed constructor, which only [`Typed`](super::build::Typed) uses.
pub(super) trait Output {
    /// An imported node.
    type Array;
    /// An imported struct node by value: a map takes its entries so.
    type Struct;

    /// Its element count.
    fn len(array: &Self::Array) -> usize;
    /// Its nulls.
    fn null_count(array: &Self::Array) -> usize;
    /// Its data type.
    fn data_type(array: &Self::Array) -> &DataType;
    /// A child of `len` elements that its parent (a struct, a sparse union, a batch) indexes one to
    /// one, cut to the parent's `length` elements from `offset` on if the output's children do not
    /// carry the parent's offset.
    fn cut(child: &mut Self::Array, len: usize, offset: usize, length: usize);
    /// The last run end of a run-end-encoded array's run ends, if there are any.
    fn last_run_end(ends: &Self::Array) -> Option<usize>;
    /// The [`Validation::Full`](super::Validation::Full) checks of the node's own data (its children
    /// passed theirs).
    fn full(array: &Self::Array) -> Result<(), String>;
    /// As [`full`](Self::full), for a struct by value.
    fn full_struct(array: &Self::Struct) -> Result<(), String>;

    fn null(data_type: &DataType, length: usize) -> Self::Array;
    fn primitive(build: build::Primitive, data_type: &DataType, extent: &mut Extent, values: Buffer) -> Self::Array;
    fn boolean(extent: &mut Extent, bits: Buffer) -> Self::Array;
    fn fixed_size_binary(data_type: &DataType, size: i32, extent: &mut Extent, values: Buffer, path: &Path<'_>) -> Result<Self::Array>;
    fn bytes(build: build::Bytes, data_type: &DataType, extent: &mut Extent, offsets: Buffer, values: Buffer) -> Self::Array;
    fn views(build: build::Views, data_type: &DataType, extent: &mut Extent, views: Buffer, data: Vec<Buffer>) -> Self::Array;
    fn structure(fields: &Fields, extent: &mut Extent, columns: Vec<Self::Array>) -> Self::Struct;
    fn from_struct(array: Self::Struct) -> Self::Array;
    fn list(build: build::List, data_type: &DataType, field: &FieldRef, extent: &mut Extent, offsets: Buffer, child: Self::Array) -> Self::Array;
    fn list_view(
        build: build::ListView,
        data_type: &DataType,
        field: &FieldRef,
        extent: &mut Extent,
        offsets: Buffer,
        sizes: Buffer,
        child: Self::Array,
    ) -> Self::Array;
    fn fixed_size_list(data_type: &DataType, field: &FieldRef, size: i32, extent: &mut Extent, child: Self::Array) -> Self::Array;
    fn map(data_type: &DataType, field: &FieldRef, sorted: bool, extent: &mut Extent, offsets: Buffer, entries: Self::Struct) -> Self::Array;
    fn union(data_type: &DataType, fields: &UnionFields, extent: &mut Extent, type_ids: Buffer, offsets: Option<Buffer>, children: Vec<Self::Array>) -> Self::Array;
    fn run_end(build: build::RunEnd, data_type: &DataType, extent: &mut Extent, ends: Self::Array, values: Self::Array, path: &Path<'_>) -> Result<Self::Array>;
    fn dictionary(build: build::Dictionary, data_type: &DataType, extent: &mut Extent, keys: Buffer, values: Self::Array) -> Self::Array;
}
