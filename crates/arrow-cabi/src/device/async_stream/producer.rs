//! The `ArrowAsyncProducer` our export hands to a foreign consumer: `request` and `cancel` only
//! record the consumer's demand and wake the export's future, so they are safe to call from any
//! thread and from inside the handler's own callbacks.

use std::ptr::{self, NonNull};
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
        let mut state = self.lock();
        if !state.waker.as_ref().is_some_and(|stored| stored.will_wake(waker)) {
            state.waker = Some(waker.clone());
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

    /// Applies `change` and wakes the export's future, outside the lock.
    fn update(&self, change: impl FnOnce(&mut DemandState)) {
        let waker = {
            let mut state = self.lock();
            change(&mut state);
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// Allocates our producer struct for `demand`: device type CPU, no additional metadata. The
/// struct holds one reference to `demand`, given back by [`free`].
pub(super) fn new(demand: &Arc<Demand>) -> NonNull<ArrowAsyncProducer> {
    let producer = Box::new(ArrowAsyncProducer {
        device_type: ArrowDeviceType::CPU.value(),
        request: Some(request),
        cancel: Some(cancel),
        additional_metadata: ptr::null(),
        private_data: Arc::into_raw(Arc::clone(demand)).cast_mut().cast(),
    });
    NonNull::from(Box::leak(producer))
}

/// Frees a producer struct [`new`] made.
///
/// # Safety
/// `producer` came from [`new`], is freed once, and nobody calls it any more: the handler it was
/// handed to has been released.
pub(super) unsafe fn free(producer: NonNull<ArrowAsyncProducer>) {
    // SAFETY: per the caller, the pointer is [`new`]'s `Box::leak` and this is its one reclaim.
    let producer = unsafe { Box::from_raw(producer.as_ptr()) };
    // SAFETY: `private_data` is the `Arc::into_raw` of [`new`], reclaimed once, here.
    drop(unsafe { Arc::from_raw(producer.private_data.cast::<Demand>().cast_const()) });
}

/// The demand behind a producer struct of ours, or `None` for NULL.
///
/// # Safety
/// `producer` is NULL or a struct [`new`] made, not yet freed.
unsafe fn demand<'a>(producer: *mut ArrowAsyncProducer) -> Option<&'a Demand> {
    // SAFETY: per the caller; `private_data` points at the `Demand` the struct keeps alive.
    unsafe { producer.as_ref().and_then(|p| p.private_data.cast::<Demand>().as_ref()) }
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
