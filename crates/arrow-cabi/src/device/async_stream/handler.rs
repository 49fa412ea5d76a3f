//! The handler our import hands to a foreign producer: its callbacks, and the state they share
//! with the [`AsyncDeviceStreamReader`](super::AsyncDeviceStreamReader) under one mutex.
//!
//! The handler struct and one reference to the [`Shared`] state belong to the producer once the
//! handler is handed over: its `release` frees both, whether the reader is still alive or not.
//! No callback calls the producer while holding the lock, and the reader calls `request` and
//! `cancel` outside it too ([`Shared::call_producer`]); `release` waits for such calls in flight
//! on other threads, since the producer frees its struct right after `release` returns.

use std::cell::Cell;
use std::collections::VecDeque;
use std::ffi::{c_char, c_int, CStr};
use std::ptr::{self, NonNull};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::Waker;

use arrow_cabi_sys::{ArrowAsyncDeviceStreamHandler, ArrowAsyncProducer, ArrowAsyncTask, ArrowSchema};
use arrow_schema::SchemaRef;

use super::super::ArrowDeviceType;
use crate::boundary;
use crate::error::{Error, Path, Result};
use crate::schema::{self, FFI_ArrowSchema};

/// A producer struct of the foreign side, valid until the handler's release.
#[derive(Clone, Copy)]
pub(super) struct ProducerPtr(NonNull<ArrowAsyncProducer>);

// SAFETY: `request` and `cancel` may be called from any consumer thread (the spec's `cancel` is
// "thread-safe", and its sequence diagram has the consumer call `request` from its own flow).
unsafe impl Send for ProducerPtr {}

/// A task moved out of `on_next_task`, extracted exactly once (by the reader or when discarded).
pub(super) struct Task(ArrowAsyncTask);

// SAFETY: the spec lets the consumer extract a task on any thread ("the consumer can determine
// when the decoding ... occurs and on which thread").
unsafe impl Send for Task {}

impl Task {
    /// Calls `extract_data` once, into `out` (NULL: discard).
    ///
    /// # Safety
    /// `out` is NULL or a writable, released device array.
    pub(super) unsafe fn extract(mut self, out: *mut arrow_cabi_sys::ArrowDeviceArray) -> c_int {
        let Some(extract_data) = self.0.extract_data else { return libc::EINVAL };
        // SAFETY: the task was moved out of `on_next_task` (a valid task) and is extracted once,
        // here, since `self` is consumed; `out` per the caller.
        unsafe { extract_data(&mut self.0, out) }
    }

    /// Discards the task: `extract_data` with NULL, so the producer cleans it up.
    pub(super) fn discard(self) {
        // SAFETY: NULL asks the producer to discard the data.
        let _ = unsafe { self.extract(ptr::null_mut()) };
    }
}

/// Where the stream's schema is.
pub(super) enum SchemaSlot {
    /// `on_schema` has not arrived.
    Awaiting,
    /// `on_schema` arrived and was accepted.
    Ready(SchemaRef),
    /// `on_schema` arrived and we refused it (returned non-zero): why.
    Refused(Error),
}

/// Everything the handler callbacks and the reader share.
pub(super) struct State {
    pub(super) schema: SchemaSlot,
    /// Set by `on_schema`, cleared by `release`.
    pub(super) producer: Option<ProducerPtr>,
    pub(super) queue: VecDeque<Task>,
    /// The producer's `on_error`, delivered after the queued batches.
    pub(super) error: Option<Error>,
    /// The NULL task arrived.
    pub(super) ended: bool,
    /// The producer called `release`.
    pub(super) released: bool,
    /// The reader was dropped: later tasks are discarded, a later schema refused.
    pub(super) reader_gone: bool,
    /// The reader's `request`/`cancel` calls in flight.
    in_flight: usize,
    /// The reader's task, woken by every callback.
    waker: Option<Waker>,
}

impl State {
    /// Stores `waker` (if it is not the one stored already); returns the one it replaced, for the
    /// caller to drop after the lock (a waker's drop may run anything).
    #[must_use]
    pub(super) fn store_waker(&mut self, waker: &Waker) -> Option<Waker> {
        if self.waker.as_ref().is_some_and(|stored| stored.will_wake(waker)) {
            return None;
        }
        self.waker.replace(waker.clone())
    }

    /// The producer, while asking it for more makes sense: schema accepted, not ended, failed
    /// or released.
    fn live_producer(&self) -> Option<ProducerPtr> {
        let live = !self.ended && !self.released && self.error.is_none();
        self.producer.filter(|_| live)
    }
}

/// The state behind the handler's `private_data`, shared with the reader.
pub(super) struct Shared {
    state: Mutex<State>,
    /// Signalled when a producer call in flight returns.
    calls_done: Condvar,
    /// How many tasks the handler requests when the schema arrives.
    pub(super) queue_size: i64,
}

thread_local! {
    /// The reader's producer calls in flight on this thread (a producer that releases the
    /// handler from inside `cancel` must not wait for itself).
    static CALLS_ON_THIS_THREAD: Cell<usize> = const { Cell::new(0) };
}

impl Shared {
    pub(super) fn new(queue_size: usize) -> Self {
        Shared {
            state: Mutex::new(State {
                schema: SchemaSlot::Awaiting,
                producer: None,
                queue: VecDeque::new(),
                error: None,
                ended: false,
                released: false,
                reader_gone: false,
                in_flight: 0,
                waker: None,
            }),
            calls_done: Condvar::new(),
            queue_size: i64::try_from(queue_size.max(1)).unwrap_or(i64::MAX),
        }
    }

    /// The state, locked. Nothing panics under this lock, but a poisoned lock stays usable.
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Applies `change` under the lock, then wakes the reader outside it.
    fn update<T>(&self, change: impl FnOnce(&mut State) -> T) -> T {
        let (result, waker) = {
            let mut state = self.lock();
            let result = change(&mut state);
            (result, state.waker.take())
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        result
    }

    /// Calls `call` (the producer's `request` or `cancel`) outside the lock, if the producer is
    /// still live, with the call counted in flight so that `release` waits for it.
    pub(super) fn call_producer(&self, call: impl FnOnce(*mut ArrowAsyncProducer)) {
        let producer = {
            let mut state = self.lock();
            let Some(producer) = state.live_producer() else { return };
            state.in_flight += 1;
            producer
        };
        CALLS_ON_THIS_THREAD.with(|calls| calls.set(calls.get() + 1));
        call(producer.0.as_ptr());
        CALLS_ON_THIS_THREAD.with(|calls| calls.set(calls.get() - 1));
        self.lock().in_flight -= 1;
        self.calls_done.notify_all();
    }
}

/// Asks the producer for `n` more tasks.
///
/// # Safety
/// `producer` is valid (the handler is not released, or a release waits for this call).
pub(super) unsafe fn request(producer: *mut ArrowAsyncProducer, n: i64) {
    // SAFETY: per the caller.
    if let Some(request) = unsafe { (*producer).request } {
        // SAFETY: per the caller; `n > 0`.
        unsafe { request(producer, n) };
    }
}

/// Cancels the producer.
///
/// # Safety
/// As [`request`].
pub(super) unsafe fn cancel(producer: *mut ArrowAsyncProducer) {
    // SAFETY: per the caller.
    if let Some(cancel) = unsafe { (*producer).cancel } {
        // SAFETY: per the caller.
        unsafe { cancel(producer) };
    }
}

/// A new handler struct, holding one reference to `shared` in `private_data`.
pub(super) fn new(shared: &Arc<Shared>) -> NonNull<ArrowAsyncDeviceStreamHandler> {
    let handler = Box::new(ArrowAsyncDeviceStreamHandler {
        on_schema: Some(on_schema),
        on_next_task: Some(on_next_task),
        on_error: Some(on_error),
        release: Some(release),
        producer: ptr::null_mut(),
        private_data: Arc::into_raw(Arc::clone(shared)).cast_mut().cast(),
    });
    NonNull::from(Box::leak(handler))
}

/// Frees a handler struct [`new`] made and its reference to the shared state.
///
/// # Safety
/// `handler` came from [`new`], is freed once, and no producer holds it (never handed over, or
/// its `release` is running and makes no further access).
pub(super) unsafe fn free(handler: NonNull<ArrowAsyncDeviceStreamHandler>) {
    // SAFETY: per the caller, the pointer is [`new`]'s `Box::leak`, reclaimed once.
    let handler = unsafe { Box::from_raw(handler.as_ptr()) };
    // SAFETY: `private_data` is [`new`]'s `Arc::into_raw`, reclaimed once, here.
    drop(unsafe { Arc::from_raw(handler.private_data.cast::<Shared>().cast_const()) });
}

/// The shared state behind a handler of ours.
///
/// # Safety
/// `handler` is NULL or a handler [`new`] made, not yet released.
unsafe fn shared<'a>(handler: *mut ArrowAsyncDeviceStreamHandler) -> Result<&'a Shared> {
    // SAFETY: per the caller; `private_data` is the `Shared` the handler keeps alive.
    unsafe { handler.as_ref().and_then(|h| h.private_data.cast::<Shared>().as_ref()) }
        .ok_or_else(|| Path::root("handler").invalid("NULL handler"))
}

/// A callback body's result as the code it returns: our refusal's errno.
fn code(result: Result<c_int>) -> c_int {
    result.unwrap_or_else(|error| error.errno())
}

/// `on_schema`: takes the schema, checks the producer (set, CPU) and imports it; then requests
/// `queue_size` tasks. A refusal (non-zero return) is kept for the reader to report; a second
/// `on_schema` is refused (`EINVAL`) and changes nothing; after the reader was dropped, `ECANCELED`.
///
/// # Safety
/// As [`shared`]; `schema` is NULL or a valid schema whose ownership passes to us.
unsafe extern "C" fn on_schema(handler: *mut ArrowAsyncDeviceStreamHandler, schema: *mut ArrowSchema) -> c_int {
    code(boundary::catch(|| {
        // SAFETY: per the caller.
        let shared = unsafe { shared(handler) }?;
        let accepted = if schema.is_null() {
            Err(Path::root("on_schema").field("schema").invalid("NULL schema"))
        } else {
            // SAFETY: a non-NULL schema is valid and ours: moved in (released when dropped).
            let schema = unsafe { FFI_ArrowSchema::from_raw(schema.cast()) };
            // SAFETY: the handler is ours and valid during the call.
            accept(unsafe { (*handler).producer }, &schema)
        };
        let outcome = shared.update(|state| {
            if state.reader_gone {
                return Err(Error::from_errno(libc::ECANCELED, "the reader was dropped".into()));
            }
            if !matches!(state.schema, SchemaSlot::Awaiting) {
                // The spec: on_schema is called "exactly once"; the first one stands.
                return Err(Error::from_errno(libc::EINVAL, "on_schema called a second time".into()));
            }
            match accepted {
                Ok((producer, schema)) => {
                    state.schema = SchemaSlot::Ready(schema);
                    state.producer = Some(producer);
                    Ok(producer)
                }
                Err(refusal) => {
                    let code = refusal.errno();
                    state.schema = SchemaSlot::Refused(refusal);
                    Err(Error::from_errno(code, String::new()))
                }
            }
        });
        let producer = outcome?;
        // SAFETY: inside a handler callback the producer is valid (the spec allows `request`
        // from inside `on_schema`); the queue size is > 0.
        unsafe { request(producer.0.as_ptr(), shared.queue_size) };
        Ok(0)
    }))
}

/// The producer and the schema, if we can read the stream: a producer set, on CPU, and a schema
/// that imports.
fn accept(producer: *mut ArrowAsyncProducer, schema: &FFI_ArrowSchema) -> Result<(ProducerPtr, SchemaRef)> {
    let path = Path::root("handler");
    let Some(producer) = NonNull::new(producer) else {
        return Err(path.field("producer").invalid("NULL when on_schema was called (the producer must set it first)"));
    };
    // SAFETY: a non-NULL producer is the producer's valid struct during its callbacks.
    let device = ArrowDeviceType::new(unsafe { producer.as_ref() }.device_type);
    if device != ArrowDeviceType::CPU {
        return Err(Error::Unsupported(format!(
            "{}: the stream's arrays are in {device} memory, which this process cannot read",
            path.field("producer").field("device_type")
        )));
    }
    Ok((ProducerPtr(producer), Arc::new(schema::import_schema(schema)?)))
}

/// `on_next_task`: moves the task into the queue (NULL: the end); after the reader was dropped,
/// discards it at once.
///
/// # Safety
/// As [`shared`]; `task` is NULL or a valid task, ours to move.
unsafe extern "C" fn on_next_task(handler: *mut ArrowAsyncDeviceStreamHandler, task: *mut ArrowAsyncTask, _metadata: *const c_char) -> c_int {
    code(boundary::catch(|| {
        // SAFETY: per the caller.
        let shared = unsafe { shared(handler) }?;
        if task.is_null() {
            shared.update(|state| state.ended = true);
            return Ok(0);
        }
        // SAFETY: the task is valid during the call; the spec lets the consumer move it out.
        let task = Task(unsafe { ptr::read(task) });
        let discarded = shared.update(|state| {
            if state.reader_gone {
                return Some(task);
            }
            state.queue.push_back(task);
            None
        });
        if let Some(task) = discarded {
            task.discard();
        }
        Ok(0)
    }))
}

/// `on_error`: keeps the producer's code and message (copied) for the reader.
///
/// # Safety
/// As [`shared`]; `message` is NULL or a NUL-terminated string valid during the call.
unsafe extern "C" fn on_error(handler: *mut ArrowAsyncDeviceStreamHandler, code: c_int, message: *const c_char, _metadata: *const c_char) {
    let _ = boundary::catch(|| {
        // SAFETY: per the caller.
        let shared = unsafe { shared(handler) }?;
        let message = if message.is_null() {
            "the async producer called on_error with no message".to_owned()
        } else {
            // SAFETY: per the caller; copied before the call returns.
            unsafe { CStr::from_ptr(message) }.to_string_lossy().into_owned()
        };
        shared.update(|state| {
            state.error.get_or_insert(Error::from_errno(code, message));
        });
        Ok(())
    });
}

/// `release`: the producer's last call. Waits for the reader's producer calls in flight on other
/// threads, marks the stream released, and frees the handler struct and its reference to the
/// shared state (the last one if the reader is gone).
///
/// # Safety
/// `handler` is NULL or a handler [`new`] made, released once.
unsafe extern "C" fn release(handler: *mut ArrowAsyncDeviceStreamHandler) {
    boundary::catch_in_release(|| {
        let Some(handler) = NonNull::new(handler) else { return };
        // SAFETY: per the caller, the handler and its shared state are valid until freed below.
        let Ok(shared) = (unsafe { shared(handler.as_ptr()) }) else { return };
        let own = CALLS_ON_THIS_THREAD.with(Cell::get);
        let waker = {
            let mut state = shared.lock();
            state.released = true;
            state.producer = None;
            while state.in_flight > own {
                state = shared.calls_done.wait(state).unwrap_or_else(PoisonError::into_inner);
            }
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        // SAFETY: the handler is ours, released once; the producer makes no access after release.
        unsafe { free(handler) };
    });
}
