"""Every gold file each peer supports: peer -> arrow_cabi -> peer, equal at the end.

The files a peer cannot take even without arrow_cabi in the way are listed below with the reason; they
are reported as skips, so a peer release that starts taking them shows up as a list to shorten.
"""

import duckdb
import nanoarrow as na
import polars as pl
import pyarrow as pa
import pyarrow.ipc
import pytest

import arro3.core as a3
import arrow_cabi as ac
from conftest import golden_params, require_golden

FILES = require_golden()


def both(case, reason):
    """The same case in the 1.0.0 and the cpp-21.0.0 folders."""
    return {f"1.0.0-littleendian/{case}": reason, f"cpp-21.0.0/{case}": reason}


# polars 2.1.0 (pl.DataFrame(pyarrow table) fails, or its own export is malformed):
POLARS_REJECTS = {
    **both("generated_decimal256", "polars panics: 'operator does not support primitive Int256'"),
    **both("generated_duplicate_fieldnames", "polars DataFrame columns must be unique (DuplicateError)"),
    **both("generated_union", "polars has no union type (DuplicateError / cannot create series from Union)"),
    **both("generated_interval", "polars cannot import interval[day_time] / interval[year_month] (KeyError 21)"),
    **both(
        "generated_extension",
        "polars exports the dict-extension column with a uint32 schema but a dictionary-encoded array;"
        " arrow_cabi (like pyarrow) rejects the mismatch",
    ),
    "cpp-21.0.0/generated_interval_mdn": "polars does not import month_day_nano_interval by default",
    "cpp-21.0.0/generated_list_view": "polars: format '+vl' (list_view) not supported",
    "cpp-21.0.0/generated_run_end_encoded": "polars: format '+r' (run_end_encoded) not supported",
}

# duckdb 2.0.1 (con.from_arrow(pyarrow table) fails):
DUCKDB_REJECTS = {
    **both("generated_decimal256", "duckdb: Unsupported Internal Arrow Type for Decimal d:37,5,256"),
    **both("generated_union", "duckdb: Unsupported Internal Arrow Type: \"d\" Union (dense)"),
    **both("generated_interval", "duckdb: Could not convert Interval to Microsecond"),
    **both(
        "generated_nested_dictionary",
        "duckdb raises an INTERNAL error on dictionary<list>/dictionary<struct>, which invalidates the connection",
    ),
    "cpp-21.0.0/generated_duration": "duckdb: Could not convert Interval to Microsecond",
}

# nanoarrow 0.9.0 corrupts the heap on view types even in pyarrow -> nanoarrow -> pyarrow, without
# arrow_cabi (double free when it exports or converts a binary_view/utf8view batch).
NANOARROW_REJECTS = {
    "cpp-21.0.0/generated_binary_view": "nanoarrow 0.9.0 corrupts the heap on binary_view/utf8view (double free)",
}

# arro3-core 0.9.1 takes every file.
ARRO3_REJECTS = {}


def read(path):
    return pa.ipc.open_file(path).read_all()


@pytest.mark.parametrize("path", golden_params(FILES, POLARS_REJECTS))
def test_polars(path):
    df = pl.DataFrame(read(path))
    reader = ac.RecordBatchReader.from_arrow(df)
    back = pl.DataFrame(reader)
    assert back.schema == df.schema
    assert back.equals(df, null_equal=True)


@pytest.mark.parametrize("path", golden_params(FILES, DUCKDB_REJECTS))
def test_duckdb(path):
    table = read(path)
    # Two connections: a duckdb result stream stays open on its connection until it is drained.
    source, sink = duckdb.connect(), duckdb.connect()
    expected = source.from_arrow(table).to_arrow_table()
    reader = ac.RecordBatchReader.from_arrow(source.from_arrow(table))
    got = sink.from_arrow(reader).to_arrow_table()
    assert got.equals(expected, check_metadata=True)


@pytest.mark.parametrize("path", golden_params(FILES, NANOARROW_REJECTS))
def test_nanoarrow(path):
    table = read(path)
    reader = ac.RecordBatchReader.from_arrow(na.ArrayStream(table))
    out = na.ArrayStream(reader)
    assert len(out.schema.fields) == table.num_columns
    chunks = list(out)
    assert sum(len(c) for c in chunks) == table.num_rows
    got = pa.Table.from_batches([pa.record_batch(c) for c in chunks], schema=table.schema)
    assert got.equals(table, check_metadata=True)


@pytest.mark.parametrize("path", golden_params(FILES, ARRO3_REJECTS))
def test_arro3(path):
    table = read(path)
    source = a3.Table.from_arrow(table)
    reader = ac.RecordBatchReader.from_arrow(source)
    back = a3.Table.from_arrow(reader)
    assert back.num_rows == table.num_rows
    assert pa.table(back).equals(table, check_metadata=True)


CHAIN_REJECTS = {**POLARS_REJECTS, **DUCKDB_REJECTS}


@pytest.mark.parametrize("path", golden_params(FILES, CHAIN_REJECTS))
def test_chain_polars_duckdb_pyarrow(path):
    """polars -> arrow_cabi -> duckdb -> arrow_cabi -> pyarrow equals duckdb's own view of the polars frame."""
    df = pl.DataFrame(read(path))
    con = duckdb.connect()
    expected = con.from_arrow(df).to_arrow_table()
    relation = duckdb.connect().from_arrow(ac.RecordBatchReader.from_arrow(df))
    got = pa.table(ac.RecordBatchReader.from_arrow(relation))
    assert got.equals(expected, check_metadata=True)
