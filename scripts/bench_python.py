"""The Python hop pyarrow -> X -> pyarrow, per record batch, for X = arrow_cabi, nanoarrow and arro3 (issue 12).

Called by scripts/bench.sh; writes a JSON file that scripts/bench_report.py turns into a table.

- batch: one record batch crossed 100 times in a row, each time imported by X from pyarrow and handed
  back to pyarrow as a `pa.RecordBatch`: `pa.record_batch(X(batch))`, with X
  `arrow_cabi.RecordBatch.from_arrow`, `nanoarrow.c_array`, `arro3.core.RecordBatch.from_arrow`. The
  baseline is the direct hop `pa.record_batch(batch)` through `__arrow_c_array__` (a pyarrow batch also
  offers `__arrow_c_device_array__`, which `pa.record_batch` would take first; a forwarding object that
  offers only `__arrow_c_array__` makes the baseline cross the same protocol as every X, and the device
  hop is measured beside it).
- stream: a `pa.RecordBatchReader` of 100 copies of the batch, through X's stream type
  (`arrow_cabi.RecordBatchReader.from_arrow`, `nanoarrow.c_array_stream`,
  `arro3.core.RecordBatchReader.from_arrow`) back to `pa.RecordBatchReader.from_stream`, read to the
  end; the baseline is `pa.RecordBatchReader.from_stream(reader)`. Making the reader is outside the
  timing.

One run is 100 batches; the figure is the median over the runs of the run's time / 100. The runs of
all hops are interleaved (run 1 of every hop, then run 2, ...), so that a change in the machine's load
falls on all of them alike. Before timing, each hop's output is checked equal to its input and its
buffers compared by address with the input's (recorded as zero-copy or not).

The shapes are the Rust benchmarks' (crates/arrow-cabi/benches/common/mod.rs), built in pyarrow.
"""

import argparse
import importlib.metadata
import json
import statistics
import sys
import time

import arro3.core as a3
import arrow_cabi as ac
import nanoarrow as na
import pyarrow as pa

ROWS = 1024
BATCHES = 100
SHAPES = ("s1", "s2", "s3")


def s1(rows=ROWS):
    """One non-nullable Int32 column."""
    return pa.record_batch({"c0": pa.array(range(rows), pa.int32())})


def s2(columns=100, rows=ROWS):
    """Int64, Float64, Utf8, nullable Int32, Boolean, cycled over 100 columns."""
    words = ["", "a", "arrow", "columnar", "crossing the C ABI", "zero-copy", "ß∂ƒ", "0123456789abcdef"]
    makers = [
        lambda c: pa.array([i * 31 + c for i in range(rows)], pa.int64()),
        lambda c: pa.array([i * 0.5 + c for i in range(rows)], pa.float64()),
        lambda c: pa.array([words[(i + c) % len(words)] for i in range(rows)], pa.utf8()),
        lambda c: pa.array([i if (i + c) % 7 != 0 else None for i in range(rows)], pa.int32()),
        lambda c: pa.array([(i + c) % 3 == 0 for i in range(rows)], pa.bool_()),
    ]
    return pa.record_batch({f"c{c}": makers[c % 5](c) for c in range(columns)})


def s3(rows=ROWS):
    """One column Struct{List<Utf8>, Dictionary<Int32, Utf8>, Map<Utf8, Int64>}."""
    list_offsets, items = [0], []
    for i in range(rows):
        items.extend(f"item-{(i + j) % 50}" for j in range(i % 4))
        list_offsets.append(len(items))
    lists = pa.ListArray.from_arrays(
        pa.array(list_offsets, pa.int32()),
        pa.array(items, pa.utf8()),
        mask=pa.array([i % 11 == 0 for i in range(rows)]),
    )
    categories = [None if i % 13 == 0 else f"category-{i % 16}" for i in range(rows)]
    dictionary = pa.array(categories, pa.utf8()).dictionary_encode()
    map_offsets, keys, values = [0], [], []
    for i in range(rows):
        for j in range(i % 3):
            keys.append(f"key-{j}")
            values.append(i * j)
        map_offsets.append(len(keys))
    maps = pa.MapArray.from_arrays(
        pa.array(map_offsets, pa.int32()), pa.array(keys, pa.utf8()), pa.array(values, pa.int64())
    )
    nested = pa.StructArray.from_arrays([lists, dictionary, maps], names=["list", "dictionary", "map"])
    return pa.record_batch({"c0": nested})


class ArrayProtocolOnly:
    """Offers only `__arrow_c_array__` of the object it wraps (see the module's docstring)."""

    __slots__ = ("inner",)

    def __init__(self, inner):
        self.inner = inner

    def __arrow_c_array__(self, requested_schema=None):
        return self.inner.__arrow_c_array__(requested_schema)


# Each hop: pyarrow's batch -> X -> pyarrow's batch. The baseline comes first.
BATCH_HOPS = {
    "pyarrow": lambda batch: pa.record_batch(ArrayProtocolOnly(batch)),
    "arrow_cabi": lambda batch: pa.record_batch(ac.RecordBatch.from_arrow(batch)),
    "nanoarrow": lambda batch: pa.record_batch(na.c_array(batch)),
    "arro3": lambda batch: pa.record_batch(a3.RecordBatch.from_arrow(batch)),
    "pyarrow-device": lambda batch: pa.record_batch(batch),
}
# Each hop: pyarrow's reader -> X -> pyarrow's reader (then read to the end).
STREAM_HOPS = {
    "pyarrow": lambda reader: pa.RecordBatchReader.from_stream(reader),
    "arrow_cabi": lambda reader: pa.RecordBatchReader.from_stream(ac.RecordBatchReader.from_arrow(reader)),
    "nanoarrow": lambda reader: pa.RecordBatchReader.from_stream(na.c_array_stream(reader)),
    "arro3": lambda reader: pa.RecordBatchReader.from_stream(a3.RecordBatchReader.from_arrow(reader)),
}


def make_reader(batch):
    return pa.RecordBatchReader.from_batches(batch.schema, [batch] * BATCHES)


def addresses(array, out):
    """Adds the address of every buffer of `array`, its children and its dictionaries to `out`."""
    out.update(buffer.address for buffer in array.buffers() if buffer is not None)
    kind = array.type
    if pa.types.is_dictionary(kind):
        addresses(array.dictionary, out)
    elif pa.types.is_struct(kind):
        for i in range(kind.num_fields):
            addresses(array.field(i), out)
    elif pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_map(kind):
        addresses(array.values, out)
    return out


def batch_addresses(batch):
    out = set()
    for column in batch.columns:
        addresses(column, out)
    return out


def check_batch_hop(name, hop, batch):
    """The hop's output equals its input; returns whether every output buffer is an input buffer."""
    out = hop(batch)
    if not out.equals(batch):
        raise SystemExit(f"{name}: the batch came back different")
    return batch_addresses(out) <= batch_addresses(batch)


def check_stream_hop(name, hop, batch):
    batches = list(hop(make_reader(batch)))
    if len(batches) != BATCHES or not all(out.equals(batch) for out in batches):
        raise SystemExit(f"{name}: the stream came back different ({len(batches)} batches)")
    original = batch_addresses(batch)
    return all(batch_addresses(out) <= original for out in batches)


def time_batch_hop(hop, batch):
    """Nanoseconds per batch over one run of BATCHES hops."""
    start = time.perf_counter_ns()
    for _ in range(BATCHES):
        hop(batch)
    return (time.perf_counter_ns() - start) / BATCHES


def time_stream_hop(hop, batch):
    reader = make_reader(batch)
    start = time.perf_counter_ns()
    for _ in hop(reader):
        pass
    return (time.perf_counter_ns() - start) / BATCHES


def measure(mode, hops, check, timer, batch, runs):
    zero_copy = {name: check(f"{mode} {name}", hop, batch) for name, hop in hops.items()}
    samples = {name: [] for name in hops}
    for name, hop in hops.items():  # one untimed run each, to warm up
        timer(hop, batch)
    for _ in range(runs):
        for name, hop in hops.items():
            samples[name].append(timer(hop, batch))
    return [
        {"library": name, "median_ns": statistics.median(samples[name]), "zero_copy": zero_copy[name]}
        for name in hops
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="the JSON file to write")
    parser.add_argument("--runs", type=int, default=15, help="runs of 100 batches per hop (default 15)")
    args = parser.parse_args()

    rows = []
    for shape in SHAPES:
        batch = globals()[shape]()
        for mode, hops, check, timer in (
            ("batch", BATCH_HOPS, check_batch_hop, time_batch_hop),
            ("stream", STREAM_HOPS, check_stream_hop, time_stream_hop),
        ):
            for row in measure(mode, hops, check, timer, batch, args.runs):
                rows.append({"shape": shape, "mode": mode, **row})
                print(
                    f"  {shape} {mode} {row['library']}: {row['median_ns'] / 1000:.2f} us per batch"
                    f"{'' if row['zero_copy'] else ' (copied)'}",
                    file=sys.stderr,
                )
    versions = {
        package: importlib.metadata.version(package)
        for package in ("pyarrow", "nanoarrow", "arro3-core", "arrow-cabi")
    }
    versions["python"] = sys.version.split()[0]
    with open(args.out, "w") as f:
        json.dump({"batches_per_run": BATCHES, "runs": args.runs, "versions": versions, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
