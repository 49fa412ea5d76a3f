//! What array and schema exports share, whose nodes all live in one heap block: the regions of the
//! block the writer fills, and the release walk.
//!
//! A release callback marks its node released together with every node below it that is still in
//! place (a consumer may have moved some out), and returns how many that was, so the export's header
//! can count them off with one atomic operation.

use crate::owned::CStruct;
use arrow_cabi_sys::{ArrowArray, ArrowSchema};

/// A region of the block that is filled front to back, never past its counted length.
pub(crate) struct Region<T> {
    start: *mut T,
    len: usize,
    filled: usize,
}

impl<T> Region<T> {
    pub(crate) fn new(start: *mut T, len: usize) -> Self {
        Region { start, len, filled: 0 }
    }

    /// Claims the next `count` slots; returns the first.
    pub(crate) fn claim(&mut self, count: usize) -> *mut T {
        assert!(count <= self.len - self.filled, "export wrote more than it counted");
        // SAFETY: `filled + count <= len`, so the result is inside the region or one past its end.
        let first = unsafe { self.start.add(self.filled) };
        self.filled += count;
        first
    }
}

/// A C struct with children and a dictionary: `ArrowArray` and `ArrowSchema`.
pub(crate) trait Node: CStruct {
    /// `n_children`.
    fn n_children(&self) -> i64;
    /// `children`: `n_children` pointers.
    fn children(&self) -> *mut *mut Self;
    /// `dictionary`, or NULL.
    fn dictionary(&self) -> *mut Self;
}

macro_rules! node {
    ($($raw:ty),+) => {$(
        impl Node for $raw {
            fn n_children(&self) -> i64 {
                self.n_children
            }
            fn children(&self) -> *mut *mut Self {
                self.children
            }
            fn dictionary(&self) -> *mut Self {
                self.dictionary
            }
        }
    )+};
}

node!(ArrowArray, ArrowSchema);

/// Marks `node` released, with every node below it that is still in place; returns how many nodes
/// that is, for the caller to count off the export's block at once.
///
/// # Safety
/// `node` is one of an export's nodes, not yet released, whose `private_data` all nodes of that export
/// share (and no other struct has).
pub(crate) unsafe fn release_in_place<T: Node>(node: &mut T) -> usize {
    let mut released = 1;
    let count = usize::try_from(node.n_children()).unwrap_or(0);
    // SAFETY: `children` points at `n_children` pointers into the live block's nodes.
    let children = (0..count).map(|index| unsafe { *node.children().add(index) });
    for below in children.chain(Some(node.dictionary())) {
        // SAFETY: each pointer is NULL (no dictionary) or one of the block's nodes, which are alive.
        let Some(below) = (unsafe { below.as_mut() }) else { continue };
        let ours = below.private_data() == node.private_data();
        // A consumer may have moved the node out, leaving it released; otherwise it goes now.
        match below.release() {
            None => {}
            // A leaf of the same export: nothing below it to walk.
            Some(_) if ours && below.n_children() == 0 && below.dictionary().is_null() => {
                mark_released(below);
                released += 1;
            }
            // SAFETY: a node of the same export, unreleased.
            Some(_) if ours => released += unsafe { release_in_place(below) },
            // Not a node of ours (the interface does not allow this; release it as its owner asks).
            // SAFETY: an unreleased node, released once.
            Some(release) => unsafe { release(below) },
        }
    }
    mark_released(node);
    released
}

/// Marks one of our nodes released, as the interface asks of a release callback.
fn mark_released<T: CStruct>(node: &mut T) {
    *node.private_data_mut() = std::ptr::null_mut();
    *node.release_mut() = None;
}
