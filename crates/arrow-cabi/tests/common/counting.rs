//! A release callback that counts: wraps an unreleased `ArrowArray`'s release so that a test can see
//! how often (and that) the consumer calls it, then runs the original.

use std::ffi::c_void;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use arrow_cabi_sys::ArrowArray;

/// The original release and private data of a wrapped array, and the counter to bump.
struct Wrapped {
    release: unsafe extern "C" fn(*mut ArrowArray),
    private_data: *mut c_void,
    count: Arc<AtomicUsize>,
}

/// Counts the call, restores the original release and private data, and runs it.
unsafe extern "C" fn counting_release(array: *mut ArrowArray) {
    // SAFETY: `array` is a struct `count_releases` set up, whose private data is a leaked
    // `Box<Wrapped>`; a consumer calls the release once, so the box is reclaimed once.
    unsafe {
        let wrapped = Box::from_raw((*array).private_data.cast::<Wrapped>());
        wrapped.count.fetch_add(1, Ordering::SeqCst);
        (*array).private_data = wrapped.private_data;
        (*array).release = Some(wrapped.release);
        (wrapped.release)(array);
        assert!((*array).release.is_none(), "the original release marks the struct released");
    }
}

/// Wraps `raw`'s release (it must be unreleased) in one that counts into the returned counter.
pub fn count_releases(raw: &mut ArrowArray) -> Arc<AtomicUsize> {
    let count = Arc::new(AtomicUsize::new(0));
    let wrapped = Wrapped {
        release: raw.release.expect("a struct to wrap is not released"),
        private_data: raw.private_data,
        count: count.clone(),
    };
    raw.private_data = Box::into_raw(Box::new(wrapped)).cast();
    raw.release = Some(counting_release);
    count
}
