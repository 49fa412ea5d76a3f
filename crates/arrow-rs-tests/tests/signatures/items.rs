// One line per public item of arrow-rs 60.1's `ffi` and `ffi_stream` (and of `arrow_schema::ffi`,
// `arrow_data::ffi`), written with arrow-rs's signature. Included twice by `signatures.rs`: once with
// the names imported from arrow-cabi, once from arrow-rs; the lines are the same bytes.

use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_void};

use arrow_array::{ArrayReader, RecordBatch, RecordBatchReader};
use arrow_data::ArrayData;
use arrow_schema::{ArrowError, DataType, Field, FieldRef, Schema};

type Result<T> = std::result::Result<T, ArrowError>;

fn send<T: Send>() {}
fn sync<T: Sync>() {}
fn debug<T: std::fmt::Debug>() {}
#[allow(drop_bounds)] // the item is the `impl Drop` itself
fn drops<T: Drop>() {}
fn imports<T: for<'a> TryFrom<&'a FFI_ArrowSchema, Error = ArrowError>>() {}
fn exports<T>()
where
    FFI_ArrowSchema: TryFrom<T, Error = ArrowError>,
{
}

#[test]
#[allow(deprecated, clippy::type_complexity)] // the alias is an item; the types are arrow-rs's, spelled out
fn every_public_item_compiles_with_arrow_rs_signature() {
    // ffi::Flags
    let _: Flags = Flags::DICTIONARY_ORDERED | Flags::NULLABLE | Flags::MAP_KEYS_SORTED;
    let _: fn(&Flags) -> i64 = Flags::bits;
    let _: fn(i64) -> Option<Flags> = Flags::from_bits;

    // ffi::FFI_ArrowSchema
    let _: fn(&str, Vec<FFI_ArrowSchema>, Option<FFI_ArrowSchema>) -> Result<FFI_ArrowSchema> = FFI_ArrowSchema::try_new;
    let _: fn(FFI_ArrowSchema, &str) -> Result<FFI_ArrowSchema> = FFI_ArrowSchema::with_name;
    let _: fn(FFI_ArrowSchema, Flags) -> Result<FFI_ArrowSchema> = FFI_ArrowSchema::with_flags;
    let _: unsafe fn(FFI_ArrowSchema, Vec<(String, String)>) -> Result<FFI_ArrowSchema> = FFI_ArrowSchema::with_metadata::<Vec<(String, String)>, String>;
    let _: unsafe fn(*mut FFI_ArrowSchema) -> FFI_ArrowSchema = FFI_ArrowSchema::from_raw;
    let _: fn() -> FFI_ArrowSchema = FFI_ArrowSchema::empty;
    let _: fn(&FFI_ArrowSchema) -> Option<unsafe extern "C" fn(arg1: *mut FFI_ArrowSchema)> = FFI_ArrowSchema::release;
    let _: fn(&FFI_ArrowSchema) -> *mut c_void = FFI_ArrowSchema::private_data;
    let _: unsafe fn(&mut FFI_ArrowSchema, Option<unsafe extern "C" fn(arg1: *mut FFI_ArrowSchema)>) -> Option<unsafe extern "C" fn(arg1: *mut FFI_ArrowSchema)> = FFI_ArrowSchema::set_release;
    let _: unsafe fn(&mut FFI_ArrowSchema, *mut c_void) -> *mut c_void = FFI_ArrowSchema::set_private_data;
    let _: fn(&FFI_ArrowSchema) -> &str = FFI_ArrowSchema::format;
    let _: fn(&FFI_ArrowSchema) -> Option<&str> = FFI_ArrowSchema::name;
    let _: fn(&FFI_ArrowSchema) -> Option<Flags> = FFI_ArrowSchema::flags;
    let _: fn(&FFI_ArrowSchema, usize) -> &FFI_ArrowSchema = FFI_ArrowSchema::child;
    fn children(schema: &FFI_ArrowSchema) -> impl Iterator<Item = &FFI_ArrowSchema> {
        schema.children()
    }
    let _ = children;
    let _: fn(&FFI_ArrowSchema) -> bool = FFI_ArrowSchema::nullable;
    let _: fn(&FFI_ArrowSchema) -> Option<&FFI_ArrowSchema> = FFI_ArrowSchema::dictionary;
    let _: fn(&FFI_ArrowSchema) -> bool = FFI_ArrowSchema::map_keys_sorted;
    let _: fn(&FFI_ArrowSchema) -> bool = FFI_ArrowSchema::dictionary_ordered;
    let _: fn(&FFI_ArrowSchema) -> Result<HashMap<String, String>> = FFI_ArrowSchema::metadata;
    imports::<DataType>();
    imports::<Field>();
    imports::<Schema>();
    exports::<&DataType>();
    exports::<&FieldRef>();
    exports::<&Field>();
    exports::<&Schema>();
    exports::<DataType>();
    exports::<Field>();
    exports::<Schema>();
    drops::<FFI_ArrowSchema>();
    send::<FFI_ArrowSchema>();
    debug::<FFI_ArrowSchema>();

    // ffi::FFI_ArrowArray
    let _: fn(&ArrayData) -> FFI_ArrowArray = FFI_ArrowArray::new;
    let _: unsafe fn(*mut FFI_ArrowArray) -> FFI_ArrowArray = FFI_ArrowArray::from_raw;
    let _: fn() -> FFI_ArrowArray = FFI_ArrowArray::empty;
    let _: fn(&FFI_ArrowArray) -> Option<unsafe extern "C" fn(arg1: *mut FFI_ArrowArray)> = FFI_ArrowArray::release;
    let _: fn(&FFI_ArrowArray) -> *mut c_void = FFI_ArrowArray::private_data;
    let _: unsafe fn(&mut FFI_ArrowArray, Option<unsafe extern "C" fn(arg1: *mut FFI_ArrowArray)>) -> Option<unsafe extern "C" fn(arg1: *mut FFI_ArrowArray)> = FFI_ArrowArray::set_release;
    let _: unsafe fn(&mut FFI_ArrowArray, *mut c_void) -> *mut c_void = FFI_ArrowArray::set_private_data;
    let _: fn(&FFI_ArrowArray) -> usize = FFI_ArrowArray::len;
    let _: fn(&FFI_ArrowArray) -> bool = FFI_ArrowArray::is_empty;
    let _: fn(&FFI_ArrowArray) -> bool = FFI_ArrowArray::is_released;
    let _: fn(&FFI_ArrowArray) -> usize = FFI_ArrowArray::offset;
    let _: fn(&FFI_ArrowArray) -> usize = FFI_ArrowArray::null_count;
    let _: fn(&FFI_ArrowArray) -> Option<usize> = FFI_ArrowArray::null_count_opt;
    let _: unsafe fn(&mut FFI_ArrowArray, i64) = FFI_ArrowArray::set_null_count;
    let _: fn(&FFI_ArrowArray, usize) -> *const u8 = FFI_ArrowArray::buffer;
    let _: fn(&FFI_ArrowArray) -> usize = FFI_ArrowArray::num_buffers;
    let _: fn(&FFI_ArrowArray, usize) -> &FFI_ArrowArray = FFI_ArrowArray::child;
    let _: fn(&FFI_ArrowArray) -> usize = FFI_ArrowArray::num_children;
    let _: fn(&FFI_ArrowArray) -> Option<&FFI_ArrowArray> = FFI_ArrowArray::dictionary;
    drops::<FFI_ArrowArray>();
    send::<FFI_ArrowArray>();
    sync::<FFI_ArrowArray>();
    debug::<FFI_ArrowArray>();

    // ffi: the functions
    let _: fn(&ArrayData) -> Result<(FFI_ArrowArray, FFI_ArrowSchema)> = to_ffi;
    let _: unsafe fn(FFI_ArrowArray, &FFI_ArrowSchema) -> Result<ArrayData> = from_ffi;
    let _: unsafe fn(FFI_ArrowArray, DataType) -> Result<ArrayData> = from_ffi_and_data_type;

    // ffi_stream::FFI_ArrowArrayStream
    let _: fn(Box<dyn RecordBatchReader + Send>) -> FFI_ArrowArrayStream = FFI_ArrowArrayStream::new;
    let _: unsafe fn(
        Option<unsafe extern "C" fn(arg1: *mut FFI_ArrowArrayStream, out: *mut FFI_ArrowSchema) -> c_int>,
        Option<unsafe extern "C" fn(arg1: *mut FFI_ArrowArrayStream, out: *mut FFI_ArrowArray) -> c_int>,
        Option<unsafe extern "C" fn(arg1: *mut FFI_ArrowArrayStream) -> *const c_char>,
        Option<unsafe extern "C" fn(arg1: *mut FFI_ArrowArrayStream)>,
        *mut c_void,
    ) -> FFI_ArrowArrayStream = FFI_ArrowArrayStream::new_unchecked;
    let _: unsafe fn(*mut FFI_ArrowArrayStream) -> FFI_ArrowArrayStream = FFI_ArrowArrayStream::from_raw;
    let _: fn() -> FFI_ArrowArrayStream = FFI_ArrowArrayStream::empty;
    let _: fn(&FFI_ArrowArrayStream) -> Option<unsafe extern "C" fn(arg1: *mut FFI_ArrowArrayStream, out: *mut FFI_ArrowSchema) -> c_int> = FFI_ArrowArrayStream::get_schema;
    let _: fn(&FFI_ArrowArrayStream) -> Option<unsafe extern "C" fn(arg1: *mut FFI_ArrowArrayStream, out: *mut FFI_ArrowArray) -> c_int> = FFI_ArrowArrayStream::get_next;
    let _: fn(&FFI_ArrowArrayStream) -> Option<unsafe extern "C" fn(arg1: *mut FFI_ArrowArrayStream) -> *const c_char> = FFI_ArrowArrayStream::get_last_error;
    let _: fn(&FFI_ArrowArrayStream) -> Option<unsafe extern "C" fn(arg1: *mut FFI_ArrowArrayStream)> = FFI_ArrowArrayStream::release;
    let _: fn(&FFI_ArrowArrayStream) -> *mut c_void = FFI_ArrowArrayStream::private_data;
    let _: unsafe fn(&mut FFI_ArrowArrayStream, Option<unsafe extern "C" fn(arg1: *mut FFI_ArrowArrayStream)>) -> Option<unsafe extern "C" fn(arg1: *mut FFI_ArrowArrayStream)> = FFI_ArrowArrayStream::set_release;
    let _: unsafe fn(&mut FFI_ArrowArrayStream, *mut c_void) -> *mut c_void = FFI_ArrowArrayStream::set_private_data;
    drops::<FFI_ArrowArrayStream>();
    send::<FFI_ArrowArrayStream>();
    debug::<FFI_ArrowArrayStream>();

    // ffi_stream::RecordBatchStreamReader and its deprecated alias ArrowArrayStreamReader
    let _: fn(FFI_ArrowArrayStream) -> Result<RecordBatchStreamReader> = RecordBatchStreamReader::try_new;
    let _: unsafe fn(*mut FFI_ArrowArrayStream) -> Result<RecordBatchStreamReader> = RecordBatchStreamReader::from_raw;
    let _: fn(&mut RecordBatchStreamReader) -> Option<Result<RecordBatch>> = <RecordBatchStreamReader as Iterator>::next;
    let _: fn(&RecordBatchStreamReader) -> arrow_schema::SchemaRef = <RecordBatchStreamReader as RecordBatchReader>::schema;
    let _: fn(FFI_ArrowArrayStream) -> Result<ArrowArrayStreamReader> = ArrowArrayStreamReader::try_new;
    debug::<RecordBatchStreamReader>();

    // ffi_stream::ArrayStreamReader
    let _: fn(FFI_ArrowArrayStream) -> Result<ArrayStreamReader> = ArrayStreamReader::try_new;
    let _: unsafe fn(*mut FFI_ArrowArrayStream) -> Result<ArrayStreamReader> = ArrayStreamReader::from_raw;
    let _: fn(&mut ArrayStreamReader) -> Option<Result<arrow_array::ArrayRef>> = <ArrayStreamReader as Iterator>::next;
    let _: fn(&ArrayStreamReader) -> &FieldRef = <ArrayStreamReader as ArrayReader>::field;
    debug::<ArrayStreamReader>();
}
