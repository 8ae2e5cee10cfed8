"""The analysis commands' contracts: residual, forecast, classify (JSON shape, exit codes, one-line errors)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import shapely
from typer.testing import CliRunner

from landrelease.actions.imports import ImportOptions, import_file
from landrelease.actions.release import refresh_ledger
from landrelease.cli import app
from landrelease.domain.records import Change, NewFeature
from landrelease.domain.schema import LAYERS
from landrelease.store import open_store
from tests.conftest import shared_file

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_residual_json_contract_and_the_issues_figures() -> None:
    code, out, _ = run("residual", "--emplaced", "10000", "--days", "120", "--json")
    assert code == 0
    design = json.loads(out)
    assert design["expected_functional"] <= 10
    lo, hi = design["interval"]
    assert 0 <= lo <= design["expected_functional"] <= hi <= 10_000
    assert design["rate"]["prior"]["mean"] == pytest.approx(0.001)
    assert 0 < design["probability_any_functional"] < 1
    code, out, _ = run(
        "residual", "--emplaced", "10000", "--days", "150", "--inspected", "200", "--functional", "6", "--json"
    )
    evidence = json.loads(out)
    assert evidence["expected_functional"] > 10 * design["expected_functional"]
    assert evidence["evidence"] == {"inspected": 200, "functional": 6, "day": None, "used": True}


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("residual", "--days", "10"), "give --emplaced N and --days D"),
        (("residual", "--emplaced", "10", "--days", "10", "--inspected", "5"), "both --inspected and --functional"),
        (("residual", "--emplaced", "10", "--days", "60", "--inspected", "3", "--functional", "4"), "cannot come"),
        (("residual", "--emplaced", "10", "--days", "60", "--level", "2"), "interval level"),
    ],
)
def test_residual_bad_input_is_one_line_and_exit_2(args: tuple[str, ...], words: str) -> None:
    code, out, err = run(*args)
    assert code == 2
    assert words in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err + out


def test_residual_over_the_recorded_minefields(tmp_path: Path) -> None:
    db = str(tmp_path / "p.gpkg")
    store = open_store(db, create=True)
    try:
        who = Change("im", "test")
        [h] = store.add("hazards", [NewFeature({"hazard_class": "CHA", "status": "active"}, _box(36.0, 36.01))], who)
        store.add(
            "minefields",
            [
                NewFeature(
                    {
                        "hazard_id": h,
                        "reference_points": "49.0 36.0; 49.01 36.01",
                        "mine_types": "POM-2; PTM-1S",
                        "mines_emplaced": 10_000,
                        "self_deactivation": True,
                        "laid_on": "2026-01-01",
                    },
                    _box(36.0, 36.01),
                ),
                NewFeature({"hazard_id": h, "reference_points": "49.0 36.0; 49.01 36.01", "mine_types": "PMN-2"}),
            ],
            who,
        )
    finally:
        store.close()
    code, out, _ = run("--db", db, "residual", "--minefields", "--as-of", "2026-05-01", "--json")
    assert code == 0
    data = json.loads(out)
    first, second = data["minefields"]
    assert first["hazard_id"] == h and first["days"] == 120 and first["expected_functional"] == pytest.approx(10.0)
    assert any("catalogue: 1 days" in a for a in first["assumptions"])
    assert second["estimate"] is None and second["problem"] == "no number of mines emplaced recorded"
    code, out, _ = run("--db", db, "residual", "--minefields", "--as-of", "2026-05-01")
    assert code == 0 and "10.0 expected functional of 10000" in out and "no estimate" in out


def test_residual_over_the_database_says_clearly_when_there_is_no_minefields_layer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = str(tmp_path / "p.gpkg")
    run("--db", db, "init")
    monkeypatch.delitem(LAYERS, "minefields", raising=False)
    code, _, err = run("--db", db, "residual", "--minefields", "--as-of", "2026-06-01", "--json")
    assert code == 2 and "no minefields layer" in err


def _small_programme(db: str) -> None:
    store = open_store(db, create=True)
    try:
        who = Change("im", "test")
        [h] = store.add("hazards", [NewFeature({"hazard_class": "SHA", "status": "active"}, _box(36.0, 36.04))], who)
        store.add(
            "outcomes",
            [
                NewFeature(
                    {"hazard_id": h, "kind": "cleared", "release_date": f"2026-0{m}-15"},
                    _box(36.0 + 0.005 * m, 36.005 + 0.005 * m),
                )
                for m in range(1, 5)
            ],
            who,
        )
        store.add(
            "finds", [NewFeature({"hazard_id": h, "ordnance_category": "Landmine"}, shapely.Point(36.01, 49.005))], who
        )
        refresh_ledger(store)
    finally:
        store.close()


def _box(x0: float, x1: float) -> shapely.MultiPolygon:
    return shapely.MultiPolygon([shapely.box(x0, 49.0, x1, 49.01)])


def test_forecast_json_contract_chart_and_determinism(tmp_path: Path) -> None:
    db = str(tmp_path / "p.gpkg")
    _small_programme(db)
    chart = tmp_path / "burn.png"
    args = ("--db", db, "forecast", "--as-of", "2026-05-20", "--window", "4", "--teams", "2", "--json")
    code, out, _ = run(*args, "--chart", str(chart))
    assert code == 0, out
    data = json.loads(out)
    assert data["remaining_m2"] > 0
    assert [m["month"] for m in data["rate"]["months"]] == ["2026-01", "2026-02", "2026-03", "2026-04"]
    assert data["rate"]["mean_m2_per_month"] > 0 and data["rate"]["sd_m2_per_month"] >= 0
    f = data["forecast"]
    assert f["interval"][0] <= f["completion_date"] <= f["interval"][1]
    # No teams are recorded on activities: the scenario says so instead of a date.
    assert data["scenario"]["completion_date"] is None and "no teams" in data["scenario"]["reason"]
    assert chart.read_bytes()[:4] == b"\x89PNG"
    assert json.loads(run(*args)[1]) | {"as_of": None} == data | {"as_of": None}
    code, out, _ = run("--db", db, "forecast", "--as-of", "2026-05-20")
    assert code == 0 and "ha remaining" in out


def test_forecast_with_no_dated_release_says_so(tmp_path: Path) -> None:
    db = str(tmp_path / "p.gpkg")
    run("--db", db, "init")
    code, out, _ = run("--db", db, "forecast", "--json")
    assert code == 0
    assert json.loads(out)["forecast"]["completion_date"] is None
    code, _, err = run("--db", db, "forecast", "--as-of", "soon")
    assert code == 2 and "--as-of takes a date" in err


def test_classify_json_contract_and_weights_errors(tmp_path: Path) -> None:
    db = str(tmp_path / "p.gpkg")
    _small_programme(db)
    code, out, _ = run("--db", db, "classify", "--json")
    assert code == 0
    data = json.loads(out)
    [s] = data["suggestions"]
    assert s["suggested_class"] == "CHA" and s["recorded_class"] == "SHA" and s["disagrees"] is True
    assert s["components"] == {"mine_find_in": 10.0} and s["score"] == 10.0
    weights = tmp_path / "w.toml"
    weights.write_text("[thresholds]\ncha = 50\n", "utf-8")
    code, out, _ = run("--db", db, "classify", "--weights", str(weights), "--disagreements", "--json")
    assert code == 0 and json.loads(out)["suggestions"] == []
    weights.write_text("[thresholds]\ncah = 50\n", "utf-8")
    code, _, err = run("--db", db, "classify", "--weights", str(weights))
    assert code == 2 and "unknown setting 'cah'" in err


@pytest.mark.slow
def test_classify_and_forecast_on_real_bih_records(tmp_path: Path) -> None:
    """BiH cleared areas as hazards, incidents as accidents: incidents confirm some areas; no dates, no forecast."""
    db = str(tmp_path / "bih.gpkg")
    store = open_store(db, create=True)
    try:
        options = ImportOptions(on_invalid="repair", hazard_class="SHA")
        hazards = import_file(store, "hazards", shared_file("bih", "cleared_areas.geojson"), options)
        import_file(store, "accidents", shared_file("bih", "incidents.geojson"), ImportOptions())
    finally:
        store.close()
    code, out, _ = run("--db", db, "classify", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["hazards"] == hazards.imported
    confirmed = [s for s in data["suggestions"] if s["suggested_class"] == "CHA"]
    assert confirmed and all(s["disagrees"] for s in confirmed)
    assert all("mine_accident_in" in s["components"] or "other_accident_in" in s["components"] for s in confirmed)
    code, out, _ = run("--db", db, "forecast", "--json")
    assert code == 0
    assert json.loads(out)["forecast"]["completion_date"] is None
