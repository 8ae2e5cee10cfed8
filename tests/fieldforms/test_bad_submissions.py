"""Bad submissions: each refused with its own message, kept for correction, nothing of it half-imported."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from landrelease.accounts import Accounts, open_accounts
from landrelease.actions.field_submissions import import_submissions
from landrelease.domain.records import Change, NewFeature
from landrelease.errors import UnreadableFile, UnsafeFile
from landrelease.fieldforms.instances import open_form_instances
from landrelease.fieldforms.kinds import KINDS
from landrelease.store import Store, open_store
from tests.fieldforms.exports import Answers, kobo_json, odk_xml
from tests.fieldforms.test_ingest import ANSWERS, HAZARD, TODAY

CLEARANCE = KINDS["clearance"]


@pytest.fixture
def programme(tmp_path: Path) -> Iterator[tuple[Store, Accounts, str]]:
    location = str(tmp_path / "programme.gpkg")
    store = open_store(location, create=True)
    store.add("organisations", [NewFeature({"name": "Demining Team Kharkiv"})], Change("anna", "setup"))
    store.add("hazards", [NewFeature({"hazard_class": "SHA", "status": "active"}, HAZARD)], Change("anna", "setup"))
    accounts = open_accounts(location)
    yield store, accounts, location
    accounts.close()
    store.close()


def variant(n: int, **changes: str) -> Answers:
    good = ANSWERS["clearance"]
    values = {**good.values, **{k.replace("__", "/"): v for k, v in changes.items()}}
    return replace(good, instance_id=f"uuid:bad-{n}", values=values)


def test_each_bad_submission_has_its_own_message_and_the_good_one_goes_in(
    programme: tuple[Store, Accounts, str], tmp_path: Path
) -> None:
    store, accounts, location = programme
    cases = [
        ANSWERS["clearance"],
        variant(1, activity__hazard_id=""),
        variant(2, activity__boundary="49.85 36.30 0 0; 49.86 abc 0 0; 49.86 36.31 0 0; 49.85 36.30 0 0"),
        variant(3, activity__end_date="2031-01-01"),
        ANSWERS["clearance"],
        variant(4, activity__status="finished"),
    ]
    export = tmp_path / "clearance.json"
    export.write_bytes(kobo_json(CLEARANCE, cases))
    summary = import_submissions(store, accounts, location, export, "clearance", "team7", today=TODAY)
    assert (summary.imported, summary.rejected, summary.duplicates) == (1, 4, 1)
    reasons = {e.instance_id: e.reason for e in summary.errors}
    assert reasons["uuid:bad-1"] == "activity: hazard_id is required but not answered"
    assert reasons["uuid:bad-2"] == "activity: boundary: point 2 '49.86 abc 0 0' has something that is not a number"
    assert reasons["uuid:bad-3"] == "activity: end_date 2031-01-01 is in the future"
    assert reasons["uuid:bad-4"].startswith("activity: status: 'finished' is not one of planned")
    assert summary.skipped[0].reason == "the same instance id is earlier in this export"
    # Only the good submission's reports are in the queue: nothing of a refused one.
    assert len(accounts.submissions()) == len(summary.reports) == 4
    kept = open_form_instances(location)
    try:
        waiting = {s.instance_id: s for s in kept.needing_correction("clearance")}
    finally:
        kept.close()
    assert set(waiting) == {"uuid:bad-1", "uuid:bad-2", "uuid:bad-3", "uuid:bad-4"}
    assert waiting["uuid:bad-3"].answers["values"]["activity/end_date"] == "2031-01-01"

    # The corrected export comes back: the corrected one goes in, the good one is a duplicate.
    export.write_bytes(kobo_json(CLEARANCE, [ANSWERS["clearance"], variant(3)]))
    again = import_submissions(store, accounts, location, export, "clearance", "team7", today=TODAY)
    assert (again.imported, again.rejected, again.duplicates) == (1, 0, 1)
    assert "already in the review queue as SB-000001" in again.skipped[0].reason


def test_wrong_version_and_another_forms_export_are_refused(
    programme: tuple[Store, Accounts, str], tmp_path: Path
) -> None:
    store, accounts, location = programme
    old = tmp_path / "old.xml"
    old.write_bytes(odk_xml(CLEARANCE, ANSWERS["clearance"], version="1-0123456789"))
    summary = import_submissions(store, accounts, location, old, "clearance", "team7", today=TODAY)
    assert summary.errors[0].reason.startswith("made with version 1-0123456789 of the clearance form; the current")
    other = tmp_path / "eore.json"
    other.write_bytes(kobo_json(KINDS["eore"], [ANSWERS["eore"]]))
    summary = import_submissions(store, accounts, location, other, "clearance", "team7", today=TODAY)
    assert summary.errors[0].reason == "this is a submission of form 'landrelease_eore', not of landrelease_clearance"
    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps([{"meta/instanceID": "uuid:x1", "household/size": "4"}]))
    summary = import_submissions(store, accounts, location, foreign, "clearance", "team7", today=TODAY)
    assert "is this an export of another form?" in summary.errors[0].reason
    assert accounts.submissions() == []


def test_unreadable_and_unsafe_files(programme: tuple[Store, Accounts, str], tmp_path: Path) -> None:
    store, accounts, location = programme
    bomb = tmp_path / "bomb.xml"
    bomb.write_text('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">]><data id="x">&a;</data>')
    with pytest.raises(UnsafeFile, match="DTD"):
        import_submissions(store, accounts, location, bomb, "clearance", "team7", today=TODAY)
    broken = tmp_path / "broken.json"
    broken.write_text('{"results": [')
    with pytest.raises(UnreadableFile, match="is not JSON"):
        import_submissions(store, accounts, location, broken, "clearance", "team7", today=TODAY)
    with pytest.raises(UnreadableFile, match="no such file"):
        import_submissions(store, accounts, location, tmp_path / "nope.csv", "clearance", "team7", today=TODAY)


def test_the_corrections_command_lists_what_waits_with_its_reason(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from landrelease.cli import app

    db = str(tmp_path / "p.gpkg")
    runner = CliRunner()
    assert runner.invoke(app, ["--db", db, "init"]).exit_code == 0
    empty = runner.invoke(app, ["--db", db, "submissions", "corrections"])
    assert empty.exit_code == 0 and "no submissions waiting for correction" in empty.stderr
    export = tmp_path / "clearance.json"
    export.write_bytes(
        kobo_json(CLEARANCE, [variant(1, activity__hazard_id=""), variant(3, activity__end_date="2031-01-01")])
    )
    run = runner.invoke(app, ["--db", db, "import", "submissions", str(export), "--form", "clearance"])
    assert run.exit_code == 0 and "2 kept for correction" in run.stderr

    listed = runner.invoke(app, ["--db", db, "submissions", "corrections", "--form", "clearance"])
    assert listed.exit_code == 0, listed.output
    lines = listed.stdout.splitlines()
    assert [line.split()[:2] for line in lines] == [["uuid:bad-1", "clearance"], ["uuid:bad-3", "clearance"]]
    assert lines[0].endswith("activity: hazard_id is required but not answered")
    assert lines[1].endswith("activity: end_date 2031-01-01 is in the future")
    assert "2 submissions waiting for correction" in listed.stderr
    as_json = json.loads(runner.invoke(app, ["--db", db, "submissions", "corrections", "--json"]).stdout)
    assert as_json["count"] == 2 and as_json["submissions"][0]["answers"]["values"]["activity/hazard_id"] == ""
    other = runner.invoke(app, ["--db", db, "submissions", "corrections", "--form", "eore"])
    assert other.exit_code == 0 and "no eore submissions waiting" in other.stderr
    bad = runner.invoke(app, ["--db", db, "submissions", "corrections", "--form", "survey"])
    assert bad.exit_code == 2 and "no form called 'survey'" in bad.stderr
    nowhere = runner.invoke(app, ["--db", str(tmp_path / "typo.gpkg"), "submissions", "corrections"])
    assert nowhere.exit_code != 0 and "no database at" in nowhere.stderr
