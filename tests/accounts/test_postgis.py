"""What only the PostGIS accounts have: tables made by a numbered migration, text PostgreSQL cannot hold,
one-line connection errors. The shared behaviour is in test_contract.py (run on both backends)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from landrelease.accounts import open_accounts
from landrelease.domain.roles import Role
from landrelease.errors import InvalidInput, StoreError
from landrelease.store import open_store
from tests.conftest import PostGISDatabase

psycopg = pytest.importorskip("psycopg")

ACCOUNT_TABLES = ("lr_users", "lr_tokens", "lr_sessions", "lr_access_log", "lr_submissions")


@pytest.fixture
def url(postgis_database: PostGISDatabase) -> Iterator[str]:
    made = postgis_database.fresh_schema()
    yield made
    postgis_database.drop_schema(made)


def _sql(url: str, query: str, *parameters: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(query, parameters or None)
        return cursor.fetchall() if cursor.description else []


def _tables(url: str) -> set[str]:
    rows = _sql(url, "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")
    return {r[0] for r in rows}


def test_a_database_from_before_the_accounts_is_upgraded_on_open(url: str) -> None:
    from landrelease.store.postgis import schema

    with open_store(url, create=True) as store:
        store.set_derived("hazards", {})
    # As schema 1 left it: the national record only.
    _sql(url, f"DROP TABLE {', '.join(ACCOUNT_TABLES)}, lr_form_instances CASCADE")  # those of schema 2 and 3
    _sql(url, "UPDATE lr_meta SET value = 1 WHERE key = 'schema_version'")
    assert not _tables(url) & set(ACCOUNT_TABLES)
    accounts = open_accounts(url)
    try:
        accounts.add_user("olena", Role.ADMIN, None, None)
        assert [u.name for u in accounts.users()] == ["olena"]
    finally:
        accounts.close()
    assert set(ACCOUNT_TABLES) <= _tables(url)
    assert _sql(url, "SELECT value FROM lr_meta WHERE key = 'schema_version'") == [(schema.SCHEMA_VERSION,)]
    with open_store(url) as store:
        assert store.schema_version() == schema.SCHEMA_VERSION >= 2


def test_accounts_need_a_landrelease_database(url: str) -> None:
    with pytest.raises(StoreError, match="not a landrelease database") as caught:
        open_accounts(url)
    assert "\n" not in str(caught.value)
    assert not _tables(url)  # nothing made behind the user's back


def test_connection_errors_are_one_line_without_the_password(postgis_database: PostGISDatabase) -> None:
    bad = postgis_database.url.replace("postgres@", "nobody:s3cret-pw@")
    with pytest.raises(StoreError) as caught:
        open_accounts(bad)
    message = str(caught.value)
    assert message.startswith("cannot connect to postgresql://") and "s3cret-pw" not in message
    assert "\n" not in message


def test_text_postgresql_cannot_hold_is_refused_in_the_users_terms(url: str) -> None:
    open_store(url, create=True).close()
    accounts = open_accounts(url)
    try:
        with pytest.raises(InvalidInput, match=r"organisation contains a NUL character \(\\x00\)"):
            accounts.add_user("olena", Role.OPERATOR, "Org\x00A", None)
        accounts.add_user("olena", Role.VIEWER, None, None)
        report = accounts.add_submission("finds", {"attributes": {"note": "\x00"}}, None, "olena", "submitted")
        with pytest.raises(InvalidInput, match="reason contains a NUL"):
            accounts.decide(report.id, "submitted", "rejected", "olena", "bad\x00")
        assert accounts.submission(report.id).status == "submitted"
        with pytest.raises(InvalidInput, match="record_id contains a NUL"):
            accounts.log_access("olena", ["VC-000001", "VC\x00"], "read")
        assert accounts.access_log() == []
    finally:
        accounts.close()
