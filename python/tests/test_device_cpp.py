"""Arrow C++ as the peer of arrow_cabi's device streams, on every gold file.

A small C++ shim (cpp/device_shim.cc) is compiled with g++ against the headers and libarrow of
pyarrow's wheel (pyarrow.get_include(), pyarrow.get_library_dirs()). It has Arrow C++ consume our
device stream (ImportDeviceRecordBatchReader, then ToTable and ValidateFull) and produce one
(ExportDeviceRecordBatchReader) for us to consume; the data is compared with pyarrow's reading of
the file. pyarrow 26's libarrow is built with the C++11 libstdc++ ABI (its exported symbols carry
`__cxx11`), so the shim is compiled with -D_GLIBCXX_USE_CXX11_ABI=1. Built with =0 instead, it fails
to load (checked: "undefined symbol: _ZN5arrow8internal14DieWithMessageERKSs", the old-ABI std::string).
Compiling the shim takes about 9 s on the 2-core machine.
"""

import ctypes
import shutil
import subprocess
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc
import pytest

import arrow_cabi as ac
from conftest import golden_params, require_golden

FILES = require_golden()
SHIM = Path(__file__).parent / "cpp" / "device_shim.cc"

#: Files whose own values Arrow C++'s ValidateFull refuses (the shim validates fully), whichever side
#: produced the stream: checked by the plain-to-device direction, which fails before arrow_cabi sees it.
CPP_REJECTS = {
    "1.0.0-littleendian/generated_datetime": "date64[ms] values that are not whole days",
    "1.0.0-littleendian/generated_decimal": "decimal128 values beyond their precision",
    "1.0.0-littleendian/generated_decimal256": "decimal256 values beyond their precision",
}

#: sizeof(struct ArrowArrayStream) and sizeof(struct ArrowDeviceArrayStream) on 64-bit (abi.h).
PLAIN_STREAM_SIZE, DEVICE_STREAM_SIZE = 40, 48


@pytest.fixture(scope="module")
def shim(tmp_path_factory):
    compiler = shutil.which("g++")
    if compiler is None:
        pytest.fail("g++ is needed to build the Arrow C++ shim (apt-get install g++)", pytrace=False)
    library_dir = pa.get_library_dirs()[0]
    libarrow = sorted(Path(library_dir).glob("libarrow.so.*"))[0]
    out = tmp_path_factory.mktemp("shim") / "libdevice_shim.so"
    command = [
        compiler, "-std=c++20", "-O1", "-shared", "-fPIC", "-D_GLIBCXX_USE_CXX11_ABI=1",
        str(SHIM), "-I", pa.get_include(), str(libarrow), f"-Wl,-rpath,{library_dir}", "-o", str(out),
    ]
    subprocess.run(command, check=True, capture_output=True, text=True)
    library = ctypes.CDLL(str(out))
    for name in ("arrow_cabi_shim_device_to_plain", "arrow_cabi_shim_plain_to_device"):
        getattr(library, name).restype = ctypes.c_char_p
        getattr(library, name).argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    library.arrow_cabi_shim_device_type.restype = ctypes.c_int
    library.arrow_cabi_shim_device_type.argtypes = [ctypes.c_void_p]
    return library


def capsule_pointer(capsule, name):
    get = ctypes.pythonapi.PyCapsule_GetPointer
    get.restype = ctypes.c_void_p
    get.argtypes = [ctypes.py_object, ctypes.c_char_p]
    return get(capsule, name)


class DeviceStreamOf:
    """An object whose only protocol method hands over a device stream struct at `address`."""

    def __init__(self, address):
        new = ctypes.pythonapi.PyCapsule_New
        new.restype = ctypes.py_object
        new.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
        self.capsule = new(address, b"arrow_device_array_stream", None)

    def __arrow_c_device_stream__(self, requested_schema=None, **kwargs):
        return self.capsule


@pytest.mark.parametrize("path", golden_params(FILES, CPP_REJECTS))
def test_arrow_cpp_consumes_our_device_stream(shim, path):
    expected = pa.ipc.open_file(path).read_all()
    ours = ac.RecordBatchReader.from_arrow(expected)
    capsule = ours.__arrow_c_device_stream__()
    plain = ctypes.create_string_buffer(PLAIN_STREAM_SIZE)
    error = shim.arrow_cabi_shim_device_to_plain(capsule_pointer(capsule, b"arrow_device_array_stream"), ctypes.addressof(plain))
    assert error is None, error.decode()
    got = pa.RecordBatchReader._import_from_c(ctypes.addressof(plain)).read_all()
    assert got.equals(expected, check_metadata=True)


@pytest.mark.parametrize("path", golden_params(FILES, CPP_REJECTS))
def test_we_consume_arrow_cpp_s_device_stream(shim, path):
    expected = pa.ipc.open_file(path).read_all()
    plain = ctypes.create_string_buffer(PLAIN_STREAM_SIZE)
    pa.RecordBatchReader.from_batches(expected.schema, expected.to_batches())._export_to_c(ctypes.addressof(plain))
    device = ctypes.create_string_buffer(DEVICE_STREAM_SIZE)
    error = shim.arrow_cabi_shim_plain_to_device(ctypes.addressof(plain), ctypes.addressof(device))
    assert error is None, error.decode()
    assert shim.arrow_cabi_shim_device_type(ctypes.addressof(device)) == 1, "Arrow C++ declares CPU"
    reader = ac.RecordBatchReader.from_arrow(DeviceStreamOf(ctypes.addressof(device)), validate="full")
    got = pa.Table.from_batches([pa.record_batch(b) for b in reader], schema=expected.schema)
    assert got.equals(expected, check_metadata=True)


def test_arrow_cpp_s_non_cpu_device_stream_is_refused_by_name(shim):
    table = pa.table({"a": [1, 2, 3]})
    plain = ctypes.create_string_buffer(PLAIN_STREAM_SIZE)
    pa.RecordBatchReader.from_batches(table.schema, table.to_batches())._export_to_c(ctypes.addressof(plain))
    device = ctypes.create_string_buffer(DEVICE_STREAM_SIZE)
    assert shim.arrow_cabi_shim_plain_to_device(ctypes.addressof(plain), ctypes.addressof(device)) is None
    ctypes.c_int32.from_address(ctypes.addressof(device)).value = 2  # declare CUDA
    before = pa.total_allocated_bytes()
    with pytest.raises(ValueError, match=r"device_stream.device_type: the stream's arrays are in CUDA \(2\) memory"):
        ac.RecordBatchReader.from_arrow(DeviceStreamOf(ctypes.addressof(device)))
    del table
    assert pa.total_allocated_bytes() < before, "the refused stream was released"
