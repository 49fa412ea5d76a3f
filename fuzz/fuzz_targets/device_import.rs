//! Imports an `ArrowDeviceArray` built from the fuzz bytes: `array_import`'s input (a data type, a
//! call, an array tree; its seeds serve this target too), then a device type from a table, a
//! device id, whether a sync_event is set, and `reserved`. Through one of the device layer's
//! imports (the call byte picks it): the safe import at `Validation::Full`, the synchronised
//! import for host-accessible memory then the plain import at Full, or `DeviceArrayTree` (any
//! device type, buffers never read). A finding: a panic, a sanitizer report, a node released other
//! than exactly once after the result is dropped, an import accepted for a device type it must
//! refuse (or refused other than by name), an accepted array that fails `array_import`'s checks,
//! or a tree whose device fields or root buffer addresses are not the producer's.
#![no_main]

use arrow_cabi::array::import_array_as;
use arrow_cabi::device::{import_device_array_as, ArrowDeviceType, DeviceArrayTree, FFI_ArrowDeviceArray};
use arrow_cabi::{Error, Validation};
use arrow_cabi_fuzz::case::ArrayCase;
use arrow_cabi_fuzz::check;
use arrow_cabi_fuzz::input::Reader;
use arrow_cabi_fuzz::producer::Producer;
use arrow_cabi_sys::ArrowDeviceArray;
use libfuzzer_sys::fuzz_target;

/// The device types tried: CPU first (what `array_import`'s seeds, which end before these bytes,
/// read as), the host-accessible ones, device memory proper, and values abi.h does not name.
const DEVICES: [ArrowDeviceType; 8] = [
    ArrowDeviceType::CPU,
    ArrowDeviceType::CUDA_HOST,
    ArrowDeviceType::CUDA_MANAGED,
    ArrowDeviceType::ROCM_HOST,
    ArrowDeviceType::CUDA,
    ArrowDeviceType::METAL,
    ArrowDeviceType::new(0),
    ArrowDeviceType::new(99),
];

fuzz_target!(|data: &[u8]| {
    let mut input = Reader::new(data);
    let Some(ArrayCase { data_type, call, desc }) = ArrayCase::read_fitted(&mut input) else {
        return; // a buffer would have to be larger than the producer hands out
    };
    let device = DEVICES[usize::from(input.u8()) % DEVICES.len()];
    let device_id = input.int();
    let mut event = 0u64;
    let sync_event = if input.u8() & 1 == 1 { (&mut event as *mut u64).cast() } else { std::ptr::null_mut() };
    let reserved = [input.int(), input.int(), input.int()];
    let producer = Producer::new();
    let raw = ArrowDeviceArray { array: producer.array(&desc), device_id, device_type: device.value(), sync_event, reserved };
    let released = raw.array.release.is_none();
    // SAFETY: the producer built an array that follows the C Data Interface in everything an
    // importer cannot check; its buffers are host memory whatever the device type says, and nothing
    // writes them, so the synchronised import's promise holds.
    let array = unsafe { FFI_ArrowDeviceArray::from_sys(raw) };
    let host_readable = device == ArrowDeviceType::CPU || device.is_host_accessible_after_sync();
    match call % 3 {
        0 => {
            let imported = import_device_array_as(array, data_type, Validation::Full);
            match &imported {
                Ok(array) => {
                    assert_eq!(device, ArrowDeviceType::CPU, "the safe import accepted {device} memory");
                    check::accepted_array("device array import", array.as_ref());
                }
                Err(error) if device != ArrowDeviceType::CPU && !released => {
                    assert!(matches!(error, Error::Unsupported(_)), "{device} refused other than by name: {error}");
                    assert!(error.to_string().contains(&device.to_string()), "{error}");
                }
                Err(error) => drop(error.to_string()),
            }
            drop(imported);
        }
        1 => {
            // SAFETY: as above: host memory that nothing writes.
            let host = unsafe { array.into_host_array_synchronised() };
            match host {
                Ok(host) => {
                    assert!(host_readable, "the synchronised import accepted {device} memory");
                    let imported = import_array_as(host, data_type, Validation::Full);
                    if let Ok(array) = &imported {
                        check::accepted_array("synchronised device array import", array.as_ref());
                    }
                    drop(imported);
                }
                Err(error) => assert!(released || !host_readable, "{device} refused after synchronisation: {error}"),
            }
        }
        _ => {
            if let Ok(tree) = DeviceArrayTree::new(array, data_type) {
                assert_eq!((tree.device_type(), tree.device_id(), tree.sync_event()), (device, device_id, sync_event));
                let embedded = tree.array().array();
                let root = tree.root();
                assert_eq!(root.buffers.len(), embedded.num_buffers());
                for (index, buffer) in root.buffers.iter().enumerate() {
                    assert_eq!(buffer.address, embedded.buffer_opt(index).map_or(0, |p| p as usize), "buffer {index}");
                }
                drop(tree);
            }
        }
    }
    producer.check_releases();
});
