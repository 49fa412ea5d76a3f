#!/usr/bin/env bash
# Runs every test: the Rust workspace (unit, property, golden-file, peer, ADBC and CLI tests, doctests),
# the Python interop suite against pyarrow, polars, duckdb, nanoarrow and arro3, its pyarrow tests again
# under valgrind, every Rust-only test under Miri with few property cases (docs/SAFETY.md), and the fuzz
# targets for a fixed budget. Installs what it needs first (scripts/setup.sh).
#
# Miri interprets on one core for most of the run, so it starts first, in the background, and the other
# steps share the second core with it; its log is printed when it ends (or on the first failure).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh

# The gold files, the ADBC driver and the Arrow C++ peer (pyarrow's libarrow and g++, installed by
# setup.sh above) must be found: a missing one fails instead of skipping.
export ARROW_CABI_REQUIRE_GOLDEN=1 ARROW_CABI_REQUIRE_ADBC=1 ARROW_CABI_REQUIRE_PEERS=1

start=$SECONDS
step() { echo "== [$(( (SECONDS - start) / 60 ))m$(( (SECONDS - start) % 60 ))s] $*"; }

miri_log="$(mktemp)"
miri_pid=""
stop_miri() { [ -n "$miri_pid" ] && kill "$miri_pid" 2>/dev/null || true; }
trap stop_miri EXIT

step "Miri (background): every Rust-only test of arrow-cabi-sys, arrow-cabi and arrow-rs-tests (few proptest cases; docs/SAFETY.md lists what is ignored under Miri and why), log in $miri_log"
PROPTEST_CASES=4 MIRIFLAGS="-Zmiri-disable-isolation" \
    cargo +nightly miri test -p arrow-cabi-sys -p arrow-cabi -p arrow-rs-tests >"$miri_log" 2>&1 &
miri_pid=$!

step "Rust: workspace tests"
cargo test --workspace --exclude arrow-cabi-python

step "Python: build the arrow_cabi package and run the interop suite"
python/build.sh
.venv/bin/python -m pytest python/tests -q

step "Valgrind: the pyarrow interop tests under memcheck (docs/SAFETY.md: reads and writes out of bounds, use after free, double free, on both sides of the boundary)"
PYTHONMALLOC=malloc ARROW_DEFAULT_MEMORY_POOL=system \
    valgrind --tool=memcheck --error-exitcode=99 --leak-check=no --undef-value-errors=no \
        --suppressions=python/valgrind.supp --quiet \
    .venv/bin/python -m pytest -q -p no:cacheprovider python/tests/test_golden_pyarrow.py \
        python/tests/test_reader.py python/tests/test_bad_capsules.py python/tests/test_validation.py \
        python/tests/test_nullability.py

step "Fuzz: schema, array, stream, differential and device targets, FUZZ_SECONDS (48) each, from the committed seeds"
scripts/fuzz.sh

step "Miri: waiting for the background run"
miri_status=0
wait "$miri_pid" || miri_status=$?
miri_pid=""
grep -E "^(test result|     Running|error|failures:)" "$miri_log" || true
if [ "$miri_status" -ne 0 ]; then
    tail -n 200 "$miri_log"
    step "Miri failed (exit $miri_status); the whole log is $miri_log"
    exit "$miri_status"
fi
step "every test passed"
