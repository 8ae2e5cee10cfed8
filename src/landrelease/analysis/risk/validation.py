"""Training and validation by leaving whole groups out (municipalities, or spatial blocks).

Cells of one place share their context, so a model validated on random rows is graded on places it has
already seen. Here every figure comes from predictions for a group the model never saw in training, and
tuning inside a training set leaves groups out again (nested), so the figures are not tuned on. The
choice between the two model families (additive curves or boosted shallow trees) is part of that tuning:
it is made on the training groups only, never on the held-out one.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.metrics import average_precision_score, roc_auc_score

from landrelease.analysis.risk.cells import MINED, CellTable
from landrelease.analysis.risk.model import RiskModel, fit_additive, fit_boosted, fit_calibration

PENALTIES = (0.003, 0.01, 0.03)
SEGMENTS = (3, 5)
TREE_DEPTHS = (3,)
SURVEY_SHARES = (0.1, 0.2)


@dataclass(frozen=True)
class Fold:
    held_out: tuple[str, ...]
    train: npt.NDArray[np.bool_]
    test: npt.NDArray[np.bool_]


def group_folds(groups: npt.NDArray[np.str_], max_folds: int | None = None) -> Iterator[Fold]:
    """One fold per group (or, past ``max_folds`` groups, whole groups dealt round-robin into folds).

    A group is always entirely on one side: never in both a fold's training and its held-out cells.
    """
    names = sorted(set(groups.tolist()))
    if max_folds is None or len(names) <= max_folds:
        bins = [[n] for n in names]
    else:
        bins = [names[i::max_folds] for i in range(max_folds)]
    for held in bins:
        test = np.isin(groups, held)
        yield Fold(tuple(held), ~test, test)


def place_covariates(cells: CellTable, covariates: list[str], groups: npt.NDArray[np.str_]) -> list[str]:
    """The covariates with one value in every cell of each group (a municipality's victim count, say).

    With a score of groups such a covariate names the group rather than describes the cell: the model
    would learn each place's history, not what makes a cell risky, and it cannot vary within a place.
    """
    constant = []
    for name in covariates:
        values = cells.numeric[name] if name in cells.numeric else cells.categorical[name]
        if all(np.unique(values[groups == g]).size <= 1 for g in set(groups.tolist())):
            constant.append(name)
    return constant


def out_of_group_logits(
    cells: CellTable,
    covariates: list[str],
    groups: npt.NDArray[np.str_],
    penalty: float,
    segments: int,
    max_folds: int | None = None,
    depth: int = 0,
) -> npt.NDArray[np.float64]:
    """Each cell's log-odds from a model trained without its group (NaN where no model could be trained).

    ``depth`` > 0: boosted trees of that depth instead of the additive model (``penalty``, ``segments``)."""
    logits = np.full(len(cells), np.nan)
    for fold in group_folds(groups, max_folds):
        train = cells.subset(fold.train)
        known = train.label[train.labelled]
        if np.unique(known).size < 2:
            continue
        model = fit_recipe(train, covariates, penalty, segments, depth)
        logits[fold.test] = model.logits(cells.subset(fold.test))
    return logits


def fit_recipe(cells: CellTable, covariates: list[str], penalty: float, segments: int, depth: int) -> RiskModel:
    if depth > 0:
        return fit_boosted(cells, covariates, depth)
    return fit_additive(cells, covariates, penalty, segments)


def train(
    cells: CellTable,
    covariates: list[str],
    groups: npt.NDArray[np.str_],
    penalties: Sequence[float] = PENALTIES,
    segments: Sequence[int] = SEGMENTS,
    max_folds: int | None = None,
    tree_depths: Sequence[int] = TREE_DEPTHS,
) -> RiskModel:
    """The model tuned by leaving groups out (best pooled ROC-AUC over the additive settings and the tree
    depths: the family is chosen here too), refitted on every cell, then calibrated on its own
    out-of-group log-odds."""
    known = cells.labelled
    mined = cells.label == MINED
    recipes = [(p, s, 0) for p in penalties for s in segments] + [(0.0, 0, d) for d in tree_depths]
    best: tuple[float, tuple[float, int, int], npt.NDArray[np.float64]] | None = None
    scores: dict[str, float] = {}
    for recipe in recipes:
        logits = out_of_group_logits(cells, covariates, groups, *recipe[:2], max_folds, depth=recipe[2])
        ok = known & ~np.isnan(logits)
        if np.unique(mined[ok]).size < 2:
            continue
        score = float(roc_auc_score(mined[ok], logits[ok]))
        scores[_recipe_name(*recipe)] = round(score, 4)
        if best is None or score > best[0]:
            best = (score, recipe, logits)
    if best is None:
        raise ValueError("too few groups with both mined and clean cells to validate on")
    score, (penalty, seg, depth), logits = best
    model = fit_recipe(cells, covariates, penalty, seg, depth)
    ok = known & ~np.isnan(logits)
    model.slope, model.shift = fit_calibration(logits[ok], mined[ok])
    chosen: dict[str, Any] = (
        {"family": "trees", "depth": depth}
        if depth > 0
        else {"family": "additive", "penalty": penalty, "segments": seg}
    )
    model.about["tuning"] = {
        "penalties": list(penalties),
        "segments": list(segments),
        "tree_depths": list(tree_depths),
        "chosen": chosen,
        "out_of_group_roc_auc": round(score, 4),
        "out_of_group_roc_auc_by_recipe": scores,
        "groups": len(set(groups.tolist())),
    }
    return model


def _recipe_name(penalty: float, segments: int, depth: int) -> str:
    return f"trees depth {depth}" if depth > 0 else f"additive C={penalty} segments={segments}"


def leave_group_out(
    cells: CellTable,
    covariates: list[str],
    groups: npt.NDArray[np.str_],
    penalties: Sequence[float] = PENALTIES,
    segments: Sequence[int] = SEGMENTS,
    inner_folds: int | None = 6,
    tree_depths: Sequence[int] = TREE_DEPTHS,
) -> dict[str, Any]:
    """Nested leave-group-out figures: for each group, a model trained (family and settings chosen, and
    calibrated, by leaving groups out again) on the other groups only, scored on the held-out group.
    ``chosen`` counts which family the inner loop picked across the held-out groups."""
    probabilities = np.full(len(cells), np.nan)
    chosen: dict[str, int] = {}
    for fold in group_folds(groups):
        train_cells = cells.subset(fold.train)
        if np.unique(train_cells.label[train_cells.labelled]).size < 2:
            continue
        model = train(train_cells, covariates, groups[fold.train], penalties, segments, inner_folds, tree_depths)
        chosen[model.family] = chosen.get(model.family, 0) + 1
        probabilities[fold.test] = model.probabilities(cells.subset(fold.test))
    ok = cells.labelled & ~np.isnan(probabilities)
    return figures(cells.label[ok] == MINED, probabilities[ok], groups[ok]) | {"chosen": chosen}


def figures(
    mined: npt.NDArray[np.bool_], risk: npt.NDArray[np.float64], groups: npt.NDArray[np.str_] | None
) -> dict[str, Any]:
    """Ranking, survey-targeting and calibration figures of ``risk`` against known outcomes.

    ``topNN_share``: surveying the NN % highest-risk known cells of each group, the share of all mined
    cells found (random order finds NN %).
    """
    groups = np.full(mined.size, "all") if groups is None else groups
    both = np.unique(mined).size == 2
    result: dict[str, Any] = {
        "roc_auc": round(float(roc_auc_score(mined, risk)), 4) if both else None,
        "pr_auc": round(float(average_precision_score(mined, risk)), 4) if both else None,
        "n_cells": int(mined.size),
        "n_positives": int(mined.sum()),
        "base_rate": round(float(mined.mean()), 4) if mined.size else None,
    }
    per_group = []
    found = dict.fromkeys(SURVEY_SHARES, 0)
    for name in sorted(set(groups.tolist())):
        g = groups == name
        order = np.argsort(-risk[g], kind="stable")
        row: dict[str, Any] = {"group": name, "n_cells": int(g.sum()), "n_positives": int(mined[g].sum())}
        for share in SURVEY_SHARES:
            top = order[: math.ceil(share * g.sum())]
            found[share] += int(mined[g][top].sum())
        if np.unique(mined[g]).size == 2:
            row["roc_auc"] = round(float(roc_auc_score(mined[g], risk[g])), 4)
        per_group.append(row)
    for share in SURVEY_SHARES:
        result[f"top{round(share * 100)}_share"] = round(found[share] / max(1, int(mined.sum())), 4)
    aucs = [r["roc_auc"] for r in per_group if "roc_auc" in r]
    result["mean_group_roc_auc"] = round(float(np.mean(aucs)), 4) if aucs else None
    result |= calibration(mined, risk)
    if len(per_group) > 1:
        result["per_group"] = per_group
    return result


def calibration(mined: npt.NDArray[np.bool_], risk: npt.NDArray[np.float64], bins: int = 10) -> dict[str, Any]:
    """Brier score, expected calibration error and a reliability table over risk deciles."""
    if mined.size == 0:
        return {"brier": None, "calibration_error": None, "reliability": []}
    order = np.argsort(risk, kind="stable")
    table = []
    error = 0.0
    for chunk in np.array_split(order, min(bins, mined.size)):
        predicted, observed = float(risk[chunk].mean()), float(mined[chunk].mean())
        error += chunk.size * abs(predicted - observed)
        table.append({"predicted": round(predicted, 4), "observed": round(observed, 4), "n": int(chunk.size)})
    return {
        "brier": round(float(np.mean((risk - mined) ** 2)), 4),
        "calibration_error": round(error / mined.size, 4),
        "reliability": table,
    }
