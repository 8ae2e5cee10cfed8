"""JSON written a column at a time is the JSON ``json.dumps`` writes row by row."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from landrelease.jsontext import objects, plain

_VALUES = st.sampled_from(
    [
        st.text(),
        st.integers(min_value=-(2**63), max_value=2**63),
        st.floats(allow_nan=False, allow_infinity=False),
        st.booleans(),
    ]
)


@st.composite
def batches(draw: st.DrawFn) -> tuple[dict[str, list[object]], int]:
    count = draw(st.integers(min_value=0, max_value=8))
    names = draw(st.lists(st.text(min_size=1, max_size=6), unique=True, max_size=4))
    columns = {}
    for name in names:
        values = draw(_VALUES)
        columns[name] = draw(st.lists(st.one_of(st.none(), values), min_size=count, max_size=count))
    return columns, count


@given(batches())
def test_objects_are_what_json_dumps_writes(batch: tuple[dict[str, list[object]], int]) -> None:
    columns, count = batch
    assert plain(columns)  # type: ignore[arg-type]
    for item, key in ((",", ":"), (", ", ": ")):
        written = objects(columns, count, item=item, key=key)  # type: ignore[arg-type]
        rows = [{n: c[i] for n, c in columns.items() if c[i] is not None} for i in range(count)]
        assert written == [json.dumps(r, ensure_ascii=False, separators=(item, key)) for r in rows]
        assert [json.loads(text) for text in written] == rows


def test_columns_objects_cannot_write_are_recognised() -> None:
    assert not plain({"a": [1, "1"]})  # two types in one column
    assert not plain({"a": [1.0, float("inf")]})  # JSON has no infinity
    assert not plain({"a": [b"raw"]})  # type: ignore[list-item]
    assert plain({"a": [None, None], "b": [True, None]})
