"""arrow_cabi.check and ``python -m arrow_cabi check`` on real producers (pyarrow, polars, duckdb,
nanoarrow, arro3, arrow_cabi itself), which follow the interfaces and must come out clean, and on the
deliberately broken C producers of the CLI's tests (crates/arrow-cabi-cli/tests/producers, compiled
here with ``$CC`` or ``cc`` and wrapped in a PyCapsule through ctypes), which must be reported with the
rule and field path each breaks, and a crashing one as a crash."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import arro3.core as a3
import duckdb
import nanoarrow as na
import polars as pl
import pyarrow as pa
import pytest

import arrow_cabi

PRODUCERS = Path(__file__).resolve().parents[2] / "crates" / "arrow-cabi-cli" / "tests" / "producers"


def table():
    return pa.table(
        {
            "i": pa.array([1, None, 3], pa.int64()),
            "s": ["a", "bc", None],
            "l": pa.array([[1], [], None], pa.list_(pa.int32())),
            "d": pa.array(["x", "y", "x"]).dictionary_encode(),
            "st": pa.array([{"a": 1}, None, {"a": 3}], pa.struct([("a", pa.int8())])),
        }
    )


PEERS = {
    "pyarrow.Table": lambda: table(),
    "pyarrow.RecordBatch": lambda: table().to_batches()[0],
    "pyarrow.Array": lambda: pa.array(["a", None, "ccc"]),
    "pyarrow.RecordBatchReader": lambda: pa.RecordBatchReader.from_batches(table().schema, table().to_batches() * 3),
    "polars.DataFrame": lambda: pl.DataFrame({"i": [1, None, 3], "s": ["a", "bc", None], "l": [[1], [], None]}),
    "polars.Series": lambda: pl.Series("s", ["a", None, "c"]),
    "duckdb": lambda: duckdb.connect().sql("SELECT i, 'v' || i AS s, [i, i + 1] AS l, {'a': i} AS st FROM range(5000) t(i)"),
    "nanoarrow.Array": lambda: na.c_array([1, 2, None], na.int32()),
    "nanoarrow.ArrayStream": lambda: na.ArrayStream(table()),
    "arro3.Table": lambda: a3.Table.from_arrow(table()),
    "arro3.Array": lambda: a3.Array.from_arrow(pa.array([1, 2, None])),
    "arrow_cabi.RecordBatchReader": lambda: arrow_cabi.RecordBatchReader.from_arrow(table()),
}


@pytest.mark.parametrize("name", sorted(PEERS))
def test_real_producers_are_clean(name):
    obj = PEERS[name]()
    expected_rows = 5000 if name == "duckdb" else (9 if name == "pyarrow.RecordBatchReader" else 3)
    report = arrow_cabi.check(obj)
    assert report.clean, report.table(name)
    assert report.rows == expected_rows
    assert report.batches >= 1


def test_an_object_without_the_protocol_is_a_type_error():
    with pytest.raises(TypeError, match="__arrow_c_stream__ or __arrow_c_array__"):
        arrow_cabi.check(object())


@pytest.fixture(scope="module")
def c_producers(tmp_path_factory):
    """The C producers compiled into a library, and a module that wraps its symbols as PyCapsule
    producers: ``c_producers.stream(NAME)`` has ``__arrow_c_stream__`` calling ``stream_NAME``."""
    folder = tmp_path_factory.mktemp("producers")
    library = folder / "libstream.so"
    cc = os.environ.get("CC", "cc")
    subprocess.run([cc, "-shared", "-fPIC", "-O1", "-o", str(library), str(PRODUCERS / "stream.c")], check=True)
    (folder / "c_producers.py").write_text(
        textwrap.dedent(
            f"""
            import ctypes
            LIB = ctypes.CDLL({str(library)!r})
            LIBC = ctypes.CDLL(None)
            LIBC.calloc.restype = ctypes.c_void_p
            LIBC.calloc.argtypes = [ctypes.c_size_t, ctypes.c_size_t]
            NEW = ctypes.pythonapi.PyCapsule_New
            NEW.restype = ctypes.py_object
            NEW.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
            NAME = b"arrow_array_stream"

            class stream:
                def __init__(self, fault):
                    self.fault = fault
                def __arrow_c_stream__(self, requested_schema=None):
                    out = LIBC.calloc(1, 40)  # struct ArrowArrayStream; the capsule leaks it (no destructor)
                    assert getattr(LIB, "stream_" + self.fault)(ctypes.c_void_p(out)) == 0
                    return NEW(out, NAME, None)

            def utf8():
                return stream("utf8")
            def crash():
                return stream("crash")
            def clean():
                return stream("clean")
            """
        )
    )
    sys.path.insert(0, str(folder))
    import c_producers

    yield folder, c_producers
    sys.path.remove(str(folder))


@pytest.mark.parametrize(
    "fault, rule, path",
    [
        ("utf8", "array.utf8", "batches[0].children[0]"),
        ("children_leak", "release.children", "batches[0].children[1]"),
        ("schema_repeat", "stream.schema-repeat", "stream.get_schema (second call)"),
        ("end", "stream.end", "stream.get_next (call 1 after the end)"),
    ],
)
def test_broken_c_producers_are_reported_with_rule_and_path(c_producers, fault, rule, path):
    _, module = c_producers
    report = arrow_cabi.check(module.stream(fault))
    assert report.kind == "stream"
    assert (rule, path) in [(f.rule, f.path) for f in report.findings], report.table()
    assert {f.rule for f in report.findings} == {rule}


def run_main(folder, target):
    env = dict(os.environ, PYTHONPATH=str(folder))
    return subprocess.run([sys.executable, "-m", "arrow_cabi", "check", "--json", target], capture_output=True, text=True, env=env)


def test_python_m_check_reports_findings_a_crash_and_a_clean_producer(c_producers):
    folder, _ = c_producers
    found = run_main(folder, "c_producers:utf8")
    assert found.returncode == 1, found.stderr
    assert json.loads(found.stdout)["findings"][0]["rule"] == "array.utf8"

    crashed = run_main(folder, "c_producers:crash")
    assert crashed.returncode == 2, crashed.stderr
    assert json.loads(crashed.stdout)["crash"]["name"] == "SIGSEGV"

    clean = run_main(folder, "c_producers:clean")
    assert clean.returncode == 0, clean.stderr
    assert json.loads(clean.stdout)["rows"] == 6

    missing = run_main(folder, "c_producers:no_such_thing")
    assert missing.returncode == 2
    assert "AttributeError" in json.loads(missing.stdout)["error"]


def gold_tables():
    from conftest import golden_files

    import pyarrow.ipc as ipc

    return [(name, path, ipc.open_file(path).read_all()) for name, path in golden_files()]


@pytest.mark.parametrize(
    "producer, make",
    [
        ("pyarrow", lambda table, path: table),
        ("arro3", lambda table, path: a3.Table.from_arrow(table)),
        ("nanoarrow", lambda table, path: na.ArrayStream(table)),
        ("arrow_cabi", lambda table, path: arrow_cabi.read_ipc_file(path)),
    ],
)
def test_every_gold_file_exported_by_a_peer_is_clean(producer, make):
    from conftest import require_golden

    require_golden()
    for name, path, table in gold_tables():
        report = arrow_cabi.check(make(table, path))
        assert report.clean, f"{producer} {name}:\n{report.table()}"
        assert report.rows == table.num_rows


def test_polars_exports_a_dictionary_array_under_a_non_dictionary_schema():
    """polars 2.1.0 exports an extension type over a dictionary (the gold extension file's
    dict_exts) with the schema of its uint32 keys and no dictionary, but the array with a dictionary.
    pyarrow's own importer refuses the same export; every other gold file polars exports is clean."""
    from conftest import require_golden

    require_golden()
    for name, path, table in gold_tables():
        try:
            df = pl.from_arrow(table)
        except BaseException:  # polars cannot build every type (decimal256, some unions...): not an export
            continue
        report = arrow_cabi.check(df)
        if name.endswith("generated_extension"):
            found = [(f.rule, f.path) for f in report.findings]
            assert found == [("array.dictionary", "batches[0].children[1].dictionary")], report.table()
            with pytest.raises(pa.ArrowInvalid, match="dictionary field in ArrowArray struct is not null"):
                pa.table(pl.from_arrow(table))
        else:
            assert report.clean, f"polars {name}:\n{report.table()}"
