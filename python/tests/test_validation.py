"""validate="full" catches corrupted data that the O(1) levels cannot see; no level crashes."""

import array

import pyarrow as pa
import pytest

import arrow_cabi as ac


def offsets(*values):
    return pa.py_buffer(array.array("i", values).tobytes())


def utf8(length, offs, data):
    return pa.Array.from_buffers(pa.string(), length, [None, offsets(*offs), pa.py_buffer(data)])


BAD_UTF8 = utf8(2, (0, 1, 2), b"\xff\xfe")
# first and last offsets fine (what the default level checks), the middle one out of order
NON_MONOTONIC = utf8(3, (0, 3, 1, 3), b"abc")


@pytest.mark.parametrize("bad", [BAD_UTF8, NON_MONOTONIC], ids=["invalid-utf8", "non-monotonic-offsets"])
def test_array_full_rejects_default_accepts(bad):
    with pytest.raises(pa.ArrowInvalid):
        bad.validate(full=True)
    for level in ("minimal", "default"):
        ours = ac.Array.from_arrow(bad, validate=level)
        assert len(ours) == len(bad)
    with pytest.raises(ValueError):
        ac.Array.from_arrow(bad, validate="full")


def test_full_error_names_the_problem():
    with pytest.raises(ValueError, match="(?i)utf-?8"):
        ac.Array.from_arrow(BAD_UTF8, validate="full")


def corrupted(offs, data, new_offs):
    """A valid utf8 array whose offsets are then overwritten in place (pyarrow checks them on creation)."""
    raw = bytearray(array.array("i", offs).tobytes())
    arr = pa.Array.from_buffers(pa.string(), len(offs) - 1, [None, pa.py_buffer(raw), pa.py_buffer(data)])
    raw[:] = array.array("i", new_offs).tobytes()
    return arr


# (A last offset past the end of the data buffer cannot be caught by any importer: the C Data
# Interface carries no buffer sizes, and the buffers are defined to be as long as the offsets imply.)


def test_first_offset_past_the_last_is_caught_by_default():
    bad = corrupted((0, 3), b"abc", (3, 1))
    with pytest.raises(ValueError, match="first offset"):
        ac.Array.from_arrow(bad, validate="default")


@pytest.mark.parametrize("bad", [BAD_UTF8, NON_MONOTONIC], ids=["invalid-utf8", "non-monotonic-offsets"])
def test_record_batch_and_stream(bad):
    batch = pa.RecordBatch.from_arrays([bad], names=["s"])
    assert ac.RecordBatch.from_arrow(batch).num_rows == len(bad)
    with pytest.raises(ValueError):
        ac.RecordBatch.from_arrow(batch, validate="full")

    table = pa.Table.from_batches([pa.record_batch({"s": ["ok"]}), batch])
    assert sum(b.num_rows for b in ac.RecordBatchReader.from_arrow(table)) == 1 + len(bad)
    reader = ac.RecordBatchReader.from_arrow(table, validate="full")
    assert next(reader).num_rows == 1
    with pytest.raises(ValueError):
        next(reader)


def test_bad_union_type_id_caught_by_full():
    types = pa.py_buffer(bytes([0, 1, 7]))
    children = [pa.array([1, 2, 3]), pa.array(["a", "b", "c"])]
    bad = pa.UnionArray.from_buffers(pa.sparse_union([pa.field("i", pa.int64()), pa.field("s", pa.string())]), 3,
                                     [None, types], children=children)
    with pytest.raises(ValueError):
        ac.Array.from_arrow(bad, validate="full")
