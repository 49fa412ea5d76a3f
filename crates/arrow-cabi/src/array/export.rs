//! Array export: a typed array, a record batch or an `ArrayData` written as a tree of `ArrowArray`
//! nodes pointing at its buffers.
//!
//! Nothing is copied but the validity bitmap of a node whose bitmap starts at a different bit than its
//! data (a typed array sliced at an offset that is not a multiple of 8, or an `ArrayData` whose
//! `NullBuffer` was sliced apart from its offset), and the variadic-sizes buffer of views, which the C
//! ABI adds.
//!
//! Typed arrays are read through their accessors, one layout at a time; an `ArrayData` is read
//! generically, through the layout table: its fields already say what the C struct says (one offset
//! for every buffer, the buffers in C order after the validity bitmap, the children in C order, the
//! dictionary values as the first child), so no typed array is built for it. Building one would also
//! panic on buffers arrow-rs accepts in an `ArrayData` but not in a typed array (an empty buffer whose
//! dangling pointer is not aligned for the values). An `ArrayData` is exported from a reference: the
//! export keeps the buffers it points at (one reference count each, in one vector), not a clone of
//! the data's tree of vectors.
//!
//! All the nodes of one export live in one heap block, whatever the number of columns: a [`Tree`]
//! header (which keeps the exported arrays alive), then the node structs, their buffer pointers and
//! their child pointers. A first walk counts them, a second writes them. Every node's `private_data`
//! points at the header, which counts the nodes not yet released; a consumer may move children out and
//! release them in any order, on any thread, and the block is freed when the last node is released.

use std::alloc::{self, Layout};
use std::ffi::c_void;
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};

use arrow_array::cast::AsArray;
use arrow_array::types::{
    BinaryType, ByteArrayType, Int16Type, Int32Type, Int64Type, LargeBinaryType, LargeUtf8Type, RunEndIndexType,
    Utf8Type,
};
use arrow_array::{
    downcast_primitive, Array, ArrayRef, ArrowPrimitiveType, GenericByteArray, PrimitiveArray, RecordBatch, UnionArray,
};
use arrow_buffer::{BooleanBufferBuilder, Buffer, NullBuffer};
use arrow_cabi_sys::ArrowArray;
use arrow_data::ArrayData;
use arrow_schema::DataType;

use crate::boundary;
use crate::layout::{self, Buffer as Slot};
use crate::tree::{release_in_place, Region};

/// What an export of typed arrays shares out; the tree keeps it alive, and with it every exported
/// buffer.
pub(crate) enum Root {
    /// Any array.
    Array(ArrayRef),
    /// A record batch, as a struct array without nulls whose children are the columns.
    Batch(RecordBatch),
}

/// The header of an export's block; the nodes, buffer pointers and child pointers follow it.
struct Tree {
    /// The block's layout, to free it.
    block: Layout,
    /// Nodes not yet released; the last release frees the block.
    live: AtomicUsize,
    /// The typed arrays exported, if any.
    _root: Option<Root>,
    /// Buffers the export holds itself: those of exported `ArrayData`, realigned bitmaps and
    /// variadic sizes.
    _kept: Kept,
}

/// The buffers an export holds itself (a `SmallVec` that spares small exports this heap block costs
/// more instructions than it saves: measured 36.5k against 28.0k per export of S2).
type Kept = Vec<Buffer>;

/// Exports `root`: one heap block for every node, however many (plus a buffer for each realigned
/// bitmap and view array's sizes), and nothing per row or per byte. `counts` are the root's, if
/// known from its type (a stream knows them from its schema); otherwise a first walk counts them.
pub(crate) fn export_array(root: Root, counts: Option<Counts>) -> ArrowArray {
    let counts = counts.unwrap_or_else(|| Counts::of(Item::of(&root)));
    let (tree, at) = Tree::new(counts, Some(root), Kept::new());
    // SAFETY: `tree` is fresh, and the root is read back from its header, where it now stays until
    // the block is freed.
    unsafe { write(tree, &at, counts, Item::of((*tree)._root.as_ref().expect("the root just stored"))) }
}

/// Exports `data` as [`export_array`] does, from its fields (see the module docs), without a clone
/// of it: the export holds a reference count of each buffer it points at, in one vector.
pub(crate) fn export_data(data: &ArrayData) -> ArrowArray {
    let counts = Counts::of(Item::Data(data));
    // Every buffer kept has a pointer slot, so the pointer count bounds them.
    let (tree, at) = Tree::new(counts, None, Kept::with_capacity(counts.pointers));
    // SAFETY: `tree` is fresh; the walk keeps every buffer of `data` that it points at.
    unsafe { write(tree, &at, counts, Item::Data(data)) }
}

impl Tree {
    /// Allocates the block for `counts` nodes, with its header written; returns it and where its
    /// regions start. Always inlined into its two callers (measured: 100 instructions a call less).
    #[inline(always)]
    fn new(counts: Counts, root: Option<Root>, kept: Kept) -> (*mut Tree, Offsets) {
        let (block, at) = counts.layout().expect("the nodes of arrays in memory fit in memory");
        // SAFETY: the layout is never zero-sized (it starts with the header).
        let base = unsafe { alloc::alloc(block) };
        if base.is_null() {
            alloc::handle_alloc_error(block);
        }
        let tree = base.cast::<Tree>();
        // SAFETY: `base` is a fresh block of `block`'s layout, which starts with a `Tree`.
        unsafe { tree.write(Tree { block, live: AtomicUsize::new(counts.nodes), _root: root, _kept: kept }) };
        (tree, at)
    }
}

/// Writes the nodes of `item` into `tree`'s block; returns the root node (a copy: its slot in the
/// block is never pointed at).
///
/// # Safety
/// `tree` and `at` are fresh from [`Tree::new`] with `counts`, the counts of `item`, and every buffer
/// `item` points at outlives the block: held by the header's root, or (for `ArrayData`) kept by the
/// walk.
#[inline(always)]
unsafe fn write(tree: *mut Tree, at: &Offsets, counts: Counts, item: Item<'_>) -> ArrowArray {
    let base = tree.cast::<u8>();
    // SAFETY: `at` are offsets inside the block, aligned for their element types, and the regions hold
    // `counts` elements each; the walk writes as many as were counted (checked as it goes).
    unsafe {
        let mut writer = Writer {
            nodes: Region::new(base.add(at.nodes).cast(), counts.nodes),
            pointers: Region::new(base.add(at.pointers).cast(), counts.pointers),
            children: Region::new(base.add(at.children).cast(), counts.children),
            kept: &mut (*tree)._kept,
            tree: tree.cast(),
        };
        let root = writer.add(item);
        ptr::replace(root, ArrowArray::EMPTY)
    }
}

/// One node to export.
#[derive(Clone, Copy)]
enum Item<'a> {
    Array(&'a dyn Array),
    /// A record batch: a struct without nulls.
    Batch(&'a RecordBatch),
    /// A run-end-encoded array's run ends, which arrow-rs keeps as a bare buffer of `len` values.
    RunEnds { len: usize, values: *const u8 },
    /// A node of array data.
    Data(&'a ArrayData),
}

impl<'a> Item<'a> {
    fn of(root: &'a Root) -> Self {
        match root {
            Root::Array(array) => Item::Array(array.as_ref()),
            Root::Batch(batch) => Item::Batch(batch),
        }
    }
}

/// A node's own numbers and fixed buffers after the validity bitmap: all that a node of the leaf
/// layouts most columns have (primitive, boolean, and (large) utf8 and binary) holds.
struct Leaf<'a> {
    length: usize,
    offset: usize,
    null_count: usize,
    nulls: Option<&'a NullBuffer>,
    data: [*const u8; 2],
    n_data: usize,
}

impl<'a> Leaf<'a> {
    /// The leaf node of `array`, or `None` for another layout. Each layout's numbers are read from
    /// the typed array once it is downcast, without further calls through `dyn Array`. Always
    /// inlined, so that [`Writer::try_leaf`] keeps them in registers (measured: 28 instructions a
    /// column fewer than a call returning the struct).
    #[inline(always)]
    fn of(array: &'a dyn Array) -> Option<Self> {
        macro_rules! primitive {
            ($t:ty) => {
                Leaf::primitive(array.as_primitive::<$t>())
            };
        }
        let data_type = array.data_type();
        Some(match data_type {
            DataType::Boolean => {
                let array = array.as_boolean();
                let values = array.values();
                Leaf::new(array.len(), values.offset(), array.nulls(), [values.inner().as_ptr(), ptr::null()], 1)
            }
            DataType::Utf8 => Leaf::bytes(array.as_bytes::<Utf8Type>()),
            DataType::LargeUtf8 => Leaf::bytes(array.as_bytes::<LargeUtf8Type>()),
            DataType::Binary => Leaf::bytes(array.as_bytes::<BinaryType>()),
            DataType::LargeBinary => Leaf::bytes(array.as_bytes::<LargeBinaryType>()),
            _ => downcast_primitive!(
                data_type => (primitive),
                _ => return None,
            ),
        })
    }

    #[inline]
    fn primitive<T: ArrowPrimitiveType>(array: &'a PrimitiveArray<T>) -> Self {
        Leaf::new(array.len(), 0, array.nulls(), [array.values().inner().as_ptr(), ptr::null()], 1)
    }

    #[inline]
    fn bytes<T: ByteArrayType>(array: &'a GenericByteArray<T>) -> Self {
        let data = [array.value_offsets().as_ptr().cast(), array.values().as_ptr()];
        Leaf::new(array.len(), 0, array.nulls(), data, 2)
    }

    #[inline]
    fn new(length: usize, offset: usize, nulls: Option<&'a NullBuffer>, data: [*const u8; 2], n_data: usize) -> Self {
        let null_count = nulls.map_or(0, NullBuffer::null_count);
        Leaf { length, offset, null_count, nulls, data, n_data }
    }
}

/// What the C struct of one node says, read from the typed array.
struct Node<'a> {
    /// The numbers, the nulls, and the fixed buffers after the validity bitmap (at most two in any
    /// layout).
    own: Leaf<'a>,
    /// Whether the layout starts with a validity bitmap.
    validity: bool,
    /// A view array's data buffers, which follow the fixed ones (with their sizes after them).
    variadic: Option<&'a [Buffer]>,
    children: Children<'a>,
    dictionary: Option<Item<'a>>,
    /// The `ArrayData` the node was read from, whose buffers and bitmap the export keeps (a typed
    /// array's are kept by the root).
    data: Option<&'a ArrayData>,
}

/// The children of one node, in C order.
#[derive(Clone, Copy)]
enum Children<'a> {
    Arrays(&'a [ArrayRef]),
    One(&'a dyn Array),
    /// A union's children, in the order of its fields.
    Union(&'a UnionArray),
    /// A run-end-encoded array's run ends and values.
    Run(Item<'a>, &'a dyn Array),
    /// The children of array data.
    Data(&'a [ArrayData]),
}

impl<'a> Children<'a> {
    const NONE: Children<'static> = Children::Arrays(&[]);

    fn len(&self) -> usize {
        match self {
            Children::Arrays(arrays) => arrays.len(),
            Children::One(_) => 1,
            Children::Union(union) => union_fields(union).len(),
            Children::Run(..) => 2,
            Children::Data(children) => children.len(),
        }
    }

    fn get(&self, index: usize) -> Item<'a> {
        match *self {
            Children::Arrays(arrays) => Item::Array(arrays[index].as_ref()),
            Children::One(array) => Item::Array(array),
            Children::Union(union) => {
                let (type_id, _) = union_fields(union).iter().nth(index).expect("a child per field");
                Item::Array(union.child(type_id).as_ref())
            }
            Children::Run(ends, _) if index == 0 => ends,
            Children::Run(_, values) => Item::Array(values),
            Children::Data(children) => Item::Data(&children[index]),
        }
    }
}

/// The data buffers of a view array's data, after its views.
fn variadic_buffers(data: &ArrayData) -> &[Buffer] {
    data.buffers().get(1..).unwrap_or_default()
}

/// The C children and dictionary of `data`: its children, but for a dictionary, whose values (its
/// first child) are the dictionary.
fn data_children(data: &ArrayData) -> (Children<'_>, Option<Item<'_>>) {
    match data.data_type() {
        DataType::Dictionary(..) => (Children::NONE, data.child_data().first().map(Item::Data)),
        _ => (Children::Data(data.child_data()), None),
    }
}

/// The fields of a union array's type, in the order of its C children.
fn union_fields(union: &UnionArray) -> &arrow_schema::UnionFields {
    match union.data_type() {
        DataType::Union(fields, _) => fields,
        _ => unreachable!("a union array has a union type"),
    }
}

impl<'a> Node<'a> {
    /// A node of a leaf layout: a validity bitmap and `own`'s buffers; no children, no dictionary.
    fn leaf(own: Leaf<'a>) -> Self {
        Node { own, validity: true, variadic: None, children: Children::NONE, dictionary: None, data: None }
    }

    fn of(item: Item<'a>) -> Self {
        let bare = |length, data, n_data| Node::leaf(Leaf { length, offset: 0, null_count: 0, nulls: None, data, n_data });
        match item {
            Item::Batch(batch) => Node { children: Children::Arrays(batch.columns()), ..bare(batch.num_rows(), [ptr::null(); 2], 0) },
            Item::RunEnds { len, values } => bare(len, [values, ptr::null()], 1),
            Item::Array(array) => Self::of_array(array),
            Item::Data(data) => Self::of_data(data),
        }
    }

    /// Reads the node of `data` from its fields, in the order the layout table lists the buffers:
    /// the validity bitmap (lined up with `data`'s offset by [`validity`]) where the layout has one,
    /// then `data`'s buffers, which share its one offset; a view's data buffers after its views; the
    /// children as they are, but a dictionary's values (its first child) as the dictionary. A buffer
    /// missing from data built without validation is exported as NULL, for the consumer to refuse.
    fn of_data(data: &'a ArrayData) -> Self {
        let layout = layout::layout(data.data_type());
        let validity = layout.buffers.first() == Some(&Slot::Validity);
        let buffers = data.buffers();
        let pointer = |index: usize| buffers.get(index).map_or(ptr::null(), Buffer::as_ptr);
        let nulls = data.nulls().filter(|_| validity);
        let own = Leaf {
            length: data.len(),
            offset: data.offset(),
            null_count: null_count(data.data_type(), data.len(), nulls),
            nulls,
            data: [pointer(0), pointer(1)],
            n_data: layout.buffers.len() - usize::from(validity),
        };
        let variadic = layout.variadic.then(|| variadic_buffers(data));
        let (children, dictionary) = data_children(data);
        Node { own, validity, variadic, children, dictionary, data: Some(data) }
    }

    /// Reads the node of `array`; arrow-rs slices the buffers of every type but booleans and
    /// run-end-encoded arrays, so their C offset is 0.
    fn of_array(array: &'a dyn Array) -> Self {
        Leaf::of(array).map_or_else(|| Self::nested(array), Node::leaf)
    }

    /// [`of_array`](Self::of_array) for an array of a layout other than the leaves'.
    fn nested(array: &'a dyn Array) -> Self {
        let slots = layout::layout(array.data_type()).buffers;
        let validity = slots.first() == Some(&Slot::Validity);
        let nulls = array.nulls();
        let own = Leaf {
            length: array.len(),
            offset: 0,
            null_count: null_count(array.data_type(), array.len(), nulls),
            nulls,
            data: [ptr::null(); 2],
            n_data: slots.len() - usize::from(validity),
        };
        let mut node = Node { own, validity, variadic: None, children: Children::NONE, dictionary: None, data: None };
        let two = |first: *const u8, second: *const u8| [first, second];
        let one = |first: *const u8| [first, ptr::null()];
        node.own.data = match array.data_type() {
            DataType::Null => [ptr::null(); 2],
            DataType::Utf8View => {
                let array = array.as_string_view();
                node.variadic = Some(array.data_buffers());
                one(array.views().inner().as_ptr())
            }
            DataType::BinaryView => {
                let array = array.as_binary_view();
                node.variadic = Some(array.data_buffers());
                one(array.views().inner().as_ptr())
            }
            DataType::FixedSizeBinary(_) => one(array.as_fixed_size_binary().value_data().as_ptr()),
            DataType::List(_) => {
                let array = array.as_list::<i32>();
                node.children = Children::One(array.values().as_ref());
                one(array.value_offsets().as_ptr().cast())
            }
            DataType::LargeList(_) => {
                let array = array.as_list::<i64>();
                node.children = Children::One(array.values().as_ref());
                one(array.value_offsets().as_ptr().cast())
            }
            DataType::ListView(_) => {
                let array = array.as_list_view::<i32>();
                node.children = Children::One(array.values().as_ref());
                two(array.offsets().inner().as_ptr(), array.sizes().inner().as_ptr())
            }
            DataType::LargeListView(_) => {
                let array = array.as_list_view::<i64>();
                node.children = Children::One(array.values().as_ref());
                two(array.offsets().inner().as_ptr(), array.sizes().inner().as_ptr())
            }
            DataType::FixedSizeList(..) => {
                node.children = Children::One(array.as_fixed_size_list().values().as_ref());
                [ptr::null(); 2]
            }
            DataType::Map(..) => {
                let array = array.as_map();
                node.children = Children::One(array.entries());
                one(array.value_offsets().as_ptr().cast())
            }
            DataType::Struct(_) => {
                node.children = Children::Arrays(array.as_struct().columns());
                [ptr::null(); 2]
            }
            DataType::Union(..) => {
                let array = array.as_union();
                node.children = Children::Union(array);
                let offsets = array.offsets().map_or(ptr::null(), |offsets| offsets.inner().as_ptr());
                two(array.type_ids().inner().as_ptr(), offsets)
            }
            DataType::Dictionary(..) => {
                let dictionary = array.as_any_dictionary();
                let keys = Self::of_array(dictionary.keys());
                return Node { dictionary: Some(Item::Array(dictionary.values().as_ref())), ..keys };
            }
            DataType::RunEndEncoded(run_ends, _) => {
                match run_ends.data_type() {
                    DataType::Int16 => node.run::<Int16Type>(array),
                    DataType::Int32 => node.run::<Int32Type>(array),
                    DataType::Int64 => node.run::<Int64Type>(array),
                    other => unreachable!("run ends of type {other}"),
                }
                [ptr::null(); 2]
            }
            other => unreachable!("export of {other} arrays"),
        };
        node
    }

    /// The offset and children of a run-end-encoded array.
    fn run<R: RunEndIndexType>(&mut self, array: &'a dyn Array) {
        let array = array.as_run::<R>();
        let ends = array.run_ends();
        self.own.offset = ends.offset();
        let ends = Item::RunEnds { len: ends.values().len(), values: ends.values().as_ptr().cast() };
        self.children = Children::Run(ends, array.values().as_ref());
    }

    /// The number of buffer pointers the node's C struct lists.
    fn n_buffers(&self) -> usize {
        usize::from(self.validity) + self.own.n_data + self.variadic.map_or(0, |buffers| buffers.len() + 1)
    }
}

/// How many nodes, buffer pointers and child pointers an export writes.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Counts {
    nodes: usize,
    pointers: usize,
    children: usize,
}

/// Where each region starts in the block, in bytes.
struct Offsets {
    nodes: usize,
    pointers: usize,
    children: usize,
}

impl Counts {
    /// The counts of every array of `data_type` (a record batch's is the struct of its fields), or
    /// `None` for a type with views at or below it, whose counts depend on the array.
    pub(crate) fn of_type(data_type: &DataType) -> Option<Counts> {
        let mut counts = Counts::default();
        counts.add_type(data_type).then_some(counts)
    }

    /// The counts of `item` and everything below it.
    fn of(item: Item<'_>) -> Counts {
        let mut counts = Counts::default();
        counts.add(item);
        counts
    }

    /// Counts `item` and everything below it: from the data type alone where it can, otherwise from
    /// the arrays.
    fn add(&mut self, item: Item<'_>) {
        match item {
            Item::Array(array) => {
                let before = *self;
                if self.add_type(array.data_type()) {
                    return;
                }
                *self = before;
            }
            Item::Data(data) => return self.add_data(data),
            _ => {}
        }
        let node = Node::of(item);
        self.nodes += 1;
        self.pointers += node.n_buffers();
        let children = node.children.len();
        self.children += children;
        for index in 0..children {
            self.add(node.children.get(index));
        }
        if let Some(dictionary) = node.dictionary {
            self.add(dictionary);
        }
    }

    /// Counts `data` and everything below it as [`Node::of_data`] reads them, without building the
    /// nodes.
    fn add_data(&mut self, data: &ArrayData) {
        let layout = layout::layout(data.data_type());
        self.nodes += 1;
        self.pointers += layout.buffers.len();
        if layout.variadic {
            self.pointers += variadic_buffers(data).len() + 1;
        }
        let (children, dictionary) = data_children(data);
        self.children += children.len();
        let below = data.child_data();
        let below = if dictionary.is_some() { &below[..1] } else { below };
        below.iter().for_each(|child| self.add_data(child));
    }

    /// Counts any array of `data_type` from the layout table alone; false (with the counts partly
    /// added) when a view type, whose number of buffers depends on the array, is at or below it.
    fn add_type(&mut self, data_type: &DataType) -> bool {
        let layout = layout::layout(data_type);
        if layout.variadic {
            return false;
        }
        let children = layout::child_count(data_type);
        self.nodes += 1;
        self.pointers += layout.buffers.len();
        self.children += children;
        for index in 0..children {
            match layout::child_field(data_type, index) {
                Some(field) if self.add_type(field.data_type()) => {}
                _ => return false,
            }
        }
        match data_type {
            DataType::Dictionary(_, values) => self.add_type(values),
            _ => true,
        }
    }

    /// The block's layout: the header, then the three regions; `None` if it overflows (it cannot, as
    /// every node counted is an array already in memory).
    fn layout(&self) -> Option<(Layout, Offsets)> {
        let (block, nodes) = Layout::new::<Tree>().extend(Layout::array::<ArrowArray>(self.nodes).ok()?).ok()?;
        let (block, pointers) = block.extend(Layout::array::<*const c_void>(self.pointers).ok()?).ok()?;
        let (block, children) = block.extend(Layout::array::<*mut ArrowArray>(self.children).ok()?).ok()?;
        Some((block, Offsets { nodes, pointers, children }))
    }
}

/// The second walk: writes the nodes, in pre-order, into the regions the first walk counted.
struct Writer<'w> {
    nodes: Region<ArrowArray>,
    pointers: Region<*const c_void>,
    children: Region<*mut ArrowArray>,
    kept: &'w mut Kept,
    tree: *mut c_void,
}

impl Writer<'_> {
    /// Writes `item` and everything below it; returns its node. Always inlined: it only dispatches,
    /// and a node's loop over its children then calls [`try_leaf`](Self::try_leaf) directly.
    #[inline(always)]
    fn add(&mut self, item: Item<'_>) -> *mut ArrowArray {
        match item {
            Item::Array(array) => match self.try_leaf(array) {
                Some(node) => node,
                None => self.add_node(Node::nested(array)),
            },
            Item::Data(data) => self.add_data(data),
            other => self.add_node(Node::of(other)),
        }
    }

    /// Writes the node of `data` and everything below it; returns its node. A node of a leaf layout
    /// (a validity bitmap and one or two more buffers; no children, dictionary or variadic buffers)
    /// is written as [`add_leaf`](Self::add_leaf) writes a typed leaf.
    fn add_data(&mut self, data: &ArrayData) -> *mut ArrowArray {
        let node = Node::of_data(data);
        let leaf = node.validity && node.own.n_data > 0 && node.variadic.is_none();
        if !(leaf && node.children.len() == 0 && node.dictionary.is_none()) {
            return self.add_node(node);
        }
        self.keep(data, node.own.nulls);
        self.add_leaf(node.own)
    }

    /// Keeps the buffers and the bitmap of `data`, whose node points at them.
    fn keep(&mut self, data: &ArrayData, nulls: Option<&NullBuffer>) {
        self.kept.extend(data.buffers().iter().cloned());
        self.kept.extend(nulls.map(|nulls| nulls.buffer().clone()));
    }

    /// Writes `node` and everything below it; returns its node.
    fn add_node(&mut self, node: Node<'_>) -> *mut ArrowArray {
        let at = self.nodes.claim(1);
        let n_buffers = node.n_buffers();
        let buffers = self.pointers.claim(n_buffers);
        // An `ArrayData` node's buffers and bitmap, which nothing else keeps once the export returns.
        if let Some(data) = node.data {
            self.keep(data, node.own.nulls);
        }
        let mut next = buffers;
        let mut push = |pointer: *const u8| {
            // SAFETY: `claim` reserved `n_buffers` slots from `buffers`; exactly that many are pushed.
            unsafe {
                next.write(pointer.cast());
                next = next.add(1);
            }
        };
        if node.validity {
            push(validity(node.own.nulls, node.own.offset, self.kept));
        }
        node.own.data[..node.own.n_data].iter().for_each(|&pointer| push(pointer));
        if let Some(variadic) = node.variadic {
            variadic.iter().for_each(|buffer| push(buffer.as_ptr()));
            let sizes = Buffer::from_iter(variadic.iter().map(|buffer| buffer.len() as i64));
            push(sizes.as_ptr());
            self.kept.push(sizes);
        }
        let n_children = node.children.len();
        let children = self.children.claim(n_children);
        let mut put = |index: usize, item: Item<'_>| {
            let child = self.add(item);
            // SAFETY: `claim` reserved `n_children` slots from `children`; `index < n_children`.
            unsafe { children.add(index).write(child) };
        };
        match node.children {
            // A struct's or batch's columns, without indexing through `Children::get`.
            Children::Arrays(arrays) => arrays.iter().enumerate().for_each(|(index, array)| put(index, Item::Array(array.as_ref()))),
            Children::Data(children) => children.iter().enumerate().for_each(|(index, child)| put(index, Item::Data(child))),
            other => (0..n_children).for_each(|index| put(index, other.get(index))),
        }
        let dictionary = node.dictionary.map_or(ptr::null_mut(), |values| self.add(values));
        let array = ArrowArray {
            n_children: n_children as i64,
            children,
            dictionary,
            ..self.node(&node.own, n_buffers, buffers)
        };
        // SAFETY: `at` is a claimed slot of the nodes region.
        unsafe { at.write(array) };
        at
    }

    /// Writes `array` as a leaf node if it is of a leaf layout; `None` otherwise. One call per
    /// leaf, with [`Leaf::of`] and [`add_leaf`](Self::add_leaf) inlined into it.
    fn try_leaf(&mut self, array: &dyn Array) -> Option<*mut ArrowArray> {
        let leaf = Leaf::of(array)?;
        Some(self.add_leaf(leaf))
    }

    /// Writes a leaf node: [`add`](Self::add) without the children, dictionary and variadic buffers
    /// a leaf does not have, and without building its [`Node`].
    #[inline(always)]
    fn add_leaf(&mut self, leaf: Leaf<'_>) -> *mut ArrowArray {
        let at = self.nodes.claim(1);
        let n_buffers = 1 + leaf.n_data;
        let buffers = self.pointers.claim(n_buffers);
        let validity = validity(leaf.nulls, leaf.offset, self.kept);
        // SAFETY: `claim` reserved one node at `at` and `n_buffers` pointers from `buffers`.
        unsafe {
            buffers.write(validity.cast());
            buffers.add(1).write(leaf.data[0].cast());
            if leaf.n_data == 2 {
                buffers.add(2).write(leaf.data[1].cast());
            }
            at.write(self.node(&leaf, n_buffers, buffers));
        }
        at
    }

    /// The C struct of a node with `own`'s numbers and the `n_buffers` pointers at `buffers`, released
    /// through this export; no children and no dictionary (the caller adds any).
    fn node(&self, own: &Leaf<'_>, n_buffers: usize, buffers: *mut *const c_void) -> ArrowArray {
        ArrowArray {
            length: own.length as i64,
            null_count: own.null_count as i64,
            offset: own.offset as i64,
            n_buffers: n_buffers as i64,
            buffers: buffers.cast(),
            release: Some(release_array),
            private_data: self.tree,
            ..ArrowArray::EMPTY
        }
    }
}

/// A validity pointer whose bit `offset + i` is element `i`'s: the bitmap itself when its bit offset
/// lines up on a byte, otherwise a copy shifted to line up (kept in `kept`); NULL when there are no
/// nulls.
#[inline]
fn validity(nulls: Option<&NullBuffer>, offset: usize, kept: &mut Kept) -> *const u8 {
    match nulls.filter(|nulls| nulls.null_count() > 0) {
        None => ptr::null(),
        Some(nulls) => bitmap(nulls, offset, kept),
    }
}

/// [`validity`] of a node with nulls.
fn bitmap(nulls: &NullBuffer, offset: usize, kept: &mut Kept) -> *const u8 {
    let have = nulls.offset();
    if have >= offset && (have - offset) % 8 == 0 {
        // SAFETY: `(have - offset) / 8` bytes in is inside the bitmap, which covers bit `have`.
        return unsafe { nulls.buffer().as_ptr().add((have - offset) / 8) };
    }
    let mut bits = BooleanBufferBuilder::new(offset + nulls.len());
    bits.append_n(offset, false);
    bits.append_buffer(nulls.inner());
    let buffer = bits.finish().into_inner();
    let pointer = buffer.as_ptr();
    kept.push(buffer);
    pointer
}

/// The `release` of every exported array node: releases it and the nodes below it still in place (a
/// consumer may have moved some out), and frees the block with its last node.
///
/// # Safety
/// `array` is NULL or points to a node this module exported (possibly moved), not yet released.
unsafe extern "C" fn release_array(array: *mut ArrowArray) {
    boundary::catch_in_release(|| {
        // SAFETY: the caller passes a valid pointer or NULL (checked by `as_mut`).
        let Some(array) = (unsafe { array.as_mut() }) else { return };
        let tree = array.private_data.cast::<Tree>();
        if tree.is_null() || array.release.is_none() {
            return;
        }
        // SAFETY: one of our exported, unreleased nodes.
        let released = unsafe { release_in_place(array) };
        // SAFETY: the block lives while any node is unreleased, and these nodes were.
        let last = unsafe { (*tree).live.fetch_sub(released, Ordering::AcqRel) } == released;
        if last {
            // SAFETY: every node is released, so nothing points into the block any more; it was
            // allocated with `block` in `export_array`, and this is the one release that saw the count
            // reach 0. The regions after the header hold plain data with nothing to drop.
            unsafe {
                let block = (*tree).block;
                ptr::drop_in_place(tree);
                alloc::dealloc(tree.cast(), block);
            }
        }
    });
}


/// The null count a node exports: its bitmap's, but for the null type, whose every element is null
/// with no bitmap to say so, its length (as Arrow C++ and arrow-rs export it).
fn null_count(data_type: &DataType, length: usize, nulls: Option<&NullBuffer>) -> usize {
    match data_type {
        DataType::Null => length,
        _ => nulls.map_or(0, NullBuffer::null_count),
    }
}
