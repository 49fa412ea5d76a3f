"""Bad input through the protocol raises a Python exception, and never crashes the process."""

import ctypes

import pyarrow as pa
import pytest

import arrow_cabi as ac

_new = ctypes.pythonapi.PyCapsule_New
_new.restype = ctypes.py_object
_new.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
_KEEP = []  # capsule names must outlive the capsules
_DUMMY = ctypes.create_string_buffer(256)


def capsule(name):
    """A capsule named `name` (bytes or None) pointing at zeroed memory, with no destructor."""
    if name is not None:
        name = ctypes.create_string_buffer(name)
        _KEEP.append(name)
        return _new(ctypes.addressof(_DUMMY), ctypes.addressof(name), None)
    return _new(ctypes.addressof(_DUMMY), None, None)


class Returns:
    """An object whose protocol methods all return `value`."""

    def __init__(self, value):
        self.value = value

    def __arrow_c_stream__(self, requested_schema=None):
        return self.value

    def __arrow_c_array__(self, requested_schema=None):
        return self.value

    def __arrow_c_schema__(self):
        return self.value


TABLE = pa.table({"x": [1, 2, 3]})


@pytest.mark.parametrize(
    "value, message",
    [
        (1, "got an object of type 'int'"),
        ("arrow_array_stream", "got an object of type 'str'"),
        (None, "got an object of type 'NoneType'"),
        (capsule(b"foo"), "got a capsule named 'foo'"),
        (capsule(None), "got a capsule with no name"),
    ],
)
def test_stream_method_returning_a_non_stream(value, message):
    with pytest.raises(TypeError, match=message):
        ac.RecordBatchReader.from_arrow(Returns(value))


def test_wrong_capsule_names():
    with pytest.raises(TypeError, match="named 'arrow_schema'"):
        ac.RecordBatchReader.from_arrow(Returns(TABLE.schema.__arrow_c_schema__()))
    with pytest.raises(TypeError, match="named 'arrow_array_stream'"):
        ac.Schema.from_arrow(Returns(TABLE.__arrow_c_stream__()))
    schema_capsule, array_capsule = TABLE.to_batches()[0].__arrow_c_array__()
    # swapped: neither is consumed, so the right order works afterwards
    with pytest.raises(TypeError, match="expected a PyCapsule named 'arrow_schema', got a capsule named 'arrow_array'"):
        ac.RecordBatch.from_arrow(Returns((array_capsule, schema_capsule)))
    assert ac.RecordBatch.from_arrow(Returns((schema_capsule, array_capsule))).num_rows == 3


def test_array_method_returning_a_non_pair():
    with pytest.raises(TypeError, match="tuple of two capsules"):
        ac.Array.from_arrow(Returns(1))
    with pytest.raises(TypeError, match="tuple of two capsules"):
        ac.Array.from_arrow(Returns((1, 2, 3)))
    with pytest.raises(TypeError, match="'arrow_schema', got an object of type 'int'"):
        ac.Array.from_arrow(Returns((1, 2)))


def test_objects_without_the_protocol():
    for make in (ac.RecordBatchReader.from_arrow, ac.Array.from_arrow, ac.RecordBatch.from_arrow, ac.Schema.from_arrow):
        with pytest.raises(TypeError, match="Arrow PyCapsule protocol"):
            make(42)


def test_a_raising_protocol_method_propagates():
    class Boom:
        def __arrow_c_stream__(self, requested_schema=None):
            raise KeyError("boom")

    with pytest.raises(KeyError, match="boom"):
        ac.RecordBatchReader.from_arrow(Boom())


def test_consumed_capsules_raise():
    stream = TABLE.__arrow_c_stream__()
    assert ac.RecordBatchReader.from_arrow(stream).read_all()[0].num_rows == 3
    with pytest.raises(ValueError, match="'arrow_array_stream' capsule was already consumed"):
        ac.RecordBatchReader.from_arrow(stream)
    with pytest.raises(ValueError, match="already consumed"):
        ac.RecordBatchReader.from_arrow(Returns(stream))

    schema = TABLE.schema.__arrow_c_schema__()
    ac.Schema.from_arrow(schema)
    with pytest.raises(ValueError, match="'arrow_schema' capsule was already consumed"):
        ac.Schema.from_arrow(schema)

    pair = pa.array([1]).__arrow_c_array__()
    ac.Array.from_arrow(Returns(pair))
    with pytest.raises(ValueError, match="already consumed"):
        ac.Array.from_arrow(Returns(pair))


def test_our_capsules_consumed_by_pyarrow_cannot_be_taken_again():
    capsule_ = ac.RecordBatchReader.from_arrow(TABLE).__arrow_c_stream__()
    assert pa.RecordBatchReader._import_from_c_capsule(capsule_).read_all().equals(TABLE)
    with pytest.raises(ValueError, match="already consumed"):
        ac.RecordBatchReader.from_arrow(capsule_)


def test_reader_exports_once():
    reader = ac.RecordBatchReader.from_arrow(TABLE)
    assert not reader.closed
    capsule_ = reader.__arrow_c_stream__()
    assert reader.closed
    with pytest.raises(ValueError, match="already consumed"):
        reader.__arrow_c_stream__()
    with pytest.raises(ValueError, match="already consumed"):
        next(iter(reader))
    with pytest.raises(ValueError, match="already consumed"):
        reader.read_all()
    with pytest.raises(ValueError, match="already consumed"):
        pa.table(reader)
    # the schema stays available
    assert pa.schema(reader).equals(TABLE.schema)
    assert pa.table(capsule_and_back(capsule_)).equals(TABLE)


def capsule_and_back(capsule_):
    return pa.RecordBatchReader._import_from_c_capsule(capsule_)


def test_not_a_record_batch():
    with pytest.raises(ValueError, match="struct|Struct"):
        ac.RecordBatch.from_arrow(pa.array([1, 2]))
    nulls = pa.array([{"x": 1}, None])
    with pytest.raises(ValueError, match="top-level nulls"):
        ac.RecordBatch.from_arrow(nulls)


def test_bad_validate_level():
    with pytest.raises(ValueError, match="validate must be"):
        ac.RecordBatchReader.from_arrow(TABLE, validate="paranoid")
    # the stream was not taken: the table can still be read
    assert ac.RecordBatchReader.from_arrow(TABLE, validate="FULL").read_all()[0].num_rows == 3


def test_from_batches_checks_the_schema():
    batch = TABLE.to_batches()[0]
    reader = ac.RecordBatchReader.from_batches(TABLE.schema, [batch, ac.RecordBatch.from_arrow(batch)])
    assert pa.table(reader).num_rows == 6
    with pytest.raises(ValueError, match="batch 1 does not match the schema"):
        ac.RecordBatchReader.from_batches(TABLE.schema, [batch, pa.record_batch({"x": ["a"]})])
    with pytest.raises(TypeError):
        ac.RecordBatchReader.from_batches(TABLE.schema, 5)
