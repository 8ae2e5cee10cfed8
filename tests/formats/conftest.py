"""Fixtures for the format tests: a private temporary folder to prove nothing is left behind."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import shared_file

shared_data = shared_file  # real data files, or a skip saying what is missing


@pytest.fixture
def system_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The folder ``tempfile`` uses during the test; it must be empty again afterwards."""
    folder = tmp_path / "system-tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder
    assert list(folder.iterdir()) == [], "temporary files were left behind"


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    """A folder for generated input files, apart from the temporary folder."""
    folder = tmp_path / "inputs"
    folder.mkdir()
    return folder
