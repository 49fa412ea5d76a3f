//! The importer: one walk over a foreign array tree, following its plan node by node. Safe code: the
//! view ([`View`]) is the only thing that reads producer memory.
//!
//! Per node the walk checks the shape (in [`View`]'s constructor), reads the buffers its kind lists in
//! C order, imports its children, checks that they hold what the node indexes, hands the checked parts
//! to its [`Output`] (typed arrays with the constructor the plan chose, or `ArrayData`), and at
//! [`Validation::Full`](super::Validation::Full) checks its data, children first, so that an error names
//! the node.

use std::marker::PhantomData;
use std::sync::Arc;

use arrow_schema::{FieldRef, Fields};

use super::build::Extent;
use super::output::Output;
use super::plan::{Kind, Node};
use super::validate::{self, Checks};
use super::view::View;
use crate::error::{Path, Result};

/// One import's walk: what it checks, decided once, and what it builds each node into.
pub(super) struct Walk<O> {
    pub checks: Checks,
    output: PhantomData<O>,
}

impl<O: Output> Walk<O> {
    pub(super) fn new(checks: Checks) -> Self {
        Walk { checks, output: PhantomData }
    }

    /// The imported node of `view`, a foreign node of `node`'s type, and everything below it.
    pub(super) fn array(&self, view: &View<'_>, node: &Node, path: &Path<'_>) -> Result<O::Array> {
        let array = self.build(view, node, path)?;
        if self.checks.full {
            O::full(&array).map_err(|e| path.invalid(e))?;
        }
        Ok(array)
    }

    /// The child `index` of `view`, imported by its plan.
    fn child(&self, view: &View<'_>, node: &Node, index: usize, path: &Path<'_>) -> Result<O::Array> {
        let child_path = path.index("children", index);
        let child = &node.children[index];
        self.array(&view.child(index, child, &child_path)?, child, &child_path)
    }

    /// The node's extent and nulls, from its validity bitmap (buffer 0).
    #[inline]
    fn extent(&self, view: &View<'_>, path: &Path<'_>) -> Result<Extent> {
        let nulls = view.validity(0, self.checks.full, path)?;
        Ok(Extent { offset: view.shape.offset, length: view.shape.length, nulls })
    }

    /// The first child of a list or map, of `len` elements, checked to hold the `end` its offsets reach.
    fn items(&self, end: usize, len: usize, path: &Path<'_>) -> Result<()> {
        self.checks.require(end <= len, &path.index("children", 0), || format!("{len} elements, but the offsets reach {end}"))
    }

    fn build(&self, view: &View<'_>, node: &Node, path: &Path<'_>) -> Result<O::Array> {
        let buffer = |index: usize| path.index("buffers", index);
        let bounds = self.checks.bounds;
        let data_type = &node.data_type;
        Ok(match &node.kind {
            Kind::Null => O::null(data_type, view.shape.length),
            Kind::Primitive { width, align, build } => {
                let mut extent = self.extent(view, path)?;
                O::primitive(*build, data_type, &mut extent, view.fixed(1, *width, *align, &buffer(1))?)
            }
            Kind::Boolean => {
                let mut extent = self.extent(view, path)?;
                O::boolean(&mut extent, view.bits(1, &buffer(1))?)
            }
            Kind::FixedSizeBinary { width, size } => {
                let mut extent = self.extent(view, path)?;
                let values = view.fixed(1, *width, 1, &buffer(1))?;
                O::fixed_size_binary(data_type, *size, &mut extent, values, path)?
            }
            Kind::Bytes { width, build } => {
                let mut extent = self.extent(view, path)?;
                let (offsets, end) = view.offsets(1, *width, bounds, &buffer(1))?;
                O::bytes(*build, data_type, &mut extent, offsets, view.values(2, end, &buffer(2))?)
            }
            Kind::View { build } => {
                let mut extent = self.extent(view, path)?;
                let views = view.fixed(1, 16, 16, &buffer(1))?;
                O::views(*build, data_type, &mut extent, views, view.variadic(node, path)?)
            }
            Kind::Struct { fields } => O::from_struct(self.structure(view, node, fields, path)?),
            Kind::List { field, width, build } => {
                let mut extent = self.extent(view, path)?;
                let (offsets, end) = view.offsets(1, *width, bounds, &buffer(1))?;
                let child = self.child(view, node, 0, path)?;
                self.items(end.0, O::len(&child), path)?;
                O::list(*build, data_type, field, &mut extent, offsets, child)
            }
            Kind::ListView { field, width, build } => {
                let mut extent = self.extent(view, path)?;
                let offsets = view.fixed(1, *width, *width, &buffer(1))?;
                let sizes = view.fixed(2, *width, *width, &buffer(2))?;
                O::list_view(*build, data_type, field, &mut extent, offsets, sizes, self.child(view, node, 0, path)?)
            }
            Kind::FixedSizeList { field, size } => {
                let mut extent = self.extent(view, path)?;
                let child = self.child(view, node, 0, path)?;
                let width = usize::try_from(*size).unwrap_or(0);
                let (len, end) = (O::len(&child), view.shape.extent());
                let needed = end.checked_mul(width);
                self.checks.require(needed.is_some_and(|needed| len >= needed), &path.index("children", 0), || {
                    format!("{len} elements, but {end} lists of {width} need more")
                })?;
                O::fixed_size_list(data_type, field, *size, &mut extent, child)
            }
            Kind::Map { field, sorted } => {
                if self.checks.full {
                    validate::map_fields(field, path)?;
                }
                let mut extent = self.extent(view, path)?;
                let (offsets, end) = view.offsets(1, 4, bounds, &buffer(1))?;
                let entries_path = path.index("children", 0);
                let entries_node = &node.children[0];
                let entries_view = view.child(0, entries_node, &entries_path)?;
                let Kind::Struct { fields } = &entries_node.kind else {
                    // The entries are read (and any fault in them reported) before their type is refused.
                    self.array(&entries_view, entries_node, &entries_path)?;
                    return Err(entries_path.invalid("a map's entries must be a struct"));
                };
                let mut entries_extent = self.extent(&entries_view, &entries_path)?;
                let columns = self.columns(&entries_view, entries_node, entries_extent.nulls.is_none(), &entries_path)?;
                if let Some(keys) = columns.first() {
                    self.checks.no_nulls(O::null_count(keys), &entries_path, "a map's keys")?;
                }
                self.items(end.0, entries_view.shape.length, path)?;
                let entries = O::structure(fields, &mut entries_extent, columns);
                if self.checks.full {
                    O::full_struct(&entries).map_err(|e| entries_path.invalid(e))?;
                }
                O::map(data_type, field, *sorted, &mut extent, offsets, entries)
            }
            Kind::Union { fields, dense } => {
                let mut extent = Extent { offset: view.shape.offset, length: view.shape.length, nulls: None };
                let type_ids = view.fixed(0, 1, 1, &buffer(0))?;
                let offsets = if *dense { Some(view.fixed(1, 4, 4, &buffer(1))?) } else { None };
                let mut children = Vec::with_capacity(node.children.len());
                for index in 0..node.children.len() {
                    let mut child = self.child(view, node, index, path)?;
                    if !*dense {
                        self.align(&mut child, extent.offset, extent.length, false, &path.index("children", index))?;
                    }
                    children.push(child);
                }
                O::union(data_type, fields, &mut extent, type_ids, offsets, children)
            }
            Kind::RunEnd { build } => {
                let mut extent = Extent { offset: view.shape.offset, length: view.shape.length, nulls: None };
                let ends = self.child(view, node, 0, path)?;
                let values = self.child(view, node, 1, path)?;
                self.runs(&ends, &values, view.shape.extent(), path)?;
                O::run_end(*build, data_type, &mut extent, ends, values, path)?
            }
            Kind::Dictionary { width, align, build, values } => {
                let mut extent = self.extent(view, path)?;
                let keys = view.fixed(1, *width, *align, &buffer(1))?;
                let values_path = path.field("dictionary");
                let values = self.array(&view.dictionary(values, &values_path)?, values, &values_path)?;
                O::dictionary(*build, data_type, &mut extent, keys, values)
            }
            Kind::Unsupported => return Err(path.invalid(format!("cannot import arrays of type {data_type}"))),
        })
    }

    /// A struct node of type `fields`.
    fn structure(&self, view: &View<'_>, node: &Node, fields: &Fields, path: &Path<'_>) -> Result<O::Struct> {
        let mut extent = self.extent(view, path)?;
        let columns = self.columns(view, node, extent.nulls.is_none(), path)?;
        let relaxed = relaxed_fields::<O>(node, fields, &columns);
        Ok(O::structure(relaxed.as_ref().unwrap_or(fields), &mut extent, columns))
    }

    /// The children of a struct node (or a record batch), each checked and aligned to the struct's
    /// extent as it is read; with `no_nulls` (the struct has none of its own), those of non-nullable
    /// fields checked to hold none.
    pub(super) fn columns(&self, view: &View<'_>, node: &Node, no_nulls: bool, path: &Path<'_>) -> Result<Vec<O::Array>> {
        let (offset, length) = (view.shape.offset, view.shape.length);
        let mut columns = Vec::with_capacity(node.children.len());
        for (index, child) in node.children.iter().enumerate() {
            // Not through `child`: one path for the view, the import and the alignment (2k
            // instructions a batch of 100 columns fewer).
            let child_path = path.index("children", index);
            let mut column = self.array(&view.child(index, child, &child_path)?, child, &child_path)?;
            let no_nulls = no_nulls && !child.nullable && !child.relax;
            self.align(&mut column, offset, length, no_nulls, &child_path)?;
            columns.push(column);
        }
        Ok(columns)
    }

    /// A child (at `path`) of a struct, a sparse union or a record batch, which the parent (`length`
    /// elements from `offset` on) indexes one to one: checked to cover the parent's extent, and cut to
    /// it as the output needs; with `no_nulls` (a non-nullable field of a struct without nulls), also
    /// checked to hold no nulls.
    #[inline]
    fn align(&self, child: &mut O::Array, offset: usize, length: usize, no_nulls: bool, path: &Path<'_>) -> Result<()> {
        let (len, extent) = (O::len(child), offset + length);
        self.checks.require(len >= extent, path, || format!("{len} elements, but the parent spans {extent}"))?;
        if no_nulls {
            self.checks.no_nulls(O::null_count(child), path, "a non-nullable field")?;
        }
        O::cut(child, len, offset, length);
        Ok(())
    }

    /// A run-end-encoded node's children: as many run ends as values, no null run ends, and the runs
    /// covering the node's `end` elements.
    fn runs(&self, ends: &O::Array, values: &O::Array, end: usize, path: &Path<'_>) -> Result<()> {
        let (n_ends, n_values) = (O::len(ends), O::len(values));
        self.checks.require(n_ends == n_values, path, || format!("{n_ends} run ends for {n_values} values"))?;
        let ends_path = path.index("children", 0);
        self.checks.no_nulls(O::null_count(ends), &ends_path, "run ends")?;
        let last = O::last_run_end(ends).unwrap_or(0);
        self.checks.require(last >= end, &ends_path, || format!("the last run ends at {last}, before the array's end {end}"))
    }
}

/// Under [`Nullability::Relax`](super::plan::Nullability::Relax), the fields of a struct node (or a
/// batch) whose `columns` were imported: non-nullable ones that hold nulls marked nullable, and those
/// whose (struct) type was relaxed below given it; `None` when nothing changes (always, unless the
/// plan relaxes some child).
pub(super) fn relaxed_fields<O: Output>(node: &Node, fields: &Fields, columns: &[O::Array]) -> Option<Fields> {
    if !node.relaxes_children {
        return None;
    }
    let changed = |(child, (field, column)): (&Node, (&FieldRef, &O::Array))| {
        (child.relax && O::null_count(column) > 0) || (child.relaxes_children && O::data_type(column) != field.data_type())
    };
    let pairs = || node.children.iter().zip(fields.iter().zip(columns));
    if !pairs().any(changed) {
        return None;
    }
    let relaxed = pairs().map(|(child, (field, column))| {
        if !changed((child, (field, column))) {
            return field.clone();
        }
        let nullable = field.is_nullable() || O::null_count(column) > 0;
        Arc::new(field.as_ref().clone().with_data_type(O::data_type(column).clone()).with_nullable(nullable))
    });
    Some(relaxed.collect())
}
