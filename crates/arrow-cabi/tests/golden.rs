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
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use arrow_array::RecordBatchReader;
use arrow_cabi::ffi_stream::{
    export_batches, export_reader_into_raw, RecordBatchStreamReader, FFI_ArrowArrayStream,
};
use arrow_data::ArrayData;
use arrow_schema::DataType;

#[path = "common/gold.rs"]
mod gold;
use gold::{
    gold_files, golden_dir, open, panic_text, read_direct, read_json, same_batches, EXPECTED_FILES,
};

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

