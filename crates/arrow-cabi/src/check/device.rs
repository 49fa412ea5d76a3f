//! Device checks: the fields an `ArrowDeviceArray` adds to its embedded array (device_type,
//! device_id, sync_event, reserved) and a device stream's device_type, and what each device type
//! lets the checks read: a CPU array's data at full validation, any other device's node structs
//! only (the interface keeps them in host memory; the buffers may not be readable here).
#![forbid(unsafe_code)]

use arrow_cabi_sys::ArrowDeviceArray;

use super::{Finding, Observer, Rule};
use crate::device::ArrowDeviceType;

/// What the consumer writes into `reserved` of the device array it hands to `get_next`, so that
/// a producer that leaves the field as it found it (instead of zeroing it, as the interface asks)
/// is seen as such every time, not only when the memory happened to hold garbage.
pub(crate) const RESERVED_POISON: [i64; 3] = [0x5a5a_5a5a_5a5a_5a5a; 3];

/// A released device array for `get_next` to fill, with [`RESERVED_POISON`] in `reserved`.
pub(crate) fn poisoned() -> ArrowDeviceArray {
    ArrowDeviceArray { reserved: RESERVED_POISON, ..ArrowDeviceArray::EMPTY }
}

/// Where an array's buffers are, and so what its checks may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reach {
    /// Host memory: the data is checked at full validation.
    Host,
    /// Memory of this device: only the node structs are checked, never a buffer.
    Device(ArrowDeviceType),
}

/// The device types whose `sync_event` has no type (CDDI "Synchronization event types": N/A),
/// on which it "should always be null".
fn has_no_event_type(device: ArrowDeviceType) -> bool {
    matches!(device, ArrowDeviceType::CPU | ArrowDeviceType::VPI | ArrowDeviceType::WEBGPU | ArrowDeviceType::HEXAGON)
}

/// The device checks of one check run: it remembers which notes were given, so that a stream of
/// many batches says each once.
#[derive(Debug, Default)]
pub(crate) struct Devices {
    skipped_noted: bool,
    cpu_id_noted: bool,
    event_noted: bool,
}

impl Devices {
    /// Checks a device stream's own device_type (at `stream.device_type`).
    pub(crate) fn stream(&mut self, device: ArrowDeviceType, observer: &mut dyn Observer) {
        if device.name().is_none() {
            let seen = format!("{}, which abi.h does not define", device.value());
            observer.finding(Finding::new(Rule::DeviceType, "stream.device_type", seen));
        }
    }

    /// Checks the device fields of `raw` (an unreleased device array at `context`: `batches[3]` or
    /// `device_array`), and against `stream`'s device type when it comes from a stream; returns
    /// what its data checks may read.
    pub(crate) fn array(
        &mut self,
        raw: &ArrowDeviceArray,
        context: &str,
        stream: Option<ArrowDeviceType>,
        observer: &mut dyn Observer,
    ) -> Reach {
        let device = ArrowDeviceType::new(raw.device_type);
        if device.name().is_none() {
            let seen = format!("{}, which abi.h does not define", device.value());
            observer.finding(Finding::new(Rule::DeviceType, format!("{context}.device_type"), seen));
        }
        if let Some(declared) = stream.filter(|&declared| declared != device) {
            let seen = format!("{device}, but the stream declared {declared}");
            observer.finding(Finding::new(Rule::DeviceStreamType, format!("{context}.device_type"), seen));
        }
        if raw.device_id < -1 {
            let seen = format!("{}: not -1 (no device numbering) nor a device number", raw.device_id);
            observer.finding(Finding::new(Rule::DeviceId, format!("{context}.device_id"), seen));
        } else if device == ArrowDeviceType::CPU && raw.device_id != -1 && !self.cpu_id_noted {
            self.cpu_id_noted = true;
            observer.note(&format!(
                "{context}.device_id is {} on CPU; the spec recommends -1 for a device type without device numbers \
                 (not a rule: any id is accepted on CPU)",
                raw.device_id
            ));
        }
        if !raw.sync_event.is_null() {
            if has_no_event_type(device) {
                let seen = format!("{:p} on {device}, which has no event type to synchronise on", raw.sync_event);
                observer.finding(Finding::new(Rule::DeviceSyncEvent, format!("{context}.sync_event"), seen));
            } else if !self.event_noted {
                self.event_noted = true;
                observer.note(&format!(
                    "{context}.sync_event is set on {device}: waiting on it needs the device's API, so the event itself is not checked"
                ));
            }
        }
        if raw.reserved != [0; 3] {
            let seen = if raw.reserved == RESERVED_POISON {
                "left as the consumer's struct held it (the checker fills it with 0x5a bytes before get_next), not zeroed".to_owned()
            } else {
                let words: Vec<String> = raw.reserved.iter().map(|word| format!("{word:#x}")).collect();
                format!("[{}], not zeroed", words.join(", "))
            };
            observer.finding(Finding::new(Rule::DeviceReserved, format!("{context}.reserved"), seen));
        }
        if device == ArrowDeviceType::CPU {
            return Reach::Host;
        }
        if !self.skipped_noted {
            self.skipped_noted = true;
            observer.note(&format!(
                "{context}: the buffers are in {device} memory and are not read: data checks (offsets, UTF-8, values, \
                 null counts against bitmaps, ...) were skipped; the node structs (counts, lengths, NULL pointers, \
                 children, dictionaries) and the release protocol were checked"
            ));
        }
        Reach::Device(device)
    }
}
