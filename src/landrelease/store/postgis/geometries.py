"""Geometries at the PostGIS boundary: checked against the layer exactly as the GeoPackage store checks them,
then written as hex EWKB (SRID 4326), which both ``INSERT`` parameters and ``COPY`` text accept."""

from __future__ import annotations

import struct
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from landrelease.domain.schema import GeometryKind, Layer
from landrelease.errors import InvalidInput

SRID = 4326
_POLYGON, _MULTIPOLYGON, _POINT = 3, 6, 0  # shapely type ids
_ACCEPTED = {GeometryKind.POLYGON: (_POLYGON, _MULTIPOLYGON), GeometryKind.POINT: (_POINT,), GeometryKind.NONE: ()}
_HOLDS = {GeometryKind.POLYGON: "polygons", GeometryKind.POINT: "points", GeometryKind.NONE: "no geometry"}


def check_and_encode(
    layer: Layer, geometries: Sequence[BaseGeometry | None], record_id: str | None = None
) -> tuple[list[str | None], npt.NDArray[np.object_]]:
    """Hex EWKB (None for no geometry) and the checked shapely geometries for ``layer``.

    The same rules as the embedded store (``geopackage.geometries``): wrong kinds, coordinates that are not
    finite numbers and any geometry on a layer without one are refused; Polygons become MultiPolygons; Z and
    M are dropped; None and empty geometries are stored as NULL.
    """
    array, type_ids = _checked(layer, geometries, record_id)
    encoded = _hex_ewkb(array, type_ids)
    promote = type_ids == _POLYGON
    if promote.any():
        array[promote] = shapely.multipolygons(array[promote].reshape(-1, 1))
    return encoded, shapely.force_2d(array)


def encode(layer: Layer, geometries: Sequence[BaseGeometry | None], record_id: str | None = None) -> list[str | None]:
    """Hex EWKB of ``check_and_encode`` without building the stored shapes (what a bulk write needs)."""
    array, type_ids = _checked(layer, geometries, record_id)
    return _hex_ewkb(array, type_ids)


def _checked(
    layer: Layer, geometries: Sequence[BaseGeometry | None], record_id: str | None
) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.int_]]:
    """The geometries (empty ones None) and their shapely type ids (-1 for None), refusing what ``layer``
    cannot hold."""
    count = len(geometries)

    def where(index: int) -> str:
        return record_id or f"{layer.name} feature {index + 1}"

    if layer.geometry is GeometryKind.NONE:
        for i, geometry in enumerate(geometries):
            if geometry is not None:
                raise InvalidInput(f"{where(i)}: {layer.name} records have no geometry")
        return np.full(count, None, dtype=object), np.full(count, -1)
    array = np.fromiter(geometries, dtype=object, count=count)
    try:
        type_ids = shapely.get_type_id(array)
    except TypeError:
        bad = next(i for i, g in enumerate(geometries) if g is not None and not isinstance(g, BaseGeometry))
        raise InvalidInput(f"{where(bad)}: the geometry is not a geometry ({type(geometries[bad]).__name__})") from None
    empty = shapely.is_empty(array)
    wrong = ~np.isin(type_ids, [-1, *_ACCEPTED[layer.geometry]]) & ~empty
    if wrong.any():
        i = int(np.flatnonzero(wrong)[0])
        raise InvalidInput(
            f"{where(i)}: a {array[i].geom_type} cannot go in {layer.name}, which holds {_HOLDS[layer.geometry]}"
        )
    coordinates, index = shapely.get_coordinates(array, return_index=True)
    finite = np.isfinite(coordinates).all(axis=1)
    if not finite.all():
        i = int(index[np.flatnonzero(~finite)[0]])
        raise InvalidInput(f"{where(i)}: the geometry has coordinates that are not numbers")
    array[empty] = None
    type_ids[empty] = -1
    return array, type_ids


#: EWKB heads (little endian, SRID flag, SRID) put before GEOS's plain 2D WKB, by shapely type id: a Polygon
#: is wrapped whole as the one member of a MultiPolygon; the others keep their body after their own head.
#: Several times faster than promoting with shapely, setting SRIDs and writing hex EWKB through GEOS.
_EWKB_HEAD = {
    kind: b"\x01" + struct.pack("<II", wkb_type | 0x20000000, SRID) + extra
    for kind, wkb_type, extra in ((_POLYGON, 6, struct.pack("<I", 1)), (_MULTIPOLYGON, 6, b""), (_POINT, 1, b""))
}


def _hex_ewkb(array: npt.NDArray[np.object_], type_ids: npt.NDArray[np.int_]) -> list[str | None]:
    """Hex EWKB with SRID 4326 of checked geometries (Polygons as MultiPolygons, 2D), None for None."""
    plain = shapely.to_wkb(array, output_dimension=2, byte_order=1)
    encoded: list[str | None] = []
    append = encoded.append
    for kind, body in zip(type_ids.tolist(), plain.tolist(), strict=True):
        if body is None:
            append(None)
        elif kind == _POLYGON:
            append((_EWKB_HEAD[kind] + body).hex())
        else:
            append((_EWKB_HEAD[kind] + body[5:]).hex())
    return encoded


def decode_many(blobs: Sequence[bytes | None]) -> npt.NDArray[np.object_]:
    """Shapely geometries from WKB (``ST_AsBinary``), in one vectorised call; None stays None."""
    if not blobs:
        return np.empty(0, dtype=object)
    result: npt.NDArray[np.object_] = shapely.from_wkb(np.fromiter(blobs, dtype=object, count=len(blobs)))
    return result
