#!/usr/bin/env bash
# Regenerates BENCHMARKS.md, benchmarks/cost-per-column.png and benchmarks/ratio-per-path.png
# (issues 6 and 12), in about 12 minutes on 2 cores:
#   1. builds the criterion bench and the instruction-count example (cargo profile `bench`);
#   2. runs the criterion benches `crossing` (arrow-cabi and arrow-rs's ffi side by side, every path)
#      and `async_stream` (the async device stream beside the synchronous one);
#   3. counts instructions with callgrind for each case: (count at N iterations - count at 0) / N;
#   4. runs tests/memory_flat.rs for its allocator figures;
#   5. builds the Python package (release) into .venv and runs scripts/bench_python.py (the hop
#      pyarrow -> arrow_cabi / nanoarrow / arro3 -> pyarrow);
#   6. writes the report and the charts with scripts/bench_report.py.
#
# Usage: scripts/bench.sh            (from anywhere; the whole run; .venv from scripts/setup.sh)
#   SKIP_CRITERION=1 scripts/bench.sh  reuse target/criterion from an earlier run
#   SKIP_CALLGRIND=1 scripts/bench.sh  reuse benchmarks/instructions.tsv from an earlier run
#   SKIP_PYTHON=1 scripts/bench.sh     reuse benchmarks/python.json from an earlier run
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
python="$root/.venv/bin/python"
[ -x "$python" ] || python=python3
mkdir -p benchmarks
# The report's charts need matplotlib, which the tests do not.
"$python" -c "import matplotlib" 2>/dev/null || "$python" -m pip install --quiet --disable-pip-version-check matplotlib

echo "== build" >&2
cargo build --profile bench -p arrow-cabi --bench crossing --bench async_stream --example crossing_instructions

if [ -z "${SKIP_CRITERION:-}" ]; then
    echo "== criterion" >&2
    cargo bench -p arrow-cabi --bench crossing
    cargo bench -p arrow-cabi --bench async_stream
fi

bin="$target/release/examples/crossing_instructions"
tsv="benchmarks/instructions.tsv"
if [ -z "${SKIP_CALLGRIND:-}" ]; then
    echo "== callgrind" >&2
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
    # Total instructions of one run of the example (callgrind's "summary:" line).
    count() { # case iters
        local out="$work/$1.$2.out"
        valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" --case "$1" --iters "$2" >/dev/null 2>"$work/log"
        awk '/^(summary|totals):/ { print $2; exit }' "$out"
    }
    printf 'case\titers\tinstructions_at_iters\tinstructions_at_0\tper_iteration\n' >"$tsv.new"
    measure() { # shape op lib iters
        local case="$1-$2-$3"
        local base="$work/base.$1"
        [ -s "$base" ] || count "$1-roundtrip-ours" 0 >"$base"
        local at_n
        at_n="$(count "$case" "$4")"
        printf '%s\t%s\t%s\t%s\t%s\n' "$case" "$4" "$at_n" "$(cat "$base")" \
            "$(( (at_n - $(cat "$base")) / $4 ))" >>"$tsv.new"
        echo "  $case: $(( (at_n - $(cat "$base")) / $4 )) instructions per iteration" >&2
    }
    for shape in s1 s2 s3 s4; do
        for lib in ours arrow-rs; do
            measure "$shape" roundtrip "$lib" 2      # one iteration = a stream of 100 batches
            measure "$shape" export "$lib" 100
            measure "$shape" import "$lib" 100
            measure "$shape" schema "$lib" 100
            measure "$shape" schema_roundtrip "$lib" 100   # issue 12's paths: whole crossings
            measure "$shape" array_roundtrip "$lib" 100
            measure "$shape" batch_roundtrip "$lib" 100
        done
    done
    for shape in s1 s2 s3; do                      # the floor of the schema and array paths (arrow-rs's types alone)
        measure "$shape" schema_floor ours 100
        measure "$shape" array_floor ours 100
    done
    for shape in s1 s2 s3; do                      # the device stream (ours only: arrow-rs 60.1 has none)
        measure "$shape" device_roundtrip ours 2
    done
    for shape in s2 s3; do                         # full validation: ours at Full (minus import), arrow-rs alone
        measure "$shape" full ours 20
        measure "$shape" full arrow-rs 20
    done
    for shape in cols-1 cols-10 cols-1000; do     # cols-100 is S2
        for lib in ours arrow-rs; do
            measure "$shape" roundtrip "$lib" 2
        done
    done
    mv "$tsv.new" "$tsv"
fi

echo "== memory" >&2
memory="benchmarks/memory.txt"
cargo test --profile bench -p arrow-cabi --test memory_flat -- --nocapture --test-threads=1 2>&1 \
    | grep -o 'Figures {.*}' >"$memory"

pyjson="benchmarks/python.json"
if [ -z "${SKIP_PYTHON:-}" ]; then
    echo "== python" >&2
    venv_python="$root/.venv/bin/python"
    if ! "$venv_python" -c 'import pyarrow, nanoarrow, arro3.core' 2>/dev/null; then
        echo "no .venv with pyarrow, nanoarrow and arro3: run scripts/setup.sh (or SKIP_PYTHON=1)" >&2
        exit 1
    fi
    python/build.sh --release >"$target/bench-python-build.log" \
        || { cat "$target/bench-python-build.log" >&2; exit 1; }
    "$venv_python" scripts/bench_python.py --out "$pyjson.new"
    mv "$pyjson.new" "$pyjson"
fi

echo "== report" >&2
"$python" scripts/bench_report.py --criterion "$target/criterion" --instructions "$tsv" \
    --memory "$memory" --python "$pyjson" --out BENCHMARKS.md --chart benchmarks/cost-per-column.png \
    --paths-chart benchmarks/ratio-per-path.png
echo "wrote BENCHMARKS.md, benchmarks/cost-per-column.png and benchmarks/ratio-per-path.png" >&2
