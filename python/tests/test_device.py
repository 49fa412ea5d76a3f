"""The PyCapsule device methods: __arrow_c_device_array__ / __arrow_c_device_stream__ with pyarrow 26.

pyarrow is the peer for device arrays both ways on every gold file: pa.array / pa.record_batch read
our __arrow_c_device_array__ (pyarrow prefers it to __arrow_c_array__ when both exist), and we import
pyarrow's. pyarrow has no device stream in Python; streams are checked against our own plain
stream here and against Arrow C++ in test_device_cpp.py.
"""

import ctypes
import re

import pyarrow as pa
import pyarrow.ipc
import pytest

import arrow_cabi as ac
from conftest import golden_params, require_golden

FILES = require_golden()

#: struct ArrowDeviceArray's fields after the embedded ArrowArray (80 bytes), as abi.h lays them out.
class DeviceFields(ctypes.Structure):
    _fields_ = [("device_id", ctypes.c_int64), ("device_type", ctypes.c_int32),
                ("sync_event", ctypes.c_void_p), ("reserved", ctypes.c_int64 * 3)]


def capsule_pointer(capsule, name):
    get = ctypes.pythonapi.PyCapsule_GetPointer
    get.restype = ctypes.c_void_p
    get.argtypes = [ctypes.py_object, ctypes.c_char_p]
    return get(capsule, name)


def device_fields(capsule):
    """The device fields of an arrow_device_array capsule's struct."""
    return DeviceFields.from_address(capsule_pointer(capsule, b"arrow_device_array") + 80)


class OnlyDevice:
    """Hides every method of `inner` but the device ones."""

    def __init__(self, inner):
        self.inner = inner

    def __arrow_c_device_array__(self, requested_schema=None, **kwargs):
        return self.inner.__arrow_c_device_array__(requested_schema, **kwargs)


class OnlyDeviceStream:
    def __init__(self, inner):
        self.inner = inner

    def __arrow_c_device_stream__(self, requested_schema=None, **kwargs):
        return self.inner.__arrow_c_device_stream__(requested_schema, **kwargs)


class OnDevice:
    """pyarrow's device array with its device_type rewritten, as a CUDA producer would send it."""

    def __init__(self, inner, device_type):
        self.inner, self.device_type = inner, device_type

    def __arrow_c_device_array__(self, requested_schema=None, **kwargs):
        schema, array = self.inner.__arrow_c_device_array__(requested_schema)
        device_fields(array).device_type = self.device_type
        return schema, array


@pytest.mark.parametrize("path", golden_params(FILES))
def test_device_arrays_both_ways_with_pyarrow(path):
    reader = pa.ipc.open_file(path)
    for i in range(reader.num_record_batches):
        batch = reader.get_batch(i)
        # pyarrow's device array into ours (only the device method visible).
        ours = ac.RecordBatch.from_arrow(OnlyDevice(batch), validate="full")
        assert ours.num_rows == batch.num_rows
        # Ours into pyarrow: pa.record_batch takes __arrow_c_device_array__ first.
        back = pa.record_batch(OnlyDevice(ours))
        assert back.equals(batch, check_metadata=True)
        # Each column as an Array, both ways.
        for index in range(batch.num_columns):
            if batch.schema.field(index).type.id in (pa.lib.Type_INTERVAL_MONTHS, pa.lib.Type_INTERVAL_DAY_TIME):
                continue  # pyarrow has no Python Array class for these intervals (batch.column raises)
            column = batch.column(index)
            array = ac.Array.from_arrow(OnlyDevice(column), validate="full")
            assert pa.array(OnlyDevice(array)).equals(column)


def test_our_device_array_fields_are_the_cpu_convention():
    array = ac.Array.from_arrow(pa.array([1, None, 3]))
    schema, device = array.__arrow_c_device_array__()
    fields = device_fields(device)
    assert (fields.device_type, fields.device_id, fields.sync_event) == (1, -1, None)
    assert list(fields.reserved) == [0, 0, 0]
    assert pa.Array._import_from_c_device_capsule(schema, device).equals(pa.array([1, None, 3]))


def test_pyarrow_device_id_and_reserved_are_accepted():
    # pyarrow sends device_id 0 on CPU (and leaves reserved as it finds it); set both explicitly.
    batch = pa.record_batch({"a": [1, 2, 3]})
    schema, device = batch.__arrow_c_device_array__()
    fields = device_fields(device)
    fields.device_id, fields.reserved[0], fields.reserved[2] = 0, 0x5EED, -1

    class Pair:
        def __arrow_c_device_array__(self, requested_schema=None, **kwargs):
            return schema, device
    ours = ac.RecordBatch.from_arrow(Pair())
    assert pa.record_batch(ours).equals(batch)


@pytest.mark.parametrize("device_type,name", [(2, "CUDA (2)"), (3, "CUDA_HOST (3)"), (13, "CUDA_MANAGED (13)"), (99, "unknown device type 99")])
def test_non_cpu_device_arrays_are_refused_by_name_and_released(device_type, name):
    before = pa.total_allocated_bytes()
    column = pa.array(["a", None, "ccc"] * 100)
    with pytest.raises(ValueError, match=re.escape(f"device_array.device_type: the buffers are in {name}")):
        ac.Array.from_arrow(OnDevice(column, device_type))
    del column
    assert pa.total_allocated_bytes() == before, "the refused array was released"


def test_device_kwargs_accept_only_none():
    array = ac.Array.from_arrow(pa.array([1, 2]))
    batch = ac.RecordBatch.from_arrow(pa.record_batch({"a": [1]}))
    reader = ac.RecordBatchReader.from_arrow(pa.table({"a": [1]}))
    array.__arrow_c_device_array__(None, future_option=None)
    for call in (lambda: array.__arrow_c_device_array__(None, copy=True),
                 lambda: batch.__arrow_c_device_array__(device="cuda"),
                 lambda: reader.__arrow_c_device_stream__(None, sync=False)):
        with pytest.raises(NotImplementedError, match="Received unsupported keyword argument"):
            call()
    # pyarrow raises the same for its own device method.
    with pytest.raises(NotImplementedError, match="Received unsupported keyword argument"):
        pa.array([1]).__arrow_c_device_array__(None, copy=True)
    assert not reader.closed, "a refused keyword leaves the reader usable"


def test_requested_schema_casts_on_the_device_methods():
    array = ac.Array.from_arrow(pa.array([1, 2], pa.int32()))
    got = pa.array(OnlyDevice(array), type=pa.int64())
    assert got.equals(pa.array([1, 2], pa.int64()))


@pytest.mark.parametrize("path", golden_params(FILES))
def test_device_stream_matches_the_plain_stream(path):
    expected = pa.ipc.open_file(path).read_all()
    device = ac.RecordBatchReader.from_arrow(OnlyDeviceStream(ac.RecordBatchReader.from_arrow(expected)))
    got = pa.Table.from_batches([pa.record_batch(b) for b in device], schema=expected.schema)
    assert got.equals(expected, check_metadata=True)


def test_device_stream_capsule_is_named_and_read_once():
    reader = ac.RecordBatchReader.from_arrow(pa.table({"a": [1, 2]}))
    capsule = reader.__arrow_c_device_stream__()
    assert ctypes.pythonapi.PyCapsule_IsValid(ctypes.py_object(capsule), b"arrow_device_array_stream") == 1
    assert reader.closed
    with pytest.raises(ValueError, match="already consumed"):
        reader.__arrow_c_device_stream__()
    table = pa.Table.from_batches([pa.record_batch(b) for b in ac.RecordBatchReader.from_arrow(capsule)])
    assert table.equals(pa.table({"a": [1, 2]}))
    with pytest.raises(ValueError, match="already consumed"):
        ac.RecordBatchReader.from_arrow(capsule)


def test_unconsumed_device_capsules_release_their_data():
    before = pa.total_allocated_bytes()
    array = pa.array(list(range(10_000)))
    ours = ac.Array.from_arrow(array)
    del array
    pair = ours.__arrow_c_device_array__()
    del ours, pair
    reader = ac.RecordBatchReader.from_arrow(pa.table({"a": list(range(10_000))}))
    capsule = reader.__arrow_c_device_stream__()
    del reader, capsule
    assert pa.total_allocated_bytes() == before
