//! Batches per second through the async device stream (issue 16): our `export_async_device_stream`
//! driving our `AsyncDeviceStreamReader`, beside the synchronous device stream
//! (`FFI_ArrowDeviceArrayStream::new` → `ArrowDeviceArrayStreamReader`), S1–S3.
//!
//! Group `<shape>-async_roundtrip` (criterion writes
//! `target/criterion/<shape>-async_roundtrip/<bench>/new/estimates.json`), one iteration = one
//! stream of 100 batches (`Throughput::Elements(100)`), everything made and dropped inside it:
//! - `arrow-cabi-device`: the synchronous device stream round trip;
//! - `arrow-cabi-async`: the async round trip, queue size 16, both futures polled by
//!   `futures::executor::block_on` on one thread;
//! - `arrow-cabi-async-q1`: the same with queue size 1 (one request per batch, the most
//!   back-and-forth between the two sides).
//!
//! Before timing, asserts that every batch comes back through the async stream with every buffer
//! at its original address (zero-copy).
//!
//! Run: `cargo bench -p arrow-cabi --bench async_stream`.
#![allow(missing_docs)] // `criterion_group!` defines an undocumented public function.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

mod common;
use common::*;

fn async_roundtrip(c: &mut Criterion) {
    settle_allocator();
    for name in ["s1", "s2", "s3"] {
        let batch = shape(name);
        for queue_size in [16, 1] {
            let checked = assert_zero_copy("arrow-cabi (async stream)", &batch, &collect_ours_async(&batch, queue_size));
            eprintln!("{name}: zero-copy checked: {checked} imported buffers through the async stream (queue {queue_size})");
        }
        let mut group = c.benchmark_group(format!("{name}-async_roundtrip"));
        group.warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3)).sample_size(20);
        group.throughput(Throughput::Elements(BATCHES_PER_STREAM as u64));
        group.bench_function("arrow-cabi-device", |b| b.iter(|| black_box(roundtrip_ours_device(black_box(&batch)))));
        group.bench_function("arrow-cabi-async", |b| b.iter(|| black_box(roundtrip_ours_async(black_box(&batch), 16))));
        group.bench_function("arrow-cabi-async-q1", |b| b.iter(|| black_box(roundtrip_ours_async(black_box(&batch), 1))));
        group.finish();
    }
}

criterion_group!(benches, async_roundtrip);
criterion_main!(benches);
