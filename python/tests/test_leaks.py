"""Every import, export and drop gives pyarrow's memory back: pa.total_allocated_bytes() returns to its start."""

import pyarrow as pa

import arrow_cabi as ac


def make_table(batches=4, rows=50_000):
    chunk = {"i": pa.array(range(rows), pa.int64()), "s": pa.array([str(i) for i in range(rows)])}
    return pa.Table.from_batches([pa.record_batch(chunk)] * 1 + [pa.record_batch(chunk) for _ in range(batches - 1)])


def test_import(pa_bytes):
    start = pa_bytes()
    table = make_table()
    held = pa_bytes()
    assert held > start
    batches = ac.RecordBatchReader.from_arrow(table).read_all()
    # zero-copy: only pyarrow's export bookkeeping (about 1 KiB per exported batch), no data
    assert pa_bytes() - held < 16 * 1024
    del table
    assert pa_bytes() > start + 500_000  # our batches keep pyarrow's buffers alive ...
    del batches
    assert pa_bytes() == start  # ... and release them


def test_import_array_and_batch(pa_bytes):
    start = pa_bytes()
    table = make_table(batches=1)
    array = ac.Array.from_arrow(table.column("s").chunk(0))
    batch = ac.RecordBatch.from_arrow(table.to_batches()[0])
    del table
    assert pa_bytes() > start
    del array, batch
    assert pa_bytes() == start


def test_export(pa_bytes):
    start = pa_bytes()
    table = make_table()
    back = pa.table(ac.RecordBatchReader.from_arrow(table))
    assert back.equals(table)
    array = pa.array(ac.Array.from_arrow(table.column("i").chunk(0)))
    batch = pa.record_batch(ac.RecordBatch.from_arrow(table.to_batches()[1]))
    del table
    assert pa_bytes() > start
    del back, array, batch
    assert pa_bytes() == start


def test_round_trip_through_ipc_reader(pa_bytes, tmp_path):
    path = tmp_path / "t.arrow"
    table = make_table(batches=2, rows=1000)
    with pa.ipc.new_file(path, table.schema) as writer:
        writer.write_table(table)
    del table
    start = pa_bytes()
    got = pa.table(ac.read_ipc_file(path))  # Rust memory, handed to pyarrow zero-copy
    assert got.num_rows == 2000
    del got
    assert pa_bytes() == start


def test_pyarrow_capsules_dropped_unconsumed(pa_bytes):
    start = pa_bytes()
    table = make_table()
    stream = table.__arrow_c_stream__()
    pair = table.to_batches()[0].__arrow_c_array__()
    del table
    assert pa_bytes() > start
    del stream, pair
    assert pa_bytes() == start


def test_our_capsules_dropped_unconsumed(pa_bytes):
    start = pa_bytes()
    table = make_table()
    reader = ac.RecordBatchReader.from_arrow(table)
    stream = reader.__arrow_c_stream__()
    batch = ac.RecordBatch.from_arrow(table.to_batches()[0])
    pair = batch.__arrow_c_array__()
    array_pair = ac.Array.from_arrow(table.column("s").chunk(1)).__arrow_c_array__()
    schema = ac.Schema.from_arrow(table.schema).__arrow_c_schema__()
    del table, reader, batch
    assert pa_bytes() > start
    del stream, pair, array_pair, schema
    assert pa_bytes() == start


def test_our_stream_dropped_half_read(pa_bytes):
    start = pa_bytes()
    reader = ac.RecordBatchReader.from_arrow(make_table())
    first = next(reader)
    assert first.num_rows == 50_000
    del reader
    assert pa_bytes() > start  # `first` still holds its buffers
    del first
    assert pa_bytes() == start


def test_pyarrow_reading_our_stream_half(pa_bytes):
    start = pa_bytes()
    pa_reader = pa.RecordBatchReader.from_stream(ac.RecordBatchReader.from_arrow(make_table()))
    batch = pa_reader.read_next_batch()
    assert batch.num_rows == 50_000
    del pa_reader, batch
    assert pa_bytes() == start


def test_failed_imports_release(pa_bytes):
    import array as pyarray

    start = pa_bytes()
    offsets = pa.py_buffer(pyarray.array("i", [0, 1, 2]).tobytes())
    bad = pa.Array.from_buffers(pa.string(), 2, [None, offsets, pa.py_buffer(b"\xff\xfe")])
    table = pa.Table.from_arrays([bad], names=["s"])
    for _ in range(3):
        try:
            ac.Array.from_arrow(bad, validate="full")
        except ValueError:
            pass
        reader = ac.RecordBatchReader.from_arrow(table, validate="full")
        try:
            reader.read_all()
        except ValueError:
            pass
        del reader
    del bad, table, offsets
    assert pa_bytes() == start
