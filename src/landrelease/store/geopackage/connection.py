"""Opening the file: refuse what is not ours, configure SQLite, create or upgrade the schema."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from landrelease.errors import NotFound, StoreError
from landrelease.store.geopackage import blob, schema


def connect(path: Path, *, create: bool) -> sqlite3.Connection:
    """A configured connection to the landrelease GeoPackage at ``path`` (made first with ``create``)."""
    if path.is_dir():
        raise StoreError(f"{path} is a folder, not a GeoPackage file")
    fresh = not path.exists() or path.stat().st_size == 0
    if fresh and not create:
        raise NotFound(f"no database at {path}")
    if fresh and not path.parent.is_dir():
        raise StoreError(f"cannot create {path}: the folder {path.parent} does not exist")
    try:
        # isolation_level=None: we issue BEGIN/COMMIT ourselves. timeout: wait up to 30 s for another
        # writer (QGIS, a second process) to finish instead of failing at once.
        conn = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
    except sqlite3.Error as error:
        raise StoreError(f"cannot open {path}: {error}") from None
    try:
        _configure(conn)
        if fresh:
            conn.execute("BEGIN IMMEDIATE")
            # Another process may have made the file between our look and our lock: then just open it.
            fresh = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
            if fresh:
                schema.create(conn)
            conn.execute("COMMIT")
        if not fresh:
            _check_and_upgrade(conn, path)
    except BaseException as error:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        conn.close()
        if isinstance(error, sqlite3.DatabaseError):
            raise StoreError(f"{path} is not a GeoPackage ({error})") from None
        raise
    return conn


def _configure(conn: sqlite3.Connection) -> None:
    blob.register_sql_functions(conn)
    # The first statement that reads the file: a file that is not SQLite fails here (DatabaseError).
    conn.execute("PRAGMA schema_version").fetchone()
    # Crash consistency: a rollback journal (DELETE mode) keeps the .gpkg one self-contained file for QGIS
    # users who copy it, and a killed process (kill -9) leaves a hot journal that the next opener rolls
    # back: all of a transaction or none of it. synchronous=FULL syncs the journal before the database is
    # touched and the database before the journal is deleted, which also survives power loss and OS
    # crashes; NORMAL with a rollback journal does not promise that. The cost is a few fsyncs per
    # transaction, nothing next to a bulk write.
    mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    if mode.lower() != "wal":  # a file another tool put in WAL mode is crash-safe too: leave it
        conn.execute("PRAGMA journal_mode = DELETE")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA cache_size = -65536")  # 64 MiB: bulk writes spill to the file less often


def _check_and_upgrade(conn: sqlite3.Connection, path: Path) -> None:
    if conn.execute("PRAGMA application_id").fetchone()[0] != schema.APPLICATION_ID:
        raise StoreError(f"{path} is not a GeoPackage (it is an SQLite file of another kind)")
    version = schema.stored_version(conn)
    if version is None:
        raise StoreError(f"{path} is a GeoPackage but not a landrelease database; import its layers instead")
    if version > schema.SCHEMA_VERSION:
        raise StoreError(f"this database was written by a newer landrelease (schema {version}); upgrade landrelease")
    if version == schema.SCHEMA_VERSION and not schema.needs_sync(conn):
        return
    try:
        conn.execute("BEGIN IMMEDIATE")
        version = schema.stored_version(conn) or version  # another process may have upgraded meanwhile
        if version < schema.SCHEMA_VERSION:
            schema.migrate(conn, version)
        schema.sync_layers(conn)
        conn.execute("COMMIT")
    except sqlite3.DatabaseError as error:
        # The file is ours (checked above): say why the upgrade could not be written, not "not a GeoPackage".
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise _upgrade_error(path, version, error) from None


def _upgrade_error(path: Path, version: int, error: sqlite3.DatabaseError) -> StoreError:
    """One line for an upgrade on open that could not be written (the file is left as it was)."""
    upgrade = (
        f"upgraded from schema {version} to {schema.SCHEMA_VERSION}"
        if version < schema.SCHEMA_VERSION
        else "brought up to date with this landrelease's layers and triggers"
    )
    if getattr(error, "sqlite_errorcode", 0) & 0xFF in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN):
        return StoreError(
            f"{path} must be {upgrade} once, which writes to it, but it is read-only here: "
            "open it once where it can be written"
        )
    if "locked" in str(error) or "busy" in str(error):
        return store_error(str(path), error)
    return StoreError(f"{path} could not be {upgrade} (it is left as it was): {error}")


def store_error(location: str, error: sqlite3.Error) -> StoreError:
    """A one-line message for an SQLite error met while using an open database."""
    text = str(error)
    if "locked" in text or "busy" in text:
        return StoreError(f"{location} is busy: another program is writing to it; try again")
    if isinstance(error, sqlite3.IntegrityError) and ".id" in text:
        return StoreError(f"{location}: a record id is already taken ({text}); was the file edited by hand?")
    return StoreError(f"{location}: {text}")
