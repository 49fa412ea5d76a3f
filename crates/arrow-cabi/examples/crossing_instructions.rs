//! Runs one crossing case N times, for counting instructions with callgrind (stable on a noisy machine).
//!
//! ```text
//! crossing_instructions --case s2-roundtrip-ours --iters 2
//! valgrind --tool=callgrind --callgrind-out-file=out.%p target/release/examples/crossing_instructions ...
//! ```
//!
//! Cases: `<shape>-<op>-<lib>` with shape `s1`..`s4` or `cols-N` (S2's column mix at N columns),
//! op `roundtrip` (one iteration = one stream of 100 batches), `device_roundtrip` (the same through
//! the device stream; ours only), `export`, `import`, `full` (ours:
//! import at full validation; arrow-rs: `validate_full` alone), `schema` (import alone),
//! `schema_roundtrip`, `array_roundtrip`, `batch_roundtrip` (issue 12's whole crossings: export, import,
//! drop; see `benches/common/mod.rs`), `schema_floor`, `array_floor` (what building and dropping
//! arrow-rs's types alone costs on those paths; the lib is ignored) (one iteration = one batch, array or schema), lib `ours` or
//! `arrow-rs`. The shape is built and the inputs prepared
//! (for `import`, one fresh export per iteration) before the measured loop, so the instructions of one
//! iteration are (count at N iterations - count at 0 iterations) / N; per batch, divide a round trip by
//! 100 more. `scripts/bench.sh` does that subtraction. `import` outputs are dropped after the loop, so
//! (as in the criterion bench) import excludes the release.
//! As in the criterion bench, a thread is started first (`settle_allocator`), so glibc's malloc takes
//! its arena locks as in any process with threads.
use std::hint::black_box;

use arrow_schema::DataType;

#[path = "../benches/common/mod.rs"]
mod common;
use common::*;

fn main() {
    settle_allocator();
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1)).cloned();
    let case = value("--case").unwrap_or_else(|| usage("missing --case"));
    let iters: usize = value("--iters").map_or(Some(1), |n| n.parse().ok()).unwrap_or_else(|| usage("bad --iters"));

    let (shape_name, rest) = case.split_once('-').unwrap_or_else(|| usage("bad case"));
    // `cols-N-...` has one more dash.
    let (shape_name, rest) = if shape_name == "cols" {
        let (n, rest) = rest.split_once('-').unwrap_or_else(|| usage("bad case"));
        (format!("cols-{n}"), rest)
    } else {
        (shape_name.to_string(), rest)
    };
    let (op, lib) = rest.split_once('-').unwrap_or_else(|| usage("bad case"));
    let ours = match lib {
        "ours" => true,
        "arrow-rs" => false,
        _ => usage("library must be ours or arrow-rs"),
    };
    let batch = shape(&shape_name);
    let schema = batch.schema();
    let data_type = DataType::Struct(schema.fields().clone());
    // Made for every case, so that the count at 0 iterations (any case's) includes it.
    let data = batch_data(&batch);

    let mut sink = 0usize;
    match op {
        "roundtrip" => {
            for _ in 0..iters {
                sink += if ours { roundtrip_ours(black_box(&batch)) } else { roundtrip_arrow_rs(black_box(&batch)) };
            }
        }
        "device_roundtrip" => {
            if !ours {
                usage("device_roundtrip is arrow-cabi's only (arrow-rs 60.1 has no device stream)");
            }
            for _ in 0..iters {
                sink += roundtrip_ours_device(black_box(&batch));
            }
        }
        "export" => {
            for _ in 0..iters {
                if ours {
                    drop(black_box(export_ours(black_box(&batch))));
                } else {
                    drop(black_box(export_arrow_rs(black_box(&batch))));
                }
            }
        }
        "import" | "full" => {
            if ours {
                let level = if op == "full" { arrow_cabi::Validation::Full } else { arrow_cabi::Validation::Default };
                let inputs: Vec<_> = (0..iters).map(|_| export_ours(&batch)).collect();
                let mut outputs = Vec::with_capacity(iters);
                for array in inputs {
                    outputs.push(import_ours(array, &schema, level));
                }
                sink += black_box(outputs).len();
            } else if op == "full" {
                // arrow-rs's full validation alone, on the batch's data; compare with ours at `full`
                // minus ours at `import` (the default level).
                for _ in 0..iters {
                    validate_full_arrow_rs(black_box(&data));
                }
            } else {
                let inputs: Vec<_> = (0..iters).map(|_| export_arrow_rs(&batch)).collect();
                let mut outputs = Vec::with_capacity(iters);
                for array in inputs {
                    outputs.push(import_arrow_rs(array, &schema, &data_type));
                }
                sink += black_box(outputs).len();
            }
        }
        "schema" => {
            if ours {
                let exported = schema_export_ours(&schema);
                for _ in 0..iters {
                    sink += black_box(schema_import_ours(black_box(&exported))).fields().len();
                }
            } else {
                let exported = schema_export_arrow_rs(&schema);
                for _ in 0..iters {
                    sink += black_box(schema_import_arrow_rs(black_box(&exported))).fields().len();
                }
            }
        }
        "schema_roundtrip" => {
            let roundtrip = if ours { schema_roundtrip_ours } else { schema_roundtrip_arrow_rs };
            for _ in 0..iters {
                sink += black_box(roundtrip(black_box(&schema))).fields().len();
            }
        }
        "array_roundtrip" => {
            let roundtrip = if ours { array_roundtrip_ours } else { array_roundtrip_arrow_rs };
            for _ in 0..iters {
                sink += black_box(roundtrip(black_box(&data))).len();
            }
        }
        "schema_floor" => {
            for _ in 0..iters {
                sink += black_box(schema_floor(black_box(&schema))).fields().len();
            }
        }
        "array_floor" => {
            for _ in 0..iters {
                sink += black_box(array_floor(black_box(&data))).len();
            }
        }
        "batch_roundtrip" => {
            let roundtrip = if ours { batch_roundtrip_ours } else { batch_roundtrip_arrow_rs };
            for _ in 0..iters {
                sink += black_box(roundtrip(black_box(&batch))).num_rows();
            }
        }
        _ => usage("op must be roundtrip, export, import, full, schema, schema_roundtrip, array_roundtrip, batch_roundtrip or a floor"),
    }
    println!("{case} x {iters}: {sink}");
}

fn usage(problem: &str) -> ! {
    eprintln!("{problem}\nusage: crossing_instructions --case <s1|s2|s3|s4|cols-N>-<roundtrip|device_roundtrip|export|import|full|schema|schema_roundtrip|array_roundtrip|batch_roundtrip|schema_floor|array_floor>-<ours|arrow-rs> [--iters N]");
    std::process::exit(2)
}
