"""The ``store`` fixture: a fresh, empty database of every backend the contract suite runs against.

To add a backend, add a factory to ``BACKENDS``: it takes pytest's request and ``tmp_path`` and returns an
open store, or calls ``pytest.skip`` when its server is not available.

PostGIS: each test gets a fresh PostgreSQL schema of its own (through the URL's ``search_path``) in the
session's throwaway database (``postgis_database`` in tests/conftest.py, which says when it skips or fails).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from landrelease.store import Store, open_store
from tests.conftest import PostGISDatabase

__all__ = ["PostGISDatabase"]  # test_postgis.py takes it from here


def _geopackage(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    return open_store(str(tmp_path / "contract.gpkg"), create=True)


def _postgis(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    database: PostGISDatabase = request.getfixturevalue("postgis_database")
    url = database.fresh_schema()
    request.addfinalizer(lambda: database.drop_schema(url))
    return open_store(url, create=True)


class ReplicaKeepsUp:
    """The replica is the primary's own file here: always fresh, so every read takes the replica's path."""

    def written(self) -> None:
        return None

    def fresh(self) -> bool:
        return True

    def lag(self) -> float | None:
        return 0.0

    def rejoin(self) -> None:
        return None

    def close(self) -> None:
        return None


def _routed(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """Writes through one connection, reads through another (``store.routing``, what ``--read-db`` uses)."""
    from landrelease.store.routing import RoutedStore

    path = str(tmp_path / "contract.gpkg")
    primary = open_store(path, create=True)
    return RoutedStore(primary, open_store(path), ReplicaKeepsUp())


BACKENDS: dict[str, Callable[[pytest.FixtureRequest, Path], Store]] = {
    "geopackage": _geopackage,
    "postgis": _postgis,
    "routed": _routed,
}


@pytest.fixture(params=sorted(BACKENDS))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    opened = BACKENDS[request.param](request, tmp_path)
    yield opened
    opened.close()


@pytest.fixture
def empty_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A second fresh database of the same backend as ``store`` (to ``load`` what the first one dumped)."""
    folder = tmp_path / "second"
    folder.mkdir()
    opened = BACKENDS[request.node.callspec.params["store"]](request, folder)
    yield opened
    opened.close()
