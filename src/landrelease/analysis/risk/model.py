"""The fitted risk model (an additive logistic model, or boosted shallow trees), its explanations and
its safe JSON form.

A model file may come from someone else, so it is plain JSON (never pickle): numbers and names only,
read back with every field checked. It carries everything needed to predict: the covariates, how each
becomes columns, the weights and the calibration.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from landrelease.analysis.risk.basis import Term, design, fit_terms
from landrelease.analysis.risk.cells import MINED, CellTable
from landrelease.analysis.risk.trees import Tree, fit_trees, tree_columns, tree_contributions, tree_width

FORMAT = "landrelease-risk-model"
VERSION = 2  # 2 added the "trees" family; version 1 files (additive only) still read
FAMILIES = ("additive", "trees")


@dataclass
class RiskModel:
    """Weights over the additive basis (family "additive") or boosted trees over the covariates (family
    "trees"), then a calibration ``sigmoid(slope * logit + shift)``."""

    terms: list[Term]
    mean: npt.NDArray[np.float64]
    scale: npt.NDArray[np.float64]
    weights: npt.NDArray[np.float64]
    intercept: float
    penalty: float  # the inverse L2 strength (C) the model was fitted with
    segments: int  # hat columns per continuous covariate
    slope: float = 1.0
    shift: float = 0.0
    label_column: str = ""
    group_column: str | None = None
    about: dict[str, Any] = field(default_factory=dict)  # training data and validation figures, for the model card
    family: str = "additive"
    trees: list[Tree] = field(default_factory=list)  # family "trees": their log-odds add to ``intercept``
    depth: int = 0  # family "trees": their depth

    @property
    def covariates(self) -> list[str]:
        return [t.name for t in self.terms]

    def logits(self, cells: CellTable) -> npt.NDArray[np.float64]:
        """The uncalibrated log-odds of each cell (the scale explanations are in)."""
        return np.asarray(self.intercept + self.contributions(cells).sum(axis=1), dtype=np.float64)

    def contributions(self, cells: CellTable) -> npt.NDArray[np.float64]:
        """What each covariate adds to each cell's log-odds, against the average training cell."""
        if self.family == "trees":
            x, owner = tree_columns(self.terms, cells)
            return tree_contributions(self.trees, x, owner, len(self.terms))[0]
        basis, owner = design(self.terms, cells)
        z = (basis - self.mean) / self.scale
        parts = np.zeros((len(cells), len(self.terms)))
        np.add.at(parts.T, owner, (z * self.weights).T)
        return parts

    def probabilities(self, cells: CellTable) -> npt.NDArray[np.float64]:
        """The calibrated chance that mines are found in each cell if it is surveyed."""
        return calibrated(self.logits(cells), self.slope, self.shift)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "format": FORMAT,
            "version": VERSION,
            "family": self.family,
            "label_column": self.label_column,
            "group_column": self.group_column,
            "penalty": self.penalty,
            "segments": self.segments,
            "terms": [t.to_json() for t in self.terms],
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "weights": self.weights.tolist(),
            "intercept": self.intercept,
            "calibration": {"slope": self.slope, "shift": self.shift},
            "about": self.about,
        }
        if self.family == "trees":
            data |= {"depth": self.depth, "trees": [t.to_json() for t in self.trees]}
        return data

    @staticmethod
    def from_json(data: object) -> RiskModel:
        """A model from its JSON form; ``ValueError`` saying what is wrong if it is not one."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError("it is not a landrelease risk model")
        if data.get("version") not in (1, VERSION):
            raise ValueError(f"it is a version {data.get('version')} model; this landrelease reads version {VERSION}")
        family = data.get("family", "additive")
        if family not in FAMILIES:
            raise ValueError(f"it is a model of unknown family {family!r}")
        try:
            terms = [Term.from_json(t) for t in data["terms"]]
            width = sum(t.width for t in terms) if family == "additive" else 0
            arrays = [np.asarray(data[k], dtype=np.float64) for k in ("mean", "scale", "weights")]
            if any(a.shape != (width,) or not np.isfinite(a).all() for a in arrays) or (arrays[1] <= 0).any():
                raise ValueError("its weights do not match its covariates")
            calibration = data["calibration"]
            numbers = [float(data["intercept"]), float(calibration["slope"]), float(calibration["shift"])]
            if not all(math.isfinite(v) for v in numbers):
                raise ValueError("its weights are not finite numbers")
            group = data.get("group_column")
            trees = [Tree.from_json(t, tree_width(terms)) for t in data["trees"]] if family == "trees" else []
            if family == "trees" and not trees:
                raise ValueError("it has no trees")
            return RiskModel(
                terms=terms,
                mean=arrays[0],
                scale=arrays[1],
                weights=arrays[2],
                intercept=numbers[0],
                penalty=float(data["penalty"]),
                segments=int(data["segments"]),
                slope=numbers[1],
                shift=numbers[2],
                label_column=str(data["label_column"]),
                group_column=None if group is None else str(group),
                about=dict(data.get("about") or {}),
                family=family,
                trees=trees,
                depth=int(data["depth"]) if family == "trees" else 0,
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"it lacks a valid {exc} entry") from None


def calibrated(logits: npt.NDArray[np.float64], slope: float, shift: float) -> npt.NDArray[np.float64]:
    return 1.0 / (1.0 + np.exp(-(slope * logits + shift)))


def fit_additive(cells: CellTable, covariates: list[str], penalty: float, segments: int) -> RiskModel:
    """The additive model fitted to the labelled ``cells`` (unknown cells only shape the covariate ranks).

    Unknown cells never enter the likelihood: treating them as clean would teach the model that
    unsurveyed places are safe.
    """
    terms = fit_terms(cells, covariates, segments)
    known = cells.subset(cells.labelled)
    basis, _ = design(terms, known)
    mean = basis.mean(axis=0)
    scale = basis.std(axis=0)
    scale[scale < 1e-9] = 1.0
    y = (known.label == MINED).astype(np.int64)
    if np.unique(y).size < 2:
        raise ValueError("the training cells need both mined and clean cells")
    lr = LogisticRegression(C=penalty, max_iter=2000)
    # One BLAS thread: these matrices are small, and threads fighting over a shared machine's cores
    # made fits ten times slower.
    with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
        warnings.simplefilter("ignore")  # convergence notes on tiny folds; the fit is still usable
        lr.fit((basis - mean) / scale, y)
    return RiskModel(
        terms=terms,
        mean=mean,
        scale=scale,
        weights=lr.coef_[0].astype(np.float64),
        intercept=float(lr.intercept_[0]),
        penalty=penalty,
        segments=segments,
    )


def fit_boosted(cells: CellTable, covariates: list[str], depth: int) -> RiskModel:
    """Boosted trees of ``depth`` fitted to the labelled ``cells`` (unknown cells only set the medians that
    fill missing values). Coordinates are never among the covariates: the trees must carry to other places."""
    terms = fit_terms(cells, covariates, segments=1)
    known = cells.subset(cells.labelled)
    x, _ = tree_columns(terms, known)
    mined = known.label == MINED
    if np.unique(mined).size < 2:
        raise ValueError("the training cells need both mined and clean cells")
    trees, start = fit_trees(x, mined, depth)
    roots = sum(float(t.value[0]) for t in trees)
    return RiskModel(
        terms=terms,
        mean=np.zeros(0),
        scale=np.ones(0),
        weights=np.zeros(0),
        intercept=start + roots,
        penalty=0.0,
        segments=0,
        family="trees",
        trees=trees,
        depth=depth,
    )


def fit_calibration(logits: npt.NDArray[np.float64], mined: npt.NDArray[np.bool_]) -> tuple[float, float]:
    """Platt scaling on out-of-group log-odds: what the model's scores mean in a place it has not seen.

    The slope is kept at zero or above: a model that ranks unseen places backwards is not turned around,
    it is made flat (every cell gets the base rate).
    """
    lr = LogisticRegression(C=1e6, max_iter=1000)
    lr.fit(logits[:, None], mined.astype(np.int64))
    slope = max(0.0, float(lr.coef_[0][0]))
    if slope == 0.0:
        rate = float(np.clip(mined.mean(), 1e-6, 1 - 1e-6))
        return 0.0, math.log(rate / (1 - rate))
    return slope, float(lr.intercept_[0])


def explain(model: RiskModel, cells: CellTable, top: int = 3) -> list[list[tuple[str, float]]]:
    """For each cell, the ``top`` covariates that move its log-odds most (signed: + raises the risk)."""
    parts = model.contributions(cells)
    order = np.argsort(-np.abs(parts), axis=1)[:, :top]
    names = model.covariates
    return [[(names[j], float(parts[i, j])) for j in order[i] if parts[i, j] != 0.0] for i in range(len(cells))]
