#!/usr/bin/env bash
# Installs what the tests need, idempotently: the Python peers in ./.venv (pinned as in
# ../shared/golden/PEERS.md), maturin, nightly Miri, and cargo-fuzz. Safe to run again; fast when all is there.
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

# cargo-fuzz, for scripts/fuzz.sh (the targets in fuzz/ build with nightly and libFuzzer).
if ! command -v cargo-fuzz >/dev/null; then
    cargo install --locked cargo-fuzz
fi
