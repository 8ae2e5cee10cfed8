"""The storage contract. Every backend (GeoPackage file, PostGIS server) implements ``Store`` and passes
the same contract tests (tests/store/test_contract.py).

Rules every backend keeps:
- every write is one transaction: all of it lands or none of it does, even if the process is killed;
- every create, update and status change writes a new ``Version`` (who, when, why) and keeps the old ones;
- nothing is deleted: ``retire`` takes a record out of the current layer and keeps its history;
- derived fields (the ledger figures) are written with ``set_derived`` and are not versioned;
- every change to the ledger's inputs is counted (``ledger_state``), so stale figures are always known.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from enum import Enum
from types import TracebackType
from typing import Literal, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
from shapely.geometry.base import BaseGeometry

from landrelease.domain.ledger import LedgerState
from landrelease.domain.records import Change, Feature, NewFeature, NewFeatures, Scalar, Version
from landrelease.store.dumps import LayerDump, ServiceDump

#: Columnar access for fast analysis: ids, shapely geometries (object array) and attribute columns.
Geometries = npt.NDArray[np.object_]


class Keep(Enum):
    """Marker for "leave the geometry as it is" in ``Store.update``."""

    GEOMETRY = "keep"


KEEP = Keep.GEOMETRY


@runtime_checkable
class Store(Protocol):
    """A national mine action database."""

    #: Where the data lives, for messages (a file path or a URL without password).
    location: str

    def schema_version(self) -> int:
        """The schema version of the open database."""
        ...

    def add(self, layer: str, features: Sequence[NewFeature], change: Change) -> list[str]:
        """Add features to a layer in one transaction; return their new ids in order."""
        ...

    def add_batch(self, layer: str, batch: NewFeatures, change: Change) -> list[str]:
        """``add`` for a batch held as columns (an import of a national file): the same checks, history
        and ledger bookkeeping, without a dict per feature; ``InvalidInput`` if a column's length differs."""
        ...

    def get(self, record_id: str) -> Feature:
        """The current version of a record; ``NotFound`` if there is none."""
        ...

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
        """Write a new version of a record: changed attributes merge over the current ones.

        With ``expected_version`` (optimistic locking), a record that is no longer at that version is refused
        with ``Conflict``: a stale edit never overwrites a newer one."""
        ...

    def retire(self, record_id: str, change: Change) -> None:
        """Take a record out of the current layer, keeping its whole history."""
        ...

    def history(self, record_id: str) -> list[Version]:
        """Every version of a record, oldest first; ``NotFound`` if the id was never used."""
        ...

    def features(self, layer: str, bbox: tuple[float, float, float, float] | None = None) -> Iterator[Feature]:
        """Current features of a layer (those whose envelope meets ``bbox`` if given), in creation order."""
        ...

    def count(self, layer: str) -> int: ...

    def page(
        self,
        layer: str,
        *,
        equals: Mapping[str, Scalar] | None = None,
        bbox: tuple[float, float, float, float] | None = None,
        limit: int,
        offset: int = 0,
    ) -> tuple[list[Feature], int]:
        """One page of a layer's current features in creation order, the database doing the work: those
        whose fields equal ``equals`` (a missing value never matches) and whose envelope meets ``bbox``,
        ``limit`` of them from ``offset``; with the number matched in all."""
        ...

    def columns(
        self, layer: str, names: Sequence[str], *, geometry: bool = True
    ) -> tuple[list[str], Geometries, dict[str, list[Scalar]]]:
        """Columnar read of a whole layer: (ids, geometries, {name: values}), for vectorised analysis."""
        ...

    def polygons_at(self, layer: str, points: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.intp], list[str]]:
        """Which current records of a polygon layer the places lie in ("is this place in a hazardous area?"):
        ``points`` are rows of (longitude, latitude); the answer is every (place position, record id) pair
        with the place in the polygon or on its boundary, ordered by place, then by record creation."""
        ...

    def set_derived(
        self, layer: str, values: Mapping[str, Mapping[str, Scalar]], *, ledger_synced: int | None = None
    ) -> None:
        """Write derived (unversioned) fields: ``{record_id: {field: value}}``, one transaction. With
        ``ledger_synced``, record in the same transaction that the stored ledger accounts for that many
        ledger-relevant changes (see ``ledger_state``)."""
        ...

    def ledger_state(self) -> LedgerState:
        """How many ledger-relevant changes (``domain.ledger.LEDGER_INPUTS``) the database has seen, counted
        by the database itself so that edits from other programs count, and how many the stored figures
        account for."""
        ...

    def dump(self, layer: str) -> LayerDump:
        """A whole layer for ``load`` into another store: every version of every record (retired ones too),
        the derived figures and the id counter; the versions are read as they are iterated."""
        ...

    def dump_service(self) -> ServiceDump:
        """The service's own records (``landrelease.accounts``) for ``load`` into another store."""
        ...

    def load(
        self,
        layers: Iterable[LayerDump],
        ledger: LedgerState,
        progress: Callable[[int], None] | None = None,
        service: ServiceDump | None = None,
    ) -> None:
        """Write dumped layers as they were (ids, version numbers, authors, times, reasons, retirements),
        their id counters, the ledger state and the ``service`` records, in ONE transaction, into a database
        holding no records and no users (``InvalidInput`` otherwise). ``progress`` is told how many versions
        each step wrote."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> Store: ...

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None: ...


@runtime_checkable
class TileSource(Protocol):
    """An optional capability: a store that cuts Mapbox vector tiles itself (PostGIS with ``ST_AsMVT``)."""

    def tile(self, layer: str, z: int, x: int, y: int, properties: Sequence[str] = ()) -> bytes | None:
        """Tile z/x/y (Web Mercator XYZ) of ``layer`` as MVT bytes: one layer named after ``layer``, extent
        4096, features carrying ``id`` and ``properties``; ``b""`` when no feature touches it; None when this
        store does not cut tiles (the service then cuts them from its own index)."""
        ...
