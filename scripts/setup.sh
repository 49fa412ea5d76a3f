#!/usr/bin/env bash
# Installs what the tests need, idempotently: the Python peers in ./.venv (pinned as in
# ../shared/golden/PEERS.md), maturin, nightly Miri, cargo-fuzz, g++ and valgrind (Debian's packages).
# Safe to run again; fast when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check \
    pyarrow==26.0.1 nanoarrow==0.9.0 polars==2.1.0 duckdb==2.0.1 arro3-core==0.9.1 \
    adbc-driver-sqlite==1.13.0 adbc-driver-manager==1.13.0 pytest maturin

rustup component add --toolchain nightly miri rust-src >/dev/null
cargo +nightly miri setup >/dev/null 2>&1

# g++ builds the Arrow C++ shims of python/tests/test_device_cpp.py and crates/arrow-cabi/tests/async_cpp.rs
# (against pyarrow's libarrow, so pyarrow is installed above, before test-all.sh runs the Rust tests);
# valgrind runs the pyarrow interop tests under memcheck (scripts/test-all.sh).
missing=""
command -v g++ >/dev/null || missing="$missing g++"
command -v valgrind >/dev/null || missing="$missing valgrind"
if [ -n "$missing" ]; then
    sudo_if_needed=""; [ "$(id -u)" = 0 ] || sudo_if_needed="sudo"
    $sudo_if_needed apt-get update -qq && $sudo_if_needed apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# cargo-fuzz, for scripts/fuzz.sh (the targets in fuzz/ build with nightly and libFuzzer).
if ! command -v cargo-fuzz >/dev/null; then
    cargo install --locked cargo-fuzz
fi
