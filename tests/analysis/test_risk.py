"""The risk model: unknown cells are never negatives, validation never sees the held-out place, files are safe."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from landrelease.analysis.risk import validation
from landrelease.analysis.risk.cells import CellTable, parse_label, spatial_blocks
from landrelease.analysis.risk.model import RiskModel, explain, fit_additive
from landrelease.analysis.risk.validation import (
    figures,
    group_folds,
    leave_group_out,
    out_of_group_logits,
    place_covariates,
)


def synthetic(groups: int = 6, per_group: int = 200, seed: int = 0) -> CellTable:
    """Cells whose chance of mines rises with ``conflict`` in every group; ``noise`` tells nothing."""
    rng = np.random.default_rng(seed)
    n = groups * per_group
    conflict = rng.normal(size=n)
    noise = rng.normal(size=n)
    mined = rng.random(n) < 1 / (1 + np.exp(-(2.0 * conflict - 1.0)))
    return CellTable(
        lat=rng.uniform(5, 6, n),
        lon=rng.uniform(-76, -75, n),
        label=mined.astype(np.int8),
        groups=np.repeat([f"m{g}" for g in range(groups)], per_group).astype(np.str_),
        numeric={"conflict": conflict, "noise": noise},
    )


def test_labels_parse_unknown_as_unknown() -> None:
    assert [parse_label(v) for v in ("1", "0", "-1", "", " 1.0 ", "NA")] == [1, 0, -1, -1, 1, -1]
    assert parse_label("2") is None


def test_unlabelled_cells_are_never_negatives() -> None:
    """Unsurveyed cells sit where conflict was worst (as in real programmes). Read as clean, they would
    teach the model that conflict means safety and turn the ranking around."""
    cells = synthetic()
    rng = np.random.default_rng(1)
    extra = 3000
    unsurveyed = CellTable(
        lat=rng.uniform(5, 6, extra),
        lon=rng.uniform(-76, -75, extra),
        label=np.full(extra, -1, dtype=np.int8),
        groups=np.repeat([f"m{g}" for g in range(6)], extra // 6).astype(np.str_),
        numeric={"conflict": rng.normal(2.0, 0.5, extra), "noise": rng.normal(size=extra)},
    )
    both = _concat(cells, unsurveyed)
    known = both.labelled
    mined = both.label[known] == 1

    model = fit_additive(both, ["conflict", "noise"], penalty=1.0, segments=4)
    assert roc_auc_score(mined, model.logits(both.subset(known))) > 0.75

    # The same fit with unknown cells read as clean ranks the surveyed cells far worse: the check above has teeth.
    wrong = CellTable(both.lat, both.lon, np.where(known, both.label, 0).astype(np.int8), both.groups, both.numeric)
    misled = fit_additive(wrong, ["conflict", "noise"], penalty=1.0, segments=4)
    assert roc_auc_score(mined, misled.logits(both.subset(known))) < 0.75

    # Figures count only known cells.
    result = leave_group_out(both, ["conflict", "noise"], both.groups, penalties=[1.0], segments=[4], inner_folds=3)
    assert result["n_cells"] == int(known.sum())
    assert result["roc_auc"] > 0.75


def test_every_fold_holds_its_groups_out_of_training() -> None:
    groups = np.array(["a", "b", "c", "a", "d", "e", "b", "f", "g"], dtype=np.str_)
    for max_folds in (None, 3):
        folds = list(group_folds(groups, max_folds))
        assert len(folds) == (7 if max_folds is None else 3)
        held = [g for f in folds for g in f.held_out]
        assert sorted(held) == sorted(set(groups.tolist()))  # every group held out exactly once
        for fold in folds:
            assert not set(groups[fold.train].tolist()) & set(fold.held_out)
            assert set(groups[fold.test].tolist()) == set(fold.held_out)
            assert (fold.train ^ fold.test).all()


def test_nested_validation_never_trains_on_the_held_out_group(monkeypatch: pytest.MonkeyPatch) -> None:
    cells = synthetic(groups=5, per_group=80)
    seen: list[set[str]] = []
    real_train = validation.train

    def spy(
        train_cells: CellTable, covariates: list[str], groups: np.ndarray, *args: object, **kw: object
    ) -> RiskModel:
        assert train_cells.groups is not None
        seen.append(set(train_cells.groups.tolist()))
        assert set(groups.tolist()) == seen[-1]
        return real_train(train_cells, covariates, groups, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(validation, "train", spy)
    leave_group_out(cells, ["conflict"], cells.groups, penalties=[1.0], segments=[3], inner_folds=2)  # type: ignore[arg-type]
    assert sorted(tuple(sorted(s)) for s in seen) == sorted(
        tuple(sorted({f"m{g}" for g in range(5)} - {f"m{h}"})) for h in range(5)
    )


def test_leakage_would_inflate_the_score_and_leave_group_out_does_not() -> None:
    """Each place has its own share of mined cells and a covariate that names the place, nothing else.
    Nothing carries to an unseen place: leave-group-out must say so, where random rows would not."""
    rng = np.random.default_rng(3)
    groups, per = 10, 120
    names = np.repeat([f"p{g}" for g in range(groups)], per).astype(np.str_)
    rate = np.repeat(np.where(np.arange(groups) % 2 == 0, 0.1, 0.8), per)
    cells = CellTable(
        lat=rng.uniform(5, 6, groups * per),
        lon=rng.uniform(-76, -75, groups * per),
        label=(rng.random(groups * per) < rate).astype(np.int8),
        groups=names,
        numeric={"noise": rng.normal(size=groups * per)},
        categorical={"district": names.copy()},
    )
    covariates = ["district", "noise"]
    honest = out_of_group_logits(cells, covariates, names, penalty=1.0, segments=3)
    mined = cells.label == 1
    assert roc_auc_score(mined, honest) < 0.62
    random_rows = rng.integers(0, 5, groups * per).astype(str).astype(np.str_)
    leaky = out_of_group_logits(cells, covariates, random_rows, penalty=1.0, segments=3)
    assert roc_auc_score(mined, leaky) > 0.75
    assert place_covariates(cells, covariates, names) == ["district"]


def test_model_round_trips_through_json_and_refuses_tampering() -> None:
    cells = synthetic(groups=4, per_group=100)
    cells.categorical["landuse"] = np.array(["forest", "crops"] * 200, dtype=np.str_)
    model = validation.train(cells, ["conflict", "noise", "landuse"], cells.groups, penalties=[1.0], segments=[4])  # type: ignore[arg-type]
    text = json.dumps(model.to_json())
    again = RiskModel.from_json(json.loads(text))
    assert np.allclose(again.probabilities(cells), model.probabilities(cells))
    assert again.covariates == ["conflict", "noise", "landuse"]
    data = json.loads(text)
    data["weights"] = data["weights"][:-1]
    with pytest.raises(ValueError, match="do not match"):
        RiskModel.from_json(data)
    with pytest.raises(ValueError, match="not a landrelease risk model"):
        RiskModel.from_json({"format": "pickle"})
    with pytest.raises(ValueError, match="version 9"):
        RiskModel.from_json({**json.loads(text), "version": 9})


def test_explanations_add_up_and_name_the_covariate_that_matters() -> None:
    cells = synthetic()
    model = fit_additive(cells, ["conflict", "noise"], penalty=1.0, segments=4)
    parts = model.contributions(cells)
    assert np.allclose(model.intercept + parts.sum(axis=1), model.logits(cells))
    riskiest = int(np.argmax(cells.numeric["conflict"]))
    top = explain(model, cells.subset(np.array([riskiest])), top=2)[0]
    assert top[0][0] == "conflict" and top[0][1] > 0


def test_figures_count_mined_cells_found_in_each_groups_top_share() -> None:
    mined = np.array([1, 0, 0, 0, 0, 0, 0, 0, 0, 1] * 2, dtype=bool)
    risk = np.linspace(1, 0, 20)  # the first cell of each ten is ranked first
    groups = np.repeat(["a", "b"], 10).astype(np.str_)
    result = figures(mined, risk, groups)
    assert result["top10_share"] == 0.5  # one of the two mined cells in each group's top cell
    assert result["top20_share"] == 0.5
    assert result["n_positives"] == 4
    assert len(result["reliability"]) == 10


def test_spatial_blocks_group_nearby_cells() -> None:
    blocks = spatial_blocks(np.array([5.01, 5.02, 5.31]), np.array([-75.01, -75.02, -75.01]))
    assert blocks[0] == blocks[1] != blocks[2]


def _concat(a: CellTable, b: CellTable) -> CellTable:
    assert a.groups is not None and b.groups is not None
    return CellTable(
        lat=np.concatenate([a.lat, b.lat]),
        lon=np.concatenate([a.lon, b.lon]),
        label=np.concatenate([a.label, b.label]),
        groups=np.concatenate([a.groups, b.groups]),
        numeric={k: np.concatenate([a.numeric[k], b.numeric[k]]) for k in a.numeric},
    )


def test_reader_rejects_a_bad_label_in_the_users_terms(tmp_path: Path) -> None:
    from landrelease.errors import InvalidInput
    from landrelease.formats.cells import read_cells

    path = tmp_path / "cells.csv"
    path.write_text("lat,lon,outcome,elev\n5.1,-75.2,1,100\n5.2,-75.3,,120\n5.3,-75.4,maybe,90\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"row 3: outcome is 'maybe'"):
        read_cells(path, "outcome", None)
    path.write_text("lat,lon,outcome,elev\n5.1,-75.2,1,100\n5.2,-75.3,,120\n", encoding="utf-8")
    cells = read_cells(path, "outcome", None)
    assert cells.label.tolist() == [1, -1]
    assert list(cells.numeric) == ["elev"]  # positions are not covariates


def interacting(groups: int = 6, per_group: int = 200, seed: int = 5) -> CellTable:
    """Cells mined mostly where two covariates are both high: a pattern no sum of curves can draw."""
    rng = np.random.default_rng(seed)
    n = groups * per_group
    a, b = rng.normal(size=n), rng.normal(size=n)
    mined = rng.random(n) < np.where((a > 0) & (b > 0), 0.8, 0.08)
    return CellTable(
        lat=rng.uniform(5, 6, n),
        lon=rng.uniform(-76, -75, n),
        label=mined.astype(np.int8),
        groups=np.repeat([f"m{g}" for g in range(groups)], per_group).astype(np.str_),
        numeric={"a": a, "b": b, "noise": rng.normal(size=n)},
    )


def test_tree_arrays_give_the_fitted_trees_answer_and_explanations_add_up() -> None:
    from sklearn.ensemble import GradientBoostingClassifier

    from landrelease.analysis.risk import trees
    from landrelease.analysis.risk.model import fit_boosted

    cells = interacting()
    model = fit_boosted(cells, ["a", "b", "noise"], depth=2)
    x, _ = trees.tree_columns(model.terms, cells)
    reference = GradientBoostingClassifier(
        n_estimators=trees.TREES, learning_rate=trees.LEARNING_RATE, max_depth=2,
        min_samples_leaf=trees.MIN_LEAF_CELLS, random_state=0,
    ).fit(x, cells.label == 1)  # fmt: skip
    assert np.allclose(model.logits(cells), reference.decision_function(x))
    parts = model.contributions(cells)
    assert np.allclose(model.intercept + parts.sum(axis=1), reference.decision_function(x))
    corner = int(np.argmax(np.minimum(cells.numeric["a"], cells.numeric["b"])))
    top = explain(model, cells.subset(np.array([corner])), top=2)[0]
    assert {name for name, _ in top} == {"a", "b"} and all(effect > 0 for _, effect in top)


def test_the_family_is_chosen_by_leaving_groups_out() -> None:
    both = dict(penalties=[1.0], segments=[4], tree_depths=[2])
    crossed = validation.train(interacting(), ["a", "b", "noise"], interacting().groups, **both)  # type: ignore[arg-type]
    assert crossed.family == "trees" and crossed.about["tuning"]["chosen"] == {"family": "trees", "depth": 2}
    linear = synthetic(per_group=100)
    straight = validation.train(linear, ["conflict", "noise"], linear.groups, **both)  # type: ignore[arg-type]
    assert straight.family == "additive"
    scores = straight.about["tuning"]["out_of_group_roc_auc_by_recipe"]
    assert set(scores) == {"additive C=1.0 segments=4", "trees depth 2"}
    nested = leave_group_out(linear, ["conflict"], linear.groups, inner_folds=2, **both)  # type: ignore[arg-type]
    assert sum(nested["chosen"].values()) == 6


def test_tree_model_file_is_checked_node_by_node() -> None:
    cells = interacting(groups=3, per_group=150)
    model = validation.train(cells, ["a", "b"], cells.groups, penalties=[], segments=[], tree_depths=[2])  # type: ignore[arg-type]
    data = json.loads(json.dumps(model.to_json()))
    assert data["version"] == 2 and data["family"] == "trees"
    again = RiskModel.from_json(data)
    assert np.array_equal(again.probabilities(cells), model.probabilities(cells))
    first = data["trees"][0]
    for key, value, message in [
        ("left", [0] * len(first["left"]), "do not form a tree"),  # a node its own child: a walk never ends
        ("feature", [7 if f >= 0 else f for f in first["feature"]], "do not form a tree"),  # no such covariate
        ("value", [float("nan")] * len(first["value"]), "not finite"),
        ("threshold", first["threshold"][:-1], "do not match"),
    ]:
        bad = json.loads(json.dumps(data))
        bad["trees"][0][key] = value
        with pytest.raises(ValueError, match=message):
            RiskModel.from_json(bad)
    with pytest.raises(ValueError, match="unknown family"):
        RiskModel.from_json({**data, "family": "pickle"})
