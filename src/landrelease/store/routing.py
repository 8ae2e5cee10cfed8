"""Reads from a replica, writes to the primary: one ``Store`` over two.

``RoutedStore`` forwards every write (add, update, retire, set_derived) to the primary and every read to the
replica, unless the replica may not yet hold what was written through this store: a ``Freshness`` policy
says when a read must go to the primary instead (read-your-writes). Two policies:

- ``StickyAfterWrite``: once anything was written, every later read goes to the primary. Right for any pair
  of stores; what a replica whose position cannot be compared with the primary's gets.
- ``store.postgis.replication.ReplayPosition``: a read goes to the replica once the replica has replayed the
  primary's WAL up to the last write made here (waiting briefly, then reading from the primary).

A replica is a convenience, never a single point of failure: when it is unavailable (at opening, or a read
on it fails because the server went away) or further behind the primary than ``max_lag`` seconds, reads go to
the primary, one warning line is logged (``landrelease.store``; an info line when reads return), and the
replica is tried again after ``retry_after`` seconds (reopened in a background thread, so no read waits for
a dead server).

The schema version is read from the primary: it is the authority that upgrades the schema.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Literal, Protocol, TypeVar

import numpy as np
import numpy.typing as npt
from shapely.geometry.base import BaseGeometry

from landrelease.domain.ledger import LedgerState
from landrelease.domain.records import Change, Feature, NewFeature, NewFeatures, Scalar, Version
from landrelease.errors import StoreError, StoreUnavailable
from landrelease.store.dumps import LayerDump, ServiceDump
from landrelease.store.protocol import KEEP, Geometries, Keep, Store, TileSource

log = logging.getLogger("landrelease.store")

#: After the replica failed or fell too far behind, reads go to the primary this long before it is tried again.
RETRY_AFTER = 30.0
#: A replica seen further behind the primary than this many seconds is bypassed (``--max-replica-lag``).
MAX_LAG = 30.0
#: How often (seconds) a read asks how far behind the replica is: two small queries, not one per read.
LAG_CHECK = 5.0

T = TypeVar("T")


class Freshness(Protocol):
    """When may a read go to the replica?"""

    def written(self) -> None:
        """A write through this store has just committed on the primary."""
        ...

    def fresh(self) -> bool:
        """True if the replica holds every write made through this store (so a read may go there)."""
        ...

    def lag(self) -> float | None:
        """How many seconds the replica is known to be behind the primary (None: it cannot be told)."""
        ...

    def rejoin(self) -> None:
        """Reads come back to the replica after a spell on the primary: hold them on the primary until the
        replica has what those reads saw (so a reader never goes back in time), where that can be told."""
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

    def lag(self) -> float | None:
        return None

    def rejoin(self) -> None:
        return None

    def close(self) -> None:
        return None


#: Opens the replica again: its store and a new freshness policy for it (raises a ``LandreleaseError``
#: while it cannot be opened).
Reopen = Callable[[], tuple[Store, Freshness]]


@dataclass(frozen=True)
class _Link:
    """The replica's store and its freshness, replaced together when the replica is opened again (a read
    holding one of them never meets the other's successor)."""

    store: Store
    freshness: Freshness

    def close(self) -> None:
        try:
            self.freshness.close()
        finally:
            self.store.close()


class RoutedStore:
    """A ``Store`` whose reads go to ``replica`` and writes to ``primary`` (see the module's docstring).

    ``replica`` None: it could not be opened (``reads_from`` names it); reads go to the primary until
    ``reopen`` succeeds. Without ``reopen`` a lost replica is not tried again."""

    def __init__(
        self,
        primary: Store,
        replica: Store | None,
        freshness: Freshness | None = None,
        *,
        reopen: Reopen | None = None,
        reads_from: str | None = None,
        max_lag: float = MAX_LAG,
        retry_after: float = RETRY_AFTER,
        lag_check: float = LAG_CHECK,
    ) -> None:
        self.primary = primary
        #: Messages and reports name the primary: it holds the national record.
        self.location = primary.location
        where = replica.location if replica is not None else reads_from
        if where is None:
            raise ValueError("a RoutedStore without a replica needs reads_from (the replica's location)")
        self.reads_from: str = where
        self.max_lag, self.retry_after, self.lag_check = max_lag, retry_after, lag_check
        self._link = None if replica is None else _Link(replica, freshness or StickyAfterWrite())
        self._reopen = reopen
        self._counts = {"primary": 0, "replica": 0}
        self._lock = threading.Lock()  # the counts and the routing state below
        self._writing = threading.Lock()  # a write noting its position vs. the replica being replaced
        self._checking = threading.Lock()  # one lag check at a time; other reads go on meanwhile
        self._wrote = False
        self._closed = False
        self._reopening = False
        self._retry_at = time.monotonic() + retry_after  # when a lost replica is next tried
        self._next_check = 0.0  # when the lag is next checked (the first read checks it)
        self._lagging = False  # bypassed for lag until ``_next_check``
        self._down_reason: str | None = None  # why the replica is unavailable, once that has been said

    def __repr__(self) -> str:
        return f"RoutedStore(writes={self.primary.location!r}, reads={self.reads_from!r})"

    @property
    def reads(self) -> dict[str, int]:
        """How many reads went to the primary and to the replica (for tests and diagnostics)."""
        with self._lock:
            return dict(self._counts)

    @property
    def replica(self) -> Store | None:
        """The replica's store, or None while reads bypass it because it is unavailable."""
        link = self._link
        return None if link is None else link.store

    @property
    def freshness(self) -> Freshness | None:
        """The replica's freshness policy (None while it is unavailable)."""
        link = self._link
        return None if link is None else link.freshness

    @property
    def bypassed(self) -> bool:
        """True while reads go to the primary because the replica is unavailable or too far behind."""
        return self._link is None or self._lagging

    # --- choosing where a read goes ---------------------------------------------------------------------

    def _route(self) -> _Link | None:
        """The replica's link if this read may go there, else None (the primary)."""
        link = self._link
        now = time.monotonic()
        if link is None:
            if self._reopen is not None and now >= self._retry_at:
                self._start_reopening()
            return None
        if now >= self._next_check and self._checking.acquire(blocking=False):
            try:
                if now >= self._next_check:  # not done by another read meanwhile
                    self._check_lag(link, now)
            finally:
                self._checking.release()
        if self._lagging or self._link is not link:
            return None
        try:
            fresh = link.freshness.fresh()
        except StoreUnavailable as error:
            self._lost(link, error)
            return None
        return link if fresh else None

    def _count(self, target: str) -> None:
        with self._lock:
            self._counts[target] += 1

    def _read(self, call: Callable[[Store], T]) -> T:
        """``call`` on the replica when a read may go there, falling back to the primary if it has gone."""
        link = self._route()
        if link is not None:
            try:
                result = call(link.store)
            except StoreUnavailable as error:
                self._lost(link, error)
            except StoreError:
                if self._link is link:
                    raise
                # Set aside (and closed) by another read while this one was on its way: the primary answers.
            else:
                self._count("replica")
                return result
        self._count("primary")
        return call(self.primary)

    def _check_lag(self, link: _Link, now: float) -> None:
        try:
            lag = link.freshness.lag()
        except StoreUnavailable as error:
            self._lost(link, error)
            return
        if lag is not None and lag > self.max_lag:
            self._next_check = now + self.retry_after
            if not self._lagging:
                self._lagging = True
                log.warning(
                    "reads go to the primary: the read replica %s is %.0f s behind it (more than %g s); "
                    "checking it again every %g s",
                    self.reads_from, lag, self.max_lag, self.retry_after,
                )  # fmt: skip
            return
        self._next_check = now + self.lag_check
        if self._lagging:
            try:
                link.freshness.rejoin()
            except StoreUnavailable as error:
                self._lost(link, error)
                return
            self._lagging = False
            log.info("reads go to the read replica %s again: it has caught up", self.reads_from)

    def _lost(self, link: _Link, error: StoreUnavailable) -> None:
        """The replica went away during a read: reads go to the primary, and it is tried again later."""
        with self._writing:
            if self._link is not link:  # another read noticed first (or it was already replaced)
                return
            self._link = None
        self._set_aside(link, error)

    def _set_aside(self, link: _Link, error: StoreError) -> None:
        """After ``link`` was taken out of use: say so once, close it, try the replica again later."""
        with self._lock:
            self._retry_at = time.monotonic() + self.retry_after
            self._lagging = False
        self._say_down(error.message)
        try:
            link.close()
        except Exception:  # its connections are broken; closing is best effort
            log.debug("closing the lost replica %s failed", self.reads_from, exc_info=True)

    def _say_down(self, reason: str) -> None:
        """One warning line when the replica becomes unavailable, not one per read or per retry (those are
        logged at debug level)."""
        with self._lock:
            said, self._down_reason = self._down_reason, reason
        if said is not None:
            log.debug("the read replica %s is still unavailable (%s)", self.reads_from, reason)
            return
        log.warning(
            "reads go to the primary while the read replica is unavailable (%s); trying it again every %g s",
            reason, self.retry_after,
        )  # fmt: skip

    def unavailable(self, reason: str) -> None:
        """Say why the replica could not be opened (``replica`` None): the one warning line."""
        self._say_down(reason)

    def _start_reopening(self) -> None:
        with self._lock:
            if self._reopening or self._closed:
                return
            self._reopening = True
            self._retry_at = time.monotonic() + self.retry_after
        threading.Thread(target=self._reopen_replica, name="landrelease-replica", daemon=True).start()

    def _reopen_replica(self) -> None:
        """In the background: open the replica again and send reads back to it."""
        assert self._reopen is not None
        try:
            try:
                store, freshness = self._reopen()
            except Exception as error:  # still unavailable, whatever the reason: try again later
                self._say_down(getattr(error, "message", None) or f"{type(error).__name__}: {error}")
                return
            link = _Link(store, freshness)
            with self._writing:
                if self._closed:
                    link.close()
                    return
                try:
                    if self._wrote:  # writes made while it was away must be read back from it too
                        freshness.written()
                except Exception:
                    link.close()
                    raise
                self._link = link
            with self._lock:
                self._next_check = 0.0
                self._down_reason = None
            log.info("reads go to the read replica %s again: it is back", self.reads_from)
        except Exception:  # never a traceback from a background thread
            log.debug("reopening the replica %s failed", self.reads_from, exc_info=True)
        finally:
            with self._lock:
                self._reopening = False
                self._retry_at = time.monotonic() + self.retry_after

    def _written(self) -> None:
        """After a write committed on the primary: note it, so later reads see it (read-your-writes).

        The write stands whatever happens here: if where the replica must reach cannot be told, the replica
        is set aside (reads go to the primary, which has the write) rather than the write reported failed."""
        with self._writing:
            self._wrote = True
            link = self._link
            if link is None:
                return
            try:
                link.freshness.written()
                return
            except StoreError as error:  # unreachable, or any other failure of that one query
                failure = error
            self._link = None  # before any read could take the replica for fresh
        self._set_aside(link, failure)

    # --- writes: always the primary ---------------------------------------------------------------------

    def add(self, layer: str, features: Sequence[NewFeature], change: Change) -> list[str]:
        ids = self.primary.add(layer, features, change)
        self._written()  # only after success: a failed write is one rolled-back transaction
        return ids

    def add_batch(self, layer: str, batch: NewFeatures, change: Change) -> list[str]:
        ids = self.primary.add_batch(layer, batch, change)
        self._written()
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
        self._written()
        return feature

    def retire(self, record_id: str, change: Change) -> None:
        self.primary.retire(record_id, change)
        self._written()

    def set_derived(
        self, layer: str, values: Mapping[str, Mapping[str, Scalar]], *, ledger_synced: int | None = None
    ) -> None:
        self.primary.set_derived(layer, values, ledger_synced=ledger_synced)
        self._written()

    def load(
        self,
        layers: Iterable[LayerDump],
        ledger: LedgerState,
        progress: Callable[[int], None] | None = None,
        service: ServiceDump | None = None,
    ) -> None:
        self.primary.load(layers, ledger, progress, service)
        self._written()

    # --- reads: the replica when it is there and fresh enough -------------------------------------------

    def schema_version(self) -> int:
        return self.primary.schema_version()

    def get(self, record_id: str) -> Feature:
        return self._read(lambda store: store.get(record_id))

    def history(self, record_id: str) -> list[Version]:
        return self._read(lambda store: store.history(record_id))

    def features(self, layer: str, bbox: tuple[float, float, float, float] | None = None) -> Iterator[Feature]:
        link = self._route()  # the store is chosen now, when the listing is asked for
        if link is None:
            self._count("primary")
            return self.primary.features(layer, bbox)
        self._count("replica")
        return self._features_falling_back(link, layer, bbox)

    def _features_falling_back(
        self, link: _Link, layer: str, bbox: tuple[float, float, float, float] | None
    ) -> Iterator[Feature]:
        """The replica's listing; if the replica goes away part way, the rest from the primary (both list in
        the same order; the records already given are skipped, so none is given twice)."""
        given: set[str] = set()
        try:
            for feature in link.store.features(layer, bbox):
                given.add(feature.id)
                yield feature
            return
        except StoreUnavailable as error:
            self._lost(link, error)
        except StoreError:
            if self._link is link:
                raise
            # Set aside (and closed) by another read part way through the listing: the rest from the primary.
        self._count("primary")
        for feature in self.primary.features(layer, bbox):
            if feature.id not in given:
                yield feature

    def count(self, layer: str) -> int:
        return self._read(lambda store: store.count(layer))

    def page(
        self,
        layer: str,
        *,
        equals: Mapping[str, Scalar] | None = None,
        bbox: tuple[float, float, float, float] | None = None,
        limit: int,
        offset: int = 0,
    ) -> tuple[list[Feature], int]:
        return self._read(lambda store: store.page(layer, equals=equals, bbox=bbox, limit=limit, offset=offset))

    def columns(
        self, layer: str, names: Sequence[str], *, geometry: bool = True
    ) -> tuple[list[str], Geometries, dict[str, list[Scalar]]]:
        return self._read(lambda store: store.columns(layer, names, geometry=geometry))

    def polygons_at(self, layer: str, points: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.intp], list[str]]:
        return self._read(lambda store: store.polygons_at(layer, points))

    def ledger_state(self) -> LedgerState:
        return self._read(lambda store: store.ledger_state())

    def dump(self, layer: str) -> LayerDump:
        return self._read(lambda store: store.dump(layer))

    def dump_service(self) -> ServiceDump:
        return self._read(lambda store: store.dump_service())  # a backup or migration from a replica spares the primary

    def tile(self, layer: str, z: int, x: int, y: int, properties: Sequence[str] = ()) -> bytes | None:
        """A ``TileSource`` when the store reads from is one; None (the service cuts the tile) otherwise."""
        return self._read(
            lambda store: store.tile(layer, z, x, y, properties) if isinstance(store, TileSource) else None
        )

    # --- lifetime ---------------------------------------------------------------------------------------

    def close(self) -> None:
        with self._writing:
            self._closed = True
            link, self._link = self._link, None
        try:
            if link is not None:
                link.close()
        finally:
            self.primary.close()

    def __enter__(self) -> RoutedStore:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()
