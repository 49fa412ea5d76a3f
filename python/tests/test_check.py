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
    with pytest.raises(TypeError, match="__arrow_c_stream__, __arrow_c_array__, __arrow_c_device_stream__ or __arrow_c_device_array__"):
        arrow_cabi.check(object())
    with pytest.raises(TypeError, match="__arrow_c_device_stream__ or __arrow_c_device_array__"):
        arrow_cabi.check(pa.table({"i": [1]}), device=True)


class Only:
    """``obj``'s one protocol method ``name``, and nothing else."""

    def __init__(self, obj, name):
        setattr(self, name, getattr(obj, name))


@pytest.mark.parametrize(
    "make, method, kind, rows",
    [
        (lambda: arrow_cabi.RecordBatchReader.from_arrow(table()), "__arrow_c_device_stream__", "device_stream", 3),
        (lambda: arrow_cabi.RecordBatch.from_arrow(table().to_batches()[0]), "__arrow_c_device_array__", "device_array", 3),
        (lambda: arrow_cabi.Array.from_arrow(pa.array(["a", None])), "__arrow_c_device_array__", "device_array", 2),
    ],
)
def test_objects_with_only_device_methods_are_checked_and_ours_are_clean(make, method, kind, rows):
    report = arrow_cabi.check(Only(make(), method))
    assert (report.kind, report.rows) == (kind, rows)
    assert report.clean and not report.notes, report.table()
    # An object with both kinds: device=True checks the device method.
    assert arrow_cabi.check(make(), device=True).kind == kind


def pyarrow_device_export(obj, reserved_fill):
    """pyarrow's ``_export_to_c_device`` into a struct this test allocates, ``reserved`` filled with
    ``reserved_fill`` (the consumer's bytes), as an object whose ``__arrow_c_device_array__`` hands
    the two structs over; and the three ``reserved`` words as pyarrow left them."""
    import ctypes

    array = ctypes.create_string_buffer(128)  # struct ArrowDeviceArray; reserved at 104..128
    schema = ctypes.create_string_buffer(72)
    ctypes.memset(ctypes.addressof(array) + 104, reserved_fill, 24)
    obj._export_to_c_device(ctypes.addressof(array), ctypes.addressof(schema))
    reserved = list(ctypes.cast(ctypes.addressof(array) + 104, ctypes.POINTER(ctypes.c_int64))[i] for i in range(3))
    new = ctypes.pythonapi.PyCapsule_New
    new.restype = ctypes.py_object
    new.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]

    class Export:
        buffers = (array, schema)  # alive while the object is; the checker moves the structs out

        def __arrow_c_device_array__(self, requested_schema=None):
            return new(ctypes.addressof(schema), b"arrow_schema", None), new(ctypes.addressof(array), b"arrow_device_array", None)

    return Export(), reserved


@pytest.mark.parametrize("name", ["pyarrow.RecordBatch", "pyarrow.Array"])
def test_pyarrow_device_arrays_leave_reserved_as_they_found_it(name):
    """pyarrow 26.0.1's ExportDeviceArray writes every field but ``reserved``, which the spec says
    the producer MUST zero (CDDI "reserved"): a consumer's struct keeps its bytes, and the capsule of
    ``__arrow_c_device_array__`` (malloc'd, never cleared) holds whatever the heap held. Zeroed by
    the consumer, the same export is clean."""
    obj = PEERS[name]()
    export, reserved = pyarrow_device_export(obj, 0x5A)
    assert reserved == [0x5A5A5A5A5A5A5A5A] * 3  # read straight from the struct: pyarrow did not write it
    report = arrow_cabi.check(export)
    assert [(f.rule, f.path) for f in report.findings] == [("device.reserved", "device_array.reserved")], report.table()
    export, reserved = pyarrow_device_export(obj, 0)
    assert reserved == [0, 0, 0]
    assert arrow_cabi.check(export).clean
    # The capsule pyarrow allocates itself: reserved is heap garbage or zero, nothing else is wrong.
    report = arrow_cabi.check(obj, device=True)
    assert report.kind == "device_array"
    assert {(f.rule, f.path) for f in report.findings} <= {("device.reserved", "device_array.reserved")}, report.table()


def test_pyarrow_device_arrays_of_every_gold_file_are_clean_once_reserved_is_zeroed():
    from conftest import require_golden

    require_golden()
    batches = 0
    for name, path, table in gold_tables():
        for batch in table.to_batches():
            export, _ = pyarrow_device_export(batch, 0)
            report = arrow_cabi.check(export)
            assert report.clean and report.rows == batch.num_rows, f"{name}:\n{report.table()}"
            batches += 1
    assert batches > 59


def test_nanoarrow_device_arrays_are_clean():
    import nanoarrow.device as nd

    for array in [na.c_array([1, 2, None], na.int64()), na.c_array(["x", None, "zz"], na.string())]:
        report = arrow_cabi.check(nd.c_device_array(array), device=True)
        assert (report.kind, report.rows) == ("device_array", 3)
        assert report.clean and not report.notes, report.table()


def test_pyarrow_has_no_device_streams():
    """pyarrow 26.0.1 exports device arrays only: no ``__arrow_c_device_stream__`` on a Table,
    RecordBatchReader or ChunkedArray (Arrow C++ has ExportDeviceRecordBatchReader; pyarrow does not
    expose it). Recorded in docs/CONFORMANCE.md; this test notices when that changes."""
    for name in ["pyarrow.Table", "pyarrow.RecordBatch", "pyarrow.Array", "pyarrow.RecordBatchReader"]:
        assert not hasattr(PEERS[name](), "__arrow_c_device_stream__"), name


@pytest.fixture(scope="module")
def c_producers(tmp_path_factory):
    """The C producers compiled into a library, and a module that wraps its symbols as PyCapsule
    producers: ``c_producers.stream(NAME)`` has ``__arrow_c_stream__`` calling ``stream_NAME``,
    ``c_producers.device_stream(FAULT)`` only ``__arrow_c_device_stream__`` calling
    ``device_stream_named(FAULT)``."""
    folder = tmp_path_factory.mktemp("producers")
    library = folder / "libstream.so"
    cc = os.environ.get("CC", "cc")
    sources = [str(PRODUCERS / f"{name}.c") for name in ("stream", "array", "device")]
    subprocess.run([cc, "-shared", "-fPIC", "-O1", "-o", str(library), *sources], check=True)
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

            class device_stream:
                def __init__(self, fault):
                    self.fault = fault
                def __arrow_c_device_stream__(self, requested_schema=None, **kwargs):
                    out = LIBC.calloc(1, 48)  # struct ArrowDeviceArrayStream; leaked as above
                    assert LIB.device_stream_named(self.fault.encode(), ctypes.c_void_p(out)) == 0
                    return NEW(out, b"arrow_device_array_stream", None)

            def utf8():
                return stream("utf8")
            def device_cuda():
                return device_stream("cuda")
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


@pytest.mark.parametrize(
    "fault, rule, path",
    [
        ("reserved", "device.reserved", "batches[0].reserved"),
        ("stream_type", "device.stream-type", "batches[1].device_type"),
        ("utf8", "array.utf8", "batches[0].children[0]"),
        ("end", "stream.end", "stream.get_next (call 1 after the end)"),
    ],
)
def test_broken_c_device_producers_are_reported_with_rule_and_path(c_producers, fault, rule, path):
    _, module = c_producers
    report = arrow_cabi.check(module.device_stream(fault))
    assert report.kind == "device_stream"
    assert (rule, path) in [(f.rule, f.path) for f in report.findings], report.table()
    assert {f.rule for f in report.findings} == {rule}


def test_a_cuda_device_stream_is_not_read_and_says_so(c_producers):
    _, module = c_producers
    report = arrow_cabi.check(module.device_stream("cuda"))
    assert report.clean and report.rows == 6, report.table()
    assert any("the buffers are in CUDA (2) memory and are not read" in note for note in report.notes), report.notes
    assert "note: batches[0]: the buffers are in CUDA (2) memory" in report.table()


def test_max_batches_stops_an_endless_stream(c_producers):
    _, module = c_producers
    report = arrow_cabi.check(module.stream("endless"), max_batches=4)
    assert (report.clean, report.batches, report.rows) == (True, 4, 12), report.table()
    assert report.notes[0].startswith("stopped after 4 batches")


def run_main(folder, target, *options):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(folder), os.environ.get("PYTHONPATH")])))
    return subprocess.run([sys.executable, "-m", "arrow_cabi", "check", "--json", *options, target], capture_output=True, text=True, env=env)


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

    cuda = run_main(folder, "c_producers:device_cuda", "--device", "--max-batches", "1")
    assert cuda.returncode == 0, cuda.stderr
    notes = json.loads(cuda.stdout)["notes"]
    assert any("not read" in note for note in notes) and any(note.startswith("stopped after 1 batches") for note in notes), notes

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
