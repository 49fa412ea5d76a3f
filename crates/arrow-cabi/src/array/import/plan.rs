//! The import plan: a data type compiled once (per stream, per imported schema, or by the caller) into
//! a tree of [`Node`]s, each saying how a foreign node of that type is read and built.
//!
//! Everything that depends only on the type is decided here, once: the node's kind (and with it the
//! typed array's constructor, as a function pointer for the generic families), how many buffers and
//! children its C struct lists, each data buffer's element width and alignment, whether its children
//! may hold nulls. The walk over a foreign array ([`super::walk`]) then only reads numbers and
//! pointers and follows the plan, with no match on the data type per node.
#![forbid(unsafe_code)]

use std::mem::{align_of, size_of};
use std::sync::Arc;

use arrow_array::types::{
    ArrowDictionaryKeyType, BinaryViewType, ByteArrayType, ByteViewType, GenericBinaryType, GenericStringType,
    Int16Type, Int32Type, Int64Type, RunEndIndexType, StringViewType,
};
use arrow_array::{downcast_integer, downcast_primitive, ArrowPrimitiveType, OffsetSizeTrait};
use arrow_schema::{DataType, Field, FieldRef, Fields, UnionFields, UnionMode};

use super::build;
use crate::layout;

/// A data type compiled for import: build it once, import any number of arrays of that type with it.
///
/// Cost: one small allocation per node of the type tree (a `DataType` clone and the node's vector of
/// children), paid once rather than per array.
#[derive(Debug, Clone)]
pub struct ImportPlan {
    pub(super) root: Node,
}

/// What import does with nulls in a field marked non-nullable (which arrow-rs's types refuse).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Nullability {
    /// Such nulls are an error naming the field (from [`Validation::Default`](super::Validation::Default) up).
    #[default]
    Enforce,
    /// A non-nullable column of a record batch, or a non-nullable field of a struct reached from the
    /// batch (or the root array) through structs only, that holds nulls where its struct has none is
    /// imported with the field marked nullable instead; the schema and struct types say so. Other
    /// such nulls (e.g. in a struct under a list) are still an error. pyarrow builds such batches.
    Relax,
}

impl Nullability {
    /// `fields` with every field that [`Nullability::Relax`] may relax marked nullable: the fields
    /// themselves and, through struct types, theirs. What a stream imported under `Relax` declares
    /// as its schema before it has seen its batches.
    pub fn relax_fields(fields: &Fields) -> Fields {
        fields
            .iter()
            .map(|field| {
                let data_type = match field.data_type() {
                    DataType::Struct(children) => DataType::Struct(Nullability::relax_fields(children)),
                    other => other.clone(),
                };
                Arc::new(field.as_ref().clone().with_data_type(data_type).with_nullable(true))
            })
            .collect()
    }
}

impl ImportPlan {
    /// The plan for arrays of `data_type`, enforcing fields' nullability.
    pub fn new(data_type: &DataType) -> Self {
        Self::with_nullability(data_type, Nullability::Enforce)
    }

    /// The plan for arrays of `data_type`, treating nulls in non-nullable fields as `nullability` says.
    pub fn with_nullability(data_type: &DataType, nullability: Nullability) -> Self {
        let relax = nullability == Nullability::Relax;
        ImportPlan { root: Node::of(data_type, true, 0, relax) }
    }

    /// The data type the plan imports.
    pub fn data_type(&self) -> &DataType {
        &self.root.data_type
    }
}

/// How a foreign node of one data type is read and built.
#[derive(Debug, Clone)]
pub(super) struct Node {
    pub data_type: DataType,
    pub kind: Kind,
    /// How many buffers its C struct lists.
    pub n_buffers: BufferCount,
    /// Whether the field this node is read for may hold nulls (the root: always).
    pub nullable: bool,
    /// Whether nulls in this (non-nullable) struct field or column mark it nullable rather than fail
    /// ([`Nullability::Relax`]).
    pub relax: bool,
    /// Whether any child has `relax`, so that the struct's fields are looked at after import.
    pub relaxes_children: bool,
    /// Its nesting depth; the root's is 0.
    pub depth: usize,
    /// The plans of its children, in C order (a dictionary's values are not a child: see
    /// [`Kind::Dictionary`]).
    pub children: Vec<Node>,
    /// Whether the type is a dictionary, whose C struct then points at its values.
    pub dictionary: bool,
}

/// How many buffers a node's C struct lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BufferCount {
    /// Exactly this many.
    Exactly(usize),
    /// None, or the single (NULL) validity buffer that Arrow C++ still accepts for the null type.
    AtMostOne,
    /// Views: the fixed buffers (this many), then any number of data buffers and their sizes buffer.
    Variadic(usize),
}

/// What a node is, with everything the walk needs that depends on its type alone.
#[derive(Debug, Clone)]
pub(super) enum Kind {
    /// The null type: no buffers.
    Null,
    /// Validity, then `width` bytes per element aligned to `align`; built by `build`.
    Primitive { width: usize, align: usize, build: build::Primitive },
    /// Validity, then a bit per element.
    Boolean,
    /// Validity, then `width` (the type's `size`) bytes per element, unaligned.
    FixedSizeBinary { width: usize, size: i32 },
    /// Validity, `width`-byte offsets, then the bytes they index.
    Bytes { width: usize, build: build::Bytes },
    /// Validity, 16-byte views, then the variadic data buffers and their sizes.
    View { build: build::Views },
    /// Validity and one child per field.
    Struct { fields: Fields },
    /// Validity, `width`-byte offsets, one child.
    List { field: FieldRef, width: usize, build: build::List },
    /// Validity, `width`-byte offsets and sizes, one child.
    ListView { field: FieldRef, width: usize, build: build::ListView },
    /// Validity, one child of `size` elements per element.
    FixedSizeList { field: FieldRef, size: i32 },
    /// Validity, 4-byte offsets, the entries struct.
    Map { field: FieldRef, sorted: bool },
    /// Type ids (and for dense unions 4-byte offsets), one child per variant.
    Union { fields: UnionFields, dense: bool },
    /// No buffers; run ends and values children.
    RunEnd { build: build::RunEnd },
    /// Validity, keys of `width` bytes aligned to `align`, and the `values` (of their own plan)
    /// through the dictionary pointer.
    Dictionary { width: usize, align: usize, build: build::Dictionary, values: Box<Node> },
    /// A type that cannot be imported (a dictionary with non-integer keys, run ends of another type).
    Unsupported,
}

// The per-type steps of the `downcast_*!` dispatches in `Kind::of`.
macro_rules! primitive {
    ($t:ty) => {
        Kind::primitive::<$t>()
    };
}
macro_rules! dictionary {
    ($t:ty, $values:ident, $depth:ident) => {
        Kind::dictionary::<$t>(Node::of($values, true, $depth + 1, false))
    };
}

impl Kind {
    fn of(data_type: &DataType, depth: usize) -> Kind {
        match data_type {
            DataType::Null => Kind::Null,
            DataType::Boolean => Kind::Boolean,
            DataType::FixedSizeBinary(size) => {
                Kind::FixedSizeBinary { width: usize::try_from(*size).unwrap_or(0), size: *size }
            }
            DataType::Utf8 => Kind::bytes::<GenericStringType<i32>>(),
            DataType::LargeUtf8 => Kind::bytes::<GenericStringType<i64>>(),
            DataType::Binary => Kind::bytes::<GenericBinaryType<i32>>(),
            DataType::LargeBinary => Kind::bytes::<GenericBinaryType<i64>>(),
            DataType::Utf8View => Kind::views::<StringViewType>(),
            DataType::BinaryView => Kind::views::<BinaryViewType>(),
            DataType::Struct(fields) => Kind::Struct { fields: fields.clone() },
            DataType::List(field) => Kind::list::<i32>(field),
            DataType::LargeList(field) => Kind::list::<i64>(field),
            DataType::ListView(field) => Kind::list_view::<i32>(field),
            DataType::LargeListView(field) => Kind::list_view::<i64>(field),
            DataType::FixedSizeList(field, size) => Kind::FixedSizeList { field: field.clone(), size: *size },
            DataType::Map(field, sorted) => Kind::Map { field: field.clone(), sorted: *sorted },
            DataType::Union(fields, mode) => Kind::Union { fields: fields.clone(), dense: *mode == UnionMode::Dense },
            DataType::RunEndEncoded(run_ends, _) => match run_ends.data_type() {
                DataType::Int16 => Kind::run_end::<Int16Type>(),
                DataType::Int32 => Kind::run_end::<Int32Type>(),
                DataType::Int64 => Kind::run_end::<Int64Type>(),
                _ => Kind::Unsupported,
            },
            DataType::Dictionary(key, values) => downcast_integer! {
                key.as_ref() => (dictionary, values, depth),
                _ => Kind::Unsupported,
            },
            _ => downcast_primitive! {
                data_type => (primitive),
                _ => Kind::Unsupported,
            },
        }
    }

    fn primitive<T: ArrowPrimitiveType>() -> Kind {
        Kind::Primitive { width: size_of::<T::Native>(), align: align_of::<T::Native>(), build: build::primitive::<T> }
    }

    fn bytes<T: ByteArrayType>() -> Kind
    where
        T::Offset: OffsetSizeTrait,
    {
        Kind::Bytes { width: size_of::<T::Offset>(), build: build::bytes::<T> }
    }

    fn views<T: ByteViewType + ?Sized>() -> Kind {
        Kind::View { build: build::views::<T> }
    }

    fn list<O: OffsetSizeTrait>(field: &FieldRef) -> Kind {
        Kind::List { field: field.clone(), width: size_of::<O>(), build: build::list::<O> }
    }

    fn list_view<O: OffsetSizeTrait>(field: &FieldRef) -> Kind {
        Kind::ListView { field: field.clone(), width: size_of::<O>(), build: build::list_view::<O> }
    }

    fn run_end<R: RunEndIndexType>() -> Kind {
        Kind::RunEnd { build: build::run::<R> }
    }

    fn dictionary<K: ArrowDictionaryKeyType>(values: Node) -> Kind {
        Kind::Dictionary {
            width: size_of::<K::Native>(),
            align: align_of::<K::Native>(),
            build: build::dictionary::<K>,
            values: Box::new(values),
        }
    }
}

impl Node {
    /// The plan of a node of `data_type`; with `relax`, its struct children (if it is a struct
    /// reached from the root through structs only) may be relaxed.
    fn of(data_type: &DataType, nullable: bool, depth: usize, relax: bool) -> Node {
        let kind = Kind::of(data_type, depth);
        let relax_children = relax && matches!(kind, Kind::Struct { .. });
        let layout = layout::layout(data_type);
        let n_buffers = match &kind {
            Kind::Null => BufferCount::AtMostOne,
            _ if layout.variadic => BufferCount::Variadic(layout.buffers.len()),
            _ => BufferCount::Exactly(layout.buffers.len()),
        };
        let child = |field: &Field| {
            let mut child = Node::of(field.data_type(), field.is_nullable(), depth + 1, relax_children);
            child.relax = relax_children && !field.is_nullable();
            child
        };
        let children = (0..layout::child_count(data_type))
            .filter_map(|index| layout::child_field(data_type, index))
            .map(|field| child(field))
            .collect::<Vec<_>>();
        let relaxes_children = children.iter().any(|child| child.relax || child.relaxes_children);
        let dictionary = matches!(data_type, DataType::Dictionary(..));
        Node {
            data_type: data_type.clone(),
            kind,
            n_buffers,
            nullable,
            relax: false,
            relaxes_children,
            depth,
            children,
            dictionary,
        }
    }

    /// How many children the C struct lists.
    pub fn n_children(&self) -> usize {
        self.children.len()
    }

    /// Whether the node is a union (which has no validity bitmap, so no nulls of its own).
    pub fn is_union(&self) -> bool {
        matches!(self.kind, Kind::Union { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_schema::{Field, IntervalUnit, TimeUnit};
    use std::sync::Arc;

    /// The widths and alignments the plan decides agree with the layout table on every type with a
    /// data buffer, and the counts with the spec's (as `layout.rs` tests them).
    #[test]
    fn the_plan_agrees_with_the_layout_table() {
        let cases = [
            DataType::Int8,
            DataType::UInt64,
            DataType::Float16,
            DataType::Date32,
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            DataType::Interval(IntervalUnit::DayTime),
            DataType::Interval(IntervalUnit::MonthDayNano),
            DataType::Decimal128(10, 2),
            DataType::Decimal256(40, 2),
        ];
        for data_type in cases {
            let node = ImportPlan::new(&data_type).root;
            let Kind::Primitive { width, align, .. } = &node.kind else { panic!("{data_type}: {:?}", node.kind) };
            assert_eq!(Some(*width), layout::fixed_width(&data_type), "{data_type}");
            assert_eq!(*align, layout::data_alignment(&data_type), "{data_type}");
            assert_eq!(node.n_buffers, BufferCount::Exactly(2), "{data_type}");
        }
        let key = DataType::Dictionary(Box::new(DataType::UInt16), Box::new(DataType::Utf8));
        let node = ImportPlan::new(&key).root;
        assert!(matches!(node.kind, Kind::Dictionary { width: 2, align: 2, .. }));
        let Kind::Dictionary { values, .. } = &node.kind else { panic!("a dictionary") };
        assert!(matches!(values.kind, Kind::Bytes { width: 4, .. }));
        assert_eq!(values.depth, 1);
        for (data_type, width) in [(DataType::Utf8, 4), (DataType::LargeBinary, 8)] {
            let node = ImportPlan::new(&data_type).root;
            assert!(matches!(node.kind, Kind::Bytes { width: w, .. } if w == width), "{data_type}");
            assert_eq!(node.n_buffers, BufferCount::Exactly(3));
        }
        assert_eq!(ImportPlan::new(&DataType::Utf8View).root.n_buffers, BufferCount::Variadic(2));
        assert_eq!(ImportPlan::new(&DataType::Null).root.n_buffers, BufferCount::AtMostOne);
        let float_keys = DataType::Dictionary(Box::new(DataType::Float32), Box::new(DataType::Utf8));
        assert!(matches!(ImportPlan::new(&float_keys).root.kind, Kind::Unsupported));
    }

    /// Children carry their fields' nullability and depth.
    #[test]
    fn children_carry_their_fields() {
        let fields = vec![Field::new("a", DataType::Int32, false), Field::new("b", DataType::Utf8, true)];
        let list = DataType::List(Arc::new(Field::new("item", DataType::Struct(fields.into()), false)));
        let root = ImportPlan::new(&list).root;
        assert_eq!(root.n_children(), 1);
        let item = &root.children[0];
        assert!(!item.nullable);
        assert_eq!(item.depth, 1);
        assert_eq!(item.children.iter().map(|c| c.nullable).collect::<Vec<_>>(), [false, true]);
        assert_eq!(item.children[1].depth, 2);
    }
}
