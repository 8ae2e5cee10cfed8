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

from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from landrelease.analysis.factors import Factor, distinct, factorise, members
from landrelease.analysis.periods import Period, period_key
from landrelease.analysis.programme import NONE_KEY, HazardFigures, Programme, hazard_figures, read_programme
from landrelease.domain.ledger import LedgerTotals
from landrelease.domain.records import Scalar, id_order
from landrelease.domain.schema import BENEFICIARY_FIELDS
from landrelease.store.protocol import Store

GroupBy = Literal["admin", "operator", "month", "quarter", "year", "donor"]
GROUPINGS: tuple[str, ...] = ("admin", "operator", "month", "quarter", "year", "donor")
HAZARD_GROUPINGS = ("admin", "operator")
FIGURES = ("estimated_m2", "cancelled_m2", "reduced_m2", "cleared_m2", "remaining_m2")
RELEASED = ("cancelled_m2", "reduced_m2", "cleared_m2")
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

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
    programme = read_programme(store, recompute=recompute, spatial=by == "admin", **report_columns(by, period))
    return build_report(programme, by, period)


def report_columns(by: GroupBy | None, period: Period | None) -> dict[str, Any]:
    """What ``build_report`` reads beyond the ledger (``read_programme``'s keywords): at national scale every
    column read costs time."""
    hazards = [c for c, needed in (("admin_area", by == "admin"), ("operator", by == "operator")) if needed]
    if period is not None:
        hazards.append("reported_date")
    outcomes = ["release_date", "kind"] + (["activity_id"] if by == "donor" else [])
    return {"hazard_columns": hazards, "outcome_columns": outcomes, "donors": by == "donor"}


def build_report(p: Programme, by: GroupBy | None, period: Period | None = None) -> LandReleaseReport:
    """The report of a programme already read (pure)."""
    hf = hazard_figures(p, period)
    totals = _totals(hf, hf.known)
    hz = p.outcome_hazard
    o_in, f_in, e_in = (_within(day, period) for day in (p.outcome_day, p.find_day, p.eore_day))
    undated = {"outcomes": p.outcome_day.count(None), "finds": p.find_day.count(None), "eore": p.eore_day.count(None)}
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
    keys: dict[Hashable, int] = {NONE_KEY: 0}
    none = np.int64(0)
    if by in HAZARD_GROUPINGS:
        column = "admin_area" if by == "admin" else "operator"
        h_codes = factorise(p.hazards[column]).map(lambda v: str(v) if v else NONE_KEY, keys)
        if by == "admin" and p.find_admin:
            f_other = factorise(p.find_admin).map(lambda a: a or NONE_KEY, keys)
        else:
            f_other = np.full(len(p.find_ids), none)
        f_hz = p.find_hazard
        f_codes = np.where(f_hz >= 0, h_codes[np.maximum(f_hz, 0)] if len(h_codes) else none, f_other)
        if by == "admin":
            e_codes = (
                factorise(p.eore_admin).map(lambda a: a or NONE_KEY, keys)
                if p.eore_admin
                else np.full(len(p.eore_ids), none)
            )
        else:
            e_codes = factorise(p.eore["organisation"]).map(lambda o: str(o) if o else NONE_KEY, keys)
        o_codes = np.where(hz >= 0, h_codes[np.maximum(hz, 0)] if len(h_codes) else none, none)
        if period is not None:
            o_prior = p.outcome_day.where(lambda d: d is None or d < period.start)
        else:
            o_prior = np.zeros(len(p.outcome_ids), dtype=bool)
        names = {k: p.admin_name(k) for k in p.admin_ids} if by == "admin" else {}
        for k in names:
            keys.setdefault(k, len(keys))
        groups = _hazard_groups(p, hf, keys, names, h_codes, o_codes, o_in, o_prior, f_codes, f_in, e_codes, e_in)
    else:
        if by == "donor":
            donors = p.donors

            def donor(activity: Scalar) -> str:
                return donors.get(str(activity), NONE_KEY) if activity else NONE_KEY

            o_codes = factorise(p.outcomes["activity_id"]).map(donor, keys)
            f_codes = factorise(p.finds["activity_id"]).map(donor, keys)
            e_codes = np.full(len(p.eore_ids), none)  # sessions record no donor
        else:
            unit = by

            def key(d: str | None) -> str:
                return period_key(d, unit) or NONE_KEY

            o_codes, f_codes, e_codes = (day.map(key, keys) for day in (p.outcome_day, p.find_day, p.eore_day))
        groups = _outcome_groups(p, keys, hz, o_codes, o_in, f_codes, f_in, e_codes, e_in)
    return LandReleaseReport(totals, by, groups, unlinked, **common)  # type: ignore[arg-type]


def _within(day: Factor[str | None], period: Period | None) -> Bools:
    if period is None:
        return np.ones(len(day.codes), dtype=bool)
    return day.where(period.holds)


def _totals(hf: HazardFigures, mask: npt.NDArray[np.bool_] | Ints) -> LedgerTotals:
    """Sums over the hazards a mask (or ascending positions) selects: the same numbers either way, as numpy
    sums the same values in the same order."""
    count = int(np.count_nonzero(mask)) if mask.dtype == np.bool_ else len(mask)
    return LedgerTotals(
        hazards=count,
        estimated_m2=float(hf.estimated[mask].sum()),
        cancelled_m2=float(hf.cancelled[mask].sum()),
        reduced_m2=float(hf.reduced[mask].sum()),
        cleared_m2=float(hf.cleared[mask].sum()),
        remaining_m2=float(hf.remaining[mask].sum()),
    )


def _items_and_eore(
    p: Programme, f_sel: Ints, e_sel: Ints
) -> tuple[dict[str, dict[str, int]], dict[str, int], dict[str, float | int]]:
    """Items found and destroyed by category, and beneficiaries by sex and age band, of some records."""
    items: dict[str, dict[str, int]] = {}
    if len(f_sel):
        finds = p.find_items
        size = len(finds.category.levels)
        codes, q = finds.category.codes[f_sel], finds.quantity[f_sel]
        found = np.zeros(size, dtype=q.dtype)
        gone = np.zeros(size, dtype=q.dtype)
        np.add.at(found, codes, q)
        kept = finds.destroyed[f_sel]
        np.add.at(gone, codes[kept], q[kept])
        for c in np.unique(codes).tolist():
            items[finds.category.levels[c]] = {"found": int(found[c]), "destroyed": int(gone[c])}
    people = p.beneficiaries if len(e_sel) else {}
    eore = {name: int(people[name][e_sel].sum()) if people else 0 for name in BENEFICIARY_FIELDS}
    indirect = int(people["indirect_beneficiaries"][e_sel].sum()) if people else 0
    direct = sum(eore.values())
    eore |= {"sessions": len(e_sel), "direct": direct, "indirect": indirect}
    counts: dict[str, float | int] = {
        "items_found": sum(e["found"] for e in items.values()),
        "items_destroyed": sum(e["destroyed"] for e in items.values()),
        "eore_sessions": len(e_sel),
        "eore_beneficiaries": direct,
    }
    return dict(sorted(items.items())), eore, counts


def _national(p: Programme, hf: HazardFigures, o_in: Bools, f_in: Bools, e_in: Bools) -> Group:
    f_sel, e_sel = np.flatnonzero(f_in), np.flatnonzero(e_in)
    items, eore, counts = _items_and_eore(p, f_sel, e_sel)
    records = {
        "hazards": p.hazard_list.compact(np.flatnonzero(hf.known)),
        "outcomes": p.outcome_list.compact(np.flatnonzero(o_in)),
        "finds": p.find_list.compact(f_sel),
        "eore": p.eore_list.compact(e_sel),
    }
    return Group("TOTAL", "Total", counts, items, eore, records)


def _hazard_groups(
    p: Programme,
    hf: HazardFigures,
    keys: dict[Hashable, int],
    names: dict[str, str],
    h_codes: Ints,
    o_codes: Ints,
    o_in: Bools,
    o_prior: Bools,
    f_codes: Ints,
    f_in: Bools,
    e_codes: Ints,
    e_in: Bools,
) -> list[Group]:
    size = len(keys)
    h_of = members(h_codes, hf.known, size)
    o_of = members(o_codes, o_in, size)
    prior_of = members(o_codes, o_prior & (p.outcome_hazard >= 0), size)
    f_of, e_of = members(f_codes, f_in, size), members(e_codes, e_in, size)
    groups = []
    # Every admin area is listed, with zeros where there is no known hazard: that is a figure too.
    listed = [k for k, c in keys.items() if len(h_of[c]) or len(f_of[c]) or len(e_of[c]) or k in names]
    for key in sorted((str(k) for k in listed), key=id_order):  # admin areas, operators by number
        c = keys[key]
        figures: dict[str, float | int] = dict(_totals(hf, h_of[c]).as_dict())
        figures["released_before_m2"] = float(hf.before[h_of[c]].sum())
        items, eore, counts = _items_and_eore(p, f_of[c], e_of[c])
        records = {
            "hazards": p.hazard_list.compact(h_of[c]),
            "outcomes": p.outcome_list.compact(o_of[c]),
            "finds": p.find_list.compact(f_of[c]),
            "eore": p.eore_list.compact(e_of[c]),
        }
        if o_prior.any():  # the outcomes that make released_before_m2
            records["outcomes_before"] = p.outcome_list.compact(prior_of[c])
        groups.append(Group(key, names.get(key, key), figures | counts, items, eore, records))
    return groups


def _outcome_groups(
    p: Programme,
    keys: dict[Hashable, int],
    o_hz: Ints,
    o_codes: Ints,
    o_in: Bools,
    f_codes: Ints,
    f_in: Bools,
    e_codes: Ints,
    e_in: Bools,
) -> list[Group]:
    size = len(keys)
    o_of, f_of, e_of = members(o_codes, o_in, size), members(f_codes, f_in, size), members(e_codes, e_in, size)
    linked = o_in & (o_hz >= 0)
    kind = p.outcome_kind
    # bincount adds each group's credits one by one in record order, as a loop over the records would.
    sums = {
        name: np.bincount(o_codes[m], weights=p.credits[m], minlength=size)
        for name in RELEASED
        for m in [linked & kind.where(name.removesuffix("_m2").__eq__)]
    }
    groups = []
    listed = [k for k, c in keys.items() if len(o_of[c]) or len(f_of[c]) or len(e_of[c])]
    for key in sorted((str(k) for k in listed), key=id_order):  # admin areas, operators by number
        c = keys[key]
        sel = o_of[c]
        released = {name: float(sums[name][c]) for name in RELEASED}
        hazards = distinct(o_hz[sel][o_hz[sel] >= 0])
        figures: dict[str, float | int] = {
            "outcomes": len(sel),
            "hazards": len(hazards),
            **released,
            "released_m2": sum(released.values()),
        }
        items, eore, counts = _items_and_eore(p, f_of[c], e_of[c])
        records = {
            "hazards": p.hazard_list.compact(hazards),
            "outcomes": p.outcome_list.compact(sel),
            "finds": p.find_list.compact(f_of[c]),
            "eore": p.eore_list.compact(e_of[c]),
        }
        groups.append(Group(key, key, figures | counts, items, eore, records))
    return groups
