"""50 editors at once on a few shared hazards, through the HTTP API on loopback (uvicorn), on both stores:
every stale edit is a 409 and is retried on the new version, no write is lost or invented, the ledger stays
consistent, and nothing deadlocks (the run ends within its bound). The workload and the checks are the
benchmark's (``benchmarks/bench_editors.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from benchmarks.bench_editors import editor_tokens, passed, programme, run_editors, served, verify, warm

from landrelease.store import open_store
from tests.conftest import PostGISDatabase

EDITORS = 50
SHARED = 8
SECONDS = 5.0


@pytest.fixture(params=["gpkg", "postgresql"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "gpkg":
        yield str(tmp_path / "editors.gpkg")
        return
    database: PostGISDatabase = request.getfixturevalue("postgis_database")
    url = database.fresh_schema()
    try:
        yield url
    finally:
        database.drop_schema(url)


@pytest.mark.slow
def test_fifty_editors_lose_nothing(location: str) -> None:
    with open_store(location, create=True) as store:
        ids = programme(store, 30)
        tokens = editor_tokens(location, EDITORS)
        shared = ids[:SHARED]
        start_versions = {h: store.get(h).version for h in shared}
        with served(location) as base:
            warm(base, tokens[0], shared)
            # At least two edits each, whatever the machine's load: conflicts are then certain in practice.
            tally = run_editors(base, tokens, shared, SECONDS, at_least=2)
            checks = verify(store, base, tokens[0], start_versions, tally)
    assert tally.errors == []  # no 5xx, no other refusal, no editor still waiting after the bound
    assert tally.gave_up == 0
    # Fifty editors on eight records at once: conflicts must happen, and writes must still get through.
    assert tally.conflicts > 0 and len(tally.written) >= 2 * EDITORS
    assert checks["lost_writes"] == [] and checks["history_gaps"] == []
    assert passed(checks), checks
    # Every 200 is a distinct version: no two editors were told they wrote the same version of a record.
    assert len(set((hazard, version) for hazard, version, _ in tally.written)) == len(tally.written)
