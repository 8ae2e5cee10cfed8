"""The ``backend`` fixture: a fresh landrelease database of each backend the accounts contract runs against,
named by its location (``open_accounts`` opens it as often as a test needs, as separate servers would)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest

from landrelease.accounts import Accounts, open_accounts
from landrelease.store import open_store
from tests.conftest import PostGISDatabase


@dataclass(frozen=True)
class Backend:
    name: str
    location: str

    def open(self) -> Accounts:
        return open_accounts(self.location)

    def rows(self, table: str) -> list[tuple[object, ...]]:
        """Every row of one of our tables, read beside the backend (to see what it really stores)."""
        query = f"SELECT * FROM {table}"  # table names come from the tests themselves
        if self.name == "postgis":
            import psycopg

            with psycopg.connect(self.location, autocommit=True) as conn:
                return list(conn.execute(query).fetchall())
        with closing(sqlite3.connect(self.location)) as conn:
            return list(conn.execute(query).fetchall())


def _geopackage(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return str(tmp_path / "accounts.gpkg")


def _postgis(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    database: PostGISDatabase = request.getfixturevalue("postgis_database")
    url = database.fresh_schema()
    request.addfinalizer(lambda: database.drop_schema(url))
    return url


BACKENDS: dict[str, Callable[[pytest.FixtureRequest, Path], str]] = {
    "geopackage": _geopackage,
    "postgis": _postgis,
}


@pytest.fixture(params=sorted(BACKENDS))
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    location = BACKENDS[request.param](request, tmp_path)
    open_store(location, create=True).close()
    return Backend(request.param, location)


@pytest.fixture
def accounts(backend: Backend) -> Iterator[Accounts]:
    opened = backend.open()
    yield opened
    opened.close()
