"""Every gold file: pyarrow -> arrow_cabi -> pyarrow, and arrow_cabi's IPC reader -> pyarrow."""

import pyarrow as pa
import pyarrow.ipc
import pytest

import arrow_cabi as ac
from conftest import golden_params, require_golden

FILES = require_golden()


def test_all_gold_files_present():
    assert len(FILES) == 59, [case for case, _ in FILES]


@pytest.mark.parametrize("path", golden_params(FILES))
def test_stream_round_trip(path):
    expected = pa.ipc.open_file(path).read_all()
    reader = ac.RecordBatchReader.from_arrow(expected)
    got = pa.table(reader)
    assert got.schema.equals(expected.schema, check_metadata=True)
    assert got.equals(expected, check_metadata=True)
    assert got.num_rows == expected.num_rows


@pytest.mark.parametrize("path", golden_params(FILES))
def test_stream_round_trip_full_validation(path):
    expected = pa.ipc.open_file(path).read_all()
    reader = ac.RecordBatchReader.from_arrow(expected, validate="full")
    batches = list(reader)
    assert sum(b.num_rows for b in batches) == expected.num_rows
    got = pa.Table.from_batches([pa.record_batch(b) for b in batches], schema=expected.schema)
    assert got.equals(expected, check_metadata=True)


@pytest.mark.parametrize("path", golden_params(FILES))
def test_batch_round_trip(path):
    expected = pa.ipc.open_file(path)
    for i in range(expected.num_record_batches):
        batch = expected.get_batch(i)
        ours = ac.RecordBatch.from_arrow(batch)
        assert ours.num_rows == batch.num_rows
        back = pa.record_batch(ours)
        assert back.equals(batch, check_metadata=True)


@pytest.mark.parametrize("path", golden_params(FILES))
def test_read_ipc_file(path):
    expected = pa.ipc.open_file(path).read_all()
    got = pa.table(ac.read_ipc_file(path))
    assert got.equals(expected, check_metadata=True)
