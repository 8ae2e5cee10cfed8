"""Connecting: one-line errors without the password, the PostGIS extension, creating or upgrading our schema,
and ``Connected``, the connection pool a store (or the accounts) draws on."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import errors
from psycopg.types.string import TextLoader

from landrelease.errors import StoreError, StoreUnavailable
from landrelease.store.postgis import schema
from landrelease.store.postgis.pool import OPTIONS, Pool

#: Serialises schema creation and upgrades between processes opening the same database.
_SCHEMA_LOCK = 0x4C52_5343  # "LRSC"


def safe_location(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}@{host}" if user else host))


def _one_line(error: BaseException, url: str) -> str:
    text = " ".join(part.strip() for part in str(error).strip().splitlines() if part.strip()) or type(error).__name__
    password = urlsplit(url).password
    if password:
        text = text.replace(password, "***")
    return text


def store_error(location: str, error: psycopg.Error) -> StoreError:
    """A one-line message for a database error met while using an open store."""
    if isinstance(error, errors.SerializationFailure | errors.DeadlockDetected | errors.LockNotAvailable):
        return StoreError(f"{location} is busy: another program is writing the same records; try again")
    if isinstance(error, errors.UniqueViolation):
        return StoreError(f"{location}: a record id is already taken; was the database edited by hand?")
    if isinstance(error, psycopg.OperationalError):
        kind = StoreUnavailable if unreachable(error) else StoreError
        return kind(f"{location}: the connection to the database failed ({_one_line(error, location)})")
    diag = error.diag.message_primary if isinstance(error, psycopg.DatabaseError) else None
    return StoreError(f"{location}: {diag or _one_line(error, location)}")


def read_error(location: str, error: psycopg.Error) -> StoreError:
    """``store_error`` for a read. A hot standby cancels a read that holds up its replay of the primary's
    changes ("conflict with recovery": SQLSTATE 40001, or 40P01 for a buffer pin deadlock): the replica failed
    the read, no other program is writing the same records (a read takes no row locks, so on a primary it
    never fails so), hence ``StoreUnavailable``, which sends replica reads to the primary."""
    if isinstance(error, errors.SerializationFailure | errors.DeadlockDetected):
        return StoreUnavailable(
            f"{location}: the read was cancelled to replay the primary's changes ({_one_line(error, location)})"
        )
    return store_error(location, error)


def unreachable(error: psycopg.OperationalError) -> bool:
    """Did the connection break or the server go away (rather than, say, a statement time out)?

    A broken connection has no SQLSTATE (the client noticed); class 08 is a connection failure and 57P01-03
    the server shutting down or not yet accepting connections."""
    state = error.sqlstate
    return state is None or state.startswith(("08", "57P"))


def connect_error(location: str, url: str, error: psycopg.Error) -> StoreUnavailable:
    """Why connecting failed, in one line. Always ``StoreUnavailable``: libpq gives no SQLSTATE here, so a
    refused password cannot be told from a server starting up, and either way the database is not there."""
    return StoreUnavailable(f"cannot connect to {location}: {_one_line(error, url)}")


def configure(conn: psycopg.Connection[Any]) -> None:
    """The settings every connection needs, the pool's included: dates as ISO text in UTC."""
    # Dates are ISO text in the domain: read them as the server writes them, not as datetime.date.
    conn.adapters.register_loader("date", TextLoader)
    conn.execute("SET datestyle = 'ISO, YMD'")
    conn.execute("SET TIME ZONE 'UTC'")


def open_pool(url: str, *, create: bool) -> Pool:
    """The pool of connections to the landrelease database at ``url``, its schema checked on the pool's first
    connection (made with ``create``, upgraded if older): one connection to open, as before the pool.

    A server that cannot be reached, a wrong password or a malformed URL fails at once, in one line
    without the password."""
    location = safe_location(url)
    pool = Pool(url, location, configure, lambda error: _one_line(error, url))
    pool.open()
    try:
        with pool.first() as conn:
            _ensure_postgis(conn, location, create=create)
            _check_and_upgrade(conn, location, create=create)
    except BaseException as error:
        pool.close()
        if isinstance(error, psycopg.Error):
            raise store_error(location, error) from None
        raise
    return pool


@contextmanager
def creating(url: str) -> Iterator[psycopg.Connection[Any]]:
    """A connection to ``url`` on which adding PostGIS and our schema where absent, and everything done in
    the block, are one transaction: committed when the block ends, rolled back if it raises. A failed block
    leaves the database exactly as it was: nothing it made remains, nothing that was there is dropped (DDL,
    CREATE EXTENSION included, is transactional in PostgreSQL: no clean-up that could drop the wrong thing)."""
    location = safe_location(url)
    conn = _session(url)
    try:
        with conn.transaction():
            try:
                _ensure_postgis(conn, location, create=True)
                _check_and_upgrade(conn, location, create=True)  # its transaction is a savepoint of this one
            except psycopg.Error as error:
                raise store_error(location, error) from None
            yield conn
    except psycopg.Error as error:  # the commit itself
        raise store_error(location, error) from None
    finally:
        conn.close()


def _session(url: str) -> psycopg.Connection[Any]:
    """A configured connection to the server at ``url`` (nothing of our schema checked yet)."""
    location = safe_location(url)
    try:
        conn = psycopg.connect(url, **OPTIONS)
    except psycopg.Error as error:
        raise connect_error(location, url, error) from None
    except Exception as error:  # a malformed URL
        raise StoreError(f"cannot connect to {location}: {_one_line(error, url)}") from None
    try:
        configure(conn)
    except psycopg.Error as error:
        conn.close()
        raise store_error(location, error) from None
    return conn


class Held:
    """One connection lent to a store for a while (``creating``'s, inside its transaction): the store's
    calls on it are serialised, and its owner, not the store, closes it."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn
        self._lock = threading.RLock()

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        with self._lock:
            yield self._conn

    def close(self) -> None:
        """Nothing: the connection is its owner's to close."""


class Connected:
    """A pool of connections shared by threads, failing with one-line errors (what the store, the accounts
    and the field form ledger share: each has a pool of its own to the same database).

    Reads take any free connection for their queries; each write transaction takes one of its own for the
    whole transaction and commits before giving it back, so a read made after a write returns (from any
    thread of the process, on any connection) sees it.
    """

    location: str

    def __init__(self, pool: Pool | Held, location: str) -> None:
        self._pool = pool
        self.location = location

    def close(self) -> None:
        self._pool.close()

    @contextmanager
    def _reading(self) -> Iterator[psycopg.Connection[Any]]:
        with self._pool.connection() as conn:
            try:
                yield conn
            except psycopg.Error as error:
                raise read_error(self.location, error) from None

    @contextmanager
    def _transaction(self) -> Iterator[psycopg.Connection[Any]]:
        """One write transaction: everything in the block lands, or nothing does."""
        with self._pool.connection() as conn:
            try:
                with conn.transaction():
                    yield conn
            except psycopg.Error as error:
                raise store_error(self.location, error) from None


def _ensure_postgis(conn: psycopg.Connection[Any], location: str, *, create: bool) -> None:
    if conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone() is not None:
        return
    if not create:
        raise StoreError(f"{location} has no landrelease schema (not even PostGIS); create it first")
    try:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    except psycopg.Error as error:
        raise StoreError(
            f"{location}: PostGIS is not installed in this database and cannot be added "
            f"({_one_line(error, location)}); ask its administrator to run CREATE EXTENSION postgis"
        ) from None


def _check_and_upgrade(conn: psycopg.Connection[Any], location: str, *, create: bool) -> None:
    version = schema.stored_version(conn)
    if version is None and not create:
        raise StoreError(f"{location} is not a landrelease database (no landrelease schema); create it first")
    if version is not None and version > schema.SCHEMA_VERSION:
        raise StoreError(f"this database was written by a newer landrelease (schema {version}); upgrade landrelease")
    if version == schema.SCHEMA_VERSION and not schema.needs_sync(conn):
        return
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
        version = schema.stored_version(conn)  # another process may have made or upgraded it meanwhile
        if version is None:
            schema.create(conn)
            return
        if version < schema.SCHEMA_VERSION:
            schema.migrate(conn, version)
        schema.sync_layers(conn)
