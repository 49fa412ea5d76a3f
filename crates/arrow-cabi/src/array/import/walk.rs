//! The importer: one walk over a foreign array tree, following its plan node by node. Safe code: the
//! view ([`View`]) is the only thing that reads producer memory.
//!
//! Per node the walk checks the shape (in [`View`]'s constructor), reads the buffers its kind lists in
//! C order, imports its children, builds its typed array with the constructor the plan chose, and at
//! [`Validation::Full`](super::Validation::Full) checks its data, children first, so that an error names
//! the node.

use std::sync::Arc;

use arrow_array::{ArrayRef, NullArray, StructArray};
use arrow_schema::{FieldRef, Fields};

use super::build::{self, Extent};
use super::plan::{Kind, Node};
use super::validate::Checks;
use super::view::View;
use crate::error::{Path, Result};

/// One import's walk: what it checks, decided once.
pub(super) struct Walk {
    pub checks: Checks,
}

impl Walk {
    /// The typed array of `view`, a foreign node of `node`'s type, and everything below it.
    pub(super) fn array(&self, view: &View<'_>, node: &Node, path: &Path<'_>) -> Result<ArrayRef> {
        let array = self.build(view, node, path)?;
        self.checks.full(array.as_ref(), path)?;
        Ok(array)
    }

    /// The child `index` of `view` as a typed array of its plan's type.
    fn child(&self, view: &View<'_>, node: &Node, index: usize, path: &Path<'_>) -> Result<ArrayRef> {
        let child_path = path.index("children", index);
        let child = &node.children[index];
        self.array(&view.child(index, child, &child_path)?, child, &child_path)
    }

    /// The node's extent and nulls, from its validity bitmap (buffer 0).
    #[inline]
    fn extent(&self, view: &View<'_>, path: &Path<'_>) -> Result<Extent> {
        let nulls = view.validity(0, self.checks.full, &path.index("buffers", 0))?;
        Ok(Extent { offset: view.shape.offset, length: view.shape.length, nulls })
    }

    fn build(&self, view: &View<'_>, node: &Node, path: &Path<'_>) -> Result<ArrayRef> {
        let buffer = |index: usize| path.index("buffers", index);
        let bounds = self.checks.bounds;
        Ok(match &node.kind {
            Kind::Null => Arc::new(NullArray::new(view.shape.length)),
            Kind::Primitive { width, align, build } => {
                let mut extent = self.extent(view, path)?;
                build(&node.data_type, &mut extent, view.fixed(1, *width, *align, &buffer(1))?)
            }
            Kind::Boolean => {
                let mut extent = self.extent(view, path)?;
                build::boolean(&mut extent, view.bits(1, &buffer(1))?)
            }
            Kind::FixedSizeBinary { width, size } => {
                let mut extent = self.extent(view, path)?;
                let values = view.fixed(1, *width, 1, &buffer(1))?;
                build::fixed_size_binary(*width, *size, &mut extent, values, path)?
            }
            Kind::Bytes { width, build } => {
                let mut extent = self.extent(view, path)?;
                let (offsets, end) = view.offsets(1, *width, bounds, &buffer(1))?;
                build(&mut extent, offsets, view.values(2, end, &buffer(2))?)
            }
            Kind::View { build } => {
                let mut extent = self.extent(view, path)?;
                let views = view.fixed(1, 16, 16, &buffer(1))?;
                build(&mut extent, views, view.variadic(node, path)?)
            }
            Kind::Struct { fields } => Arc::new(self.structure(view, node, fields, path)?),
            Kind::List { field, width, build } => {
                let mut extent = self.extent(view, path)?;
                let (offsets, _) = view.offsets(1, *width, bounds, &buffer(1))?;
                let child = self.child(view, node, 0, path)?;
                build(field, &mut extent, offsets, child, &self.checks, path)?
            }
            Kind::ListView { field, width, build } => {
                let mut extent = self.extent(view, path)?;
                let offsets = view.fixed(1, *width, *width, &buffer(1))?;
                let sizes = view.fixed(2, *width, *width, &buffer(2))?;
                build(field, &mut extent, offsets, sizes, self.child(view, node, 0, path)?)
            }
            Kind::FixedSizeList { field, size } => {
                let mut extent = self.extent(view, path)?;
                let child = self.child(view, node, 0, path)?;
                build::fixed_size_list(field, *size, &mut extent, child, &self.checks, path)?
            }
            Kind::Map { field, sorted } => {
                let mut extent = self.extent(view, path)?;
                let (offsets, _) = view.offsets(1, 4, bounds, &buffer(1))?;
                let entries_path = path.index("children", 0);
                let entries_node = &node.children[0];
                let entries_view = view.child(0, entries_node, &entries_path)?;
                let Kind::Struct { fields } = &entries_node.kind else {
                    // The entries are read (and any fault in them reported) before their type is refused.
                    self.array(&entries_view, entries_node, &entries_path)?;
                    return Err(entries_path.invalid("a map's entries must be a struct"));
                };
                // By value: `MapArray` takes its entries as a `StructArray`.
                let entries = self.structure(&entries_view, entries_node, fields, &entries_path)?;
                self.checks.full(&entries, &entries_path)?;
                build::map(field, *sorted, &mut extent, offsets, entries, &self.checks, path)?
            }
            Kind::Union { fields, dense } => {
                let extent = Extent { offset: view.shape.offset, length: view.shape.length, nulls: None };
                let type_ids = view.fixed(0, 1, 1, &buffer(0))?;
                let offsets = if *dense { Some(view.fixed(1, 4, 4, &buffer(1))?) } else { None };
                let mut children = Vec::with_capacity(node.children.len());
                for index in 0..node.children.len() {
                    let mut child = self.child(view, node, index, path)?;
                    if !*dense {
                        self.checks.align(&mut child, extent.offset, extent.length, false, &path.index("children", index))?;
                    }
                    children.push(child);
                }
                build::union(fields, &extent, type_ids, offsets, children)
            }
            Kind::RunEnd { build } => {
                let extent = Extent { offset: view.shape.offset, length: view.shape.length, nulls: None };
                let ends = self.child(view, node, 0, path)?;
                let values = self.child(view, node, 1, path)?;
                build(&node.data_type, &extent, ends, values, &self.checks, path)?
            }
            Kind::Dictionary { width, align, build, values } => {
                let mut extent = self.extent(view, path)?;
                let keys = view.fixed(1, *width, *align, &buffer(1))?;
                let values_path = path.field("dictionary");
                let values = self.array(&view.dictionary(values, &values_path)?, values, &values_path)?;
                build(&mut extent, keys, values)
            }
            Kind::Unsupported => return Err(path.invalid(format!("cannot import arrays of type {}", node.data_type))),
        })
    }

    /// A struct node of type `fields`, by value (a map takes its entries so).
    fn structure(&self, view: &View<'_>, node: &Node, fields: &Fields, path: &Path<'_>) -> Result<StructArray> {
        let mut extent = self.extent(view, path)?;
        let columns = self.columns(view, node, extent.nulls.is_none(), path)?;
        let relaxed = relaxed_fields(node, fields, &columns);
        Ok(build::struct_array(relaxed.as_ref().unwrap_or(fields), &mut extent, columns))
    }

    /// The children of a struct node (or a record batch), each checked and aligned to the struct's
    /// extent as it is read; with `no_nulls` (the struct has none of its own), those of non-nullable
    /// fields checked to hold none.
    pub(super) fn columns(&self, view: &View<'_>, node: &Node, no_nulls: bool, path: &Path<'_>) -> Result<Vec<ArrayRef>> {
        let (offset, length) = (view.shape.offset, view.shape.length);
        let mut columns = Vec::with_capacity(node.children.len());
        for (index, child) in node.children.iter().enumerate() {
            // Not through `child`: one path for the view, the import and the alignment (2k
            // instructions a batch of 100 columns fewer).
            let child_path = path.index("children", index);
            let mut column = self.array(&view.child(index, child, &child_path)?, child, &child_path)?;
            let no_nulls = no_nulls && !child.nullable && !child.relax;
            self.checks.align(&mut column, offset, length, no_nulls, &child_path)?;
            columns.push(column);
        }
        Ok(columns)
    }
}

/// Under [`Nullability::Relax`](super::plan::Nullability::Relax), the fields of a struct node (or a
/// batch) whose `columns` were imported: non-nullable ones that hold nulls marked nullable, and those
/// whose (struct) type was relaxed below given it; `None` when nothing changes (always, unless the
/// plan relaxes some child).
pub(super) fn relaxed_fields(node: &Node, fields: &Fields, columns: &[ArrayRef]) -> Option<Fields> {
    if !node.relaxes_children {
        return None;
    }
    let changed = |(child, (field, column)): (&Node, (&FieldRef, &ArrayRef))| {
        (child.relax && column.null_count() > 0) || (child.relaxes_children && column.data_type() != field.data_type())
    };
    let pairs = || node.children.iter().zip(fields.iter().zip(columns));
    if !pairs().any(changed) {
        return None;
    }
    let relaxed = pairs().map(|(child, (field, column))| {
        if !changed((child, (field, column))) {
            return field.clone();
        }
        let nullable = field.is_nullable() || column.null_count() > 0;
        Arc::new(field.as_ref().clone().with_data_type(column.data_type().clone()).with_nullable(nullable))
    });
    Some(relaxed.collect())
}
