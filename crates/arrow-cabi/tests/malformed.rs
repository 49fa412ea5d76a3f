//! Malformed foreign structs, built by hand from the raw `arrow_cabi_sys` structs: each import is an
//! `Err` whose message names the field path and the fault, never a panic, and the foreign release
//! callback runs exactly once (on the base struct only, never on a child).
#![allow(missing_docs)]

use std::cell::RefCell;
use std::ffi::{c_char, c_void, CStr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use arrow_cabi::array::{import_array_as, import_array_data};
use arrow_cabi::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use arrow_cabi::Validation;
use arrow_cabi_sys::{
    ArrowArray, ArrowSchema, ARROW_FLAG_DICTIONARY_ORDERED, ARROW_FLAG_MAP_KEYS_SORTED, ARROW_FLAG_NULLABLE,
};
use arrow_schema::{DataType, Field, Fields};

// ---------------------------------------------------------------------------------------------------
// A tiny foreign "producer": every allocation is kept by the arena (as raw pointers, freed on drop),
// and every node's release only counts its calls, so the test can see who released what.

/// How often the base struct's release and any inner (child or dictionary) release ran.
#[derive(Default)]
struct Counts {
    base: AtomicUsize,
    inner: AtomicUsize,
}

struct Arena {
    frees: RefCell<Vec<Box<dyn FnOnce()>>>,
    counts: *const Counts,
}

impl Arena {
    fn new() -> Self {
        let counts = Box::into_raw(Box::<Counts>::default());
        let arena = Arena { frees: RefCell::new(Vec::new()), counts };
        // SAFETY: from Box::into_raw just above, freed once by the arena's Drop.
        arena.on_drop(move || drop(unsafe { Box::from_raw(counts) }));
        arena
    }

    fn on_drop(&self, free: impl FnOnce() + 'static) {
        self.frees.borrow_mut().push(Box::new(free));
    }

    fn counts(&self) -> &Counts {
        // SAFETY: allocated in `new`, freed only when the arena drops.
        unsafe { &*self.counts }
    }

    fn base_releases(&self) -> usize {
        self.counts().base.load(Ordering::SeqCst)
    }

    fn inner_releases(&self) -> usize {
        self.counts().inner.load(Ordering::SeqCst)
    }

    /// A heap copy of `value` that lives as long as the arena.
    fn put<T: 'static>(&self, value: T) -> *mut T {
        let pointer = Box::into_raw(Box::new(value));
        // SAFETY: from Box::into_raw, freed once.
        self.on_drop(move || drop(unsafe { Box::from_raw(pointer) }));
        pointer
    }

    /// A heap slice that lives as long as the arena; a pointer to its first element.
    fn slice<T: 'static>(&self, values: Vec<T>) -> *mut T {
        let pointer = Box::into_raw(values.into_boxed_slice());
        // SAFETY: from Box::into_raw, freed once.
        self.on_drop(move || drop(unsafe { Box::from_raw(pointer) }));
        pointer.cast()
    }

    /// A data buffer holding `values`, aligned for `T`.
    fn data<T: Copy + 'static>(&self, values: &[T]) -> *const c_void {
        self.slice(values.to_vec()).cast_const().cast()
    }

    fn inner_counter(&self) -> *mut c_void {
        (&self.counts().inner as *const AtomicUsize).cast_mut().cast()
    }

    fn base_counter(&self) -> *mut c_void {
        (&self.counts().base as *const AtomicUsize).cast_mut().cast()
    }

    /// A schema node (counted as inner until made the root) with the given format and children.
    fn schema(&self, format: *const c_char, children: Vec<ArrowSchema>) -> ArrowSchema {
        let n_children = children.len() as i64;
        let pointers: Vec<*mut ArrowSchema> = children.into_iter().map(|child| self.put(child)).collect();
        ArrowSchema {
            format,
            name: c"f".as_ptr(),
            n_children,
            children: if n_children == 0 { std::ptr::null_mut() } else { self.slice(pointers) },
            release: Some(count_schema_release),
            private_data: self.inner_counter(),
            ..ArrowSchema::EMPTY
        }
    }

    fn leaf(&self, format: &'static CStr) -> ArrowSchema {
        self.schema(format.as_ptr(), Vec::new())
    }

    /// Makes `raw` the base struct (counted as such) and wraps it as an owned schema.
    fn root_schema(&self, mut raw: ArrowSchema) -> FFI_ArrowSchema {
        if raw.release.is_some() {
            raw.private_data = self.base_counter();
        }
        // SAFETY: every pointer of `raw` points into the arena, which outlives the returned owner
        // (declared first in each test); strings are static and NUL-terminated.
        unsafe { FFI_ArrowSchema::from_sys(raw) }
    }

    /// An array node (counted as inner until made the root).
    fn array(
        &self,
        length: i64,
        null_count: i64,
        buffers: Vec<*const c_void>,
        children: Vec<ArrowArray>,
    ) -> ArrowArray {
        let n_buffers = buffers.len() as i64;
        let n_children = children.len() as i64;
        let pointers: Vec<*mut ArrowArray> = children.into_iter().map(|child| self.put(child)).collect();
        ArrowArray {
            length,
            null_count,
            offset: 0,
            n_buffers,
            n_children,
            buffers: if n_buffers == 0 { std::ptr::null_mut() } else { self.slice(buffers) },
            children: if n_children == 0 { std::ptr::null_mut() } else { self.slice(pointers) },
            dictionary: std::ptr::null_mut(),
            release: Some(count_array_release),
            private_data: self.inner_counter(),
        }
    }

    /// A valid int32 array node with no nulls.
    fn int32s(&self, values: &[i32]) -> ArrowArray {
        self.array(values.len() as i64, 0, vec![std::ptr::null(), self.data(values)], Vec::new())
    }

    /// A valid utf8 array node with no nulls, from offsets and bytes.
    fn utf8(&self, offsets: &[i32], bytes: &[u8]) -> ArrowArray {
        let length = offsets.len() as i64 - 1;
        self.array(length, 0, vec![std::ptr::null(), self.data(offsets), self.data(bytes)], Vec::new())
    }

    fn root_array(&self, mut raw: ArrowArray) -> FFI_ArrowArray {
        if raw.release.is_some() {
            raw.private_data = self.base_counter();
        }
        // SAFETY: as for `root_schema`; every buffer holds what its length says or the test expects
        // the import to refuse it before reading past what is there.
        unsafe { FFI_ArrowArray::from_sys(raw) }
    }
}

impl Drop for Arena {
    fn drop(&mut self) {
        for free in self.frees.get_mut().drain(..).rev() {
            free();
        }
    }
}

/// Counts the call in the counter `private_data` points at, and marks the struct released.
unsafe extern "C" fn count_schema_release(schema: *mut ArrowSchema) {
    // SAFETY: called on a struct built by `Arena::schema`, whose private_data is an arena counter.
    unsafe {
        (*(*schema).private_data.cast::<AtomicUsize>()).fetch_add(1, Ordering::SeqCst);
        (*schema).release = None;
    }
}

unsafe extern "C" fn count_array_release(array: *mut ArrowArray) {
    // SAFETY: as `count_schema_release`.
    unsafe {
        (*(*array).private_data.cast::<AtomicUsize>()).fetch_add(1, Ordering::SeqCst);
        (*array).release = None;
    }
}

fn assert_mentions(message: &str, needles: &[&str]) {
    for needle in needles {
        assert!(message.contains(needle), "error {message:?} should mention {needle:?}");
    }
}

/// Imports `raw` as the root schema; checks the error names `needles` and that dropping the owner
/// released the base struct once and no inner struct.
fn schema_fails(arena: &Arena, raw: ArrowSchema, needles: &[&str]) -> String {
    let was_released = raw.release.is_none();
    let schema = arena.root_schema(raw);
    let message = match Field::try_from(&schema) {
        Ok(field) => panic!("expected an error mentioning {needles:?}, imported {field:?}"),
        Err(error) => error.to_string(),
    };
    assert_mentions(&message, needles);
    assert_eq!(arena.base_releases(), 0, "import borrows the schema and must not release it");
    drop(schema);
    assert_eq!(arena.base_releases(), usize::from(!was_released), "the owner releases the base once");
    assert_eq!(arena.inner_releases(), 0, "a consumer never calls a child's release");
    message
}

/// Imports `raw` as the root array of `data_type` at `validation`, both as `ArrayData` (arrow-rs's
/// `from_ffi` output) and as a typed array; checks each error names `needles` (the two the same),
/// and that each import consumed the array: its base release ran exactly once per import, no inner
/// release ran.
fn array_fails(arena: &Arena, raw: ArrowArray, data_type: &DataType, validation: Validation, needles: &[&str]) -> String {
    let was_released = raw.release.is_none();
    // SAFETY: a bitwise copy of the arena's struct, whose release only counts: each import may
    // release its copy, and the arena frees the memory once, on drop.
    let copy = unsafe { std::ptr::read(&raw) };
    let message = match import_array_data(arena.root_array(raw), data_type, validation) {
        Ok(data) => panic!("expected an error mentioning {needles:?}, imported {data:?}"),
        Err(error) => error.to_string(),
    };
    assert_mentions(&message, needles);
    assert_eq!(arena.base_releases(), usize::from(!was_released), "the failed import releases the base once");
    let typed = match import_array_as(arena.root_array(copy), data_type, validation) {
        Ok(array) => panic!("the typed import accepted what the ArrayData import refused: {array:?}"),
        Err(error) => error.to_string(),
    };
    assert_eq!(typed, message, "both outputs refuse alike");
    assert_eq!(arena.base_releases(), 2 * usize::from(!was_released), "the failed import releases the base once");
    assert_eq!(arena.inner_releases(), 0, "a consumer never calls a child's release");
    message
}

fn int32_list() -> DataType {
    DataType::List(Arc::new(Field::new("item", DataType::Int32, true)))
}

// ---------------------------------------------------------------------------------------------------
// Schemas

#[test]
fn null_format() {
    let arena = Arena::new();
    let raw = arena.schema(std::ptr::null(), Vec::new());
    schema_fails(&arena, raw, &["schema.format", "NULL", "mandatory"]);
}

#[test]
fn unknown_format() {
    let arena = Arena::new();
    let raw = arena.leaf(c"q");
    schema_fails(&arena, raw, &["schema.format", "unknown format string 'q'"]);
}

#[test]
fn truncated_decimal_format() {
    let arena = Arena::new();
    let raw = arena.leaf(c"d:10");
    schema_fails(&arena, raw, &["schema.format", "'d:10'", "d:precision,scale"]);
}

#[test]
fn truncated_fixed_size_binary_format() {
    let arena = Arena::new();
    let raw = arena.leaf(c"w:");
    schema_fails(&arena, raw, &["schema.format", "'w:'", "width"]);
}

#[test]
fn truncated_fixed_size_list_format() {
    let arena = Arena::new();
    let child = arena.leaf(c"i");
    let raw = arena.schema(c"+w:".as_ptr(), vec![child]);
    schema_fails(&arena, raw, &["schema.format", "'+w:'", "width"]);
}

#[test]
fn bad_format_deep_in_the_tree_names_the_whole_path() {
    let arena = Arena::new();
    let mut third = arena.leaf(c"i");
    third.dictionary = arena.put(arena.leaf(c"q"));
    let raw = arena.schema(c"+s".as_ptr(), vec![arena.leaf(c"i"), arena.leaf(c"u"), third]);
    schema_fails(&arena, raw, &["schema.children[2].dictionary.format: unknown format string 'q'"]);
}

#[test]
fn released_schema() {
    let arena = Arena::new();
    let raw = ArrowSchema { format: c"i".as_ptr(), ..ArrowSchema::EMPTY };
    schema_fails(&arena, raw, &["schema", "released"]);
}

#[test]
fn released_child_schema() {
    let arena = Arena::new();
    let child = ArrowSchema { format: c"i".as_ptr(), ..ArrowSchema::EMPTY };
    let raw = arena.schema(c"+l".as_ptr(), vec![child]);
    schema_fails(&arena, raw, &["schema.children[0]", "released"]);
}

#[test]
fn schema_with_too_few_children() {
    let arena = Arena::new();
    let raw = arena.schema(c"+l".as_ptr(), Vec::new());
    schema_fails(&arena, raw, &["schema.n_children", "0 children", "needs 1"]);
}

#[test]
fn leaf_schema_with_a_child() {
    let arena = Arena::new();
    let raw = arena.schema(c"i".as_ptr(), vec![arena.leaf(c"i")]);
    schema_fails(&arena, raw, &["schema.n_children", "1 children", "needs 0"]);
}

#[test]
fn run_end_encoded_schema_with_one_child() {
    let arena = Arena::new();
    let raw = arena.schema(c"+r".as_ptr(), vec![arena.leaf(c"i")]);
    schema_fails(&arena, raw, &["schema.n_children", "needs 2"]);
}

/// A node of `format` whose children array holds `held` valid leaf pointers (NULL for none) but whose
/// `n_children` claims `claimed`: refused for the count its format decides before any child pointer
/// is read, so that nothing past the `held` pointers is touched (Miri checks that, on this file).
fn claims_more_children_than_it_holds(format: &'static CStr, held: usize, claimed: i64, needles: &[&str]) {
    let arena = Arena::new();
    let mut raw = arena.schema(format.as_ptr(), (0..held).map(|_| arena.leaf(c"i")).collect());
    raw.n_children = claimed;
    schema_fails(&arena, raw, needles);
}

#[test]
fn leaf_schema_claiming_children_it_does_not_hold() {
    claims_more_children_than_it_holds(c"i", 0, 3, &["schema.n_children", "3 children", "needs 0"]);
    claims_more_children_than_it_holds(c"i", 1, 3, &["schema.n_children", "3 children", "needs 0"]);
}

#[test]
fn nested_schemas_claiming_more_children_than_their_format_has() {
    claims_more_children_than_it_holds(c"+l", 1, 2, &["schema.n_children", "2 children", "needs 1"]);
    claims_more_children_than_it_holds(c"+w:4", 1, 2, &["schema.n_children", "2 children", "needs 1"]);
    claims_more_children_than_it_holds(c"+r", 2, 3, &["schema.n_children", "3 children", "needs 2"]);
    claims_more_children_than_it_holds(c"+us:0", 1, 2, &["schema.n_children", "2 children", "1 type ids"]);
    claims_more_children_than_it_holds(c"+ud:0,1", 2, 5, &["schema.n_children", "5 children", "2 type ids"]);
}

#[test]
fn map_schema_claiming_more_children_names_the_count_not_the_entries() {
    let arena = Arena::new();
    let entries = arena.schema(c"+s".as_ptr(), vec![arena.leaf(c"u"), arena.leaf(c"i")]);
    let mut raw = arena.schema(c"+m".as_ptr(), vec![entries]);
    raw.n_children = 2;
    schema_fails(&arena, raw, &["schema.n_children", "2 children", "needs 1"]);
}

#[test]
fn negative_schema_n_children() {
    let arena = Arena::new();
    let mut raw = arena.leaf(c"+s");
    raw.n_children = -1;
    schema_fails(&arena, raw, &["schema.n_children", "negative"]);
}

#[test]
fn null_children_array_in_schema() {
    let arena = Arena::new();
    let mut raw = arena.leaf(c"+s");
    raw.n_children = 2;
    schema_fails(&arena, raw, &["schema.children", "NULL", "n_children is 2"]);
}

#[test]
fn null_child_pointer_in_schema() {
    let arena = Arena::new();
    let raw = arena.schema(c"+s".as_ptr(), vec![arena.leaf(c"i"), arena.leaf(c"i")]);
    // SAFETY: `children` holds two pointers into the arena.
    unsafe { *raw.children.add(1) = std::ptr::null_mut() };
    schema_fails(&arena, raw, &["schema.children[1]", "NULL child pointer"]);
}

#[test]
fn non_utf8_name() {
    let arena = Arena::new();
    let mut raw = arena.leaf(c"i");
    raw.name = c"caf\xe9".as_ptr();
    schema_fails(&arena, raw, &["schema.name", "not UTF-8"]);
}

#[test]
fn non_utf8_child_name() {
    let arena = Arena::new();
    let mut child = arena.leaf(c"i");
    child.name = c"\xff\xfe".as_ptr();
    let raw = arena.schema(c"+s".as_ptr(), vec![arena.leaf(c"i"), child]);
    schema_fails(&arena, raw, &["schema.children[1].name", "not UTF-8"]);
}

/// One key/value pair with the given raw bytes and lengths.
fn metadata_blob(key: &[u8], key_len: i32, value: &[u8], value_len: i32) -> Vec<u8> {
    let mut blob = 1i32.to_ne_bytes().to_vec();
    blob.extend_from_slice(&key_len.to_ne_bytes());
    blob.extend_from_slice(key);
    blob.extend_from_slice(&value_len.to_ne_bytes());
    blob.extend_from_slice(value);
    blob
}

#[test]
fn non_utf8_metadata_value() {
    let arena = Arena::new();
    let mut raw = arena.leaf(c"i");
    raw.metadata = arena.slice(metadata_blob(b"key", 3, b"\xff\xfe", 2)).cast_const().cast();
    schema_fails(&arena, raw, &["schema.metadata", "pair 0 value", "not UTF-8"]);
}

#[test]
fn non_utf8_metadata_key() {
    let arena = Arena::new();
    let mut raw = arena.leaf(c"i");
    raw.metadata = arena.slice(metadata_blob(b"\xc3", 1, b"v", 1)).cast_const().cast();
    schema_fails(&arena, raw, &["schema.metadata", "pair 0 key", "not UTF-8"]);
}

#[test]
fn metadata_with_negative_length() {
    let arena = Arena::new();
    let mut raw = arena.leaf(c"i");
    // The key claims -5 bytes: the blob is truncated, nothing after the length is read.
    let mut blob = 1i32.to_ne_bytes().to_vec();
    blob.extend_from_slice(&(-5i32).to_ne_bytes());
    raw.metadata = arena.slice(blob).cast_const().cast();
    schema_fails(&arena, raw, &["schema.metadata", "pair 0 key", "negative length -5"]);
}

#[test]
fn metadata_with_negative_pair_count() {
    let arena = Arena::new();
    let mut raw = arena.leaf(c"i");
    raw.metadata = arena.slice((-1i32).to_ne_bytes().to_vec()).cast_const().cast();
    schema_fails(&arena, raw, &["schema.metadata", "pair count", "negative length -1"]);
}

#[test]
fn union_type_ids_do_not_match_children() {
    let arena = Arena::new();
    let raw = arena.schema(c"+us:0,1".as_ptr(), vec![arena.leaf(c"i")]);
    schema_fails(&arena, raw, &["schema.n_children", "1 children", "2 type ids"]);
    let arena = Arena::new();
    let raw = arena.schema(c"+ud:5".as_ptr(), vec![arena.leaf(c"i"), arena.leaf(c"u")]);
    schema_fails(&arena, raw, &["schema.n_children", "2 children", "1 type ids"]);
}

#[test]
fn union_with_repeated_type_ids() {
    let arena = Arena::new();
    let raw = arena.schema(c"+us:3,3".as_ptr(), vec![arena.leaf(c"i"), arena.leaf(c"u")]);
    schema_fails(&arena, raw, &["schema.format", "appears twice"]);
}

#[test]
fn dictionary_index_that_is_not_an_integer() {
    let arena = Arena::new();
    let mut raw = arena.leaf(c"u");
    raw.dictionary = arena.put(arena.leaf(c"u"));
    schema_fails(&arena, raw, &["schema.format", "integer", "Utf8"]);
}

/// `depth` nodes: `depth - 1` lists around an int32 leaf.
fn list_chain(arena: &Arena, depth: usize) -> ArrowSchema {
    let mut node = arena.leaf(c"i");
    for _ in 1..depth {
        node = arena.schema(c"+l".as_ptr(), vec![node]);
    }
    node
}

#[test]
fn nesting_deeper_than_64_levels() {
    let arena = Arena::new();
    let raw = list_chain(&arena, 70);
    let message = schema_fails(&arena, raw, &["nesting deeper than 64 levels"]);
    let path = format!("schema{}:", ".children[0]".repeat(64));
    assert!(message.contains(&path), "{message} should name {path}");
}

#[test]
fn nesting_of_exactly_64_levels_is_accepted() {
    let arena = Arena::new();
    let schema = arena.root_schema(list_chain(&arena, 64));
    let mut data_type = Field::try_from(&schema).unwrap().data_type().clone();
    let mut depth = 1;
    while let DataType::List(child) = data_type {
        data_type = child.data_type().clone();
        depth += 1;
    }
    assert_eq!((depth, data_type), (64, DataType::Int32));
    drop(schema);
    assert_eq!((arena.base_releases(), arena.inner_releases()), (1, 0));
}

#[test]
fn child_pointing_back_at_its_parent() {
    let arena = Arena::new();
    // root (+s) -> child (+l) -> the child again
    let child = arena.put(arena.schema(c"+l".as_ptr(), vec![arena.leaf(c"i")]));
    // SAFETY: `child` and its one-entry children array are arena allocations.
    unsafe { *(*child).children = child };
    let mut raw = arena.leaf(c"+s");
    raw.n_children = 1;
    raw.children = arena.slice(vec![child]);
    schema_fails(&arena, raw, &["schema.children[0].children[0]", "cycle"]);
}

#[test]
fn child_pointing_back_at_the_root() {
    let arena = Arena::new();
    let children = arena.slice(vec![std::ptr::null_mut::<ArrowSchema>()]);
    let mut raw = arena.leaf(c"+l");
    raw.n_children = 1;
    raw.children = children;
    let mut schema = arena.root_schema(raw);
    // SAFETY: `children` has one entry; the owner is not moved while the pointer is used.
    unsafe { *children = schema.as_mut_ptr() };
    let message = Field::try_from(&schema).unwrap_err().to_string();
    assert_mentions(&message, &["schema.children[0]", "cycle"]);
    drop(schema);
    assert_eq!((arena.base_releases(), arena.inner_releases()), (1, 0));
}

#[test]
fn unknown_flag_bits() {
    let arena = Arena::new();
    let mut raw = arena.leaf(c"i");
    raw.flags = ARROW_FLAG_NULLABLE | 8;
    schema_fails(&arena, raw, &["schema.flags", "unknown flag bits", "0xa"]);
}

#[test]
fn map_keys_sorted_on_a_non_map() {
    let arena = Arena::new();
    let mut raw = arena.leaf(c"i");
    raw.flags = ARROW_FLAG_MAP_KEYS_SORTED;
    schema_fails(&arena, raw, &["schema.flags", "MAP_KEYS_SORTED", "not a map"]);
}

#[test]
fn dictionary_ordered_on_a_non_dictionary() {
    let arena = Arena::new();
    let mut child = arena.leaf(c"u");
    child.flags = ARROW_FLAG_DICTIONARY_ORDERED;
    let raw = arena.schema(c"+l".as_ptr(), vec![child]);
    schema_fails(&arena, raw, &["schema.children[0].flags", "DICTIONARY_ORDERED", "not a dictionary"]);
}

#[test]
fn map_whose_entries_are_not_a_key_value_struct() {
    let arena = Arena::new();
    let raw = arena.schema(c"+m".as_ptr(), vec![arena.leaf(c"i")]);
    schema_fails(&arena, raw, &["schema.children[0]", "entries", "Int32"]);
}

#[test]
fn run_ends_that_are_not_integers() {
    let arena = Arena::new();
    let raw = arena.schema(c"+r".as_ptr(), vec![arena.leaf(c"f"), arena.leaf(c"u")]);
    schema_fails(&arena, raw, &["schema.children[0]", "run ends", "Float32"]);
}

#[test]
fn schema_import_requires_a_struct() {
    let arena = Arena::new();
    let schema = arena.root_schema(arena.leaf(c"i"));
    let message = arrow_schema::Schema::try_from(&schema).unwrap_err().to_string();
    assert_mentions(&message, &["schema.format", "struct"]);
}

// ---------------------------------------------------------------------------------------------------
// Arrays

#[test]
fn released_array() {
    let arena = Arena::new();
    let mut raw = arena.int32s(&[1, 2]);
    raw.release = None;
    array_fails(&arena, raw, &DataType::Int32, Validation::Default, &["array", "released"]);
}

#[test]
fn released_child_array() {
    let arena = Arena::new();
    let mut child = arena.int32s(&[1, 2]);
    child.release = None;
    let offsets = arena.data(&[0i32, 2]);
    let raw = arena.array(1, 0, vec![std::ptr::null(), offsets], vec![child]);
    array_fails(&arena, raw, &int32_list(), Validation::Default, &["array.children[0]", "released"]);
}

#[test]
fn wrong_n_buffers() {
    let arena = Arena::new();
    let mut raw = arena.int32s(&[1, 2]);
    raw.n_buffers = 3;
    array_fails(&arena, raw, &DataType::Int32, Validation::Default, &["array.n_buffers", "3", "needs 2"]);

    let arena = Arena::new();
    let mut raw = arena.utf8(&[0, 1], b"a");
    raw.n_buffers = 2;
    array_fails(&arena, raw, &DataType::Utf8, Validation::Default, &["array.n_buffers", "2", "needs 3"]);
}

#[test]
fn negative_n_buffers() {
    let arena = Arena::new();
    let mut raw = arena.int32s(&[1]);
    raw.n_buffers = -2;
    array_fails(&arena, raw, &DataType::Int32, Validation::Default, &["array.n_buffers", "negative"]);
}

/// A valid utf8 view array of one inline value and no data buffers: validity, views, sizes.
fn utf8_view(arena: &Arena) -> ArrowArray {
    // An inline view: length 1, then the bytes.
    let view = 1u128 | (u128::from(b'a') << 32);
    arena.array(1, 0, vec![std::ptr::null(), arena.data(&[view]), arena.data::<i64>(&[])], Vec::new())
}

#[test]
fn a_valid_view_array_is_accepted() {
    let arena = Arena::new();
    let data = import_array_data(arena.root_array(utf8_view(&arena)), &DataType::Utf8View, Validation::Full).unwrap();
    let array = arrow_array::StringViewArray::from(data);
    assert_eq!(array.value(0), "a");
}

#[test]
fn view_n_buffers_past_what_any_producer_holds() {
    // Refused before the count sizes anything or any pointer past the three held is read (this
    // file runs under Miri): arrow-rs counts a view's data buffers in u32s.
    for n_buffers in [i64::MAX, i64::from(i32::MAX) + 1, 1 << 40] {
        let arena = Arena::new();
        let mut raw = utf8_view(&arena);
        raw.n_buffers = n_buffers;
        let count = n_buffers.to_string();
        array_fails(&arena, raw, &DataType::Utf8View, Validation::Full, &["array.n_buffers", &count, "at most 2147483647"]);
    }
}

#[test]
fn view_n_buffers_without_the_sizes_buffer_or_negative() {
    for n_buffers in [2, 1, 0] {
        let arena = Arena::new();
        let mut raw = utf8_view(&arena);
        raw.n_buffers = n_buffers;
        let count = format!("{n_buffers}, but");
        array_fails(&arena, raw, &DataType::BinaryView, Validation::Default, &["array.n_buffers", &count, "needs at least 3"]);
    }
    for n_buffers in [-1, i64::MIN] {
        let arena = Arena::new();
        let mut raw = utf8_view(&arena);
        raw.n_buffers = n_buffers;
        array_fails(&arena, raw, &DataType::Utf8View, Validation::Default, &["array.n_buffers", "negative"]);
    }
}

#[test]
fn null_buffers_array() {
    let arena = Arena::new();
    let mut raw = arena.int32s(&[1]);
    raw.buffers = std::ptr::null_mut();
    array_fails(&arena, raw, &DataType::Int32, Validation::Default, &["array.buffers", "NULL", "n_buffers is 2"]);
}

#[test]
fn wrong_n_children() {
    let arena = Arena::new();
    let offsets = arena.data(&[0i32, 1]);
    let raw = arena.array(1, 0, vec![std::ptr::null(), offsets], vec![arena.int32s(&[1]), arena.int32s(&[2])]);
    array_fails(&arena, raw, &int32_list(), Validation::Default, &["array.n_children", "2", "needs 1"]);

    let arena = Arena::new();
    let fields = Fields::from(vec![Field::new("a", DataType::Int32, true), Field::new("b", DataType::Int32, true)]);
    let raw = arena.array(1, 0, vec![std::ptr::null()], vec![arena.int32s(&[1])]);
    array_fails(&arena, raw, &DataType::Struct(fields), Validation::Default, &["array.n_children", "1", "needs 2"]);

    let arena = Arena::new();
    let mut raw = arena.int32s(&[1]);
    raw.n_children = 1;
    array_fails(&arena, raw, &DataType::Int32, Validation::Default, &["array.n_children", "needs 0"]);
}

#[test]
fn null_children_array() {
    let arena = Arena::new();
    let offsets = arena.data(&[0i32, 0]);
    let mut raw = arena.array(1, 0, vec![std::ptr::null(), offsets], Vec::new());
    raw.n_children = 1;
    array_fails(&arena, raw, &int32_list(), Validation::Default, &["array.children", "NULL", "n_children is 1"]);
}

#[test]
fn null_utf8_values_with_nonzero_length() {
    let arena = Arena::new();
    let offsets = arena.data(&[0i32, 3]);
    let raw = arena.array(1, 0, vec![std::ptr::null(), offsets, std::ptr::null()], Vec::new());
    array_fails(&arena, raw, &DataType::Utf8, Validation::Default, &["array.buffers[2]", "NULL", "3 bytes"]);
}

#[test]
fn null_utf8_offsets_with_nonzero_length() {
    let arena = Arena::new();
    let values = arena.data(b"abc");
    let raw = arena.array(1, 0, vec![std::ptr::null(), std::ptr::null(), values], Vec::new());
    array_fails(&arena, raw, &DataType::Utf8, Validation::Default, &["array.buffers[1]", "NULL", "8 bytes"]);
}

#[test]
fn null_int32_data() {
    let arena = Arena::new();
    let raw = arena.array(3, 0, vec![std::ptr::null(), std::ptr::null()], Vec::new());
    array_fails(&arena, raw, &DataType::Int32, Validation::Default, &["array.buffers[1]", "NULL", "12 bytes"]);
}

#[test]
fn null_data_in_a_struct_child_names_the_child() {
    let arena = Arena::new();
    let fields = Fields::from(vec![Field::new("a", DataType::Int32, true), Field::new("b", DataType::Int32, true)]);
    let bad = arena.array(2, 0, vec![std::ptr::null(), std::ptr::null()], Vec::new());
    let raw = arena.array(2, 0, vec![std::ptr::null()], vec![arena.int32s(&[1, 2]), bad]);
    array_fails(&arena, raw, &DataType::Struct(fields), Validation::Default, &["array.children[1].buffers[1]", "NULL"]);
}

#[test]
fn null_values_in_a_dictionary_names_the_dictionary() {
    let arena = Arena::new();
    let offsets = arena.data(&[0i32, 2]);
    let values = arena.array(1, 0, vec![std::ptr::null(), offsets, std::ptr::null()], Vec::new());
    let mut raw = arena.array(2, 0, vec![std::ptr::null(), arena.data(&[0i8, 0])], Vec::new());
    raw.dictionary = arena.put(values);
    let data_type = DataType::Dictionary(Box::new(DataType::Int8), Box::new(DataType::Utf8));
    array_fails(&arena, raw, &data_type, Validation::Default, &["array.dictionary.buffers[2]", "NULL"]);
}

#[test]
fn validity_null_with_nulls_counted() {
    let arena = Arena::new();
    let raw = arena.array(2, 1, vec![std::ptr::null(), arena.data(&[1i32, 2])], Vec::new());
    array_fails(&arena, raw, &DataType::Int32, Validation::Default, &["array.buffers[0]", "NULL validity", "null_count is 1"]);
}

#[test]
fn negative_length() {
    let arena = Arena::new();
    let mut raw = arena.int32s(&[1]);
    raw.length = -1;
    array_fails(&arena, raw, &DataType::Int32, Validation::Default, &["array.length", "negative: -1"]);
}

#[test]
fn negative_offset() {
    let arena = Arena::new();
    let mut raw = arena.int32s(&[1]);
    raw.offset = -3;
    array_fails(&arena, raw, &DataType::Int32, Validation::Default, &["array.offset", "negative: -3"]);
}

#[test]
fn offset_plus_length_overflows() {
    let arena = Arena::new();
    let mut raw = arena.int32s(&[1]);
    raw.offset = i64::MAX;
    array_fails(&arena, raw, &DataType::Int32, Validation::Default, &["array", "overflows"]);
}

#[test]
fn null_count_below_minus_one() {
    let arena = Arena::new();
    let mut raw = arena.int32s(&[1]);
    raw.null_count = -2;
    array_fails(&arena, raw, &DataType::Int32, Validation::Default, &["array.null_count", "negative: -2"]);
}

#[test]
fn null_count_above_length() {
    let arena = Arena::new();
    let bitmap = arena.data(&[0u8]);
    let raw = arena.array(2, 3, vec![bitmap, arena.data(&[1i32, 2])], Vec::new());
    array_fails(&arena, raw, &DataType::Int32, Validation::Default, &["array.null_count", "3 nulls in 2 elements"]);
}

#[test]
fn union_with_nulls_counted() {
    let arena = Arena::new();
    let fields = arrow_schema::UnionFields::try_new(vec![0], vec![Field::new("a", DataType::Int32, true)]).unwrap();
    let raw = arena.array(1, 1, vec![arena.data(&[0i8])], vec![arena.int32s(&[7])]);
    let data_type = DataType::Union(fields, arrow_schema::UnionMode::Sparse);
    array_fails(&arena, raw, &data_type, Validation::Default, &["array.null_count", "union"]);
}

#[test]
fn dictionary_pointer_on_a_non_dictionary_array() {
    let arena = Arena::new();
    let mut raw = arena.int32s(&[1, 2]);
    raw.dictionary = arena.put(arena.int32s(&[3]));
    array_fails(&arena, raw, &DataType::Int32, Validation::Default, &["array.dictionary", "not a dictionary"]);
}

#[test]
fn missing_dictionary_on_a_dictionary_array() {
    let arena = Arena::new();
    let raw = arena.array(1, 0, vec![std::ptr::null(), arena.data(&[0i16])], Vec::new());
    let data_type = DataType::Dictionary(Box::new(DataType::Int16), Box::new(DataType::Utf8));
    array_fails(&arena, raw, &data_type, Validation::Default, &["array.dictionary", "NULL"]);
}

#[test]
fn null_child_pointer_in_array() {
    let arena = Arena::new();
    let fields = Fields::from(vec![Field::new("a", DataType::Int32, true), Field::new("b", DataType::Int32, true)]);
    let raw = arena.array(1, 0, vec![std::ptr::null()], vec![arena.int32s(&[1]), arena.int32s(&[2])]);
    // SAFETY: `children` holds two arena pointers.
    unsafe { *raw.children.add(1) = std::ptr::null_mut() };
    array_fails(&arena, raw, &DataType::Struct(fields), Validation::Default, &["array.children[1]", "NULL child pointer"]);
}

#[test]
fn negative_last_offset() {
    for validation in [Validation::Minimal, Validation::Default, Validation::Full] {
        let arena = Arena::new();
        let raw = arena.utf8(&[0, -3], b"abc");
        array_fails(&arena, raw, &DataType::Utf8, validation, &["array.buffers[1]", "negative last offset -3"]);
    }
    let arena = Arena::new();
    let offsets = arena.data(&[0i64, 2, -1]);
    let raw = arena.array(2, 0, vec![std::ptr::null(), offsets], vec![arena.int32s(&[1, 2])]);
    let data_type = DataType::LargeList(Arc::new(Field::new("item", DataType::Int32, true)));
    array_fails(&arena, raw, &data_type, Validation::Default, &["array.buffers[1]", "negative last offset -1"]);
}

#[test]
fn first_offset_past_the_last_offset() {
    // Default checks the first and last offset and names the offsets buffer.
    let arena = Arena::new();
    let raw = arena.utf8(&[5, 2], b"abcdefgh");
    array_fails(&arena, raw, &DataType::Utf8, Validation::Default, &["array.buffers[1]", "first offset 5", "last offset 2"]);

    // Minimal checks it too: arrow-rs's byte arrays rely on it to stay within the values.
    let arena = Arena::new();
    let raw = arena.utf8(&[5, 2], b"abcdefgh");
    array_fails(&arena, raw, &DataType::Utf8, Validation::Minimal, &["array.buffers[1]", "first offset 5"]);
}

#[test]
fn first_offset_past_the_last_offset_in_a_slice_that_stays_in_bounds() {
    // A sliced list whose own window has first > last, while every offset is within the child.
    let arena = Arena::new();
    let offsets = arena.data(&[0i32, 3, 1]);
    let mut raw = arena.array(1, 0, vec![std::ptr::null(), offsets], vec![arena.int32s(&[1, 2, 3])]);
    raw.offset = 1;
    array_fails(&arena, raw, &int32_list(), Validation::Default, &["array.buffers[1]", "first offset 3", "last offset 1"]);
}

#[test]
fn nesting_deeper_than_64_levels_in_an_array() {
    let arena = Arena::new();
    let mut data_type = DataType::Int32;
    let mut node = arena.array(0, 0, vec![std::ptr::null(), std::ptr::null()], Vec::new());
    for _ in 1..70 {
        data_type = DataType::List(Arc::new(Field::new("item", data_type, true)));
        node = arena.array(0, 0, vec![std::ptr::null(), std::ptr::null()], vec![node]);
    }
    let message = array_fails(&arena, node, &data_type, Validation::Default, &["nesting deeper than 64 levels"]);
    assert!(message.starts_with(&format!("array{}:", ".children[0]".repeat(65))), "{message}");
}

#[test]
fn errors_through_the_arrow_rs_names_keep_the_path() {
    let arena = Arena::new();
    let raw = arena.array(3, 0, vec![std::ptr::null(), std::ptr::null()], Vec::new());
    let array = arena.root_array(raw);
    let schema = FFI_ArrowSchema::try_from(&DataType::Int32).unwrap();
    // SAFETY: both structs follow the interface as far as the import reads them.
    let error = unsafe { arrow_cabi::ffi::from_ffi(array, &schema) }.unwrap_err();
    assert!(matches!(error, arrow_schema::ArrowError::CDataInterface(_)), "{error:?}");
    assert_mentions(&error.to_string(), &["array.buffers[1]", "NULL"]);
    assert_eq!((arena.base_releases(), arena.inner_releases()), (1, 0));
}

#[test]
fn a_valid_hand_built_array_is_accepted_and_released_once() {
    // The producer above is sound: the same structs, without the fault, import at every level.
    for validation in [Validation::Minimal, Validation::Default, Validation::Full] {
        let arena = Arena::new();
        let fields = Fields::from(vec![Field::new("s", DataType::Utf8, true), Field::new("l", int32_list(), true)]);
        let list = arena.array(2, 0, vec![std::ptr::null(), arena.data(&[0i32, 1, 3])], vec![arena.int32s(&[4, 5, 6])]);
        let raw = arena.array(2, 0, vec![std::ptr::null()], vec![arena.utf8(&[0, 1, 3], b"abc"), list]);
        let data = import_array_data(arena.root_array(raw), &DataType::Struct(fields), validation).unwrap();
        let array = arrow_array::make_array(data);
        assert_eq!(arena.base_releases(), 0, "buffers still alive");
        let strukt = array.as_any().downcast_ref::<arrow_array::StructArray>().unwrap();
        let strings = strukt.column(0).as_any().downcast_ref::<arrow_array::StringArray>().unwrap();
        assert_eq!(strings.value(1), "bc");
        drop(array);
        assert_eq!((arena.base_releases(), arena.inner_releases()), (1, 0));
    }
}

// ---------------------------------------------------------------------------------------------------
// Children too short for what their parent indexes (checked from Validation::Minimal up), and the
// null counts the Default level checks.

fn int32_field(name: &str, nullable: bool) -> Field {
    Field::new(name, DataType::Int32, nullable)
}

#[test]
fn list_offsets_past_the_end_of_the_child() {
    let arena = Arena::new();
    let offsets = arena.data(&[0i32, 2, 5]);
    let raw = arena.array(2, 0, vec![std::ptr::null(), offsets], vec![arena.int32s(&[1, 2, 3])]);
    array_fails(&arena, raw, &int32_list(), Validation::Minimal, &["array.children[0]", "3 elements", "offsets reach 5"]);
}

#[test]
fn struct_child_shorter_than_the_struct() {
    let arena = Arena::new();
    let raw = arena.array(3, 0, vec![std::ptr::null()], vec![arena.int32s(&[1, 2, 3]), arena.int32s(&[1])]);
    let data_type = DataType::Struct(vec![int32_field("a", true), int32_field("b", true)].into());
    array_fails(&arena, raw, &data_type, Validation::Minimal, &["array.children[1]", "1 elements", "spans 3"]);
}

#[test]
fn fixed_size_list_child_too_short() {
    let arena = Arena::new();
    let raw = arena.array(2, 0, vec![std::ptr::null()], vec![arena.int32s(&[1, 2, 3])]);
    let data_type = DataType::FixedSizeList(Arc::new(int32_field("item", true)), 2);
    array_fails(&arena, raw, &data_type, Validation::Minimal, &["array.children[0]", "3 elements", "2 lists of 2"]);
}

#[test]
fn run_ends_that_stop_before_the_end() {
    let arena = Arena::new();
    let raw = arena.array(5, 0, Vec::new(), vec![arena.int32s(&[2, 3]), arena.int32s(&[7, 8])]);
    let data_type = DataType::RunEndEncoded(
        Arc::new(int32_field("run_ends", false)),
        Arc::new(int32_field("values", true)),
    );
    array_fails(&arena, raw, &data_type, Validation::Minimal, &["array.children[0]", "last run ends at 3", "end 5"]);
}

#[test]
fn nulls_in_a_non_nullable_struct_field() {
    let arena = Arena::new();
    let validity = arena.data(&[0b101u8]);
    let child = arena.array(3, 1, vec![validity, arena.data(&[1i32, 2, 3])], Vec::new());
    let raw = arena.array(3, 0, vec![std::ptr::null()], vec![child]);
    let data_type = DataType::Struct(vec![int32_field("a", false)].into());
    array_fails(&arena, raw, &data_type, Validation::Default, &["array.children[0]", "1 nulls", "non-nullable"]);
}

#[test]
fn a_length_whose_byte_size_overflows() {
    let arena = Arena::new();
    let raw = arena.array(i64::MAX / 4, 0, vec![std::ptr::null(), arena.data(&[0i64])], Vec::new());
    array_fails(&arena, raw, &DataType::Int64, Validation::Minimal, &["array.buffers[1]", "overflow"]);
}
