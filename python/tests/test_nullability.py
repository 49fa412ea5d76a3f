"""nullability="relax": pyarrow builds batches whose non-nullable fields hold nulls, which arrow-rs's
RecordBatch refuses. By default that is an error naming the column; relaxed, the column comes back
nullable with pyarrow's values."""

import pyarrow as pa
import pytest

import arrow_cabi as ac


def batch_with_nulls_in_non_nullable():
    schema = pa.schema([
        pa.field("id", pa.int64(), nullable=False),
        pa.field("name", pa.string(), nullable=False),
        pa.field("ok", pa.bool_(), nullable=True),
    ])
    columns = [pa.array([1, None, 3]), pa.array(["a", "b", None]), pa.array([True, None, False])]
    # pyarrow does not check nullability when building a batch.
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def test_default_enforces_and_names_the_column():
    batch = batch_with_nulls_in_non_nullable()
    with pytest.raises(ValueError, match=r"array\.children\[0\].*non-nullable"):
        ac.RecordBatch.from_arrow(batch)


def test_unknown_nullability_is_refused():
    with pytest.raises(ValueError, match="enforce"):
        ac.RecordBatch.from_arrow(batch_with_nulls_in_non_nullable(), nullability="loose")


@pytest.mark.parametrize("validate", ["minimal", "default", "full"])
def test_relax_imports_with_the_columns_nullable(validate):
    batch = batch_with_nulls_in_non_nullable()
    ours = ac.RecordBatch.from_arrow(batch, validate=validate, nullability="relax")
    back = pa.record_batch(ours)
    assert [f.nullable for f in back.schema] == [True, True, True]
    # pyarrow's own values, unchanged
    assert back.columns == batch.columns
    assert back.schema.names == batch.schema.names


def test_relax_leaves_clean_non_nullable_columns_alone():
    schema = pa.schema([pa.field("id", pa.int64(), nullable=False), pa.field("x", pa.int64(), nullable=False)])
    batch = pa.RecordBatch.from_arrays([pa.array([1, 2]), pa.array([None, 4])], schema=schema)
    back = pa.record_batch(ac.RecordBatch.from_arrow(batch, nullability="relax"))
    assert [f.nullable for f in back.schema] == [False, True]


def test_relax_through_a_struct_column():
    inner = pa.struct([pa.field("v", pa.int32(), nullable=False)])
    values = pa.StructArray.from_arrays([pa.array([1, None], pa.int32())], fields=list(inner))
    schema = pa.schema([pa.field("s", inner, nullable=False)])
    batch = pa.RecordBatch.from_arrays([values], schema=schema)
    with pytest.raises(ValueError, match=r"children\[0\]\.children\[0\]"):
        ac.RecordBatch.from_arrow(batch)
    back = pa.record_batch(ac.RecordBatch.from_arrow(batch, nullability="relax"))
    assert back.schema.field("s").type.field("v").nullable
    assert not back.schema.field("s").nullable
    assert back.column(0).to_pylist() == values.to_pylist()


def test_relax_on_a_stream_declares_the_columns_nullable():
    batch = batch_with_nulls_in_non_nullable()
    reader = pa.RecordBatchReader.from_batches(batch.schema, [batch, batch])
    with pytest.raises(ValueError, match="non-nullable"):
        list(ac.RecordBatchReader.from_arrow(reader))
    reader = pa.RecordBatchReader.from_batches(batch.schema, [batch, batch])
    ours = ac.RecordBatchReader.from_arrow(reader, nullability="relax")
    back = pa.RecordBatchReader.from_stream(ours)
    # a stream's schema is declared before its batches: every column the relaxation reaches is nullable
    assert [f.nullable for f in back.schema] == [True, True, True]
    batches = list(back)
    assert [b.columns for b in batches] == [batch.columns, batch.columns]
