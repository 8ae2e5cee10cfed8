"""Reads from a PostgreSQL streaming replica (``--read-db``), with read-your-writes.

Streaming replication is asynchronous: a replica replays the primary's write-ahead log (WAL) a little after
the primary committed it. So after every write through a ``RoutedStore`` we note the primary's WAL position
(``pg_current_wal_insert_lsn()``: past our commit record even with ``synchronous_commit = off``, where the
written position may not have reached it yet), and a later read goes to the replica only once the replica
has replayed that far (``pg_last_wal_replay_lsn()``). If it has not within ``wait`` seconds the read goes to
the primary, which is always right. A command that only reads never touches the primary's tables; one that
writes and then reads (an import, then the ledger and report) sees its own writes; the service, sharing one
store between requests, never answers a request with data older than a write it has already made.

Writes by other processes are not waited for: they reach the replica after its replication lag, as on any
asynchronous replica. A replica seen more than ``max_lag`` seconds behind, or unavailable, is bypassed
(``store.routing``); ``ReplayPosition.lag`` measures the lag by the primary's positions, not by clocks.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

import psycopg

from landrelease.errors import StoreError, StoreUnavailable
from landrelease.store.postgis.connection import _one_line, connect_error, safe_location, store_error
from landrelease.store.postgis.pool import OPTIONS
from landrelease.store.protocol import Store
from landrelease.store.routing import LAG_CHECK, MAX_LAG, RETRY_AFTER, Freshness, RoutedStore, StickyAfterWrite

#: How long a read after a write waits for the replica before it reads from the primary instead (seconds).
READ_WAIT = 0.2
#: How long opening waits for the replica to replay a schema the primary has just made or upgraded.
OPEN_WAIT = 30.0
#: The most positions ``ReplayPosition.lag`` remembers (one per lag check while the replica is behind).
LAG_SAMPLES = 1000


def wal_position(text: str) -> int:
    """A ``pg_lsn`` ('16/B374D848') as a number, so positions compare."""
    high, _, low = text.partition("/")
    return (int(high, 16) << 32) | int(low, 16)


class ReplayPosition:
    """Freshness by WAL position: the replica is fresh once it has replayed the last write made here."""

    def __init__(self, primary_url: str, replica_url: str, *, wait: float = READ_WAIT) -> None:
        self._primary_url = primary_url
        self._primary = _connect(primary_url)
        self._reconnecting = threading.Lock()
        try:
            self._replica = _connect(replica_url)
        except BaseException:
            self._primary.close()
            raise
        self._primary_location = safe_location(primary_url)
        self._replica_location = safe_location(replica_url)
        self._wait = wait
        self._lock = threading.Lock()
        self._written = 0  # the primary's WAL position after the last write through this store
        self._replayed = 0  # the furthest position the replica was seen to have replayed
        #: (when, the primary's position then) for positions the replica had not replayed when last asked.
        self._ahead: deque[tuple[float, int]] = deque()

    def written(self) -> None:
        position = self.primary_position()
        with self._lock:
            self._written = max(self._written, position)

    def fresh(self) -> bool:
        with self._lock:
            target, replayed = self._written, self._replayed
        # Positions only grow: once replayed, always replayed; no round trip for reads long after a write.
        return replayed >= target or self.wait_for(target, self._wait)

    def lag(self) -> float | None:
        """Seconds the replica has been known to be behind: since the earliest moment this object saw the
        primary at a position the replica has still not replayed (0 once it has replayed the primary's
        position now). A lower bound, as fine as the calls are frequent, that needs neither the servers'
        clocks to agree nor the primary to be busy (``pg_last_xact_replay_timestamp()`` would need both).
        None when the replica is not replaying WAL."""
        primary = self.primary_position()
        replayed = self.replica_position()
        now = time.monotonic()
        if replayed is None:
            return None
        with self._lock:
            self._replayed = max(self._replayed, replayed)
            if replayed >= primary:
                self._ahead.clear()
                return 0.0
            while self._ahead and self._ahead[0][1] <= replayed:
                self._ahead.popleft()
            if len(self._ahead) < LAG_SAMPLES:  # when full, keep the oldest: they give the bound
                self._ahead.append((now, primary))
            return now - self._ahead[0][0]

    def rejoin(self) -> None:
        """Reads return from the primary: the replica must first replay what the primary holds now."""
        self.written()

    def primary_position(self) -> int:
        """The primary's WAL position now (at or past every commit made before this call).

        The position has a session of its own on the primary, apart from the store's pool: when the server
        ended it (an idle timeout, an administrator, a restart the pool has recovered from) it is made again
        once, since a write that has just committed through the pool must not be reported as failed."""
        session = self._primary
        try:
            row = session.execute("SELECT pg_current_wal_insert_lsn()::text").fetchone()
        except psycopg.Error as error:
            if not session.broken:
                raise store_error(self._primary_location, error) from None
            session = self._primary_again(session)
            try:
                row = session.execute("SELECT pg_current_wal_insert_lsn()::text").fetchone()
            except psycopg.Error as again:
                raise store_error(self._primary_location, again) from None
        assert row is not None
        return wal_position(row[0])

    def _primary_again(self, lost: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
        """A new session on the primary in place of ``lost`` (made once, whichever thread noticed first)."""
        with self._reconnecting:
            if self._primary is lost:
                lost.close()
                self._primary = _connect(self._primary_url)
            return self._primary

    def replica_position(self) -> int | None:
        """How far the replica has replayed (None when it is not replaying: promoted or not a replica)."""
        try:
            row = self._replica.execute("SELECT pg_last_wal_replay_lsn()::text").fetchone()
        except psycopg.Error as error:
            raise store_error(self._replica_location, error) from None
        return None if row is None or row[0] is None else wal_position(row[0])

    def wait_for(self, position: int, wait: float) -> bool:
        """Wait up to ``wait`` seconds for the replica to replay up to ``position`` (no lock held meanwhile:
        other threads' reads are not held up by this one's wait)."""
        deadline = time.monotonic() + wait
        pause = 0.0005  # loopback replicas replay within a millisecond or two
        while True:
            replayed = self.replica_position()
            if replayed is not None:
                with self._lock:
                    self._replayed = max(self._replayed, replayed)
                if replayed >= position:
                    return True
            if time.monotonic() + pause > deadline:
                return False
            time.sleep(pause)
            pause = min(pause * 2, 0.05)

    def close(self) -> None:
        self._primary.close()
        self._replica.close()


def open_replicated(
    url: str,
    read_url: str,
    *,
    create: bool = False,
    wait: float = READ_WAIT,
    max_lag: float = MAX_LAG,
    retry_after: float = RETRY_AFTER,
    lag_check: float = LAG_CHECK,
) -> RoutedStore:
    """The PostGIS database at ``url`` (the primary, for writes) with reads from ``read_url``.

    A streaming replica of the primary gets ``ReplayPosition``. A server that is not replaying WAL (another
    primary, a logical replica) has positions that do not compare with the primary's: it gets
    ``StickyAfterWrite`` (after a write, reads go to the primary). A replica that cannot be reached (or has
    not caught up within ``OPEN_WAIT``) is no reason to refuse: reads go to the primary, with one warning,
    until it can be opened. A ``--db`` that is itself a replica, or a replica of another cluster, is refused.
    """
    from landrelease.store.postgis.store import PostGISStore

    primary_location = safe_location(url)
    role = _role(url)
    if role.in_recovery:
        raise StoreError(f"{primary_location} is a read-only replica; --db must name the primary (writes go there)")
    primary = PostGISStore.open(url, create=create)  # makes or upgrades the schema: only the primary can

    def reopen() -> tuple[Store, Freshness]:
        return _open_reader(url, read_url, role, wait)

    try:
        try:
            replica, freshness = reopen()
        except StoreUnavailable as error:
            routed = RoutedStore(
                primary, None, reopen=reopen, reads_from=safe_location(read_url),
                max_lag=max_lag, retry_after=retry_after, lag_check=lag_check,
            )  # fmt: skip
            routed.unavailable(error.message)
            return routed
        return RoutedStore(
            primary, replica, freshness, reopen=reopen, max_lag=max_lag, retry_after=retry_after, lag_check=lag_check
        )
    except BaseException:
        primary.close()
        raise


def _open_reader(url: str, read_url: str, role: _Role, wait: float) -> tuple[Store, Freshness]:
    """The replica's store and freshness, once it has replayed what the primary holds now (``OPEN_WAIT``).

    ``StoreUnavailable`` when it cannot be reached or has not caught up: reads go to the primary meanwhile."""
    from landrelease.store.postgis.store import PostGISStore

    primary_location, replica_location = safe_location(url), safe_location(read_url)
    replica_role = _role(read_url)
    known = role.system is not None and replica_role.system is not None  # None: not allowed to ask
    if replica_role.in_recovery and known and replica_role.system != role.system:
        raise StoreError(f"{replica_location} is a replica of another server, not of {primary_location}")
    if not replica_role.in_recovery:
        return PostGISStore.open(read_url), StickyAfterWrite()
    position = ReplayPosition(url, read_url, wait=wait)
    try:
        if not position.wait_for(position.primary_position(), OPEN_WAIT):
            raise StoreUnavailable(
                f"{replica_location} has not caught up with {primary_location} within {OPEN_WAIT:.0f} s; "
                "is replication running? (see pg_stat_replication on the primary)"
            )
        return PostGISStore.open(read_url), position
    except BaseException:
        position.close()
        raise


class _Role:
    def __init__(self, in_recovery: bool, system: int | None) -> None:
        self.in_recovery = in_recovery
        self.system = system


def _role(url: str) -> _Role:
    """Is the server replaying WAL (a hot standby), and which cluster is it (its system identifier)?"""
    with _connect(url) as conn:
        try:
            row = conn.execute(
                "SELECT pg_is_in_recovery(), (SELECT system_identifier FROM pg_control_system())"
            ).fetchone()
        except psycopg.errors.InsufficientPrivilege:  # pg_control_system() revoked: judge by recovery alone
            row = conn.execute("SELECT pg_is_in_recovery(), NULL").fetchone()
        except psycopg.Error as error:
            raise store_error(safe_location(url), error) from None
    assert row is not None
    return _Role(bool(row[0]), None if row[1] is None else int(row[1]))


def _connect(url: str) -> psycopg.Connection[Any]:
    """A small autocommit connection for WAL positions (not the store's: those are busy with long reads)."""
    try:
        return psycopg.connect(url, **{**OPTIONS, "application_name": "landrelease-replication"})
    except psycopg.Error as error:
        raise connect_error(safe_location(url), url, error) from None
    except Exception as error:  # a malformed URL
        raise StoreError(f"cannot connect to {safe_location(url)}: {_one_line(error, url)}") from None
