//! The program of DESIGN.md "The API users already know" (arrow-rs's `ffi_stream` documentation),
//! line for line with only its `use` lines pointed at arrow-cabi, run on gold files; the batches it
//! produces must equal the file's. It is also `examples/design_program.rs`.
//!
//! The program opens the relative path `"arrow_file"`, so the test runs it in a scratch folder under
//! the target directory where `arrow_file` is a symlink to a gold file. Where the gold files are absent
//! the test prints a skip message and passes, unless `ARROW_CABI_REQUIRE_GOLDEN=1` is set.

// DESIGN.md's program keeps the pre-60.1 name; arrow-rs 60.1 deprecates it as `RecordBatchStreamReader`'s
// alias, and so does arrow-cabi: this proves the alias still compiles.
#![allow(deprecated)]

use std::fs::File;
use std::path::PathBuf;

use arrow_array::{RecordBatch, RecordBatchReader};
use arrow_cabi::ffi_stream::{
    export_reader_into_raw, ArrowArrayStreamReader, FFI_ArrowArrayStream,
};
use arrow_ipc::reader::FileReader;
use arrow_schema::SchemaRef;

const GOLDEN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/golden/integration"
);

/// Gold files with nesting, dictionaries, views, unions, REE and compression.
const CASES: &[&str] = &[
    "cpp-21.0.0/generated_nested",
    "cpp-21.0.0/generated_dictionary",
    "cpp-21.0.0/generated_binary_view",
    "cpp-21.0.0/generated_union",
    "cpp-21.0.0/generated_run_end_encoded",
    "cpp-21.0.0/generated_primitive_no_batches",
    "2.0.0-compression/generated_zstd",
    "4.0.0-shareddict/generated_shared_dict",
];

/// The DESIGN.md program, its lines unchanged; it returns what it read.
#[allow(clippy::undocumented_unsafe_blocks)]
#[rustfmt::skip]
fn design_program() -> Result<(SchemaRef, Vec<RecordBatch>), Box<dyn std::error::Error>> {
    let file = File::open("arrow_file")?;
    let reader = Box::new(FileReader::try_new(file, None)?);   // arrow_ipc::reader::FileReader
    let mut stream = FFI_ArrowArrayStream::empty();
    unsafe { export_reader_into_raw(reader, &mut stream) };
    let stream_reader = unsafe { ArrowArrayStreamReader::from_raw(&mut stream)? };
    let imported_schema = stream_reader.schema();
    let mut produced_batches = vec![];
    for batch in stream_reader { produced_batches.push(batch?); }
    Ok((imported_schema, produced_batches))
}

#[test]
fn the_design_program_runs_on_gold_files() {
    let golden = PathBuf::from(GOLDEN);
    if !golden.is_dir() {
        let message = format!("gold files not found at {}", golden.display());
        assert!(
            std::env::var("ARROW_CABI_REQUIRE_GOLDEN").map_or(true, |v| v != "1"),
            "{message}, and ARROW_CABI_REQUIRE_GOLDEN=1"
        );
        eprintln!("SKIP design_program: {message}");
        return;
    }
    // This binary holds this one test, so changing the working directory affects nothing else.
    let scratch = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("design_program-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    std::env::set_current_dir(&scratch).unwrap();
    let link = scratch.join("arrow_file");

    for case in CASES {
        // arrow-ipc decompresses zstd with the zstd C library, which Miri cannot run.
        if cfg!(miri) && case.contains("compression") {
            println!("{case}: skipped under Miri (zstd is C code)");
            continue;
        }
        let gold = golden.join(format!("{case}.arrow_file"));
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&gold, &link).unwrap();

        let (imported_schema, produced_batches) = design_program()
            .unwrap_or_else(|e| panic!("{case}: the DESIGN.md program failed: {e}"));

        let direct = FileReader::try_new(File::open(&gold).unwrap(), None).unwrap();
        assert_eq!(imported_schema, direct.schema(), "{case}: schema");
        let expected = direct.collect::<Result<Vec<_>, _>>().unwrap();
        assert_eq!(produced_batches, expected, "{case}: batches");
        println!(
            "{case}: {} batches, {} rows",
            expected.len(),
            expected.iter().map(|b| b.num_rows()).sum::<usize>()
        );
    }
    let _ = std::fs::remove_file(&link);
    let _ = std::fs::remove_dir(&scratch);
}
