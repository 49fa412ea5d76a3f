//! A release under watch: does it set `release` to NULL, release every child and the dictionary,
//! and leave a child that was moved out alone?

use std::ptr;

use super::spy::{self, Outcome, Spied, Spy};
use super::{Finding, Observer, Rule};
use crate::tree::Node;

/// Releases `raw` (unreleased) with a spy in place of every child and of the dictionary, except
/// child `move_out`, which is moved out first and returned to the caller (who checks that it stays
/// valid, then releases it). Every rule the release breaks is a finding at `path`.
///
/// # Safety
/// `raw` is an unreleased struct from a producer whose children and dictionary pointers the importer
/// accepted (non-NULL where `n_children` says, each pointing at a struct).
pub(crate) unsafe fn release_watched<T: Spied + Node>(
    raw: &mut T,
    path: &str,
    move_out: Option<usize>,
    observer: &mut dyn Observer,
) -> Option<(String, T)> {
    let count = usize::try_from(raw.n_children()).unwrap_or(0);
    let children = raw.children();
    let mut spies = Vec::new();
    let mut moved = None;
    for index in 0..count {
        if children.is_null() {
            break;
        }
        // SAFETY: per the caller, `children` holds `n_children` pointers.
        let child = unsafe { *children.add(index) };
        // SAFETY: per the caller, a non-NULL child pointer points at a child struct.
        if child.is_null() || unsafe { (*child).release().is_none() } {
            continue;
        }
        let child_path = format!("{path}.children[{index}]");
        if move_out == Some(index) {
            // SAFETY: the interface's move: a bitwise copy, then the source marked released.
            let copy = unsafe { ptr::read(child) };
            // SAFETY: as above; the slot stays the producer's, now released.
            unsafe { *(*child).release_mut() = None };
            moved = Some((child_path, copy));
        } else {
            // SAFETY: an unreleased child of an unreleased parent.
            spies.push((child_path, unsafe { Spy::install(child) }));
        }
    }
    let dictionary = raw.dictionary();
    // SAFETY: per the caller, a non-NULL dictionary points at a struct.
    if !dictionary.is_null() && unsafe { (*dictionary).release().is_some() } {
        // SAFETY: an unreleased dictionary of an unreleased parent.
        spies.push((format!("{path}.dictionary"), unsafe { Spy::install(dictionary) }));
    }
    observer.step(&format!("release of {path}"));
    // SAFETY: `raw` is unreleased; its callback is called once.
    if !unsafe { spy::release_once(raw) } {
        observer.finding(Finding::new(Rule::ReleaseSetsNull, path, "release returned leaving its release callback set"));
        // Reported; never called twice.
        *raw.release_mut() = None;
    }
    for (child_path, spy) in spies {
        match spy.outcome() {
            Outcome::NotReleased => observer.finding(Finding::new(
                Rule::ReleaseChildren,
                child_path,
                "the parent's release did not release it (its release callback was never called)",
            )),
            Outcome::Released { sets_null: false } => observer.finding(Finding::new(
                Rule::ReleaseSetsNull,
                child_path,
                "its release returned leaving its release callback set",
            )),
            Outcome::Released { sets_null: true } => {}
        }
    }
    moved
}

/// Releases a moved-out child and reports a release that leaves `release` set.
///
/// # Safety
/// `child` is a struct moved out of a producer's parent (released or not).
pub(crate) unsafe fn release_moved<T: crate::owned::CStruct>(child: &mut T, path: &str, observer: &mut dyn Observer) {
    if child.release().is_none() {
        return;
    }
    observer.step(&format!("release of {path} (moved out)"));
    // SAFETY: per the caller; its callback is called once.
    if !unsafe { spy::release_once(child) } {
        observer.finding(Finding::new(Rule::ReleaseSetsNull, path, "release of the moved-out child left its release callback set"));
        *child.release_mut() = None;
    }
}
