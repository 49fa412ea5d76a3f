"""arrow_cabi: Arrow data through the PyCapsule protocol, on the arrow-cabi Rust library.

Classes take data from any object that implements the Arrow PyCapsule protocol (pyarrow, polars,
duckdb, nanoarrow, arro3, ...) with ``from_arrow`` and give it to any consumer through
``__arrow_c_schema__``, ``__arrow_c_array__`` and ``__arrow_c_stream__``.

- ``Schema.from_arrow(obj)``: any ``__arrow_c_schema__`` object.
- ``Array.from_arrow(obj, validate="default")`` / ``RecordBatch.from_arrow(obj, validate="default")``:
  any ``__arrow_c_array__`` object.
- ``RecordBatchReader.from_arrow(obj, validate="default")``: any ``__arrow_c_stream__`` object;
  ``RecordBatchReader.from_batches(schema, batches)``; ``read_ipc_file(path)``; ``read_ipc_stream(path)``.
  A reader is read once: iterate it (yields ``RecordBatch``), call ``read_all()`` (a list of
  ``RecordBatch``), or hand it to a consumer (``pa.table(reader)``, ``pl.DataFrame(reader)``, ...),
  which moves the stream out.

``validate`` is one of ``"minimal"``, ``"default"`` (O(1) per buffer) or ``"full"`` (O(data): every
offset, UTF-8, union ids, run ends, dictionary keys).

``check(obj)`` checks a producer's stream or array against the rules of the Arrow C interfaces and
returns the findings (see ``arrow_cabi.check``; ``python -m arrow_cabi check module:attr`` from a shell).
"""

from ._arrow_cabi import (
    Array,
    RecordBatch,
    RecordBatchReader,
    Schema,
    read_ipc_file,
    read_ipc_stream,
)
from .check import Finding, Report, check

__all__ = [
    "Array",
    "Finding",
    "Report",
    "check",
    "RecordBatch",
    "RecordBatchReader",
    "Schema",
    "read_ipc_file",
    "read_ipc_stream",
]
