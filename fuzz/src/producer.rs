//! A foreign producer that builds C structs from descriptions, allocating exactly what they claim,
//! and counts every release.
//!
//! Every buffer, string, metadata block, pointer array and child struct is its own `malloc` of
//! exactly its bytes, so AddressSanitizer reports any read past one. A node's release callback
//! counts its call, releases its children and dictionary (unless the consumer moved them out and
//! released them itself), frees what the node owns (so a read after release is a use-after-free
//! report) and marks the struct released. [`Producer::check_releases`] then says whether every node
//! a consumer could release was released exactly once.

use std::cell::{Cell, RefCell};
use std::ffi::c_void;
use std::ptr;

use arrow_cabi_sys::{ArrowArray, ArrowSchema};

use crate::desc::{metadata_extent, ArrayDesc, BufferDesc, Count, SchemaDesc, METADATA_CAP};

/// What the producer knows of one node.
struct Record {
    /// Where the node is (`children[1].dictionary`), for messages.
    path: String,
    /// How often its release ran.
    releases: Cell<u32>,
    /// Whether a consumer can release it (it and every ancestor were handed over unreleased).
    releasable: bool,
    /// Its allocations, freed by its release (or when the producer drops, if it never ran).
    owned: RefCell<Vec<*mut c_void>>,
    /// Its children's and dictionary's structs (also in `owned`), released before they are freed.
    kids: Vec<*mut c_void>,
}

/// The producer: owns every node's record until dropped (after every release was counted). The
/// records are raw `Box` pointers, so that the pointers handed out as private data stay valid as
/// the vector grows (a moved `Box` would invalidate them under Stacked Borrows).
#[derive(Default)]
pub struct Producer {
    records: RefCell<Vec<*mut Record>>,
}

/// `malloc(len)` copying `bytes` (`len` may exceed them; the rest is zeroed), `align` aligned
/// plus `skew` bytes; a NULL result aborts (the input is bounded, so this is out of memory).
fn alloc(bytes: &[u8], len: usize, align: usize, skew: usize) -> (*mut c_void, *mut u8) {
    let mut base = ptr::null_mut();
    // SAFETY: posix_memalign with a power-of-two alignment that is a multiple of the pointer size.
    let rc = unsafe { libc::posix_memalign(&mut base, align, len + skew) };
    assert!(rc == 0 && !base.is_null(), "out of memory");
    // SAFETY: `base` holds `len + skew` bytes; `bytes` fits in `len`.
    unsafe {
        let start = base.cast::<u8>().add(skew);
        ptr::write_bytes(start, 0, len);
        ptr::copy_nonoverlapping(bytes.as_ptr(), start, bytes.len().min(len));
        (base, start)
    }
}

/// The metadata bytes to hand over: as given where every prefix and the bytes it claims lie
/// inside; otherwise zero-padded up to what a reader reads (a producer cannot claim bytes it does
/// not have: no importer could detect that); if that passes [`METADATA_CAP`], with a count of 0.
fn fit_metadata(bytes: &[u8]) -> Vec<u8> {
    let padded = |at: usize, n: usize| Some((at..at + n).map(|i| bytes.get(i).copied().unwrap_or(0)).collect());
    let extent = metadata_extent(padded);
    let mut out = bytes.to_vec();
    if extent > METADATA_CAP {
        out.resize(out.len().max(4), 0);
        out[..4].fill(0);
    } else if extent > out.len() {
        out.resize(extent, 0);
    }
    out
}

/// Whether a schema node's children may be `Count::Short` (only the children the format allows
/// allocated) and `Count::Huge` (`n_children` = `i64::MAX`). Before ecad24c arrow-cabi read every
/// claimed child before checking the count against the format, which the stream target found as a
/// heap-buffer-overflow in `schema/import.rs`'s `children`; a switch to turn the faults off if
/// another such fault has to wait for its fix.
pub const SCHEMA_COUNT_FAULTS: bool = true;

/// How many children the format string `format` allows a schema node (what a correct importer may
/// read before it checks the count): one for lists, maps and fixed-size lists, two for run-end
/// encoded, any for structs, one per type id for unions, none otherwise.
pub fn children_allowed(format: &[u8]) -> usize {
    match format {
        b"+l" | b"+L" | b"+vl" | b"+vL" | b"+m" => 1,
        b"+r" => 2,
        b"+s" => usize::MAX,
        _ if format.starts_with(b"+w:") => 1,
        _ if format.starts_with(b"+ud:") || format.starts_with(b"+us:") => format[4..].split(|&b| b == b',').count(),
        _ => 0,
    }
}

impl Producer {
    /// A producer with no nodes yet.
    pub fn new() -> Self {
        Self::default()
    }

    fn record(&self, path: String, releasable: bool, owned: Vec<*mut c_void>, kids: Vec<*mut c_void>) -> *mut c_void {
        let record = Box::into_raw(Box::new(Record { path, releases: Cell::new(0), releasable, owned: RefCell::new(owned), kids }));
        self.records.borrow_mut().push(record);
        record.cast()
    }

    /// A copy of `bytes` in its own allocation (NUL-terminated when `nul`), owned by `owned`.
    fn bytes(owned: &mut Vec<*mut c_void>, bytes: &[u8], nul: bool) -> *mut u8 {
        let (base, start) = alloc(bytes, bytes.len() + usize::from(nul), 16, 0);
        owned.push(base);
        start
    }

    /// An array of `entries` pointers in its own allocation (NULL when empty).
    fn pointers<T>(owned: &mut Vec<*mut c_void>, entries: &[*mut T]) -> *mut *mut T {
        if entries.is_empty() {
            return ptr::null_mut();
        }
        // SAFETY: the entries are plain pointers; their bytes are copied as they are.
        let bytes = unsafe { std::slice::from_raw_parts(entries.as_ptr().cast::<u8>(), std::mem::size_of_val(entries)) };
        Self::bytes(owned, bytes, false).cast()
    }

    /// A C struct moved into its own allocation.
    fn boxed<T>(owned: &mut Vec<*mut c_void>, value: T) -> *mut T {
        let (base, _) = alloc(&[], std::mem::size_of::<T>(), 16, 0);
        // SAFETY: the struct's bytes are moved into a block as large and as aligned (16) as it needs.
        unsafe { ptr::write(base.cast::<T>(), value) };
        owned.push(base);
        base.cast()
    }

    /// Builds the schema tree `desc` describes; its root is the caller's to wrap.
    pub fn schema(&self, desc: &SchemaDesc) -> ArrowSchema {
        self.schema_node(desc, "schema".into(), true)
    }

    fn schema_node(&self, desc: &SchemaDesc, path: String, parent_releasable: bool) -> ArrowSchema {
        let releasable = parent_releasable && !desc.released;
        let mut owned = Vec::new();
        let format = Self::bytes(&mut owned, &desc.format, true).cast();
        let name = desc.name.as_ref().map_or(ptr::null_mut(), |n| Self::bytes(&mut owned, n, true)).cast();
        let metadata = desc.metadata.as_ref().map_or(ptr::null_mut(), |m| Self::bytes(&mut owned, &fit_metadata(m), false)).cast();
        let children_count = match desc.children_count {
            Count::Short | Count::Huge if !SCHEMA_COUNT_FAULTS => Count::Exact,
            count => count,
        };
        let built = match children_count {
            Count::Short => desc.children.len().min(children_allowed(&desc.format)),
            _ => desc.children.len(),
        };
        let mut kids = Vec::new();
        let mut children: Vec<*mut ArrowSchema> = desc.children[..built]
            .iter()
            .enumerate()
            .map(|(i, child)| {
                let child = self.schema_node(child, format!("{path}.children[{i}]"), releasable);
                let boxed = Self::boxed(&mut owned, child);
                kids.push(boxed.cast());
                boxed
            })
            .collect();
        let dictionary = desc.dictionary.as_ref().map_or(ptr::null_mut(), |d| {
            let boxed = Self::boxed(&mut owned, self.schema_node(d, format!("{path}.dictionary"), releasable));
            kids.push(boxed.cast());
            boxed
        });
        let (n_children, children) = counted(children_count, desc.children.len(), &mut children, &mut owned);
        ArrowSchema {
            format,
            name,
            metadata,
            flags: desc.flags,
            n_children,
            children,
            dictionary,
            release: (!desc.released).then_some(release_schema as unsafe extern "C" fn(*mut ArrowSchema)),
            private_data: self.record(path, releasable, owned, kids),
        }
    }

    /// Builds the array tree `desc` describes; its root is the caller's to wrap.
    pub fn array(&self, desc: &ArrayDesc) -> ArrowArray {
        self.array_node(desc, "array".into(), true)
    }

    fn array_node(&self, desc: &ArrayDesc, path: String, parent_releasable: bool) -> ArrowArray {
        let releasable = parent_releasable && !desc.released;
        let mut owned = Vec::new();
        let mut buffers: Vec<*mut c_void> = desc
            .buffers
            .iter()
            .map(|buffer| match buffer {
                BufferDesc::Null => ptr::null_mut(),
                BufferDesc::Aligned(bytes) | BufferDesc::Misaligned(bytes) => {
                    let skew = usize::from(matches!(buffer, BufferDesc::Misaligned(_)));
                    let (base, start) = alloc(bytes, bytes.len(), 64, skew);
                    owned.push(base);
                    start.cast()
                }
            })
            .collect();
        let mut kids = Vec::new();
        let mut children: Vec<*mut ArrowArray> = desc
            .children
            .iter()
            .enumerate()
            .map(|(i, child)| {
                let boxed = Self::boxed(&mut owned, self.array_node(child, format!("{path}.children[{i}]"), releasable));
                kids.push(boxed.cast());
                boxed
            })
            .collect();
        let dictionary = desc.dictionary.as_ref().map_or(ptr::null_mut(), |d| {
            let boxed = Self::boxed(&mut owned, self.array_node(d, format!("{path}.dictionary"), releasable));
            kids.push(boxed.cast());
            boxed
        });
        let (n_buffers, buffers) = counted(desc.buffers_count, desc.buffers.len(), &mut buffers, &mut owned);
        let (n_children, children) = counted(desc.children_count, desc.children.len(), &mut children, &mut owned);
        ArrowArray {
            length: desc.length,
            null_count: desc.null_count,
            offset: desc.offset,
            n_buffers,
            n_children,
            buffers: buffers.cast(),
            children,
            dictionary,
            release: (!desc.released).then_some(release_array as unsafe extern "C" fn(*mut ArrowArray)),
            private_data: self.record(path, releasable, owned, kids),
        }
    }

    /// Panics unless every node a consumer could release was released exactly once, and no other
    /// node was released. Call after every imported value was dropped.
    pub fn check_releases(&self) {
        for &record in self.records.borrow().iter() {
            // SAFETY: records live until the producer drops.
            let record = unsafe { &*record };
            let expected = u32::from(record.releasable);
            assert_eq!(record.releases.get(), expected, "{}: released {} times, expected {expected}", record.path, record.releases.get());
        }
    }
}

/// The count and pointer array of `entries` (`claimed` of them described) as `count` says.
fn counted<T>(count: Count, claimed: usize, entries: &mut [*mut T], owned: &mut Vec<*mut c_void>) -> (i64, *mut *mut T) {
    if count == Count::NullEntry {
        if let Some(first) = entries.first_mut() {
            *first = ptr::null_mut();
        }
    }
    let array = if count == Count::NullArray { ptr::null_mut() } else { Producer::pointers(owned, entries) };
    let n = match count {
        Count::Huge => i64::MAX,
        Count::Negative => -1,
        _ => claimed as i64,
    };
    (n, array)
}

impl Drop for Producer {
    fn drop(&mut self) {
        for &record in self.records.borrow().iter() {
            // SAFETY: from Box::into_raw in `record`, reclaimed once, after every release ran.
            let record = unsafe { Box::from_raw(record) };
            free_owned(&record);
        }
    }
}

/// Frees what `record`'s node owns (once; later calls find nothing).
fn free_owned(record: &Record) {
    for block in record.owned.borrow_mut().drain(..) {
        // SAFETY: every block came from posix_memalign and is freed once (drained).
        unsafe { libc::free(block) };
    }
}

/// Counts the call; the first one releases the kids that are not released yet, frees the node's
/// allocations and marks `raw` released.
///
/// # Safety
/// `private_data` is a live record of this producer; `release` is the kids' release field.
unsafe fn release_node<T>(private_data: *mut c_void, release: impl Fn(*mut T), mark: impl FnOnce()) {
    // SAFETY: per the caller.
    let record = unsafe { &*private_data.cast::<Record>() };
    record.releases.set(record.releases.get() + 1);
    if record.releases.get() > 1 {
        return; // check_releases reports it
    }
    for &kid in &record.kids {
        release(kid.cast());
    }
    free_owned(record);
    mark();
}

unsafe extern "C" fn release_schema(schema: *mut ArrowSchema) {
    // SAFETY: the consumer calls release with the struct the producer filled (or a moved copy of it).
    unsafe {
        release_node::<ArrowSchema>(
            (*schema).private_data,
            |kid| {
                if let Some(release) = (*kid).release {
                    release(kid);
                }
            },
            || (*schema).release = None,
        )
    }
}

unsafe extern "C" fn release_array(array: *mut ArrowArray) {
    // SAFETY: as `release_schema`.
    unsafe {
        release_node::<ArrowArray>(
            (*array).private_data,
            |kid| {
                if let Some(release) = (*kid).release {
                    release(kid);
                }
            },
            || (*array).release = None,
        )
    }
}
