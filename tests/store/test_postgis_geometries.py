"""The PostGIS store's fast EWKB (a fixed head before GEOS's plain WKB) is the EWKB GEOS itself writes for the
stored shape: Polygons as one-member MultiPolygons, 2D, SRID 4326. No server needed."""

from __future__ import annotations

import numpy as np
import shapely
from shapely import wkt

from landrelease.domain.schema import layer_named
from landrelease.store.postgis import geometries

POLYGONS = [
    "POLYGON ((30 50, 31 50, 31 51, 30 50))",
    "POLYGON Z ((30 50 120, 31 50 121, 31 51 119, 30 50 120))",
    "POLYGON ((0 0, 4 0, 4 4, 0 4, 0 0), (1 1, 2 1, 2 2, 1 1))",
    "MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), ((5 5, 6 5, 6 6, 5 5), (5.1 5.1, 5.2 5.1, 5.2 5.2, 5.1 5.1)))",
    "MULTIPOLYGON Z (((0 0 1, 1 0 1, 1 1 1, 0 0 1)))",
    "POLYGON EMPTY",
]
POINTS = ["POINT (30.123456789 50.987654321)", "POINT Z (1 2 3)", "POINT EMPTY"]


def geos_ewkb(shape: shapely.Geometry) -> bytes:
    """What GEOS writes for the shape as stored (the reference)."""
    if shape.geom_type == "Polygon":
        shape = shapely.MultiPolygon([shape])
    return bytes(shapely.to_wkb(shapely.set_srid(shapely.force_2d(shape), 4326), include_srid=True, byte_order=1))


def test_fast_ewkb_is_what_geos_writes() -> None:
    for layer, texts in (("hazards", POLYGONS), ("finds", POINTS)):
        shapes = [wkt.loads(t) for t in texts] + [None]
        encoded = geometries.encode(layer_named(layer), shapes)
        for text, shape, hex_ewkb in zip([*texts, None], shapes, encoded, strict=True):
            if shape is None or shape.is_empty:
                assert hex_ewkb is None, text
                continue
            assert hex_ewkb is not None
            assert bytes.fromhex(hex_ewkb) == geos_ewkb(shape), text
            back = shapely.from_wkb(bytes.fromhex(hex_ewkb))
            assert shapely.get_srid(back) == 4326 and not shapely.has_z(back)
            assert back.geom_type == ("MultiPolygon" if layer == "hazards" else "Point")


def test_bulk_encoding_agrees_with_the_shapes_returned_for_updates() -> None:
    rng = np.random.default_rng(4)
    x, y = rng.uniform(22, 40, 2_000), rng.uniform(44, 52, 2_000)
    shapes = list(shapely.box(x, y, x + 0.01, y + 0.01))
    encoded, checked = geometries.check_and_encode(layer_named("hazards"), shapes)
    assert encoded == geometries.encode(layer_named("hazards"), shapes)
    assert [bytes.fromhex(e) for e in encoded if e is not None] == [geos_ewkb(s) for s in checked]
    assert set(shapely.get_type_id(checked).tolist()) == {6}
