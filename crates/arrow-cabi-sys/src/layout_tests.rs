//! Size, alignment and offset of every field, as gcc lays out abi.h on a 64-bit target
//! (the figures of ../shared/spec/C-INTERFACES.md part 3, and the C standard's rules for the rest).

use super::*;
use core::mem::{align_of, offset_of, size_of};

/// Checks one struct against its expected size, alignment and field offsets.
macro_rules! check_layout {
    ($ty:ty, size $size:expr, align $align:expr, { $($field:ident @ $offset:expr),+ $(,)? }) => {{
        assert_eq!(size_of::<$ty>(), $size, "size of {}", stringify!($ty));
        assert_eq!(align_of::<$ty>(), $align, "alignment of {}", stringify!($ty));
        $( assert_eq!(offset_of!($ty, $field), $offset, "offset of {}.{}", stringify!($ty), stringify!($field)); )+
    }};
}

#[test]
#[cfg(target_pointer_width = "64")]
fn every_struct_matches_abi_h() {
    check_layout!(ArrowSchema, size 72, align 8, {
        format @ 0, name @ 8, metadata @ 16, flags @ 24, n_children @ 32,
        children @ 40, dictionary @ 48, release @ 56, private_data @ 64,
    });
    check_layout!(ArrowArray, size 80, align 8, {
        length @ 0, null_count @ 8, offset @ 16, n_buffers @ 24, n_children @ 32,
        buffers @ 40, children @ 48, dictionary @ 56, release @ 64, private_data @ 72,
    });
    check_layout!(ArrowArrayStream, size 40, align 8, {
        get_schema @ 0, get_next @ 8, get_last_error @ 16, release @ 24, private_data @ 32,
    });
    check_layout!(ArrowDeviceArray, size 128, align 8, {
        array @ 0, device_id @ 80, device_type @ 88, sync_event @ 96, reserved @ 104,
    });
    check_layout!(ArrowDeviceArrayStream, size 48, align 8, {
        device_type @ 0, get_schema @ 8, get_next @ 16, get_last_error @ 24, release @ 32, private_data @ 40,
    });
    check_layout!(ArrowAsyncTask, size 16, align 8, { extract_data @ 0, private_data @ 8 });
    check_layout!(ArrowAsyncProducer, size 40, align 8, {
        device_type @ 0, request @ 8, cancel @ 16, additional_metadata @ 24, private_data @ 32,
    });
    check_layout!(ArrowAsyncDeviceStreamHandler, size 48, align 8, {
        on_schema @ 0, on_next_task @ 8, on_error @ 16, release @ 24, producer @ 32, private_data @ 40,
    });
}

#[test]
fn callbacks_are_nullable_pointers() {
    // `Option<extern fn>` must be one pointer wide, so that a C NULL reads as `None`.
    assert_eq!(size_of::<Option<unsafe extern "C" fn(*mut ArrowArray)>>(), size_of::<*const u8>());
}

#[test]
fn constants_match_abi_h() {
    assert_eq!(
        (ARROW_FLAG_DICTIONARY_ORDERED, ARROW_FLAG_NULLABLE, ARROW_FLAG_MAP_KEYS_SORTED),
        (1, 2, 4)
    );
    let devices = [
        (ARROW_DEVICE_CPU, 1), (ARROW_DEVICE_CUDA, 2), (ARROW_DEVICE_CUDA_HOST, 3),
        (ARROW_DEVICE_OPENCL, 4), (ARROW_DEVICE_VULKAN, 7), (ARROW_DEVICE_METAL, 8),
        (ARROW_DEVICE_VPI, 9), (ARROW_DEVICE_ROCM, 10), (ARROW_DEVICE_ROCM_HOST, 11),
        (ARROW_DEVICE_EXT_DEV, 12), (ARROW_DEVICE_CUDA_MANAGED, 13), (ARROW_DEVICE_ONEAPI, 14),
        (ARROW_DEVICE_WEBGPU, 15), (ARROW_DEVICE_HEXAGON, 16),
    ];
    for (value, expected) in devices {
        assert_eq!(value, expected);
    }
}
