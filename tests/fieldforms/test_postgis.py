"""Done when, on PostGIS too: a form generated and converted with pyxform, its export ingested into the
review queue of a PostGIS database, approved, and the national figures change; a bad one waits for correction."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from landrelease.accounts import Accounts, open_accounts
from landrelease.actions import review
from landrelease.actions.field_submissions import import_submissions
from landrelease.domain.records import NewFeature
from landrelease.fieldforms.instances import open_form_instances
from landrelease.fieldforms.kinds import KINDS
from landrelease.fieldforms.xlsform import FormContext, build_xlsform, write_xlsform
from landrelease.store import Store, open_store
from tests.conftest import PostGISDatabase
from tests.fieldforms.exports import Answers, kobo_json
from tests.fieldforms.test_ingest import ANNA, ANSWERS, EXPORTS, HAZARD, TODAY, national_figures


@pytest.fixture
def programme(postgis_database: PostGISDatabase) -> Iterator[tuple[Store, Accounts, str]]:
    location = postgis_database.fresh_schema()
    store = open_store(location, create=True)
    store.add("organisations", [NewFeature({"name": "Demining Team Kharkiv", "kind": "operator"})], ANNA)
    store.add("hazards", [NewFeature({"hazard_class": "SHA", "status": "active"}, HAZARD)], ANNA)
    accounts = open_accounts(location)
    yield store, accounts, location
    accounts.close()
    store.close()
    postgis_database.drop_schema(location)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("clearance", {"cleared_m2", "remaining_m2", "activities", "finds"}),
        ("accident", {"accidents", "victims"}),
        ("eore", {"eore", "beneficiaries"}),
    ],
)
def test_a_form_on_postgis_is_ingested_approved_and_changes_the_national_figures(
    name: str, expected: set[str], tmp_path: Path, programme: tuple[Store, Accounts, str]
) -> None:
    store, accounts, location = programme
    kind = KINDS[name]
    form = tmp_path / f"{name}.xlsx"
    write_xlsform(build_xlsform(kind, ("en", "uk"), FormContext(organisations=[("OR-000001", "Demining Team")])), form)
    xform = tmp_path / f"{name}.xml"
    run = subprocess.run(
        [str(Path(sys.executable).parent / "xls2xform"), str(form), str(xform)], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr + run.stdout

    suffix, make = EXPORTS[name]
    export = tmp_path / f"{name}-export.{suffix}"
    export.write_bytes(make(kind, ANSWERS[name]))
    before = national_figures(store)
    summary = import_submissions(store, accounts, location, export, name, "team7", today=TODAY)
    assert (summary.imported, summary.rejected, summary.duplicates) == (1, 0, 0), summary.as_dict()
    assert national_figures(store) == before, "a submission never writes the national record"
    for report_id in summary.reports:
        approved = review.approve(store, accounts, report_id, "rita", review.Reconcile("new"))
        assert approved.status == "approved" and approved.record_id
    after = national_figures(store)
    assert expected <= {k for k in after if after[k] != before[k]}, (before, after)

    again = import_submissions(store, accounts, location, export, name, "team7", today=TODAY)
    assert (again.imported, again.rejected, again.duplicates) == (0, 0, 1)


def test_a_bad_submission_waits_on_postgis_until_corrected(
    tmp_path: Path, programme: tuple[Store, Accounts, str]
) -> None:
    store, accounts, location = programme
    good = ANSWERS["clearance"]
    bad = Answers("uuid:bad-1", {**good.values, "activity/end_date": "2031-01-01"}, good.repeats)
    export = tmp_path / "clearance.json"
    export.write_bytes(kobo_json(KINDS["clearance"], [bad]))
    summary = import_submissions(store, accounts, location, export, "clearance", "team7", today=TODAY)
    assert (summary.imported, summary.rejected) == (0, 1)
    ledger = open_form_instances(location)
    try:
        [waiting] = ledger.needing_correction("clearance")
        assert (
            waiting.instance_id == "uuid:bad-1" and waiting.reason == "activity: end_date 2031-01-01 is in the future"
        )
        fixed = Answers("uuid:bad-1", good.values, good.repeats)
        export.write_bytes(kobo_json(KINDS["clearance"], [fixed]))
        again = import_submissions(store, accounts, location, export, "clearance", "team7", today=TODAY)
        assert (again.imported, again.rejected) == (1, 0)
        assert ledger.needing_correction() == []
    finally:
        ledger.close()
