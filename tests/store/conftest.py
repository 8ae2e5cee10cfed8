"""The ``store`` fixture: a fresh, empty database of every backend the contract suite runs against.

To add a backend, add a factory to ``BACKENDS``: it takes pytest's ``tmp_path`` and returns an open
store, or calls ``pytest.skip`` when its server is not available (a PostGIS factory would read a
connection URL from the environment and make a throwaway database).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from landrelease.store import Store, open_store


def _geopackage(tmp_path: Path) -> Store:
    return open_store(str(tmp_path / "contract.gpkg"), create=True)


BACKENDS: dict[str, Callable[[Path], Store]] = {
    "geopackage": _geopackage,
}


@pytest.fixture(params=sorted(BACKENDS))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    opened = BACKENDS[request.param](tmp_path)
    yield opened
    opened.close()
