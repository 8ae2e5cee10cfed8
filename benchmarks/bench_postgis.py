"""PostGIS backend: bulk ``add`` of 100,000 hazard polygons against a plain COPY of the same WKB (and the same
attribute values) into a bare table, in the same run and the same database; plus a columnar read.

Needs a PostgreSQL server with PostGIS (``--admin-url``, default the local cluster as user postgres); makes a
throwaway database and drops it at the end. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
import psycopg
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import timed
from landrelease.domain.records import Change, NewFeature
from landrelease.store import open_store
from landrelease.store.postgis.store import PostGISStore


def polygons(count: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(22, 40, count), rng.uniform(44, 52, count)
    size = rng.uniform(0.0005, 0.02, count)
    return shapely.box(x, y, x + size, y + size * 0.7)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--count", type=int, default=100_000)
    args = parser.parse_args()
    name = f"landrelease_bench_{os.getpid()}"
    url = f"{args.admin_url.rpartition('/')[0]}/{name}"
    with psycopg.connect(args.admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        shapes = polygons(args.count)
        statuses = np.array(["active", "worked_on", "closed"])[np.arange(args.count) % 3]
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
        print(
            json.dumps(
                {
                    "benchmark": "postgis bulk add",
                    "polygons": args.count,
                    "store_add_s": round(add_s, 2),
                    "plain_copy_s": round(copy_s, 2),
                    "ratio": round(add_s / copy_s, 2),
                    "added": len(ids),
                    "columns_read_s": round(read_s, 2),
                    "bbox_features_s": round(bbox_s, 3),
                    "bbox_found": len(found),
                },
                indent=2,
            )
        )
    finally:
        with psycopg.connect(args.admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
