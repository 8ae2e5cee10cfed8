"""Risk model on the RELand cells (Antioquia, 19 municipalities): leave-municipality-out figures.

Prints, from one run:
- the landrelease model, nested leave-municipality-out (family - additive curves or boosted shallow trees -
  and settings chosen, and calibration fitted, inside each training set), and how often each family was chosen;
- baseline 1: the best single covariate (its direction chosen on the training municipalities only), and
  the best single covariate chosen with hindsight on all cells (an upper bound for that approach);
- baseline 2: a plain, non-invariant model: gradient-boosted trees on every column (coordinates and
  municipality-level covariates included), scikit-learn defaults, the same folds; and the same trees without
  the coordinates.
The study's LightGBM reached ROC-AUC 0.571 leaving municipalities out.

Takes a few minutes on 2 shared cores, so `run_all` leaves it out: run `python -m benchmarks.bench_risk`.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from landrelease.analysis.risk.cells import CellTable
from landrelease.analysis.risk.validation import figures, group_folds, leave_group_out, place_covariates
from landrelease.formats.cells import read_cells

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "reland" / "train_cells.csv"
SUMMARY = ("roc_auc", "pr_auc", "mean_group_roc_auc", "top10_share", "top20_share", "brier", "calibration_error")


def summary(result: dict[str, object]) -> dict[str, object]:
    return {k: result[k] for k in SUMMARY}


def single_covariate(cells: CellTable, groups: np.ndarray) -> tuple[dict[str, object], str, float]:  # type: ignore[type-arg]
    """Each held-out municipality scored by the covariate (and direction) best on the other municipalities."""
    known = cells.labelled
    mined = cells.label == 1
    score = np.full(len(cells), np.nan)
    for fold in group_folds(groups):
        train = fold.train & known
        best = max(
            ((abs(roc_auc_score(mined[train], x[train]) - 0.5), name) for name, x in cells.numeric.items()
             if np.unique(x[train]).size > 1),
        )  # fmt: skip
        x = cells.numeric[best[1]]
        sign = 1.0 if roc_auc_score(mined[train], x[train]) >= 0.5 else -1.0
        # Ranks within the held-out municipality: a single covariate carries no calibration.
        test = np.flatnonzero(fold.test)
        score[test] = sign * (np.argsort(np.argsort(x[test])) + 0.5) / test.size
    hindsight = max(
        (max(a, 1 - a), name)
        for name, x in cells.numeric.items()
        if np.unique(x[known]).size > 1
        for a in [roc_auc_score(mined[known], x[known])]
    )
    return figures(mined[known], score[known], groups[known]), hindsight[1], hindsight[0]


def plain_trees(cells: CellTable, groups: np.ndarray, coordinates: bool = True) -> dict[str, object]:  # type: ignore[type-arg]
    """Boosted trees on every column, coordinates included: capacity without any care for invariance."""
    columns = [cells.lat, cells.lon, *cells.numeric.values()] if coordinates else list(cells.numeric.values())
    x = np.column_stack(columns)
    known = cells.labelled
    mined = cells.label == 1
    risk = np.full(len(cells), np.nan)
    for fold in group_folds(groups):
        train = fold.train & known
        with threadpool_limits(limits=1):
            model = HistGradientBoostingClassifier(random_state=0).fit(x[train], mined[train])
            risk[fold.test] = model.predict_proba(x[fold.test])[:, 1]
    return figures(mined[known], risk[known], groups[known])


def main() -> int:
    if not DATA.exists():
        print(json.dumps({"skipped": f"real data absent: {DATA}"}))
        return 0
    cells = read_cells(DATA, "mines_outcome", "Municipio")
    assert cells.groups is not None
    groups = cells.groups
    names = list(cells.numeric) + list(cells.categorical)
    dropped = place_covariates(cells, names, groups)
    covariates = [n for n in names if n not in dropped]

    start = time.perf_counter()
    ours = leave_group_out(cells, covariates, groups)
    ours_s = time.perf_counter() - start
    start = time.perf_counter()
    single, hindsight_name, hindsight_auc = single_covariate(cells, groups)
    single_s = time.perf_counter() - start
    start = time.perf_counter()
    trees = plain_trees(cells, groups)
    trees_s = time.perf_counter() - start
    no_coordinates = plain_trees(cells, groups, coordinates=False)
    result = {
        "cells": len(cells),
        "labelled": int(cells.labelled.sum()),
        "mined": int((cells.label == 1).sum()),
        "municipalities": len(set(groups.tolist())),
        "covariates": len(covariates),
        "left_out_place_covariates": len(dropped),
        "landrelease_nested_leave_municipality_out": {**summary(ours), "seconds": round(ours_s, 1)},
        "family_chosen_by_inner_loop": ours["chosen"],
        "per_municipality": ours.get("per_group"),
        "reliability": ours["reliability"],
        "baseline_best_single_covariate": {**summary(single), "seconds": round(single_s, 1)},
        "baseline_best_single_covariate_hindsight": {"covariate": hindsight_name, "roc_auc": round(hindsight_auc, 4)},
        "baseline_plain_boosted_trees": {**summary(trees), "seconds": round(trees_s, 1)},
        "baseline_plain_boosted_trees_without_coordinates": summary(no_coordinates),
        "study_lightgbm_roc_auc": 0.571,
    }
    print(json.dumps(result, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
