"""Attribute values are checked against the schema with messages naming the field."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from landrelease.domain.attributes import coerce_attributes
from landrelease.domain.schema import FINDS, HAZARDS, LAYERS, layer_named
from landrelease.errors import InvalidInput, NotFound


def test_values_are_normalised() -> None:
    out = coerce_attributes(
        HAZARDS,
        {
            "name": " Поле біля Ізюма ",
            "hazard_class": "sha",
            "status": "Worked On",
            "reported_date": "24.02.2022",
            "synthetic": "так",
        },
    )
    assert out == {
        "name": "Поле біля Ізюма",
        "hazard_class": "SHA",
        "status": "worked_on",
        "reported_date": "2022-02-24",
        "synthetic": True,
    }


def test_derived_figures_are_never_taken_from_input() -> None:
    out = coerce_attributes(HAZARDS, {"hazard_class": "CHA", "status": "active", "cleared_m2": 5.0})
    assert "cleared_m2" not in out


@pytest.mark.parametrize(
    ("attrs", "message"),
    [
        (
            {"hazard_class": "XYZ", "status": "active"},
            "hazard_class: 'XYZ' is not one of SHA, CHA, EOD, stockpile",
        ),
        (
            {"hazard_class": "SHA", "status": "active", "reported_date": "31.02.2022"},
            "reported_date: '31.02.2022' is not a valid date",
        ),
        ({"status": "active"}, "missing required field: hazard_class"),
        ({"hazard_class": "SHA", "status": "active", "colour": "red"}, "hazards has no field 'colour'"),
    ],
)
def test_bad_values_are_named(attrs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        coerce_attributes(HAZARDS, attrs)


def test_numbers_accept_decimal_commas_and_refuse_fractions_of_items() -> None:
    assert coerce_attributes(FINDS, {"quantity": "3", "depth_cm": "12,5"}) == {
        "quantity": 3,
        "depth_cm": 12.5,
    }
    with pytest.raises(InvalidInput, match=r"quantity: '2\.5' is not a valid integer"):
        coerce_attributes(FINDS, {"quantity": "2.5"})


@given(st.text())
def test_text_fields_keep_any_text(text: str) -> None:
    out = coerce_attributes(FINDS, {"ordnance_model": text})
    assert out["ordnance_model"] == (text.strip() or None)


def test_layers_by_cli_name() -> None:
    assert layer_named("admin-areas") is LAYERS["admin_areas"]
    with pytest.raises(NotFound, match="no layer called 'stockpiles'"):
        layer_named("stockpiles")


def test_personal_fields_are_marked() -> None:
    victims = LAYERS["victims"]
    assert victims.personal
    assert {f.name for f in victims.fields if f.personal} >= {"full_name", "date_of_birth", "address"}
