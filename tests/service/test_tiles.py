"""Vector tiles: tile maths, the encoder (decoded back with mapbox-vector-tile) and the route."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mapbox_vector_tile  # type: ignore[import-untyped]
import pytest
import shapely
from fastapi import FastAPI
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

from landrelease.domain.records import Change, NewFeature
from landrelease.domain.schema import LAYERS
from landrelease.errors import InvalidInput
from landrelease.service.context import Principal, Role
from landrelease.service.ogc_index import LayerCache, to_mercator
from landrelease.service.tiles import (
    EXTENT,
    TileCache,
    lonlat_bounds,
    mercator_bounds,
    parse_tile,
    tile_bytes,
    tiles_router,
)
from landrelease.store import Store, open_store

CHANGE = Change("tester", "test data")
Z = 12


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def viewer() -> Principal:
    return Principal("viewer", Role.VIEWER)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(str(tmp_path / "tiles.gpkg"), create=True)
    hazards = [
        NewFeature({"hazard_class": "CHA", "status": "active"}, shapely.box(30.0, 49.0, 30.01, 49.01)),
        NewFeature({"hazard_class": "SHA", "status": "closed"}, shapely.box(30.02, 49.0, 30.03, 49.01)),
        # A holed hazard: the hole must survive.
        NewFeature(
            {"hazard_class": "SHA", "status": "active"},
            shapely.box(30.04, 49.0, 30.06, 49.02).difference(shapely.box(30.045, 49.005, 30.055, 49.015)),
        ),
    ]
    opened.add("hazards", hazards, CHANGE)
    opened.add("finds", [NewFeature({"ordnance_category": "Landmine"}, shapely.Point(30.005, 49.005))], CHANGE)
    yield opened
    opened.close()


@pytest.fixture
def client(store: Store) -> TestClient:
    app = FastAPI()
    app.state.store = store
    app.include_router(tiles_router(viewer), prefix="/tiles")
    return TestClient(app)


def decode(content: bytes) -> dict[str, Any]:
    decoded: dict[str, Any] = mapbox_vector_tile.decode(content, default_options={"y_coord_down": True})
    return decoded


def test_tile_maths() -> None:
    assert mercator_bounds(0, 0, 0) == pytest.approx((-20037508.34, -20037508.34, 20037508.34, 20037508.34))
    west, south, east, north = lonlat_bounds(mercator_bounds(1, 1, 0))
    assert (west, south, east) == pytest.approx((0, 0, 180)) and north == pytest.approx(85.0511, abs=1e-4)
    assert parse_tile("3", "7", "0") == (3, 7, 0)


@pytest.mark.parametrize(
    ("z", "x", "y"), [("-1", "0", "0"), ("25", "0", "0"), ("3", "8", "0"), ("3", "0", "-1"), ("a", "0", "0")]
)
def test_bad_tile_coordinates_are_refused(z: str, x: str, y: str) -> None:
    with pytest.raises(InvalidInput):
        parse_tile(z, x, y)


def test_a_tile_holds_its_features_with_ids_and_classes(client: TestClient) -> None:
    x, y = tile_of(30.02, 49.01, Z)
    response = client.get(f"/tiles/hazards/{Z}/{x}/{y}.mvt")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert "max-age" in response.headers["cache-control"]
    layer = decode(response.content)["hazards"]
    assert layer["extent"] == EXTENT
    by_id = {f["properties"]["id"]: f for f in layer["features"]}
    assert set(by_id) == {"HZ-000001", "HZ-000002", "HZ-000003"}
    assert by_id["HZ-000002"]["properties"] == {"id": "HZ-000002", "hazard_class": "SHA", "status": "closed"}
    assert by_id["HZ-000002"]["id"] == 2


def test_geometries_land_where_they_are_and_keep_their_holes(store: Store) -> None:
    x, y = tile_of(30.02, 49.01, Z)
    content = tile_bytes(store, LAYERS["hazards"], Z, x, y, LayerCache())
    assert content is not None
    features = {f["properties"]["id"]: f for f in decode(content)["hazards"]["features"]}
    minx, _, maxx, maxy = mercator_bounds(Z, x, y)
    scale = EXTENT / (maxx - minx)
    for record_id in ("HZ-000001", "HZ-000003"):
        decoded = shapely.geometry.shape(features[record_id]["geometry"])
        assert decoded.is_valid
        expected = to_mercator(store.get(record_id).geometry)
        expected = shapely.transform(expected, lambda c: (c - [minx, maxy]) * [scale, -scale])
        # Within a unit or two of the true shape (snapping to the grid, simplifying by one unit).
        assert decoded.symmetric_difference(expected).area < 0.02 * expected.area
    holed = shapely.geometry.shape(features["HZ-000003"]["geometry"])
    assert len(holed.interiors) == 1


def test_points_and_empty_tiles(client: TestClient) -> None:
    x, y = tile_of(30.005, 49.005, Z)
    finds = decode(client.get(f"/tiles/finds/{Z}/{x}/{y}.mvt").content)["finds"]["features"]
    assert [f["properties"] for f in finds] == [{"id": "FD-000001", "ordnance_category": "Landmine"}]
    assert finds[0]["geometry"]["type"] == "Point"
    x, y = tile_of(10.0, 10.0, Z)
    empty = client.get(f"/tiles/hazards/{Z}/{x}/{y}.mvt")
    assert empty.status_code == 204 and empty.content == b""
    assert client.get("/tiles/admin-areas/0/0/0.mvt").status_code == 204


def test_bad_requests(client: TestClient) -> None:
    assert client.get("/tiles/hazards/3/8/0.mvt").status_code == 400
    assert client.get("/tiles/hazards/x/0/0.mvt").status_code == 400
    assert client.get("/tiles/victims/0/0/0.mvt").status_code == 404
    assert client.get("/tiles/organisations/0/0/0.mvt").status_code == 404


def test_tiles_follow_edits(client: TestClient, store: Store) -> None:
    x, y = tile_of(35.005, 45.005, Z)
    assert client.get(f"/tiles/hazards/{Z}/{x}/{y}.mvt").status_code == 204
    store.update("HZ-000001", CHANGE, geometry=shapely.box(35.0, 45.0, 35.01, 45.01))
    moved = decode(client.get(f"/tiles/hazards/{Z}/{x}/{y}.mvt").content)["hazards"]["features"]
    assert [f["properties"]["id"] for f in moved] == ["HZ-000001"]


def test_attributes_refresh_after_their_age(store: Store) -> None:
    cache = LayerCache(attribute_age=0.0)
    x, y = tile_of(30.02, 49.01, Z)
    layer = LAYERS["hazards"]
    tile_bytes(store, layer, Z, x, y, cache)
    store.update("HZ-000002", CHANGE, {"status": "active"}, status_change=True)
    content = tile_bytes(store, layer, Z, x, y, cache)
    assert content is not None
    statuses = {f["properties"]["id"]: f["properties"]["status"] for f in decode(content)["hazards"]["features"]}
    assert statuses["HZ-000002"] == "active"


def test_cached_tiles_are_reused_until_a_write(store: Store) -> None:
    layers, tiles = LayerCache(), TileCache()
    x, y = tile_of(30.005, 49.005, Z)
    hazards = LAYERS["hazards"]
    first = tile_bytes(store, hazards, Z, x, y, layers, tiles)
    assert tile_bytes(store, hazards, Z, x, y, layers, tiles) == first
    assert (tiles.hits, tiles.misses) == (1, 1)
    # A new hazard in the same tile: the cached tile must not be served.
    (added,) = store.add(
        "hazards",
        [NewFeature({"hazard_class": "EOD", "status": "active"}, shapely.box(30.0, 49.0, 30.005, 49.005))],
        CHANGE,
    )
    content = tile_bytes(store, hazards, Z, x, y, layers, tiles)
    assert content is not None
    assert added in [f["properties"]["id"] for f in decode(content)["hazards"]["features"]]
    # An attribute edit: seen as soon as the index re-reads its attributes, the tile with it.
    fresh = LayerCache(attribute_age=0.0)
    tile_bytes(store, hazards, Z, x, y, fresh, tiles)
    store.update("HZ-000001", CHANGE, {"status": "closed"}, status_change=True)
    content = tile_bytes(store, hazards, Z, x, y, fresh, tiles)
    assert content is not None
    statuses = {f["properties"]["id"]: f["properties"]["status"] for f in decode(content)["hazards"]["features"]}
    assert statuses["HZ-000001"] == "closed"


def test_the_route_never_serves_a_cached_tile_after_a_write(client: TestClient, store: Store) -> None:
    x, y = tile_of(30.005, 49.005, Z)
    url = f"/tiles/hazards/{Z}/{x}/{y}.mvt"
    before = client.get(url).content
    assert client.get(url).content == before
    store.retire("HZ-000001", CHANGE)
    after = [f["properties"]["id"] for f in decode(client.get(url).content)["hazards"]["features"]]
    assert "HZ-000001" not in after


def test_the_tile_cache_is_bounded_by_bytes() -> None:
    tiles = TileCache(max_bytes=3 * (256 + 100))
    for n in range(5):
        tiles.put((1, "hazards", 8, n, 0), "state", bytes(100))
    assert len(tiles) == 3
    assert tiles.size <= tiles.max_bytes
    assert tiles.get((1, "hazards", 8, 0, 0), "state") == (False, None)  # the oldest went first
    assert tiles.get((1, "hazards", 8, 4, 0), "state") == (True, bytes(100))
    assert tiles.get((1, "hazards", 8, 4, 0), "other state") == (False, None)  # another state: dropped
    assert len(tiles) == 2
    tiles.put((1, "hazards", 8, 9, 9), "state", bytes(10_000))  # larger than the whole cache: not kept
    assert len(tiles) == 2
