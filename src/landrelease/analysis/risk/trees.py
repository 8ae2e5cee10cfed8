"""Boosted shallow trees, written out as plain arrays: a second model family with exact explanations.

scikit-learn fits the trees; this module copies them into arrays (feature, threshold, children, value)
and evaluates them itself, so a model file stays plain JSON and a file from elsewhere cannot run code.
Each node's value is the count-weighted mean of the leaves below it, so a cell's path through a tree
splits the tree's output into one change per split (Saabas attribution): the changes, summed by
covariate, add up exactly to the cell's log-odds.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.ensemble import GradientBoostingClassifier
from threadpoolctl import threadpool_limits

from landrelease.analysis.risk.basis import Term
from landrelease.analysis.risk.cells import CellTable

TREES = 100
LEARNING_RATE = 0.1
MIN_LEAF_CELLS = 20


@dataclass(frozen=True)
class Tree:
    """One tree: node i splits on ``feature[i]`` (cells with value <= ``threshold[i]`` go ``left[i]``),
    or is a leaf (``feature[i] == -1``). Children always come after their parent, so a walk ends."""

    feature: npt.NDArray[np.int64]
    threshold: npt.NDArray[np.float64]
    left: npt.NDArray[np.int64]
    right: npt.NDArray[np.int64]
    value: npt.NDArray[np.float64]

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k).tolist() for k in ("feature", "threshold", "left", "right", "value")}

    @staticmethod
    def from_json(data: dict[str, Any], width: int) -> Tree:
        feature, left, right = (np.asarray(data[k], dtype=np.int64) for k in ("feature", "left", "right"))
        threshold, value = (np.asarray(data[k], dtype=np.float64) for k in ("threshold", "value"))
        n = value.size
        if n == 0 or any(a.shape != (n,) for a in (feature, threshold, left, right)):
            raise ValueError("a tree's arrays do not match")
        if not (np.isfinite(threshold).all() and np.isfinite(value).all()):
            raise ValueError("a tree holds numbers that are not finite")
        node = np.arange(n)
        leaf = feature == -1
        split_ok = (feature < width) & (left > node) & (left < n) & (right > node) & (right < n)
        if not np.where(leaf, (left == -1) & (right == -1), (feature >= 0) & split_ok).all():
            raise ValueError("a tree's nodes do not form a tree over the model's covariates")
        return Tree(feature, threshold, left, right, value)


def tree_columns(terms: list[Term], cells: CellTable) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """The trees' inputs: a covariate's own value (missing -> training median), or one 0/1 column per
    category level; and for each column the index of its term. Values are rounded to float32, as the
    fitted trees compared them, so the arrays give the same answer as the fitted model."""
    blocks: list[npt.NDArray[np.float64]] = []
    for term in terms:
        if term.kind == "levels":
            blocks.append(term.columns(cells))
        else:
            x = cells.numeric[term.name]
            blocks.append(np.where(np.isnan(x), term.fill, x)[:, None])
    if not blocks:
        return np.zeros((len(cells), 0)), np.zeros(0, np.int64)
    owner = np.concatenate([np.full(b.shape[1], i, dtype=np.int64) for i, b in enumerate(blocks)])
    return np.hstack(blocks).astype(np.float32).astype(np.float64), owner


def tree_width(terms: list[Term]) -> int:
    return sum(len(t.levels) if t.kind == "levels" else 1 for t in terms)


def fit_trees(x: npt.NDArray[np.float64], mined: npt.NDArray[np.bool_], depth: int) -> tuple[list[Tree], float]:
    """Boosted trees of ``depth`` on ``x``; the trees as arrays and the starting log-odds."""
    gb = GradientBoostingClassifier(
        n_estimators=TREES, learning_rate=LEARNING_RATE, max_depth=depth, min_samples_leaf=MIN_LEAF_CELLS,
        random_state=0,
    )  # fmt: skip
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore")
        gb.fit(x, mined.astype(np.int64))
    rate = float(np.clip(mined.mean(), 1e-9, 1 - 1e-9))
    trees = [_arrays(est.tree_, gb.learning_rate) for est in gb.estimators_[:, 0]]
    return trees, math.log(rate / (1 - rate))


def _arrays(tree: Any, rate: float) -> Tree:
    """A fitted scikit-learn tree as arrays, inner nodes holding the count-weighted mean of their leaves."""
    left = np.asarray(tree.children_left, dtype=np.int64)
    right = np.asarray(tree.children_right, dtype=np.int64)
    leaf = left == -1
    weight = np.asarray(tree.weighted_n_node_samples, dtype=np.float64)
    value = np.where(leaf, np.asarray(tree.value, dtype=np.float64).reshape(-1) * rate, 0.0)
    for i in range(left.size - 1, -1, -1):  # children come after parents: fill bottom-up
        if not leaf[i]:
            value[i] = (weight[left[i]] * value[left[i]] + weight[right[i]] * value[right[i]]) / weight[i]
    feature = np.where(leaf, -1, np.asarray(tree.feature, dtype=np.int64))
    threshold = np.where(leaf, 0.0, np.asarray(tree.threshold, dtype=np.float64))
    return Tree(feature, threshold, left, right, value)


def tree_contributions(
    trees: list[Tree], x: npt.NDArray[np.float64], owner: npt.NDArray[np.int64], n_terms: int
) -> tuple[npt.NDArray[np.float64], float]:
    """Per cell and term, what the splits on that term add along the cell's paths; and the sum of the
    trees' root values (the average training cell's part, the same for every cell)."""
    parts = np.zeros((x.shape[0], n_terms))
    rows = np.arange(x.shape[0])
    roots = 0.0
    for tree in trees:
        roots += float(tree.value[0])
        node = np.zeros(x.shape[0], dtype=np.int64)
        while True:
            inner = tree.feature[node] >= 0
            if not inner.any():
                break
            i, at = rows[inner], node[inner]
            f = tree.feature[at]
            child = np.where(x[i, f] <= tree.threshold[at], tree.left[at], tree.right[at])
            np.add.at(parts, (i, owner[f]), tree.value[child] - tree.value[at])
            node[inner] = child
    return parts, roots
