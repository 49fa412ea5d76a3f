//! The Arrow integration gold files (`../shared/golden/integration`, see its README) sent through the
//! C Stream Interface.
//!
//! For every `.arrow_file`: read it with arrow-ipc, export the reader with `export_reader_into_raw`,
//! import it with `RecordBatchStreamReader` and compare the batches with (a) the batches read directly
//! and (b) the file's `.json.gz` description, read with `arrow-integration-test`. The directly-read
//! batches are also sent through `export_batches` to check that the imported buffers are the
//! producer's memory (zero-copy), and the stream is crossed with arrow-rs's `ffi_stream` both ways.
//!
//! The gold files are outside the repository. Where the folder is absent the test prints a skip
//! message and passes, unless `ARROW_CABI_REQUIRE_GOLDEN=1` is set.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use arrow_array::{RecordBatch, RecordBatchReader};
use arrow_cabi::ffi_stream::{
    export_batches, export_reader_into_raw, RecordBatchStreamReader, FFI_ArrowArrayStream,
};
use arrow_data::ArrayData;
use arrow_integration_test::{
    record_batch_from_json, schema_from_json, ArrowJson, ArrowJsonDictionaryBatch,
};
use arrow_ipc::reader::FileReader;
use arrow_schema::{DataType, Schema, SchemaRef};

/// The gold folder, relative to this crate.
const GOLDEN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/golden/integration"
);

/// The folders of the gold set and the number of `.arrow_file`s they hold together.
const FOLDERS: &[&str] = &[
    "1.0.0-littleendian",
    "2.0.0-compression",
    "4.0.0-shareddict",
    "cpp-21.0.0",
];
const EXPECTED_FILES: usize = 59;

/// The gold files Miri crosses (ten took it more than 4 minutes of CPU, all 59 would take it an hour):
/// nesting (structs, lists), dictionaries, unions, as arrow-ipc lays them out; none compressed (arrow-ipc
/// decompresses with C libraries Miri cannot run). Every type family crosses under Miri in the
/// generated round trips (`roundtrip.rs`) too.
const MIRI_FILES: &[&str] = &[
    "cpp-21.0.0/generated_nested",
    "cpp-21.0.0/generated_dictionary",
    "cpp-21.0.0/generated_union",
];

/// Gold files that cannot pass, as `("folder/case", reason)`. The test fails on a failing file that is
/// not listed, and on a listed file that passes, so this list only shrinks.
const KNOWN_FAILURES: &[(&str, &str)] = &[];

fn golden_dir() -> Option<PathBuf> {
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
fn gold_files(dir: &Path) -> Vec<(String, PathBuf)> {
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
fn read_direct(path: &Path) -> Result<(SchemaRef, Vec<RecordBatch>), String> {
    let reader = open(path)?;
    let schema = reader.schema();
    let batches = reader
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("direct read: {e}"))?;
    Ok((schema, batches))
}

fn open(path: &Path) -> Result<FileReader<File>, String> {
    let file = File::open(path).map_err(|e| format!("open: {e}"))?;
    FileReader::try_new(file, None).map_err(|e| format!("FileReader: {e}"))
}

/// The schema and batches the file's `.json.gz` describes.
fn read_json(path: &Path) -> Result<(Schema, Vec<RecordBatch>), String> {
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
fn same_batches(what: &str, expected: &[RecordBatch], got: &[RecordBatch]) -> Result<(), String> {
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

/// Buffer pointers compared for the zero-copy check: (same, copied because under-aligned).
#[derive(Default, Debug)]
struct ZeroCopy {
    same: usize,
    realigned: usize,
}

/// The alignment arrow-rs needs for buffer `index` of a node of `data_type` (validity excluded).
/// The importer may copy a buffer only when the producer's pointer is not aligned to it.
fn required_align(data_type: &DataType, index: usize) -> usize {
    match data_type {
        DataType::Null | DataType::Boolean | DataType::FixedSizeBinary(_) => 1,
        DataType::Binary | DataType::Utf8 => [4, 1][index.min(1)],
        DataType::LargeBinary | DataType::LargeUtf8 => [8, 1][index.min(1)],
        DataType::BinaryView | DataType::Utf8View => [16, 1][index.min(1)],
        DataType::List(_) | DataType::Map(..) | DataType::ListView(_) => 4,
        DataType::LargeList(_) | DataType::LargeListView(_) => 8,
        DataType::Union(..) => [1, 4][index.min(1)],
        DataType::Dictionary(key, _) => key.primitive_width().unwrap_or(1),
        other => other.primitive_width().map_or(1, |width| width.min(16)),
    }
}

/// Checks that each buffer of `imported` is the memory of the matching buffer of `original`, unless
/// the original was under-aligned for its type and so had to be copied.
fn zero_copy(
    path: &str,
    original: &ArrayData,
    imported: &ArrayData,
    tally: &mut ZeroCopy,
) -> Result<(), String> {
    let mut pairs: Vec<(String, &[u8], &[u8], usize)> = original
        .buffers()
        .iter()
        .zip(imported.buffers())
        .enumerate()
        .map(|(i, (a, b))| {
            (
                format!("{path}.buffers[{i}]"),
                a.as_slice(),
                b.as_slice(),
                required_align(original.data_type(), i),
            )
        })
        .collect();
    if let (Some(a), Some(b)) = (original.nulls(), imported.nulls()) {
        pairs.push((
            format!("{path}.validity"),
            a.buffer().as_slice(),
            b.buffer().as_slice(),
            1,
        ));
    }
    for (name, a, b, align) in pairs {
        if a.is_empty() {
            continue;
        }
        if a.as_ptr() == b.as_ptr() {
            tally.same += 1;
        } else if a.as_ptr() as usize % align != 0 {
            tally.realigned += 1;
        } else {
            return Err(format!(
                "{name} ({}): copied ({:p} became {:p}) though aligned to the {align} bytes it needs",
                original.data_type(),
                a.as_ptr(),
                b.as_ptr()
            ));
        }
    }
    if original.child_data().len() != imported.child_data().len() {
        return Err(format!(
            "{path}: {} children, imported {}",
            original.child_data().len(),
            imported.child_data().len()
        ));
    }
    for (i, (a, b)) in original
        .child_data()
        .iter()
        .zip(imported.child_data())
        .enumerate()
    {
        zero_copy(&format!("{path}.children[{i}]"), a, b, tally)?;
    }
    Ok(())
}

/// Every check on one gold file; the first failure as text.
fn check_file(path: &Path) -> Result<ZeroCopy, String> {
    let (schema, direct) = read_direct(path)?;

    // Through our stream: export_reader_into_raw, then RecordBatchStreamReader.
    let reader = Box::new(open(path)?);
    let mut stream = FFI_ArrowArrayStream::empty();
    // SAFETY: `stream` is a valid, writable struct.
    unsafe { export_reader_into_raw(reader, &mut stream) };
    // SAFETY: `stream` was just filled by our exporter.
    let imported = unsafe { RecordBatchStreamReader::from_raw(&mut stream) }
        .map_err(|e| format!("import: {e}"))?;
    if !stream.is_released() {
        return Err("from_raw left the source stream unreleased".into());
    }
    if imported.schema() != schema {
        return Err(format!(
            "imported schema differs:\n{:#?}\nvs\n{schema:#?}",
            imported.schema()
        ));
    }
    let ours = imported
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("import batches: {e}"))?;
    same_batches("ours vs direct", &direct, &ours)?;

    // Against the JSON description.
    let (json_schema, json_batches) = read_json(path)?;
    if json_schema.fields() != schema.fields() {
        return Err(format!(
            "json schema differs:\n{json_schema:#?}\nvs\n{schema:#?}"
        ));
    }
    same_batches("json vs ours", &json_batches, &ours)?;

    // Zero-copy: the directly-read batches through export_batches; imported buffers are theirs.
    let stream = export_batches(schema.clone(), direct.clone().into_iter().map(Ok));
    let again = RecordBatchStreamReader::try_new(stream)
        .map_err(|e| format!("export_batches import: {e}"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("export_batches batches: {e}"))?;
    same_batches("export_batches vs direct", &direct, &again)?;
    let mut tally = ZeroCopy::default();
    for (index, (a, b)) in direct.iter().zip(&again).enumerate() {
        for (column, (x, y)) in a.columns().iter().zip(b.columns()).enumerate() {
            zero_copy(
                &format!("batch[{index}].column[{column}]"),
                &x.to_data(),
                &y.to_data(),
                &mut tally,
            )?;
        }
    }

    // Ours exported, read by arrow-rs.
    let mut stream = FFI_ArrowArrayStream::new(Box::new(open(path)?));
    // SAFETY: the structs are layout-identical; arrow-rs moves the stream out, leaving ours released.
    let theirs = unsafe {
        arrow::ffi_stream::RecordBatchStreamReader::from_raw(
            (&mut stream as *mut FFI_ArrowArrayStream).cast(),
        )
    }
    .map_err(|e| format!("arrow-rs import of ours: {e}"))?;
    if theirs.schema() != schema {
        return Err(format!(
            "arrow-rs imported schema differs:\n{:#?}\nvs\n{schema:#?}",
            theirs.schema()
        ));
    }
    let theirs = theirs
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("arrow-rs import of ours: {e}"))?;
    same_batches("ours -> arrow-rs vs direct", &direct, &theirs)?;

    // arrow-rs exported, read by ours.
    let mut stream = arrow::ffi_stream::FFI_ArrowArrayStream::new(Box::new(open(path)?));
    // SAFETY: the structs are layout-identical; ours moves the stream out, leaving theirs released.
    let reader = unsafe {
        RecordBatchStreamReader::from_raw(
            (&mut stream as *mut arrow::ffi_stream::FFI_ArrowArrayStream).cast(),
        )
    }
    .map_err(|e| format!("import of arrow-rs: {e}"))?;
    if reader.schema() != schema {
        return Err(format!(
            "schema imported from arrow-rs differs:\n{:#?}\nvs\n{schema:#?}",
            reader.schema()
        ));
    }
    let from_theirs = reader
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("import of arrow-rs: {e}"))?;
    same_batches("arrow-rs -> ours vs direct", &direct, &from_theirs)?;

    Ok(tally)
}

#[test]
fn gold_files_cross_the_stream_interface() {
    let Some(dir) = golden_dir() else { return };
    let files = gold_files(&dir);
    assert_eq!(
        files.len(),
        EXPECTED_FILES,
        "gold .arrow_file count: {:?}",
        files.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    let files = if cfg!(miri) {
        let subset: Vec<_> = files.into_iter().filter(|(name, _)| MIRI_FILES.contains(&name.as_str())).collect();
        assert_eq!(subset.len(), MIRI_FILES.len(), "every file of MIRI_FILES is a gold file");
        subset
    } else {
        files
    };
    let known: HashMap<&str, &str> = KNOWN_FAILURES.iter().copied().collect();
    for (name, _) in KNOWN_FAILURES {
        assert!(
            files.iter().any(|(n, _)| n == name),
            "KNOWN_FAILURES names {name}, which is not a gold file"
        );
    }

    let mut problems = Vec::new();
    let mut totals = ZeroCopy::default();
    for (name, path) in &files {
        let outcome = catch_unwind(AssertUnwindSafe(|| check_file(path)))
            .unwrap_or_else(|payload| Err(format!("panic: {}", panic_text(&*payload))));
        match (outcome, known.get(name.as_str())) {
            (Ok(tally), None) => {
                println!(
                    "ok    {name}  (zero-copy: {} buffers shared, {} realigned)",
                    tally.same, tally.realigned
                );
                totals.same += tally.same;
                totals.realigned += tally.realigned;
            }
            (Ok(_), Some(reason)) => {
                problems.push(format!(
                    "{name} passes but is in KNOWN_FAILURES ({reason}): remove it"
                ));
            }
            (Err(error), Some(reason)) => println!("known {name}: {reason}\n      now: {error}"),
            (Err(error), None) => {
                println!("FAIL  {name}: {error}");
                problems.push(format!("{name}: {error}"));
            }
        }
    }
    println!(
        "zero-copy over all files: {} buffers shared, {} realigned",
        totals.same, totals.realigned
    );
    assert!(
        totals.same > 0,
        "no buffer was shared: import is not zero-copy"
    );
    assert!(
        problems.is_empty(),
        "{} gold file problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string payload".into())
}
