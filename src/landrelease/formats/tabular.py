"""Geometry from spreadsheet columns (CSV, Excel): a WKT column, or latitude and longitude columns.

Field teams name coordinate columns in many ways (``Lat``, ``LATITUD_Y``, ``широта``, Kobo's
``_location_latitude``) and type them in many ways (``49,98`` with a decimal comma, ``49°58'N``).
A value that cannot be read leaves the feature without geometry and says why; range checks
(swapped latitude and longitude, metres instead of degrees) belong to validation, not here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely

from landrelease.formats.geometry import Geometries, Problems, parse_text

WKT_NAMES = ("wkt", "geometry", "geom", "the_geom", "wkt_geom", "geometry_wkt", "shape_wkt")
LAT_NAMES = (
    "lat", "latitude", "lat_dd", "latitude_dd", "lat_deg", "lat_wgs84", "latitude_wgs84", "latitud",
    "latitud_y", "lat_y", "y_lat", "gps_lat", "gps_latitude", "decimal_latitude", "decimallatitude",
    "point_y", "coord_y", "y_coord", "ycoord", "широта", "шир", "y",
)  # fmt: skip
LON_NAMES = (
    "lon", "lng", "long", "longitude", "lon_dd", "long_dd", "longitude_dd", "lon_deg", "lon_wgs84",
    "longitude_wgs84", "longitud", "longitud_x", "lon_x", "x_lon", "gps_lon", "gps_long", "gps_longitude",
    "decimal_longitude", "decimallongitude", "point_x", "coord_x", "x_coord", "xcoord", "довгота",
    "долгота", "довг", "x",
)  # fmt: skip


def normalise(name: str) -> str:
    """A column name reduced for matching: lower case, units in brackets dropped, separators as ``_``."""
    name = re.sub(r"[\(\[].*?[\)\]]", "", name.strip().lower())
    return re.sub(r"[\s\-.:/]+", "_", name).strip("_")


@dataclass(frozen=True)
class GeometryColumns:
    """Which columns hold the geometry: ``wkt`` alone, or ``lat`` and ``lon``."""

    wkt: str | None = None
    lat: str | None = None
    lon: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(n for n in (self.wkt, self.lat, self.lon) if n is not None)


def _pick(columns: list[str], candidates: tuple[str, ...], suffix: str) -> str | None:
    by_norm: dict[str, str] = {}
    for column in columns:
        by_norm.setdefault(normalise(column), column)
    for candidate in candidates:
        if candidate in by_norm:
            return by_norm[candidate]
    # Kobo/ODK exports: "_location_latitude", "location-Latitude"
    suffixed = [c for n, c in by_norm.items() if n.endswith("_" + suffix)]
    return suffixed[0] if len(suffixed) == 1 else None


def find_geometry_columns(columns: list[str]) -> GeometryColumns:
    """The geometry columns among ``columns`` (WKT preferred), or an empty ``GeometryColumns``."""
    wkt = _pick(columns, WKT_NAMES, "wkt")
    if wkt is not None:
        return GeometryColumns(wkt=wkt)
    lat = _pick(columns, LAT_NAMES, "latitude")
    lon = _pick(columns, LON_NAMES, "longitude")
    if lat is not None and lon is not None and lat != lon:
        return GeometryColumns(lat=lat, lon=lon)
    return GeometryColumns()


_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_HEMISPHERE = re.compile(r"[NSEWnsew]")


def parse_coordinate(value: object) -> float | str:
    """A decimal degree from a cell, or the reason it is not one (as a string)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return "is empty"
    if isinstance(value, bool):
        return f"{value!r} is not a number"
    if isinstance(value, int | float):
        number = float(value)
        return number if math.isfinite(number) else f"{value!r} is not a number"
    if not isinstance(value, str):
        return f"{value!r} is not a number"
    text = value.strip().replace("\u00a0", "").replace("\u2212", "-")
    plain = text.replace(",", ".") if text.count(",") == 1 and "." not in text else text
    try:
        number = float(plain)
    except ValueError:
        dms = _parse_dms(text)
        if dms is None:
            return f"{value[:40]!r} is not a number"
        return dms
    return number if math.isfinite(number) else f"{value[:40]!r} is not a number"


def _parse_dms(text: str) -> float | None:
    """Degrees, minutes and seconds such as ``49°58'12.5"N`` or ``N 49 58.2``; ``None`` if not that."""
    hemispheres = _HEMISPHERE.findall(text)
    stripped = _HEMISPHERE.sub(" ", text)
    if len(hemispheres) > 1 or re.search(r"[^\d\s.,°º˚'′’\"″-]", stripped):
        return None
    marked = hemispheres or re.search(r"[°º˚'′’\"″]|\d\s+\d", stripped)
    if not marked or ("," in stripped and "." in stripped):  # "1,234.5" is a number, badly written
        return None
    numbers = [float(n.replace(",", ".")) for n in _NUMBER.findall(stripped)]
    if not 1 <= len(numbers) <= 3 or any(n >= 60 for n in numbers[1:]):
        return None
    degrees = numbers[0] + sum(n / 60.0**k for k, n in enumerate(numbers[1:], start=1))
    negative = stripped.strip().startswith("-") or bool(hemispheres and hemispheres[0].upper() in "SW")
    return -degrees if negative else degrees


def _clean_floats(values: Sequence[object]) -> npt.NDArray[np.float64] | None:
    """The whole column as floats if every cell is a plain finite number (the usual case), else ``None``."""
    if bool in {type(v) for v in values}:
        return None
    try:
        floats = np.array(values, dtype=np.float64)
    except (ValueError, TypeError):
        return None
    return floats if bool(np.isfinite(floats).all()) else None


def points_from_columns(
    lats: Sequence[object], lons: Sequence[object], lat: str, lon: str
) -> tuple[Geometries, Problems]:
    """Points from latitude and longitude cells; a cell that is not a coordinate gives a problem."""
    count = len(lats)
    problems: Problems = [None] * count
    ys, xs = _clean_floats(lats), _clean_floats(lons)
    if ys is None or xs is None:
        xs, ys = np.full(count, np.nan), np.full(count, np.nan)
        for i, (la, lo) in enumerate(zip(lats, lons, strict=True)):
            y, x = parse_coordinate(la), parse_coordinate(lo)
            if isinstance(y, float) and isinstance(x, float):
                xs[i], ys[i] = x, y
            elif y == "is empty" and x == "is empty":
                problems[i] = f"no coordinates ({lat} and {lon} are empty)"
            else:
                why = [f"{name} {r}" for name, r in ((lat, y), (lon, x)) if isinstance(r, str)]
                problems[i] = "; ".join(why)
    geoms = np.full(count, None, dtype=object)
    ok = np.array([p is None for p in problems], dtype=bool)
    geoms[ok] = shapely.points(xs[ok], ys[ok])
    return geoms, problems


def geometry_from_columns(
    columns: GeometryColumns, values: Mapping[str, Sequence[object]], count: int
) -> tuple[Geometries, Problems]:
    """Geometries for a table whose geometry columns are ``columns``; all ``None`` if there are none."""
    if columns.wkt is not None:
        return parse_text(values[columns.wkt], columns.wkt)
    if columns.lat is not None and columns.lon is not None:
        return points_from_columns(values[columns.lat], values[columns.lon], columns.lat, columns.lon)
    return np.full(count, None, dtype=object), [None] * count
