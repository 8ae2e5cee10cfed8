"""Vector tiles cut by PostGIS (``ST_AsMVT``) against those the service cuts from its own index on the
embedded store: the same data in both, every tile decoded with mapbox-vector-tile and compared feature by
feature (layer name, extent, ids, properties, geometry to within the snapping of one tile unit)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import mapbox_vector_tile  # type: ignore[import-untyped]
import numpy as np
import pytest
import shapely
from shapely.geometry.base import BaseGeometry

from landrelease.domain.records import Change, NewFeature
from landrelease.domain.schema import LAYERS
from landrelease.errors import InvalidInput
from landrelease.service.ogc_index import LayerCache
from landrelease.service.tiles import EXTENT, TILE_PROPERTIES, tile_bytes
from landrelease.store import Store, open_store
from landrelease.store.postgis.store import PostGISStore
from landrelease.store.protocol import TileSource
from tests.conftest import PostGISDatabase
from tests.service.conftest import Programme

CHANGE = Change("tester", "tile comparison")
#: A polygon of at most this many square tile units may be kept by one cutter and dropped by the other (a
#: 16th of a screen pixel: ST_AsMVTGeom drops what snapping collapses, the service keeps it as a dot).
TINY = 4.0


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


def programme() -> tuple[list[NewFeature], list[NewFeature]]:
    """400 irregular hazards (some holed, some multipart) around Izium, and 300 finds, every other one with
    no hazard (a null property)."""
    rng = np.random.default_rng(11)
    hazards = []
    for i in range(400):
        lon, lat = rng.uniform(36.8, 37.6), rng.uniform(49.0, 49.4)
        radius = rng.uniform(0.0005, 0.01)
        angles = np.sort(rng.uniform(0, 2 * np.pi, 9))
        r = radius * rng.uniform(0.6, 1.2, 9)
        shape: BaseGeometry = shapely.make_valid(
            shapely.Polygon(np.column_stack((lon + r * np.cos(angles) * 1.5, lat + r * np.sin(angles))))
        )
        if i % 7 == 0:
            shape = shape.difference(shapely.Point(lon, lat).buffer(radius * 0.3))
        if i % 11 == 0:
            shape = shapely.MultiPolygon([shape, shapely.box(lon + 0.02, lat, lon + 0.025, lat + 0.004)])
        status = str(rng.choice(["active", "worked_on", "closed"]))
        hazards.append(NewFeature({"hazard_class": str(rng.choice(["SHA", "CHA", "EOD"])), "status": status}, shape))
    finds = [
        NewFeature(
            {"ordnance_category": str(rng.choice(["Landmine", "UXO"])), "hazard_id": f"HZ-{i:06d}" if i % 2 else None},
            shapely.Point(lon, lat),
        )
        for i, (lon, lat) in enumerate(zip(rng.uniform(36.8, 37.6, 300), rng.uniform(49.0, 49.4, 300), strict=True))
    ]
    return hazards, finds


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory, postgis_database: PostGISDatabase) -> Iterator[tuple[Store, Store]]:
    """The same programme in a GeoPackage and in a PostGIS schema."""
    url = postgis_database.fresh_schema()
    embedded = open_store(str(tmp_path_factory.mktemp("tiles") / "tiles.gpkg"), create=True)
    server = open_store(url, create=True)
    try:
        hazards, finds = programme()
        for store in (embedded, server):
            store.add("hazards", hazards, CHANGE)
            store.add("finds", finds, CHANGE)
        yield embedded, server
    finally:
        embedded.close()
        server.close()
        postgis_database.drop_schema(url)


def decoded(content: bytes | None, layer: str) -> dict[str, Any]:
    assert content, "expected a tile with features"
    tiles: dict[str, Any] = mapbox_vector_tile.decode(content, default_options={"y_coord_down": True})
    assert list(tiles) == [layer]
    found: dict[str, Any] = tiles[layer]
    return found


def tiles_to_compare(store: Store, layer: str) -> list[tuple[int, int, int]]:
    """Tiles under a few records (holed and multipart hazards among them) at every zoom from the whole country
    to single fields."""
    _, shapes, _ = store.columns(layer, [])
    points = shapely.get_coordinates(shapely.point_on_surface(shapes[[0, 7, 11, 50, 123, 299]]))
    return sorted({(z, *tile_of(lon, lat, z)) for z in range(5, 17) for lon, lat in points})


def test_the_server_cuts_tiles_and_the_file_leaves_them_to_the_service(both: tuple[Store, Store]) -> None:
    embedded, server = both
    assert isinstance(server, TileSource) and isinstance(embedded, TileSource)
    assert embedded.tile("hazards", 12, *tile_of(37.2, 49.2, 12)) is None
    assert isinstance(server, PostGISStore)
    assert server.tile("hazards", 12, *tile_of(10.0, 10.0, 12)) == b""  # no feature: empty, not None


@pytest.mark.parametrize("layer", ["hazards", "finds"])
def test_tiles_from_postgis_match_the_service_tiles(both: tuple[Store, Store], layer: str) -> None:
    embedded, server = both
    spec = LAYERS[layer]
    properties = TILE_PROPERTIES[layer]
    compared = 0
    for z, x, y in tiles_to_compare(embedded, layer):
        ours = decoded(tile_bytes(embedded, spec, z, x, y, LayerCache()), layer)
        theirs = decoded(tile_bytes(server, spec, z, x, y, LayerCache()), layer)
        assert theirs["extent"] == ours["extent"] == EXTENT and theirs["version"] == ours["version"] == 2
        mine = {f["properties"]["id"]: f for f in ours["features"]}
        other = {f["properties"]["id"]: f for f in theirs["features"]}
        # Features come in creation order from both.
        assert [i for i in other if i in mine] == [i for i in mine if i in other]
        for record_id in set(mine) ^ set(other):
            lone = shapely.geometry.shape((mine.get(record_id) or other[record_id])["geometry"])
            assert layer == "hazards" and lone.area <= TINY, f"{z}/{x}/{y}: {record_id} only in one tile"
        for record_id in set(mine) & set(other):
            a, b = mine[record_id], other[record_id]
            assert a["id"] == b["id"] == int(record_id[3:])
            assert a["properties"] == b["properties"]
            assert set(b["properties"]) <= {"id", *properties} and "id" in b["properties"]
            assert a["type"] == b["type"]
            shape_a, shape_b = shapely.geometry.shape(a["geometry"]), shapely.geometry.shape(b["geometry"])
            if layer == "finds":
                assert shape_a.distance(shape_b) <= 1.0
            else:
                assert shape_b.is_valid, f"{z}/{x}/{y} {record_id}"
                # Each cutter moves a boundary by at most about a unit (snapping, simplifying).
                assert shape_a.symmetric_difference(shape_b).area <= shape_a.length + 2, f"{z}/{x}/{y} {record_id}"
            compared += 1
    assert compared > 500


def test_null_properties_are_left_out_as_the_service_does(both: tuple[Store, Store]) -> None:
    _, server = both
    z, (x, y) = 8, tile_of(37.2, 49.2, 8)
    features = decoded(tile_bytes(server, LAYERS["finds"], z, x, y), "finds")["features"]
    alone = [f for f in features if "hazard_id" not in f["properties"]]
    assert alone and all(int(f["id"]) % 2 == 1 for f in alone)  # every other find (from FD-000001) has none
    assert len(alone) < len(features)


def test_postgis_tiles_are_never_stale(postgis_database: PostGISDatabase) -> None:
    url = postgis_database.fresh_schema()
    try:
        with open_store(url, create=True) as store:
            (hazard,) = store.add(
                "hazards",
                [NewFeature({"hazard_class": "CHA", "status": "active"}, shapely.box(37.0, 49.0, 37.01, 49.01))],
                CHANGE,
            )
            z, (x, y) = 13, tile_of(37.005, 49.005, 13)
            before = decoded(tile_bytes(store, LAYERS["hazards"], z, x, y), "hazards")["features"]
            assert [f["properties"]["status"] for f in before] == ["active"]
            store.update(hazard, CHANGE, {"status": "closed"}, status_change=True)
            after = decoded(tile_bytes(store, LAYERS["hazards"], z, x, y), "hazards")["features"]
            assert after[0]["properties"]["status"] == "closed"
            store.update(hazard, CHANGE, geometry=shapely.box(30.0, 46.0, 30.01, 46.01))
            assert tile_bytes(store, LAYERS["hazards"], z, x, y) is None
            # A hazard reaching a pole is clipped to Web Mercator's extent, not an error.
            polar = NewFeature({"hazard_class": "SHA", "status": "active"}, shapely.box(10.0, 80.0, 11.0, 90.0))
            store.add("hazards", [polar], CHANGE)
            assert decoded(tile_bytes(store, LAYERS["hazards"], 0, 0, 0), "hazards")["features"]
    finally:
        postgis_database.drop_schema(url)


def test_bad_tile_requests_to_the_store(postgis_database: PostGISDatabase) -> None:
    url = postgis_database.fresh_schema()
    try:
        with open_store(url, create=True) as store:
            assert isinstance(store, PostGISStore)
            with pytest.raises(InvalidInput, match="x and y"):
                store.tile("hazards", 3, 8, 0)
            with pytest.raises(InvalidInput, match="no field"):
                store.tile("hazards", 3, 0, 0, ["nonsense; DROP TABLE hazards"])
            with pytest.raises(InvalidInput, match="no geometry"):
                store.tile("organisations", 3, 0, 0)
    finally:
        postgis_database.drop_schema(url)


def test_the_tile_route_on_postgis(postgis_programme: Programme) -> None:
    """The web map's URL, served from PostGIS: a tile over the programme's hazard, then an empty one."""
    viewer = postgis_programme.client("viewer")
    z, (x, y) = 12, tile_of(37.005, 49.005, 12)
    response = viewer.get(f"/tiles/hazards/{z}/{x}/{y}.mvt")
    assert response.status_code == 200 and response.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    (feature,) = decoded(response.content, "hazards")["features"]
    assert feature["properties"] == {"id": postgis_programme.hazard_id, "hazard_class": "CHA", "status": "active"}
    assert viewer.get(f"/tiles/hazards/{z}/{x + 5}/{y}.mvt").status_code == 204
    assert viewer.get("/tiles/hazards/3/8/0.mvt").status_code == 400
    assert postgis_programme.client("anonymous").get(f"/tiles/hazards/{z}/{x}/{y}.mvt").status_code == 401
