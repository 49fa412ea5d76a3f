//! The `ArrowAsyncProducer` our export hands to a foreign consumer: `request` and `cancel` only
//! record the consumer's demand and wake the export's future, so they are safe to call from any
//! thread and from inside the handler's own callbacks.
//!
//! The struct lives in a reference-counted [`ProducerBlock`] held by the export and by every task
//! not yet extracted: Arrow C++'s consumer calls `request(1)` when it takes a task from its queue,
//! before extracting it, which can be after our export released the handler (the spec wants the
//! struct valid "at least until just before calling release"; the reference consumer needs more).
//! After the export ended, `request` and `cancel` do nothing.

use std::cell::UnsafeCell;
use std::ptr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::Waker;

use arrow_cabi_sys::ArrowAsyncProducer;

use super::super::ArrowDeviceType;
use crate::boundary;

/// What the consumer asked for so far, shared by the export's future and the producer callbacks.
#[derive(Default)]
pub(super) struct Demand {
    state: Mutex<DemandState>,
}

#[derive(Default)]
struct DemandState {
    /// Tasks requested and not yet handed over.
    requested: u64,
    cancelled: bool,
    /// The first `request(n)` with `n <= 0`, an error the export reports.
    invalid_request: Option<i64>,
    /// The export's future, woken by every change.
    waker: Option<Waker>,
    /// The export ended: later calls change nothing.
    closed: bool,
}

/// What the export's future may do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Turn {
    /// Hand over the next batch (or the end).
    Go,
    /// Nothing requested: wait (the waker is stored).
    Wait,
    /// The consumer cancelled.
    Cancelled,
    /// The consumer called `request(n)` with this `n <= 0`.
    InvalidRequest(i64),
}

impl Demand {
    fn lock(&self) -> MutexGuard<'_, DemandState> {
        // A panic never happens under this lock (it only counts), but stay usable if one did.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The export's next step; stores `waker` to be woken when the answer may change.
    pub(super) fn turn(&self, waker: &Waker) -> Turn {
        // Declared before the guard, so dropped after it: a waker's drop may run anything.
        let mut _replaced = None;
        let mut state = self.lock();
        if !state.waker.as_ref().is_some_and(|stored| stored.will_wake(waker)) {
            _replaced = state.waker.replace(waker.clone());
        }
        if state.cancelled {
            Turn::Cancelled
        } else if let Some(n) = state.invalid_request {
            Turn::InvalidRequest(n)
        } else if state.requested > 0 {
            Turn::Go
        } else {
            Turn::Wait
        }
    }

    /// One requested task handed over.
    pub(super) fn consume_one(&self) {
        let mut state = self.lock();
        state.requested = state.requested.saturating_sub(1);
    }

    /// Whether the consumer cancelled.
    pub(super) fn cancelled(&self) -> bool {
        self.lock().cancelled
    }

    /// The export ended (the handler released): forget the waker, ignore later calls.
    pub(super) fn close(&self) {
        let waker = {
            let mut state = self.lock();
            state.closed = true;
            state.waker.take()
        };
        drop(waker); // outside the lock: a waker's drop may run anything
    }

    /// Applies `change` and wakes the export's future, outside the lock; nothing once closed.
    fn update(&self, change: impl FnOnce(&mut DemandState)) {
        let waker = {
            let mut state = self.lock();
            if state.closed {
                return;
            }
            change(&mut state);
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// Our producer struct and the demand behind it, in one reference-counted allocation: the
/// struct's `private_data` points at the block itself.
pub(super) struct ProducerBlock {
    raw: UnsafeCell<ArrowAsyncProducer>,
    demand: Demand,
}

// SAFETY: the struct is written once, in `new`, before the block is shared; afterwards only read
// (by the consumer, from any thread, as the spec allows). `Demand` is `Send + Sync`.
unsafe impl Send for ProducerBlock {}
// SAFETY: as above.
unsafe impl Sync for ProducerBlock {}

impl ProducerBlock {
    /// A producer on CPU, with no additional metadata. One allocation.
    pub(super) fn new() -> Arc<Self> {
        let block = Arc::new(ProducerBlock {
            raw: UnsafeCell::new(ArrowAsyncProducer {
                device_type: ArrowDeviceType::CPU.value(),
                request: Some(request),
                cancel: Some(cancel),
                additional_metadata: ptr::null(),
                private_data: ptr::null_mut(),
            }),
            demand: Demand::default(),
        });
        let me = Arc::as_ptr(&block).cast_mut().cast();
        // SAFETY: the block is not shared yet: nothing else reads the struct.
        unsafe { (*block.raw.get()).private_data = me };
        block
    }

    /// The struct to hand to the consumer, valid as long as this block.
    pub(super) fn as_ptr(&self) -> *mut ArrowAsyncProducer {
        self.raw.get()
    }

    /// What the consumer asked for.
    pub(super) fn demand(&self) -> &Demand {
        &self.demand
    }
}

/// The demand behind a producer struct of ours, or `None` for NULL.
///
/// # Safety
/// `producer` is NULL or the struct of a [`ProducerBlock`] still alive.
unsafe fn demand<'a>(producer: *mut ArrowAsyncProducer) -> Option<&'a Demand> {
    // SAFETY: per the caller; `private_data` points at the block that holds the struct.
    unsafe { producer.as_ref().and_then(|p| p.private_data.cast::<ProducerBlock>().as_ref()).map(ProducerBlock::demand) }
}

/// `request(n)`: `n` more tasks; `n <= 0` is recorded as the consumer's error (the export answers
/// it with `on_error`); a no-op after `cancel`.
///
/// # Safety
/// As [`demand`].
unsafe extern "C" fn request(producer: *mut ArrowAsyncProducer, n: i64) {
    let _ = boundary::catch(|| {
        // SAFETY: forwarded from the caller.
        if let Some(demand) = unsafe { demand(producer) } {
            demand.update(|state| match u64::try_from(n) {
                _ if state.cancelled => {}
                Ok(n) if n > 0 => state.requested = state.requested.saturating_add(n),
                _ => {
                    state.invalid_request.get_or_insert(n);
                }
            });
        }
        Ok(())
    });
}

/// `cancel()`: idempotent; the export hands over nothing more and releases the handler.
///
/// # Safety
/// As [`demand`].
unsafe extern "C" fn cancel(producer: *mut ArrowAsyncProducer) {
    let _ = boundary::catch(|| {
        // SAFETY: forwarded from the caller.
        if let Some(demand) = unsafe { demand(producer) } {
            demand.update(|state| state.cancelled = true);
        }
        Ok(())
    });
}
