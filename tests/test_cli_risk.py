"""`landrelease risk train | evaluate | predict` end to end on a small synthetic grid."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pyogrio
import pytest
from typer.testing import CliRunner

from landrelease.cli import app

runner = CliRunner()


def write_cells(path: Path, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["LATITUD_Y", "LONGITUD_X", "outcome", "Municipio", "roads_dist", "landuse", "region_victims"])
        for g in range(5):
            for _ in range(80):
                roads = rng.exponential(2.0)
                mined = rng.random() < 1 / (1 + np.exp(roads - 2.0))
                label = "" if rng.random() < 0.2 else int(mined)
                landuse = rng.choice(["forest", "crops", "pasture"])
                w.writerow(
                    [5 + g * 0.1 + rng.random() * 0.1, -75 + rng.random() * 0.1, label, f"M{g}", roads, landuse, g]
                )


@pytest.mark.slow  # nested leave-group-out evaluation: about 5 s
def test_train_evaluate_predict(tmp_path: Path) -> None:
    cells, model = tmp_path / "cells.csv", tmp_path / "model.json"
    write_cells(cells)
    r = runner.invoke(
        app,
        ["risk", "train", str(cells), "--label", "outcome", "--group", "Municipio", "--model", str(model), "--json"],
    )
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert summary["n_positives"] > 0 and summary["covariates"] == 2  # region_victims: one value per place
    stored = json.loads(model.read_text(encoding="utf-8"))
    assert stored["format"] == "landrelease-risk-model" and stored["version"] == 2
    assert [t["name"] for t in stored["terms"]] == ["roads_dist", "landuse"]
    assert stored["family"] == stored["about"]["tuning"]["chosen"]["family"]  # picked by leaving groups out

    r = runner.invoke(app, ["risk", "evaluate", "--model", str(model), str(cells), "--label", "outcome", "--json"])
    assert r.exit_code == 0, r.output
    figures = json.loads(r.stdout)
    for key in ("roc_auc", "pr_auc", "top10_share", "top20_share", "n_cells", "n_positives", "brier"):
        assert key in figures
    assert figures["roc_auc"] > 0.7

    r = runner.invoke(
        app,
        ["risk", "evaluate", "--model", str(model), str(cells), "--label", "outcome", "--group", "Municipio", "--json"],
    )
    assert r.exit_code == 0, r.output
    nested = json.loads(r.stdout)
    assert nested["validation"].startswith("leave one Municipio out")
    assert {row["group"] for row in nested["per_group"]} == {f"M{g}" for g in range(5)}
    assert 0.6 < nested["roc_auc"] <= figures["roc_auc"] + 0.05

    for name in ("risk.csv", "risk.gpkg"):
        out = tmp_path / name
        r = runner.invoke(
            app, ["risk", "predict", "--model", str(model), str(cells), "--out", str(out), "--group", "Municipio"]
        )
        assert r.exit_code == 0, r.output
    with (tmp_path / "risk.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 400 and {"risk", "driver_1", "effect_1", "group"} <= set(rows[0])
    assert all(0 < float(row["risk"]) < 1 for row in rows)
    assert rows[0]["driver_1"] in ("roads_dist", "landuse")
    info = pyogrio.read_info(tmp_path / "risk.gpkg", layer="risk")
    assert info["features"] == 400 and info["geometry_type"] == "Point"


def test_bad_input_is_one_line(tmp_path: Path) -> None:
    cells, model = tmp_path / "cells.csv", tmp_path / "model.json"
    write_cells(cells)
    r = runner.invoke(app, ["risk", "train", str(cells), "--label", "nope", "--model", str(model)])
    assert r.exit_code == 2 and "no column 'nope'" in r.stderr and "Traceback" not in r.output
    model.write_text('{"format": "something else"}', encoding="utf-8")
    r = runner.invoke(app, ["risk", "predict", "--model", str(model), str(cells), "--out", str(tmp_path / "o.csv")])
    assert r.exit_code == 2 and "not a landrelease risk model" in r.stderr
