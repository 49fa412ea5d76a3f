#!/usr/bin/env bash
# Runs every test: the Rust workspace (unit, property, golden-file, peer, ADBC and CLI tests, doctests),
# the Python interop suite against pyarrow, polars, duckdb, nanoarrow and arro3, its pyarrow tests again
# under valgrind, and every Rust-only test under Miri with few property cases (docs/SAFETY.md).
# Installs what it needs first (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh

# The gold files, the ADBC driver and the Arrow C++ peer (pyarrow's libarrow and g++, installed by
# setup.sh above) must be found: a missing one fails instead of skipping.
export ARROW_CABI_REQUIRE_GOLDEN=1 ARROW_CABI_REQUIRE_ADBC=1 ARROW_CABI_REQUIRE_PEERS=1

echo "== Rust: workspace tests"
cargo test --workspace --exclude arrow-cabi-python

echo "== Python: build the arrow_cabi package and run the interop suite"
python/build.sh
.venv/bin/python -m pytest python/tests -q

echo "== Valgrind: the pyarrow interop tests under memcheck (docs/SAFETY.md: reads and writes out of bounds, use after free, double free, on both sides of the boundary)"
PYTHONMALLOC=malloc ARROW_DEFAULT_MEMORY_POOL=system \
    valgrind --tool=memcheck --error-exitcode=99 --leak-check=no --undef-value-errors=no \
        --suppressions=python/valgrind.supp --quiet \
    .venv/bin/python -m pytest -q -p no:cacheprovider python/tests/test_golden_pyarrow.py \
        python/tests/test_reader.py python/tests/test_bad_capsules.py python/tests/test_validation.py \
        python/tests/test_nullability.py

echo "== Miri: every Rust-only test of arrow-cabi-sys, arrow-cabi and arrow-rs-tests (few proptest cases; docs/SAFETY.md lists what is ignored under Miri and why)"
PROPTEST_CASES=4 MIRIFLAGS="-Zmiri-disable-isolation" \
    cargo +nightly miri test -p arrow-cabi-sys -p arrow-cabi -p arrow-rs-tests

echo "== Fuzz: schema, array, stream and differential targets, FUZZ_SECONDS (60) each, from the committed seeds"
scripts/fuzz.sh
