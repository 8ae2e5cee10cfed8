"""The forms come from the schema: its fields, choices and languages."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from openpyxl import load_workbook

from landrelease.domain import schema
from landrelease.domain.schema import Field, FieldType
from landrelease.errors import InvalidInput
from landrelease.fieldforms.kinds import KINDS, form_kind
from landrelease.fieldforms.xlsform import FormContext, build_xlsform, parse_languages, write_xlsform

UK = "label::Українська (uk)"
EN = "label::English (en)"


def test_a_field_added_to_the_schema_appears_in_the_form_and_changes_its_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = KINDS["clearance"].version
    finds = schema.LAYERS["finds"]
    extra = Field("fuze_state", FieldType.TEXT, "Fuze state", choices=("armed", "unarmed"))
    monkeypatch.setitem(schema.LAYERS, "finds", dataclasses.replace(finds, fields=(*finds.fields, extra)))
    form = build_xlsform(KINDS["clearance"])
    [row] = [r for r in form.survey if r["name"] == "fuze_state"]
    assert row["type"] == "select_one finds_fuze_state" and row[EN] == "Fuze state" and row[UK] == "Fuze state"
    assert {c["name"] for c in form.choices if c["list_name"] == "finds_fuze_state"} == {"armed", "unarmed"}
    assert KINDS["clearance"].version != before


@pytest.mark.parametrize("name", list(KINDS))
def test_every_question_is_labelled_in_every_language(name: str) -> None:
    form = build_xlsform(KINDS[name], ("en", "uk"))
    labelled = [r for r in form.survey if r["type"] not in ("calculate", "end_group", "end_repeat")]
    assert labelled and all(r[EN] and r[UK] for r in labelled)
    # Real Ukrainian, not English copied over: every schema field has its own translation today.
    untranslated = [r["name"] for r in labelled if r[UK] == r[EN]]
    assert not untranslated, f"add Ukrainian labels to fieldforms/labels.py for {untranslated}"
    assert all(c[EN] and c[UK] for c in form.choices)
    assert form.settings["form_id"] == f"landrelease_{name}" and form.settings["version"] == KINDS[name].version


def test_constraints_geometry_and_choice_lists() -> None:
    form = build_xlsform(KINDS["clearance"], ("uk",))
    rows = {(r["type"], r["name"]): r for r in form.survey}
    assert rows[("date", "start_date")]["constraint"] == ". <= today()"
    assert rows[("geoshape", "boundary")]["constraint"].startswith("area(.) >= 1")
    assert ("geopoint", "location") in rows and ("geotrace", "route") in rows
    assert rows[("text", "hazard_id")]["required"] == "yes"
    assert rows[("select_one ordnance_model", "ordnance_model")]["choice_filter"] == "parent = ${ordnance_subcategory}"
    assert form.settings["default_language"] == "Українська (uk)" and EN not in rows[("date", "start_date")]
    models = {c["name"]: c for c in form.choices if c["list_name"] == "ordnance_model"}
    assert models["pmn_2"]["parent"] == "landmine_anti_personnel"


def test_organisations_and_admin_areas_come_from_the_database_or_are_text(tmp_path: Path) -> None:
    nts = KINDS["nts"]
    bare = {r["name"]: r["type"] for r in build_xlsform(nts).survey}
    assert bare["organisation"] == "text" and bare["admin_area"] == "text"
    context = FormContext(organisations=[("OR-000001", "ДСНС")], admin_areas=[("AD-000001", "Харківська")])
    form = build_xlsform(nts, ("en", "uk"), context)
    types = {r["name"]: r["type"] for r in form.survey}
    assert types["organisation"] == "select_one organisations" and types["admin_area"] == "select_one admin_areas"
    path = tmp_path / "nts.xlsx"
    write_xlsform(form, path)
    book = load_workbook(path)
    assert book.sheetnames == ["survey", "choices", "settings"]
    choices = list(book["choices"].iter_rows(values_only=True))
    assert ("admin_areas", "AD-000001", "Харківська", "Харківська") in [tuple(r[:4]) for r in choices]


def test_bad_requests_say_what_there_is() -> None:
    with pytest.raises(InvalidInput, match="no form called 'survey'; forms are: nts, ts, clearance"):
        form_kind("survey")
    with pytest.raises(InvalidInput, match="--lang takes en, uk"):
        parse_languages("en,fr")
    with pytest.raises(InvalidInput, match=r"written as \.xlsx"):
        write_xlsform(build_xlsform(KINDS["qa"]), Path("form.xls"))
