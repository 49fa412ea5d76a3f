//! The one error type of the crate, the field paths its messages name, and errno codes both ways.

use std::fmt;

use arrow_schema::ArrowError;

/// Everything that can go wrong moving data across the C ABI.
///
/// Each variant that comes from a malformed foreign struct names the field path where the fault is,
/// such as `schema.children[2].dictionary.format`. Converting into [`ArrowError`] keeps the message.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A foreign struct broke a rule of the interface; `path` says where.
    #[error("{path}: {message}")]
    Invalid {
        /// The field path, e.g. `array.children[0].buffers[1]`.
        path: String,
        /// What was wrong there.
        message: String,
    },
    /// The data is well formed but of a kind this crate does not move (e.g. a non-CPU device).
    #[error("{0}")]
    Unsupported(String),
    /// A stream producer's callback returned an error code.
    #[error("stream producer failed with {} ({code}): {message}", errno_name(*.code))]
    Producer {
        /// The errno-like code the callback returned.
        code: i32,
        /// The producer's `get_last_error` message, or a note that it had none.
        message: String,
    },
    /// A consumer's handler callback (`on_schema`, `on_next_task` of an async device stream)
    /// returned a non-zero code: the consumer asked the producer to stop.
    #[error("the consumer's {callback} returned {} ({code}); the stream was stopped", errno_name(*.code))]
    Consumer {
        /// The handler callback that refused.
        callback: &'static str,
        /// The errno-like code it returned.
        code: i32,
    },
    /// Rust code behind a C callback panicked; the panic was caught at the boundary.
    #[error("panic in a C callback: {0}")]
    Panic(String),
    /// An error from arrow-rs, e.g. from a reader being exported.
    #[error(transparent)]
    Arrow(#[from] ArrowError),
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The errno-like code a producer reports for this error, as Arrow C++ maps them:
    /// I/O errors are `EIO`, unsupported operations `ENOSYS`, allocation failures `ENOMEM`, the rest `EINVAL`.
    pub fn errno(&self) -> i32 {
        match self {
            Error::Arrow(ArrowError::IoError(..)) => libc::EIO,
            Error::Arrow(ArrowError::NotYetImplemented(_)) | Error::Unsupported(_) => libc::ENOSYS,
            Error::Arrow(ArrowError::MemoryError(_)) => libc::ENOMEM,
            Error::Producer { code, .. } | Error::Consumer { code, .. } => *code,
            _ => libc::EINVAL,
        }
    }

    /// Builds the error a consumer reports for a producer's non-zero return `code` and its message.
    pub(crate) fn from_errno(code: i32, message: String) -> Self {
        Error::Producer { code, message }
    }
}

/// The symbolic name of the errno codes the stream interface recommends.
pub(crate) fn errno_name(code: i32) -> &'static str {
    match code {
        libc::EINVAL => "EINVAL",
        libc::ENOMEM => "ENOMEM",
        libc::EIO => "EIO",
        libc::ENOSYS => "ENOSYS",
        libc::EDOM => "EDOM",
        libc::ERANGE => "ERANGE",
        libc::ECANCELED => "ECANCELED",
        _ => "error code",
    }
}

impl From<Error> for ArrowError {
    /// Maps producer error codes the way Arrow C++ imports them: `EINVAL`/`EDOM`/`ERANGE` are invalid
    /// arguments, `ENOMEM` a memory error, `ENOSYS` not implemented, anything else an I/O error.
    fn from(error: Error) -> Self {
        match error {
            Error::Arrow(inner) => inner,
            Error::Unsupported(_) => ArrowError::NotYetImplemented(error.to_string()),
            Error::Producer { code, .. } => match code {
                libc::ENOMEM => ArrowError::MemoryError(error.to_string()),
                libc::ENOSYS => ArrowError::NotYetImplemented(error.to_string()),
                libc::EINVAL | libc::EDOM | libc::ERANGE => {
                    ArrowError::InvalidArgumentError(error.to_string())
                }
                _ => ArrowError::IoError(error.to_string(), std::io::Error::other(error.to_string())),
            },
            Error::Invalid { .. } => ArrowError::CDataInterface(error.to_string()),
            Error::Panic(_) | Error::Consumer { .. } => ArrowError::ExternalError(Box::new(error)),
        }
    }
}

/// A field path, built on the stack as import descends and turned into text only for an error.
///
/// Each node borrows its parent, so descending costs nothing until something is wrong.
#[derive(Clone, Copy)]
pub(crate) struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    step: Step<'a>,
}

#[derive(Clone, Copy)]
enum Step<'a> {
    Root(&'a str),
    Field(&'static str),
    Index(&'static str, usize),
}

impl<'a> Path<'a> {
    /// The root of a path: `schema`, `array`, `stream`.
    pub(crate) const fn root(name: &'a str) -> Self {
        Path { parent: None, step: Step::Root(name) }
    }

    /// `self.name`, e.g. `schema.dictionary`.
    pub(crate) fn field(&'a self, name: &'static str) -> Path<'a> {
        Path { parent: Some(self), step: Step::Field(name) }
    }

    /// `self.name[index]`, e.g. `schema.children[2]`.
    pub(crate) fn index(&'a self, name: &'static str, index: usize) -> Path<'a> {
        Path { parent: Some(self), step: Step::Index(name, index) }
    }

    /// The [`Error::Invalid`] for this path.
    pub(crate) fn invalid(&self, message: impl Into<String>) -> Error {
        Error::Invalid { path: self.to_string(), message: message.into() }
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(parent) = self.parent {
            parent.fmt(f)?;
        }
        match self.step {
            Step::Root(name) => f.write_str(name),
            Step::Field(name) => write!(f, ".{name}"),
            Step::Index(name, index) => write!(f, ".{name}[{index}]"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_names_every_step() {
        let root = Path::root("schema");
        let children = root.index("children", 2);
        let dictionary = children.field("dictionary");
        let error = dictionary.field("format").invalid("unknown format string 'q'");
        assert_eq!(error.to_string(), "schema.children[2].dictionary.format: unknown format string 'q'");
    }

    #[test]
    fn errno_codes_follow_arrow_cpp_both_ways() {
        let io = Error::Arrow(ArrowError::IoError("disk".into(), std::io::Error::other("disk")));
        assert_eq!(io.errno(), libc::EIO);
        assert_eq!(Error::Arrow(ArrowError::NotYetImplemented("x".into())).errno(), libc::ENOSYS);
        assert_eq!(Error::Arrow(ArrowError::MemoryError("x".into())).errno(), libc::ENOMEM);
        assert_eq!(Error::Arrow(ArrowError::ComputeError("x".into())).errno(), libc::EINVAL);
        let back = |code| ArrowError::from(Error::from_errno(code, "m".into()));
        assert!(matches!(back(libc::EINVAL), ArrowError::InvalidArgumentError(_)));
        assert!(matches!(back(libc::ERANGE), ArrowError::InvalidArgumentError(_)));
        assert!(matches!(back(libc::ENOMEM), ArrowError::MemoryError(_)));
        assert!(matches!(back(libc::ENOSYS), ArrowError::NotYetImplemented(_)));
        assert!(matches!(back(libc::EIO), ArrowError::IoError(..)));
        assert!(back(libc::EIO).to_string().contains("EIO"));
    }
}
