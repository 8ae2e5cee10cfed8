"""Validation at the door: every geometry is checked before it enters the national record.

Each feature gets a ``Checked`` verdict: accepted as is, repaired (with a note saying what changed), or
rejected (with a reason in the user's terms). The checks are the errors found in real national databases
(GICHD's geocheck scripts look for them after the fact): missing and empty geometries, NaN, coordinates
outside longitude/latitude, projected metres labelled as WGS84, swapped latitude/longitude, rings with
fewer than three points, self-intersections, "jumps" between consecutive vertices, the wrong kind of
geometry, and duplicates of existing records.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from landrelease.domain.schema import GeometryKind
from landrelease.geo.area import geodesic_area

Geometries = npt.NDArray[np.object_]

#: A box in degrees: (west, south, east, north).
Extent = tuple[float, float, float, float]

#: An edge longer than this, and much longer than the polygon's other edges, is a "jump".
JUMP_METRES = 10_000.0
JUMP_RATIO = 20.0
#: Two polygons whose intersection covers this share of their union are the same hazard.
DUPLICATE_OVERLAP = 0.9


class Verdict(StrEnum):
    OK = "ok"
    REPAIRED = "repaired"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Checked:
    index: int
    verdict: Verdict
    geometry: BaseGeometry | None
    reason: str | None = None


def _fmt_area(m2: float) -> str:
    return f"{m2 / 10_000:,.2f} ha" if m2 >= 1_000 else f"{m2:,.0f} m2"


def _coords_problem(geom: BaseGeometry, extent: Extent | None) -> tuple[str, bool] | None:
    """A coordinate problem (message, can be repaired by swapping x and y) or None."""
    xy = shapely.get_coordinates(geom)
    if not np.isfinite(xy).all():
        return "coordinates are not numbers (NaN or infinite)", False
    x, y = xy[:, 0], xy[:, 1]
    if (np.abs(x) <= 180).all() and (np.abs(y) <= 90).all():
        if extent is not None and not _in_extent(x, y, extent) and _in_extent(y, x, extent):
            return "latitude and longitude look swapped (the swapped point lies in the programme area)", True
        return None
    if (np.abs(xy) > 1_000).any():
        return (
            f"coordinates look like projected metres (e.g. x={x[0]:.0f}, y={y[0]:.0f}), not longitude/latitude: "
            "declare the file's coordinate system or reproject it to WGS84"
        ), False
    if (np.abs(y) > 90).any() and (np.abs(x) <= 90).all() and (np.abs(y) <= 180).all():
        return f"latitude and longitude look swapped (latitude {y[0]:g} is beyond 90)", True
    return f"coordinates outside longitude -180..180 / latitude -90..90 (e.g. {x[0]:g}, {y[0]:g})", False


def _in_extent(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], e: tuple[float, float, float, float]) -> bool:
    return bool(((x >= e[0]) & (x <= e[2]) & (y >= e[1]) & (y <= e[3])).all())


def _short_ring(geom: BaseGeometry) -> bool:
    for polygon in getattr(geom, "geoms", [geom]):
        if polygon.geom_type != "Polygon":
            continue
        for ring in [polygon.exterior, *polygon.interiors]:
            if len(set(ring.coords)) < 3:
                return True
    return False


def _jump(geom: BaseGeometry) -> str | None:
    """A vertex-to-vertex jump far longer than the rest of the outline (a typing error)."""
    for polygon in getattr(geom, "geoms", [geom]):
        if polygon.geom_type != "Polygon":
            continue
        xy = np.asarray(polygon.exterior.coords)
        if len(xy) < 4:
            continue
        lat = np.radians(xy[:, 1].mean())
        dx = np.diff(xy[:, 0]) * 111_320 * np.cos(lat)
        dy = np.diff(xy[:, 1]) * 110_574
        edges = np.hypot(dx, dy)
        longest = int(edges.argmax())
        median = float(np.median(edges))
        if edges[longest] > JUMP_METRES and edges[longest] > JUMP_RATIO * max(median, 1.0):
            return (
                f"a jump of {edges[longest] / 1000:,.1f} km between vertices {longest + 1} and {longest + 2} "
                "of the outline (a typing error in the coordinates?)"
            )
    return None


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """The polygonal parts of a geometry as one MultiPolygon (lines and points dropped)."""
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    polys = [q for p in parts for q in shapely.get_parts(p)]
    return shapely.MultiPolygon(polys) if polys else shapely.MultiPolygon()


_REASON = re.compile(r"(?P<what>[^\[]+)\[(?P<x>[-\d.eE+]+) (?P<y>[-\d.eE+]+)")


def _explain_invalid(geom: BaseGeometry) -> str:
    raw = shapely.is_valid_reason(geom)
    m = _REASON.match(raw)
    if not m:
        return f"invalid polygon ({raw})"
    what = m.group("what").strip().lower()
    return f"invalid polygon: {what} at {float(m.group('x')):.6f} {float(m.group('y')):.6f}"


def check_geometry(
    index: int,
    geom: BaseGeometry | None,
    kind: GeometryKind,
    *,
    repair: bool,
    problem: str | None = None,
    extent: Extent | None = None,
) -> Checked:
    """Check one geometry for a layer of the given kind; with ``repair``, fix what can be fixed safely."""
    return _measure_repairs([_unmeasured(index, geom, kind, repair=repair, problem=problem, extent=extent)])[0]


def _unmeasured(
    index: int,
    geom: BaseGeometry | None,
    kind: GeometryKind,
    *,
    repair: bool,
    problem: str | None,
    extent: Extent | None,
) -> Checked:
    """``check_geometry`` with a repaired polygon's new area still to be written into its note."""
    if kind is GeometryKind.NONE:
        return Checked(index, Verdict.OK, None)
    if problem is not None:
        return Checked(index, Verdict.REJECTED, None, problem)
    if geom is None:
        return Checked(index, Verdict.REJECTED, None, "no geometry (the record has no location)")
    if geom.is_empty:
        return Checked(index, Verdict.REJECTED, None, "empty geometry (the record has no location)")
    notes: list[str] = []
    coords = _coords_problem(geom, extent)
    if coords is not None:
        message, swappable = coords
        if not (repair and swappable):
            return Checked(index, Verdict.REJECTED, None, message)
        geom = shapely.transform(geom, lambda xy: xy[:, ::-1])
        notes.append("swapped latitude and longitude back")
    if kind is GeometryKind.POINT:
        return _check_point(index, geom, repair, notes)
    return _check_polygon(index, geom, repair, notes)


def _check_point(index: int, geom: BaseGeometry, repair: bool, notes: list[str]) -> Checked:
    if geom.geom_type == "Point":
        return _done(index, geom, notes)
    if geom.geom_type == "MultiPoint" and len(geom.geoms) == 1:
        return _done(index, geom.geoms[0], notes)
    if repair and geom.geom_type in ("Polygon", "MultiPolygon"):
        notes.append("took the centre of the area as the point")
        return _done(index, geom.representative_point(), notes)
    return Checked(index, Verdict.REJECTED, None, f"a {geom.geom_type} where a single point is expected")


def _check_polygon(index: int, geom: BaseGeometry, repair: bool, notes: list[str]) -> Checked:
    if geom.geom_type in ("Point", "MultiPoint", "LineString", "MultiLineString", "LinearRing"):
        return Checked(index, Verdict.REJECTED, None, f"a {geom.geom_type} where an area (polygon) is expected")
    if geom.geom_type == "GeometryCollection":
        polygonal = _polygonal(geom)
        if polygonal.is_empty:
            return Checked(index, Verdict.REJECTED, None, "a geometry collection with no area in it")
        if not repair:
            return Checked(index, Verdict.REJECTED, None, "a geometry collection: only its areas can be kept")
        notes.append("kept only the areas of a geometry collection")
        geom = polygonal
    if _short_ring(geom):
        return Checked(index, Verdict.REJECTED, None, "a polygon ring has fewer than 3 distinct points")
    jump = _jump(geom)
    if jump is not None:
        return Checked(index, Verdict.REJECTED, None, jump)
    if not geom.is_valid:
        reason = _explain_invalid(geom)
        if not repair:
            return Checked(index, Verdict.REJECTED, None, reason)
        fixed = _polygonal(shapely.make_valid(geom, method="structure", keep_collapsed=False))
        if fixed.is_empty or not fixed.is_valid:
            return Checked(index, Verdict.REJECTED, None, f"{reason}; it cannot be repaired to an area")
        # The new area is measured once for a whole batch (``_measure_repairs``), not polygon by polygon.
        notes.append(f"repaired {reason.removeprefix('invalid polygon: ')}; the area is now {_AREA_AFTER}")
        geom = fixed
    if geom.geom_type == "Polygon":
        geom = shapely.MultiPolygon([geom])
    return _done(index, geom, notes)


#: Stands for the repaired polygon's area in a note until ``_measure_repairs`` writes it in.
_AREA_AFTER = "\x00area\x00"


def _measure_repairs(verdicts: Sequence[Checked]) -> list[Checked]:
    """The verdicts with each repaired polygon's new area written into its note (measured all at once)."""
    pending = [i for i, v in enumerate(verdicts) if v.reason is not None and _AREA_AFTER in v.reason]
    if not pending:
        return list(verdicts)
    shapes = np.empty(len(pending), dtype=object)
    shapes[:] = [verdicts[i].geometry for i in pending]
    done = list(verdicts)
    for i, area in zip(pending, geodesic_area(shapes).tolist(), strict=True):
        verdict = verdicts[i]
        done[i] = replace(verdict, reason=(verdict.reason or "").replace(_AREA_AFTER, _fmt_area(area)))
    return done


def _done(index: int, geom: BaseGeometry, notes: list[str]) -> Checked:
    if notes:
        return Checked(index, Verdict.REPAIRED, geom, "; ".join(notes))
    return Checked(index, Verdict.OK, geom)


@dataclass(frozen=True)
class Duplicate:
    index: int
    #: Index in ``existing`` or, if ``within_batch``, in the new batch.
    other: int
    within_batch: bool
    overlap: float


def find_duplicates(new: Geometries, existing: Geometries, threshold: float = DUPLICATE_OVERLAP) -> list[Duplicate]:
    """New polygons that are the same (or nearly the same) area as an existing one or an earlier new one.

    "Nearly the same" is intersection over union at or above ``threshold``: the same minefield reported
    twice, redrawn by hand, is rarely identical vertex for vertex.
    """
    new = np.asarray(new, dtype=object)
    existing = np.asarray(existing, dtype=object)
    found: dict[int, Duplicate] = {}
    pool = np.concatenate([existing, new])
    n_old = len(existing)
    valid_pool = ~shapely.is_missing(pool)
    if not valid_pool.any() or not len(new):
        return []
    tree = shapely.STRtree(pool)
    q = np.flatnonzero(~shapely.is_missing(new))
    a, b = tree.query(new[q])
    a = q[a]
    # Only an earlier record counts as the original: existing ones, or earlier features of the batch.
    keep = (b < n_old) | (b - n_old < a)
    a, b = a[keep], b[keep]
    if not a.size:
        return []
    ba, bb = shapely.bounds(new[a]), shapely.bounds(pool[b])
    ix = np.clip(np.minimum(ba[:, 2], bb[:, 2]) - np.maximum(ba[:, 0], bb[:, 0]), 0, None)
    iy = np.clip(np.minimum(ba[:, 3], bb[:, 3]) - np.maximum(ba[:, 1], bb[:, 1]), 0, None)
    area_a = (ba[:, 2] - ba[:, 0]) * (ba[:, 3] - ba[:, 1])
    area_b = (bb[:, 2] - bb[:, 0]) * (bb[:, 3] - bb[:, 1])
    inter_box = ix * iy
    # The boxes' overlap bounds the shapes' overlap: skip pairs that cannot reach the threshold.
    box_iou = inter_box / np.maximum(area_a + area_b - inter_box, 1e-300)
    cand = box_iou >= threshold * 0.5
    a, b = a[cand], b[cand]
    if not a.size:
        return []
    inter = shapely.area(shapely.intersection(new[a], pool[b]))
    union = shapely.area(new[a]) + shapely.area(pool[b]) - inter
    iou = np.where(union > 0, inter / np.maximum(union, 1e-300), 0.0)
    for i, j, o in zip(a.tolist(), b.tolist(), iou.tolist(), strict=True):
        if o >= threshold and (i not in found or o > found[i].overlap):
            within = j >= n_old
            found[i] = Duplicate(i, j - n_old if within else j, within, o)
    return [found[i] for i in sorted(found)]


def check_batch(
    geoms: Sequence[BaseGeometry | None],
    kind: GeometryKind,
    *,
    repair: bool,
    problems: Sequence[str | None] | None = None,
    extent: Extent | None = None,
) -> list[Checked]:
    """``check_geometry`` for each feature of a file, in order (``check_many`` one by one)."""
    checked, notes = check_many(geoms, kind, repair=repair, problems=problems, extent=extent)
    return [notes.get(i) or Checked(i, Verdict.OK, g) for i, g in enumerate(checked)]


def check_many(
    geoms: Sequence[BaseGeometry | None],
    kind: GeometryKind,
    *,
    repair: bool,
    problems: Sequence[str | None] | None = None,
    extent: Extent | None = None,
) -> tuple[list[BaseGeometry | None], dict[int, Checked]]:
    """Every feature of a file checked as ``check_geometry`` would: (each feature's geometry as it would be
    stored, None where refused; the verdicts of the features that were refused or repaired, by position).

    National files hold hundreds of thousands of features, nearly all fine: those are recognised with
    vectorised checks first, and only the rest go through the one-by-one checks that explain problems.
    """
    problems = problems if problems is not None else [None] * len(geoms)
    array = np.empty(len(geoms), dtype=object)
    array[:] = list(geoms)
    fine = _plainly_fine(array, kind, extent) & np.array([p is None for p in problems], dtype=bool)
    single = np.flatnonzero(fine & (shapely.get_type_id(array) == 3))
    if single.size:  # Polygon -> MultiPolygon, in one call
        array[single] = shapely.multipolygons(array[single], indices=np.arange(single.size))
    closer = [
        _unmeasured(i, geoms[i], kind, repair=repair, problem=problems[i], extent=extent)
        for i in np.flatnonzero(~fine).tolist()
    ]
    notes: dict[int, Checked] = {}
    for verdict in _measure_repairs(closer):
        array[verdict.index] = verdict.geometry if verdict.verdict is not Verdict.REJECTED else None
        if verdict.verdict is not Verdict.OK:
            notes[verdict.index] = verdict
    return array.tolist(), notes


def _plainly_fine(geoms: Geometries, kind: GeometryKind, extent: Extent | None) -> npt.NDArray[np.bool_]:
    """Which geometries pass every check, decided in bulk (False means "look closer", not "bad")."""
    n = len(geoms)
    if kind is GeometryKind.NONE or n == 0:
        return np.zeros(n, dtype=bool)
    types = shapely.get_type_id(geoms)
    wanted = (0,) if kind is GeometryKind.POINT else (3, 6)
    ok: npt.NDArray[np.bool_] = np.asarray(np.isin(types, wanted) & ~shapely.is_empty(geoms), dtype=bool)
    idx = np.flatnonzero(ok)
    if not idx.size:
        return ok
    coords, owner = shapely.get_coordinates(geoms[idx], return_index=True)
    bad = ~np.isfinite(coords).all(axis=1) | (np.abs(coords[:, 0]) > 180) | (np.abs(coords[:, 1]) > 90)
    if extent is not None:
        x, y = coords[:, 0], coords[:, 1]
        bad |= (x < extent[0]) | (x > extent[2]) | (y < extent[1]) | (y > extent[3])
    if kind is not GeometryKind.POINT:
        # A vertex-to-vertex step over the jump length needs the closer look (rare: it is explained there).
        # Steps between rings or parts of one feature count too: a false alarm only costs that closer look.
        same = owner[1:] == owner[:-1]
        lat = np.radians(coords[:-1, 1])
        with np.errstate(invalid="ignore"):  # NaN and infinite coordinates are already bad
            dx = np.diff(coords[:, 0]) * 111_320 * np.cos(lat)
            dy = np.diff(coords[:, 1]) * 110_574
            bad[:-1] |= same & (np.hypot(dx, dy) > JUMP_METRES)
    ok[idx[np.bincount(owner, weights=bad, minlength=idx.size) > 0]] = False
    if kind is GeometryKind.POINT:
        return ok
    idx = np.flatnonzero(ok)
    ok[idx] = shapely.is_valid(geoms[idx])
    return ok
