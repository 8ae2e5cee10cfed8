"""PostGIS backend at national scale, each figure beside a baseline measured in the same run:

- bulk ``add`` of 100,000 hazard polygons, against a plain COPY of the same WKB and attributes into a bare
  table (the issue's baseline) and against a COPY of the same rows into the store's own tables;
- "is this place in a hazardous area?" for 1,000,000 places (``polygons_at``) on PostGIS and on a
  GeoPackage, against a plain shapely STRtree over the same polygons held in memory;
- the land release report by admin area (100,000 hazards, 300,000 outcomes, stored ledger current) on
  PostGIS and on a GeoPackage, against a plain SQL sum of the stored figures by admin area.

Needs a PostgreSQL server with PostGIS (``--admin-url``, default the local cluster as user postgres); makes
throwaway databases and drops them at the end. Prints one JSON object; ``--part`` runs one part.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import psycopg
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.bench_report import KINDS
from benchmarks.common import synthetic_programme, timed
from landrelease.actions.release import refresh_ledger
from landrelease.analysis.land_release import land_release_report
from landrelease.domain.records import Change, NewFeature
from landrelease.store import Store, open_store
from landrelease.store.postgis.store import PostGISStore


def polygons(count: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(22, 40, count), rng.uniform(44, 52, count)
    size = rng.uniform(0.0005, 0.02, count)
    return shapely.box(x, y, x + size, y + size * 0.7)


def _copy_into_store_tables(url: str, ewkb: np.ndarray, statuses: np.ndarray) -> float:
    """Seconds to COPY the same rows straight into the store's own tables (layer and history, indexes and
    triggers as the schema makes them) of a second, empty database on the same server: what writing the same
    data costs without the store's checks, ids and bookkeeping."""
    open_store(url, create=True).close()
    at = "2026-01-01T00:00:00+00:00"

    def copy() -> None:
        with psycopg.connect(url, autocommit=True) as conn, conn.transaction(), conn.cursor() as cursor:
            columns = "id, version, updated_at, updated_by, name, hazard_class, status, operator, geom"
            with cursor.copy(f"COPY hazards ({columns}) FROM STDIN") as copy:
                for i, (g, s) in enumerate(zip(ewkb, statuses, strict=True)):
                    copy.write_row((f"HZ-{i + 1:06d}", 1, at, "bench", f"H{i}", "SHA", str(s), "HALO", g))
            columns = "record_id, layer, version, action, changed_at, author, reason, attributes, geom"
            with cursor.copy(f"COPY lr_history ({columns}) FROM STDIN") as copy:
                for i, (g, s) in enumerate(zip(ewkb, statuses, strict=True)):
                    document = json.dumps(
                        {"name": f"H{i}", "hazard_class": "SHA", "status": str(s), "operator": "HALO"}
                    )
                    copy.write_row((f"HZ-{i + 1:06d}", "hazards", 1, "create", at, "bench", "bulk load", document, g))

    seconds, _ = timed(copy)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--places", type=int, default=1_000_000)
    parser.add_argument("--part", choices=("add", "places", "report", "all"), default="all")
    args = parser.parse_args()
    name = f"landrelease_bench_{os.getpid()}"
    result: dict[str, object] = {}
    try:
        if args.part in ("add", "all"):
            result["bulk_add"] = bulk_add(args.admin_url, name, args.count)
        if args.part in ("places", "report", "all"):
            result.update(national(args.admin_url, f"{name}_national", args.count, args.places, args.part))
    finally:
        with psycopg.connect(args.admin_url, autocommit=True) as admin:
            for suffix in ("", "_direct", "_national"):
                admin.execute(f'DROP DATABASE IF EXISTS "{name}{suffix}" WITH (FORCE)')
    print(json.dumps(result, indent=2))


def bulk_add(admin_url: str, name: str, count: int) -> dict[str, object]:
    """``store.add`` of ``count`` polygons against plain COPYs of the same data."""
    url = f"{admin_url.rpartition('/')[0]}/{name}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        admin.execute(f'CREATE DATABASE "{name}_direct"')
    shapes = polygons(count)
    statuses = np.array(["active", "worked_on", "closed"])[np.arange(count) % 3]
    features = [
        NewFeature({"name": f"H{i}", "hazard_class": "SHA", "status": str(s), "operator": "HALO"}, g)
        for i, (g, s) in enumerate(zip(shapes, statuses, strict=True))
    ]
    store = open_store(url, create=True)
    assert isinstance(store, PostGISStore)
    add_s, ids = timed(lambda: store.add("hazards", features, Change("bench", "bulk load")))
    read_s, _ = timed(lambda: store.columns("hazards", ["status"]), repeat=3)
    bbox_s, found = timed(lambda: list(store.features("hazards", (30, 48, 30.5, 48.5))), repeat=3)
    store.close()

    ewkb = shapely.to_wkb(
        shapely.set_srid(shapely.multipolygons(shapes.reshape(-1, 1)), 4326), hex=True, include_srid=True
    )

    def plain_copy() -> None:
        with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
            conn.execute("DROP TABLE IF EXISTS bare")
            conn.execute(
                "CREATE TABLE bare (id text, name text, hazard_class text, status text, operator text, "
                "geom geometry(MultiPolygon, 4326))"
            )
            with conn.cursor() as cursor, cursor.copy("COPY bare FROM STDIN") as copy:
                for i, (g, s) in enumerate(zip(ewkb, statuses, strict=True)):
                    copy.write_row((f"HZ-{i + 1:06d}", f"H{i}", "SHA", str(s), "HALO", g))

    copy_s, _ = timed(plain_copy)
    tables_s = _copy_into_store_tables(f"{url}_direct", ewkb, statuses)
    return {
        "polygons": count,
        "store_add_s": round(add_s, 2),
        "plain_copy_s": round(copy_s, 2),
        "ratio": round(add_s / copy_s, 2),
        "store_tables_copy_s": round(tables_s, 2),
        "ratio_to_store_tables": round(add_s / tables_s, 2),
        "added": len(ids),
        "columns_read_s": round(read_s, 2),
        "bbox_features_s": round(bbox_s, 3),
        "bbox_found": len(found),
    }


def national(admin_url: str, name: str, count: int, n_places: int, part: str) -> dict[str, object]:
    """The synthetic national programme in PostGIS and in a GeoPackage: places and the report by admin area."""
    url = f"{admin_url.rpartition('/')[0]}/{name}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    hazards, outcomes, hid, kind = synthetic_programme(count)
    areas = [f"AD-{k:02d}" for k in range(1, 25)]
    out: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as folder:
        stores = {
            "postgis": open_store(url, create=True),
            "geopackage": open_store(f"{folder}/national.gpkg", create=True),
        }
        for store in stores.values():
            _programme(store, hazards, outcomes, hid, kind, areas)
        if part in ("places", "all"):
            out["places"] = _places(stores, hazards, n_places)
        if part in ("report", "all"):
            out["report_by_admin"] = _report(stores, url)
        for store in stores.values():
            store.close()
    return out


def _programme(
    store: Store, hazards: np.ndarray, outcomes: np.ndarray, hid: np.ndarray, kind: np.ndarray, areas: list[str]
) -> None:
    change = Change("benchmark", "synthetic programme")
    ids = store.add(
        "hazards",
        [
            NewFeature({"hazard_class": "SHA", "status": "active", "admin_area": areas[i % len(areas)]}, g)
            for i, g in enumerate(hazards)
        ],
        change,
    )
    store.add(
        "outcomes",
        [
            NewFeature(
                {"hazard_id": ids[h], "kind": KINDS[k], "release_date": f"{2022 + n % 4}-{1 + n % 12:02d}-01"}, g
            )
            for n, (h, k, g) in enumerate(zip(hid.tolist(), kind.tolist(), outcomes, strict=True))
        ],
        change,
    )
    refresh_ledger(store)


def _places(stores: dict[str, Store], hazards: np.ndarray, n_places: int) -> dict[str, object]:
    """A million places: nine in ten anywhere in the programme's extent, one in ten near a hazard."""
    rng = np.random.default_rng(3)
    x0, y0, x1, y1 = shapely.total_bounds(hazards)
    places = np.column_stack([rng.uniform(x0, x1, n_places), rng.uniform(y0, y1, n_places)])
    near = rng.random(n_places) < 0.1
    centres = shapely.get_coordinates(shapely.centroid(hazards))[rng.integers(0, len(hazards), int(near.sum()))]
    places[near] = centres + rng.normal(0, 0.003, centres.shape)
    figures: dict[str, object] = {"places": n_places, "hazards": len(hazards)}
    answers = {}
    for backend, store in stores.items():
        seconds, answers[backend] = timed(lambda store=store: store.polygons_at("hazards", places), repeat=2)  # type: ignore[misc]
        figures[f"{backend}_s"] = round(seconds, 2)

    def strtree() -> np.ndarray:
        found: np.ndarray = shapely.STRtree(hazards).query(shapely.points(places), predicate="intersects")
        return found

    baseline_s, pairs = timed(strtree, repeat=2)
    figures["baseline_strtree_s"] = round(baseline_s, 2)
    figures["pairs"] = int(pairs.shape[1])
    for backend in stores:
        figures[f"{backend}_ratio"] = round(float(figures[f"{backend}_s"]) / baseline_s, 2)  # type: ignore[arg-type]
    postgis, geopackage = answers["postgis"], answers["geopackage"]
    figures["same_answer"] = bool(
        np.array_equal(postgis[0], geopackage[0]) and postgis[1] == geopackage[1] and len(postgis[1]) == pairs.shape[1]
    )
    return figures


def _report(stores: dict[str, Store], url: str) -> dict[str, object]:
    figures: dict[str, object] = {}
    totals = {}
    for backend, store in stores.items():
        seconds, report = timed(lambda store=store: land_release_report(store, "admin"), repeat=3)  # type: ignore[misc]
        figures[f"{backend}_s"] = round(seconds, 2)
        totals[backend] = (report.totals.estimated_m2, report.totals.remaining_m2, len(report.groups))

    def plain_sql() -> list[tuple[object, ...]]:
        with psycopg.connect(url) as conn:
            return conn.execute(
                "SELECT admin_area, count(*), sum(estimated_m2), sum(cancelled_m2), sum(reduced_m2), "
                "sum(cleared_m2), sum(remaining_m2) FROM hazards GROUP BY admin_area"
            ).fetchall()

    baseline_s, rows = timed(plain_sql, repeat=3)
    figures["baseline_sql_group_by_s"] = round(baseline_s, 3)
    figures["postgis_ratio"] = round(float(figures["postgis_s"]) / baseline_s, 1)  # type: ignore[arg-type]
    figures["groups"] = totals["postgis"][2]
    figures["same_totals"] = bool(np.allclose(totals["postgis"][:2], totals["geopackage"][:2], rtol=1e-9))
    figures["sql_groups"] = len(rows)
    return figures


if __name__ == "__main__":
    main()
