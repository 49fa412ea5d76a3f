"""Zero-width layouts from pyarrow: fixed-size binary of width 0, fixed-size lists of size 0 and
structs without fields hold any number of elements in no bytes; pyarrow -> arrow_cabi -> pyarrow
gives back the same array (length and nulls included) at every level, alone, as a struct field and
as list items."""

import pyarrow as pa
import pytest

import arrow_cabi as ac

LEVELS = ("minimal", "default", "full")


def zero_width_arrays():
    binaries = pa.array([b"", b"", b"", b"", b""], pa.binary(0))
    binaries_with_nulls = pa.array([b"", None, b"", b"", None], pa.binary(0))
    empty_lists = pa.array([[], None, [], [], []], pa.list_(pa.int32(), 0))
    fieldless = pa.array([{}, None, {}, {}, {}], pa.struct([]))
    cases = {
        "w:0": binaries,
        "w:0 with nulls": binaries_with_nulls,
        "+w:0": empty_lists,
        "+s without fields": fieldless,
    }
    for name, values in list(cases.items()):
        cases[f"struct of {name}"] = pa.StructArray.from_arrays([values, pa.array(range(5))], names=["z", "i"])
        cases[f"list of {name}"] = pa.ListArray.from_arrays(pa.array([0, 2, 5], pa.int32()), values)
        cases[f"{name} sliced"] = values.slice(1, 3)
    return cases


CASES = zero_width_arrays()


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("level", LEVELS)
def test_zero_width_arrays_cross_with_their_length_and_nulls(name, level):
    expected = CASES[name]
    expected.validate(full=True)
    got = pa.array(ac.Array.from_arrow(expected, validate=level))
    assert len(got) == len(expected)
    assert got.null_count == expected.null_count
    assert got.equals(expected)
