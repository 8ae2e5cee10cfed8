"""A per-process cache of each layer's geometries and an STRtree over them, so that a tile or a ``bbox``
request does not read and decode 100,000 polygons.

When is a cached index stale? The ``Store`` protocol offers two cheap counters, and they are checked on
every use (each is one small SQL query, ~0.1 ms):

- ``store.count(layer)`` changes when records are added or retired;
- ``store.ledger_state().changes`` counts, in the database itself, every insert, delete and geometry
  change of the ledger's layers (hazards, outcomes), made by anyone, landrelease, QGIS or GDAL.

So for hazards and outcomes, the big layers, the index is exact. For the other layers a geometry edit that
leaves the count unchanged is not seen by either counter: those indexes are rebuilt after ``max_age``
seconds at most (``MAX_AGE``). Attributes kept for tiles (class, status, kind) change without touching any
counter (a status change is not a ledger input), so they are re-read, without geometries, when older than
``ATTRIBUTE_AGE`` seconds (~0.1 s for 100,000 hazards).
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely

from landrelease.domain.ledger import LEDGER_INPUTS
from landrelease.domain.records import Scalar
from landrelease.domain.schema import Layer
from landrelease.store.protocol import Geometries, Store

MAX_AGE = 60.0
ATTRIBUTE_AGE = 5.0
#: Half the circumference of the Web Mercator sphere (EPSG:3857), in metres.
MERCATOR_HALF = 20037508.342789244
MERCATOR_MAX_LAT = 85.05112877980659

Signature = tuple[int, int | None]


def to_mercator(geometries: Geometries) -> Geometries:
    """Longitude/latitude geometries projected to Web Mercator metres (vectorised)."""

    def project(coords: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        lon = coords[:, 0]
        lat = np.clip(coords[:, 1], -MERCATOR_MAX_LAT, MERCATOR_MAX_LAT)
        x = lon * (MERCATOR_HALF / 180.0)
        y = np.log(np.tan(np.pi / 4 + np.radians(lat) / 2)) * (MERCATOR_HALF / np.pi)
        return np.column_stack((x, y))

    result: Geometries = shapely.transform(geometries, project)
    return result


class LayerIndex:
    """One layer's current geometries (in store order), an STRtree, and a few attribute columns."""

    def __init__(
        self,
        layer: Layer,
        signature: Signature,
        ids: list[str],
        geometries: Geometries,
        attributes: dict[str, list[Scalar]],
    ) -> None:
        self.layer = layer
        self.signature = signature
        self.built = time.monotonic()
        self.attributes_read = self.built
        self.ids = ids
        self.geometries = geometries
        self.attributes = attributes
        present = ~shapely.is_missing(geometries) if len(geometries) else np.zeros(0, dtype=bool)
        self._present = np.flatnonzero(present)
        # The tree holds only records with a geometry; its indices map back through ``_present``.
        self.tree = shapely.STRtree(geometries[self._present])
        self._mercator: Geometries | None = None
        self._lock = threading.Lock()

    @property
    def bounds(self) -> tuple[float, float, float, float] | None:
        """The layer's extent (minx, miny, maxx, maxy), or None if it has no geometry."""
        if not len(self._present):
            return None
        minx, miny, maxx, maxy = shapely.total_bounds(self.geometries[self._present])
        return float(minx), float(miny), float(maxx), float(maxy)

    def query(self, bbox: tuple[float, float, float, float], *, exact: bool = True) -> npt.NDArray[np.intp]:
        """Positions (sorted, in store order) of records whose geometry meets ``bbox``; with ``exact=False``
        those whose envelope does (enough for tiles, which clip anyway)."""
        box = shapely.box(*bbox)
        found = self.tree.query(box, predicate="intersects" if exact else None)
        return np.sort(self._present[found])

    def mercator(self) -> Geometries:
        """All geometries in Web Mercator, projected once on first use."""
        with self._lock:
            if self._mercator is None:
                self._mercator = to_mercator(self.geometries)
            return self._mercator


@dataclass
class _Slot:
    lock: threading.Lock
    index: LayerIndex | None = None


class LayerCache:
    """Indexes per (store, layer), built on first use and rebuilt when stale (see the module docstring)."""

    def __init__(self, max_age: float = MAX_AGE, attribute_age: float = ATTRIBUTE_AGE) -> None:
        self.max_age = max_age
        self.attribute_age = attribute_age
        self._slots: weakref.WeakKeyDictionary[Store, dict[str, _Slot]] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def _slot(self, store: Store, layer: Layer) -> _Slot:
        with self._lock:
            layers = self._slots.setdefault(store, {})
            return layers.setdefault(layer.name, _Slot(threading.Lock()))

    @staticmethod
    def signature(store: Store, layer: Layer) -> Signature:
        ledger = store.ledger_state().changes if layer.name in LEDGER_INPUTS else None
        return store.count(layer.name), ledger

    def get(self, store: Store, layer: Layer, attributes: Sequence[str] = ()) -> LayerIndex:
        """The current index of ``layer`` holding at least the ``attributes`` columns."""
        slot = self._slot(store, layer)
        with slot.lock:
            signature = self.signature(store, layer)
            index = slot.index
            now = time.monotonic()
            stale = (
                index is None
                or index.signature != signature
                or (layer.name not in LEDGER_INPUTS and now - index.built > self.max_age)
                or not set(attributes) <= set(index.attributes)
            )
            if stale:
                names = sorted(set(attributes) | set(index.attributes if index is not None else ()))
                ids, geometries, values = store.columns(layer.name, names)
                slot.index = index = LayerIndex(layer, signature, ids, geometries, values)
            elif index is not None and index.attributes and now - index.attributes_read > self.attribute_age:
                ids, _, values = store.columns(layer.name, list(index.attributes), geometry=False)
                if ids == index.ids:
                    index.attributes = values
                    index.attributes_read = now
                else:  # records changed under the same counters: start again
                    ids, geometries, values = store.columns(layer.name, list(index.attributes))
                    slot.index = index = LayerIndex(layer, signature, ids, geometries, values)
            assert index is not None
            return index


#: The process-wide cache the OGC API and the tiles share.
LAYER_CACHE = LayerCache()
