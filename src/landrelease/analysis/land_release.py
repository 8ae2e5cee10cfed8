"""The land release report: national totals and groups (by admin area, operator or month).

Figures come from the ledger stored on the records when it is current (the database counts every change
to the ledger's inputs, so stale figures are never used), else from the polygons; ``recompute`` forces
the polygons. Either way the report is what the records say.

By admin area and by operator, each hazard falls in one group and each group keeps the ledger identity;
by month, each outcome's credited land falls in the month it was released, so the groups hold released
land only and sum to the national released totals.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

import numpy as np
import numpy.typing as npt

from landrelease.analysis.ledger import current_ledger
from landrelease.domain.ledger import LedgerTotals
from landrelease.domain.records import Scalar
from landrelease.domain.vocabulary import ReleaseKind
from landrelease.store.protocol import Store

GroupBy = Literal["admin", "operator", "month"]
FIGURES = ("estimated_m2", "cancelled_m2", "reduced_m2", "cleared_m2", "remaining_m2")
NONE_KEY = "(none)"


@dataclass(frozen=True)
class Group:
    key: str
    name: str
    figures: dict[str, float | int]

    def as_dict(self) -> dict[str, object]:
        return {"key": self.key, "name": self.name, **self.figures}


@dataclass(frozen=True)
class LandReleaseReport:
    totals: LedgerTotals
    by: GroupBy | None
    groups: list[Group] = field(default_factory=list)
    unlinked_outcomes: int = 0
    generated_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def as_dict(self) -> dict[str, object]:
        return {
            "totals": self.totals.as_dict(),
            "by": self.by,
            "groups": [g.as_dict() for g in self.groups],
            "unlinked_outcomes": self.unlinked_outcomes,
            "generated_at": self.generated_at,
        }


def land_release_report(store: Store, by: GroupBy | None = None, *, recompute: bool = False) -> LandReleaseReport:
    needed = ("hazard_id", "kind", "release_date") if by == "month" else ("hazard_id",)
    ledger, _, o_cols = current_ledger(store, recompute=recompute, outcome_columns=needed)
    totals = ledger.totals()
    unlinked = len(ledger.unlinked)
    if by is None:
        return LandReleaseReport(totals, None, [], unlinked)
    if by == "month":
        return LandReleaseReport(totals, by, _by_month(ledger.released, o_cols), unlinked)
    column = "admin_area" if by == "admin" else "operator"
    ids, _, cols = store.columns("hazards", [column], geometry=False)
    position = {hid: i for i, hid in enumerate(ids)}
    keys = np.array([str(cols[column][position[h]] or NONE_KEY) for h in ledger.hazard_ids], dtype=object)
    names = _admin_names(store) if by == "admin" else {}
    groups = []
    # Every admin area is listed, with zeros where there is no known hazard: that is a figure too.
    for key in sorted(set(keys.tolist()) | set(names)):
        t = ledger.totals(keys == key)
        groups.append(Group(key, names.get(key, key), t.as_dict()))
    return LandReleaseReport(totals, by, groups, unlinked)


def _admin_names(store: Store) -> dict[str, str]:
    ids, _, cols = store.columns("admin_areas", ["name"], geometry=False)
    return {i: str(n) for i, n in zip(ids, cols["name"], strict=True) if n is not None}


def _by_month(released: npt.NDArray[np.float64], o_cols: dict[str, list[Scalar]]) -> list[Group]:
    sums: dict[str, dict[str, float]] = defaultdict(lambda: {f"{k.value}_m2": 0.0 for k in ReleaseKind})
    counts: dict[str, int] = defaultdict(int)
    for credit, kind, date in zip(released.tolist(), o_cols["kind"], o_cols["release_date"], strict=True):
        key = str(date)[:7] if date else NONE_KEY
        sums[key][f"{kind}_m2"] += credit
        counts[key] += 1
    return [
        Group(
            key,
            key,
            {
                "outcomes": counts[key],
                "cancelled_m2": sums[key]["cancelled_m2"],
                "reduced_m2": sums[key]["reduced_m2"],
                "cleared_m2": sums[key]["cleared_m2"],
                "released_m2": sum(sums[key].values()),
            },
        )
        for key in sorted(sums)
    ]
