//! Watching a parent's release: does it release each child and its dictionary?
//!
//! A consumer may move a child out of its parent (a bitwise copy, then `release` set to NULL in the
//! parent's slot, CDI "Moving child arrays"). The spy does that and leaves in the slot a copy whose
//! `release` is [`spy_release`] (and whose `private_data` is NULL, so a producer that recognises
//! its own nodes by `private_data` treats it as foreign and calls its callback, as it must for a
//! moved-in node). When the parent's release calls the slot's `release`, the spy releases the moved
//! child with the producer's own callback and records whether that set `release` to NULL. A slot whose
//! spy was never called is a child the parent did not release.
//!
//! The spies of one parent are kept in a process-wide table keyed by the slot's address: a release
//! callback gets only the struct's pointer, and the parent's release may run on any thread.

use std::ptr;
use std::sync::Mutex;

use arrow_cabi_sys::{ArrowArray, ArrowSchema};

use crate::owned::CStruct;

/// A moved-out child, by kind of struct.
pub(crate) enum Moved {
    Array(Box<ArrowArray>),
    Schema(Box<ArrowSchema>),
}

// SAFETY: the interfaces let a struct be moved and released from any thread; the table only holds
// the moved child until one release callback takes it out.
unsafe impl Send for Moved {}

/// What became of one spied slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The parent's release never called the child's `release`.
    NotReleased,
    /// It did; `sets_null` says whether the child's own callback then set `release` to NULL.
    Released { sets_null: bool },
}

struct Entry {
    slot: usize,
    moved: Option<Moved>,
    outcome: Outcome,
}

static SPIES: Mutex<Vec<Entry>> = Mutex::new(Vec::new());

fn spies() -> std::sync::MutexGuard<'static, Vec<Entry>> {
    SPIES.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A struct the spy can stand in for.
pub(crate) trait Spied: CStruct {
    /// Wraps the moved-out child.
    fn moved(self) -> Moved;
    /// The spy's release callback for this kind of struct.
    const SPY: unsafe extern "C" fn(*mut Self);
}

impl Spied for ArrowArray {
    fn moved(self) -> Moved {
        Moved::Array(Box::new(self))
    }
    const SPY: unsafe extern "C" fn(*mut Self) = spy_release::<ArrowArray>;
}

impl Spied for ArrowSchema {
    fn moved(self) -> Moved {
        Moved::Schema(Box::new(self))
    }
    const SPY: unsafe extern "C" fn(*mut Self) = spy_release::<ArrowSchema>;
}

/// One spy in place; [`Spy::outcome`] after the parent's release says what happened.
#[derive(Debug)]
pub(crate) struct Spy {
    slot: usize,
}

impl Spy {
    /// Moves the unreleased child at `slot` out and puts a spy in its place.
    ///
    /// # Safety
    /// `slot` points to an unreleased child (or dictionary) struct of an unreleased parent, valid for
    /// reads and writes until the parent's release.
    pub(crate) unsafe fn install<T: Spied>(slot: *mut T) -> Spy {
        // SAFETY: per the caller, `slot` is valid for reads; a bitwise copy is the interface's move.
        let child = unsafe { ptr::read(slot) };
        // SAFETY: as above; the stand-in is a second bitwise copy, whose callback is replaced.
        let mut stand_in = unsafe { ptr::read(slot) };
        *stand_in.release_mut() = Some(T::SPY);
        *stand_in.private_data_mut() = ptr::null_mut();
        spies().push(Entry { slot: slot as usize, moved: Some(child.moved()), outcome: Outcome::NotReleased });
        // SAFETY: per the caller, `slot` is valid for writes; the child now lives in the table.
        unsafe { ptr::write(slot, stand_in) };
        Spy { slot: slot as usize }
    }

    /// What the parent's release did with this child; removes the spy. A child that was not
    /// released stays moved out and is leaked: the producer may have freed what it points at in its
    /// own way, and releasing it could free that twice.
    pub(crate) fn outcome(self) -> Outcome {
        let mut table = spies();
        match table.iter().position(|entry| entry.slot == self.slot) {
            Some(index) => {
                // Dropping the moved copy frees only our box: the raw structs have no `Drop`.
                table.swap_remove(index).outcome
            }
            None => Outcome::NotReleased,
        }
    }
}

/// The spy's release: releases the moved child with its own callback, records that, and marks the
/// slot released.
///
/// # Safety
/// Called by a producer's release with a slot a [`Spy`] was installed in (any other pointer is only
/// marked released).
unsafe extern "C" fn spy_release<T: Spied>(slot: *mut T) {
    let moved = {
        let mut table = spies();
        table.iter_mut().find(|entry| entry.slot == slot as usize).and_then(|entry| entry.moved.take())
    };
    let sets_null = match moved {
        // SAFETY: the moved child is an unreleased struct of the producer's, moved per the interface;
        // its callback is called once, with a pointer to where it now lives.
        Some(Moved::Array(mut child)) => unsafe { release_once(&mut *child) },
        // SAFETY: as above.
        Some(Moved::Schema(mut child)) => unsafe { release_once(&mut *child) },
        None => true,
    };
    if let Some(entry) = spies().iter_mut().find(|entry| entry.slot == slot as usize) {
        entry.outcome = Outcome::Released { sets_null };
    }
    if !slot.is_null() {
        // SAFETY: the producer's release passes a slot of its own, valid for writes.
        unsafe { *(*slot).release_mut() = None };
    }
}

/// Calls `raw`'s release if set and says whether it left `release` NULL.
///
/// # Safety
/// `raw` is released or unreleased and follows its interface.
pub(crate) unsafe fn release_once<T: CStruct>(raw: &mut T) -> bool {
    if let Some(release) = raw.release() {
        // SAFETY: per the caller; called once.
        unsafe { release(raw) };
    }
    raw.release().is_none()
}
