"""Shared fixtures: where the real data lives, a fresh database, and the session's PostGIS database.

PostGIS: one throwaway database per test session (``landrelease_test_<pid>``, dropped at the end) on the
server named by ``LANDRELEASE_TEST_PG`` (default: the local cluster, user postgres), handing out empty
schemas through the URL's ``search_path``. Without a server or PostGIS its tests are skipped with the
reason, except under CI (``CI`` set), where that is a failure: CI must really run them.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from landrelease.store import Store, open_store

ADMIN_URL = os.environ.get("LANDRELEASE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
_schemas = itertools.count(1)
SHARED_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def shared_file(*parts: str) -> Path:
    """A file of ../shared/data, or skip the test saying what is missing."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data {'/'.join(parts)} is absent (expected at {path})")
    return path


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "programme.gpkg"


@pytest.fixture
def gpkg(db_path: Path) -> Iterator[Store]:
    store = open_store(str(db_path), create=True)
    yield store
    store.close()


class PostGISDatabase:
    """A throwaway database with PostGIS, handing out empty schemas (``search_path``) one per test."""

    def __init__(self, admin_url: str, name: str) -> None:
        import psycopg

        self.name = name
        base, _, _ = admin_url.rpartition("/")
        self.url = f"{base}/{name}"
        self._admin = admin_url
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        self._conn = psycopg.connect(self.url, autocommit=True)
        self._conn.execute("CREATE EXTENSION IF NOT EXISTS postgis SCHEMA public")

    def schema_url(self, schema: str) -> str:
        return f"{self.url}?options={quote(f'-csearch_path={schema},public')}"

    def fresh_schema(self) -> str:
        schema = f"contract_{next(_schemas)}"
        self._conn.execute(f'CREATE SCHEMA "{schema}"')
        return self.schema_url(schema)

    def drop_schema(self, url: str) -> None:
        schema = url.rsplit("%3D", 1)[1].split("%2C", 1)[0]
        self._conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

    def drop(self) -> None:
        import psycopg

        self._conn.close()
        with psycopg.connect(self._admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"PostGIS backend not available under CI: {reason}", pytrace=False)
    pytest.skip(f"PostGIS backend not available: {reason}")


@pytest.fixture(scope="session")
def postgis_database() -> Iterator[PostGISDatabase]:
    """The session's throwaway PostGIS database (skipped, or failed under CI, when there is none)."""
    try:
        import psycopg
    except ImportError:
        _unavailable("psycopg is not installed (pip install 'psycopg[binary]')")
        raise
    try:
        database = PostGISDatabase(ADMIN_URL, f"landrelease_test_{os.getpid()}")
    except psycopg.Error as error:
        message = " ".join(str(error).split())
        _unavailable(f"{ADMIN_URL}: {message} (install postgresql-15-postgis-3 and start the cluster)")
        raise
    yield database
    database.drop()
