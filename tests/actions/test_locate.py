"""``landrelease locate``: each place of a file marked with the hazard it lies in (open, or released land)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
from shapely.geometry import LineString, Point, box
from typer.testing import CliRunner

from landrelease.actions.locate import locate_geometries, locate_points
from landrelease.cli import app
from landrelease.domain.records import Change, NewFeature
from landrelease.store import Store, open_store

ANNA = Change("anna", "national survey")


def programme(store: Store) -> list[str]:
    """An open hazard, a closed one overlapping it, a closed one alone, a hazard being worked on."""
    return store.add(
        "hazards",
        [
            NewFeature(
                {"name": "closed first", "hazard_class": "SHA", "status": "closed"}, box(36.0, 49.0, 36.1, 49.1)
            ),
            NewFeature({"name": "open", "hazard_class": "CHA", "status": "active"}, box(36.05, 49.0, 36.2, 49.1)),
            NewFeature({"name": "released", "hazard_class": "SHA", "status": "handed_over"}, box(37, 49, 37.1, 49.1)),
            NewFeature({"name": "clearing", "hazard_class": "CHA", "status": "worked_on"}, box(38, 49, 38.1, 49.1)),
        ],
        ANNA,
    )


def test_open_hazards_win_over_released_land_and_order_is_kept(gpkg: Store) -> None:
    closed, open_, released, clearing = programme(gpkg)
    found = locate_points(
        gpkg, np.array([[36.02, 49.05], [36.07, 49.05], [37.05, 49.05], [38.05, 49.05], [39.0, 49.0], [36.2, 49.1]])
    )
    assert found.hazard_id == [None, open_, None, clearing, None, open_]
    assert found.hazard_status == [None, "active", None, "worked_on", None, "active"]
    assert found.released_id == [closed, None, released, None, None, None]
    assert found.summary() == {
        "places": 6,
        "in_open_hazard": 3,
        "in_released_land_only": 2,
        "outside_recorded_hazards": 1,
        "skipped": 0,
    }


def test_geometries_that_are_not_points_are_skipped(gpkg: Store) -> None:
    _, open_, _, _ = programme(gpkg)
    found = locate_geometries(gpkg, [None, LineString([(36, 49), (37, 50)]), Point(36.1, 49.05), Point()])
    assert found.hazard_id == [None, None, open_, None]
    assert found.skipped == [0, 1, 3]
    assert found.summary()["outside_recorded_hazards"] == 0


def test_locate_command_prints_and_writes_every_place(tmp_path: Path) -> None:
    db = str(tmp_path / "programme.gpkg")
    with open_store(db, create=True) as store:
        _, open_, released, _ = programme(store)
    reports = tmp_path / "reports.csv"
    reports.write_text(
        "report,longitude,latitude\nR1,36.07,49.05\nR2,39.5,49.5\nR3,37.05,49.05\nR4,не число,49\n", "utf-8"
    )
    runner = CliRunner()
    marked = tmp_path / "marked.csv"
    result = runner.invoke(app, ["--db", db, "locate", str(reports), "--out", str(marked)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"feature 1: in {open_} (active)",
        f"feature 3: in released land ({released})",
    ]
    assert "4 places: 1 in an open hazard, 1 only in released land, 1 outside recorded hazards" in result.stderr
    assert "1 skipped" in result.stderr
    with marked.open(encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    assert [(r["report"], r["hazard_id"], r["hazard_status"], r["released_hazard_id"]) for r in rows] == [
        ("R1", open_, "active", ""),
        ("R2", "", "", ""),
        ("R3", "", "", released),
        ("R4", "", "", ""),
    ]
    again = runner.invoke(app, ["--db", db, "locate", str(reports), "--out", str(marked), "--json"])
    assert again.exit_code != 0 and "exists; use --overwrite" in again.stderr and "Traceback" not in again.output
    result = runner.invoke(app, ["--db", db, "locate", str(reports), "--json"])
    data = json.loads(result.stdout)
    assert data["in_open_hazard"] == 1 and data["marked"][0] == {
        "feature": 1,
        "hazard_id": open_,
        "hazard_status": "active",
        "released_hazard_id": None,
    }
