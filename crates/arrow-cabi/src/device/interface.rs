//! The device stream as a stream [`Interface`]: what the one stream export writes around each
//! array (the CPU device fields) and what the one stream consumer checks of each array it reads
//! (the stream's device type, and for host-accessible device memory the caller's synchronisation).

use std::ffi::c_void;
use std::fmt;

use arrow_cabi_sys::{ArrowDeviceArray, ArrowDeviceArrayStream};
use arrow_schema::ArrowError;

use super::{ArrowDeviceType, FFI_ArrowDeviceArray};
use crate::array::FFI_ArrowArray;
use crate::error::{Error, Path, Result};
use crate::stream::interface::{GetLastError, GetNext, GetSchema, Interface, Release};

/// The caller's synchronisation of one device array, before its buffers are read on the host.
pub(crate) type Synchronise = Box<dyn FnMut(&FFI_ArrowDeviceArray) -> Result<(), ArrowError> + Send>;

/// What a consumer of a device stream accepts: CPU streams, and with the caller's synchronisation
/// streams of host-accessible device memory (CUDA_HOST, CUDA_MANAGED, ROCM_HOST).
pub(crate) struct HostAccess {
    /// Called once for each array of a non-CPU stream, before it is read; `None`: CPU only.
    synchronise: Option<Synchronise>,
}

impl HostAccess {
    /// CPU streams only: what the safe readers and conversions accept.
    pub(crate) fn cpu() -> Self {
        HostAccess { synchronise: None }
    }

    /// Also streams of host-accessible device memory, each array passed to `synchronise` first.
    ///
    /// # Safety
    /// When `synchronise` returns `Ok(())` for an array, the host may read its buffers and nothing
    /// on the device writes them until the array is released (see
    /// [`ArrowDeviceArrayStreamReader::with_synchronisation`](super::ArrowDeviceArrayStreamReader::with_synchronisation)).
    pub(crate) unsafe fn synchronised(synchronise: Synchronise) -> Self {
        HostAccess { synchronise: Some(synchronise) }
    }
}

impl fmt::Debug for HostAccess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostAccess").field("synchronised", &self.synchronise.is_some()).finish()
    }
}

impl Interface for ArrowDeviceArrayStream {
    type Array = ArrowDeviceArray;
    type Accept = HostAccess;
    const STREAM: &'static str = "device_stream";
    const ARRAY: &'static str = "device_array.array";

    fn get_schema(&self) -> Option<GetSchema<Self>> {
        self.get_schema
    }

    fn get_next(&self) -> Option<GetNext<Self>> {
        self.get_next
    }

    fn get_last_error(&self) -> Option<GetLastError<Self>> {
        self.get_last_error
    }

    fn exported(
        get_schema: GetSchema<Self>,
        get_next: GetNext<Self>,
        get_last_error: GetLastError<Self>,
        release: Release<Self>,
        private_data: *mut c_void,
    ) -> Self {
        ArrowDeviceArrayStream {
            device_type: ArrowDeviceType::CPU.value(),
            get_schema: Some(get_schema),
            get_next: Some(get_next),
            get_last_error: Some(get_last_error),
            release: Some(release),
            private_data,
        }
    }

    fn export_array(array: FFI_ArrowArray) -> ArrowDeviceArray {
        FFI_ArrowDeviceArray::from_host(array).into_sys()
    }

    /// The declared device type: CPU, or with synchronisation host-accessible device memory.
    fn accept(&self, accept: &HostAccess) -> Result<()> {
        let declared = ArrowDeviceType::new(self.device_type);
        let synchronised = accept.synchronise.is_some();
        if declared == ArrowDeviceType::CPU || (synchronised && declared.is_host_accessible_after_sync()) {
            return Ok(());
        }
        Err(Error::Unsupported(format!(
            "{}: the stream's arrays are in {declared} memory, which this process cannot read{}",
            Path::root(Self::STREAM).field("device_type"),
            if synchronised { " even after synchronisation" } else { "" }
        )))
    }

    /// The array's embedded array, once the array is on the stream's device (which `accept`
    /// allowed) and, off the CPU, the caller's synchronisation returned `Ok`.
    unsafe fn import_array(&self, accept: &mut HostAccess, array: ArrowDeviceArray) -> Result<FFI_ArrowArray> {
        // The common case first, on the raw struct: a CPU array of a CPU stream, whose embedded
        // array is moved out as it is (no copy of the whole device struct, nothing to wait on).
        if array.device_type == ArrowDeviceType::CPU.value() && self.device_type == array.device_type {
            // SAFETY: per the caller, an unreleased device array of the C Device Data Interface;
            // on CPU its embedded array is a plain array of host memory.
            return Ok(unsafe { FFI_ArrowArray::from_sys(array.array) });
        }
        // SAFETY: forwarded from the caller.
        unsafe { off_the_cpu(self, accept, array) }
    }
}

/// [`Interface::import_array`] for every other case: an array on another device than the
/// stream's (an error), or an array of host-accessible device memory, synchronised by the caller.
///
/// # Safety
/// As [`Interface::import_array`].
#[cold]
unsafe fn off_the_cpu(stream: &ArrowDeviceArrayStream, accept: &mut HostAccess, array: ArrowDeviceArray) -> Result<FFI_ArrowArray> {
    // SAFETY: per the caller, an unreleased device array this stream wrote; owned from here, so
    // every error below releases it.
    let array = unsafe { FFI_ArrowDeviceArray::from_sys(array) };
    let declared = ArrowDeviceType::new(stream.device_type);
    if array.device_type() != declared {
        return Err(Path::root("device_array").field("device_type").invalid(format!(
            "the stream declared {declared}, but get_next handed an array in {} memory",
            array.device_type()
        )));
    }
    match &mut accept.synchronise {
        Some(synchronise) if declared != ArrowDeviceType::CPU => {
            synchronise(&array)?;
            // SAFETY: the caller's synchronisation returned `Ok` for this array, which by the
            // contract of `HostAccess::synchronised` makes its buffers host-readable.
            unsafe { array.into_host_array_synchronised() }
        }
        _ => array.into_host_array(),
    }
}
