//! Runs the built `arrow-cabi` binary on the built-in sample, on gold files, on files written here,
//! and on missing and corrupt files.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use arrow_ipc::writer::{FileWriter, StreamWriter};

/// The same sample the binary has built in, to write files from it.
#[allow(dead_code)]
#[path = "../src/sample.rs"]
mod sample;

fn arrow_cabi(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_arrow-cabi")).args(args).output().expect("run arrow-cabi")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A gold file, or `None` (and a note) when `../shared/golden` is not there.
fn golden(case: &str) -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/golden/integration");
    let path = root.join(case);
    if path.exists() {
        Some(path)
    } else {
        eprintln!("skipped: {} is absent", path.display());
        None
    }
}

/// A path in the temp directory that no other test or run uses.
fn temp_path(name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    std::env::temp_dir().join(format!("arrow-cabi-cli-{}-{nanos}-{name}", std::process::id()))
}

/// Removes the file when the test ends, passed or not.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, bytes: &[u8]) -> Self {
        let file = TempFile(temp_path(name));
        std::fs::write(&file.0, bytes).unwrap();
        file
    }

    fn arg(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Checks a successful round trip: every expected column is in the table and zero-copy.
fn assert_zero_copy(output: &Output, columns: &[&str]) {
    let text = stdout(output);
    assert!(output.status.success(), "failed: {}\n{text}", stderr(output));
    for column in columns {
        let line = text.lines().find(|line| line.split_whitespace().next() == Some(column));
        let line = line.unwrap_or_else(|| panic!("no row for {column} in\n{text}"));
        assert!(line.contains("  yes"), "{column} was copied: {line}");
        assert!(!line.contains("  no"), "{column} was copied: {line}");
    }
    assert!(text.contains(" µs per batch"), "no timing in\n{text}");
}

/// Checks a failure: non-zero status, nothing on stdout, one `error:` line on stderr.
fn assert_one_line_error(output: &Output) {
    let err = stderr(output);
    assert!(!output.status.success(), "succeeded: {}", stdout(output));
    assert_eq!(err.lines().count(), 1, "not one line: {err:?}");
    assert!(err.starts_with("error: "), "{err:?}");
    assert!(!err.contains("panicked") && !err.contains("internal error"), "{err:?}");
}

fn sample_names() -> Vec<&'static str> {
    sample::COLUMNS.iter().map(|(name, _)| *name).collect()
}

#[test]
fn sample_round_trips_without_copies() {
    let output = arrow_cabi(&["roundtrip"]);
    assert_zero_copy(&output, &sample_names());
    assert!(stdout(&output).contains(&format!("{} batches,", sample::BATCHES)));
}

#[test]
fn sample_round_trips_through_the_device_stream_without_copies() {
    let output = arrow_cabi(&["roundtrip", "--device"]);
    assert_zero_copy(&output, &sample_names());
    let text = stdout(&output);
    assert!(text.contains(&format!("{} batches,", sample::BATCHES)), "{text}");
    assert!(text.contains("(export + import + iterate) through ArrowDeviceArrayStream (CPU)"), "{text}");
}

#[test]
fn gold_files_round_trip_without_copies() {
    let cases = [
        ("cpp-21.0.0/generated_nested.arrow_file", &["list_nullable", "fixedsizelist_nullable", "struct_nullable"][..]),
        ("2.0.0-compression/generated_lz4.arrow_file", &["ints", "strs"]),
        ("2.0.0-compression/generated_zstd.arrow_file", &["ints", "strs"]),
    ];
    for (case, columns) in cases {
        let Some(path) = golden(case) else { continue };
        assert_zero_copy(&arrow_cabi(&["roundtrip", path.to_str().unwrap()]), columns);
    }
}

#[test]
fn sample_written_as_ipc_stream_and_file_round_trips() {
    let (schema, batches) = sample::batches().unwrap();
    // Twelve batches: past the progress bar's threshold, and a stream's count is not known up front.
    let many: Vec<_> = batches.iter().cycle().take(12).cloned().collect();

    let stream = TempFile(temp_path("sample.arrows"));
    let mut writer = StreamWriter::try_new(File::create(&stream.0).unwrap(), &schema).unwrap();
    many.iter().for_each(|batch| writer.write(batch).unwrap());
    writer.finish().unwrap();
    let output = arrow_cabi(&["roundtrip", stream.arg()]);
    assert_zero_copy(&output, &sample_names());
    assert!(stdout(&output).contains("12 batches,"), "{}", stdout(&output));

    let file = TempFile(temp_path("sample.arrow"));
    let mut writer = FileWriter::try_new(File::create(&file.0).unwrap(), &schema).unwrap();
    batches.iter().for_each(|batch| writer.write(batch).unwrap());
    writer.finish().unwrap();
    assert_zero_copy(&arrow_cabi(&["roundtrip", file.arg()]), &sample_names());

    let output = arrow_cabi(&["schema", stream.arg()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    for expected in [
        "  dense_union: +ud:2,5 (nullable)\n    int: i (nullable)\n    str: u (nullable)\n",
        "  sparse_union: +us:2,5 (nullable)\n",
        "  list_view: +vl (nullable)\n    item: i (nullable)\n",
        "  run_end_encoded: +r (nullable)\n    run_ends: i\n    values: u (nullable)\n",
        "  dictionary: i (nullable)\n    dictionary: u",
        "  map: +m (nullable)\n    entries: +s\n      key: u\n      value: i (nullable)\n",
        "  timestamp_ns_paris: tsn:Europe/Paris (nullable)\n",
        "  decimal256: d:76,20,256 (nullable)\n",
    ] {
        assert!(text.contains(expected), "no {expected:?} in\n{text}");
    }
}

#[test]
fn schema_prints_the_exported_format_strings() {
    let Some(path) = golden("cpp-21.0.0/generated_nested.arrow_file") else { return };
    let output = arrow_cabi(&["schema", path.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let expected = "\
schema: +s
  list_nullable: +l (nullable)
    item: i (nullable)
  fixedsizelist_nullable: +w:4 (nullable)
    item: i (nullable)
  struct_nullable: +s (nullable)
    f1: i (nullable)
    f2: u (nullable)
";
    assert_eq!(stdout(&output), expected);
}

#[test]
fn missing_file_is_a_one_line_error() {
    let missing = temp_path("does-not-exist.arrow");
    for command in ["roundtrip", "schema"] {
        let output = arrow_cabi(&[command, missing.to_str().unwrap()]);
        assert_one_line_error(&output);
        assert!(stderr(&output).contains("cannot open"), "{}", stderr(&output));
    }
}

#[test]
fn corrupt_files_are_one_line_errors() {
    // xorshift: the same "random" bytes every run.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let random: Vec<u8> = (0..4096)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let mut with_magic = b"ARROW1\0\0".to_vec();
    with_magic.extend_from_slice(&random);
    let mut files = vec![
        TempFile::new("random.bin", &random),
        TempFile::new("magic.bin", &with_magic),
        TempFile::new("empty.bin", &[]),
    ];
    // A valid stream cut short in its last batch.
    let (schema, batches) = sample::batches().unwrap();
    let mut stream = vec![];
    let mut writer = StreamWriter::try_new(&mut stream, &schema).unwrap();
    batches.iter().for_each(|batch| writer.write(batch).unwrap());
    writer.finish().unwrap();
    drop(writer);
    files.push(TempFile::new("truncated.arrows", &stream[..stream.len() - 1000]));
    if let Some(gold) = golden("cpp-21.0.0/generated_nested.arrow_file") {
        let bytes = std::fs::read(gold).unwrap();
        files.push(TempFile::new("truncated.arrow", &bytes[..bytes.len() / 2]));
    }
    for file in &files {
        for command in ["roundtrip", "schema"] {
            let output = arrow_cabi(&[command, file.arg()]);
            if command == "schema" && file.arg().ends_with("truncated.arrows") {
                // The schema comes first and is intact.
                assert!(output.status.success(), "{}", stderr(&output));
                continue;
            }
            assert_one_line_error(&output);
        }
    }
}

#[test]
fn usage_errors_exit_non_zero() {
    assert!(!arrow_cabi(&[]).status.success());
    assert!(!arrow_cabi(&["schema"]).status.success());
    assert!(!arrow_cabi(&["frobnicate"]).status.success());
}
