"""The stored ledger stays in step with the polygons, even when someone edits the file in QGIS or GDAL."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyogrio.raw
import pytest
import shapely

from landrelease.actions.release import ensure_current_ledger, refresh_ledger
from landrelease.analysis.land_release import land_release_report
from landrelease.domain.records import Change, NewFeature
from landrelease.store import Store

WHO = Change("im.officer", "test")


def _programme(store: Store) -> list[str]:
    hazards = store.add(
        "hazards",
        [
            NewFeature({"hazard_class": "CHA", "status": "worked_on"}, shapely.box(36.0, 49.0, 36.01, 49.01)),
            NewFeature({"hazard_class": "SHA", "status": "active"}, shapely.box(36.1, 49.0, 36.11, 49.01)),
        ],
        WHO,
    )
    store.add(
        "outcomes",
        [
            NewFeature({"hazard_id": hazards[0], "kind": "cleared"}, shapely.box(36.0, 49.0, 36.004, 49.01)),
            NewFeature({"hazard_id": hazards[0], "kind": "cancelled"}, shapely.box(36.003, 49.0, 36.006, 49.01)),
        ],
        WHO,
    )
    refresh_ledger(store)
    return hazards


def _same(a: dict[str, float | int], b: dict[str, float | int]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert a[key] == pytest.approx(b[key], rel=1e-12, abs=1e-9), key


def test_a_refreshed_ledger_is_current_and_the_report_reads_it(gpkg: Store) -> None:
    _programme(gpkg)
    assert gpkg.ledger_state().current
    stored = land_release_report(gpkg).totals.as_dict()
    computed = land_release_report(gpkg, recompute=True).totals.as_dict()
    _same(stored, computed)
    assert stored["cleared_m2"] > 0 and stored["cancelled_m2"] > 0


def test_a_gdal_edit_makes_the_ledger_stale_and_it_is_never_used_stale(gpkg: Store, db_path: Path) -> None:
    hazards = _programme(gpkg)
    before = land_release_report(gpkg).totals
    # An IM officer draws one more cleared area in QGIS: GDAL appends it to the layer.
    drawn = shapely.MultiPolygon([shapely.box(36.005, 49.0, 36.009, 49.01)])
    pyogrio.raw.write(
        db_path,
        np.array([shapely.to_wkb(drawn)], dtype=object),
        [
            np.array(["OC-900001"], dtype=object),
            np.array([hazards[0]], dtype=object),
            np.array(["cleared"], dtype=object),
        ],
        fields=["id", "hazard_id", "kind"],
        layer="outcomes",
        driver="GPKG",
        append=True,
        geometry_type="MultiPolygon",
        crs="EPSG:4326",
    )
    assert not gpkg.ledger_state().current
    after = land_release_report(gpkg).totals  # computed from the polygons, not the stale figures
    assert after.cleared_m2 > before.cleared_m2 * 1.5
    assert ensure_current_ledger(gpkg)
    assert gpkg.ledger_state().current
    _same(land_release_report(gpkg).totals.as_dict(), after.as_dict())
    assert gpkg.get(hazards[0]).attributes["cleared_m2"] == pytest.approx(after.cleared_m2)


def test_status_changes_do_not_touch_the_ledger(gpkg: Store) -> None:
    hazards = _programme(gpkg)
    gpkg.update(hazards[1], WHO, {"status": "closed"}, status_change=True)
    assert gpkg.ledger_state().current


def test_a_partial_refresh_does_not_hide_someone_elses_change(gpkg: Store) -> None:
    hazards = _programme(gpkg)
    before = gpkg.ledger_state()
    gpkg.add(
        "outcomes",
        [NewFeature({"hazard_id": hazards[1], "kind": "reduced"}, shapely.box(36.1, 49.0, 36.105, 49.01))],
        WHO,
    )
    # Someone else's change lands between our write and our refresh.
    gpkg.update("OC-000001", Change("other", "redrawn"), geometry=shapely.box(36.0, 49.0, 36.002, 49.01))
    refresh_ledger(gpkg, [hazards[1]], before=before, changes=1)
    assert not gpkg.ledger_state().current
    refresh_ledger(gpkg, [hazards[1]], before=gpkg.ledger_state(), changes=0)
    assert not gpkg.ledger_state().current  # stale before, so a partial refresh cannot make it current
    refresh_ledger(gpkg)
    assert gpkg.ledger_state().current


def test_an_outcome_edit_that_leaves_the_ledger_inputs_alone_keeps_it_current(gpkg: Store) -> None:
    _programme(gpkg)
    gpkg.update("OC-000001", WHO, {"operator": "Demo Demining Group", "depth_cm": 13.0})
    assert gpkg.ledger_state().current
    gpkg.update("OC-000001", WHO, {"kind": "reduced"})
    assert not gpkg.ledger_state().current
