"""Linking records by location: which hazard an outcome or find belongs to, which admin area a hazard is in."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from landrelease.store.protocol import Store


def programme_extent(store: Store, margin: float = 0.5) -> tuple[float, float, float, float] | None:
    """The box around the programme's admin areas (with a margin in degrees), if it has any."""
    _, geoms, _ = store.columns("admin_areas", [])
    present = geoms[~shapely.is_missing(geoms)]
    if not present.size:
        return None
    b = shapely.total_bounds(present)
    return (float(b[0] - margin), float(b[1] - margin), float(b[2] + margin), float(b[3] + margin))


def hazard_of_features(store: Store, geoms: Sequence[BaseGeometry | None]) -> list[str | None]:
    """For each geometry, the hazard it lies in (for an area: the hazard it overlaps most), or None."""
    ids, hazards, _ = store.columns("hazards", [])
    out: list[str | None] = [None] * len(geoms)
    if not len(ids) or not len(geoms):
        return out
    items = np.array(list(geoms), dtype=object)
    present = np.flatnonzero(~shapely.is_missing(items))
    tree = shapely.STRtree(hazards)
    q, h = tree.query(items[present], predicate="intersects")
    q = present[q]
    best: dict[int, tuple[float, int]] = {}
    points = shapely.get_type_id(items[q]) == 0
    overlap = np.ones(len(q))
    if (~points).any():
        overlap[~points] = shapely.area(shapely.intersection(items[q[~points]], hazards[h[~points]]))
    for i, j, o in zip(q.tolist(), h.tolist(), overlap.tolist(), strict=True):
        if o > 0 and (i not in best or o > best[i][0]):
            best[i] = (o, j)
    for i, (_, j) in best.items():
        out[i] = ids[j]
    return out


def admin_area_of(store: Store, geoms: Sequence[BaseGeometry | None]) -> list[str | None]:
    """For each geometry, the most detailed admin area holding its representative point, or None."""
    ids, areas, cols = store.columns("admin_areas", ["level"])
    out: list[str | None] = [None] * len(geoms)
    if not len(ids) or not len(geoms):
        return out
    items = np.array(list(geoms), dtype=object)
    present = np.flatnonzero(~shapely.is_missing(items))
    points = shapely.point_on_surface(items[present])
    tree = shapely.STRtree(areas)
    q, a = tree.query(points, predicate="within")
    levels = [int(v) if isinstance(v, int | float) else 0 for v in cols["level"]]
    best: dict[int, int] = {}
    for i, j in zip(present[q].tolist(), a.tolist(), strict=True):
        if i not in best or levels[j] > levels[best[i]]:
            best[i] = j
    for i, j in best.items():
        out[i] = ids[j]
    return out
