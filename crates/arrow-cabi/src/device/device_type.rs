//! [`ArrowDeviceType`]: the device a device array's buffers live on, as an `i32` newtype.
#![forbid(unsafe_code)]

use std::fmt;

use arrow_cabi_sys as sys;

/// The type of device whose memory holds a device array's buffers: `ArrowDeviceType` of abi.h,
/// whose values are DLPack's `DLDeviceType`.
///
/// A newtype over `i32`, not an enum, so that a value this crate does not know (a newer device,
/// or garbage from a faulty producer) is a value like any other rather than undefined behaviour.
/// Free to copy and compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(transparent)]
pub struct ArrowDeviceType(i32);

/// The named device types, in abi.h's order: (constant, name).
const NAMES: [(ArrowDeviceType, &str); 14] = [
    (ArrowDeviceType::CPU, "CPU"),
    (ArrowDeviceType::CUDA, "CUDA"),
    (ArrowDeviceType::CUDA_HOST, "CUDA_HOST"),
    (ArrowDeviceType::OPENCL, "OPENCL"),
    (ArrowDeviceType::VULKAN, "VULKAN"),
    (ArrowDeviceType::METAL, "METAL"),
    (ArrowDeviceType::VPI, "VPI"),
    (ArrowDeviceType::ROCM, "ROCM"),
    (ArrowDeviceType::ROCM_HOST, "ROCM_HOST"),
    (ArrowDeviceType::EXT_DEV, "EXT_DEV"),
    (ArrowDeviceType::CUDA_MANAGED, "CUDA_MANAGED"),
    (ArrowDeviceType::ONEAPI, "ONEAPI"),
    (ArrowDeviceType::WEBGPU, "WEBGPU"),
    (ArrowDeviceType::HEXAGON, "HEXAGON"),
];

impl ArrowDeviceType {
    /// `ARROW_DEVICE_CPU`: ordinary host memory, what the C Data Interface's arrays point at.
    pub const CPU: Self = Self(sys::ARROW_DEVICE_CPU);
    /// `ARROW_DEVICE_CUDA`: CUDA device memory.
    pub const CUDA: Self = Self(sys::ARROW_DEVICE_CUDA);
    /// `ARROW_DEVICE_CUDA_HOST`: pinned host memory from `cudaMallocHost`.
    pub const CUDA_HOST: Self = Self(sys::ARROW_DEVICE_CUDA_HOST);
    /// `ARROW_DEVICE_OPENCL`: OpenCL device memory.
    pub const OPENCL: Self = Self(sys::ARROW_DEVICE_OPENCL);
    /// `ARROW_DEVICE_VULKAN`: Vulkan buffers.
    pub const VULKAN: Self = Self(sys::ARROW_DEVICE_VULKAN);
    /// `ARROW_DEVICE_METAL`: Metal (Apple GPU) buffers.
    pub const METAL: Self = Self(sys::ARROW_DEVICE_METAL);
    /// `ARROW_DEVICE_VPI`: Verilog simulator buffers.
    pub const VPI: Self = Self(sys::ARROW_DEVICE_VPI);
    /// `ARROW_DEVICE_ROCM`: ROCm (AMD GPU) device memory.
    pub const ROCM: Self = Self(sys::ARROW_DEVICE_ROCM);
    /// `ARROW_DEVICE_ROCM_HOST`: pinned host memory from `hipMallocHost`.
    pub const ROCM_HOST: Self = Self(sys::ARROW_DEVICE_ROCM_HOST);
    /// `ARROW_DEVICE_EXT_DEV`: reserved for extensions.
    pub const EXT_DEV: Self = Self(sys::ARROW_DEVICE_EXT_DEV);
    /// `ARROW_DEVICE_CUDA_MANAGED`: CUDA managed (unified) memory from `cudaMallocManaged`.
    pub const CUDA_MANAGED: Self = Self(sys::ARROW_DEVICE_CUDA_MANAGED);
    /// `ARROW_DEVICE_ONEAPI`: oneAPI unified shared memory.
    pub const ONEAPI: Self = Self(sys::ARROW_DEVICE_ONEAPI);
    /// `ARROW_DEVICE_WEBGPU`: WebGPU buffers.
    pub const WEBGPU: Self = Self(sys::ARROW_DEVICE_WEBGPU);
    /// `ARROW_DEVICE_HEXAGON`: Qualcomm Hexagon DSP memory.
    pub const HEXAGON: Self = Self(sys::ARROW_DEVICE_HEXAGON);

    /// The device type with raw value `value`, known or not.
    pub const fn new(value: i32) -> Self {
        Self(value)
    }

    /// The raw value, as the C struct holds it.
    pub const fn value(&self) -> i32 {
        self.0
    }

    /// abi.h's name without its `ARROW_DEVICE_` prefix (`"CUDA"`), or `None` for a value abi.h
    /// does not name.
    pub fn name(&self) -> Option<&'static str> {
        NAMES.iter().find(|(device, _)| device == self).map(|(_, name)| *name)
    }

    /// Whether the host can read this memory once the producer's work on it is finished: pinned
    /// host memory (`CUDA_HOST`, `ROCM_HOST`) and CUDA managed memory. Such arrays are still
    /// device arrays to the safe import, which reads only `CPU`; see
    /// [`FFI_ArrowDeviceArray::into_host_array_synchronised`](crate::device::FFI_ArrowDeviceArray::into_host_array_synchronised).
    pub fn is_host_accessible_after_sync(&self) -> bool {
        matches!(*self, Self::CUDA_HOST | Self::CUDA_MANAGED | Self::ROCM_HOST)
    }
}

impl fmt::Display for ArrowDeviceType {
    /// `CUDA (2)`, or `unknown device type 99` for a value abi.h does not name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name} ({})", self.0),
            None => write!(f, "unknown device type {}", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_abi_h_and_unknown_values_are_values() {
        assert_eq!(ArrowDeviceType::CUDA.to_string(), "CUDA (2)");
        assert_eq!(ArrowDeviceType::HEXAGON.value(), 16);
        assert_eq!(ArrowDeviceType::new(99).to_string(), "unknown device type 99");
        assert_eq!(ArrowDeviceType::new(5).name(), None);
        // Each named constant once, with its own value.
        let mut values: Vec<i32> = NAMES.iter().map(|(device, _)| device.value()).collect();
        values.dedup();
        assert_eq!(values, [1, 2, 3, 4, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    }
}
