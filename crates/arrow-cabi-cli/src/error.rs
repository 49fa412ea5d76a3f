//! The command's one error type: a message printed as a single `error: ...` line.

use std::fmt::{self, Display};

/// Why the command failed. Its message is one line: [`Display`] folds line breaks into spaces.
#[derive(Debug)]
pub struct Error(String);

impl Error {
    /// An error with this message.
    pub fn new(message: impl Display) -> Self {
        Error(message.to_string())
    }
}

impl Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut words = self.0.split_whitespace();
        if let Some(first) = words.next() {
            f.write_str(first)?;
        }
        words.try_for_each(|word| write!(f, " {word}"))
    }
}

/// Adds what was being done to an error from below: `what: cause`.
pub trait Context<T> {
    /// Turns the error into an [`Error`] that starts with `what`.
    fn context(self, what: impl Display) -> Result<T, Error>;
}

impl<T, E: Display> Context<T> for Result<T, E> {
    fn context(self, what: impl Display) -> Result<T, Error> {
        self.map_err(|cause| Error(format!("{what}: {cause}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_one_line() {
        let error = Error::new("Ipc error:\n  bad\tthing ");
        assert_eq!(error.to_string(), "Ipc error: bad thing");
    }
}
