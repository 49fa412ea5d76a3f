"""Both directions with each peer on small data: streams, record batches, arrays and schemas."""

import duckdb
import nanoarrow as na
import polars as pl
import pyarrow as pa
import pytest

import arro3.core as a3
import arrow_cabi as ac


@pytest.fixture
def table():
    return pa.table(
        {
            "i": pa.array([1, None, 3, 4], pa.int64()),
            "s": pa.array(["a", "bb", None, "dddd"], pa.string()),
            "l": pa.array([[1], [], None, [2, 3]], pa.list_(pa.int32())),
            "d": pa.array(["x", "y", "x", None]).dictionary_encode(),
        }
    ).replace_schema_metadata({"origin": "test"})


# --- pyarrow ---------------------------------------------------------------------------------


def test_pyarrow_stream_both_ways(table):
    batches = table.to_batches(max_chunksize=2)
    reader = ac.RecordBatchReader.from_arrow(pa.Table.from_batches(batches))
    assert reader.schema.names == ["i", "s", "l", "d"]
    assert ac.Schema.from_arrow(table.schema) == reader.schema
    got = pa.RecordBatchReader.from_stream(reader).read_all()
    assert got.equals(table, check_metadata=True)


def test_pyarrow_record_batch_both_ways(table):
    batch = table.to_batches()[0]
    ours = ac.RecordBatch.from_arrow(batch)
    assert (ours.num_rows, ours.num_columns) == (4, 4)
    assert ours.schema.names == batch.schema.names
    back = pa.record_batch(ours)
    assert back.equals(batch, check_metadata=True)
    assert pa.array(ours.column(1)).equals(batch.column(1))
    assert pa.array(ours.column(-1)).equals(batch.column(3))
    with pytest.raises(IndexError):
        ours.column(4)


def test_pyarrow_array_both_ways():
    arr = pa.array([{"a": 1, "b": "x"}, None, {"a": None, "b": "z"}])
    ours = ac.Array.from_arrow(arr)
    assert len(ours) == 3 and ours.null_count == 1
    assert pa.array(ours).equals(arr)
    sliced = arr.slice(1, 2)
    assert pa.array(ac.Array.from_arrow(sliced)).equals(sliced)


def test_pyarrow_schema_and_field_both_ways(table):
    ours = ac.Schema.from_arrow(table.schema)
    assert len(ours) == 4 and ours.names == ["i", "s", "l", "d"]
    assert pa.schema(ours).equals(table.schema, check_metadata=True)
    assert ac.Schema.from_arrow(ac.RecordBatch.from_arrow(table.to_batches()[0])) == ours


def test_pyarrow_extension_field_survives():
    arr = pa.array([b"0123456789abcdef", None], pa.uuid())
    back = pa.array(ac.Array.from_arrow(arr))
    assert back.type == pa.uuid()
    assert back.equals(arr)


def test_multiple_batches_and_empty_stream(table):
    ours = ac.RecordBatchReader.from_arrow(pa.Table.from_batches([], schema=table.schema))
    assert ours.read_all() == []
    got = pa.table(ac.RecordBatchReader.from_arrow(pa.Table.from_batches([], schema=table.schema)))
    assert got.num_rows == 0 and got.schema.equals(table.schema)


# --- polars ----------------------------------------------------------------------------------


def test_polars_stream_both_ways():
    df = pl.DataFrame({"a": [1, 2, None], "s": ["x", None, "zz"], "f": [1.5, 2.5, None]})
    reader = ac.RecordBatchReader.from_arrow(df)
    # polars exports strings as utf8view
    assert reader.schema.types == ["Int64", "Utf8View", "Float64"]
    back = pl.DataFrame(ac.RecordBatchReader.from_arrow(df))
    assert back.equals(df, null_equal=True)


def test_polars_series_stream():
    s = pl.Series("v", [1, 2, 3], dtype=pl.Int32)
    frame = pl.DataFrame(s)
    got = pa.table(ac.RecordBatchReader.from_arrow(frame))
    assert got.column("v").to_pylist() == [1, 2, 3]


def test_polars_from_our_record_batch_and_reader(table):
    df = pl.DataFrame(ac.RecordBatchReader.from_arrow(table.select(["i", "s", "l"])))
    assert df["i"].to_list() == [1, None, 3, 4]
    assert df["s"].to_list() == ["a", "bb", None, "dddd"]


# --- duckdb ----------------------------------------------------------------------------------


def test_duckdb_stream_both_ways(table):
    con = duckdb.connect()
    rows = con.from_arrow(ac.RecordBatchReader.from_arrow(table.select(["i", "s"]))).fetchall()
    assert rows == [(1, "a"), (None, "bb"), (3, None), (4, "dddd")]
    rel = duckdb.connect().sql("select range as x, range::varchar as s from range(5)")
    got = pa.table(ac.RecordBatchReader.from_arrow(rel))
    assert got.column("x").to_pylist() == [0, 1, 2, 3, 4]
    assert got.column("s").to_pylist() == ["0", "1", "2", "3", "4"]


def test_duckdb_replacement_scan(table):
    con = duckdb.connect()
    ours = ac.RecordBatchReader.from_arrow(table.select(["i"]))  # noqa: F841 (found by name)
    assert con.sql("select sum(i) from ours").fetchall() == [(8,)]


class CountingReader:
    """Wraps our reader and counts protocol calls, as duckdb makes them."""

    def __init__(self, reader):
        self.reader = reader
        self.stream_calls = 0

    def __arrow_c_schema__(self):
        return self.reader.__arrow_c_schema__()

    def __arrow_c_stream__(self, requested_schema=None):
        self.stream_calls += 1
        return self.reader.__arrow_c_stream__(requested_schema)


def test_duckdb_calls_stream_once_because_of_arrow_c_schema(table):
    wrapped = CountingReader(ac.RecordBatchReader.from_arrow(table.select(["i", "s"])))
    assert duckdb.connect().from_arrow(wrapped).fetchall()[0] == (1, "a")
    assert wrapped.stream_calls == 1


# --- nanoarrow -------------------------------------------------------------------------------


def test_nanoarrow_stream_both_ways(table):
    src = na.ArrayStream(table.select(["i", "s", "l"]))
    reader = ac.RecordBatchReader.from_arrow(src)
    out = na.ArrayStream(reader).read_all()
    assert out.to_pylist() == table.select(["i", "s", "l"]).to_pylist()


def test_nanoarrow_array_both_ways():
    arr = na.Array([1, 2, 3], na.int32())
    ours = ac.Array.from_arrow(arr)
    assert ours.type == "Int32" and len(ours) == 3
    assert list(na.Array(ours).to_pylist()) == [1, 2, 3]
    assert na.c_schema(ac.Schema.from_arrow(pa.schema([("x", pa.int8())]))).format == "+s"


# --- arro3 -----------------------------------------------------------------------------------


def test_arro3_stream_both_ways(table):
    reader = ac.RecordBatchReader.from_arrow(a3.Table.from_arrow(table))
    back = a3.RecordBatchReader.from_arrow(reader).read_all()
    assert pa.table(back).equals(table, check_metadata=True)


def test_arro3_batch_array_schema_both_ways(table):
    batch = a3.RecordBatch.from_arrow(table.to_batches()[0])
    ours = ac.RecordBatch.from_arrow(batch)
    assert pa.record_batch(a3.RecordBatch.from_arrow(ours)).equals(table.to_batches()[0], check_metadata=True)
    arr = a3.Array.from_arrow(pa.array([1.0, None, 3.0]))
    back = a3.Array.from_arrow(ac.Array.from_arrow(arr))
    assert pa.array(back).equals(pa.array([1.0, None, 3.0]))
    schema = a3.Schema.from_arrow(ac.Schema.from_arrow(table.schema))
    assert pa.schema(schema).equals(table.schema, check_metadata=True)


# --- a chain ---------------------------------------------------------------------------------


def test_chain_polars_duckdb_pyarrow():
    df = pl.DataFrame({"a": [1, 2, None, 4], "s": ["w", "x", None, "zzzz"], "b": [True, None, False, True]})
    r1 = ac.RecordBatchReader.from_arrow(df)
    relation = duckdb.connect().from_arrow(r1)
    r2 = ac.RecordBatchReader.from_arrow(relation)
    got = pa.table(r2)
    expected = pa.table(
        {
            "a": pa.array([1, 2, None, 4], pa.int64()),
            "s": pa.array(["w", "x", None, "zzzz"], pa.string()),
            "b": pa.array([True, None, False, True]),
        }
    )
    assert got.equals(expected)
