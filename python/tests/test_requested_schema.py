"""requested_schema: honoured where arrow-cast can cast, a clear error where it cannot."""

import polars as pl
import pyarrow as pa
import pytest

import arrow_cabi as ac

UTF8 = pa.schema([("a", pa.int64()), ("s", pa.string())])


def polars_reader():
    df = pl.DataFrame({"a": [1, 2, None], "s": ["x", None, "zz"]})
    reader = ac.RecordBatchReader.from_arrow(df)
    assert reader.schema.types == ["Int64", "Utf8View"]
    return reader


def test_stream_utf8view_to_utf8_through_pyarrow():
    got = pa.RecordBatchReader.from_stream(polars_reader(), schema=UTF8).read_all()
    assert got.schema == UTF8
    assert got.column("s").to_pylist() == ["x", None, "zz"]


def test_stream_request_by_hand():
    capsule = polars_reader().__arrow_c_stream__(UTF8.__arrow_c_schema__())
    got = pa.RecordBatchReader._import_from_c_capsule(capsule).read_all()
    assert got.schema.field("s").type == pa.string()


def test_same_types_pass_unchanged():
    table = pa.table({"a": [1], "s": ["x"]}).replace_schema_metadata({"k": "v"})
    reader = ac.RecordBatchReader.from_arrow(table)
    got = pa.RecordBatchReader.from_stream(reader, schema=table.schema).read_all()
    assert got.equals(table, check_metadata=True)


def test_array_and_batch_casts():
    views = pa.array(["a", None, "ccc"], pa.string_view())
    ours = ac.Array.from_arrow(views)
    schema_capsule, array_capsule = ours.__arrow_c_array__(pa.string().__arrow_c_schema__())
    got = pa.Array._import_from_c_capsule(schema_capsule, array_capsule)
    assert got.type == pa.string() and got.to_pylist() == ["a", None, "ccc"]
    # numbers widen too
    small = ac.Array.from_arrow(pa.array([1, 2], pa.int8()))
    got = pa.Array._import_from_c_capsule(*small.__arrow_c_array__(pa.int64().__arrow_c_schema__()))
    assert got.type == pa.int64()

    batch = ac.RecordBatch.from_arrow(pa.record_batch({"a": [1, 2], "s": pa.array(["x", "y"], pa.string_view())}))
    got = pa.record_batch(batch, schema=UTF8)
    assert got.schema == UTF8 and got.column(1).to_pylist() == ["x", "y"]


def test_different_field_count_raises_and_keeps_the_reader():
    reader = polars_reader()
    one = pa.schema([("a", pa.int64())])
    with pytest.raises(ValueError, match="requested_schema has 1 fields but the data has 2"):
        reader.__arrow_c_stream__(one.__arrow_c_schema__())
    assert not reader.closed
    assert pa.table(reader).num_rows == 3
    batch = ac.RecordBatch.from_arrow(pa.record_batch({"a": [1], "s": ["x"]}))
    with pytest.raises(ValueError, match="fields"):
        batch.__arrow_c_array__(one.__arrow_c_schema__())


def test_uncastable_type_raises_type_error():
    reader = polars_reader()
    target = pa.schema([("a", pa.struct([("x", pa.int8())])), ("s", pa.string())])
    with pytest.raises(TypeError, match="cannot cast column 'a' from Int64"):
        reader.__arrow_c_stream__(target.__arrow_c_schema__())
    with pytest.raises(TypeError):
        pa.RecordBatchReader.from_stream(reader, schema=target)
    arr = ac.Array.from_arrow(pa.array([1, 2]))
    with pytest.raises(TypeError):
        arr.__arrow_c_array__(pa.struct([("x", pa.int8())]).__arrow_c_schema__())


def test_value_that_does_not_cast_raises_value_error():
    arr = ac.Array.from_arrow(pa.array(["1", "two"]))
    with pytest.raises(ValueError, match="cannot cast"):
        arr.__arrow_c_array__(pa.int64().__arrow_c_schema__())


def test_value_that_does_not_cast_in_a_stream_fails_the_read():
    reader = ac.RecordBatchReader.from_arrow(pa.table({"s": ["1", "two"]}))
    target = pa.schema([("s", pa.int64())])
    pa_reader = pa.RecordBatchReader.from_stream(reader, schema=target)
    with pytest.raises(Exception, match="Cast error|cannot|parse"):
        pa_reader.read_all()


def test_non_struct_request_for_a_stream_raises():
    with pytest.raises(TypeError, match="struct"):
        polars_reader().__arrow_c_stream__(pa.int64().__arrow_c_schema__())


def test_request_must_be_a_schema_capsule():
    arr = ac.Array.from_arrow(pa.array([1]))
    with pytest.raises(TypeError, match="arrow_schema"):
        arr.__arrow_c_array__(42)
    # None means no request
    assert pa.Array._import_from_c_capsule(*arr.__arrow_c_array__(None)).to_pylist() == [1]
