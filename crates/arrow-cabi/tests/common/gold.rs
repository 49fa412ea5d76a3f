//! The Arrow integration gold files (`../shared/golden/integration`, see its README), for the tests
//! that cross them: where they are, each file read directly with arrow-ipc and as its `.json.gz`
//! describes it (with `arrow-integration-test`), and a comparison of batches naming the first
//! difference. Included with `#[path]` by the test files that use it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use arrow_integration_test::{
    record_batch_from_json, schema_from_json, ArrowJson, ArrowJsonDictionaryBatch,
};
use arrow_ipc::reader::FileReader;
use arrow_schema::{Schema, SchemaRef};

/// The gold folder, relative to this crate.
pub const GOLDEN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/golden/integration"
);

/// The folders of the gold set and the number of `.arrow_file`s they hold together.
pub const FOLDERS: &[&str] = &[
    "1.0.0-littleendian",
    "2.0.0-compression",
    "4.0.0-shareddict",
    "cpp-21.0.0",
];
pub const EXPECTED_FILES: usize = 59;

/// The gold folder, or `None` (with a skip message) where it is absent and not required.
pub fn golden_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(GOLDEN);
    if dir.is_dir() {
        return Some(dir);
    }
    let message = format!(
        "gold files not found at {} (see shared/golden/README.md)",
        dir.display()
    );
    if std::env::var("ARROW_CABI_REQUIRE_GOLDEN").is_ok_and(|v| v == "1") {
        panic!("{message}, and ARROW_CABI_REQUIRE_GOLDEN=1");
    }
    eprintln!("SKIP golden: {message}");
    None
}

/// Every `.arrow_file` of the gold folders, as `(folder/case, path)`, sorted.
pub fn gold_files(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut files = Vec::new();
    for folder in FOLDERS {
        let entries =
            std::fs::read_dir(dir.join(folder)).unwrap_or_else(|e| panic!("reading {folder}: {e}"));
        for entry in entries {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|ext| ext == "arrow_file") {
                let case = path.file_stem().unwrap().to_string_lossy().into_owned();
                files.push((format!("{folder}/{case}"), path));
            }
        }
    }
    files.sort();
    files
}

/// The file's schema and batches, read directly with arrow-ipc.
pub fn read_direct(path: &Path) -> Result<(SchemaRef, Vec<RecordBatch>), String> {
    let reader = open(path)?;
    let schema = reader.schema();
    let batches = reader
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("direct read: {e}"))?;
    Ok((schema, batches))
}

/// The gold file, opened with arrow-ipc.
pub fn open(path: &Path) -> Result<FileReader<File>, String> {
    let file = File::open(path).map_err(|e| format!("open: {e}"))?;
    FileReader::try_new(file, None).map_err(|e| format!("FileReader: {e}"))
}

/// The schema and batches the file's `.json.gz` describes.
pub fn read_json(path: &Path) -> Result<(Schema, Vec<RecordBatch>), String> {
    let json_path = path.with_extension("json.gz");
    let file = File::open(&json_path).map_err(|e| format!("open {}: {e}", json_path.display()))?;
    let value: serde_json::Value =
        serde_json::from_reader(BufReader::new(flate2::read::GzDecoder::new(file)))
            .map_err(|e| format!("json.gz: {e}"))?;
    let schema = schema_from_json(&value["schema"]).map_err(|e| format!("json schema: {e}"))?;
    let json: ArrowJson = serde_json::from_value(value).map_err(|e| format!("json: {e}"))?;
    let dictionaries: HashMap<i64, ArrowJsonDictionaryBatch> = json
        .dictionaries
        .iter()
        .flatten()
        .map(|d| (d.id, d.clone()))
        .collect();
    let batches = json
        .batches
        .into_iter()
        .map(|batch| record_batch_from_json(&schema, batch, Some(&dictionaries)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("json batches: {e}"))?;
    Ok((schema, batches))
}

/// Compares two sequences of batches, naming the first difference.
pub fn same_batches(what: &str, expected: &[RecordBatch], got: &[RecordBatch]) -> Result<(), String> {
    if expected.len() != got.len() {
        return Err(format!(
            "{what}: {} batches expected, got {}",
            expected.len(),
            got.len()
        ));
    }
    for (index, (want, have)) in expected.iter().zip(got).enumerate() {
        if want.num_rows() != have.num_rows() {
            return Err(format!(
                "{what}: batch {index}: {} rows expected, got {}",
                want.num_rows(),
                have.num_rows()
            ));
        }
        if want.schema() != have.schema() {
            return Err(format!(
                "{what}: batch {index}: schema differs:\n{:#?}\nvs\n{:#?}",
                want.schema(),
                have.schema()
            ));
        }
        for (column, (a, b)) in want.columns().iter().zip(have.columns()).enumerate() {
            if a != b {
                let name = want.schema().field(column).name().clone();
                return Err(format!(
                    "{what}: batch {index} column {column} ({name}) differs:\n{a:?}\nvs\n{b:?}"
                ));
            }
        }
    }
    Ok(())
}

/// The text of a caught panic.
pub fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string payload".into())
}
