//! `arrow-cabi check` against deliberately broken producers written in C (`tests/producers/`,
//! compiled here with the system C compiler, `$CC` or `cc`): each fault is reported with the rule
//! it breaks and the field path where it is, a clean producer is clean, a crashing one is reported
//! as a crash (exit 2) and one that cannot be loaded or called as such (exit 2). The expected rule
//! and path of each fault are the spec's (shared/spec/C-INTERFACES.md) for what the C code does.
//! Also the ADBC SQLite driver's query results, when the driver is installed (as adbc_sqlite.rs
//! finds it).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

/// The producer libraries, compiled once into a temp directory that lives as long as the run.
struct Libraries {
    stream: PathBuf,
    array: PathBuf,
    /// device.c linked with stream.c and array.c, whose producers it wraps.
    device: PathBuf,
    /// The fake ADBC driver, adbc_fake.c linked with stream.c.
    adbc: PathBuf,
}

fn libraries() -> &'static Libraries {
    static LIBS: OnceLock<Libraries> = OnceLock::new();
    LIBS.get_or_init(|| {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!("arrow-cabi-check-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let sources = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/producers");
        let compile = |name: &str, files: &[&str]| {
            let out = dir.join(format!("lib{name}.so"));
            let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_owned());
            let status = Command::new(&cc)
                .args(["-shared", "-fPIC", "-O1", "-Wall", "-Werror", "-o"])
                .arg(&out)
                .args(files.iter().map(|file| sources.join(format!("{file}.c"))))
                .status()
                .unwrap_or_else(|e| panic!("these tests need a C compiler ({cc}): {e}"));
            assert!(status.success(), "{cc} failed on {files:?}");
            out
        };
        Libraries {
            stream: compile("stream", &["stream"]),
            array: compile("array", &["array"]),
            device: compile("device", &["device", "stream", "array"]),
            adbc: compile("adbc_fake", &["adbc_fake", "stream"]),
        }
    })
}

fn arrow_cabi(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_arrow-cabi")).args(args).output().expect("run arrow-cabi")
}

/// `check --json` on a symbol of the stream library (or, with `array`, of the array library; with
/// `--device` among `extra`, of the device library).
fn check(symbol: &str, array: bool, extra: &[&str]) -> (i32, Value) {
    let libs = libraries();
    let lib = if extra.contains(&"--device") {
        &libs.device
    } else if array {
        &libs.array
    } else {
        &libs.stream
    };
    let mut args = vec!["check", "--json", "--lib", lib.to_str().unwrap(), "--symbol", symbol];
    if array {
        args.push("--array");
    }
    args.extend(extra);
    let output = arrow_cabi(&args);
    let report: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{symbol}: not JSON ({e}): {}", String::from_utf8_lossy(&output.stdout)));
    (output.status.code().expect("exited"), report)
}

fn findings(report: &Value) -> Vec<(String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["rule"].as_str().unwrap().to_owned(), f["path"].as_str().unwrap().to_owned()))
        .collect()
}

/// Each fault: the symbol, the rules its findings may have (all of them must be among these), and
/// one (rule, path) that must be found.
const STREAM_FAULTS: &[(&str, &[&str], (&str, &str))] = &[
    ("format", &["schema.format"], ("schema.format", "schema.children[1].format")),
    ("flags", &["schema.flags"], ("schema.flags", "schema.children[1].flags")),
    ("metadata", &["schema.metadata"], ("schema.metadata", "schema.children[1].metadata")),
    ("name", &["schema.name"], ("schema.name", "schema.children[1].name")),
    ("utf8", &["array.utf8"], ("array.utf8", "batches[0].children[0]")),
    ("offsets", &["array.offsets"], ("array.offsets", "batches[0].children[0]")),
    ("null_count", &["array.null-count"], ("array.null-count", "batches[0].children[0].null_count")),
    ("buffers", &["array.buffers"], ("array.buffers", "batches[0].children[0].n_buffers")),
    ("release_not_null", &["release.sets-null"], ("release.sets-null", "batches[0]")),
    ("children_leak", &["release.children"], ("release.children", "batches[0].children[1]")),
    // The scribbled bitmap (every bit set) contradicts the child's null count: the first thing Full reads.
    ("moved_child", &["release.moved-child"], ("release.moved-child", "batches[0].children[0].null_count")),
    ("schema_release", &["release.sets-null"], ("release.sets-null", "schema")),
    ("stream_release", &["release.sets-null"], ("release.sets-null", "stream")),
    ("end", &["stream.end"], ("stream.end", "stream.get_next (call 1 after the end)")),
    ("error", &["stream.error"], ("stream.error", "stream.get_next (batch 1)")),
    ("errno", &["stream.errno", "stream.error"], ("stream.errno", "stream.get_next (batch 1)")),
    ("last_error_utf8", &["stream.last-error", "stream.error"], ("stream.last-error", "stream.get_last_error")),
    ("schema_mismatch", &["stream.schema-match"], ("stream.schema-match", "batches[0].n_children")),
    ("schema_repeat", &["stream.schema-repeat"], ("stream.schema-repeat", "stream.get_schema (second call)")),
    // As for moved_child: the scribbled bitmap contradicts the null count first.
    ("lifetime", &["stream.lifetime"], ("stream.lifetime", "batches[0].children[0].null_count")),
];

const ARRAY_FAULTS: &[(&str, &[&str], (&str, &str))] = &[
    ("union_ids", &["array.union"], ("array.union", "array")),
    ("run_ends", &["array.run-ends"], ("array.run-ends", "array.children[0]")),
    ("dict_keys", &["array.dictionary"], ("array.dictionary", "array")),
    ("dict_missing", &["array.dictionary"], ("array.dictionary", "array.dictionary")),
    ("released", &["released"], ("released", "array")),
    ("dict_index_type", &["schema.dictionary"], ("schema.dictionary", "schema.format")),
];

/// Each device fault (device.c, `device_stream_NAME`), as for the stream faults.
const DEVICE_FAULTS: &[(&str, &[&str], (&str, &str))] = &[
    ("type", &["device.type"], ("device.type", "stream.device_type")),
    ("stream_type", &["device.stream-type"], ("device.stream-type", "batches[1].device_type")),
    ("id", &["device.id"], ("device.id", "batches[0].device_id")),
    ("sync_event", &["device.sync-event"], ("device.sync-event", "batches[0].sync_event")),
    ("reserved", &["device.reserved"], ("device.reserved", "batches[0].reserved")),
    // On CUDA the node structs are still checked (they are host memory); the buffers are not read.
    ("cuda_buffers", &["array.buffers"], ("array.buffers", "batches[0].children[0].n_buffers")),
];

fn notes(report: &Value) -> Vec<String> {
    report["notes"].as_array().unwrap().iter().map(|n| n.as_str().unwrap().to_owned()).collect()
}

fn assert_fault(symbol: &str, array: bool, extra: &[&str], rules: &[&str], expected: (&str, &str)) {
    let (code, report) = check(symbol, array, extra);
    let found = findings(&report);
    assert_eq!(code, 1, "{symbol}: exit code; report {report:#}");
    assert!(
        found.iter().any(|(rule, path)| (rule.as_str(), path.as_str()) == expected),
        "{symbol}: {expected:?} not among {found:#?}"
    );
    for (rule, path) in &found {
        assert!(rules.contains(&rule.as_str()), "{symbol}: unexpected {rule} at {path}; all: {found:#?}");
    }
    assert_eq!(report["clean"], false);
}

#[test]
fn each_broken_stream_is_reported_with_its_rule_and_path() {
    for (fault, rules, expected) in STREAM_FAULTS {
        assert_fault(&format!("stream_{fault}"), false, &[], rules, *expected);
    }
}

#[test]
fn each_broken_array_is_reported_with_its_rule_and_path() {
    for (fault, rules, expected) in ARRAY_FAULTS {
        assert_fault(&format!("array_{fault}"), true, &[], rules, *expected);
    }
}

#[test]
fn each_broken_device_stream_is_reported_with_its_rule_and_path() {
    for (fault, rules, expected) in DEVICE_FAULTS {
        assert_fault(&format!("device_stream_{fault}"), false, &["--device"], rules, *expected);
    }
}

#[test]
fn every_stream_fault_is_found_through_a_device_stream_too() {
    for (fault, rules, expected) in STREAM_FAULTS {
        assert_fault("device_stream_named", false, &["--device", "--arg", fault], rules, *expected);
    }
    let (code, report) = check("device_stream_named", false, &["--device", "--arg", "crash"]);
    assert_eq!((code, report["crash"]["during"].as_str()), (2, Some("get_next (batch 0)")), "{report:#}");
}

#[test]
fn clean_device_producers_are_clean_and_other_devices_are_not_read() {
    let (code, report) = check("device_stream_clean", false, &["--device"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!((report["batches"].as_u64(), report["rows"].as_u64()), (Some(2), Some(6)));
    assert!(notes(&report).is_empty(), "{report:#}");

    // Every buffer pointer of this stream is an address no process can read: reading one would
    // crash the check. A UTF-8 fault would not be seen either; the note says data was not checked.
    let (code, report) = check("device_stream_cuda", false, &["--device"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["rows"].as_u64(), Some(6));
    let said = notes(&report).join("\n");
    assert!(said.contains("batches[0]: the buffers are in CUDA (2) memory and are not read: data checks"), "{said}");
    assert!(said.contains("batches[0].sync_event is set on CUDA (2)"), "{said}");

    let (code, report) = check("device_array_named", true, &["--device", "--arg", "clean"]);
    assert_eq!((code, report["rows"].as_u64()), (0, Some(2)), "{report:#}");
    let (code, report) = check("device_array_named", true, &["--device", "--arg", "cuda"]);
    assert_eq!(code, 0, "{report:#}");
    assert!(notes(&report).iter().any(|n| n.starts_with("device_array: the buffers are in CUDA (2) memory")), "{report:#}");
}

#[test]
fn broken_device_arrays_are_reported_with_rule_and_path() {
    let cases: &[(&str, (&str, &str))] = &[
        ("reserved", ("device.reserved", "device_array.reserved")),
        ("id", ("device.id", "device_array.device_id")),
        ("cuda_buffers", ("array.buffers", "array.children[0].n_buffers")),
        // A plain array fault, on CPU: the data is read at full validation.
        ("union_ids", ("array.union", "array")),
    ];
    for (fault, expected) in cases {
        assert_fault("device_array_named", true, &["--device", "--arg", fault], &[expected.0], *expected);
    }
}

#[test]
fn max_batches_stops_an_endless_stream_with_a_note() {
    let (code, report) = check("stream_endless", false, &["--max-batches", "3"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!((report["batches"].as_u64(), report["rows"].as_u64()), (Some(3), Some(9)));
    assert!(notes(&report)[0].starts_with("stopped after 3 batches"), "{report:#}");
    // A limit the stream does not reach changes nothing.
    let (code, report) = check("stream_clean", false, &["--max-batches", "5"]);
    assert_eq!((code, report["batches"].as_u64()), (0, Some(2)), "{report:#}");
    assert!(notes(&report).is_empty(), "{report:#}");
    let output = arrow_cabi(&["check", "--lib", libraries().stream.to_str().unwrap(), "--symbol", "stream_endless", "--max-batches", "2"]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.starts_with("note: stopped after 2 batches") && text.trim_end().ends_with("clean, 2 batches, 6 rows"), "{text}");
}

#[test]
fn a_partly_opened_adbc_session_is_released_in_reverse_order() {
    let driver = libraries().adbc.to_str().unwrap();
    let run = |uri: &str, query: &str| {
        let output = arrow_cabi(&["check", "--adbc-driver", driver, "--uri", uri, "--query", query]);
        let calls: Vec<String> = String::from_utf8_lossy(&output.stderr).lines().map(str::to_owned).collect();
        (output.status.code(), calls)
    };
    let releases = |calls: &[String]| calls.iter().filter(|c| c.contains("Release")).cloned().collect::<Vec<_>>();
    let all = ["AdbcStatementRelease", "AdbcConnectionRelease", "AdbcDatabaseRelease"];
    // Each failing step, and the handles made before it (the ones whose New succeeded).
    let cases: &[(&str, &[&str])] = &[
        ("fail:AdbcDatabaseInit", &all[2..]),
        ("fail:AdbcConnectionNew", &all[2..]),
        ("fail:AdbcConnectionInit", &all[1..]),
        ("fail:AdbcStatementNew", &all[1..]),
    ];
    for (uri, expected) in cases {
        let (code, calls) = run(uri, "SELECT 1");
        assert_eq!(code, Some(2), "{uri}: {calls:?}");
        assert_eq!(releases(&calls), *expected, "{uri}: {calls:?}");
    }
    let (code, calls) = run("memory", "fail");
    assert_eq!(code, Some(2), "{calls:?}");
    assert_eq!(releases(&calls), all, "{calls:?}");
    let (code, calls) = run("memory", "SELECT 1");
    assert_eq!(code, Some(0), "{calls:?}");
    assert_eq!(releases(&calls), all, "{calls:?}");
}

#[test]
fn arg_is_passed_first_as_a_c_string() {
    assert_fault("stream_named", false, &["--arg", "utf8"], &["array.utf8"], ("array.utf8", "batches[0].children[0]"));
    assert_fault("array_named", true, &["--arg", "dict_keys"], &["array.dictionary"], ("array.dictionary", "array"));
    let (code, report) = check("stream_named", false, &["--arg", "clean"]);
    assert_eq!((code, report["findings"].as_array().unwrap().len()), (0, 0), "{report:#}");
}

#[test]
fn clean_producers_are_clean() {
    let (code, report) = check("stream_clean", false, &[]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!((report["clean"].as_bool(), report["batches"].as_u64(), report["rows"].as_u64()), (Some(true), Some(2), Some(6)));
    assert!(report["findings"].as_array().unwrap().is_empty());
    let (code, report) = check("array_clean", true, &[]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["rows"].as_u64(), Some(2));
}

#[test]
fn a_crashing_producer_is_a_crash_with_exit_code_2() {
    let (code, report) = check("stream_crash", false, &[]);
    assert_eq!(code, 2, "{report:#}");
    assert_eq!(report["crash"]["name"], "SIGSEGV");
    assert_eq!(report["crash"]["during"], "get_next (batch 0)");
}

#[test]
fn a_producer_that_cannot_be_loaded_or_called_is_exit_code_2() {
    let (code, report) = check("stream_unavailable", false, &[]);
    assert_eq!(code, 2);
    assert!(report["error"].as_str().unwrap().starts_with("stream_unavailable returned "), "{report:#}");
    let (code, report) = check("no_such_symbol", false, &[]);
    assert_eq!(code, 2);
    assert!(report["error"].as_str().unwrap().contains("no symbol no_such_symbol"), "{report:#}");
    let output = arrow_cabi(&["check", "--lib", "/nonexistent/lib.so", "--symbol", "f"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stdout).contains("could not be checked: cannot load /nonexistent/lib.so"));
}

#[test]
fn the_text_report_is_a_table_and_a_summary_line() {
    let output = arrow_cabi(&["check", "--lib", libraries().stream.to_str().unwrap(), "--symbol", "stream_children_leak"]);
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("rule") && lines[0].contains("where") && lines[0].ends_with("what was seen"), "{text}");
    assert!(lines.iter().any(|l| l.starts_with("release.children  batches[0].children[1]  the parent's release did not release it")), "{text}");
    assert!(lines.last().unwrap().ends_with("stream_children_leak: 2 findings (1 rules broken), 2 batches, 6 rows"), "{text}");
}

/// The ADBC SQLite driver, found as adbc_sqlite.rs finds it, or `None` (after a note) unless
/// `ARROW_CABI_REQUIRE_ADBC=1`.
fn sqlite_driver() -> Option<PathBuf> {
    let found = std::env::var("ADBC_SQLITE_LIB").map(PathBuf::from).ok().or_else(|| {
        let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
        let output = Command::new(python)
            .args(["-c", "import adbc_driver_sqlite; print(adbc_driver_sqlite._driver_path())"])
            .output()
            .ok()?;
        output.status.success().then(|| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()))
    });
    match found.filter(|path| path.is_file()) {
        Some(path) => Some(path),
        None if std::env::var("ARROW_CABI_REQUIRE_ADBC").is_ok_and(|v| v == "1") => {
            panic!("ADBC SQLite driver not found, and ARROW_CABI_REQUIRE_ADBC=1")
        }
        None => {
            eprintln!("SKIP: ADBC SQLite driver not found");
            None
        }
    }
}

#[test]
fn the_adbc_sqlite_drivers_results_are_clean() {
    let Some(driver) = sqlite_driver() else { return };
    let driver = driver.to_str().unwrap();
    let query = "WITH RECURSIVE t(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM t WHERE i < 5000) \
                 SELECT i, 'v' || i AS s, i * 0.5 AS f, CASE WHEN i % 3 = 0 THEN NULL ELSE i END AS n FROM t";
    let output = arrow_cabi(&["check", "--json", "--adbc-driver", driver, "--uri", ":memory:", "--query", query]);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(0), "{report:#}");
    assert_eq!(report["rows"].as_u64(), Some(5000));
    assert!(report["batches"].as_u64().unwrap() >= 1);

    let output = arrow_cabi(&["check", "--adbc-driver", driver, "--uri", ":memory:", "--query", "SELEC 1"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stdout).contains("AdbcStatementExecuteQuery failed"));
}
