//! The trampoline every `extern "C"` callback of this crate goes through: no panic unwinds into C.
//!
//! A panic that crossed an `extern "C"` frame would abort the process, so each callback body runs
//! inside [`catch`] (callbacks that return a code) or [`catch_in_release`] (release callbacks, which
//! return nothing and must always finish marking the struct released).

use std::any::Any;
use std::ffi::{c_int, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::{Error, Result};

/// Runs a callback body, turning a panic into [`Error::Panic`] with the panic's message.
///
/// Unwind safety is asserted: a body that panics leaves its state as the panic found it, and the
/// callers (stream producers) report the error rather than reuse half-updated data.
pub(crate) fn catch<T>(body: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|payload| Err(Error::Panic(message(&*payload))))
}

/// The code a stream callback returns for `result` (a body run through [`catch`]): its own code, or
/// on failure the error's errno, with the message stored in `last_error` for `get_last_error` (NUL
/// bytes replaced, so the whole message survives). A foreign producer's failure
/// ([`Error::Producer`], met when a stream of one interface relays a stream of the other) is
/// passed on as it came: its code, and its message without our prefix.
pub(crate) fn answer(result: Result<c_int>, last_error: &mut Option<CString>) -> c_int {
    let (code, message) = match result {
        Ok(code) => return code,
        Err(Error::Producer { code, message }) => (code, message),
        Err(error) => (error.errno(), error.to_string()),
    };
    *last_error = CString::new(message.replace('\0', "\u{FFFD}")).ok();
    code
}

/// Runs a release callback's body; a panic there (from a user's `Drop`) is reported on stderr and
/// swallowed, since release has no way to report it and must not unwind into C.
pub(crate) fn catch_in_release(body: impl FnOnce()) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(body)) {
        eprintln!("arrow-cabi: panic in a release callback: {}", message(&*payload));
    }
}

/// The text of a panic payload: the `&str` or `String` passed to `panic!`, or a placeholder.
pub(crate) fn message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic with a non-string payload".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_error_with_its_message() {
        let result: Result<()> = catch(|| panic!("reader broke at batch {}", 3));
        assert_eq!(result.unwrap_err().to_string(), "panic in a C callback: reader broke at batch 3");
        assert_eq!(catch(|| Ok(7)).unwrap(), 7);
    }

    #[test]
    fn a_panic_in_release_does_not_unwind() {
        let mut finished = false;
        catch_in_release(|| panic!("drop failed"));
        catch_in_release(|| finished = true);
        assert!(finished);
    }
}
