"""Done when: every form is generated, converted with pyxform, a realistic export of it ingested into the
review queue, approved, and the national figures change."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from shapely.geometry import box

from landrelease.accounts import Accounts, open_accounts
from landrelease.actions import review
from landrelease.actions.field_submissions import import_submissions
from landrelease.analysis.land_release import land_release_report
from landrelease.domain.records import Change, NewFeature
from landrelease.domain.schema import BENEFICIARY_FIELDS
from landrelease.fieldforms.kinds import KINDS, FormKind
from landrelease.fieldforms.xlsform import FormContext, build_xlsform, write_xlsform
from landrelease.store import Store, open_store
from tests.fieldforms.exports import Answers, central_csv_zip, central_odata, kobo_json, odk_xml

TODAY = date(2025, 6, 1)
ANNA = Change("anna", "setting up")


def shape(*corners: tuple[float, float]) -> str:
    """An ODK geoshape answer ("lat lon alt acc; ...", closed) from (lon, lat) corners."""
    ring = [*corners, corners[0]]
    return "; ".join(f"{lat} {lon} 152.3 4.0" for lon, lat in ring)


def square(lon: float, lat: float, d: float) -> str:
    return shape((lon, lat), (lon + d, lat), (lon + d, lat + d), (lon, lat + d))


HAZARD = box(36.30, 49.85, 36.31, 49.86)
INSIDE = square(36.302, 49.852, 0.003)
POINT = "49.8555 36.3055 151.0 3.5"


def finds(n: int) -> list[dict[str, str]]:
    return [
        {
            "ordnance_category": "landmine",
            "ordnance_subcategory": "landmine_anti_personnel",
            "ordnance_model": "pmn_2",
            "quantity": "2",
            "condition": "armed",
            "depth_cm": "8",
            "disposal": "destroyed in situ",
            "found_date": "2025-05-02",
            "location": POINT,
        }
        for _ in range(n)
    ]


def activity(hazard_id: str = "HZ-000001") -> dict[str, str]:
    return {
        "activity/hazard_id": hazard_id,
        "activity/status": "completed",
        "activity/organisation": "OR-000001",
        "activity/team": "Team 7",
        "activity/start_date": "2025-04-28",
        "activity/end_date": "2025-05-02",
        "activity/boundary": square(36.301, 49.851, 0.005),
        "activity/route": "49.849 36.299 150 5; 49.851 36.301 150 5",
        "activity/photo": "1714631234567.jpg",
    }


ANSWERS: dict[str, Answers] = {
    "nts": Answers(
        "uuid:4d0b8f0e-0001-4c1e-9a55-0b1c1d1e1f01",
        {
            **activity(""),
            "hazard/name": "Orchard east of the school",
            "hazard/hazard_class": "CHA",
            "hazard/contamination": "AP mines",
            "hazard/boundary": square(36.40, 49.90, 0.01),
        },
        {"cancelled": [{"release_date": "2025-05-02", "boundary": square(36.40, 49.90, 0.004)}]},
        photo="1714631234567.jpg",
    ),
    "ts": Answers(
        "uuid:4d0b8f0e-0002-4c1e-9a55-0b1c1d1e1f02",
        activity(),
        {"reduced": [{"release_date": "2025-05-02", "boundary": INSIDE}], "find": finds(1)},
    ),
    "clearance": Answers(
        "uuid:4d0b8f0e-0003-4c1e-9a55-0b1c1d1e1f03",
        activity(),
        {"cleared": [{"depth_cm": "13", "release_date": "2025-05-02", "boundary": INSIDE}], "find": finds(2)},
        photo="1714631234567.jpg",
    ),
    "eod": Answers("uuid:4d0b8f0e-0004-4c1e-9a55-0b1c1d1e1f04", activity(""), {"find": finds(1)}),
    "eore": Answers(
        "uuid:4d0b8f0e-0005-4c1e-9a55-0b1c1d1e1f05",
        {
            "session/session_date": "2025-05-03",
            "session/organisation": "OR-000001",
            "session/method": "interpersonal",
            **{f"session/{name}": str(i + 3) for i, name in enumerate(BENEFICIARY_FIELDS)},
            "session/indirect_beneficiaries": "120",
            "session/location": POINT,
        },
    ),
    "accident": Answers(
        "uuid:4d0b8f0e-0006-4c1e-9a55-0b1c1d1e1f06",
        {
            "accident/hazard_id": "HZ-000001",
            "accident/accident_class": "mine",
            "accident/accident_date": "2025-04-20",
            "accident/device": "pmn_2",
            "accident/activity": "farming",
            "accident/killed": "0",
            "accident/injured": "2",
            "accident/location": POINT,
        },
        {
            "victim": [
                {"full_name": "Олена Коваленко", "sex": "female", "outcome": "injured", "injuries": "leg"},
                {"full_name": "Петро Коваленко", "sex": "male", "outcome": "injured", "injuries": "hand"},
            ]
        },
    ),
    "qa": Answers("uuid:4d0b8f0e-0007-4c1e-9a55-0b1c1d1e1f07", activity(), {"find": finds(1)}),
}
EXPORTS: dict[str, tuple[str, Callable[[FormKind, Answers], bytes]]] = {
    "nts": ("json", lambda k, a: kobo_json(k, [a])),
    "ts": ("zip", lambda k, a: central_csv_zip(k, [a])),
    "clearance": ("xml", odk_xml),
    "eod": ("json", lambda k, a: central_odata(k, [a])),
    "eore": ("zip", lambda k, a: central_csv_zip(k, [a])),
    "accident": ("json", lambda k, a: kobo_json(k, [a])),
    "qa": ("json", lambda k, a: central_odata(k, [a])),
}


@pytest.fixture
def programme(tmp_path: Path) -> Iterator[tuple[Store, Accounts, str]]:
    location = str(tmp_path / "programme.gpkg")
    store = open_store(location, create=True)
    store.add("organisations", [NewFeature({"name": "Demining Team Kharkiv", "kind": "operator"})], ANNA)
    store.add("hazards", [NewFeature({"hazard_class": "SHA", "status": "active"}, HAZARD)], ANNA)
    accounts = open_accounts(location)
    yield store, accounts, location
    accounts.close()
    store.close()


def national_figures(store: Store) -> dict[str, float]:
    totals = land_release_report(store, recompute=True).totals.as_dict()
    figures = {k: float(v) for k, v in totals.items() if isinstance(v, int | float)}
    for layer in ("activities", "finds", "accidents", "victims", "eore"):
        figures[layer] = store.count(layer)
    figures["beneficiaries"] = sum(
        int(f.attributes.get(name) or 0) for f in store.features("eore") for name in BENEFICIARY_FIELDS
    )
    return figures


@pytest.mark.parametrize("name", list(KINDS))
def test_every_form_converts_is_ingested_approved_and_changes_the_national_figures(
    name: str, tmp_path: Path, programme: tuple[Store, Accounts, str]
) -> None:
    store, accounts, location = programme
    kind = KINDS[name]
    form = tmp_path / f"{name}.xlsx"
    context = FormContext(organisations=[("OR-000001", "Demining Team Kharkiv")])
    write_xlsform(build_xlsform(kind, ("en", "uk"), context), form)
    xform = tmp_path / f"{name}.xml"
    run = subprocess.run(
        [str(Path(sys.executable).parent / "xls2xform"), str(form), str(xform)], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr + run.stdout
    assert f'id="{kind.form_id}"' in xform.read_text() and "Українська (uk)" in xform.read_text()

    suffix, make = EXPORTS[name]
    export = tmp_path / f"{name}-export.{suffix}"
    export.write_bytes(make(kind, ANSWERS[name]))
    before = national_figures(store)
    summary = import_submissions(store, accounts, location, export, name, "team7", today=TODAY)
    assert summary.as_dict()["errors"] == []
    assert (summary.imported, summary.rejected, summary.duplicates) == (1, 0, 0)
    assert national_figures(store) == before, "a submission never writes the national record"

    for report_id in summary.reports:
        approved = review.approve(store, accounts, report_id, "rita", review.Reconcile("new"))
        assert approved.status == "approved" and approved.record_id
    after = national_figures(store)
    changed = {k for k in after if after[k] != before[k]}
    expected = {
        "nts": {"hazards", "estimated_m2", "cancelled_m2", "remaining_m2", "activities"},
        "ts": {"reduced_m2", "remaining_m2", "activities", "finds"},
        "clearance": {"cleared_m2", "remaining_m2", "activities", "finds"},
        "eod": {"activities", "finds"},
        "eore": {"eore", "beneficiaries"},
        "accident": {"accidents", "victims"},
        "qa": {"activities", "finds"},
    }[name]
    assert expected <= changed, (before, after)

    again = import_submissions(store, accounts, location, export, name, "team7", today=TODAY)
    assert (again.imported, again.rejected, again.duplicates) == (0, 0, 1)


def test_links_within_a_submission_follow_approval(programme: tuple[Store, Accounts, str], tmp_path: Path) -> None:
    store, accounts, location = programme
    kind = KINDS["accident"]
    export = tmp_path / "accident.json"
    export.write_bytes(kobo_json(kind, [ANSWERS["accident"]]))
    summary = import_submissions(store, accounts, location, export, "accident", "team7", today=TODAY)
    accident_report, victim_report, _ = summary.reports
    with pytest.raises(review.InvalidReport, match="approve that one first"):
        review.approve(store, accounts, victim_report, "rita", review.Reconcile("new"))
    accident = review.approve(store, accounts, accident_report, "rita", review.Reconcile("new"))
    victim = review.approve(store, accounts, victim_report, "rita", review.Reconcile("new"))
    assert victim.record_id is not None
    assert store.get(victim.record_id).attributes["accident_id"] == accident.record_id
    record = store.get(str(accident.record_id))
    assert record.attributes["device"] == "PMN-2"
    assert '"instance_id": "uuid:4d0b8f0e-0006' in str(record.attributes["extra"])


def test_organisation_ids_become_names_and_attachments_are_listed(
    programme: tuple[Store, Accounts, str], tmp_path: Path
) -> None:
    store, accounts, location = programme
    export = tmp_path / "clearance.zip"
    export.write_bytes(central_csv_zip(KINDS["clearance"], [ANSWERS["clearance"]]))
    summary = import_submissions(store, accounts, location, export, "clearance", "team7", today=TODAY)
    report = accounts.submission(summary.reports[0])
    assert report.layer == "activities" and report.organisation == "Demining Team Kharkiv"
    assert report.payload["attributes"]["activity_type"] == "clearance"
    assert "1714631234567.jpg" in report.payload["attributes"]["extra"]
    assert "LINESTRING" in report.payload["attributes"]["extra"]
    finds_ = [accounts.submission(i) for i in summary.reports if accounts.submission(i).layer == "finds"]
    assert [f.payload["attributes"]["ordnance_model"] for f in finds_] == ["PMN-2", "PMN-2"]
    assert all(f.payload["attributes"]["hazard_id"] == "HZ-000001" for f in finds_)


def test_the_commands(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from landrelease.cli import app

    db = str(tmp_path / "p.gpkg")
    runner = CliRunner()
    assert runner.invoke(app, ["--db", db, "init"]).exit_code == 0
    made = runner.invoke(app, ["--db", db, "forms", "xlsform", "eore", str(tmp_path / "eore.xlsx"), "--lang", "uk"])
    assert made.exit_code == 0 and (tmp_path / "eore.xlsx").exists()
    bad = runner.invoke(app, ["--db", db, "forms", "xlsform", "survey", str(tmp_path / "x.xlsx")])
    assert bad.exit_code == 2 and "no form called 'survey'" in bad.stderr
    export = tmp_path / "eore.json"
    export.write_bytes(kobo_json(KINDS["eore"], [ANSWERS["eore"]]))
    run = runner.invoke(app, ["--db", db, "import", "submissions", str(export), "--form", "eore", "--json"])
    assert run.exit_code == 0, run.stderr
    assert '"imported": 1' in run.stdout and '"duplicates": 0' in run.stdout
    missing = runner.invoke(app, ["--db", db, "import", "submissions", str(export)])
    assert missing.exit_code == 2 and "needs --form" in missing.stderr
    template = tmp_path / "minefields.xlsx"
    assert runner.invoke(app, ["--db", db, "forms", "minefield-template", str(template)]).exit_code == 0
    run = runner.invoke(app, ["--db", db, "import", "minefields", str(template), "--json"])
    assert run.exit_code == 0 and '"imported": 1' in run.stdout


def test_an_organisation_id_past_a_million_becomes_its_name(tmp_path: Path) -> None:
    import sqlite3

    location = str(tmp_path / "big.gpkg")
    with sqlite3.connect(open_store(location, create=True).location) as conn:  # a million records made before
        conn.execute("INSERT OR REPLACE INTO lr_counters (layer, last_number) VALUES ('organisations', 999999)")
    with open_store(location) as store:
        (team,) = store.add("organisations", [NewFeature({"name": "Team 1,000,000", "kind": "operator"})], ANNA)
        assert team == "OR-1000000"
        store.add("hazards", [NewFeature({"hazard_class": "SHA", "status": "active"}, HAZARD)], ANNA)
        accounts = open_accounts(location)
        try:
            given = ANSWERS["clearance"]
            answers = replace(given, values={**given.values, "activity/organisation": team})
            export = tmp_path / "clearance.zip"
            export.write_bytes(central_csv_zip(KINDS["clearance"], [answers]))
            summary = import_submissions(store, accounts, location, export, "clearance", "team7", today=TODAY)
            assert accounts.submission(summary.reports[0]).organisation == "Team 1,000,000"
        finally:
            accounts.close()


def test_the_hazard_id_constraint_takes_ids_past_a_million() -> None:
    import re

    form = build_xlsform(KINDS["clearance"], ("en",))
    (row,) = [r for r in form.survey if r["name"] == "hazard_id"]
    pattern = re.fullmatch(r"regex\(\., '(.*)'\)", row["constraint"])
    assert pattern is not None
    accepts = re.compile(pattern.group(1))  # XPath regular expressions read these the same way
    assert [bool(accepts.match(i)) for i in ("HZ-000042", "HZ-1000000", "HZ-12345678")] == [True] * 3
    assert [bool(accepts.match(i)) for i in ("HZ-42", "HZ-0000042", "HZ-1000000x", "OC-000001")] == [False] * 4
