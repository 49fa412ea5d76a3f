//! The program of arrow-rs's `ffi_stream` documentation, with only its `use` lines pointed at
//! arrow-cabi: export an IPC file's reader through the C Stream Interface and import it back.
//!
//! Run: `cargo run -p arrow-cabi --example design_program -- path/to/file.arrow_file`

// DESIGN.md's program keeps the pre-60.1 name; arrow-rs 60.1 deprecates it as `RecordBatchStreamReader`'s
// alias, and so does arrow-cabi: this proves the alias still compiles.
#![allow(deprecated)]

use std::fs::File;

use arrow_array::RecordBatchReader;
use arrow_cabi::ffi_stream::{export_reader_into_raw, ArrowArrayStreamReader, FFI_ArrowArrayStream};
use arrow_ipc::reader::FileReader;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: design_program FILE")?;
    let file = File::open(path)?;
    let reader = Box::new(FileReader::try_new(file, None)?);
    let mut stream = FFI_ArrowArrayStream::empty();
    // SAFETY: `stream` is a valid, writable struct.
    unsafe { export_reader_into_raw(reader, &mut stream) };
    // SAFETY: `stream` holds the valid stream just exported.
    let stream_reader = unsafe { ArrowArrayStreamReader::from_raw(&mut stream)? };
    let imported_schema = stream_reader.schema();
    let mut produced_batches = vec![];
    for batch in stream_reader {
        produced_batches.push(batch?);
    }
    let rows: usize = produced_batches.iter().map(|b| b.num_rows()).sum();
    println!("{} columns, {} batches, {rows} rows", imported_schema.fields().len(), produced_batches.len());
    Ok(())
}
