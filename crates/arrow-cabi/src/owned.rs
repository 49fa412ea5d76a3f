//! The one owner implementation behind [`FFI_ArrowSchema`](crate::ffi::FFI_ArrowSchema),
//! [`FFI_ArrowArray`](crate::ffi::FFI_ArrowArray) and
//! [`FFI_ArrowArrayStream`](crate::ffi_stream::FFI_ArrowArrayStream).
//!
//! Each owned type is a `#[repr(transparent)]` wrapper over its `arrow-cabi-sys` struct, made by
//! [`owned_struct!`], which writes the methods every owner has (`empty`, `from_raw`, `from_sys`,
//! `as_sys`, `as_mut_ptr`, `into_sys`, `is_released`, arrow-rs's `release`, `private_data`,
//! `set_release`, `set_private_data`) and a `Drop` that calls `release` once. What differs between
//! the structs (where their release callback and private data live, what a released one looks like)
//! is the [`CStruct`] trait, one small impl per struct. A struct without a release callback of its
//! own (a device array, released through its embedded array) implements only [`Releasable`] and
//! gets the owner's core methods from `owned_struct!(@core ...)`.

use std::ffi::c_void;

use arrow_cabi_sys::{ArrowArray, ArrowArrayStream, ArrowDeviceArrayStream, ArrowSchema};

/// A C ABI struct that an owner releases once in `Drop`: what every owned struct needs.
pub(crate) trait Releasable: Sized {
    /// The struct in its released state (nothing owned).
    const EMPTY: Self;
    /// Whether the struct is released.
    fn is_released(&self) -> bool;
    /// Calls the struct's release callback if it is set.
    ///
    /// # Safety
    /// The struct is released, or follows its interface and has not been released yet.
    unsafe fn release_once(&mut self);
}

impl<T: CStruct> Releasable for T {
    const EMPTY: Self = <T as CStruct>::EMPTY;
    fn is_released(&self) -> bool {
        CStruct::release(self).is_none()
    }
    unsafe fn release_once(&mut self) {
        // SAFETY: forwarded from the caller.
        unsafe { release(self) }
    }
}

/// A C ABI struct that owns producer memory, freed by calling its `release` callback once.
pub(crate) trait CStruct: Sized {
    /// The struct in its released state (`release` NULL, nothing owned).
    const EMPTY: Self;
    /// The `release` callback; `None` when released.
    fn release(&self) -> Option<unsafe extern "C" fn(*mut Self)>;
    /// The `release` field, for replacing it.
    fn release_mut(&mut self) -> &mut Option<unsafe extern "C" fn(*mut Self)>;
    /// The `private_data` field, for replacing it.
    fn private_data_mut(&mut self) -> &mut *mut c_void;
    /// The opaque `private_data` pointer.
    fn private_data(&self) -> *mut c_void;
}

/// Implements [`CStruct`] for structs whose `release` and `private_data` are direct fields.
macro_rules! c_struct {
    ($($raw:ty),+ $(,)?) => {$(
        impl CStruct for $raw {
            const EMPTY: Self = <$raw>::EMPTY;
            fn release(&self) -> Option<unsafe extern "C" fn(*mut Self)> {
                self.release
            }
            fn release_mut(&mut self) -> &mut Option<unsafe extern "C" fn(*mut Self)> {
                &mut self.release
            }
            fn private_data_mut(&mut self) -> &mut *mut c_void {
                &mut self.private_data
            }
            fn private_data(&self) -> *mut c_void {
                self.private_data
            }
        }
    )+};
}

c_struct!(ArrowSchema, ArrowArray, ArrowArrayStream, ArrowDeviceArrayStream);

/// Calls `raw`'s release callback if it is set: the body of every owner's `Drop`.
///
/// # Safety
/// `raw` is released, or follows its interface and has not been released yet (its callback may be
/// called once, and sets `release` to NULL).
pub(crate) unsafe fn release<T: CStruct>(raw: &mut T) {
    if let Some(release) = raw.release() {
        // SAFETY: per the caller, an unreleased struct's callback may be called once, with a pointer
        // to the struct.
        unsafe { release(raw) };
    }
}

/// Writes an owned struct type `$owner` over `$raw` (which implements [`CStruct`]), with the doc
/// comments given, and every method an owner has. `$what` names the struct in the docs
/// ("schema", "array", "stream"), `$interface` the interface it follows. The `@core` form writes
/// only the methods that need no `release` field of the struct's own (for [`Releasable`] structs).
macro_rules! owned_struct {
    (
        @core
        $(#[$doc:meta])*
        pub struct $owner:ident($raw:ty): $what:literal, $interface:literal;
    ) => {
        $(#[$doc])*
        #[allow(non_camel_case_types)]
        #[repr(transparent)]
        #[derive(Debug)]
        pub struct $owner($raw);

        // SAFETY: the interfaces let a struct be released from any thread, and the owner never
        // shares the struct while it is being mutated (every mutation takes `&mut self`).
        unsafe impl Send for $owner {}

        impl $owner {
            #[doc = concat!("A released ", $what, ", for a producer to fill through \
                [`as_mut_ptr`](Self::as_mut_ptr). Free.")]
            pub const fn empty() -> Self {
                $owner(<$raw as $crate::owned::Releasable>::EMPTY)
            }

            #[doc = concat!("Moves the ", $what, " out of `ptr`, leaving it released (its `release` \
                set to NULL), as the interface defines a move. Costs one copy of the struct.")]
            ///
            /// # Safety
            #[doc = concat!("`ptr` is non-NULL, aligned, valid for reads and writes, and points to a \
                released ", $what, " or one that follows the ", $interface, " (every pointer \
                reachable from it valid, strings NUL-terminated, buffers as long as the lengths \
                and offsets imply, callbacks sound to call) until its `release`.")]
            pub unsafe fn from_raw(ptr: *mut $owner) -> Self {
                // SAFETY: per the caller, `ptr` is valid for reads and writes.
                unsafe { std::ptr::replace(ptr, Self::empty()) }
            }

            /// Wraps a raw struct, taking over its release.
            ///
            /// # Safety
            #[doc = concat!("As [`from_raw`](Self::from_raw): `raw` is released or follows the ",
                $interface, ".")]
            pub unsafe fn from_sys(raw: $raw) -> Self {
                $owner(raw)
            }

            /// The raw struct, for reading its fields. Free.
            pub fn as_sys(&self) -> &$raw {
                &self.0
            }

            #[doc = concat!("A pointer to hand to C: to a producer that fills this (empty) ", $what,
                ", or to a consumer that moves it out. Whoever writes through it must leave a \
                released or valid ", $what, " behind.")]
            pub fn as_mut_ptr(&mut self) -> *mut $raw {
                &mut self.0
            }

            /// Gives up ownership: the raw struct, which the caller must now release. Free.
            pub fn into_sys(self) -> $raw {
                let this = std::mem::ManuallyDrop::new(self);
                // SAFETY: `this` is never used or dropped again, so the struct is moved exactly once.
                unsafe { std::ptr::read(&this.0) }
            }

            #[doc = concat!("Whether the ", $what, " is released (its `release` is NULL).")]
            pub fn is_released(&self) -> bool {
                $crate::owned::Releasable::is_released(&self.0)
            }
        }

        impl Drop for $owner {
            fn drop(&mut self) {
                // SAFETY: the owner's invariant: the struct is released or follows its interface
                // and is released here, once.
                unsafe { $crate::owned::Releasable::release_once(&mut self.0) }
            }
        }
    };
    (
        $(#[$doc:meta])*
        pub struct $owner:ident($raw:ty): $what:literal, $interface:literal;
    ) => {
        $crate::owned::owned_struct! {
            @core
            $(#[$doc])*
            pub struct $owner($raw): $what, $interface;
        }

        impl $owner {
            /// The producer's release callback, if any (arrow-rs's accessor, typed on this owner).
            pub fn release(&self) -> Option<unsafe extern "C" fn(arg1: *mut $owner)> {
                let release = $crate::owned::CStruct::release(&self.0);
                // SAFETY: the owner is `repr(transparent)` over the raw struct, so a pointer to one
                // is ABI-compatible with a pointer to the other, and so are the two callback types.
                unsafe {
                    std::mem::transmute::<
                        Option<unsafe extern "C" fn(*mut $raw)>,
                        Option<unsafe extern "C" fn(*mut $owner)>,
                    >(release)
                }
            }

            /// The producer's opaque `private_data` pointer.
            pub fn private_data(&self) -> *mut std::ffi::c_void {
                $crate::owned::CStruct::private_data(&self.0)
            }

            /// Replaces the release callback and returns the previous one, so that a consumer can
            /// wrap release (install its own, chain back to the saved one).
            ///
            /// # Safety
            #[doc = concat!("`Drop` calls the new callback with a pointer to this ", $what, ": it \
                must release it (usually by chaining to the returned one), match the \
                [`private_data`](Self::private_data) it reads, and set `release` to NULL.")]
            pub unsafe fn set_release(
                &mut self,
                release: Option<unsafe extern "C" fn(arg1: *mut $owner)>,
            ) -> Option<unsafe extern "C" fn(arg1: *mut $owner)> {
                // SAFETY: as in `release`: the two callback types are ABI-compatible.
                let release = unsafe {
                    std::mem::transmute::<
                        Option<unsafe extern "C" fn(*mut $owner)>,
                        Option<unsafe extern "C" fn(*mut $raw)>,
                    >(release)
                };
                let previous = std::mem::replace($crate::owned::CStruct::release_mut(&mut self.0), release);
                // SAFETY: as above.
                unsafe {
                    std::mem::transmute::<
                        Option<unsafe extern "C" fn(*mut $raw)>,
                        Option<unsafe extern "C" fn(*mut $owner)>,
                    >(previous)
                }
            }

            /// Replaces the `private_data` pointer and returns the previous one, which is not freed:
            /// the caller owns it from here.
            ///
            /// # Safety
            /// The new pointer is what the current [`release`](Self::release) callback expects.
            pub unsafe fn set_private_data(&mut self, private_data: *mut std::ffi::c_void) -> *mut std::ffi::c_void {
                std::mem::replace($crate::owned::CStruct::private_data_mut(&mut self.0), private_data)
            }
        }

    };
}

pub(crate) use owned_struct;
