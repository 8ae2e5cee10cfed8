"""The `risk` criterion of prioritisation: the predicted risk of the stored risk cells near a hazard, weight 0
by default."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import MultiPolygon, Point, box

from landrelease.actions.prioritise import prioritise_store
from landrelease.analysis.prioritisation import NO_RISK_CELLS, Context, Hazards, Records, RiskCells, prioritise
from landrelease.analysis.priority_weights import load_config
from landrelease.domain.records import Change, NewFeature
from landrelease.errors import InvalidInput
from landrelease.store import Store

AS_OF = date(2026, 6, 1)
GEOD = Geod(ellps="WGS84")
A = box(36.000, 49.000, 36.004, 49.003)
B = box(36.500, 49.000, 36.504, 49.003)
NOTHING = Records(np.empty(0, dtype=object), [], [])
NO_CONTEXT = Context([], np.empty(0, dtype=object), [], [])


def east_of_a(metres: float) -> Point:
    """A point ``metres`` east of hazard A's eastern edge (at its middle latitude)."""
    lon, lat, _ = GEOD.fwd(36.004, 49.0015, 90, metres)
    return Point(lon, lat)


def hazards() -> Hazards:
    return Hazards(
        ["HZ-A", "HZ-B"],
        np.array([A, B], dtype=object),
        [None, None],
        ["SHA", "SHA"],
        ["active", "active"],
        np.array([1e4, 1e4]),
    )


CELLS = RiskCells(
    np.array([east_of_a(500), east_of_a(1500), A.centroid], dtype=object),
    np.array([0.8, 0.9, 0.4]),  # the 0.9 cell is beyond the 1000 m radius
)


def weights(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "weights.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_highest_or_mean_risk_of_the_cells_within_the_radius(tmp_path: Path) -> None:
    config = load_config(weights(tmp_path, "[weights]\nrisk = 50\n"))
    ranking = prioritise(hazards(), NO_CONTEXT, NOTHING, NOTHING, config, AS_OF, CELLS)
    by_id = {r.id: r for r in ranking.ranked}
    assert by_id["HZ-A"].values["risk"] == pytest.approx(0.8)
    assert by_id["HZ-A"].components["risk"] == pytest.approx(40.0)
    assert by_id["HZ-A"].raw["risk"] == pytest.approx(0.8)
    assert by_id["HZ-B"].components["risk"] == 0 and by_id["HZ-B"].raw["risk"] is None
    assert ranking.ids[0] == "HZ-A"
    mean = load_config(weights(tmp_path, '[weights]\nrisk = 50\n[risk]\nstatistic = "mean"\n'))
    [first, _] = prioritise(hazards(), NO_CONTEXT, NOTHING, NOTHING, mean, AS_OF, CELLS).ranked
    assert first.values["risk"] == pytest.approx(0.6)  # (0.8 + 0.4) / 2
    wide = load_config(weights(tmp_path, "[weights]\nrisk = 50\n[risk]\nradius_m = 2000\n"))
    [first, _] = prioritise(hazards(), NO_CONTEXT, NOTHING, NOTHING, wide, AS_OF, CELLS).ranked
    assert first.values["risk"] == pytest.approx(0.9)


def test_weight_zero_by_default_and_notes() -> None:
    config = load_config()
    assert config.weights["risk"] == 0
    ranking = prioritise(hazards(), NO_CONTEXT, NOTHING, NOTHING, config, AS_OF, CELLS)
    a = next(r for r in ranking.ranked if r.id == "HZ-A")
    assert a.components["risk"] == 0 and a.values["risk"] == pytest.approx(0.8)
    assert any("weighs 0" in n for n in ranking.notes)
    without = prioritise(hazards(), NO_CONTEXT, NOTHING, NOTHING, config, AS_OF, NO_RISK_CELLS)
    assert not any("risk" in n for n in without.notes)
    assert [r.score for r in without.ranked] == [r.score for r in ranking.ranked]


def test_weight_without_cells_is_noted_and_bad_statistic_refused(tmp_path: Path) -> None:
    config = load_config(weights(tmp_path, "[weights]\nrisk = 10\n"))
    ranking = prioritise(hazards(), NO_CONTEXT, NOTHING, NOTHING, config, AS_OF)
    assert any("no risk cells" in n for n in ranking.notes)
    with pytest.raises(InvalidInput, match=r"risk\.statistic must be one of max, mean"):
        load_config(weights(tmp_path, '[risk]\nstatistic = "median"\n'))


def test_prioritise_store_reads_the_stored_cells(gpkg: Store, tmp_path: Path) -> None:
    change = Change("test", "setup")
    gpkg.add(
        "hazards",
        [
            NewFeature({"hazard_class": "SHA", "status": "active"}, MultiPolygon([A])),
            NewFeature({"hazard_class": "SHA", "status": "active"}, MultiPolygon([B])),
        ],
        change,
    )
    gpkg.add(
        "risk_cells",
        [
            NewFeature({"cell_size_m": 1000.0}, east_of_a(300), {"risk": 0.7}),
            NewFeature({"cell_size_m": 1000.0}, shapely.Point(36.502, 49.0015), {"risk": None}),  # not predicted
        ],
        change,
    )
    ranking = prioritise_store(gpkg, weights(tmp_path, "[weights]\nrisk = 20\n"), AS_OF)
    raw = {r.id: r.raw["risk"] for r in ranking.ranked}
    assert raw == {"HZ-000001": pytest.approx(0.7), "HZ-000002": None}
