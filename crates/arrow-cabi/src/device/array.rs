//! [`FFI_ArrowDeviceArray`]: the owned `ArrowDeviceArray`, made by CPU export or moved in from a
//! producer, and handed on as a plain array only when its memory is host memory.

use std::ffi::c_void;

use arrow_array::{ArrayRef, RecordBatch};
use arrow_cabi_sys::ArrowDeviceArray;
use arrow_data::ArrayData;

use super::ArrowDeviceType;
use crate::array::FFI_ArrowArray;
use crate::error::{Error, Path, Result};
use crate::owned::Releasable;

impl Releasable for ArrowDeviceArray {
    const EMPTY: Self = ArrowDeviceArray::EMPTY;

    fn is_released(&self) -> bool {
        self.array.release.is_none()
    }

    unsafe fn release_once(&mut self) {
        // SAFETY: forwarded from the caller; the embedded array's release releases the device array.
        unsafe { crate::owned::release(&mut self.array) }
    }
}

crate::owned::owned_struct! {
    @core
    /// An owned `ArrowDeviceArray`: released (through its embedded array's `release`) when dropped,
    /// unless it was moved out or is already released.
    ///
    /// `#[repr(transparent)]` over [`arrow_cabi_sys::ArrowDeviceArray`], so a pointer to it can be
    /// handed to C as a `struct ArrowDeviceArray*`. Made by CPU export ([`new_cpu`](Self::new_cpu),
    /// [`from_array`](Self::from_array), [`from_batch`](Self::from_batch),
    /// [`from_host`](Self::from_host)), by a producer of device memory ([`new`](Self::new)), or
    /// moved in with [`from_raw`](Self::from_raw). Every value is released or follows the C Device
    /// Data Interface; its buffers are readable by this process only when [`device_type`](Self::device_type)
    /// is [`ArrowDeviceType::CPU`], and [`into_host_array`](Self::into_host_array) is the one safe
    /// way to a plain [`FFI_ArrowArray`].
    pub struct FFI_ArrowDeviceArray(ArrowDeviceArray): "device array", "C Device Data Interface";
}

// SAFETY: shared references only read the struct; `sync_event` is never dereferenced here.
unsafe impl Sync for FFI_ArrowDeviceArray {}

impl FFI_ArrowDeviceArray {
    /// Wraps a plain exported array as a CPU device array: device_type CPU, device_id -1 (the
    /// spec's convention for a device type with one device), sync_event NULL, `reserved` zeroed.
    /// Free: the array is moved in as it is.
    pub fn from_host(array: FFI_ArrowArray) -> Self {
        FFI_ArrowDeviceArray(ArrowDeviceArray {
            array: array.into_sys(),
            device_id: -1,
            device_type: ArrowDeviceType::CPU.value(),
            sync_event: std::ptr::null_mut(),
            reserved: [0; 3],
        })
    }

    /// Exports `data` as a CPU device array (arrow-rs's name): [`FFI_ArrowArray::new`] wrapped by
    /// [`from_host`](Self::from_host). Zero-copy, at the cost of that export.
    pub fn new_cpu(data: &ArrayData) -> Self {
        Self::from_host(FFI_ArrowArray::new(data))
    }

    /// Exports `array` as a CPU device array, as [`FFI_ArrowArray::from_array`] exports it.
    pub fn from_array(array: ArrayRef) -> Self {
        Self::from_host(FFI_ArrowArray::from_array(array))
    }

    /// Exports a record batch as a CPU device array of its struct array, as
    /// [`FFI_ArrowArray::from_batch`] exports it.
    pub fn from_batch(batch: RecordBatch) -> Self {
        Self::from_host(FFI_ArrowArray::from_batch(batch))
    }

    /// Wraps an array whose buffers live on `device_type` (arrow-rs's constructor, for a crate
    /// that manages device memory). `reserved` is zeroed. Free.
    ///
    /// # Safety
    /// - `array` follows the C Data Interface except that its buffer pointers (children's and
    ///   dictionary's too) are addresses on `device_type`'s device `device_id`; a consumer may
    ///   hand them to that device, and reads them on the host when `device_type` is CPU.
    /// - `sync_event` is NULL or points at the event type `device_type` uses (a `cudaEvent_t` for
    ///   CUDA), valid until the array is released.
    pub unsafe fn new(array: FFI_ArrowArray, device_type: ArrowDeviceType, device_id: i64, sync_event: *mut c_void) -> Self {
        FFI_ArrowDeviceArray(ArrowDeviceArray {
            array: array.into_sys(),
            device_id,
            device_type: device_type.value(),
            sync_event,
            reserved: [0; 3],
        })
    }

    /// The embedded array, for reading its fields (lengths, counts, buffer addresses). Its buffers
    /// are host memory only on CPU. Free.
    pub fn array(&self) -> &FFI_ArrowArray {
        // SAFETY: `FFI_ArrowArray` is `repr(transparent)` over `ArrowArray`, and the embedded array
        // lives as long as `self`.
        unsafe { &*std::ptr::addr_of!(self.0.array).cast::<FFI_ArrowArray>() }
    }

    /// The device type the buffers live on.
    pub fn device_type(&self) -> ArrowDeviceType {
        ArrowDeviceType::new(self.0.device_type)
    }

    /// The device id: which device of [`device_type`](Self::device_type). Meaningless on CPU,
    /// where producers send -1 (the spec's convention, and this crate's) or 0 (pyarrow, DLPack).
    pub fn device_id(&self) -> i64 {
        self.0.device_id
    }

    /// The producer's event to wait on before reading the buffers, or NULL when none is needed.
    /// Never dereferenced by this crate; the producer owns it.
    pub fn sync_event(&self) -> *mut c_void {
        self.0.sync_event
    }

    /// The embedded array as a plain [`FFI_ArrowArray`], when its buffers are host memory: device
    /// type CPU. Whatever `device_id`, `sync_event` (the CPU has nothing to wait on; the event is
    /// ignored) and `reserved` hold (pyarrow leaves `reserved` uninitialised). Free.
    ///
    /// Any other device type is an [`Error::Unsupported`] naming it, and the array is released
    /// (dropped) before the error is returned. A released array is an [`Error::Invalid`] at
    /// `device_array.array`.
    pub fn into_host_array(self) -> Result<FFI_ArrowArray> {
        self.into_host_if(|device| device == ArrowDeviceType::CPU, "")
    }

    /// As [`into_host_array`](Self::into_host_array), but also for the memory the host can read
    /// once the device is done with it ([`ArrowDeviceType::is_host_accessible_after_sync`]:
    /// CUDA_HOST, CUDA_MANAGED, ROCM_HOST), which the safe call refuses.
    ///
    /// # Safety
    /// The caller has synchronised: it has waited on [`sync_event`](Self::sync_event) if it is not
    /// NULL (with the device's API), and nothing on the device writes these buffers until the
    /// array is released.
    pub unsafe fn into_host_array_synchronised(self) -> Result<FFI_ArrowArray> {
        let accepted = |device: ArrowDeviceType| device == ArrowDeviceType::CPU || device.is_host_accessible_after_sync();
        self.into_host_if(accepted, " even after synchronisation")
    }

    /// The embedded array, if `accepted` accepts the device type; else the error that names it.
    fn into_host_if(self, accepted: impl Fn(ArrowDeviceType) -> bool, after: &str) -> Result<FFI_ArrowArray> {
        let path = Path::root("device_array");
        if self.is_released() {
            return Err(path.field("array").invalid("the array is released (its release callback is NULL)"));
        }
        let device = self.device_type();
        if !accepted(device) {
            // `self` is dropped on return, which releases the array.
            return Err(Error::Unsupported(format!(
                "{}: the buffers are in {device} memory, which this process cannot read{after}; \
                 DeviceArrayTree hands over the tree without reading them",
                path.field("device_type")
            )));
        }
        let raw = self.into_sys();
        // SAFETY: the invariant of this type: an unreleased CPU array follows the C Data Interface
        // with host buffers, and for the synchronised types the caller vouched for the same.
        Ok(unsafe { FFI_ArrowArray::from_sys(raw.array) })
    }
}
