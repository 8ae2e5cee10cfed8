"""Vector tiles on 100,000 hazards: p50/p95 per tile over random tiles at zooms 8-14 where the data is, on
the embedded store (tiles cut by the service from its per-process index) or with ``--db postgresql`` on
PostGIS (tiles cut by the database: ``ST_AsMVTGeom`` + ``ST_AsMVT``), against baselines timed in the same
run on the same tiles:

- ``gdal_bbox`` (embedded): GDAL (pyogrio) reading the tile's features from the GeoPackage with ``bbox=``
  (its R*Tree) and nothing else: no projection, clipping or encoding;
- ``sql_bbox`` (PostGIS): a plain query reading the tile's rows as WKB through the GiST index (``&&``) and
  nothing else: the floor of any tile cut from this database;
- ``service_index`` (PostGIS): the same tiles cut by the service from its own index of the layer, as on the
  embedded store (what the PostGIS store would cost without ``ST_AsMVT``);
- ``uncached``: the same tile cut without the index, from ``store.features(layer, bbox)`` (read, decode,
  clip with shapely, encode), which is what each request would cost without the per-process index.

The tile cache (``service.tiles.TileCache``) is off for the 300 tiles above (each tile is cut) and on for a
map session timed after them: ``--views`` views drawn with repeats (a few places are looked at often, as a
programme's districts are: Zipf-like popularity over ``--places`` places), each one zoom 8-14 and the 3x3
tiles around its centre, through one fresh cache; requests are split into cold (first cut) and warm (served
from the cache). On PostGIS the store cuts its own tiles and nothing is cached.

PostGIS: a throwaway database is made on the server of ``--admin-url`` (default the local cluster as user
postgres) and dropped at the end.

Usage: python -m benchmarks.bench_tiles [--db gpkg|postgresql] [--hazards 100000] [--tiles 300]
       [--baseline-tiles 60] [--views 200] [--places 40] [--admin-url URL]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import shapely

from benchmarks.common import peak_rss_mb, synthetic_programme, timed
from landrelease.domain.records import Change, NewFeature
from landrelease.domain.schema import HAZARDS
from landrelease.service.ogc_index import LayerCache, LayerIndex
from landrelease.service.tiles import (
    TILE_PROPERTIES,
    TileCache,
    lonlat_bounds,
    mercator_bounds,
    render,
    tile_bytes,
)
from landrelease.store import Store, open_store


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


def percentiles(seconds: list[float]) -> dict[str, float]:
    ms = np.array(seconds) * 1000
    return {"p50_ms": round(float(np.percentile(ms, 50)), 2), "p95_ms": round(float(np.percentile(ms, 95)), 2)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hazards", type=int, default=100_000)
    parser.add_argument("--tiles", type=int, default=300)
    parser.add_argument("--baseline-tiles", type=int, default=60)
    parser.add_argument("--views", type=int, default=200)
    parser.add_argument("--places", type=int, default=40)
    parser.add_argument("--db", choices=("gpkg", "postgresql"), default="gpkg")
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()

    hazards, _, _, _ = synthetic_programme(args.hazards, outcomes_per_hazard=1)
    rng = np.random.default_rng(7)
    classes, statuses = np.array(["SHA", "CHA", "EOD"]), np.array(["active", "worked_on", "closed"])
    features = [
        NewFeature({"hazard_class": str(c), "status": str(s)}, g)
        for g, c, s in zip(hazards, rng.choice(classes, len(hazards)), rng.choice(statuses, len(hazards)), strict=True)
    ]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "tiles.gpkg"
        database = f"landrelease_bench_tiles_{os.getpid()}"
        url = f"{args.admin_url.rpartition('/')[0]}/{database}"
        postgis = args.db == "postgresql"
        if postgis:
            import psycopg

            with psycopg.connect(args.admin_url, autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{database}"')
        store: Store = open_store(url if postgis else str(path), create=True)
        load_s, _ = timed(lambda: store.add("hazards", features, Change("bench", "synthetic")))

        # Tiles where the data is: the tile under a random hazard's centre, zooms 8-14.
        centres = shapely.get_coordinates(shapely.centroid(hazards))
        picks = rng.integers(0, len(centres), args.tiles)
        zooms = rng.integers(8, 15, args.tiles)
        tiles = [(int(z), *tile_of(*centres[i], int(z))) for i, z in zip(picks, zooms, strict=True)]

        cache = LayerCache()
        properties = TILE_PROPERTIES["hazards"]
        first_s, _ = timed(lambda: tile_bytes(store, HAZARDS, *tiles[0], cache, None))
        times: list[float] = []
        sizes: list[int] = []
        by_zoom: dict[int, list[float]] = {}
        for z, x, y in tiles:
            start = time.perf_counter()
            content = tile_bytes(store, HAZARDS, z, x, y, cache, None)
            elapsed = time.perf_counter() - start
            times.append(elapsed)
            by_zoom.setdefault(z, []).append(elapsed)
            sizes.append(len(content or b""))

        session = map_session(centres, rng, args.views, args.places)
        tile_cache = TileCache()
        cold_times: list[float] = []
        warm_times: list[float] = []
        for z, x, y in session:
            hits = tile_cache.hits
            start = time.perf_counter()
            tile_bytes(store, HAZARDS, z, x, y, cache, tile_cache)
            elapsed = time.perf_counter() - start
            (warm_times if tile_cache.hits > hits else cold_times).append(elapsed)

        baseline = tiles[: args.baseline_tiles]
        read_times, uncached_times, index_times = [], [], []
        index_cache = LayerCache()
        if postgis:
            # The service's own index on this store (built outside the timings, as for the embedded store).
            render(index_cache.get(store, HAZARDS, properties), *tiles[0], properties)
        for z, x, y in baseline:
            box = lonlat_bounds(mercator_bounds(z, x, y))
            start = time.perf_counter()
            if postgis:
                read_bbox(url, box, properties)
            else:
                pyogrio.raw.read(path, layer="hazards", bbox=box, columns=list(properties))
            read_times.append(time.perf_counter() - start)
            if postgis:
                start = time.perf_counter()
                render(index_cache.get(store, HAZARDS, properties), z, x, y, properties)
                index_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            found = list(store.features("hazards", box))
            if found:
                index = LayerIndex(
                    HAZARDS,
                    (0, None),
                    [f.id for f in found],
                    np.array([f.geometry for f in found], dtype=object),
                    {n: [f.attributes[n] for f in found] for n in properties},
                )
                render(index, z, x, y, properties)
            uncached_times.append(time.perf_counter() - start)
        store.close()
        if postgis:
            import psycopg

            with psycopg.connect(args.admin_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    baselines: dict[str, object] = {"baseline_tiles": len(baseline)}
    if postgis:
        baselines["baseline_sql_bbox_read_only"] = percentiles(read_times)
        baselines["baseline_service_index_on_postgis"] = percentiles(index_times)
    else:
        baselines["baseline_gdal_bbox_read_only"] = percentiles(read_times)
    baselines["baseline_uncached_store_read_clip_encode"] = percentiles(uncached_times)
    print(
        json.dumps(
            {
                "benchmark": f"vector tiles, {'PostGIS (ST_AsMVT)' if postgis else 'embedded store (service index)'}",
                "hazards": args.hazards,
                "load_s": round(load_s, 2),
                "tiles": len(tiles),
                "zooms": "8-14",
                "first_tile_s": round(first_s, 3),
                "tile_no_tile_cache": percentiles(times),
                "tile_by_zoom": {str(z): percentiles(t) for z, t in sorted(by_zoom.items())},
                "mean_tile_bytes": int(np.mean(sizes)),
                "session": {
                    "views": args.views,
                    "places": args.places,
                    "requests": len(session),
                    "all": percentiles(cold_times + warm_times),
                    "cold": percentiles(cold_times) if cold_times else None,
                    "warm": percentiles(warm_times) if warm_times else None,
                    "warm_share": round(len(warm_times) / len(session), 2),
                    "cached_mb": round(tile_cache.size / 2**20, 1),
                },
                "empty_tiles": sum(1 for s in sizes if s == 0),
                **baselines,
                "peak_rss_mb": round(peak_rss_mb()),
            },
            indent=2,
        )
    )


def map_session(
    centres: np.ndarray[Any, Any], rng: np.random.Generator, views: int, places: int
) -> list[tuple[int, int, int]]:
    """The tiles of ``views`` map views, in order: each a popular place (Zipf-like: place k is viewed about
    1/k as often as the first) at a zoom of 8-14, showing the 3x3 tiles around the place."""
    spots = centres[rng.integers(0, len(centres), places)]
    weights = 1 / np.arange(1, places + 1)
    chosen = rng.choice(places, views, p=weights / weights.sum())
    requests = []
    for place, z in zip(chosen.tolist(), rng.integers(8, 15, views).tolist(), strict=True):
        cx, cy = tile_of(*spots[place], z)
        requests += [(z, cx + dx, cy + dy) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
    return requests


def read_bbox(url: str, box: tuple[float, float, float, float], properties: tuple[str, ...]) -> None:
    """The plain SQL floor: the rows of a tile's box through the GiST index, as WKB, on a fresh cursor."""
    with _connection(url).cursor() as cursor:
        cursor.execute(
            f"SELECT id, {', '.join(properties)}, ST_AsBinary(geom) FROM hazards "  # our own column names
            "WHERE geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326) ORDER BY fid",
            box,
        )
        cursor.fetchall()


_CONNECTIONS: dict[str, object] = {}


def _connection(url: str) -> Any:
    if url not in _CONNECTIONS:
        import psycopg

        _CONNECTIONS[url] = psycopg.connect(url, autocommit=True)
    return _CONNECTIONS[url]


if __name__ == "__main__":
    main()
