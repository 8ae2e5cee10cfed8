"""Geometries at the PostGIS boundary: checked against the layer exactly as the GeoPackage store checks them,
then written as hex EWKB (SRID 4326), which both ``INSERT`` parameters and ``COPY`` text accept."""

from __future__ import annotations

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
    count = len(geometries)

    def where(index: int) -> str:
        return record_id or f"{layer.name} feature {index + 1}"

    if layer.geometry is GeometryKind.NONE:
        for i, geometry in enumerate(geometries):
            if geometry is not None:
                raise InvalidInput(f"{where(i)}: {layer.name} records have no geometry")
        return [None] * count, np.full(count, None, dtype=object)
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
    promote = (type_ids == _POLYGON) & ~empty
    if promote.any():
        array[promote] = shapely.multipolygons(array[promote].reshape(-1, 1))
    array = shapely.force_2d(array)
    encoded = shapely.to_wkb(shapely.set_srid(array, SRID), hex=True, output_dimension=2, include_srid=True)
    return list(encoded), array


def decode_many(blobs: Sequence[bytes | None]) -> npt.NDArray[np.object_]:
    """Shapely geometries from WKB (``ST_AsBinary``), in one vectorised call; None stays None."""
    if not blobs:
        return np.empty(0, dtype=object)
    result: npt.NDArray[np.object_] = shapely.from_wkb(np.fromiter(blobs, dtype=object, count=len(blobs)))
    return result
