"""Moving a national database between stores, and backing it up.

``migrate`` copies a whole database (GeoPackage file or PostGIS server, either way) with every version of
every record, retirements, authors, times and reasons, the derived ledger figures, the id counters, the
ledger state and the service's own records (users with their password hashes, API tokens, sessions, the
personal data access log, submitted reports: the tables are the same in both backends), all in one
transaction on the target: a failure leaves it as it was. ``backup``/``restore`` make and
bring back a consistent copy: a GeoPackage with SQLite's online backup API (safe while the service writes),
PostGIS with ``pg_dump``/``pg_restore`` (custom format) or, where those tools are not installed, as a
GeoPackage made by ``migrate`` (the portable format, readable by QGIS).
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from landrelease.domain.schema import LAYERS
from landrelease.errors import InvalidInput, NotFound, StoreError
from landrelease.store import Store, creating, open_store

#: Told the total number of versions to write, then called with each step's count.
Progress = Callable[[int], Callable[[int], None]]
#: The first bytes of a SQLite file and of a pg_dump custom-format archive.
_SQLITE_MAGIC = b"SQLite format 3\x00"
_PGDUMP_MAGIC = b"PGDMP"
#: pg_restore and pg_dump: a national database takes minutes, not hours.
_TOOL_TIMEOUT_S = 6 * 3600


def is_postgres(location: str) -> bool:
    return location.startswith(("postgresql://", "postgres://"))


@dataclass(frozen=True)
class Moved:
    """What ``migrate`` wrote: current records and history versions per layer, and the service's rows
    (users, tokens, sessions, access_log, submissions)."""

    records: dict[str, int]
    versions: dict[str, int]
    service: dict[str, int]


def migrate(source: str, target: str, progress: Progress | None = None) -> Moved:
    """Copy the database at ``source`` into ``target`` (new, or holding no records) losslessly.

    Nothing of a failed migrate stays behind (``store.creating``): a PostGIS target gets its schema in the
    same transaction as the records, so a failure leaves no empty schema; a GeoPackage file it made is
    removed. What was in the target before is never dropped."""
    if source == target:
        raise InvalidInput("--from and --to are the same database")
    with open_store(source) as origin, creating(target) as destination:
        return copy_store(origin, destination, progress)


def copy_store(origin: Store, destination: Store, progress: Progress | None = None) -> Moved:
    """Every layer of ``origin`` into ``destination`` in one transaction (``Store.dump`` / ``Store.load``)."""
    dumps = [origin.dump(layer) for layer in LAYERS]
    service = origin.dump_service()
    step = progress(sum(d.version_count for d in dumps)) if progress is not None else None
    destination.load(dumps, origin.ledger_state(), step, service)
    return Moved(
        {d.layer: d.count for d in dumps},
        {d.layer: d.version_count for d in dumps},
        {table.removeprefix("lr_"): len(rows) for table, rows in service.rows.items()},
    )


# --- backup and restore --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Backup:
    path: Path
    #: "sqlite-backup" (a GeoPackage copy), "pg_dump" (custom format) or "geopackage" (PostGIS via migrate).
    method: Literal["sqlite-backup", "pg_dump", "geopackage"]
    size: int


def backup(location: str, out: Path, *, force: bool = False, progress: Progress | None = None) -> Backup:
    """A consistent copy of the database at ``location`` in the file ``out`` (written whole, then renamed)."""
    if out.is_dir():
        raise InvalidInput(f"{out} is a folder; give the backup file's name")
    if out.exists() and not force:
        raise InvalidInput(f"{out} already exists; choose another name or add --force to replace it")
    if not out.parent.is_dir():
        raise InvalidInput(f"cannot write {out}: the folder {out.parent} does not exist")
    with open_store(location):  # refuses what is not a landrelease database, with the store's own message
        pass
    method: Literal["sqlite-backup", "pg_dump", "geopackage"]
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".landrelease-backup-") as work:
        partial = Path(work) / out.name
        if not is_postgres(location):
            method = "sqlite-backup"
            _sqlite_copy(Path(location), partial)
        elif shutil.which("pg_dump"):
            method = "pg_dump"
            schema = _current_schema(location)
            _run(
                [
                    "pg_dump",
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    f"--schema={schema}",
                    f"--file={partial}",
                ],
                location,
            )
        else:
            method = "geopackage"
            migrate(location, str(partial), progress)
        os.replace(partial, out)
    return Backup(out, method, out.stat().st_size)


def restore(backup_file: Path, location: str, *, force: bool = False, progress: Progress | None = None) -> str:
    """Bring the backup ``backup_file`` back into the database at ``location``; refuse one holding records
    unless ``force``. Returns how it was restored."""
    if not is_postgres(location) and Path(location).resolve() == backup_file.resolve():
        raise InvalidInput("the backup and --db are the same file")
    kind = _backup_kind(backup_file)
    if kind == "pg_dump":
        if not is_postgres(location):
            raise InvalidInput(f"{backup_file} is a PostgreSQL dump: restore it into a postgresql:// database")
        if not shutil.which("pg_restore"):
            raise StoreError("restoring a PostgreSQL dump needs pg_restore (install postgresql-client)")
        _pg_restore(backup_file, location, force=force)
        return "pg_restore"
    if is_postgres(location):
        if _holds_records(location):
            raise InvalidInput(
                f"{location} already holds data; restore a GeoPackage backup only into an empty PostGIS database"
            )
        migrate(str(backup_file), location, progress)
        return "migrate"
    target = Path(location)
    if target.exists() and target.stat().st_size and not force and _holds_records(location):
        raise InvalidInput(f"{location} already holds data; add --force to replace it with the backup")
    _sqlite_copy(backup_file, target)
    with open_store(location):  # upgrades a backup made by an older landrelease
        pass
    return "sqlite-backup"


def _sqlite_copy(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent snapshot even while another process writes the source, written
    into ``target`` as one transaction (a reader of ``target`` sees the old file or the new one)."""
    try:
        origin = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise StoreError(f"cannot read {source}: {error}") from None
    try:
        destination = sqlite3.connect(target, timeout=30)
        try:
            origin.backup(destination)  # all pages in one step: never a mix of two moments
        finally:
            destination.close()
    except sqlite3.Error as error:
        raise StoreError(f"cannot copy {source} to {target}: {error}") from None
    finally:
        origin.close()


def _backup_kind(path: Path) -> Literal["geopackage", "pg_dump"]:
    try:
        with path.open("rb") as handle:
            head = handle.read(len(_SQLITE_MAGIC))
    except FileNotFoundError:
        raise NotFound(f"no backup file {path}") from None
    except OSError as error:
        raise StoreError(f"cannot read {path}: {error.strerror}") from None
    if head.startswith(_PGDUMP_MAGIC):
        return "pg_dump"
    if head == _SQLITE_MAGIC:
        with open_store(str(path)):  # a landrelease GeoPackage, not any SQLite file
            pass
        return "geopackage"
    raise InvalidInput(f"{path} is not a landrelease backup (neither a GeoPackage nor a pg_dump archive)")


def _holds_records(location: str) -> bool:
    """Whether the database at ``location`` holds records (current or only in history) or users. A file that
    is there but is not a landrelease database counts as holding something: it is never silently replaced."""
    try:
        store = open_store(location)
    except NotFound:
        return False
    except StoreError:
        # PostGIS: no landrelease schema there yet (a server that cannot be reached fails later, saying so).
        return not is_postgres(location)
    with store:
        if any(store.count(layer) for layer in LAYERS) or store.dump_service().count():
            return True
        return any(store.dump(layer).version_count for layer in LAYERS)


# --- PostgreSQL tools ------------------------------------------------------------------------------------


def _tool_environment(url: str) -> tuple[str, dict[str, str]]:
    """The URL without its password (which goes in PGPASSWORD: never on a command line others can read)."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    parameters = conninfo_to_dict(url)
    password = parameters.pop("password", None)
    environment = dict(os.environ)
    if password is not None:
        environment["PGPASSWORD"] = str(password)
    return make_conninfo(**{k: str(v) for k, v in parameters.items() if v is not None}), environment


def _run(command: list[str], url: str) -> None:
    conninfo, environment = _tool_environment(url)
    try:
        done = subprocess.run(
            [*command, f"--dbname={conninfo}"],
            env=environment,
            capture_output=True,
            text=True,
            timeout=_TOOL_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise StoreError(f"{command[0]} failed: {error}") from None
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise StoreError(f"{command[0]} failed: {lines[0] if lines else f'exit code {done.returncode}'}")


def _current_schema(url: str) -> str:
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=10) as conn:
            row = conn.execute("SELECT current_schema()").fetchone()
    except psycopg.Error as error:
        raise StoreError(f"cannot connect to the database: {' '.join(str(error).split())}") from None
    if row is None or row[0] is None:
        raise StoreError("the database URL's search_path names no existing schema")
    return str(row[0])


#: Archive entries a restore leaves out: the schema itself (it exists, or is made first, and is never
#: dropped: PostGIS may live in it) and the ledger triggers, whose ``IS DISTINCT FROM`` on geometries cannot be
#: made again under pg_restore's empty search_path; opening the store afterwards makes them (``sync_layers``).
_SKIPPED = re.compile(r"^\d+; \d+ \d+ (TRIGGER|SCHEMA|COMMENT - SCHEMA) ")
_TABLE = re.compile(r"^\d+; \d+ \d+ TABLE (\S+) lr_meta ")


def _pg_restore(path: Path, url: str, *, force: bool) -> None:
    if _holds_records(url) and not force:
        raise InvalidInput("the database already holds data; add --force to replace it with the backup")
    listing = _tool_output(["pg_restore", "--list", str(path)])
    schemas = [m.group(1) for m in map(_TABLE.match, listing.splitlines()) if m]
    if not schemas:
        raise InvalidInput(f"{path} is a PostgreSQL dump but not of a landrelease database")
    current = _current_schema(url)
    if current != schemas[0]:
        raise InvalidInput(
            f"{path} holds the schema {schemas[0]!r} but the database URL's search_path starts with {current!r}: "
            f"restore into a URL whose search_path names {schemas[0]} (create that schema first if needed)"
        )
    kept = [line for line in listing.splitlines() if not _SKIPPED.match(line)]
    with tempfile.NamedTemporaryFile("w", suffix=".list", encoding="utf-8") as entries:
        entries.write("\n".join(kept) + "\n")
        entries.flush()
        # --clean drops what the archive holds before making it again; --single-transaction makes the whole
        # restore one transaction, so a failure leaves the database as it was.
        _run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--single-transaction",
                "--exit-on-error",
                "--no-owner",
                "--no-privileges",
                f"--use-list={entries.name}",
                str(path),
            ],
            url,
        )
    with open_store(url):  # makes the ledger triggers again (and upgrades a backup of an older schema)
        pass


def _tool_output(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise StoreError(f"{command[0]} failed: {error}") from None
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise StoreError(f"{command[0]} failed: {lines[0] if lines else f'exit code {done.returncode}'}")
    return done.stdout
