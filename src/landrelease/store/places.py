"""Which records lie at given places: the shared part of ``Store.polygons_at`` (checks, and the answer from an
STRtree over a layer's current polygons, which the GeoPackage store gives as it is).

A place on a polygon's boundary lies in it: a point on a hazard's marked edge is in the hazard.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import shapely

from landrelease.domain.schema import GeometryKind, layer_named
from landrelease.errors import InvalidInput
from landrelease.store.protocol import Geometries

#: Row positions into an array of points.
Positions = npt.NDArray[np.intp]
#: Places as rows of (longitude, latitude) in degrees (WGS 84).
Points = npt.NDArray[np.float64]


def checked_points(layer: str, points: object) -> Points:
    """``points`` as an (n, 2) float array of finite longitudes and latitudes, for a polygon ``layer``;
    ``InvalidInput`` naming the first place at fault otherwise."""
    kind = layer_named(layer).geometry
    if kind is not GeometryKind.POLYGON:
        raise InvalidInput(f"{layer} holds no areas: places can only be looked up in a layer of polygons")
    try:
        array = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInput("places must be pairs of numbers (longitude, latitude)") from None
    if array.size == 0:
        return np.empty((0, 2))
    if array.ndim != 2 or array.shape[1] != 2:
        raise InvalidInput(
            f"places must be pairs of numbers (longitude, latitude), not an array of shape {array.shape}"
        )
    finite = np.isfinite(array).all(axis=1)
    if not finite.all():
        raise InvalidInput(f"place {int(np.flatnonzero(~finite)[0]) + 1} has a coordinate that is not a number")
    return array


def pairs_from_tree(ids: Sequence[str], polygons: Geometries, points: Points) -> tuple[Positions, list[str]]:
    """(point positions, record ids) of every point in (or on the boundary of) a polygon, ordered by point
    then by the polygons' order (creation order when they come from ``Store.columns``)."""
    present = np.flatnonzero(~shapely.is_missing(polygons))
    if not len(points) or not len(present):
        return np.empty(0, dtype=np.intp), []
    tree = shapely.STRtree(polygons[present])
    found = tree.query(shapely.points(points), predicate="intersects")
    order = np.lexsort((found[1], found[0]))
    where = found[0][order].astype(np.intp)
    return where, [ids[i] for i in present[found[1][order]].tolist()]
