"""Geometries at the store boundary: checked against the layer, promoted, encoded as blobs in one pass."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from landrelease.domain.schema import GeometryKind, Layer
from landrelease.errors import InvalidInput
from landrelease.store.geopackage import blob, schema

_POLYGON, _MULTIPOLYGON, _POINT = 3, 6, 0  # shapely type ids
_ACCEPTED = {GeometryKind.POLYGON: (_POLYGON, _MULTIPOLYGON), GeometryKind.POINT: (_POINT,), GeometryKind.NONE: ()}
_HOLDS = {GeometryKind.POLYGON: "polygons", GeometryKind.POINT: "points", GeometryKind.NONE: "no geometry"}


def check_and_encode(
    layer: Layer, geometries: Sequence[BaseGeometry | None], record_id: str | None = None
) -> tuple[list[bytes | None], npt.NDArray[np.float64]]:
    """Blobs and bounds (``blob.encode_many``) for geometries going into ``layer``.

    Refuses a geometry of the wrong kind, one with coordinates that are not finite numbers, and any
    geometry at all on a layer without one. Polygons become MultiPolygons; Z and M are dropped; None and
    empty geometries are stored as NULL. Validity (self-intersections...) is not checked here: that is
    the validation step's job, with a repair to offer, before anything reaches the store.
    """
    count = len(geometries)

    def where(index: int) -> str:
        return record_id or f"{layer.name} feature {index + 1}"

    if layer.geometry is GeometryKind.NONE:
        for i, geometry in enumerate(geometries):
            if geometry is not None:
                raise InvalidInput(f"{where(i)}: {layer.name} records have no geometry")
        return [None] * count, np.full((count, 4), np.nan)
    array = np.fromiter(geometries, dtype=object, count=count)
    try:
        type_ids = shapely.get_type_id(array)
    except TypeError:
        bad = next(i for i, g in enumerate(geometries) if g is not None and not isinstance(g, BaseGeometry))
        raise InvalidInput(f"{where(bad)}: the geometry is not a geometry ({type(geometries[bad]).__name__})") from None
    wrong = ~np.isin(type_ids, [-1, *_ACCEPTED[layer.geometry]]) & ~shapely.is_empty(array)
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
    promote = type_ids == _POLYGON
    if promote.any():
        array[promote] = shapely.multipolygons(array[promote].reshape(-1, 1))
    return blob.encode_many(array, schema.SRS_ID)
