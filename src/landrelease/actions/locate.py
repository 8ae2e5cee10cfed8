"""Is this place in a hazardous area? For every place of a file (citizen reports, finds, a planned road's
survey points), the recorded hazard it lies in, from the store's own spatial query (``Store.polygons_at``).

A place in an open hazard (active or being worked on) is reported with that hazard (the first recorded one
if hazards overlap there). A place only in released land (closed or handed-over hazards) is told so
apart: released land is not a hazard any more, but a report from it is worth a look (residual risk). A
place on a hazard's boundary is in the hazard.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from landrelease.domain.vocabulary import HazardStatus
from landrelease.store.protocol import Store

OPEN_STATUSES = frozenset({HazardStatus.ACTIVE.value, HazardStatus.WORKED_ON.value})


@dataclass(frozen=True)
class Located:
    """Per place (in input order): the open hazard it lies in, else the released hazard it lies in."""

    hazard_id: list[str | None]
    hazard_status: list[str | None]
    released_id: list[str | None]
    #: Places that could not be looked up (no geometry, or not a point), by position.
    skipped: list[int]

    @property
    def in_open_hazard(self) -> int:
        return sum(h is not None for h in self.hazard_id)

    @property
    def in_released_land_only(self) -> int:
        return sum(r is not None for r in self.released_id)

    def summary(self) -> dict[str, int]:
        places = len(self.hazard_id)
        looked_up = places - len(self.skipped)
        return {
            "places": places,
            "in_open_hazard": self.in_open_hazard,
            "in_released_land_only": self.in_released_land_only,
            "outside_recorded_hazards": looked_up - self.in_open_hazard - self.in_released_land_only,
            "skipped": len(self.skipped),
        }


def locate_points(store: Store, points: npt.NDArray[np.float64]) -> Located:
    """The hazards that places given as rows of (longitude, latitude) lie in."""
    where, ids = store.polygons_at("hazards", points)
    count = len(points)
    hazard: list[str | None] = [None] * count
    status: list[str | None] = [None] * count
    released: list[str | None] = [None] * count
    if ids:
        known, _, columns = store.columns("hazards", ["status"], geometry=False)
        status_of = dict(zip(known, columns["status"], strict=True))
        # Pairs come by place, then by hazard creation: the first open one wins, else the first released one.
        for place, hazard_id in zip(where.tolist(), ids, strict=True):
            if hazard[place] is not None:
                continue
            state = status_of.get(hazard_id)
            if state in OPEN_STATUSES:
                hazard[place], status[place], released[place] = hazard_id, str(state), None
            elif released[place] is None:
                released[place] = hazard_id
    return Located(hazard, status, released, [])


def locate_geometries(store: Store, geometries: Sequence[BaseGeometry | None]) -> Located:
    """``locate_points`` for a file's geometries; those that are not points are skipped (and listed)."""
    array = np.array(list(geometries), dtype=object)
    is_point = np.zeros(len(array), dtype=bool)
    if len(array):
        present = ~shapely.is_missing(array)
        is_point[present] = (shapely.get_type_id(array[present]) == 0) & ~shapely.is_empty(array[present])
    chosen = np.flatnonzero(is_point)
    coordinates = shapely.get_coordinates(array[chosen]) if len(chosen) else np.empty((0, 2))
    found = locate_points(store, coordinates)
    count = len(array)
    hazard: list[str | None] = [None] * count
    status: list[str | None] = [None] * count
    released: list[str | None] = [None] * count
    for k, i in enumerate(chosen.tolist()):
        hazard[i], status[i], released[i] = found.hazard_id[k], found.hazard_status[k], found.released_id[k]
    return Located(hazard, status, released, np.flatnonzero(~is_point).tolist())
