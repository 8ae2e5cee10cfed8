"""Reads from a replica, writes to the primary: one ``Store`` over two.

``RoutedStore`` forwards every write (add, update, retire, set_derived) to the primary and every read to the
replica, unless the replica may not yet hold what was written through this store: a ``Freshness`` policy
says when a read must go to the primary instead (read-your-writes). Two policies:

- ``StickyAfterWrite``: once anything was written, every later read goes to the primary. Right for any pair
  of stores; what a replica whose position cannot be compared with the primary's gets.
- ``store.postgis.replication.ReplayPosition``: a read goes to the replica once the replica has replayed the
  primary's WAL up to the last write made here (waiting briefly, then reading from the primary).

The schema version is read from the primary: it is the authority that upgrades the schema.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt
from shapely.geometry.base import BaseGeometry

from landrelease.domain.ledger import LedgerState
from landrelease.domain.records import Change, Feature, NewFeature, NewFeatures, Scalar, Version
from landrelease.store.dumps import LayerDump, ServiceDump
from landrelease.store.protocol import KEEP, Geometries, Keep, Store, TileSource


class Freshness(Protocol):
    """When may a read go to the replica?"""

    def written(self) -> None:
        """A write through this store has just committed on the primary."""
        ...

    def fresh(self) -> bool:
        """True if the replica holds every write made through this store (so a read may go there)."""
        ...

    def close(self) -> None: ...


class StickyAfterWrite:
    """Reads go to the replica until the first write, then to the primary for good (a command that wrote
    reads its own writes; a read-only command never touches the primary)."""

    def __init__(self) -> None:
        self._wrote = threading.Event()

    def written(self) -> None:
        self._wrote.set()

    def fresh(self) -> bool:
        return not self._wrote.is_set()

    def close(self) -> None:
        return None


class RoutedStore:
    """A ``Store`` whose reads go to ``replica`` and writes to ``primary`` (see the module's docstring)."""

    def __init__(self, primary: Store, replica: Store, freshness: Freshness | None = None) -> None:
        self.primary = primary
        self.replica = replica
        self.freshness: Freshness = freshness if freshness is not None else StickyAfterWrite()
        #: Messages and reports name the primary: it holds the national record.
        self.location = primary.location
        self.reads_from = replica.location
        self._counts = {"primary": 0, "replica": 0}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"RoutedStore(writes={self.primary.location!r}, reads={self.replica.location!r})"

    @property
    def reads(self) -> dict[str, int]:
        """How many reads went to the primary and to the replica (for tests and diagnostics)."""
        with self._lock:
            return dict(self._counts)

    def _reader(self) -> Store:
        target = "replica" if self.freshness.fresh() else "primary"
        with self._lock:
            self._counts[target] += 1
        return self.replica if target == "replica" else self.primary

    # --- writes: always the primary ---------------------------------------------------------------------

    def add(self, layer: str, features: Sequence[NewFeature], change: Change) -> list[str]:
        ids = self.primary.add(layer, features, change)
        self.freshness.written()  # only after success: a failed write is one rolled-back transaction
        return ids

    def add_batch(self, layer: str, batch: NewFeatures, change: Change) -> list[str]:
        ids = self.primary.add_batch(layer, batch, change)
        self.freshness.written()
        return ids

    def update(
        self,
        record_id: str,
        change: Change,
        attributes: Mapping[str, Scalar] | None = None,
        geometry: BaseGeometry | Literal[Keep.GEOMETRY] | None = KEEP,
        *,
        status_change: bool = False,
        expected_version: int | None = None,
    ) -> Feature:
        feature = self.primary.update(
            record_id, change, attributes, geometry, status_change=status_change, expected_version=expected_version
        )
        self.freshness.written()
        return feature

    def retire(self, record_id: str, change: Change) -> None:
        self.primary.retire(record_id, change)
        self.freshness.written()

    def set_derived(
        self, layer: str, values: Mapping[str, Mapping[str, Scalar]], *, ledger_synced: int | None = None
    ) -> None:
        self.primary.set_derived(layer, values, ledger_synced=ledger_synced)
        self.freshness.written()

    def load(
        self,
        layers: Iterable[LayerDump],
        ledger: LedgerState,
        progress: Callable[[int], None] | None = None,
        service: ServiceDump | None = None,
    ) -> None:
        self.primary.load(layers, ledger, progress, service)
        self.freshness.written()

    # --- reads: the replica when it is fresh enough -----------------------------------------------------

    def schema_version(self) -> int:
        return self.primary.schema_version()

    def get(self, record_id: str) -> Feature:
        return self._reader().get(record_id)

    def history(self, record_id: str) -> list[Version]:
        return self._reader().history(record_id)

    def features(self, layer: str, bbox: tuple[float, float, float, float] | None = None) -> Iterator[Feature]:
        return self._reader().features(layer, bbox)  # the store is chosen now, when the listing is asked for

    def count(self, layer: str) -> int:
        return self._reader().count(layer)

    def page(
        self,
        layer: str,
        *,
        equals: Mapping[str, Scalar] | None = None,
        bbox: tuple[float, float, float, float] | None = None,
        limit: int,
        offset: int = 0,
    ) -> tuple[list[Feature], int]:
        return self._reader().page(layer, equals=equals, bbox=bbox, limit=limit, offset=offset)

    def columns(
        self, layer: str, names: Sequence[str], *, geometry: bool = True
    ) -> tuple[list[str], Geometries, dict[str, list[Scalar]]]:
        return self._reader().columns(layer, names, geometry=geometry)

    def polygons_at(self, layer: str, points: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.intp], list[str]]:
        return self._reader().polygons_at(layer, points)

    def ledger_state(self) -> LedgerState:
        return self._reader().ledger_state()

    def dump(self, layer: str) -> LayerDump:
        return self._reader().dump(layer)

    def dump_service(self) -> ServiceDump:
        return self._reader().dump_service()  # a backup or migration from a replica spares the primary

    def tile(self, layer: str, z: int, x: int, y: int, properties: Sequence[str] = ()) -> bytes | None:
        """A ``TileSource`` when the store reads from is one; None (the service cuts the tile) otherwise."""
        reader = self._reader()
        return reader.tile(layer, z, x, y, properties) if isinstance(reader, TileSource) else None

    # --- lifetime ---------------------------------------------------------------------------------------

    def close(self) -> None:
        try:
            self.freshness.close()
            self.replica.close()
        finally:
            self.primary.close()

    def __enter__(self) -> RoutedStore:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()
