"""Shared fixtures: where the real data lives, and a fresh database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from landrelease.store import Store, open_store

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
