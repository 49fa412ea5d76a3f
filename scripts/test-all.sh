#!/usr/bin/env bash
# Runs every test: the Rust workspace (unit, property, golden-file, peer, ADBC and CLI tests, doctests),
# the Python interop suite against pyarrow, polars, duckdb, nanoarrow and arro3, and the FFI tests
# under Miri with few property cases. Installs what it needs first (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh

# The gold files and the ADBC driver must be found: a missing one fails instead of skipping.
export ARROW_CABI_REQUIRE_GOLDEN=1 ARROW_CABI_REQUIRE_ADBC=1

echo "== Rust: workspace tests"
cargo test --workspace --exclude arrow-cabi-python

echo "== Python: build the arrow_cabi package and run the interop suite"
python/build.sh
.venv/bin/python -m pytest python/tests -q

echo "== Miri: C Data round trips, malformed input, release counting, stream rules, nullability, ArrayData and schema export, the arrow-rs surface (few proptest cases)"
PROPTEST_CASES=4 MIRIFLAGS="-Zmiri-disable-isolation" \
    cargo +nightly miri test -p arrow-cabi-sys -p arrow-cabi --lib --test malformed --test release --test roundtrip --test stream_rules \
        --test nullability --test export_data --test schema_export --test arrow_rs_api

echo "== Fuzz: schema, array, stream and differential targets, FUZZ_SECONDS (60) each, from the committed seeds"
scripts/fuzz.sh
