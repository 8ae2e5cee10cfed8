"""What versioning edits made outside landrelease costs (``store/outside_edits.py``), on both stores.

For each store, with the outside-edit triggers (as shipped) and without them (the baseline: the same fresh
database with those triggers dropped, as schemas before GeoPackage 2 / PostGIS 4 had it), in the same run:

- ``add_s``: one ``add`` of ``--hazards`` hazards (the bulk path: GeoPackage drops the insert trigger for it,
  PostGIS keeps its AFTER trigger, whose WHEN clause never holds for our rows);
- ``small_adds_s``: 200 ``add`` calls of one hazard each (the per-row path, trigger present);
- ``load_s``: ``load`` of a dump of a ``--hazards`` GeoPackage (what migrate and restore do);
- ``outside_edits_s``: 1,000 status edits by another program (sqlite3 / psycopg) in one transaction: the
  triggers' own cost, each edit writing a version.

Variants alternate over ``--rounds`` rounds; the best time of each is reported with the ratio with/without.
Needs a PostgreSQL server with PostGIS (``--admin-url``) for the PostGIS half; prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import synthetic_programme, timed
from landrelease.domain.records import Change, NewFeature
from landrelease.domain.schema import LAYERS
from landrelease.store import open_store
from landrelease.store.geopackage import blob
from landrelease.store.geopackage import outside_edits as gpkg_outside
from landrelease.store.postgis import outside_edits as pg_outside

CHANGE = Change("bench", "national survey", datetime(2024, 1, 1, tzinfo=UTC))
EDITS = 1_000
SMALL_ADDS = 200


def _drop_gpkg_triggers(path: str) -> None:
    with sqlite3.connect(path) as conn:
        for layer in LAYERS.values():
            for name in gpkg_outside.triggers(layer):
                conn.execute(f'DROP TRIGGER IF EXISTS "{name}"')


def _drop_pg_triggers(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for layer in LAYERS.values():
            for name in pg_outside.triggers(layer):
                conn.execute(f'DROP TRIGGER IF EXISTS "{name}" ON "{layer.name}"')


def _outside_edits(location: str, ids: list[str]) -> None:
    if location.startswith("postgresql://"):
        with psycopg.connect(location) as server, server.cursor() as cursor:  # one transaction
            cursor.executemany("UPDATE hazards SET status = 'worked_on' WHERE id = %s", [(i,) for i in ids])
        return
    file = sqlite3.connect(location)
    blob.register_sql_functions(file)  # the R*Tree triggers' functions, as GDAL and QGIS have them
    with file:
        file.executemany("UPDATE hazards SET status = 'worked_on' WHERE id = ?", [(i,) for i in ids])
    file.close()


def _measure(
    fresh: Callable[[], str], drop: Callable[[str], None], features: list[NewFeature], source: str, triggers: bool
) -> dict[str, float]:
    """One round of one variant: each operation on a fresh database."""
    figures: dict[str, float] = {}
    location = fresh()
    with open_store(location, create=True) as store:
        if not triggers:
            drop(location)  # after opening: opening would make them again
        figures["add_s"], ids = timed(lambda: store.add("hazards", features, CHANGE))
        one = [NewFeature({"name": "one", "hazard_class": "SHA", "status": "active"}, features[0].geometry)]
        figures["small_adds_s"], _ = timed(lambda: [store.add("hazards", one, CHANGE) for _ in range(SMALL_ADDS)])
    figures["outside_edits_s"], _ = timed(lambda: _outside_edits(location, ids[:EDITS]))
    target = fresh()
    with open_store(source) as origin, open_store(target, create=True) as store:
        if not triggers:
            drop(target)
        figures["load_s"], _ = timed(lambda: store.load([origin.dump("hazards")], origin.ledger_state()))
    return figures


def _compare(
    fresh: Callable[[], str], drop: Callable[[str], None], features: list[NewFeature], source: str, rounds: int
) -> dict[str, Any]:
    best: dict[bool, dict[str, float]] = {True: {}, False: {}}
    for _ in range(rounds):
        for triggers in (False, True):
            for name, seconds in _measure(fresh, drop, features, source, triggers).items():
                best[triggers][name] = min(best[triggers].get(name, float("inf")), seconds)
    return {
        name: {
            "without_triggers": round(best[False][name], 3),
            "with_triggers": round(best[True][name], 3),
            "ratio": round(best[True][name] / best[False][name], 3),
        }
        for name in best[True]
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--hazards", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    hazards, _, _, _ = synthetic_programme(args.hazards)
    features = [
        NewFeature({"name": f"H{i}", "hazard_class": "SHA", "status": "active", "operator": "HALO"}, g)
        for i, g in enumerate(hazards)
    ]
    result: dict[str, Any] = {"benchmark": "outside-edit triggers", "hazards": args.hazards, "rounds": args.rounds}
    name = f"landrelease_bench_outside_{os.getpid()}"
    url = f"{args.admin_url.rpartition('/')[0]}/{name}"
    with tempfile.TemporaryDirectory() as work:
        source = str(Path(work) / "source.gpkg")
        with open_store(source, create=True) as store:
            store.add("hazards", features, CHANGE)
        files = iter(range(10**6))

        def fresh_file() -> str:
            return str(Path(work) / f"fresh{next(files)}.gpkg")

        result["geopackage"] = _compare(fresh_file, _drop_gpkg_triggers, features, source, args.rounds)
        with psycopg.connect(args.admin_url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        try:
            schemas = iter(range(10**6))

            def fresh_schema() -> str:
                schema = f"bench_{next(schemas)}"
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute("CREATE EXTENSION IF NOT EXISTS postgis SCHEMA public")
                    conn.execute(f'CREATE SCHEMA "{schema}"')
                return f"{url}?options=-csearch_path%3D{schema}%2Cpublic"

            result["postgis"] = _compare(fresh_schema, _drop_pg_triggers, features, source, args.rounds)
        finally:
            with psycopg.connect(args.admin_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
