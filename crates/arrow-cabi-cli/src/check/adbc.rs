//! The few ADBC 1.1.0 calls `check --adbc-driver` makes: a database with a `uri`, a connection, a
//! statement, and the query's result stream. Declarations as adbc.h has them.

use std::ffi::{c_char, c_void, CStr, CString};
use std::ptr;

use arrow_cabi::ffi_stream::FFI_ArrowArrayStream;
use arrow_cabi_sys::ArrowArrayStream;

use super::producer::lookup;

/// `AdbcStatusCode` (`uint8_t`); `ADBC_STATUS_OK` is 0.
type Status = u8;

/// `struct AdbcError`, zero-initialized by the caller.
#[repr(C)]
struct AdbcError {
    message: *mut c_char,
    vendor_code: i32,
    sqlstate: [c_char; 5],
    release: Option<unsafe extern "C" fn(*mut AdbcError)>,
    private_data: *mut c_void,
    private_driver: *mut c_void,
}

/// `struct AdbcDatabase`, `AdbcConnection` and `AdbcStatement` have this one layout.
#[repr(C)]
struct Handle {
    private_data: *mut c_void,
    private_driver: *mut c_void,
}

const _: () = assert!(std::mem::size_of::<AdbcError>() == 48 && std::mem::size_of::<Handle>() == 16);

type New = unsafe extern "C" fn(*mut Handle, *mut AdbcError) -> Status;
type SetOption = unsafe extern "C" fn(*mut Handle, *const c_char, *const c_char, *mut AdbcError) -> Status;
type Init = unsafe extern "C" fn(*mut Handle, *mut Handle, *mut AdbcError) -> Status;
type SetSqlQuery = unsafe extern "C" fn(*mut Handle, *const c_char, *mut AdbcError) -> Status;
type ExecuteQuery = unsafe extern "C" fn(*mut Handle, *mut ArrowArrayStream, *mut i64, *mut AdbcError) -> Status;

/// A database, a connection and a statement of one driver, released by [`Session::close`], or,
/// when dropped (on an error path: a failed `open` step, a failed query), by `Drop`: in either case
/// the statement, the connection and the database, in that order, each only if its `New` call
/// succeeded (ADBC: a handle whose `New` succeeded must be released, even if its `Init` failed).
pub struct Session {
    library: &'static libloading::Library,
    database: Box<Handle>,
    connection: Box<Handle>,
    statement: Box<Handle>,
    /// Whether each `New` succeeded: database, connection, statement.
    made: [bool; 3],
}

fn handle() -> Box<Handle> {
    Box::new(Handle { private_data: ptr::null_mut(), private_driver: ptr::null_mut() })
}

/// Runs one ADBC call with a fresh error, turning a failure into the driver's message.
fn call(what: &str, f: impl FnOnce(*mut AdbcError) -> Status) -> Result<(), String> {
    let mut error = AdbcError {
        message: ptr::null_mut(),
        vendor_code: 0,
        sqlstate: [0; 5],
        release: None,
        private_data: ptr::null_mut(),
        private_driver: ptr::null_mut(),
    };
    let status = f(&mut error);
    let message = if error.message.is_null() {
        String::new()
    } else {
        // SAFETY: a driver-set message is a NUL-terminated string owned by the error until its release.
        unsafe { CStr::from_ptr(error.message) }.to_string_lossy().into_owned()
    };
    if let Some(release) = error.release {
        // SAFETY: the driver set this release for this error; called once.
        unsafe { release(&mut error) };
    }
    match status {
        0 => Ok(()),
        status => Err(format!("{what} failed (ADBC status {status}): {message}")),
    }
}

fn c_string(text: &str) -> Result<CString, String> {
    CString::new(text).map_err(|_| format!("{text:?} holds a NUL byte"))
}

impl Session {
    /// Opens a database at `uri` and a connection to it, and makes a statement.
    pub fn open(library: &'static libloading::Library, uri: &str) -> Result<Session, String> {
        // SAFETY: each symbol has the type adbc.h declares, written out above.
        let (new_db, set_option, init_db, new_conn, init_conn, new_stmt) = unsafe {
            (
                lookup::<New>(library, "AdbcDatabaseNew")?,
                lookup::<SetOption>(library, "AdbcDatabaseSetOption")?,
                lookup::<New>(library, "AdbcDatabaseInit")?,
                lookup::<New>(library, "AdbcConnectionNew")?,
                lookup::<Init>(library, "AdbcConnectionInit")?,
                lookup::<Init>(library, "AdbcStatementNew")?,
            )
        };
        let (key, value) = (c_string("uri")?, c_string(uri)?);
        let mut session =
            Session { library, database: handle(), connection: handle(), statement: handle(), made: [false; 3] };
        // SAFETY: the calls in adbc.h's order, each on a zero-initialized handle of its own; the
        // strings outlive the calls. On an error `session` is dropped, releasing what was made.
        unsafe {
            call("AdbcDatabaseNew", |e| new_db(&mut *session.database, e))?;
            session.made[0] = true;
            call("AdbcDatabaseSetOption(uri)", |e| set_option(&mut *session.database, key.as_ptr(), value.as_ptr(), e))?;
            call("AdbcDatabaseInit", |e| init_db(&mut *session.database, e))?;
            call("AdbcConnectionNew", |e| new_conn(&mut *session.connection, e))?;
            session.made[1] = true;
            call("AdbcConnectionInit", |e| init_conn(&mut *session.connection, &mut *session.database, e))?;
            call("AdbcStatementNew", |e| new_stmt(&mut *session.connection, &mut *session.statement, e))?;
            session.made[2] = true;
        }
        Ok(session)
    }

    /// Runs `query` and returns its result stream.
    pub fn execute(&mut self, query: &str) -> Result<FFI_ArrowArrayStream, String> {
        // SAFETY: the symbols have the types adbc.h declares.
        let (set_query, execute) = unsafe {
            (lookup::<SetSqlQuery>(self.library, "AdbcStatementSetSqlQuery")?, lookup::<ExecuteQuery>(self.library, "AdbcStatementExecuteQuery")?)
        };
        let query = c_string(query)?;
        let statement: *mut Handle = &mut *self.statement;
        let mut stream = FFI_ArrowArrayStream::empty();
        let mut rows = -1_i64;
        // SAFETY: a statement made by `open`; the query string outlives the call; `stream` is a
        // released stream for the driver to fill.
        unsafe {
            call("AdbcStatementSetSqlQuery", |e| set_query(statement, query.as_ptr(), e))?;
            call("AdbcStatementExecuteQuery", |e| execute(statement, stream.as_mut_ptr().cast(), &mut rows, e))?;
        }
        Ok(stream)
    }

    /// Releases the statement, the connection and the database, in that order; the first failure
    /// is returned (after the others were released too).
    pub fn close(mut self) -> Result<(), String> {
        self.release()
    }

    /// Releases every handle whose `New` succeeded, statement first, and marks it released; each is
    /// released even when an earlier release failed, and the first failure is returned.
    fn release(&mut self) -> Result<(), String> {
        let mut first_error = Ok(());
        for (index, name) in [(2, "AdbcStatementRelease"), (1, "AdbcConnectionRelease"), (0, "AdbcDatabaseRelease")] {
            if !std::mem::take(&mut self.made[index]) {
                continue;
            }
            let handle: *mut Handle = match index {
                2 => &mut *self.statement,
                1 => &mut *self.connection,
                _ => &mut *self.database,
            };
            // SAFETY: the symbol has the type adbc.h declares (`AdbcXRelease(handle, error)`); the
            // handle was made by its `New` and is released once (`made` is cleared first).
            let result = unsafe { lookup::<New>(self.library, name) }.and_then(|release| call(name, |e| unsafe { release(handle, e) }));
            if first_error.is_ok() {
                first_error = result;
            }
        }
        first_error
    }
}

impl Drop for Session {
    /// Releases what `close` did not (an error path); a failure to release is only printed.
    fn drop(&mut self) {
        if let Err(why) = self.release() {
            eprintln!("arrow-cabi check: {why}");
        }
    }
}
