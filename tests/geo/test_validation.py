"""Validation at the door: each of the errors found in real national databases gets a clear answer."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import shapely

from landrelease.domain.schema import GeometryKind
from landrelease.geo.validation import Verdict, check_geometry, find_duplicates

POLY = GeometryKind.POLYGON
BOWTIE = shapely.Polygon([(30.0, 50.0), (30.01, 50.01), (30.01, 50.0), (30.0, 50.01)])
with warnings.catch_warnings():
    warnings.simplefilter("ignore", RuntimeWarning)  # GEOS warns building it; files bring such rings
    WITH_NAN = shapely.Polygon([(30, 50), (30.01, 50), (30.01, float("nan")), (30, 50.01)])


@pytest.mark.parametrize(
    ("geom", "reason"),
    [
        (None, "no geometry"),
        (shapely.Polygon(), "empty geometry"),
        (BOWTIE, "invalid polygon: self-intersection at 30.005000 50.005000"),
        (shapely.box(500000, 5500000, 500100, 5500100), "look like projected metres"),
        (shapely.box(50.0, 120.0, 50.01, 120.01), "latitude and longitude look swapped"),
        (shapely.box(-200.0, 10.0, -199.0, 11.0), "outside longitude"),
        (WITH_NAN, "not numbers"),
        (shapely.Point(30, 50), "a Point where an area (polygon) is expected"),
        (shapely.Polygon([(30, 50), (30.01, 50.01), (30, 50), (30, 50)]), "fewer than 3 distinct points"),
        (
            shapely.Polygon([(30, 50), (30.001, 50), (31, 50.0005), (30.001, 50.001), (30, 50.001)]),
            "a jump of 71.5 km between vertices 2 and 3",
        ),
    ],
)
def test_rejections_say_why(geom: shapely.Geometry | None, reason: str) -> None:
    checked = check_geometry(7, geom, POLY, repair=False)
    assert checked.verdict is Verdict.REJECTED
    assert checked.index == 7
    assert checked.reason is not None and reason in checked.reason


def test_problem_from_reading_is_kept() -> None:
    checked = check_geometry(3, None, POLY, repair=True, problem="a polygon ring has fewer than 3 distinct points")
    assert checked.reason == "a polygon ring has fewer than 3 distinct points"


def test_repair_keeps_both_lobes_of_a_bowtie_and_says_what_changed() -> None:
    checked = check_geometry(0, BOWTIE, POLY, repair=True)
    assert checked.verdict is Verdict.REPAIRED
    assert checked.geometry is not None and checked.geometry.is_valid
    assert checked.geometry.geom_type == "MultiPolygon" and len(checked.geometry.geoms) == 2
    assert checked.reason is not None and "repaired self-intersection" in checked.reason and "ha" in checked.reason


def test_repair_swaps_coordinates_back_only_when_unambiguous() -> None:
    checked = check_geometry(0, shapely.box(50.0, 120.0, 50.01, 120.01), POLY, repair=True)
    assert checked.verdict is Verdict.REPAIRED
    assert checked.geometry is not None
    assert checked.geometry.bounds == pytest.approx((120.0, 50.0, 120.01, 50.01))


def test_swapped_within_range_is_caught_by_the_programme_extent() -> None:
    ukraine = (22.0, 44.0, 40.5, 52.5)
    swapped = shapely.box(49.0, 36.0, 49.01, 36.01)  # (lat, lon) of a place near Kharkiv
    checked = check_geometry(0, swapped, POLY, repair=False, extent=ukraine)
    assert checked.verdict is Verdict.REJECTED
    assert checked.reason is not None and "swapped" in checked.reason


def test_projected_metres_cannot_be_repaired() -> None:
    checked = check_geometry(0, shapely.box(500000, 5500000, 500100, 5500100), POLY, repair=True)
    assert checked.verdict is Verdict.REJECTED


def test_collections_keep_only_their_areas_when_repaired() -> None:
    mixed = shapely.GeometryCollection(
        [shapely.box(30, 50, 30.01, 50.01), shapely.Point(30, 50), shapely.LineString([(0, 0), (1, 1)])]
    )
    assert check_geometry(0, mixed, POLY, repair=False).verdict is Verdict.REJECTED
    checked = check_geometry(0, mixed, POLY, repair=True)
    assert checked.verdict is Verdict.REPAIRED
    assert checked.geometry is not None and checked.geometry.geom_type == "MultiPolygon"


def test_points_for_point_layers() -> None:
    assert check_geometry(0, shapely.Point(30, 50), GeometryKind.POINT, repair=False).verdict is Verdict.OK
    assert (
        check_geometry(0, shapely.box(30, 50, 30.01, 50.01), GeometryKind.POINT, repair=False).verdict
        is Verdict.REJECTED
    )


def test_valid_polygons_become_multipolygons() -> None:
    checked = check_geometry(0, shapely.box(30, 50, 30.01, 50.01), POLY, repair=False)
    assert checked.verdict is Verdict.OK
    assert checked.geometry is not None and checked.geometry.geom_type == "MultiPolygon"


def test_duplicates_same_and_near_same() -> None:
    existing = np.array([shapely.box(30, 50, 30.01, 50.01), shapely.box(31, 50, 31.01, 50.01)], dtype=object)
    new = np.array(
        [
            shapely.box(30.0001, 50.0, 30.0101, 50.01),  # redrawn by hand: near-same
            shapely.box(32, 50, 32.01, 50.01),  # new
            shapely.box(32, 50, 32.01, 50.01),  # the previous one again, within the file
            shapely.box(31.005, 50, 31.015, 50.01),  # half overlapping: a neighbour, not a duplicate
        ],
        dtype=object,
    )
    dupes = find_duplicates(new, existing)
    assert [(d.index, d.other, d.within_batch) for d in dupes] == [(0, 0, False), (2, 1, True)]
    assert dupes[0].overlap > 0.95


def test_the_bulk_path_agrees_with_the_one_by_one_checks() -> None:
    """check_batch recognises plainly fine features in bulk; its verdicts must be the same as one by one."""
    from landrelease.geo.validation import check_batch

    cases = [
        shapely.box(30, 50, 30.01, 50.01),
        BOWTIE,
        None,
        shapely.Polygon(),
        shapely.box(500000, 5500000, 500100, 5500100),
        shapely.box(50.0, 120.0, 50.01, 120.01),
        WITH_NAN,
        shapely.Point(30, 50),
        shapely.Polygon([(30, 50), (30.001, 50), (31, 50.0005), (30.001, 50.001), (30, 50.001)]),
        shapely.MultiPolygon([shapely.box(30, 50, 30.01, 50.01), shapely.box(31, 50, 31.01, 50.01)]),
        shapely.box(49.0, 36.0, 49.01, 36.01),
    ]
    for repair in (False, True):
        for extent in (None, (22.0, 44.0, 40.5, 52.5)):
            bulk = check_batch(cases, POLY, repair=repair, extent=extent)
            single = [check_geometry(i, g, POLY, repair=repair, extent=extent) for i, g in enumerate(cases)]
            assert [(c.verdict, c.reason) for c in bulk] == [(c.verdict, c.reason) for c in single]
            for a, b in zip(bulk, single, strict=True):
                assert (a.geometry is None) == (b.geometry is None)
                if a.geometry is not None and b.geometry is not None:
                    assert a.geometry.equals(b.geometry)
