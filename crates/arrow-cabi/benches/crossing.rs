//! The cost of crossing the C ABI, arrow-cabi beside arrow-rs's own `ffi` in the same run (issue 6).
//!
//! Groups (criterion writes `target/criterion/<group>/<library>/new/estimates.json`):
//! - `<shape>-roundtrip`: export a reader of 100 batches as a stream, import, iterate, drop. One
//!   iteration is one stream; the per-batch figure is the iteration / 100 (`Throughput::Elements(100)`).
//!   Before timing, asserts that every imported buffer is the original one (zero bytes copied).
//! - `<shape>-export`: each library's way to export a batch, then release: arrow-cabi exports the
//!   `RecordBatch` itself; arrow-rs goes batch -> struct `ArrayData` -> `FFI_ArrowArray`.
//! - `<shape>-import`: `FFI_ArrowArray` (a fresh export by the same library) -> `RecordBatch`, as each
//!   library's stream reader does it; the output is dropped outside the timing.
//! - `<shape>-schema`: `FFI_ArrowSchema` -> `Schema`.
//! - `<s2|s3>-validate-full`: arrow-cabi's import at `Validation::Full` (`arrow-cabi`) and at the default
//!   level (`arrow-cabi-default`, to subtract), arrow-rs's `ArrayData::validate_full` on the same data
//!   (`arrow-rs`), and arrow-rs's import followed by `validate_full` (`arrow-rs-import`).
//! - `<shape>-schema_roundtrip`, `<shape>-array_roundtrip`, `<shape>-batch_roundtrip` (issue 12's paths):
//!   one whole crossing each, export, import and drop: a schema (`FFI_ArrowSchema::try_from(&Schema)`,
//!   `Schema::try_from(&ffi)`); one array with its schema under arrow-rs's names (`to_ffi`, `from_ffi`,
//!   `make_array`) on the batch as a struct `ArrayData`; one batch with its schema through arrow-cabi's
//!   typed API (`FFI_ArrowArray::from_batch`, `import_batch`) and through arrow-rs (`StructArray`,
//!   `to_ffi`, `from_ffi`, `RecordBatch::from`). Before timing, asserts that the schema comes back
//!   equal and every imported buffer is the original one.
//! - `<shape>-device_roundtrip`: the stream round trip through the device stream (CPU device
//!   arrays, `FFI_ArrowDeviceArrayStream::new` and `ArrowDeviceArrayStreamReader`) beside the plain
//!   one, both arrow-cabi's; zero-copy asserted first.
//! - `columns-roundtrip/<library>/<N>`: the stream round trip of S2's column mix at N = 1, 10, 100, 1000
//!   columns x 1024 rows, for the cost-per-column chart.
//!
//! Run: `cargo bench -p arrow-cabi --bench crossing` (a filter argument selects groups).
#![allow(missing_docs)] // `criterion_group!` defines an undocumented public function.

use std::hint::black_box;
use std::time::Duration;

use arrow_array::RecordBatch;
use arrow_schema::DataType;
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkGroup, Criterion, SamplingMode, Throughput};
use criterion::measurement::WallTime;

mod common;
use common::*;

const OURS: &str = "arrow-cabi";
const ARROW_RS: &str = "arrow-rs";

fn group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut group = c.benchmark_group(name);
    group.warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3)).sample_size(20);
    group
}

fn roundtrip(c: &mut Criterion, shape: &str, batch: &RecordBatch) {
    let ours = assert_zero_copy(OURS, batch, &collect_ours(batch));
    let theirs = assert_zero_copy(ARROW_RS, batch, &collect_arrow_rs(batch));
    eprintln!("{shape}: zero-copy checked: {ours} imported buffers (arrow-cabi), {theirs} (arrow-rs) at their original addresses");

    let mut group = group(c, &format!("{shape}-roundtrip"));
    group.throughput(Throughput::Elements(BATCHES_PER_STREAM as u64));
    group.bench_function(OURS, |b| b.iter(|| black_box(roundtrip_ours(black_box(batch)))));
    group.bench_function(ARROW_RS, |b| b.iter(|| black_box(roundtrip_arrow_rs(black_box(batch)))));
    group.finish();
}

/// The device stream round trip beside the plain one, both arrow-cabi's (arrow-rs 60.1 has no device
/// stream): `<shape>-device_roundtrip/{arrow-cabi-device, arrow-cabi-plain}`, per batch as above.
fn device_roundtrip(c: &mut Criterion, shape: &str, batch: &RecordBatch) {
    let checked = assert_zero_copy("arrow-cabi (device stream)", batch, &collect_ours_device(batch));
    eprintln!("{shape}: zero-copy checked: {checked} imported buffers through the device stream");
    let mut group = group(c, &format!("{shape}-device_roundtrip"));
    group.throughput(Throughput::Elements(BATCHES_PER_STREAM as u64));
    group.bench_function("arrow-cabi-device", |b| b.iter(|| black_box(roundtrip_ours_device(black_box(batch)))));
    group.bench_function("arrow-cabi-plain", |b| b.iter(|| black_box(roundtrip_ours(black_box(batch)))));
    group.finish();
}

fn export(c: &mut Criterion, shape: &str, batch: &RecordBatch) {
    let mut group = group(c, &format!("{shape}-export"));
    group.bench_function(OURS, |b| b.iter(|| drop(black_box(export_ours(black_box(batch))))));
    group.bench_function(ARROW_RS, |b| b.iter(|| drop(black_box(export_arrow_rs(black_box(batch))))));
    group.finish();
}

fn import(c: &mut Criterion, shape: &str, batch: &RecordBatch) {
    let schema = batch.schema();
    let data_type = DataType::Struct(schema.fields().clone());
    let mut group = group(c, &format!("{shape}-import"));
    group.bench_function(OURS, |b| {
        b.iter_batched(
            || export_ours(batch),
            |array| import_ours(array, &schema, arrow_cabi::Validation::Default),
            BatchSize::SmallInput,
        )
    });
    group.bench_function(ARROW_RS, |b| {
        b.iter_batched(|| export_arrow_rs(batch), |array| import_arrow_rs(array, &schema, &data_type), BatchSize::SmallInput)
    });
    group.finish();
}

fn schema(c: &mut Criterion, shape: &str, batch: &RecordBatch) {
    let schema = batch.schema();
    let ours = schema_export_ours(&schema);
    let theirs = schema_export_arrow_rs(&schema);
    let mut group = group(c, &format!("{shape}-schema"));
    group.bench_function(OURS, |b| b.iter(|| schema_import_ours(black_box(&ours))));
    group.bench_function(ARROW_RS, |b| b.iter(|| schema_import_arrow_rs(black_box(&theirs))));
    group.finish();
}

fn validate_full(c: &mut Criterion, shape: &str, batch: &RecordBatch) {
    let schema = batch.schema();
    let data_type = DataType::Struct(schema.fields().clone());
    let data = batch_data(batch);
    let mut group = group(c, &format!("{shape}-validate-full"));
    group.bench_function(OURS, |b| {
        b.iter_batched(
            || export_ours(batch),
            |array| import_ours(array, &schema, arrow_cabi::Validation::Full),
            BatchSize::SmallInput,
        )
    });
    group.bench_function("arrow-cabi-default", |b| {
        b.iter_batched(
            || export_ours(batch),
            |array| import_ours(array, &schema, arrow_cabi::Validation::Default),
            BatchSize::SmallInput,
        )
    });
    group.bench_function(ARROW_RS, |b| b.iter(|| validate_full_arrow_rs(black_box(&data))));
    group.bench_function("arrow-rs-import", |b| {
        b.iter_batched(
            || export_arrow_rs(batch),
            |array| {
                let batch = import_arrow_rs(array, &schema, &data_type);
                validate_full_arrow_rs(&batch_data(&batch));
                batch
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

/// One group timing arrow-cabi's `ours` beside arrow-rs's `theirs`, each output dropped inside the timing.
fn side_by_side<O, T>(c: &mut Criterion, name: &str, mut ours: impl FnMut() -> O, mut theirs: impl FnMut() -> T) {
    let mut group = group(c, name);
    group.bench_function(OURS, |b| b.iter(|| drop(black_box(ours()))));
    group.bench_function(ARROW_RS, |b| b.iter(|| drop(black_box(theirs()))));
    group.finish();
}

/// Issue 12's paths other than the stream, each a whole crossing: export, import, drop.
fn paths(c: &mut Criterion, shape: &str, batch: &RecordBatch) {
    eprintln!("{shape}: {}", assert_paths_zero_copy(batch));
    let schema = batch.schema();
    let data = batch_data(batch);
    side_by_side(
        c,
        &format!("{shape}-schema_roundtrip"),
        || schema_roundtrip_ours(black_box(&schema)),
        || schema_roundtrip_arrow_rs(black_box(&schema)),
    );
    side_by_side(
        c,
        &format!("{shape}-array_roundtrip"),
        || array_roundtrip_ours(black_box(&data)),
        || array_roundtrip_arrow_rs(black_box(&data)),
    );
    side_by_side(
        c,
        &format!("{shape}-batch_roundtrip"),
        || batch_roundtrip_ours(black_box(batch)),
        || batch_roundtrip_arrow_rs(black_box(batch)),
    );
}

fn columns(c: &mut Criterion) {
    let mut group = group(c, "columns-roundtrip");
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements(BATCHES_PER_STREAM as u64));
    for columns in [1usize, 10, 100, 1000] {
        let batch = mixed_batch(columns, ROWS);
        group.bench_with_input(criterion::BenchmarkId::new(OURS, columns), &batch, |b, batch| {
            b.iter(|| black_box(roundtrip_ours(black_box(batch))))
        });
        group.bench_with_input(criterion::BenchmarkId::new(ARROW_RS, columns), &batch, |b, batch| {
            b.iter(|| black_box(roundtrip_arrow_rs(black_box(batch))))
        });
    }
    group.finish();
}

fn shapes(c: &mut Criterion) {
    settle_allocator();
    for name in SHAPES {
        let batch = shape(name);
        roundtrip(c, name, &batch);
        device_roundtrip(c, name, &batch);
        export(c, name, &batch);
        import(c, name, &batch);
        schema(c, name, &batch);
        paths(c, name, &batch);
        if matches!(name, "s2" | "s3") {
            validate_full(c, name, &batch);
        }
    }
}

criterion_group!(benches, shapes, columns);
criterion_main!(benches);
