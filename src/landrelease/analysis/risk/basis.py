"""The additive basis: each covariate becomes a few columns, so the model is a sum of one curve per covariate.

A continuous covariate is first mapped to its rank in the training cells (its empirical CDF), then to
piecewise-linear "hat" columns over that rank. Ranks make the curve indifferent to units and outliers
(a distance in metres or kilometres, a skewed population count), and a sum of curves keeps every
prediction explainable: a cell's risk is exactly the sum of what each covariate adds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from landrelease.analysis.risk.cells import CellTable

MIN_LEVEL_CELLS = 10  # a category seen in fewer training cells gets no column of its own


@dataclass(frozen=True)
class Term:
    """One covariate's part of the basis.

    kind "curve": ``knots`` are training quantiles; "flag": a 0/1 covariate, ``high`` its 1 value;
    "levels": a categorical covariate, one column per ``levels`` entry.
    """

    name: str
    kind: str
    fill: float = 0.0  # the training median, used where a cell's value is missing
    knots: tuple[float, ...] = ()
    high: float = 1.0
    levels: tuple[str, ...] = ()

    @property
    def width(self) -> int:
        if self.kind == "curve":
            return len(self.knots) - 1
        if self.kind == "flag":
            return 1
        return len(self.levels)

    def columns(self, cells: CellTable) -> npt.NDArray[np.float64]:
        if self.kind == "levels":
            values = cells.categorical[self.name]
            return np.stack([values == level for level in self.levels], axis=1).astype(np.float64)
        x = cells.numeric[self.name]
        x = np.where(np.isnan(x), self.fill, x)
        if self.kind == "flag":
            return np.asarray(x == self.high, dtype=np.float64)[:, None]
        knots = np.asarray(self.knots)
        k = len(knots) - 1
        u = np.interp(x, knots, np.linspace(0.0, 1.0, k + 1))
        centres = np.linspace(0.0, 1.0, k + 1)[1:]  # the hat at 0 is implied by the intercept
        return np.clip(1.0 - np.abs(u[:, None] - centres[None, :]) * k, 0.0, None)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "kind": self.kind}
        if self.kind == "curve":
            data |= {"fill": self.fill, "knots": list(self.knots)}
        elif self.kind == "flag":
            data |= {"fill": self.fill, "high": self.high}
        else:
            data["levels"] = list(self.levels)
        return data

    @staticmethod
    def from_json(data: dict[str, Any]) -> Term:
        kind = str(data["kind"])
        if kind not in ("curve", "flag", "levels"):
            raise ValueError(f"unknown term kind {kind!r}")
        return Term(
            name=str(data["name"]),
            kind=kind,
            fill=float(data.get("fill", 0.0)),
            knots=tuple(float(v) for v in data.get("knots", ())),
            high=float(data.get("high", 1.0)),
            levels=tuple(str(v) for v in data.get("levels", ())),
        )


def fit_terms(cells: CellTable, covariates: list[str], segments: int) -> list[Term]:
    """Terms for ``covariates`` from the training ``cells``; covariates with a single value are left out."""
    terms: list[Term] = []
    for name in covariates:
        if name in cells.categorical:
            values, counts = np.unique(cells.categorical[name], return_counts=True)
            levels = tuple(str(v) for v, c in zip(values, counts, strict=True) if v != "" and c >= MIN_LEVEL_CELLS)
            if len(levels) >= 1 and counts.size >= 2:
                terms.append(Term(name, "levels", levels=levels))
            continue
        x = cells.numeric[name]
        x = x[~np.isnan(x)]
        distinct = np.unique(x)
        if distinct.size < 2:
            continue
        fill = float(np.median(x))
        if distinct.size == 2:
            terms.append(Term(name, "flag", fill=fill, high=float(distinct[1])))
            continue
        knots = np.unique(np.quantile(x, np.linspace(0.0, 1.0, segments + 1)))
        if knots.size < 2:
            continue
        terms.append(Term(name, "curve", fill=fill, knots=tuple(float(v) for v in knots)))
    return terms


def design(terms: list[Term], cells: CellTable) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """The basis matrix of ``cells`` and, for each of its columns, the index of the term it belongs to."""
    blocks = [t.columns(cells) for t in terms]
    if not blocks:
        return np.zeros((len(cells), 0)), np.zeros(0, np.int64)
    owner = np.concatenate([np.full(b.shape[1], i, dtype=np.int64) for i, b in enumerate(blocks)])
    return np.hstack(blocks), owner
