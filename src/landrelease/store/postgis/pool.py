"""A bounded pool of connections to one database, so that the service's requests run side by side.

A store (or the accounts) keeps between ``LANDRELEASE_PG_POOL_MIN`` (default 1) and
``LANDRELEASE_PG_POOL_MAX`` (default 10) connections, made by psycopg_pool in threads of its own, each set
up by the same ``configure`` before first use. A read holds a connection for its query, a write for its
whole transaction; when all are busy a call waits up to ``WAIT`` seconds for one to be given back.

The sizes come from the environment, not the URL: the URL goes unchanged to pg_dump, pg_restore and the
replication connections, and libpq refuses query parameters it does not know.

Failures keep the one-connection messages: a connection lost during a call is that call's one-line
``StoreError``; while the server cannot be reached (no live connection and the pool's last attempt failed)
a call fails at once with the reason, rather than after ``WAIT`` seconds.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Self

import psycopg
from psycopg_pool import ConnectionPool, PoolClosed, PoolTimeout

from landrelease.errors import StoreError, StoreUnavailable

#: Connections kept open while idle, and the most a store opens, unless the environment says otherwise.
MIN_SIZE = 1
MAX_SIZE = 10
MIN_VARIABLE = "LANDRELEASE_PG_POOL_MIN"
MAX_VARIABLE = "LANDRELEASE_PG_POOL_MAX"
#: How long a call waits for a free connection when all are busy (seconds).
WAIT = 30.0
#: How long the pool keeps retrying a failed connection on its own; a later call that needs one starts again.
RECONNECT = 10.0
#: TCP keepalives (libpq's): a server or replica that vanishes without closing the connection (a dropped
#: network, a VM gone) is noticed within about a minute instead of a read hanging until the OS gives up
#: (hours); the call then fails with a one-line error (and replica reads fall back to the primary).
#: ``tcp_user_timeout`` bounds the other case, a query sent into a host that has vanished (60 s, not the
#: kernel's ~15 minutes of retransmissions).
KEEPALIVES: dict[str, Any] = {
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
    "tcp_user_timeout": 60_000,
}
#: Options of every connection: writes open their own transactions.
OPTIONS: dict[str, Any] = {"autocommit": True, "connect_timeout": 10, "application_name": "landrelease", **KEEPALIVES}

Connection = psycopg.Connection[Any]
Describe = Callable[[BaseException], str]

# psycopg_pool reports failed attempts from its own threads as warnings: with no logging set up, Python
# would print them on stderr beside our one-line error. A handler an operator configures still gets them.
logging.getLogger("psycopg.pool").addHandler(logging.NullHandler())


def sizes(environ: Mapping[str, str] = os.environ) -> tuple[int, int]:
    """The pool's (fewest, most) connections: ``LANDRELEASE_PG_POOL_MIN`` / ``_MAX`` or the defaults."""
    fewest = _count(environ, MIN_VARIABLE, lowest=0)
    most = _count(environ, MAX_VARIABLE, lowest=1)
    if fewest is not None and most is not None and fewest > most:
        raise StoreError(f"{MIN_VARIABLE} ({fewest}) is more than {MAX_VARIABLE} ({most})")
    if most is None:
        most = max(MAX_SIZE, fewest or 0)
    if fewest is None:
        fewest = min(MIN_SIZE, most)
    return fewest, most


def _count(environ: Mapping[str, str], name: str, *, lowest: int) -> int | None:
    text = environ.get(name, "").strip()
    if not text:
        return None
    value = int(text) if text.isdigit() else -1
    if value < lowest:
        raise StoreError(f"{name} must be a whole number of connections from {lowest} up, not {text!r}")
    return value


class _Attempts:
    """How the pool's last attempt to connect went. The pool connects in threads of its own, so without
    this a caller would only ever see a timeout, never the reason."""

    def __init__(self, describe: Describe) -> None:
        self.describe = describe
        self.failure: str | None = None
        #: Set once an attempt has ended, either way.
        self.ended = threading.Event()

    def failed(self, error: BaseException) -> None:
        self.failure = self.describe(error)
        self.ended.set()

    def succeeded(self) -> None:
        self.failure = None
        self.ended.set()


def _watched(attempts: _Attempts) -> type[Connection]:
    """A connection class telling ``attempts`` when one of the pool's attempts fails to connect."""

    class Watched(psycopg.Connection[Any]):
        @classmethod
        def connect(cls, conninfo: str = "", **kwargs: Any) -> Self:
            try:
                return super().connect(conninfo, **kwargs)
            except Exception as error:  # psycopg.Error, or a malformed URL
                attempts.failed(error)
                raise

    return Watched


class Pool:
    """The connections of one store (or of the accounts) to the database at ``url``."""

    def __init__(self, url: str, location: str, configure: Callable[[Connection], None], describe: Describe) -> None:
        self.location = location
        self._url = url
        self._configure = configure
        self._describe = describe
        self._attempts = _Attempts(describe)
        self._lent = 0  # connections out of the pool now: while any is, the server was reachable a moment ago
        self._counting = threading.Lock()
        fewest, most = sizes()
        self._pool: ConnectionPool[Connection] = ConnectionPool(
            url,
            connection_class=_watched(self._attempts),
            kwargs=OPTIONS,
            min_size=fewest,
            max_size=most,
            open=False,
            configure=self._set_up,
            timeout=WAIT,
            reconnect_timeout=RECONNECT,
            num_workers=2,
            name=f"landrelease {location}",
        )

    @property
    def sizes(self) -> tuple[int, int]:
        """(fewest, most) connections this pool keeps."""
        return self._pool.min_size, self._pool.max_size

    def stats(self) -> dict[str, int]:
        """psycopg_pool's figures: ``connections_num`` made so far, ``pool_size``, ``requests_waiting``..."""
        return self._pool.get_stats()

    def open(self) -> None:
        """Start making the first ``fewest`` connections, in the background: the caller goes on meanwhile."""
        self._pool.open(wait=False)

    @contextmanager
    def first(self) -> Iterator[Connection]:
        """The pool's first connection, as soon as it is made; if it cannot be, a one-line ``StoreError``
        with the reason as soon as the attempt fails (rather than a timeout). With no connection kept while
        idle (``LANDRELEASE_PG_POOL_MIN=0``) the pool makes none yet: a connection of its own is used."""
        if self._pool.min_size == 0:
            conn = self._connect_separately("cannot connect to {location}: {reason}")
            with conn:
                yield conn
            return
        try:
            if not self._attempts.ended.wait(WAIT) or self._attempts.failure is not None:
                raise PoolTimeout
            self._pool.wait(WAIT)  # the connection is in the pool (taking it sooner would make the pool grow)
        except PoolTimeout:
            reason = self._attempts.failure or f"no connection within {WAIT:.0f} s"
            raise StoreUnavailable(f"cannot connect to {self.location}: {reason}") from None
        with self.connection() as conn:
            yield conn

    def close(self) -> None:
        """Close every connection and stop the pool's threads (connections still lent out close when given
        back)."""
        self._pool.close(timeout=1.0)

    def separate(self) -> Connection:
        """A connection of its own, outside the pool and set up like the pool's, for session state such as
        advisory locks that must stay on one connection; the caller closes it."""
        return self._connect_separately("{location}: the connection to the database failed ({reason})")

    def _connect_separately(self, message: str) -> Connection:
        try:
            conn = psycopg.connect(self._url, **OPTIONS)
        except Exception as error:  # psycopg.Error, or a malformed URL
            raise StoreUnavailable(message.format(location=self.location, reason=self._describe(error))) from None
        try:
            self._configure(conn)
        except psycopg.Error as error:
            conn.close()
            raise StoreError(message.format(location=self.location, reason=self._describe(error))) from None
        return conn

    def _set_up(self, conn: Connection) -> None:
        """``configure`` for each connection the pool makes, telling ``_attempts`` how it went."""
        try:
            self._configure(conn)
        except Exception as error:
            self._attempts.failed(error)
            raise
        self._attempts.succeeded()

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A connection for the length of the block, given back after it (closed by the pool if broken)."""
        conn = self._take()
        try:
            yield conn
        finally:
            with self._counting:
                self._lent -= 1
            lost = conn.broken
            self._pool.putconn(conn)
            if lost:
                # One lost connection usually means all were (the server restarted): test the idle ones now
                # rather than failing the next calls on them one by one.
                self._pool.check()

    def _take(self) -> Connection:
        if self._pool.closed:
            raise StoreError(f"the database {self.location} is closed")
        failure = self._attempts.failure
        # No connection anywhere and the last attempt failed: the server cannot be reached now.
        if failure is not None and not self._lent and not self._pool.get_stats().get("pool_available"):
            self._pool.check()  # an attempt under way again, should the pool have stopped retrying
            raise StoreUnavailable(f"{self.location}: the connection to the database failed ({failure})")
        try:
            conn = self._pool.getconn()
        except PoolClosed:
            raise StoreError(f"the database {self.location} is closed") from None
        except PoolTimeout:
            failure = self._attempts.failure
            if failure is not None:
                raise StoreUnavailable(f"{self.location}: the connection to the database failed ({failure})") from None
            raise StoreError(
                f"{self.location} is busy: all {self._pool.max_size} connections stayed in use for {WAIT:.0f} s; "
                f"try again (or allow more with {MAX_VARIABLE})"
            ) from None
        with self._counting:
            self._lent += 1
        return conn
