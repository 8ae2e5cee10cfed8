"""The instance ledger contract (``landrelease.fieldforms.instances.FormInstanceStore``): the same on every
backend of tests/accounts/conftest.BACKENDS. Only the protocol is used, except to upgrade an older PostGIS."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from landrelease.errors import StoreError
from landrelease.fieldforms.instances import (
    NEEDS_CORRECTION,
    SUBMITTED,
    FormInstanceStore,
    SeenInstance,
    open_form_instances,
)
from landrelease.store import open_store
from tests.accounts.conftest import BACKENDS
from tests.conftest import PostGISDatabase


@pytest.fixture(params=sorted(BACKENDS))
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    made = BACKENDS[request.param](request, tmp_path)
    open_store(made, create=True).close()
    return made


@pytest.fixture
def ledger(location: str) -> Iterator[FormInstanceStore]:
    opened = open_form_instances(location)
    yield opened
    opened.close()


def instance(n: int, status: str = NEEDS_CORRECTION, form: str = "clearance") -> SeenInstance:
    """An instance as the import keeps it: answers beyond ASCII, in their order, nested."""
    answers = {
        "index": n,
        "version": "2025060101",
        "values": {"activity/team": "Команда «Північ» 7", "activity/hazard_id": "", "z_first": "1", "a_last": "2"},
        "repeats": {"finds": [{"quantity": "2", "location": "49.85 36.30 150 4"}]},
        "attachments": ["1714631234567.jpg"],
    }
    reason = None if status == SUBMITTED else f"activity: hazard_id is required but not answered ({n})"
    reports = [f"SB-{n:06d}"] if status == SUBMITTED else []
    return SeenInstance(f"uuid:00000000-0000-4000-8000-{n:012d}", form, "2025060101", status, reason, reports, answers)


def same(a: SeenInstance, b: SeenInstance) -> bool:
    return replace(a, updated_at=None) == replace(b, updated_at=None)


def test_what_is_kept_is_seen_again_whole_even_from_another_connection(
    ledger: FormInstanceStore, location: str
) -> None:
    kept = instance(1)
    ledger.keep(kept)
    ledger.keep(instance(2, SUBMITTED))
    other = open_form_instances(location)
    try:
        found = other.seen([kept.instance_id, "uuid:never-seen", instance(2).instance_id])
    finally:
        other.close()
    assert set(found) == {kept.instance_id, instance(2).instance_id}
    assert same(found[kept.instance_id], kept)
    assert list(found[kept.instance_id].answers["values"]) == [
        "activity/team",
        "activity/hazard_id",
        "z_first",
        "a_last",
    ]
    assert found[kept.instance_id].updated_at is not None and found[kept.instance_id].updated_at.tzinfo is not None
    assert found[instance(2).instance_id].reports == ["SB-000002"]
    assert ledger.seen([]) == {}


def test_keeping_again_replaces_and_a_corrected_instance_leaves_the_correction_queue(
    ledger: FormInstanceStore,
) -> None:
    ledger.keep(instance(1))
    ledger.keep(instance(2))
    assert [s.instance_id for s in ledger.needing_correction()] == [instance(1).instance_id, instance(2).instance_id]
    ledger.keep(instance(1, SUBMITTED))
    assert [s.instance_id for s in ledger.needing_correction()] == [instance(2).instance_id]
    assert ledger.seen([instance(1).instance_id])[instance(1).instance_id].status == SUBMITTED
    # Failing again moves it to the back of the queue: the longest waiting come first.
    ledger.keep(instance(3))
    ledger.keep(instance(2))
    assert [s.instance_id for s in ledger.needing_correction()] == [instance(3).instance_id, instance(2).instance_id]


def test_the_correction_queue_by_form(ledger: FormInstanceStore) -> None:
    ledger.keep(instance(1, form="clearance"))
    ledger.keep(instance(2, form="eore"))
    ledger.keep(instance(3, SUBMITTED, form="eore"))
    assert [s.form for s in ledger.needing_correction("eore")] == ["eore"]
    assert [s.form for s in ledger.needing_correction("clearance")] == ["clearance"]
    assert ledger.needing_correction("qa") == []
    assert sorted(s.form for s in ledger.needing_correction()) == ["clearance", "eore"]


def test_many_ids_at_once(ledger: FormInstanceStore) -> None:
    for n in range(1, 1203, 100):
        ledger.keep(instance(n, SUBMITTED))
    asked = [instance(n).instance_id for n in range(1, 1203)]
    assert sorted(ledger.seen(asked)) == sorted(instance(n).instance_id for n in range(1, 1203, 100))


def test_a_nul_in_an_answer_is_kept_and_an_id_with_one_matches_nothing(ledger: FormInstanceStore) -> None:
    odd = replace(instance(1), answers={"values": {"activity/team": "Team\x007"}})
    ledger.keep(odd)
    assert ledger.seen([odd.instance_id])[odd.instance_id].answers == {"values": {"activity/team": "Team\x007"}}
    assert ledger.seen(["uuid:\x00"]) == {}


def test_closed_ledger_says_so(location: str) -> None:
    ledger = open_form_instances(location)
    ledger.close()
    with pytest.raises(StoreError, match="is closed"):
        ledger.needing_correction()


def test_an_older_postgis_database_is_upgraded_on_open(postgis_database: PostGISDatabase) -> None:
    """PostGIS only: its tables come with numbered migrations (the GeoPackage makes its table on first use)."""
    import psycopg

    from landrelease.store.postgis import schema

    location = postgis_database.fresh_schema()
    open_store(location, create=True).close()
    with psycopg.connect(location, autocommit=True) as conn:  # as a database written by schema version 2
        conn.execute("DROP TABLE lr_form_instances")
        conn.execute("UPDATE lr_meta SET value = 2 WHERE key = 'schema_version'")
    ledger = open_form_instances(location)
    try:
        ledger.keep(instance(1))
        assert [s.instance_id for s in ledger.needing_correction()] == [instance(1).instance_id]
    finally:
        ledger.close()
    with psycopg.connect(location, autocommit=True) as conn:
        row = conn.execute("SELECT value FROM lr_meta WHERE key = 'schema_version'").fetchone()
    postgis_database.drop_schema(location)
    assert row is not None and row[0] == schema.SCHEMA_VERSION >= 3
