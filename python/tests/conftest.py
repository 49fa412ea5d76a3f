"""Shared fixtures and helpers for the arrow_cabi interop suite."""

import gc
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
#: The Arrow integration gold files (see ../shared/golden/README.md); ARROW_CABI_GOLDEN overrides.
GOLDEN = Path(os.environ.get("ARROW_CABI_GOLDEN", REPO.parent / "shared" / "golden")) / "integration"


def golden_files():
    """Every gold .arrow_file as (id, path), sorted; empty when the folder is absent."""
    if not GOLDEN.is_dir():
        return []
    return sorted(
        (f"{p.parent.name}/{p.stem}", p) for p in GOLDEN.glob("*/*.arrow_file")
    )


def require_golden():
    """Skips the calling module when the gold files are absent, unless ARROW_CABI_REQUIRE_GOLDEN=1."""
    files = golden_files()
    if files:
        return files
    message = f"Arrow integration gold files not found at {GOLDEN} (set ARROW_CABI_GOLDEN to their folder)"
    if os.environ.get("ARROW_CABI_REQUIRE_GOLDEN") == "1":
        pytest.fail(message + " and ARROW_CABI_REQUIRE_GOLDEN=1", pytrace=False)
    pytest.skip(message, allow_module_level=True)


def golden_params(files, rejects=None):
    """pytest params for `files`, each in `rejects` ({case id: reason}) marked as an expected skip."""
    rejects = rejects or {}
    params = []
    for case, path in files:
        reason = rejects.get(case)
        marks = [pytest.mark.skip(reason=f"peer rejects it: {reason}")] if reason else []
        params.append(pytest.param(path, id=case, marks=marks))
    return params


def collect():
    for _ in range(3):
        gc.collect()


@pytest.fixture
def pa_bytes():
    """Returns a function giving pyarrow's allocated bytes after a full garbage collection."""
    import pyarrow as pa

    def allocated():
        collect()
        return pa.total_allocated_bytes()

    return allocated
