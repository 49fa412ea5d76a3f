//! The producers `check` calls: a symbol of a shared library (a stream or an array, with or without
//! a string argument) or an ADBC driver's query result.

use std::ffi::{c_char, c_int, CString};
use std::fmt;
use std::path::PathBuf;

use arrow_cabi::check::{check_array, check_device_array, check_device_stream, check_stream_with, Observer, Options, Summary};
use arrow_cabi::device::{FFI_ArrowDeviceArray, FFI_ArrowDeviceArrayStream};
use arrow_cabi::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use arrow_cabi::ffi_stream::FFI_ArrowArrayStream;
use arrow_cabi_sys::{ArrowArray, ArrowArrayStream, ArrowDeviceArray, ArrowDeviceArrayStream, ArrowSchema};

use super::adbc;

/// What a `--symbol` hands over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `int NAME([const char*,] struct ArrowArrayStream* out)`.
    Stream,
    /// `int NAME([const char*,] struct ArrowArray* out, struct ArrowSchema* out)`.
    Array,
    /// `int NAME([const char*,] struct ArrowDeviceArrayStream* out)`.
    DeviceStream,
    /// `int NAME([const char*,] struct ArrowDeviceArray* out, struct ArrowSchema* out)`.
    DeviceArray,
}

impl Shape {
    /// The shape `--array` and `--device` ask for.
    pub fn new(array: bool, device: bool) -> Shape {
        match (array, device) {
            (false, false) => Shape::Stream,
            (true, false) => Shape::Array,
            (false, true) => Shape::DeviceStream,
            (true, true) => Shape::DeviceArray,
        }
    }
}

/// A producer to check.
#[derive(Debug, Clone)]
pub enum Producer {
    /// A symbol of a shared library.
    Symbol {
        /// The library.
        lib: PathBuf,
        /// The symbol's name.
        symbol: String,
        /// What it hands over.
        shape: Shape,
        /// The `const char*` passed first, if any.
        arg: Option<String>,
    },
    /// An ADBC driver's result for one query.
    Adbc {
        /// The driver's shared library.
        driver: PathBuf,
        /// The database's `uri` option.
        uri: String,
        /// The query.
        query: String,
    },
}

/// A producer and how to check it.
#[derive(Debug, Clone)]
pub struct Check {
    /// The producer.
    pub producer: Producer,
    /// The stream options (the batch limit).
    pub options: Options,
}

impl fmt::Display for Producer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Producer::Symbol { lib, symbol, arg, .. } => {
                write!(f, "{}:{symbol}", lib.display())?;
                match arg {
                    Some(arg) => write!(f, "({arg:?})"),
                    None => Ok(()),
                }
            }
            Producer::Adbc { driver, query, .. } => write!(f, "{} {query:?}", driver.display()),
        }
    }
}

impl Check {
    /// Loads the producer, calls it and checks what it hands over. `Err` when it cannot be loaded or
    /// its entry point fails.
    pub fn run(&self, observer: &mut dyn Observer) -> Result<Summary, String> {
        let options = &self.options;
        match &self.producer {
            Producer::Symbol { lib, symbol, shape, arg } => {
                let library = load(lib)?;
                let arg = arg.as_deref().map(CString::new).transpose().map_err(|_| "--arg holds a NUL byte".to_owned())?;
                observer.step(&format!("calling {symbol}"));
                match shape {
                    Shape::Stream => {
                        let mut stream = FFI_ArrowArrayStream::empty();
                        // SAFETY: the user names a symbol of the type the shape and --arg declare.
                        unsafe { call_into(library, symbol, arg.as_ref(), stream.as_mut_ptr().cast::<ArrowArrayStream>()) }?;
                        Ok(check_stream_with(stream, options, observer))
                    }
                    Shape::Array => {
                        let (mut array, mut schema) = (FFI_ArrowArray::empty(), FFI_ArrowSchema::empty());
                        let out = (array.as_mut_ptr().cast::<ArrowArray>(), schema.as_mut_ptr().cast::<ArrowSchema>());
                        // SAFETY: as above.
                        unsafe { call_into_pair(library, symbol, arg.as_ref(), out) }?;
                        Ok(check_array(array, schema, observer))
                    }
                    Shape::DeviceStream => {
                        let mut stream = FFI_ArrowDeviceArrayStream::empty();
                        // SAFETY: as above.
                        unsafe { call_into(library, symbol, arg.as_ref(), stream.as_mut_ptr().cast::<ArrowDeviceArrayStream>()) }?;
                        Ok(check_device_stream(stream, options, observer))
                    }
                    Shape::DeviceArray => {
                        let (mut array, mut schema) = (FFI_ArrowDeviceArray::empty(), FFI_ArrowSchema::empty());
                        let out = (array.as_mut_ptr().cast::<ArrowDeviceArray>(), schema.as_mut_ptr().cast::<ArrowSchema>());
                        // SAFETY: as above.
                        unsafe { call_into_pair(library, symbol, arg.as_ref(), out) }?;
                        Ok(check_device_array(array, schema, observer))
                    }
                }
            }
            Producer::Adbc { driver, uri, query } => {
                let library = load(driver)?;
                // A session opened in part, or whose query fails, is released when dropped here.
                let mut session = adbc::Session::open(library, uri)?;
                observer.step("AdbcStatementExecuteQuery");
                let stream = session.execute(query)?;
                let summary = check_stream_with(stream, options, observer);
                session.close()?;
                Ok(summary)
            }
        }
    }
}

/// Loads `path`, which stays loaded until the checking process ends (a library with static state
/// is not unloaded behind structs it may still own).
fn load(path: &PathBuf) -> Result<&'static libloading::Library, String> {
    // SAFETY: loading a library runs its initializers: the user asks to check that library.
    let library = unsafe { libloading::Library::new(path) }.map_err(|e| format!("cannot load {}: {e}", path.display()))?;
    Ok(Box::leak(Box::new(library)))
}

/// The symbol `name` of `library`, as a `T` (a function pointer type).
///
/// # Safety
/// The symbol has type `T`.
pub(super) unsafe fn lookup<T: Copy>(library: &libloading::Library, name: &str) -> Result<T, String> {
    // SAFETY: per the caller.
    unsafe { library.get::<T>(name.as_bytes()) }.map(|symbol| *symbol).map_err(|e| format!("no symbol {name}: {e}"))
}

/// Calls the entry point `int NAME([const char*,] T* out)` (a stream's shape, the `const char*`
/// exactly when `arg` is given); `Err` unless it returns 0.
///
/// # Safety
/// `symbol` has that type.
unsafe fn call_into<T>(library: &libloading::Library, symbol: &str, arg: Option<&CString>, out: *mut T) -> Result<(), String> {
    // SAFETY: per the caller.
    let code = unsafe {
        match arg {
            None => lookup::<unsafe extern "C" fn(*mut T) -> c_int>(library, symbol)?(out),
            Some(arg) => lookup::<unsafe extern "C" fn(*const c_char, *mut T) -> c_int>(library, symbol)?(arg.as_ptr(), out),
        }
    };
    returned(symbol, code)
}

/// Calls the entry point `int NAME([const char*,] T* array, struct ArrowSchema* schema)` (an
/// array's shape, the `const char*` exactly when `arg` is given); `Err` unless it returns 0.
///
/// # Safety
/// `symbol` has that type.
unsafe fn call_into_pair<T>(
    library: &libloading::Library,
    symbol: &str,
    arg: Option<&CString>,
    (array, schema): (*mut T, *mut ArrowSchema),
) -> Result<(), String> {
    // SAFETY: per the caller.
    let code = unsafe {
        match arg {
            None => lookup::<unsafe extern "C" fn(*mut T, *mut ArrowSchema) -> c_int>(library, symbol)?(array, schema),
            Some(arg) => lookup::<unsafe extern "C" fn(*const c_char, *mut T, *mut ArrowSchema) -> c_int>(library, symbol)?(
                arg.as_ptr(),
                array,
                schema,
            ),
        }
    };
    returned(symbol, code)
}

fn returned(symbol: &str, code: c_int) -> Result<(), String> {
    match code {
        0 => Ok(()),
        code => Err(format!("{symbol} returned {code}")),
    }
}
