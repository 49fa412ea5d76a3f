//! The validation levels, and every check import makes that reads no producer memory itself: the
//! shape of a node (its numbers and pointer counts, against its plan) and the conditions each level
//! adds. What a level runs is decided once per import ([`Checks::at`]); the walk asks these.
#![forbid(unsafe_code)]

use arrow_buffer::Buffer;
use arrow_cabi_sys::ArrowArray;
use arrow_schema::{DataType, Field};

use super::plan::{BufferCount, Node};
use crate::error::{Error, Path, Result};
use crate::layout::MAX_VARIADIC_BUFFERS;
use crate::schema::MAX_DEPTH;

/// How much of a foreign array import checks, as nanoarrow names the levels.
///
/// Every level, and even the `unsafe` unchecked imports, checks the structure: lengths, offsets and
/// null counts non-negative, the counts of buffers and children those of the type, no NULL where a
/// pointer is required, and the sizes of the buffers derived from the lengths (and last offsets).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Validation {
    /// Also what arrow-rs's array types rely on to stay within the buffers: the first offset of every
    /// offsets buffer non-negative and not past the last, and every child holding what its parent
    /// indexes (lists' last offset, fixed-size lists, struct fields, sparse unions, run ends); O(1) per
    /// buffer and child.
    Minimal,
    /// Also what the null counts show in O(1): no nulls in a non-nullable struct field of a struct
    /// without nulls, in a map's keys, or in run ends.
    #[default]
    Default,
    /// Also everything arrow-rs's `ArrayData::validate_full` checks: every offset, UTF-8, union type ids
    /// and offsets, run ends, dictionary keys, list views, and the null counts; O(data). Also that a map's
    /// entries and key fields are not marked nullable, which arrow-rs refuses and the levels below accept.
    Full,
}

/// What an import checks: a public level, or (behind `unsafe`) only the structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Level {
    /// The structural checks every import runs.
    Structure,
    /// One of the public levels.
    Checked(Validation),
}

/// What one import checks beyond the structure, decided once from its [`Level`].
#[derive(Debug, Clone, Copy)]
pub(super) struct Checks {
    /// The bounds checks, from [`Validation::Minimal`] up.
    pub bounds: bool,
    /// The null-count checks, from [`Validation::Default`] up.
    pub nulls: bool,
    /// The O(data) checks of [`Validation::Full`]; null counts are recounted rather than trusted.
    pub full: bool,
}

impl Checks {
    pub(super) fn at(level: Level) -> Self {
        Checks {
            bounds: level >= Level::Checked(Validation::Minimal),
            nulls: level >= Level::Checked(Validation::Default),
            full: level == Level::Checked(Validation::Full),
        }
    }

    /// A bounds condition: `Err` at `path` saying `what` when `ok` is false and bounds are checked.
    pub(super) fn require(&self, ok: bool, path: &Path<'_>, what: impl FnOnce() -> String) -> Result<()> {
        if ok || !self.bounds {
            return Ok(());
        }
        Err(path.invalid(what()))
    }

    /// No nulls (`count` of them) in the child at `path` (`what` names it) where the type forbids them.
    pub(super) fn no_nulls(&self, count: usize, path: &Path<'_>, what: &str) -> Result<()> {
        if !self.nulls || count == 0 {
            return Ok(());
        }
        Err(path.invalid(format!("{count} nulls in {what}, which cannot hold nulls")))
    }
}

/// A map type's entries field and its key field must not be marked nullable (the format's
/// `Schema.fbs`); arrow-rs's `ArrayData::validate` refuses both, so [`Validation::Full`] does, naming
/// the field. Below `Full` they are accepted, as Arrow C++ accepts them: released producers exported
/// such maps (DuckDB until duckdb/duckdb#15733, nanoarrow and the ADBC SQLite driver until
/// apache/arrow-nanoarrow#106 and apache/arrow-adbc#453), and arrow-rs's array code does not rely on
/// the flags (the keys' nulls, which it does rely on, are refused from [`Validation::Default`] up).
pub(super) fn map_fields(entries: &Field, path: &Path<'_>) -> Result<()> {
    let entries_path = path.index("children", 0);
    if entries.is_nullable() {
        return Err(entries_path.invalid(format!("a map's entries field {:?} is marked nullable", entries.name())));
    }
    if let DataType::Struct(fields) = entries.data_type() {
        if let Some(key) = fields.first().filter(|key| key.is_nullable()) {
            let key_path = entries_path.index("children", 0);
            return Err(key_path.invalid(format!("a map's key field {:?} is marked nullable", key.name())));
        }
    }
    Ok(())
}


/// The checked numbers of one foreign node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Shape {
    pub length: usize,
    pub offset: usize,
    /// `None` when the producer did not compute it (-1).
    pub null_count: Option<usize>,
    pub n_buffers: usize,
    pub n_children: usize,
}

impl Shape {
    /// `offset + length`: the elements the node's buffers span.
    pub(super) fn extent(&self) -> usize {
        self.offset + self.length
    }
}

/// Checks what can be checked of `array` without reading through its pointers, against its plan
/// `node`: not released nor nested too deep, signs, the counts of buffers and children, and that the
/// pointer arrays it needs are non-NULL. The checks run in turn and stop at the first [`Fault`],
/// which only then is rendered as an error naming its field.
#[inline]
pub(super) fn shape(array: &ArrowArray, node: &Node, path: &Path<'_>) -> Result<Shape> {
    check_shape(array, node).map_err(|fault| fault.error(array, node, path))
}

/// What [`shape`] found wrong first; small and `Copy`, so the checks cost no more than their compares.
#[derive(Debug, Clone, Copy)]
enum Fault {
    TooDeep,
    Released,
    /// The named field is negative.
    Negative(&'static str, i64),
    Overflow,
    TooManyNulls,
    Buffers,
    Children,
    UnionNulls,
    NullBuffers,
    NullChildren,
    MissingDictionary,
    UnexpectedDictionary,
}

#[inline]
fn check_shape(array: &ArrowArray, node: &Node) -> Result<Shape, Fault> {
    let non_negative = |value: i64, name: &'static str| usize::try_from(value).map_err(|_| Fault::Negative(name, value));
    if node.depth > MAX_DEPTH {
        return Err(Fault::TooDeep);
    }
    if array.release.is_none() {
        return Err(Fault::Released);
    }
    let length = non_negative(array.length, "length")?;
    let offset = non_negative(array.offset, "offset")?;
    if array.length.checked_add(array.offset).is_none() {
        return Err(Fault::Overflow);
    }
    let null_count = match array.null_count {
        -1 => None,
        count => Some(non_negative(count, "null_count")?),
    };
    if null_count.is_some_and(|count| count > length) {
        return Err(Fault::TooManyNulls);
    }
    let n_buffers = non_negative(array.n_buffers, "n_buffers")?;
    let n_children = non_negative(array.n_children, "n_children")?;
    let buffers_fit = match node.n_buffers {
        BufferCount::Exactly(count) => n_buffers == count,
        BufferCount::AtMostOne => n_buffers <= 1,
        BufferCount::Variadic(fixed) => n_buffers > fixed && n_buffers <= MAX_VARIADIC_BUFFERS,
    };
    if !buffers_fit {
        return Err(Fault::Buffers);
    }
    if n_children != node.n_children() {
        return Err(Fault::Children);
    }
    if node.is_union() && null_count.unwrap_or(0) != 0 {
        return Err(Fault::UnionNulls);
    }
    if n_buffers > 0 && array.buffers.is_null() {
        return Err(Fault::NullBuffers);
    }
    if n_children > 0 && array.children.is_null() {
        return Err(Fault::NullChildren);
    }
    match (node.dictionary, array.dictionary.is_null()) {
        (true, true) => return Err(Fault::MissingDictionary),
        (false, false) => return Err(Fault::UnexpectedDictionary),
        _ => {}
    }
    Ok(Shape { length, offset, null_count, n_buffers, n_children })
}

impl Fault {
    /// The error for this fault of `array` (a node of `node`'s type) at `path`.
    #[cold]
    fn error(self, array: &ArrowArray, node: &Node, path: &Path<'_>) -> Error {
        let data_type = &node.data_type;
        match self {
            Fault::TooDeep => path.invalid(format!("nesting deeper than {MAX_DEPTH} levels")),
            Fault::Released => path.invalid("the array is released (its release callback is NULL)"),
            Fault::Negative(name, value) => path.field(name).invalid(format!("negative: {value}")),
            Fault::Overflow => path.invalid(format!("offset {} + length {} overflows", array.offset, array.length)),
            Fault::TooManyNulls => {
                path.field("null_count").invalid(format!("{} nulls in {} elements", array.null_count, array.length))
            }
            Fault::Buffers => {
                let wanted = match node.n_buffers {
                    BufferCount::Exactly(count) => count.to_string(),
                    BufferCount::AtMostOne => "at most 1".to_string(),
                    BufferCount::Variadic(fixed) if array.n_buffers as usize > fixed => format!("at most {MAX_VARIADIC_BUFFERS}"),
                    BufferCount::Variadic(fixed) => format!("at least {}", fixed + 1),
                };
                path.field("n_buffers").invalid(format!("{}, but {data_type} needs {wanted}", array.n_buffers))
            }
            Fault::Children => {
                let needs = node.n_children();
                path.field("n_children").invalid(format!("{}, but {data_type} needs {needs}", array.n_children))
            }
            Fault::UnionNulls => path.field("null_count").invalid("a union has no validity, so its null_count must be 0"),
            Fault::NullBuffers => path.field("buffers").invalid(format!("NULL, but n_buffers is {}", array.n_buffers)),
            Fault::NullChildren => path.field("children").invalid(format!("NULL, but n_children is {}", array.n_children)),
            Fault::MissingDictionary => path.field("dictionary").invalid("NULL, but the type is a dictionary"),
            Fault::UnexpectedDictionary => path.field("dictionary").invalid(format!("set, but {data_type} is not a dictionary")),
        }
    }
}

/// Checks an offsets buffer holding `offset + length + 1` offsets of `width` bytes and returns the last
/// one, which is how many bytes (or child elements) the array spans. The last offset is always checked
/// to be non-negative; with `bounds` (from [`Validation::Minimal`] up), the first must be too and no
/// greater than the last.
#[inline]
pub(super) fn offsets(buffer: &Buffer, width: usize, offset: usize, length: usize, bounds: bool, path: &Path<'_>) -> Result<usize> {
    let read = |index: usize| -> i64 {
        let at = index * width;
        match buffer.get(at..at + width) {
            Some(&[a, b, c, d]) => i32::from_ne_bytes([a, b, c, d]).into(),
            Some(bytes) => bytes.try_into().map_or(0, i64::from_ne_bytes),
            None => 0,
        }
    };
    let (first, last) = (read(offset), read(offset + length));
    let last_usize = usize::try_from(last).map_err(|_| path.invalid(format!("negative last offset {last}")))?;
    if bounds && (first < 0 || first > last) {
        return Err(path.invalid(format!("first offset {first} is negative or past the last offset {last}")));
    }
    Ok(last_usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::array::ImportPlan;
    use arrow_schema::DataType;

    fn array(length: i64, offset: i64, null_count: i64, n_buffers: i64) -> ArrowArray {
        extern "C" fn release(_: *mut ArrowArray) {}
        ArrowArray { length, offset, null_count, n_buffers, release: Some(release), ..ArrowArray::EMPTY }
    }

    #[test]
    fn shape_errors_name_the_field() {
        let root = Path::root("array");
        let plan = ImportPlan::new(&DataType::Int32);
        let cases = [
            (array(-1, 0, 0, 2), "array.length: negative: -1"),
            (array(1, -3, 0, 2), "array.offset: negative: -3"),
            (array(1, 0, -2, 2), "array.null_count: negative: -2"),
            (array(1, 0, 2, 2), "array.null_count: 2 nulls in 1 elements"),
            (array(1, 0, 0, 3), "array.n_buffers: 3, but Int32 needs 2"),
            (array(1, 0, 0, 2), "array.buffers: NULL, but n_buffers is 2"),
            (ArrowArray { release: None, ..array(1, 0, 0, 2) }, "array: the array is released (its release callback is NULL)"),
        ];
        for (array, message) in cases {
            let error = shape(&array, &plan.root, &root).unwrap_err();
            assert_eq!(error.to_string(), message);
        }
    }

    #[test]
    fn offsets_report_the_last_and_check_the_first() {
        let root = Path::root("array");
        let buffer = Buffer::from_vec(vec![0i32, 3, 5, 2]);
        assert_eq!(offsets(&buffer, 4, 0, 2, true, &root).unwrap(), 5);
        // first (5) past last (2): caught from the minimal level up, not by the structural checks alone
        assert!(offsets(&buffer, 4, 2, 1, true, &root).is_err());
        assert_eq!(offsets(&buffer, 4, 2, 1, false, &root).unwrap(), 2);
        let negative = Buffer::from_vec(vec![0i64, -4]);
        assert!(offsets(&negative, 8, 0, 1, true, &root).is_err());
    }
}
