"""RecordBatchReader: iteration, read_all, schema, from_batches, threads and the GIL; the IPC readers."""

import threading

import pyarrow as pa
import pyarrow.ipc
import pytest

import arrow_cabi as ac

TABLE = pa.Table.from_batches([pa.record_batch({"x": [i, i + 1], "s": ["a", "b"]}) for i in range(0, 10, 2)])


def test_iteration_and_read_all():
    reader = ac.RecordBatchReader.from_arrow(TABLE)
    assert repr(reader).startswith("arrow_cabi.RecordBatchReader<x: Int64, s: Utf8")
    assert iter(reader) is reader
    first = next(reader)
    assert isinstance(first, ac.RecordBatch) and first.num_rows == 2
    rest = reader.read_all()
    assert isinstance(rest, list) and len(rest) == 4
    assert all(isinstance(b, ac.RecordBatch) for b in rest)
    assert list(reader) == [] and reader.read_all() == []
    got = pa.Table.from_batches([pa.record_batch(b) for b in [first, *rest]])
    assert got.equals(TABLE)
    assert first == ac.RecordBatch.from_arrow(TABLE.to_batches()[0])


def test_schema_does_not_consume():
    reader = ac.RecordBatchReader.from_arrow(TABLE)
    for _ in range(3):
        assert pa.schema(reader).equals(TABLE.schema)
        assert reader.schema == ac.Schema.from_arrow(TABLE.schema)
    assert pa.table(reader).equals(TABLE)


def test_from_batches_any_producer():
    batches = TABLE.to_batches()
    reader = ac.RecordBatchReader.from_batches(ac.Schema.from_arrow(TABLE.schema), batches)
    assert pa.table(reader).equals(TABLE)
    empty = ac.RecordBatchReader.from_batches(TABLE.schema, [])
    assert pa.table(empty).num_rows == 0


def python_backed_reader(n):
    """A pyarrow reader whose batches come from a Python generator: its get_next needs the GIL."""

    def gen():
        for i in range(n):
            yield pa.record_batch({"x": [i]})

    return pa.RecordBatchReader.from_batches(pa.schema([("x", pa.int64())]), gen())


def test_iteration_releases_the_gil_without_deadlock():
    reader = ac.RecordBatchReader.from_arrow(python_backed_reader(50))
    assert [b.num_rows for b in reader] == [1] * 50


def test_readers_in_threads():
    results = {}

    def work(key):
        reader = ac.RecordBatchReader.from_arrow(python_backed_reader(200))
        results[key] = sum(b.num_rows for b in reader)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {k: 200 for k in range(4)}


def test_read_ipc_stream(tmp_path):
    for codec in (None, "lz4", "zstd"):
        path = tmp_path / f"t-{codec}.arrows"
        options = pa.ipc.IpcWriteOptions(compression=codec)
        with pa.ipc.new_stream(path, TABLE.schema, options=options) as writer:
            writer.write_table(TABLE)
        assert pa.table(ac.read_ipc_stream(path)).equals(TABLE)
        assert pa.table(ac.read_ipc_stream(str(path))).equals(TABLE)


def test_read_ipc_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        ac.read_ipc_file(tmp_path / "missing.arrow")
    junk = tmp_path / "junk.arrow"
    junk.write_bytes(b"not arrow at all")
    with pytest.raises(ValueError):
        ac.read_ipc_file(junk)
    with pytest.raises(ValueError):
        ac.read_ipc_stream(junk)
