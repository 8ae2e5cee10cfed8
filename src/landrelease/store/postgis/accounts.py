"""The service's own records on PostGIS: users, tokens, sessions, the personal data access log and submitted
reports (``landrelease.accounts.protocol``), in the ``lr_`` tables of ``schema.ACCOUNTS``.

Same semantics and messages as the GeoPackage backend (tests/accounts/test_contract.py runs on both). The
tables come with the schema (migration 2), so opening the accounts also upgrades an older database. Many
servers may share the database: a name is taken once (``ON CONFLICT``), submission ids come from an
identity, and a decision is a conditional ``UPDATE``: the second of two reviewers waits on the row lock,
then finds the status moved on and gets a ``Conflict``.

Calls draw on a pool of connections (``connection.Connected``), except the hold on a report being decided:
a session-level advisory lock lives on the connection that took it, so the holds have one connection of
their own (``deciding``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import psycopg

from landrelease.accounts.protocol import AccessEntry, Submission, User
from landrelease.domain.roles import Role
from landrelease.errors import Conflict, InvalidInput, NotFound, StoreError
from landrelease.store.postgis import connection
from landrelease.store.postgis.pool import Pool

SUBMISSION_PREFIX = "SB"
#: The first key of the advisory locks that hold a report while it is decided ("LRSB").
_DECIDING = 0x4C52_5342
_BUSY = "{} is being decided by someone else; look again in a moment"

_SUBMISSION_COLUMNS = (
    "id, layer, payload, organisation, author, status, reason, created_at, decided_at, decided_by, record_id, "
    "record_version"
)
_USER_COLUMNS = "u.name, u.role, u.organisation, u.created_at"


def _utc(at: datetime | None) -> datetime | None:
    return None if at is None else at.astimezone(UTC)


def _user(row: Sequence[Any]) -> User:
    return User(name=row[0], role=Role(row[1]), organisation=row[2], created_at=row[3].astimezone(UTC))


def _submission(row: Sequence[Any]) -> Submission:
    return Submission(
        id=row[0],
        layer=row[1],
        payload=row[2],
        organisation=row[3],
        author=row[4],
        status=row[5],
        reason=row[6],
        created_at=row[7].astimezone(UTC),
        decided_at=_utc(row[8]),
        decided_by=row[9],
        record_id=row[10],
        record_version=row[11],
    )


def _has_nul(*values: object) -> bool:
    """Whether any text holds NUL, which PostgreSQL text cannot: such a key matches nothing."""
    return any(isinstance(v, str) and "\x00" in v for v in values)


def _refuse_nul(**values: object) -> None:
    for name, value in values.items():
        if _has_nul(value):
            raise InvalidInput(f"{name} contains a NUL character (\\x00), which the database cannot hold")


class PostGISAccounts(connection.Connected):
    """Accounts and submissions in a landrelease PostGIS database (``landrelease.accounts.Accounts``).

    A pool of connections of their own (not the store's), shared by threads.
    """

    def __init__(self, pool: Pool, location: str) -> None:
        """Use ``PostGISAccounts.open``."""
        super().__init__(pool, location)
        #: Reports this object is deciding: its threads share one session, whose advisory locks are re-entrant.
        self._deciding: set[str] = set()
        #: The session holding those locks (made on the first hold), used by one thread at a time.
        self._holds: psycopg.Connection[Any] | None = None
        self._holding = threading.Lock()

    @classmethod
    def open(cls, url: str) -> PostGISAccounts:
        """Open the accounts of the landrelease database at ``url`` (which must exist; an older one is upgraded)."""
        return cls(connection.open_pool(url, create=False), connection.safe_location(url))

    def close(self) -> None:
        with self._holding:
            if self._holds is not None:
                self._holds.close()  # the server frees the holds with the session
                self._holds = None
        super().close()

    def __enter__(self) -> PostGISAccounts:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"PostGISAccounts({self.location!r})"

    # --- users, tokens, sessions ---------------------------------------------------------------------------

    def add_user(self, name: str, role: Role, organisation: str | None, password_hash: str | None) -> User:
        _refuse_nul(name=name, organisation=organisation, password_hash=password_hash)
        with self._transaction() as conn:
            row = conn.execute(
                "INSERT INTO lr_users (name, role, organisation, password_hash, created_at) "
                "VALUES (%s, %s, %s, %s, now()) ON CONFLICT (name) DO NOTHING RETURNING created_at",
                (name, role.value, organisation, password_hash),
            ).fetchone()
        if row is None:
            raise InvalidInput(f"a user called {name!r} already exists")
        return _user((name, role.value, organisation, row[0]))

    def user(self, name: str) -> User:
        row = None
        if not _has_nul(name):
            with self._reading() as conn:
                row = conn.execute(f"SELECT {_USER_COLUMNS} FROM lr_users AS u WHERE u.name = %s", (name,)).fetchone()
        if row is None:
            raise NotFound(f"no user called {name!r}")
        return _user(row)

    def users(self) -> list[User]:
        with self._reading() as conn:
            # Byte order, as SQLite sorts: the same list on both backends whatever the database's collation.
            rows = conn.execute(f'SELECT {_USER_COLUMNS} FROM lr_users AS u ORDER BY u.name COLLATE "C"').fetchall()
        return [_user(r) for r in rows]

    def password_hash(self, name: str) -> str | None:
        if _has_nul(name):
            return None
        with self._reading() as conn:
            row = conn.execute("SELECT password_hash FROM lr_users WHERE name = %s", (name,)).fetchone()
        return None if row is None or row[0] is None else str(row[0])

    def add_token(self, name: str, token_hash: str, label: str) -> None:
        _refuse_nul(name=name, token_hash=token_hash, label=label)
        with self._transaction() as conn:
            _lock_user(conn, name)
            conn.execute(
                "INSERT INTO lr_tokens (token_hash, user_name, label, created_at) VALUES (%s, %s, %s, now())",
                (token_hash, name, label),
            )

    def user_by_token(self, token_hash: str) -> User | None:
        if _has_nul(token_hash):
            return None
        with self._reading() as conn:
            row = conn.execute(
                f"SELECT {_USER_COLUMNS} FROM lr_tokens AS t JOIN lr_users AS u ON u.name = t.user_name "
                "WHERE t.token_hash = %s",
                (token_hash,),
            ).fetchone()
        return None if row is None else _user(row)

    def add_session(self, session_hash: str, name: str, expires_at: datetime) -> None:
        _refuse_nul(name=name, session_hash=session_hash)
        with self._transaction() as conn:
            _lock_user(conn, name)
            conn.execute("DELETE FROM lr_sessions WHERE expires_at < now()")  # keep the table small
            conn.execute(
                "INSERT INTO lr_sessions (session_hash, user_name, created_at, expires_at) VALUES (%s, %s, now(), %s)",
                (session_hash, name, _aware(expires_at)),
            )

    def user_by_session(self, session_hash: str, now: datetime) -> User | None:
        if _has_nul(session_hash):
            return None
        with self._reading() as conn:
            row = conn.execute(
                f"SELECT {_USER_COLUMNS} FROM lr_sessions AS s JOIN lr_users AS u ON u.name = s.user_name "
                "WHERE s.session_hash = %s AND s.expires_at > %s",
                (session_hash, _aware(now)),
            ).fetchone()
        return None if row is None else _user(row)

    def end_session(self, session_hash: str) -> None:
        if _has_nul(session_hash):
            return
        with self._transaction() as conn:
            conn.execute("DELETE FROM lr_sessions WHERE session_hash = %s", (session_hash,))

    # --- the access log -------------------------------------------------------------------------------------

    def log_access(self, user: str, record_ids: Sequence[str], purpose: str) -> None:
        if not record_ids:
            return
        _refuse_nul(user=user, purpose=purpose, record_id=next((r for r in record_ids if _has_nul(r)), None))
        with self._transaction() as conn, conn.cursor() as cursor:
            # One timestamp for the whole read (now() is the transaction's start), as on the GeoPackage.
            cursor.executemany(
                "INSERT INTO lr_access_log (at, user_name, record_id, purpose) VALUES (now(), %s, %s, %s)",
                [(user, record_id, purpose) for record_id in record_ids],
            )

    def access_log(self, record_id: str | None = None) -> list[AccessEntry]:
        query = "SELECT at, user_name, record_id, purpose FROM lr_access_log"
        if _has_nul(record_id):
            return []
        with self._reading() as conn:
            if record_id is None:
                rows = conn.execute(f"{query} ORDER BY fid").fetchall()
            else:
                rows = conn.execute(f"{query} WHERE record_id = %s ORDER BY fid", (record_id,)).fetchall()
        return [AccessEntry(r[0].astimezone(UTC), r[1], r[2], r[3]) for r in rows]

    # --- submissions -------------------------------------------------------------------------------------

    def add_submission(
        self, layer: str, payload: dict[str, Any], organisation: str | None, author: str, status: str
    ) -> Submission:
        _refuse_nul(layer=layer, organisation=organisation, author=author, status=status)
        # Kept as json (not jsonb): the report exactly as checked, keys in their order, \u0000 escapes allowed.
        document = json.dumps(payload, ensure_ascii=False, allow_nan=False)
        with self._transaction() as conn:
            row = conn.execute(
                "WITH n AS (SELECT nextval(pg_get_serial_sequence('lr_submissions', 'fid')) AS fid) "
                "INSERT INTO lr_submissions (fid, id, layer, payload, organisation, author, status, created_at) "
                "SELECT n.fid, %s || '-' || CASE WHEN n.fid < 1000000 THEN lpad(n.fid::text, 6, '0') "
                "ELSE n.fid::text END, %s, %s::json, %s, %s, %s, now() FROM n "
                f"RETURNING {_SUBMISSION_COLUMNS}",
                (SUBMISSION_PREFIX, layer, document, organisation, author, status),
            ).fetchone()
        assert row is not None
        return _submission(row)

    def submission(self, submission_id: str) -> Submission:
        row = None
        if not _has_nul(submission_id):
            with self._reading() as conn:
                row = conn.execute(
                    f"SELECT {_SUBMISSION_COLUMNS} FROM lr_submissions WHERE id = %s", (submission_id,)
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
        if _has_nul(organisation, author, status):
            return []
        where: list[str] = []
        values: list[object] = []
        for column, value in (("organisation", organisation), ("author", author), ("status", status)):
            if value is not None:
                where.append(f"{column} = %s")
                values.append(value)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        with self._reading() as conn:
            rows = conn.execute(
                f"SELECT {_SUBMISSION_COLUMNS} FROM lr_submissions {clause} ORDER BY fid DESC LIMIT %s OFFSET %s",
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
        _refuse_nul(status=status, decided_by=decided_by, reason=reason, record_id=record_id)
        if _has_nul(submission_id):
            raise NotFound(f"no submission {submission_id!r}")
        with self._transaction() as conn:
            # Compare-and-set: under READ COMMITTED a concurrent decision holds the row until it commits, and
            # this UPDATE then re-checks ``status`` on the row as it was left: at most one of them wins.
            row = conn.execute(
                "UPDATE lr_submissions SET status = %s, reason = %s, decided_at = now(), decided_by = %s, "
                "record_id = %s, record_version = %s WHERE id = %s AND status = %s "
                f"RETURNING {_SUBMISSION_COLUMNS}",
                (status, reason, decided_by, record_id, record_version, submission_id, expected_status),
            ).fetchone()
            if row is None:
                exists = conn.execute("SELECT status FROM lr_submissions WHERE id = %s", (submission_id,)).fetchone()
                if exists is None:
                    raise NotFound(f"no submission {submission_id!r}")
                raise Conflict(f"{submission_id} is already {exists[0]}: someone else decided it")
        return _submission(row)

    def revise(self, submission_id: str, expected_status: str, payload: dict[str, Any], status: str) -> Submission:
        _refuse_nul(status=status)
        if _has_nul(submission_id):
            raise NotFound(f"no submission {submission_id!r}")
        document = json.dumps(payload, ensure_ascii=False, allow_nan=False)
        with self._transaction() as conn:
            row = conn.execute(
                "UPDATE lr_submissions SET payload = %s::json, status = %s WHERE id = %s AND status = %s "
                f"RETURNING {_SUBMISSION_COLUMNS}",
                (document, status, submission_id, expected_status),
            ).fetchone()
            if row is None:
                exists = conn.execute("SELECT status FROM lr_submissions WHERE id = %s", (submission_id,)).fetchone()
                if exists is None:
                    raise NotFound(f"no submission {submission_id!r}")
                raise Conflict(f"{submission_id} is {exists[0]} now, not {expected_status}: look at it again")
        return _submission(row)

    @contextmanager
    def deciding(self, submission_id: str) -> Iterator[None]:
        # A session-level advisory lock: never waited for (a second reviewer is told at once), and freed by
        # the server if this process dies mid-approval. It must be released on the session that took it, so
        # every hold is taken on one connection kept for them, never a pooled one; the calls made while
        # deciding (reading the report, writing the record, the decision) go through the pools meanwhile.
        if _has_nul(submission_id):
            raise NotFound(f"no submission {submission_id!r}")
        key = (_DECIDING, submission_id)
        with self._holding:
            if submission_id in self._deciding:
                raise Conflict(_BUSY.format(submission_id))
            session = self._session()
            try:
                row = session.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))", key).fetchone()
            except psycopg.Error as error:
                raise connection.store_error(self.location, error) from None
            if row is None or not row[0]:
                raise Conflict(_BUSY.format(submission_id))
            self._deciding.add(submission_id)
        try:
            yield
        finally:
            with self._holding:
                self._deciding.discard(submission_id)
                if not session.closed:  # else the session is gone, and the lock with it
                    with suppress(psycopg.Error):
                        session.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", key)

    def _session(self) -> psycopg.Connection[Any]:
        """The connection holding the reports being decided (``self._holding`` held): made on first use, and
        again if the last one was lost (its holds went with it)."""
        if self._holds is None or self._holds.closed or self._holds.broken:
            if self._holds is not None:
                self._holds.close()
            if not isinstance(self._pool, Pool):  # accounts are always opened on a pool of their own
                raise StoreError(f"{self.location}: the accounts have no pool to hold decisions on")
            self._holds = self._pool.separate()
        return self._holds


def _aware(at: datetime) -> datetime:
    """A naive time is taken as UTC, never as the server's local time."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


def _lock_user(conn: psycopg.Connection[Any], name: str) -> None:
    """``NotFound`` (not a foreign key error) for credentials of no one; the user row is held until commit."""
    if conn.execute("SELECT 1 FROM lr_users WHERE name = %s FOR KEY SHARE", (name,)).fetchone() is None:
        raise NotFound(f"no user called {name!r}")
