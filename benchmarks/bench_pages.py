"""One page of ``GET /api/hazards`` at 100,000 hazards: ``Store.page`` (the database filters, counts and slices)
against the way the list route read before, measured in the same run: the filter columns of the whole layer
read and compared in Python, ``features(bbox)`` for a bounding box, then ``get`` per record of the page.

GeoPackage always; PostGIS too when ``--admin-url`` reaches a server (a throwaway database, dropped at the
end). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Mapping
from functools import partial
from pathlib import Path

import numpy as np
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import synthetic_programme, timed
from landrelease.domain.records import Change, Feature, NewFeature
from landrelease.store import Store, open_store

CHANGE = Change("bench", "page benchmark")
Box = tuple[float, float, float, float]
#: (name, equals, bbox, offset): a first page, a deep page, a status filter, a class filter in a region.
QUERIES: list[tuple[str, dict[str, str], Box | None, int]] = [
    ("first page", {}, None, 0),
    ("page at offset 50,000", {}, None, 50_000),
    ("status=worked_on", {"status": "worked_on"}, None, 0),
    ("hazard_class=CHA in a 1x1 degree bbox", {"hazard_class": "CHA"}, (30.0, 48.0, 31.0, 49.0), 0),
]
LIMIT = 100


def fill(store: Store, count: int) -> None:
    hazards, *_ = synthetic_programme(count)
    rng = np.random.default_rng(3)
    classes = rng.choice(["SHA", "CHA", "EOD"], count)
    statuses = rng.choice(["active", "worked_on", "closed", "handed_over"], count)
    store.add(
        "hazards",
        [
            NewFeature({"name": f"H{i}", "hazard_class": str(c), "status": str(s)}, g)
            for i, (c, s, g) in enumerate(zip(classes, statuses, hazards, strict=True))
        ],
        CHANGE,
    )


def before(store: Store, equals: Mapping[str, str], bbox: Box | None, offset: int) -> tuple[list[Feature], int]:
    """The list route's read before ``Store.page`` (whole columns, filtered and sliced in Python)."""
    ids, _, columns = store.columns("hazards", list(equals), geometry=False)
    keep = np.ones(len(ids), dtype=bool)
    for name, wanted in equals.items():
        keep &= np.array([v == wanted for v in columns[name]], dtype=bool)
    selected = [i for i, k in zip(ids, keep, strict=True) if k]
    if bbox is not None:
        inside = {f.id for f in store.features("hazards", bbox)}
        selected = [i for i in selected if i in inside]
    return [store.get(i) for i in selected[offset : offset + LIMIT]], len(selected)


def measure(store: Store) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for name, equals, bbox, offset in QUERIES:
        old = partial(before, store, equals, bbox, offset)
        new = partial(store.page, "hazards", equals=equals, bbox=bbox, limit=LIMIT, offset=offset)
        old_s, old_page = timed(old, repeat=3)
        new_s, new_page = timed(new, repeat=3)
        assert [f.id for f in old_page[0]] == [f.id for f in new_page[0]] and old_page[1] == new_page[1]
        rows.append(
            {
                "query": name,
                "matched": new_page[1],
                "before_ms": round(old_s * 1000, 1),
                "page_ms": round(new_s * 1000, 1),
                "speedup": round(old_s / new_s, 1),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    result: dict[str, object] = {"hazards": args.count, "limit": LIMIT}
    with tempfile.TemporaryDirectory() as folder, open_store(str(Path(folder) / "pages.gpkg"), create=True) as gpkg:
        fill(gpkg, args.count)
        result["geopackage"] = measure(gpkg)
    name = "landrelease_bench_pages"
    try:
        admin = psycopg.connect(args.admin_url, autocommit=True)
    except psycopg.Error as error:
        result["postgis"] = {"skipped": str(error).splitlines()[0]}
    else:
        with admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
            try:
                with open_store(f"{args.admin_url.rpartition('/')[0]}/{name}", create=True) as pg:
                    fill(pg, args.count)
                    result["postgis"] = measure(pg)
            finally:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
