"""The land release report: national totals and groups (by admin area, operator, month, quarter, year or
donor), for all time or a period, with the items found and destroyed and the risk education beneficiaries.

Figures come from the ledger stored on the records when it is current (the database counts every change
to the ledger's inputs, so stale figures are never used), else from the polygons; ``recompute`` forces
the polygons. Either way the report is what the records say, and it lists the records behind every group.

By admin area and by operator, each hazard falls in one group and each group keeps the ledger identity
(with a period: estimated = released before + cancelled + reduced + cleared + remaining at its end). By
month, quarter, year and donor, each outcome's credited land falls in the group of its release date (or of
its activity's donor), so the groups hold released land only and sum to the released totals.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

import numpy as np
import numpy.typing as npt

from landrelease.analysis.periods import Period, period_key
from landrelease.analysis.programme import (
    NONE_KEY,
    HazardFigures,
    Programme,
    destroyed,
    hazard_figures,
    item_category,
    outcome_dates,
    outcome_hazard_index,
    quantity,
    read_programme,
)
from landrelease.analysis.trace import compact_ids
from landrelease.domain.ledger import LedgerTotals
from landrelease.domain.schema import BENEFICIARY_FIELDS
from landrelease.store.protocol import Store

GroupBy = Literal["admin", "operator", "month", "quarter", "year", "donor"]
GROUPINGS: tuple[str, ...] = ("admin", "operator", "month", "quarter", "year", "donor")
HAZARD_GROUPINGS = ("admin", "operator")
FIGURES = ("estimated_m2", "cancelled_m2", "reduced_m2", "cleared_m2", "remaining_m2")
RELEASED = ("cancelled_m2", "reduced_m2", "cleared_m2")

REMAINING_BASIS = (
    "remaining_m2 is the land still to release at the end of the period: estimated minus every outcome released "
    "by then, each credited with the land it released net of overlaps (the ledger's precedence: cleared, reduced, "
    "cancelled, then date). Where a later outcome overlaps an earlier one, the shared land is credited to the "
    "stronger one, so remaining at the end of an earlier period may then be overstated by that overlap. Outcomes "
    "without a release date count as released before the period. Hazards reported after the period are left out."
)


@dataclass(frozen=True)
class Group:
    key: str
    name: str
    figures: dict[str, float | int]
    items: dict[str, dict[str, int]] = field(default_factory=dict)
    eore: dict[str, int] = field(default_factory=dict)
    records: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "name": self.name,
            **self.figures,
            "items": self.items,
            "eore": self.eore,
            "records": self.records,
        }


@dataclass(frozen=True)
class LandReleaseReport:
    totals: LedgerTotals
    by: GroupBy | None
    groups: list[Group] = field(default_factory=list)
    unlinked_outcomes: int = 0
    generated_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    period: Period | None = None
    released_before_m2: float = 0.0
    undated: dict[str, int] = field(default_factory=dict)
    national: Group | None = None
    data_version: dict[str, object] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        totals: dict[str, float | int] = self.totals.as_dict()
        if self.period is not None:
            totals["released_before_m2"] = self.released_before_m2
        out: dict[str, object] = {
            "totals": totals,
            "by": self.by,
            "groups": [g.as_dict() for g in self.groups],
            "unlinked_outcomes": self.unlinked_outcomes,
            "generated_at": self.generated_at,
            "period": self.period.as_dict() if self.period else None,
            "totals_ha": {k.replace("_m2", "_ha"): v / 1e4 for k, v in totals.items() if k.endswith("_m2")},
            "totals_km2": {k.replace("_m2", "_km2"): v / 1e6 for k, v in totals.items() if k.endswith("_m2")},
        }
        if self.period is not None:
            out["remaining_basis"] = REMAINING_BASIS
            out["undated"] = self.undated
        if self.national is not None:
            out["items"] = self.national.items
            out["eore"] = self.national.eore
            out["records"] = self.national.records
            out["items_found"] = self.national.figures.get("items_found", 0)
            out["items_destroyed"] = self.national.figures.get("items_destroyed", 0)
        out["data_version"] = self.data_version
        return out


def land_release_report(
    store: Store, by: GroupBy | None = None, *, recompute: bool = False, period: Period | None = None
) -> LandReleaseReport:
    programme = read_programme(store, recompute=recompute, spatial=by == "admin")
    return build_report(programme, by, period)


def build_report(p: Programme, by: GroupBy | None, period: Period | None = None) -> LandReleaseReport:
    """The report of a programme already read (pure)."""
    hf = hazard_figures(p, period)
    totals = _totals(hf, hf.known)
    hz = outcome_hazard_index(p)
    dates = outcome_dates(p)
    o_in = np.array([period is None or period.holds(d) for d in dates], dtype=bool)
    f_dates = [str(d)[:10] if d else None for d in p.finds["found_date"]]
    f_in = np.array([period is None or period.holds(d) for d in f_dates], dtype=bool)
    e_dates = [str(d)[:10] if d else None for d in p.eore["session_date"]]
    e_in = np.array([period is None or period.holds(d) for d in e_dates], dtype=bool)
    undated = {
        "outcomes": sum(d is None for d in dates),
        "finds": sum(d is None for d in f_dates),
        "eore": sum(d is None for d in e_dates),
    }
    unlinked = len(p.ledger.unlinked)
    national = _national(p, hf, o_in, f_in, e_in)
    common = {
        "period": period,
        "released_before_m2": float(hf.before[hf.known].sum()),
        "undated": undated,
        "national": national,
        "data_version": p.version.as_dict(),
    }
    if by is None:
        return LandReleaseReport(totals, None, [], unlinked, **common)  # type: ignore[arg-type]
    f_hz = _hazard_index(p, p.finds["hazard_id"])
    if by in HAZARD_GROUPINGS:
        column = "admin_area" if by == "admin" else "operator"
        h_keys = [str(v) if v else NONE_KEY for v in p.hazards[column]]
        f_keys = [
            h_keys[h] if h >= 0 else (p.find_admin[i] or NONE_KEY) if by == "admin" and p.find_admin else NONE_KEY
            for i, h in enumerate(f_hz.tolist())
        ]
        if by == "admin":
            e_keys = [a or NONE_KEY for a in p.eore_admin] if p.eore_admin else [NONE_KEY] * len(p.eore_ids)
        else:
            e_keys = [str(o) if o else NONE_KEY for o in p.eore["organisation"]]
        o_prior = np.array([period is not None and (d is None or d < period.start) for d in dates], dtype=bool)
        groups = _hazard_groups(p, by, hf, h_keys, hz, o_in, o_prior, f_keys, f_in, e_keys, e_in)
    else:
        if by == "donor":
            o_keys = [p.donors.get(str(a), NONE_KEY) if a else NONE_KEY for a in p.outcomes["activity_id"]]
            f_keys = [p.donors.get(str(a), NONE_KEY) if a else NONE_KEY for a in p.finds["activity_id"]]
            e_keys = [NONE_KEY] * len(p.eore_ids)  # sessions record no donor
        else:
            o_keys = [period_key(d, by) or NONE_KEY for d in dates]
            f_keys = [period_key(d, by) or NONE_KEY for d in f_dates]
            e_keys = [period_key(d, by) or NONE_KEY for d in e_dates]
        groups = _outcome_groups(p, hz, o_keys, o_in, f_keys, f_in, e_keys, e_in)
    return LandReleaseReport(totals, by, groups, unlinked, **common)  # type: ignore[arg-type]


def _totals(hf: HazardFigures, mask: npt.NDArray[np.bool_]) -> LedgerTotals:
    return LedgerTotals(
        hazards=int(np.count_nonzero(mask)),
        estimated_m2=float(hf.estimated[mask].sum()),
        cancelled_m2=float(hf.cancelled[mask].sum()),
        reduced_m2=float(hf.reduced[mask].sum()),
        cleared_m2=float(hf.cleared[mask].sum()),
        remaining_m2=float(hf.remaining[mask].sum()),
    )


def _hazard_index(p: Programme, hazard_ids: Sequence[object]) -> npt.NDArray[np.int64]:
    position = {h: i for i, h in enumerate(p.hazard_ids)}
    return np.array([position.get(str(h), -1) if h else -1 for h in hazard_ids], dtype=np.int64)


def _items_and_eore(
    p: Programme, f_sel: list[int], e_sel: list[int]
) -> tuple[dict[str, dict[str, int]], dict[str, int], dict[str, float | int]]:
    """Items found and destroyed by category, and beneficiaries by sex and age band, of some records."""
    items: dict[str, dict[str, int]] = defaultdict(lambda: {"found": 0, "destroyed": 0})
    f = p.finds
    for i in f_sel:
        q = quantity(f["quantity"][i])
        entry = items[item_category(f["ordnance_category"][i], f["ordnance_subcategory"][i], f["ordnance_model"][i])]
        entry["found"] += q
        if destroyed(f["disposal"][i]):
            entry["destroyed"] += q
    eore = {name: 0 for name in BENEFICIARY_FIELDS}
    indirect = 0
    for i in e_sel:
        for name in BENEFICIARY_FIELDS:
            v = p.eore[name][i]
            eore[name] += int(v) if isinstance(v, int | float) else 0
        v = p.eore["indirect_beneficiaries"][i]
        indirect += int(v) if isinstance(v, int | float) else 0
    direct = sum(eore.values())
    eore |= {"sessions": len(e_sel), "direct": direct, "indirect": indirect}
    counts: dict[str, float | int] = {
        "items_found": sum(e["found"] for e in items.values()),
        "items_destroyed": sum(e["destroyed"] for e in items.values()),
        "eore_sessions": len(e_sel),
        "eore_beneficiaries": direct,
    }
    return dict(sorted(items.items())), eore, counts


def _national(
    p: Programme,
    hf: HazardFigures,
    o_in: npt.NDArray[np.bool_],
    f_in: npt.NDArray[np.bool_],
    e_in: npt.NDArray[np.bool_],
) -> Group:
    f_sel, e_sel = np.flatnonzero(f_in).tolist(), np.flatnonzero(e_in).tolist()
    items, eore, counts = _items_and_eore(p, f_sel, e_sel)
    records = {
        "hazards": compact_ids(h for h, k in zip(p.hazard_ids, hf.known.tolist(), strict=True) if k),
        "outcomes": compact_ids(o for o, k in zip(p.outcome_ids, o_in.tolist(), strict=True) if k),
        "finds": compact_ids(p.find_ids[i] for i in f_sel),
        "eore": compact_ids(p.eore_ids[i] for i in e_sel),
    }
    return Group("TOTAL", "Total", counts, items, eore, records)


def _positions(keys: list[str], mask: npt.NDArray[np.bool_]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = defaultdict(list)
    for i, (k, m) in enumerate(zip(keys, mask.tolist(), strict=True)):
        if m:
            out[k].append(i)
    return out


def _hazard_groups(
    p: Programme,
    by: str,
    hf: HazardFigures,
    h_keys: list[str],
    o_hz: npt.NDArray[np.int64],
    o_in: npt.NDArray[np.bool_],
    o_prior: npt.NDArray[np.bool_],
    f_keys: list[str],
    f_in: npt.NDArray[np.bool_],
    e_keys: list[str],
    e_in: npt.NDArray[np.bool_],
) -> list[Group]:
    h_of = _positions(h_keys, hf.known)
    o_keys = [h_keys[h] if h >= 0 else NONE_KEY for h in o_hz.tolist()]
    o_of, prior_of = _positions(o_keys, o_in), _positions(o_keys, o_prior & (o_hz >= 0))
    f_of, e_of = _positions(f_keys, f_in), _positions(e_keys, e_in)
    names = {k: p.admin_name(k) for k in p.admin_ids} if by == "admin" else {}
    keys = set(h_of) | set(f_of) | set(e_of) | set(names)
    groups = []
    # Every admin area is listed, with zeros where there is no known hazard: that is a figure too.
    for key in sorted(keys):
        mask = np.zeros(len(p.hazard_ids), dtype=bool)
        mask[h_of.get(key, [])] = True
        figures: dict[str, float | int] = dict(_totals(hf, mask).as_dict())
        figures["released_before_m2"] = float(hf.before[mask].sum())
        items, eore, counts = _items_and_eore(p, f_of.get(key, []), e_of.get(key, []))
        records = {
            "hazards": compact_ids(p.hazard_ids[i] for i in h_of.get(key, [])),
            "outcomes": compact_ids(p.outcome_ids[i] for i in o_of.get(key, [])),
            "finds": compact_ids(p.find_ids[i] for i in f_of.get(key, [])),
            "eore": compact_ids(p.eore_ids[i] for i in e_of.get(key, [])),
        }
        if o_prior.any():  # the outcomes that make released_before_m2
            records["outcomes_before"] = compact_ids(p.outcome_ids[i] for i in prior_of.get(key, []))
        groups.append(Group(key, names.get(key, key), figures | counts, items, eore, records))
    return groups


def _outcome_groups(
    p: Programme,
    o_hz: npt.NDArray[np.int64],
    o_keys: list[str],
    o_in: npt.NDArray[np.bool_],
    f_keys: list[str],
    f_in: npt.NDArray[np.bool_],
    e_keys: list[str],
    e_in: npt.NDArray[np.bool_],
) -> list[Group]:
    o_of, f_of, e_of = _positions(o_keys, o_in), _positions(f_keys, f_in), _positions(e_keys, e_in)
    kinds = [str(k) for k in p.outcomes["kind"]]
    credits = p.credits.tolist()
    groups = []
    for key in sorted(set(o_of) | set(f_of) | set(e_of)):
        sel = o_of.get(key, [])
        sums = dict.fromkeys(RELEASED, 0.0)
        for i in sel:
            name = f"{kinds[i]}_m2"
            if name in sums and o_hz[i] >= 0:
                sums[name] += credits[i]
        hazards = sorted({p.hazard_ids[o_hz[i]] for i in sel if o_hz[i] >= 0})
        figures: dict[str, float | int] = {
            "outcomes": len(sel),
            "hazards": len(hazards),
            **sums,
            "released_m2": sum(sums.values()),
        }
        items, eore, counts = _items_and_eore(p, f_of.get(key, []), e_of.get(key, []))
        records = {
            "hazards": compact_ids(hazards),
            "outcomes": compact_ids(p.outcome_ids[i] for i in sel),
            "finds": compact_ids(p.find_ids[i] for i in f_of.get(key, [])),
            "eore": compact_ids(p.eore_ids[i] for i in e_of.get(key, [])),
        }
        groups.append(Group(key, key, figures | counts, items, eore, records))
    return groups
