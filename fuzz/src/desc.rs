//! Descriptions of `ArrowSchema` and `ArrowArray` trees: decoded from fuzz bytes, encoded back (the
//! seeds), and made from exported C structs. The [`producer`](crate::producer) builds the C structs.
//!
//! Encoding of a schema node: format (blob), name (optional blob), metadata (optional blob), flags
//! (integer), shape (byte), number of children (byte, at most [`MAX_CHILDREN`]) and the children,
//! a presence byte and the dictionary. An array node: length, null count and offset (integers),
//! shape (byte), number of buffers (byte, at most [`MAX_BUFFERS`]) and for each a tag byte (0 NULL,
//! 1 aligned to 64 bytes, 2 one byte past such an address) and a blob unless NULL, the number of
//! children and the children, a presence byte and the dictionary. Past [`MAX_DEPTH`] levels or
//! [`MAX_NODES`] nodes, a node has no children and no dictionary.

use std::ffi::CStr;

use arrow_cabi_sys::{ArrowArray, ArrowSchema};
use arrow_schema::DataType;

use crate::input::{Reader, Writer};
use crate::sizes::{buffer_sizes, Buffers};

/// Most children of one node.
pub const MAX_CHILDREN: u8 = 8;
/// Most buffers of one node.
pub const MAX_BUFFERS: u8 = 16;
/// Deepest nesting.
pub const MAX_DEPTH: usize = 8;
/// Most bytes of metadata the producer hands over.
pub const METADATA_CAP: usize = 1 << 16;
/// Most nodes of one tree.
pub const MAX_NODES: usize = 64;

/// How a node's `n_children` (or `n_buffers`) and its pointer array relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    /// The count is the number of entries, all allocated (NULL array when there are none).
    Exact,
    /// The pointer array is NULL whatever the count.
    NullArray,
    /// The count is `i64::MAX`; only the entries are allocated.
    Huge,
    /// The first entry is a NULL pointer.
    NullEntry,
    /// The count is -1; the entries are allocated.
    Negative,
    /// Schema children only: the count is the number of entries, but only as many as the format
    /// allows are allocated (a producer whose count is wrong reads past nothing a correct importer
    /// needs). Arrays: as `Exact`.
    Short,
}

impl Count {
    fn from_bits(bits: u8) -> Count {
        match bits % 6 {
            0 => Count::Exact,
            1 => Count::NullArray,
            2 => Count::Huge,
            3 => Count::NullEntry,
            4 => Count::Negative,
            _ => Count::Short,
        }
    }

    fn bits(self) -> u8 {
        match self {
            Count::Exact => 0,
            Count::NullArray => 1,
            Count::Huge => 2,
            Count::NullEntry => 3,
            Count::Negative => 4,
            Count::Short => 5,
        }
    }
}

/// One `ArrowSchema` node.
#[derive(Debug, Clone)]
pub struct SchemaDesc {
    /// The format string's bytes (the producer appends the NUL).
    pub format: Vec<u8>,
    /// The name's bytes, or NULL.
    pub name: Option<Vec<u8>>,
    /// The metadata's bytes as given (the producer makes its prefixes fit, see `fit_metadata`).
    pub metadata: Option<Vec<u8>>,
    /// The flags, as they are.
    pub flags: i64,
    /// The node was handed over released (`release` NULL).
    pub released: bool,
    /// How `n_children` and `children` relate.
    pub children_count: Count,
    /// The children.
    pub children: Vec<SchemaDesc>,
    /// The dictionary.
    pub dictionary: Option<Box<SchemaDesc>>,
}

/// One buffer of an array node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BufferDesc {
    /// A NULL pointer.
    Null,
    /// These bytes, at an address aligned to 64 bytes.
    Aligned(Vec<u8>),
    /// These bytes, one byte past an address aligned to 64 bytes.
    Misaligned(Vec<u8>),
}

impl BufferDesc {
    /// The bytes, or `None` for NULL.
    pub fn bytes(&self) -> Option<&[u8]> {
        match self {
            BufferDesc::Null => None,
            BufferDesc::Aligned(bytes) | BufferDesc::Misaligned(bytes) => Some(bytes),
        }
    }

    /// The bytes, to change, or `None` for NULL.
    pub fn bytes_mut(&mut self) -> Option<&mut Vec<u8>> {
        match self {
            BufferDesc::Null => None,
            BufferDesc::Aligned(bytes) | BufferDesc::Misaligned(bytes) => Some(bytes),
        }
    }
}

/// One `ArrowArray` node.
#[derive(Debug, Clone)]
pub struct ArrayDesc {
    /// `length`.
    pub length: i64,
    /// `null_count`.
    pub null_count: i64,
    /// `offset`.
    pub offset: i64,
    /// The node was handed over released.
    pub released: bool,
    /// How `n_buffers` and `buffers` relate.
    pub buffers_count: Count,
    /// How `n_children` and `children` relate.
    pub children_count: Count,
    /// The buffers.
    pub buffers: Vec<BufferDesc>,
    /// The children.
    pub children: Vec<ArrayDesc>,
    /// The dictionary.
    pub dictionary: Option<Box<ArrayDesc>>,
}

/// Counts nodes while decoding, to bound a tree.
struct Budget(usize);

impl Budget {
    fn nested(&mut self, depth: usize) -> bool {
        if depth >= MAX_DEPTH || self.0 >= MAX_NODES {
            return false;
        }
        self.0 += 1;
        true
    }

    /// What follows a node's own fields, in either tree: the number of children (at most
    /// [`MAX_CHILDREN`]), the children (as many as the budget allows), a presence byte and the
    /// dictionary, each node read by `read` one level below `depth`.
    fn below<T>(&mut self, r: &mut Reader, depth: usize, read: fn(&mut Reader, usize, &mut Budget) -> T) -> (Vec<T>, Option<Box<T>>) {
        let n = r.u8().min(MAX_CHILDREN);
        let mut children = Vec::new();
        for _ in 0..n {
            if !self.nested(depth + 1) {
                break;
            }
            children.push(read(r, depth + 1, self));
        }
        let dictionary = (r.u8() != 0 && self.nested(depth + 1)).then(|| Box::new(read(r, depth + 1, self)));
        (children, dictionary)
    }
}

/// Encodes what [`Budget::below`] decodes: the children, then the dictionary, each by `write`.
fn write_below<T>(w: &mut Writer, children: &[T], dictionary: Option<&T>, write: fn(&T, &mut Writer)) {
    w.u8(children.len() as u8);
    for child in children {
        write(child, w);
    }
    w.u8(u8::from(dictionary.is_some()));
    if let Some(dictionary) = dictionary {
        write(dictionary, w);
    }
}

impl SchemaDesc {
    /// Decodes a schema tree.
    pub fn read(r: &mut Reader) -> SchemaDesc {
        Self::read_node(r, 0, &mut Budget(1))
    }

    fn read_node(r: &mut Reader, depth: usize, budget: &mut Budget) -> SchemaDesc {
        let format = r.blob().to_vec();
        let name = r.opt_blob().map(<[u8]>::to_vec);
        let metadata = r.opt_blob().map(<[u8]>::to_vec);
        let flags = r.int();
        let shape = r.u8();
        let (children, dictionary) = budget.below(r, depth, Self::read_node);
        SchemaDesc { format, name, metadata, flags, released: shape & 1 != 0, children_count: Count::from_bits(shape >> 1), children, dictionary }
    }

    /// Encodes the tree.
    pub fn write(&self, w: &mut Writer) {
        w.blob(&self.format);
        w.opt_blob(self.name.as_deref());
        w.opt_blob(self.metadata.as_deref());
        w.int(self.flags);
        w.u8(u8::from(self.released) | self.children_count.bits() << 1);
        write_below(w, &self.children, self.dictionary.as_deref(), Self::write);
    }

    /// Describes an unreleased, well-formed C schema (an export's).
    ///
    /// # Safety
    /// `raw` follows the C Data Interface.
    pub unsafe fn from_raw(raw: &ArrowSchema) -> SchemaDesc {
        // SAFETY: per the caller, the strings are NUL-terminated, the children and dictionary valid,
        // and the metadata as long as its prefixes say.
        unsafe {
            let string = |p: *const std::ffi::c_char| (!p.is_null()).then(|| CStr::from_ptr(p).to_bytes().to_vec());
            let metadata = (!raw.metadata.is_null()).then(|| {
                let len = metadata_extent(|at, n| Some(std::slice::from_raw_parts(raw.metadata.cast::<u8>().add(at), n).to_vec()));
                std::slice::from_raw_parts(raw.metadata.cast::<u8>(), len).to_vec()
            });
            let children = (0..raw.n_children as usize).map(|i| Self::from_raw(&**raw.children.add(i))).collect();
            SchemaDesc {
                format: string(raw.format).unwrap_or_default(),
                name: string(raw.name),
                metadata,
                flags: raw.flags,
                released: false,
                children_count: Count::Exact,
                children,
                dictionary: raw.dictionary.as_ref().map(|d| Box::new(Self::from_raw(d))),
            }
        }
    }
}

/// The number of bytes a reader of C metadata reads, stopping at a negative count or length, or
/// once past [`METADATA_CAP`] bytes; `read` gives `n` bytes at an offset, or `None` when there are
/// none (the extent so far is returned).
pub fn metadata_extent(read: impl Fn(usize, usize) -> Option<Vec<u8>>) -> usize {
    let int = |at: usize| read(at, 4).map(|b| i32::from_le_bytes(b[..4].try_into().unwrap()));
    let mut at = 0;
    let Some(n) = int(at) else { return at };
    at += 4;
    for _ in 0..n.max(0) {
        if at > METADATA_CAP {
            return at;
        }
        for _ in 0..2 {
            let Some(len) = int(at) else { return at };
            at += 4;
            if len < 0 {
                return at;
            }
            at += len as usize;
        }
    }
    at
}

impl ArrayDesc {
    /// Decodes an array tree.
    pub fn read(r: &mut Reader) -> ArrayDesc {
        Self::read_node(r, 0, &mut Budget(1))
    }

    fn read_node(r: &mut Reader, depth: usize, budget: &mut Budget) -> ArrayDesc {
        let (length, null_count, offset) = (r.int(), r.int(), r.int());
        let shape = r.u8();
        let n_buffers = r.u8().min(MAX_BUFFERS);
        let buffers = (0..n_buffers)
            .map(|_| match r.u8() % 3 {
                0 => BufferDesc::Null,
                1 => BufferDesc::Aligned(r.blob().to_vec()),
                _ => BufferDesc::Misaligned(r.blob().to_vec()),
            })
            .collect();
        let (children, dictionary) = budget.below(r, depth, Self::read_node);
        ArrayDesc {
            length,
            null_count,
            offset,
            released: shape & 1 != 0,
            buffers_count: Count::from_bits((shape >> 1) & 7),
            children_count: Count::from_bits(shape >> 4),
            buffers,
            children,
            dictionary,
        }
    }

    /// Encodes the tree.
    pub fn write(&self, w: &mut Writer) {
        w.int(self.length);
        w.int(self.null_count);
        w.int(self.offset);
        w.u8(u8::from(self.released) | self.buffers_count.bits() << 1 | self.children_count.bits() << 4);
        w.u8(self.buffers.len() as u8);
        for buffer in &self.buffers {
            match buffer {
                BufferDesc::Null => w.u8(0),
                BufferDesc::Aligned(bytes) => {
                    w.u8(1);
                    w.blob(bytes);
                }
                BufferDesc::Misaligned(bytes) => {
                    w.u8(2);
                    w.blob(bytes);
                }
            }
        }
        write_below(w, &self.children, self.dictionary.as_deref(), Self::write);
    }

    /// Describes an unreleased, well-formed C array (an export's) of `data_type`, copying each
    /// buffer's bytes as far as the columnar format says it reaches ([`buffer_sizes`]).
    ///
    /// # Safety
    /// `raw` follows the C Data Interface and is valid for `data_type`.
    pub unsafe fn from_raw(raw: &ArrowArray, data_type: &DataType) -> ArrayDesc {
        struct Raw<'a>(&'a ArrowArray);
        impl Buffers for Raw<'_> {
            fn get(&self, index: usize, len: usize) -> Option<&[u8]> {
                // SAFETY: per `from_raw`'s caller, buffer `index` holds at least the bytes the format implies.
                unsafe {
                    let p = *self.0.buffers.add(index);
                    (!p.is_null()).then(|| std::slice::from_raw_parts(p.cast::<u8>(), len))
                }
            }
            fn count(&self) -> usize {
                self.0.n_buffers as usize
            }
        }
        let slots = (raw.length + raw.offset) as usize;
        let sizes = buffer_sizes(data_type, slots, &Raw(raw)).expect("an export's buffers are sized");
        let buffers = sizes
            .iter()
            .enumerate()
            .map(|(i, &len)| Raw(raw).get(i, len).map_or(BufferDesc::Null, |b| BufferDesc::Aligned(b.to_vec())))
            .collect();
        let child_types = child_types(data_type);
        // SAFETY: per the caller, the children and dictionary are valid for their types.
        let children = (0..raw.n_children as usize).map(|i| unsafe { Self::from_raw(&**raw.children.add(i), &child_types[i]) }).collect();
        let dictionary = match data_type {
            // SAFETY: as above.
            DataType::Dictionary(_, values) => Some(Box::new(unsafe { Self::from_raw(&*raw.dictionary, values) })),
            _ => None,
        };
        ArrayDesc {
            length: raw.length,
            null_count: raw.null_count,
            offset: raw.offset,
            released: false,
            buffers_count: Count::Exact,
            children_count: Count::Exact,
            buffers,
            children,
            dictionary,
        }
    }
}

/// The data types of the C children of a node of `data_type`.
pub fn child_types(data_type: &DataType) -> Vec<DataType> {
    match data_type {
        DataType::List(f) | DataType::LargeList(f) | DataType::ListView(f) | DataType::LargeListView(f) | DataType::FixedSizeList(f, _) | DataType::Map(f, _) => {
            vec![f.data_type().clone()]
        }
        DataType::Struct(fields) => fields.iter().map(|f| f.data_type().clone()).collect(),
        DataType::Union(fields, _) => fields.iter().map(|(_, f)| f.data_type().clone()).collect(),
        DataType::RunEndEncoded(r, v) => vec![r.data_type().clone(), v.data_type().clone()],
        _ => vec![],
    }
}
