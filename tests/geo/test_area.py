"""Areas on the WGS84 ellipsoid, against pyproj's Geod (Karney) as an independent reference."""

from __future__ import annotations

import math

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from landrelease.geo.area import geodesic_area, geodesic_area_exact


def _area(g: shapely.Geometry) -> float:
    return float(geodesic_area(np.array([g], dtype=object))[0])


@settings(max_examples=100, deadline=None)
@given(
    st.floats(-179.0, 179.0),
    st.floats(-80.0, 80.0),
    st.floats(0.0001, 0.5),
    st.floats(0.0001, 0.5),
)
def test_matches_geod_with_the_same_outline(lon: float, lat: float, w: float, h: float) -> None:
    box = shapely.box(round(lon, 6), round(lat, 6), round(lon + w, 6), round(lat + h, 6))
    # Densified, Geod's geodesic edges follow our straight-in-degrees edges: the areas must agree.
    reference = geodesic_area_exact(shapely.segmentize(box, max(w, h) / 200))
    assert math.isclose(_area(box), reference, rel_tol=1e-6)


def test_a_one_km_square_agrees_with_geodesic_edges_to_1e_8() -> None:
    square = shapely.box(30.0, 50.0, 30.014, 50.009)
    assert math.isclose(_area(square), geodesic_area_exact(square), rel_tol=1e-8)


def test_holes_multipolygons_and_non_areas() -> None:
    outer = shapely.box(10.0, 10.0, 10.01, 10.01)
    hole = shapely.box(10.002, 10.002, 10.004, 10.004)
    holed = outer.difference(hole)
    multi = shapely.MultiPolygon([outer, shapely.box(20.0, 20.0, 20.01, 20.01)])
    got = geodesic_area(
        np.array(
            [
                holed,
                multi,
                None,
                shapely.Point(1, 1),
                shapely.LineString([(0, 0), (1, 1)]),
                shapely.Polygon(),
            ],
            dtype=object,
        )
    )
    assert math.isclose(got[0], _area(outer) - _area(hole), rel_tol=1e-12)
    assert math.isclose(got[1], _area(outer) + _area(shapely.box(20.0, 20.0, 20.01, 20.01)), rel_tol=1e-12)
    assert got[2:].tolist() == [0.0, 0.0, 0.0, 0.0]


@settings(max_examples=50, deadline=None)
@given(st.floats(0.05, 0.95), st.floats(-60, 60))
def test_splitting_a_polygon_keeps_its_area(cut: float, lat: float) -> None:
    """Overlay inserts vertices on edges; the area convention must not change with them."""
    lat = round(lat, 5)
    whole = shapely.Point(30.0, lat).buffer(0.03, quad_segs=5)
    x = 29.97 + round(cut * 0.06, 6)
    left = whole.intersection(shapely.box(29.9, lat - 1, x, lat + 1))
    right = whole.intersection(shapely.box(x, lat - 1, 30.1, lat + 1))
    assert math.isclose(_area(left) + _area(right), _area(whole), rel_tol=1e-11)


def test_orientation_does_not_matter() -> None:
    ring = [(0.0, 0.0), (0.01, 0.0), (0.01, 0.01), (0.0, 0.01)]
    assert math.isclose(_area(shapely.Polygon(ring)), _area(shapely.Polygon(ring[::-1])), rel_tol=1e-14)
