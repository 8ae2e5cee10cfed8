"""The service's private tables in the GeoPackage file: users, tokens, sessions, the personal data access
log and submitted reports (``landrelease.accounts.protocol``).

They are plain SQLite tables registered nowhere in ``gpkg_contents``, so QGIS and GDAL do not list them.
They are made on first use, in one ``BEGIN IMMEDIATE`` transaction, on a connection of their own: the same
discipline as the store (one lock per connection, every write one transaction). Never hold a transaction
here while writing through the store: both take the file's write lock.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from landrelease.accounts.protocol import AccessEntry, Submission, User
from landrelease.domain.roles import Role
from landrelease.errors import Conflict, InvalidInput, NotFound, StoreError
from landrelease.store.geopackage import connection

SUBMISSION_PREFIX = "SB"

_TABLES = """
CREATE TABLE IF NOT EXISTS lr_users (
  name TEXT PRIMARY KEY NOT NULL,
  role TEXT NOT NULL,
  organisation TEXT,
  password_hash TEXT,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS lr_tokens (
  token_hash TEXT PRIMARY KEY NOT NULL,
  user_name TEXT NOT NULL REFERENCES lr_users(name),
  label TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS lr_sessions (
  session_hash TEXT PRIMARY KEY NOT NULL,
  user_name TEXT NOT NULL REFERENCES lr_users(name),
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS lr_access_log (
  fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  at TEXT NOT NULL,
  user_name TEXT NOT NULL,
  record_id TEXT NOT NULL,
  purpose TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS lr_access_log_record ON lr_access_log (record_id);
CREATE TABLE IF NOT EXISTS lr_submissions (
  fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  id TEXT UNIQUE NOT NULL,
  layer TEXT NOT NULL,
  payload TEXT NOT NULL,
  organisation TEXT,
  author TEXT NOT NULL,
  status TEXT NOT NULL,
  reason TEXT,
  created_at TEXT NOT NULL,
  decided_at TEXT,
  decided_by TEXT,
  record_id TEXT,
  record_version INTEGER
);
CREATE INDEX IF NOT EXISTS lr_submissions_organisation ON lr_submissions (organisation, status);
CREATE TABLE IF NOT EXISTS lr_deciding (
  id TEXT PRIMARY KEY NOT NULL,
  since TEXT NOT NULL
)
"""
_NAMES = ("lr_users", "lr_tokens", "lr_sessions", "lr_access_log", "lr_submissions", "lr_deciding")
#: A hold on a report older than this was left by a process that died mid-approval: it is taken over.
DECIDING_EXPIRY = timedelta(minutes=10)
_BUSY = "{} is being decided by someone else; look again in a moment"
_SUBMISSION_COLUMNS = (
    "id, layer, payload, organisation, author, status, reason, created_at, decided_at, decided_by, record_id, "
    "record_version"
)
_USER_COLUMNS = "u.name, u.role, u.organisation, u.created_at"


def _now() -> str:
    return _stamp(datetime.now(UTC))


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(text: str | None) -> datetime | None:
    return None if text is None else datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _user(row: Sequence[Any]) -> User:
    created = _parse(row[3])
    assert created is not None
    return User(name=row[0], role=Role(row[1]), organisation=row[2], created_at=created)


def _submission(row: Sequence[Any]) -> Submission:
    created = _parse(row[7])
    assert created is not None
    return Submission(
        id=row[0],
        layer=row[1],
        payload=json.loads(row[2]),
        organisation=row[3],
        author=row[4],
        status=row[5],
        reason=row[6],
        created_at=created,
        decided_at=_parse(row[8]),
        decided_by=row[9],
        record_id=row[10],
        record_version=row[11],
    )


def _check_user(conn: sqlite3.Connection, name: str) -> None:
    """``NotFound`` for credentials of no one (SQLite does not enforce the foreign key here)."""
    if conn.execute("SELECT 1 FROM lr_users WHERE name = ?", (name,)).fetchone() is None:
        raise NotFound(f"no user called {name!r}")


class GeoPackageAccounts:
    """Accounts and submissions in a landrelease GeoPackage (``landrelease.accounts.Accounts``). Thread-safe."""

    def __init__(self, conn: sqlite3.Connection, location: str) -> None:
        """Use ``GeoPackageAccounts.open``."""
        self._conn: sqlite3.Connection | None = conn
        self._lock = threading.RLock()
        self.location = location

    @classmethod
    def open(cls, location: str | Path) -> GeoPackageAccounts:
        """Open the accounts of the landrelease GeoPackage at ``location`` (which must exist)."""
        path = Path(location)
        conn = connection.connect(path, create=False)
        accounts = cls(conn, str(path))
        try:
            accounts._create_tables()
        except BaseException:
            accounts.close()
            raise
        return accounts

    def _create_tables(self) -> None:
        with self._reading() as conn:
            present = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if present.issuperset(_NAMES):
            return
        with self._transaction() as conn:
            for statement in _TABLES.split(";"):
                conn.execute(statement)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # --- plumbing (as in store.py) ----------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"the database {self.location} is closed")
        return self._conn

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self._connection()
            except sqlite3.Error as error:
                raise connection.store_error(self.location, error) from None

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._connection()
            try:
                conn.execute("BEGIN IMMEDIATE")
                yield conn
                conn.execute("COMMIT")
            except BaseException as error:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if isinstance(error, sqlite3.Error):
                    raise connection.store_error(self.location, error) from None
                raise

    # --- users, tokens, sessions ---------------------------------------------------------------------------

    def add_user(self, name: str, role: Role, organisation: str | None, password_hash: str | None) -> User:
        at = _now()
        with self._transaction() as conn:
            if conn.execute("SELECT 1 FROM lr_users WHERE name = ?", (name,)).fetchone() is not None:
                raise InvalidInput(f"a user called {name!r} already exists")
            conn.execute(
                "INSERT INTO lr_users (name, role, organisation, password_hash, created_at) VALUES (?, ?, ?, ?, ?)",
                (name, role.value, organisation, password_hash, at),
            )
        return _user((name, role.value, organisation, at))

    def user(self, name: str) -> User:
        with self._reading() as conn:
            row = conn.execute(f"SELECT {_USER_COLUMNS} FROM lr_users AS u WHERE u.name = ?", (name,)).fetchone()
        if row is None:
            raise NotFound(f"no user called {name!r}")
        return _user(row)

    def users(self) -> list[User]:
        with self._reading() as conn:
            rows = conn.execute(f"SELECT {_USER_COLUMNS} FROM lr_users AS u ORDER BY u.name").fetchall()
        return [_user(r) for r in rows]

    def password_hash(self, name: str) -> str | None:
        with self._reading() as conn:
            row = conn.execute("SELECT password_hash FROM lr_users WHERE name = ?", (name,)).fetchone()
        return None if row is None else row[0]

    def add_token(self, name: str, token_hash: str, label: str) -> None:
        with self._transaction() as conn:
            _check_user(conn, name)
            conn.execute(
                "INSERT INTO lr_tokens (token_hash, user_name, label, created_at) VALUES (?, ?, ?, ?)",
                (token_hash, name, label, _now()),
            )

    def user_by_token(self, token_hash: str) -> User | None:
        with self._reading() as conn:
            row = conn.execute(
                f"SELECT {_USER_COLUMNS} FROM lr_tokens AS t JOIN lr_users AS u ON u.name = t.user_name "
                "WHERE t.token_hash = ?",
                (token_hash,),
            ).fetchone()
        return None if row is None else _user(row)

    def add_session(self, session_hash: str, name: str, expires_at: datetime) -> None:
        now = _now()
        with self._transaction() as conn:
            _check_user(conn, name)
            conn.execute("DELETE FROM lr_sessions WHERE expires_at < ?", (now,))  # keep the table small
            conn.execute(
                "INSERT INTO lr_sessions (session_hash, user_name, created_at, expires_at) VALUES (?, ?, ?, ?)",
                (session_hash, name, now, _stamp(expires_at)),
            )

    def user_by_session(self, session_hash: str, now: datetime) -> User | None:
        with self._reading() as conn:
            row = conn.execute(
                f"SELECT {_USER_COLUMNS} FROM lr_sessions AS s JOIN lr_users AS u ON u.name = s.user_name "
                "WHERE s.session_hash = ? AND s.expires_at > ?",
                (session_hash, _stamp(now)),
            ).fetchone()
        return None if row is None else _user(row)

    def end_session(self, session_hash: str) -> None:
        with self._transaction() as conn:
            conn.execute("DELETE FROM lr_sessions WHERE session_hash = ?", (session_hash,))

    # --- the access log -------------------------------------------------------------------------------------

    def log_access(self, user: str, record_ids: Sequence[str], purpose: str) -> None:
        if not record_ids:
            return
        at = _now()
        with self._transaction() as conn:
            conn.executemany(
                "INSERT INTO lr_access_log (at, user_name, record_id, purpose) VALUES (?, ?, ?, ?)",
                [(at, user, record_id, purpose) for record_id in record_ids],
            )

    def access_log(self, record_id: str | None = None) -> list[AccessEntry]:
        query = "SELECT at, user_name, record_id, purpose FROM lr_access_log"
        with self._reading() as conn:
            if record_id is None:
                rows = conn.execute(f"{query} ORDER BY fid").fetchall()
            else:
                rows = conn.execute(f"{query} WHERE record_id = ? ORDER BY fid", (record_id,)).fetchall()
        return [AccessEntry(_parse(r[0]) or datetime.now(UTC), r[1], r[2], r[3]) for r in rows]

    # --- submissions -------------------------------------------------------------------------------------

    def add_submission(
        self, layer: str, payload: dict[str, Any], organisation: str | None, author: str, status: str
    ) -> Submission:
        at = _now()
        document = json.dumps(payload, ensure_ascii=False, allow_nan=False)
        with self._transaction() as conn:
            top = conn.execute("SELECT max(fid) FROM lr_submissions").fetchone()[0]
            submission_id = f"{SUBMISSION_PREFIX}-{(top or 0) + 1:06d}"
            conn.execute(
                "INSERT INTO lr_submissions (id, layer, payload, organisation, author, status, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (submission_id, layer, document, organisation, author, status, at),
            )
        return self.submission(submission_id)

    def submission(self, submission_id: str) -> Submission:
        with self._reading() as conn:
            row = conn.execute(
                f"SELECT {_SUBMISSION_COLUMNS} FROM lr_submissions WHERE id = ?", (submission_id,)
            ).fetchone()
        if row is None:
            raise NotFound(f"no submission {submission_id!r}")
        return _submission(row)

    def submissions(
        self,
        *,
        organisation: str | None = None,
        author: str | None = None,
        status: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Submission]:
        where, values = [], []
        for column, value in (("organisation", organisation), ("author", author), ("status", status)):
            if value is not None:
                where.append(f"{column} = ?")
                values.append(value)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        with self._reading() as conn:
            rows = conn.execute(
                f"SELECT {_SUBMISSION_COLUMNS} FROM lr_submissions {clause} ORDER BY fid DESC LIMIT ? OFFSET ?",
                (*values, limit, offset),
            ).fetchall()
        return [_submission(r) for r in rows]

    def decide(
        self,
        submission_id: str,
        expected_status: str,
        status: str,
        decided_by: str,
        reason: str | None,
        record_id: str | None = None,
        record_version: int | None = None,
    ) -> Submission:
        with self._transaction() as conn:
            cursor = conn.execute(
                "UPDATE lr_submissions SET status = ?, reason = ?, decided_at = ?, decided_by = ?, record_id = ?, "
                "record_version = ? WHERE id = ? AND status = ?",
                (status, reason, _now(), decided_by, record_id, record_version, submission_id, expected_status),
            )
            if cursor.rowcount != 1:
                exists = conn.execute("SELECT status FROM lr_submissions WHERE id = ?", (submission_id,)).fetchone()
                if exists is None:
                    raise NotFound(f"no submission {submission_id!r}")
                raise Conflict(f"{submission_id} is already {exists[0]}: someone else decided it")
        return self.submission(submission_id)

    def revise(self, submission_id: str, expected_status: str, payload: dict[str, Any], status: str) -> Submission:
        document = json.dumps(payload, ensure_ascii=False, allow_nan=False)
        with self._transaction() as conn:
            cursor = conn.execute(
                "UPDATE lr_submissions SET payload = ?, status = ? WHERE id = ? AND status = ?",
                (document, status, submission_id, expected_status),
            )
            if cursor.rowcount != 1:
                exists = conn.execute("SELECT status FROM lr_submissions WHERE id = ?", (submission_id,)).fetchone()
                if exists is None:
                    raise NotFound(f"no submission {submission_id!r}")
                raise Conflict(f"{submission_id} is {exists[0]} now, not {expected_status}: look at it again")
        return self.submission(submission_id)

    @contextmanager
    def deciding(self, submission_id: str) -> Iterator[None]:
        # A row in lr_deciding, not a transaction held open: the approval writes the record through the
        # store meanwhile, which needs the file's write lock. Other processes on the file see the row too.
        now = datetime.now(UTC)
        with self._transaction() as conn:
            conn.execute(
                "DELETE FROM lr_deciding WHERE id = ? AND since < ?", (submission_id, _stamp(now - DECIDING_EXPIRY))
            )
            if conn.execute("SELECT 1 FROM lr_deciding WHERE id = ?", (submission_id,)).fetchone() is not None:
                raise Conflict(_BUSY.format(submission_id))
            conn.execute("INSERT INTO lr_deciding (id, since) VALUES (?, ?)", (submission_id, _stamp(now)))
        try:
            yield
        finally:
            with self._transaction() as conn:
                conn.execute("DELETE FROM lr_deciding WHERE id = ?", (submission_id,))
