#!/usr/bin/env bash
# Builds the cargo-fuzz targets of fuzz/ (nightly, libFuzzer, AddressSanitizer) and runs each for
# FUZZ_SECONDS (default 48: five targets in the 240 s that four took at 60 s each) from its committed
# seeds (fuzz/seeds/<target>; device_import reads array_import's, whose input it extends) plus a
# working corpus (fuzz/corpus/<target>, git-ignored). Exits nonzero on the first finding: libFuzzer writes the
# input to fuzz/artifacts/<target>/ and prints the panic or the sanitizer report.
# Usage: scripts/fuzz.sh [target...]   (default: every target)
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ_SECONDS="${FUZZ_SECONDS:-48}"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(schema_import array_import stream_import device_import differential)
fi

if ! command -v cargo-fuzz >/dev/null; then
    cargo install --locked cargo-fuzz
fi
rustup component add --toolchain nightly rust-src >/dev/null

cd fuzz
cargo +nightly fuzz build
mkdir -p artifacts
for target in "${targets[@]}"; do
    echo "-- fuzz: $target for ${FUZZ_SECONDS}s"
    mkdir -p "corpus/$target"
    log="artifacts/$target.log"
    # -rss_limit_mb: the inputs are bounded (a few MB at most); more is a finding. -seed: a fixed
    # seed (FUZZ_SEED, default 1), so that CI explores the same inputs in the same order every run
    # and a finding is reproducible (a faster machine only gets further in the same sequence).
    status=0
    seeds="seeds/$target"
    if [ "$target" = device_import ]; then
        seeds=seeds/array_import
    fi
    cargo +nightly fuzz run "$target" "corpus/$target" "$seeds" -- \
        -max_total_time="$FUZZ_SECONDS" -seed="${FUZZ_SEED:-1}" -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1 || status=$?
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb|DONE" "$log" || true
    echo "corpus: $(find "corpus/$target" -type f | wc -l) files, $(du -sh "corpus/$target" | cut -f1)"
    if [ "$status" -ne 0 ]; then
        tail -n 60 "$log"
        echo "fuzz: $target found a fault (exit $status); the input is in fuzz/artifacts/$target/, the log in fuzz/$log"
        exit "$status"
    fi
done
