"""Batches at the store boundary: columns checked and history documents built at once equal record by record."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from landrelease import jsontext
from landrelease.domain.attributes import coerce_text_column, coerce_value
from landrelease.domain.records import Scalar, transpose
from landrelease.domain.schema import HAZARDS
from landrelease.errors import InvalidInput
from landrelease.store.geopackage import history
from landrelease.store.geopackage.attributes import rules_for


def test_records_with_the_same_fields_in_any_order_are_transposed() -> None:
    records = [{"a": 1, "b": "x"}, {"b": "y", "a": 2}]
    assert transpose(records) == {"a": [1, 2], "b": ["x", "y"]}
    assert transpose([{"a": 1}, {"a": 2}]) == {"a": [1, 2]}
    assert transpose([{}, {}]) == {}


@pytest.mark.parametrize(
    "records",
    [
        [{"a": 1, "b": 2}, {"a": 1}],  # a field fewer
        [{"a": 1, "b": 2}, {"a": 1, "c": 2}],  # the same size, another field
    ],
)
def test_records_with_different_fields_are_not_transposed(records: list[dict[str, int]]) -> None:
    assert transpose(records) is None


def test_a_mixed_batch_is_still_checked_and_completed() -> None:
    rules = rules_for(HAZARDS)
    columns = rules.check_many(
        [
            {"hazard_class": "SHA", "status": "active", "name": " North "},
            {"status": "Active", "hazard_class": "cha"},
        ]
    )
    assert columns["name"] == ["North", None]
    assert columns["hazard_class"] == ["SHA", "CHA"]
    assert columns["status"] == ["active", "active"]


@pytest.mark.parametrize(
    ("records", "message"),
    [
        ([{"hazard_class": "SHA", "status": "active"}, {"status": "active", "colour": "red"}], "feature 2: no field"),
        ([{"hazard_class": "SHA", "status": "active"}, {"status": "active", "hazard_class": "XYZ"}], "feature 2: "),
        ([{"hazard_class": "SHA", "status": "active"}, {"status": "active", "name": "x"}], "feature 2: hazard_class"),
    ],
)
def test_a_bad_record_in_a_batch_is_named(records: list[dict[str, str]], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        rules_for(HAZARDS).check_many(records)


TEXT = HAZARDS.field("name")


@given(st.lists(st.one_of(st.none(), st.text(), st.integers()), max_size=6))
def test_a_text_column_at_once_equals_each_value_on_its_own(values: list[object]) -> None:
    bulk = coerce_text_column(TEXT, values)
    if bulk is None:  # the slow path: something that is not text, or text that cannot be written
        assert any(type(v) not in (str, type(None)) for v in values) or _unwritable(values)
        return
    assert bulk == [coerce_value(TEXT, v) for v in values]


def _unwritable(values: list[object]) -> bool:
    try:
        for v in values:
            coerce_value(TEXT, v)
    except InvalidInput:
        return True
    return False


_VALUES = {
    "text": st.one_of(st.none(), st.text()),
    "count": st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)),
    "area": st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False)),
    "marked": st.one_of(st.none(), st.booleans()),
}


@given(
    st.integers(1, 4).flatmap(
        lambda n: st.fixed_dictionaries({k: st.lists(v, min_size=n, max_size=n) for k, v in _VALUES.items()})
    )
)
def test_history_documents_of_a_batch_equal_one_document_per_record(columns: dict[str, list[Scalar]]) -> None:
    count = len(columns["text"])
    documents = jsontext.objects(columns, count)
    assert documents == [history.to_json({k: c[i] for k, c in columns.items()}) for i in range(count)]
