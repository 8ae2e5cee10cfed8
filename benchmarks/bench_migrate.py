"""``migrate`` of a synthetic national programme, GeoPackage -> PostGIS, against a plain COPY of the same rows.

The programme: ``--hazards`` hazards (default 100,000) with three outcomes each, a tenth of the hazards edited
once more (a second version) and one in a hundred retired, so histories are not all single versions. The
migrate moves every version (history rows) and every current record. The baseline, in the same run and on the
same server: the same rows (history and current, with the geometries already as hex EWKB) written with one
``COPY`` each into bare tables, i.e. the cost of writing the data without reading, checking or dumping it.

Needs a PostgreSQL server with PostGIS (``--admin-url``); makes a throwaway database and drops it at the end.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import synthetic_programme, timed
from landrelease.actions.transfer import migrate
from landrelease.domain.records import Change, NewFeature
from landrelease.store import open_store
from landrelease.store.geopackage import history


def build(path: Path, hazards_count: int) -> None:
    hazards, outcomes, hid, kind = synthetic_programme(hazards_count)
    kinds = ["cancelled", "reduced", "cleared"]
    with open_store(str(path), create=True) as store:
        change = Change("bench", "national survey", datetime(2024, 1, 1, tzinfo=UTC))
        ids = store.add(
            "hazards",
            [
                NewFeature({"name": f"H{i}", "hazard_class": "CHA", "status": "active"}, g)
                for i, g in enumerate(hazards)
            ],
            change,
        )
        store.add(
            "outcomes",
            [
                NewFeature({"hazard_id": ids[h], "kind": kinds[k]}, g)
                for h, k, g in zip(hid.tolist(), kind.tolist(), outcomes, strict=True)
                if not g.is_empty
            ],
            change,
        )
        edit = Change("bench", "technical survey", datetime(2024, 6, 1, tzinfo=UTC))
        for record_id in ids[::10]:
            store.update(record_id, edit, {"status": "worked_on"})
        for record_id in ids[5::100]:
            store.retire(record_id, Change("bench", "duplicate", datetime(2024, 7, 1, tzinfo=UTC)))


def plain_copy(url: str, source: Path) -> float:
    """Seconds to COPY the same history and current rows (read beforehand, not timed) into bare tables."""
    import sqlite3

    with sqlite3.connect(source) as conn:
        rows = conn.execute(
            "SELECT record_id, layer, version, action, changed_at, author, reason, attributes, geom FROM lr_history"
        ).fetchall()
        current = {
            layer: conn.execute(f"SELECT id, version, updated_at, updated_by, geom FROM {layer}").fetchall()
            for layer in ("hazards", "outcomes")
        }

    def hex_ewkb(blobs: list[bytes | None]) -> list[str | None]:
        from landrelease.store.geopackage import blob

        shapes = blob.decode_many(blobs)
        return list(shapely.to_wkb(shapely.set_srid(shapes, 4326), hex=True, include_srid=True))

    history_geoms = hex_ewkb([r[8] for r in rows])
    current_geoms = {layer: hex_ewkb([r[4] for r in found]) for layer, found in current.items()}
    assert history.COLUMNS[-1] == "geom"

    def write() -> None:
        with psycopg.connect(url, autocommit=True) as conn, conn.transaction(), conn.cursor() as cursor:
            cursor.execute(
                "CREATE TABLE bare_history (record_id text, layer text, version int, action text, changed_at "
                "timestamptz, author text, reason text, attributes jsonb, geom geometry(Geometry, 4326))"
            )
            with cursor.copy("COPY bare_history FROM STDIN") as copy:
                for row, geom in zip(rows, history_geoms, strict=True):
                    copy.write_row((*row[:8], geom))
            for layer, found in current.items():
                cursor.execute(
                    f"CREATE TABLE bare_{layer} (id text, version int, updated_at timestamptz, updated_by text, "
                    "geom geometry(MultiPolygon, 4326))"
                )
                with cursor.copy(f"COPY bare_{layer} FROM STDIN") as copy:
                    for row, geom in zip(found, current_geoms[layer], strict=True):
                        copy.write_row((*row[:4], geom))

    seconds, _ = timed(write)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--hazards", type=int, default=100_000)
    args = parser.parse_args()
    name = f"landrelease_bench_migrate_{os.getpid()}"
    url = f"{args.admin_url.rpartition('/')[0]}/{name}"
    with psycopg.connect(args.admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        with tempfile.TemporaryDirectory() as work:
            source = Path(work) / "national.gpkg"
            build_s, _ = timed(lambda: build(source, args.hazards))
            migrate_s, moved = timed(lambda: migrate(str(source), url))
            back = Path(work) / "back.gpkg"
            back_s, _ = timed(lambda: migrate(url, str(back)))
            copy_s = plain_copy(url, source)
        versions = sum(moved.versions.values())
        print(
            json.dumps(
                {
                    "benchmark": "migrate GeoPackage -> PostGIS",
                    "hazards": args.hazards,
                    "current_records": sum(moved.records.values()),
                    "versions": versions,
                    "build_gpkg_s": round(build_s, 1),
                    "migrate_to_postgis_s": round(migrate_s, 2),
                    "plain_copy_s": round(copy_s, 2),
                    "ratio": round(migrate_s / copy_s, 2),
                    "versions_per_s": round(versions / migrate_s),
                    "migrate_back_to_gpkg_s": round(back_s, 2),
                },
                indent=2,
            )
        )
    finally:
        with psycopg.connect(args.admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
