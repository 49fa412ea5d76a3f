#!/usr/bin/env bash
# Builds the arrow_cabi extension and installs it (editable) into the repository's virtualenv.
# Usage: python/build.sh [--release]     (debug by default: a fraction of the build time, fast enough
# for the test suite). Then: .venv/bin/pytest python/tests -q
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${VENV:-$here/../.venv}"
cd "$here"
VIRTUAL_ENV="$venv" PATH="$venv/bin:$PATH" "$venv/bin/maturin" develop "$@" 2>&1
