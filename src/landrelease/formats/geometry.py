"""Turning what a file holds into shapely geometries in WGS84, with a reason for each one that fails.

Parsing is vectorised (``shapely.from_wkb``/``from_wkt`` with ``on_invalid="ignore"``); only the
failures are parsed again one by one to learn GEOS's reason, which is then put in the field's terms.
GEOS 3.12+ builds polygon rings of 3 points that older GEOS refuses, so such rings are caught here
explicitly: the result does not depend on the GEOS version that happens to be installed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError as ProjCRSError

from landrelease.errors import UnreadableFile

Geometries = npt.NDArray[np.object_]
Problems = list[str | None]

_WGS84 = CRS.from_epsg(4326)

_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"LinearRing.*found (\d+)|number of points in LinearRing"),
        "a polygon ring has fewer than 3 distinct points",
    ),
    (
        re.compile(r"do not form a closed linestring"),
        "a polygon ring is not closed (its last point is not its first)",
    ),
    (
        re.compile(r"point array must contain 0 or >1|number of points in LineString"),
        "a line has only one point",
    ),
    (re.compile(r"Unexpected EOF|premature end|EOF", re.I), "the geometry data is cut short"),
    (re.compile(r"Unknown WKB type|Unknown type", re.I), "the geometry type is not one that can be read"),
)
_GEOS_PREFIX = re.compile(r"^(?:[A-Za-z]+Exception|GEOSException):\s*")


def describe_geos_error(message: str) -> str:
    """A GEOS error message in the field's terms (one line)."""
    for pattern, text in _MESSAGES:
        if pattern.search(message):
            return text
    short = _GEOS_PREFIX.sub("", message.strip().splitlines()[0] if message.strip() else "unknown error")
    return f"the geometry could not be read ({short[:160]})"


def _is_present(values: npt.NDArray[np.object_]) -> npt.NDArray[np.bool_]:
    present: npt.NDArray[np.bool_] = np.array([v is not None for v in values], dtype=bool)
    return present


def _reparse(values: npt.NDArray[np.object_], failed: npt.NDArray[np.intp], parse: Any) -> dict[int, str]:
    reasons: dict[int, str] = {}
    for i in failed:
        try:
            parse(values[i])
        except Exception as e:  # GEOSException, or ValueError/TypeError for malformed input
            reasons[int(i)] = describe_geos_error(str(e))
        else:  # parsed alone: the vectorised call failed for another reason
            reasons[int(i)] = "the geometry could not be read"
    return reasons


def parse_wkb(wkb: npt.NDArray[np.object_] | None, count: int) -> tuple[Geometries, Problems]:
    """Geometries from an array of WKB (``None`` for null) and, per feature, why parsing failed."""
    problems: Problems = [None] * count
    if wkb is None:
        return np.full(count, None, dtype=object), problems
    geoms = np.asarray(shapely.from_wkb(wkb, on_invalid="ignore"), dtype=object)
    failed = np.flatnonzero(_is_present(wkb) & shapely.is_missing(geoms))
    for i, reason in _reparse(wkb, failed, lambda w: shapely.from_wkb(w, on_invalid="raise")).items():
        problems[i] = reason
    return _drop_degenerate(geoms, problems)


_SRID_PREFIX = re.compile(r"^\s*SRID=\d+;\s*", re.I)
_HEX = re.compile(r"^(?:[0-9A-Fa-f]{2})+$")


def _parse_one_text(value: str) -> Any:
    text = _SRID_PREFIX.sub("", value).strip()
    if _HEX.match(text) and len(text) >= 18:
        return shapely.from_wkb(text, on_invalid="raise")
    return shapely.from_wkt(text, on_invalid="raise")


def parse_text(values: Sequence[object], column: str) -> tuple[Geometries, Problems]:
    """Geometries from a text column holding WKT (or hex WKB/EWKB, as PostGIS exports it)."""
    count = len(values)
    problems: Problems = [None] * count
    texts = np.full(count, None, dtype=object)
    hexes = np.full(count, None, dtype=object)
    for i, value in enumerate(values):
        if value is None or (isinstance(value, str) and not value.strip()):
            problems[i] = f"the {column} cell is empty"
        elif not isinstance(value, str):
            problems[i] = f"the {column} cell holds {value!r}, not a geometry"
        else:
            text = _SRID_PREFIX.sub("", value).strip()
            if _HEX.match(text) and len(text) >= 18:
                hexes[i] = text
            else:
                texts[i] = text
    geoms = np.asarray(shapely.from_wkt(texts, on_invalid="ignore"), dtype=object)
    from_hex = np.asarray(shapely.from_wkb(hexes, on_invalid="ignore"), dtype=object)
    is_hex = _is_present(hexes)
    geoms[is_hex] = from_hex[is_hex]
    source = np.where(is_hex, hexes, texts)
    failed = np.flatnonzero(_is_present(source) & shapely.is_missing(geoms))
    for i, reason in _reparse(source, failed, _parse_one_text).items():
        problems[i] = f"{column} {str(values[i])[:40]!r} is not a geometry: {reason}"
    return _drop_degenerate(geoms, problems)


def _drop_degenerate(geoms: Geometries, problems: Problems) -> tuple[Geometries, Problems]:
    """Refuse polygon rings of fewer than 4 coordinates, whatever the GEOS version accepts."""
    types = shapely.get_type_id(geoms)
    # A polygon without holes has one ring, so its coordinate count is that ring's: nearly every feature of
    # a national file is decided here without splitting it into rings.
    simple = np.flatnonzero(types == 3)
    simple = simple[shapely.get_num_interior_rings(geoms[simple]) == 0]
    counts = shapely.get_num_coordinates(geoms[simple])
    for i in simple[(counts > 0) & (counts < 4)]:
        geoms[i] = None
        problems[int(i)] = "a polygon ring has fewer than 3 distinct points"
    rest = np.ones(len(geoms), dtype=bool)
    rest[simple] = False
    polygonal = np.flatnonzero(((types == 3) | (types == 6)) & rest)
    if polygonal.size == 0:
        return geoms, problems
    parts, part_of = shapely.get_parts(geoms[polygonal], return_index=True)
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    counts = shapely.get_num_coordinates(rings)
    bad = np.unique(polygonal[part_of[ring_of[(counts > 0) & (counts < 4)]]])
    for i in bad:
        geoms[i] = None
        problems[int(i)] = "a polygon ring has fewer than 3 distinct points"
    return geoms, problems


def is_wgs84(crs: CRS) -> bool:
    """WGS84 longitude/latitude, whatever the axis order the definition declares."""
    return bool(crs.equals(_WGS84, ignore_axis_order=True))


def parse_crs(declared: str | None, name: str) -> CRS | None:
    """The CRS a file declares, or ``None`` for none. An unintelligible one is refused, not guessed."""
    if not declared:
        return None
    try:
        return CRS.from_user_input(declared)
    except ProjCRSError as e:
        raise UnreadableFile(f"{name} declares a coordinate system that cannot be understood: {e}") from None


def to_wgs84(geoms: Geometries, crs: CRS | None) -> Geometries:
    """Transform geometries to WGS84 lon/lat; ``None`` or WGS84 means they already are."""
    if crs is None or is_wgs84(crs):
        return geoms
    transformer = Transformer.from_crs(crs, _WGS84, always_xy=True)

    def transform(xy: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return np.asarray(shapely.transform(geoms, transform), dtype=object)
