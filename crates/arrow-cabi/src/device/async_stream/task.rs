//! The tasks our export hands over in `on_next_task`: each owns one batch, which its one
//! `extract_data` call exports into the consumer's device array (or drops, for NULL).

use std::ffi::c_int;
use std::ptr;

use arrow_array::RecordBatch;
use arrow_cabi_sys::{ArrowAsyncTask, ArrowDeviceArray};

use std::sync::Arc;

use super::super::FFI_ArrowDeviceArray;
use super::producer::ProducerBlock;
use crate::array::{ExportCounts, FFI_ArrowArray};
use crate::boundary;

/// What a task owns until it is extracted.
struct Pending {
    batch: RecordBatch,
    /// The export's counts, known from the stream's schema.
    counts: Option<ExportCounts>,
    /// Keeps the producer struct valid until the task is extracted: Arrow C++'s consumer calls
    /// `request` before it extracts a task, possibly after the export released the handler.
    _producer: Arc<ProducerBlock>,
}

/// A task owning `batch` (and a reference to the producer): one allocation, freed by its
/// `extract_data`.
pub(super) fn new(batch: RecordBatch, counts: Option<ExportCounts>, producer: Arc<ProducerBlock>) -> ArrowAsyncTask {
    ArrowAsyncTask {
        extract_data: Some(extract_data),
        private_data: Box::into_raw(Box::new(Pending { batch, counts, _producer: producer })).cast(),
    }
}

/// `extract_data`: exports the batch into `out` as a CPU device array (zero-copy), or drops it
/// when `out` is NULL, and frees the task. A second call on the same struct finds `private_data`
/// NULL and returns `EINVAL`.
///
/// # Safety
/// `task` is NULL or a task [`new`] made (moved or copied by the consumer), extracted at most
/// once; `out` is NULL or writable.
unsafe extern "C" fn extract_data(task: *mut ArrowAsyncTask, out: *mut ArrowDeviceArray) -> c_int {
    // SAFETY: per the caller, a non-NULL task is one of ours.
    let Some(task) = (unsafe { task.as_mut() }) else { return libc::EINVAL };
    let pending = std::mem::replace(&mut task.private_data, ptr::null_mut()).cast::<Pending>();
    if pending.is_null() {
        return libc::EINVAL;
    }
    // SAFETY: `private_data` came from `Box::into_raw` in [`new`] and was reset above, so it is
    // reclaimed once.
    let Pending { batch, counts, _producer } = *unsafe { Box::from_raw(pending) };
    let result = boundary::catch(|| {
        if !out.is_null() {
            let array = FFI_ArrowDeviceArray::from_host(FFI_ArrowArray::from_batch_counted(batch, counts));
            // SAFETY: `out` is non-NULL and writable per the caller; whatever it held is not ours
            // to release (the consumer hands over an empty struct).
            unsafe { ptr::write(out, array.into_sys()) };
        }
        Ok(0)
    });
    result.unwrap_or(libc::EINVAL)
}
