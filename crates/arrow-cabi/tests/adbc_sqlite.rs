//! A C producer and consumer: the ADBC SQLite driver (shipped in the `adbc-driver-sqlite` wheel),
//! loaded with `libloading` and driven through the ADBC C API, no Python at run time.
//!
//! 1. A query's result, the driver's C `ArrowArrayStream`, read with `RecordBatchStreamReader`.
//! 2. A stream exported by arrow-cabi (`export_batches`) bound with `AdbcStatementBindStream` and
//!    ingested into a table, then read back with a `SELECT`.
//!
//! The driver is found through `ADBC_SQLITE_LIB` (a path to `libadbc_driver_sqlite.so`), else by asking
//! the project's virtualenv (`<repo>/.venv`) for `adbc_driver_sqlite._driver_path()`. Where neither
//! works the tests print a skip message and pass, unless `ARROW_CABI_REQUIRE_ADBC=1` is set.

use std::ffi::{c_char, c_void, CStr, CString};
use std::path::PathBuf;
use std::process::Command;
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::{
    Array, ArrayRef, Float64Array, Int64Array, RecordBatch, RecordBatchReader, StringArray,
};
use arrow_cabi::ffi_stream::{export_batches, RecordBatchStreamReader, FFI_ArrowArrayStream};
use arrow_cabi::Validation;
use arrow_cabi_sys::ArrowArrayStream;
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};

// ---------------------------------------------------------------------------------------------
// The few ADBC declarations used, exactly as adbc.h (ADBC 1.1.0) declares them.

/// `AdbcStatusCode`: `uint8_t`; `ADBC_STATUS_OK` is 0.
type AdbcStatusCode = u8;
const ADBC_STATUS_OK: AdbcStatusCode = 0;

/// `struct AdbcError`. The caller zero-initializes it.
#[repr(C)]
struct AdbcError {
    message: *mut c_char,
    vendor_code: i32,
    sqlstate: [c_char; 5],
    release: Option<unsafe extern "C" fn(error: *mut AdbcError)>,
    private_data: *mut c_void,
    private_driver: *mut c_void,
}

/// `struct AdbcDatabase`.
#[repr(C)]
struct AdbcDatabase {
    private_data: *mut c_void,
    private_driver: *mut c_void,
}

/// `struct AdbcConnection`.
#[repr(C)]
struct AdbcConnection {
    private_data: *mut c_void,
    private_driver: *mut c_void,
}

/// `struct AdbcStatement`.
#[repr(C)]
struct AdbcStatement {
    private_data: *mut c_void,
    private_driver: *mut c_void,
}

impl AdbcError {
    fn new() -> Self {
        AdbcError {
            message: ptr::null_mut(),
            vendor_code: 0,
            sqlstate: [0; 5],
            release: None,
            private_data: ptr::null_mut(),
            private_driver: ptr::null_mut(),
        }
    }
}

const _: () = {
    assert!(std::mem::size_of::<AdbcError>() == 48);
    assert!(std::mem::offset_of!(AdbcError, release) == 24);
    assert!(std::mem::size_of::<AdbcStatement>() == 16);
};

type DatabaseNew = unsafe extern "C" fn(*mut AdbcDatabase, *mut AdbcError) -> AdbcStatusCode;
type DatabaseSetOption = unsafe extern "C" fn(
    *mut AdbcDatabase,
    *const c_char,
    *const c_char,
    *mut AdbcError,
) -> AdbcStatusCode;
type DatabaseInit = unsafe extern "C" fn(*mut AdbcDatabase, *mut AdbcError) -> AdbcStatusCode;
type DatabaseRelease = unsafe extern "C" fn(*mut AdbcDatabase, *mut AdbcError) -> AdbcStatusCode;
type ConnectionNew = unsafe extern "C" fn(*mut AdbcConnection, *mut AdbcError) -> AdbcStatusCode;
type ConnectionInit =
    unsafe extern "C" fn(*mut AdbcConnection, *mut AdbcDatabase, *mut AdbcError) -> AdbcStatusCode;
type ConnectionRelease =
    unsafe extern "C" fn(*mut AdbcConnection, *mut AdbcError) -> AdbcStatusCode;
type StatementNew =
    unsafe extern "C" fn(*mut AdbcConnection, *mut AdbcStatement, *mut AdbcError) -> AdbcStatusCode;
type StatementRelease = unsafe extern "C" fn(*mut AdbcStatement, *mut AdbcError) -> AdbcStatusCode;
type StatementSetSqlQuery =
    unsafe extern "C" fn(*mut AdbcStatement, *const c_char, *mut AdbcError) -> AdbcStatusCode;
type StatementSetOption = unsafe extern "C" fn(
    *mut AdbcStatement,
    *const c_char,
    *const c_char,
    *mut AdbcError,
) -> AdbcStatusCode;
type StatementExecuteQuery = unsafe extern "C" fn(
    *mut AdbcStatement,
    *mut ArrowArrayStream,
    *mut i64,
    *mut AdbcError,
) -> AdbcStatusCode;
type StatementBindStream = unsafe extern "C" fn(
    *mut AdbcStatement,
    *mut ArrowArrayStream,
    *mut AdbcError,
) -> AdbcStatusCode;

const INGEST_TARGET_TABLE: &str = "adbc.ingest.target_table";

// ---------------------------------------------------------------------------------------------
// Loading the driver.

/// The driver's entry points. The library stays loaded for the life of the process (a C++ library
/// with static state is not unloaded mid-test).
struct Driver {
    database_new: DatabaseNew,
    database_set_option: DatabaseSetOption,
    database_init: DatabaseInit,
    database_release: DatabaseRelease,
    connection_new: ConnectionNew,
    connection_init: ConnectionInit,
    connection_release: ConnectionRelease,
    statement_new: StatementNew,
    statement_release: StatementRelease,
    statement_set_sql_query: StatementSetSqlQuery,
    statement_set_option: StatementSetOption,
    statement_execute_query: StatementExecuteQuery,
    statement_bind_stream: StatementBindStream,
}

/// Where the driver is, or why it could not be found.
fn locate() -> Result<PathBuf, String> {
    if let Ok(path) = std::env::var("ADBC_SQLITE_LIB") {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("ADBC_SQLITE_LIB={} is not a file", path.display()))
        };
    }
    let python = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../.venv/bin/python"
    ));
    let output = Command::new(&python)
        .args([
            "-c",
            "import adbc_driver_sqlite; print(adbc_driver_sqlite._driver_path())",
        ])
        .output()
        .map_err(|e| format!("running {}: {e}", python.display()))?;
    if !output.status.success() {
        return Err(format!(
            "{} could not import adbc_driver_sqlite: {}",
            python.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let path = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "the venv named {}, which is not a file",
            path.display()
        ))
    }
}

/// The loaded driver, or `None` (after a skip message) where it is not installed.
fn driver() -> Option<&'static Driver> {
    static DRIVER: OnceLock<Result<Driver, String>> = OnceLock::new();
    let loaded = DRIVER.get_or_init(|| {
        let path = locate()?;
        // SAFETY: loading the ADBC SQLite driver runs only its C++ static initializers.
        let library = unsafe { libloading::Library::new(&path) }
            .map_err(|e| format!("loading {}: {e}", path.display()))?;
        let library: &'static libloading::Library = Box::leak(Box::new(library));
        macro_rules! symbol {
            ($name:literal) => {
                // SAFETY: the symbol has the type adbc.h declares, written out above.
                *unsafe { library.get(concat!($name, "\0").as_bytes()) }
                    .map_err(|e| format!("{}: {e}", $name))?
            };
        }
        Ok(Driver {
            database_new: symbol!("AdbcDatabaseNew"),
            database_set_option: symbol!("AdbcDatabaseSetOption"),
            database_init: symbol!("AdbcDatabaseInit"),
            database_release: symbol!("AdbcDatabaseRelease"),
            connection_new: symbol!("AdbcConnectionNew"),
            connection_init: symbol!("AdbcConnectionInit"),
            connection_release: symbol!("AdbcConnectionRelease"),
            statement_new: symbol!("AdbcStatementNew"),
            statement_release: symbol!("AdbcStatementRelease"),
            statement_set_sql_query: symbol!("AdbcStatementSetSqlQuery"),
            statement_set_option: symbol!("AdbcStatementSetOption"),
            statement_execute_query: symbol!("AdbcStatementExecuteQuery"),
            statement_bind_stream: symbol!("AdbcStatementBindStream"),
        })
    });
    match loaded {
        Ok(driver) => Some(driver),
        Err(why) if std::env::var("ARROW_CABI_REQUIRE_ADBC").is_ok_and(|v| v == "1") => {
            panic!("ADBC SQLite driver not available ({why}), and ARROW_CABI_REQUIRE_ADBC=1")
        }
        Err(why) => {
            eprintln!("SKIP adbc_sqlite: ADBC SQLite driver not available: {why}");
            None
        }
    }
}

/// Turns a status into `Ok` or the driver's message, releasing the error.
fn status(what: &str, code: AdbcStatusCode, error: &mut AdbcError) -> Result<(), String> {
    let message = if error.message.is_null() {
        String::new()
    } else {
        // SAFETY: a driver-set message is a NUL-terminated string owned by the error until its release.
        unsafe { CStr::from_ptr(error.message) }
            .to_string_lossy()
            .into_owned()
    };
    if let Some(release) = error.release {
        // SAFETY: the driver set this release for this error; called once, then the error is reset.
        unsafe { release(error) };
    }
    *error = AdbcError::new();
    if code == ADBC_STATUS_OK {
        Ok(())
    } else {
        Err(format!("{what}: ADBC status {code}: {message}"))
    }
}

fn c(text: &str) -> CString {
    CString::new(text).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Safe-ish RAII wrappers for the test: a connection to a fresh in-memory database.

struct Session {
    driver: &'static Driver,
    database: Box<AdbcDatabase>,
    connection: Box<AdbcConnection>,
}

impl Session {
    fn open(driver: &'static Driver) -> Self {
        let mut error = AdbcError::new();
        let mut database = Box::new(AdbcDatabase {
            private_data: ptr::null_mut(),
            private_driver: ptr::null_mut(),
        });
        let mut connection = Box::new(AdbcConnection {
            private_data: ptr::null_mut(),
            private_driver: ptr::null_mut(),
        });
        // SAFETY: each call gets zeroed structs and a zeroed error, in the order adbc.h prescribes.
        unsafe {
            let code = (driver.database_new)(&mut *database, &mut error);
            status("AdbcDatabaseNew", code, &mut error).unwrap();
            let code = (driver.database_set_option)(
                &mut *database,
                c("uri").as_ptr(),
                c(":memory:").as_ptr(),
                &mut error,
            );
            status("AdbcDatabaseSetOption(uri)", code, &mut error).unwrap();
            let code = (driver.database_init)(&mut *database, &mut error);
            status("AdbcDatabaseInit", code, &mut error).unwrap();
            let code = (driver.connection_new)(&mut *connection, &mut error);
            status("AdbcConnectionNew", code, &mut error).unwrap();
            let code = (driver.connection_init)(&mut *connection, &mut *database, &mut error);
            status("AdbcConnectionInit", code, &mut error).unwrap();
        }
        Session {
            driver,
            database,
            connection,
        }
    }

    fn statement(&mut self) -> Statement {
        let mut error = AdbcError::new();
        let mut statement = Box::new(AdbcStatement {
            private_data: ptr::null_mut(),
            private_driver: ptr::null_mut(),
        });
        // SAFETY: an initialized connection and a zeroed statement.
        let code = unsafe {
            (self.driver.statement_new)(&mut *self.connection, &mut *statement, &mut error)
        };
        status("AdbcStatementNew", code, &mut error).unwrap();
        Statement {
            driver: self.driver,
            statement,
        }
    }

    /// Runs `sql` and returns the driver's result stream, moved into an arrow-cabi owner.
    fn query(&mut self, sql: &str) -> (Statement, FFI_ArrowArrayStream) {
        let mut statement = self.statement();
        let mut stream = FFI_ArrowArrayStream::empty();
        let mut rows = -1i64;
        let mut error = AdbcError::new();
        // SAFETY: a new statement, a NUL-terminated query, a writable released stream.
        unsafe {
            let code = (self.driver.statement_set_sql_query)(
                &mut *statement.statement,
                c(sql).as_ptr(),
                &mut error,
            );
            status("AdbcStatementSetSqlQuery", code, &mut error).unwrap();
            let code = (self.driver.statement_execute_query)(
                &mut *statement.statement,
                stream.as_mut_ptr(),
                &mut rows,
                &mut error,
            );
            status("AdbcStatementExecuteQuery", code, &mut error).unwrap();
        }
        assert!(!stream.is_released(), "the driver filled the stream");
        (statement, stream)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let mut error = AdbcError::new();
        // SAFETY: every statement of this session was released before (they are dropped first).
        unsafe {
            let code = (self.driver.connection_release)(&mut *self.connection, &mut error);
            let connection = status("AdbcConnectionRelease", code, &mut error);
            let code = (self.driver.database_release)(&mut *self.database, &mut error);
            let database = status("AdbcDatabaseRelease", code, &mut error);
            if !std::thread::panicking() {
                connection.unwrap();
                database.unwrap();
            }
        }
    }
}

struct Statement {
    driver: &'static Driver,
    statement: Box<AdbcStatement>,
}

impl Drop for Statement {
    fn drop(&mut self) {
        let mut error = AdbcError::new();
        // SAFETY: a statement made by AdbcStatementNew, released once.
        let code = unsafe { (self.driver.statement_release)(&mut *self.statement, &mut error) };
        let result = status("AdbcStatementRelease", code, &mut error);
        if !std::thread::panicking() {
            result.unwrap();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Tests.

const ROWS: i64 = 5000;

/// 5000 rows of integer, text (with some NULLs) and real columns.
const QUERY: &str = "WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < 4999) \
                     SELECT i, CASE WHEN i % 7 = 3 THEN NULL ELSE 'row ' || i END AS s, i * 0.25 AS f FROM seq";

#[test]
#[cfg_attr(miri, ignore = "loads the ADBC SQLite driver, a C library, with dlopen (and asks the virtualenv's Python for its path): Miri runs no foreign code")]
fn a_query_result_from_the_c_driver_reads_as_batches() {
    let Some(driver) = driver() else { return };
    let mut session = Session::open(driver);
    let (statement, stream) = session.query(QUERY);

    // Full validation: every offset and UTF-8 byte the driver produced is checked.
    let reader = RecordBatchStreamReader::with_validation(stream, Validation::Full)
        .expect("driver stream schema");
    let schema = reader.schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["i", "s", "f"]);
    let types: Vec<&DataType> = schema.fields().iter().map(|f| f.data_type()).collect();
    assert_eq!(
        types,
        [&DataType::Int64, &DataType::Utf8, &DataType::Float64]
    );

    let batches = reader
        .collect::<Result<Vec<_>, ArrowError>>()
        .expect("driver batches");
    assert!(
        batches.len() > 1,
        "the driver streams more than one batch ({} here)",
        batches.len()
    );
    let mut next = 0i64;
    for batch in &batches {
        let i = batch.column(0).as_primitive::<Int64Type>();
        let s = batch.column(1).as_string::<i32>();
        let f = batch.column(2).as_primitive::<Float64Type>();
        for row in 0..batch.num_rows() {
            assert_eq!(i.value(row), next);
            if next % 7 == 3 {
                assert!(s.is_null(row), "row {next}: NULL text expected");
            } else {
                assert_eq!(s.value(row), format!("row {next}"));
            }
            assert_eq!(f.value(row), next as f64 * 0.25);
            next += 1;
        }
    }
    assert_eq!(next, ROWS);
    // The batches outlive the driver's stream and statement.
    drop(statement);
    assert_eq!(
        batches.iter().map(RecordBatch::num_rows).sum::<usize>(),
        ROWS as usize
    );
}

/// An iterator of batches that records being dropped (the producer's release drops it).
struct Tracked {
    batches: std::vec::IntoIter<Result<RecordBatch, ArrowError>>,
    dropped: Arc<AtomicBool>,
}

impl Iterator for Tracked {
    type Item = Result<RecordBatch, ArrowError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.batches.next()
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.dropped.store(true, Ordering::SeqCst);
    }
}

fn ingest_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("name", DataType::Utf8, true),
        Field::new("score", DataType::Float64, true),
    ]))
}

fn ingest_batch(start: i64, rows: i64) -> RecordBatch {
    let ids: Vec<i64> = (start..start + rows).collect();
    let names: Vec<Option<String>> = ids
        .iter()
        .map(|id| (id % 5 != 0).then(|| format!("näme-{id}-{}", "x".repeat((*id % 13) as usize))))
        .collect();
    let scores: Vec<Option<f64>> = ids
        .iter()
        .map(|id| (id % 3 != 1).then_some(*id as f64 / 8.0))
        .collect();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(ids)),
        Arc::new(StringArray::from(names)),
        Arc::new(Float64Array::from(scores)),
    ];
    RecordBatch::try_new(ingest_schema(), columns).unwrap()
}

/// Binds `stream` for ingestion into `table` and runs it; returns the rows the driver reported.
fn ingest(
    session: &mut Session,
    table: &str,
    stream: &mut FFI_ArrowArrayStream,
) -> Result<i64, String> {
    let mut statement = session.statement();
    let mut error = AdbcError::new();
    let mut rows = -1i64;
    // SAFETY: a new statement; the stream is valid and the driver moves it out of `stream`; `out` is
    // NULL for an ingestion (a non-NULL one is refused with "Cannot ingest with result set").
    unsafe {
        let code = (session.driver.statement_set_option)(
            &mut *statement.statement,
            c(INGEST_TARGET_TABLE).as_ptr(),
            c(table).as_ptr(),
            &mut error,
        );
        status("AdbcStatementSetOption(target_table)", code, &mut error)?;
        let code = (session.driver.statement_bind_stream)(
            &mut *statement.statement,
            stream.as_mut_ptr(),
            &mut error,
        );
        status("AdbcStatementBindStream", code, &mut error)?;
        assert!(
            stream.is_released(),
            "the driver took ownership of the bound stream"
        );
        let code = (session.driver.statement_execute_query)(
            &mut *statement.statement,
            ptr::null_mut(),
            &mut rows,
            &mut error,
        );
        status("AdbcStatementExecuteQuery(ingest)", code, &mut error)?;
    }
    drop(statement);
    Ok(rows)
}

#[test]
#[cfg_attr(miri, ignore = "loads the ADBC SQLite driver, a C library, with dlopen (and asks the virtualenv's Python for its path): Miri runs no foreign code")]
fn a_stream_exported_by_arrow_cabi_is_ingested_by_the_c_driver() {
    let Some(driver) = driver() else { return };
    let mut session = Session::open(driver);

    let batches = vec![
        ingest_batch(0, 1000),
        ingest_batch(1000, 1500),
        ingest_batch(2500, 0),
        ingest_batch(2500, 499),
    ];
    let total: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let dropped = Arc::new(AtomicBool::new(false));
    let tracked = Tracked {
        batches: batches
            .clone()
            .into_iter()
            .map(Ok)
            .collect::<Vec<_>>()
            .into_iter(),
        dropped: dropped.clone(),
    };
    let mut stream = export_batches(ingest_schema(), tracked);

    let rows = ingest(&mut session, "ingested", &mut stream).expect("ingest");
    assert!(rows == total as i64 || rows == -1, "rows affected: {rows}");
    assert!(
        dropped.load(Ordering::SeqCst),
        "the driver released our stream once it was done"
    );

    // Read it back.
    let (statement, stream) = session.query("SELECT id, name, score FROM ingested ORDER BY id");
    let reader = RecordBatchStreamReader::try_new(stream).unwrap();
    let types: Vec<DataType> = reader
        .schema()
        .fields()
        .iter()
        .map(|f| f.data_type().clone())
        .collect();
    assert_eq!(types, [DataType::Int64, DataType::Utf8, DataType::Float64]);
    let back = reader.collect::<Result<Vec<_>, _>>().unwrap();
    drop(statement);

    let flatten = |batches: &[RecordBatch]| {
        let mut rows = Vec::new();
        for batch in batches {
            let id = batch.column(0).as_primitive::<Int64Type>();
            let name = batch.column(1).as_string::<i32>();
            let score = batch.column(2).as_primitive::<Float64Type>();
            for row in 0..batch.num_rows() {
                rows.push((
                    id.value(row),
                    (!name.is_null(row)).then(|| name.value(row).to_owned()),
                    (!score.is_null(row)).then(|| score.value(row)),
                ));
            }
        }
        rows
    };
    let expected = flatten(&batches);
    let got = flatten(&back);
    assert_eq!(got.len(), total);
    assert_eq!(got, expected);
}

#[test]
#[cfg_attr(miri, ignore = "loads the ADBC SQLite driver, a C library, with dlopen (and asks the virtualenv's Python for its path): Miri runs no foreign code")]
fn a_producer_error_reaches_the_c_driver() {
    let Some(driver) = driver() else { return };
    let mut session = Session::open(driver);
    let dropped = Arc::new(AtomicBool::new(false));
    let items = vec![
        Ok(ingest_batch(0, 10)),
        Err(ArrowError::IoError(
            "the source went away".into(),
            std::io::Error::other("gone"),
        )),
    ];
    let mut stream = export_batches(
        ingest_schema(),
        Tracked {
            batches: items.into_iter(),
            dropped: dropped.clone(),
        },
    );
    let outcome = ingest(&mut session, "broken", &mut stream);
    let message = outcome.expect_err("an ingestion whose stream fails must fail");
    println!("driver reported: {message}");
    assert!(
        message.contains("the source went away"),
        "the driver passes on our get_last_error message: {message}"
    );
    assert!(
        dropped.load(Ordering::SeqCst),
        "the driver released our stream after the failure"
    );
}
