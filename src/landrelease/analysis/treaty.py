"""Treaty tables for a calendar year: Ottawa Convention Article 7 (mined areas, clearance progress, warning
measures), the Article 5 progress table and the CCW Amended Protocol II clearance summary.

Which areas count: Article 7 and 5 concern areas known or suspected to hold anti-personnel mines. A hazard
counts when its recorded contamination names AP mines, mixed mines or mines of no stated type, or when an
anti-personnel mine was found in it; a hazard whose contamination is not recorded counts too (a national
authority lists an area rather than omit it) and is marked so. The CCW summary covers every area
contaminated by mines (anti-personnel or anti-tank) or of unrecorded contamination.

Figures per year use the same per-hazard figures as the land release report (``programme.hazard_figures``):
remaining at the start of the year, released in it, remaining at its end.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import shapely

from landrelease.analysis.factors import factorise
from landrelease.analysis.periods import Period, year_period
from landrelease.analysis.programme import NONE_KEY, HazardFigures, Programme, anti_personnel, hazard_figures, quantity
from landrelease.domain.ordnance import LANDMINE, by_model
from landrelease.domain.records import Scalar, id_order

TableName = Literal["article7", "article5", "ccw"]
TABLES: tuple[str, ...] = ("article7", "article5", "ccw")
#: Below this, an area's remaining land is a rounding remainder, not land still to release (m2).
CLOSED_M2 = 1e-3

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
_AP = re.compile(r"\bap\b|anti[- ]?personnel|mixed")
_AT = re.compile(r"\bat\b|anti[- ]?tank")


@dataclass(frozen=True)
class Section:
    name: str
    columns: tuple[str, ...]
    rows: list[dict[str, Scalar]]

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "columns": list(self.columns), "rows": self.rows}


@dataclass(frozen=True)
class TreatyTable:
    table: str
    year: int
    sections: list[Section]
    notes: list[str] = field(default_factory=list)
    data_version: dict[str, object] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "table": self.table,
            "year": self.year,
            "sections": [s.as_dict() for s in self.sections],
            "notes": self.notes,
            "data_version": self.data_version,
        }


def default_year(p: Programme) -> int:
    """The latest year with a release date, else the latest reported hazard's, else the generation year."""
    years = [str(d)[:4] for d in p.outcomes["release_date"] if d] or [
        str(d)[:4] for d in p.hazards["reported_date"] if d
    ]
    return int(max(years)) if years else int(p.version.generated_at[:4])


#: The hazard columns each table reads (``read_programme``'s ``hazard_columns``); the year's default needs
#: ``reported_date``. Every column costs a read at national scale.
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "article7": ("name", "hazard_class", "status", "contamination", "admin_area", "reported_date", "marking"),
    "article5": ("contamination", "admin_area", "reported_date"),
    "ccw": ("contamination", "admin_area", "reported_date"),
}


def treaty_columns(table: str) -> dict[str, Any]:
    """What a treaty table reads beyond the ledger (``read_programme``'s keywords)."""
    return {
        "hazard_columns": TABLE_COLUMNS[table],
        "outcome_columns": ("release_date", "kind"),
        "donors": False,
        "spatial": True,
        "geometry": table == "article7",
    }


def treaty_table(p: Programme, table: TableName, year: int) -> TreatyTable:
    period = year_period(year)
    build = {"article7": _article7, "article5": _article5, "ccw": _ccw}[table]
    sections, notes = build(p, period)
    return TreatyTable(table, year, sections, notes, p.version.as_dict())


# --- which areas, which finds ----------------------------------------------------------------------------


def _ap_models(p: Programme, period: Period) -> dict[int, dict[str, int]]:
    """Anti-personnel mines found (up to the end of the period) in each hazard, by model."""
    out: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    f = p.finds
    by_end = p.find_day.where(lambda d: not d or d <= period.end)
    for i in np.flatnonzero((p.find_hazard >= 0) & by_end).tolist():
        if anti_personnel(f["ordnance_category"][i], f["ordnance_subcategory"][i], f["ordnance_model"][i]):
            out[int(p.find_hazard[i])][str(f["ordnance_model"][i] or "unknown model")] += quantity(f["quantity"][i])
    return out


def contamination_kind(text: Scalar, ap_found: bool) -> Literal["ap", "at", "other", "unrecorded"]:
    """What a hazard's contamination says for treaty purposes."""
    t = str(text or "").lower()
    if ap_found or _AP.search(t):
        return "ap"
    if not t.strip():
        return "unrecorded"
    if "mine" in t:
        return "at" if _AT.search(t) else "ap"  # mines of no stated type may be anti-personnel
    return "other"


def _kinds(p: Programme, ap: dict[int, dict[str, int]]) -> npt.NDArray[np.str_]:
    """Each hazard's ``contamination_kind`` (worked out once per distinct contamination text)."""
    contamination = factorise(p.hazards["contamination"])
    kinds = np.array([contamination_kind(c, False) for c in contamination.levels] or ["other"])[contamination.codes]
    if ap:
        kinds[list(ap)] = "ap"
    return kinds


def _admin_key(p: Programme, i: int) -> str:
    v = p.hazards["admin_area"][i]
    return str(v) if v else NONE_KEY


def _admin_codes(p: Programme) -> tuple[Ints, list[str]]:
    """Each hazard's admin area key as a code, and the keys."""
    keys: dict[Hashable, int] = {}
    codes = factorise(p.hazards["admin_area"]).map(lambda v: str(v) if v else NONE_KEY, keys)
    return codes, [str(k) for k in keys]


def _by_admin(
    codes: Ints, size: int, mask: Bools, sums: dict[str, npt.NDArray[np.float64]], counts: dict[str, Bools]
) -> list[dict[str, float | int]]:
    """Per admin code, the ``sums`` over the hazards ``mask`` selects (each added in hazard order, as a loop
    would, and a float only where some hazard added to it) and the number of hazards each of ``counts`` holds."""
    held = np.bincount(codes[mask], minlength=size)
    rows: list[dict[str, float | int]] = [{} for _ in range(size)]
    for name, values in sums.items():
        added = np.bincount(codes[mask], weights=values[mask], minlength=size).tolist()
        for r, total, n in zip(rows, added, held.tolist(), strict=True):
            r[name] = total if n else 0
    for name, which in counts.items():
        for r, n in zip(rows, np.bincount(codes[mask & which], minlength=size).tolist(), strict=True):
            r[name] = n
    return rows


def _released_in(hf: HazardFigures) -> npt.NDArray[np.float64]:
    return hf.cancelled + hf.reduced + hf.cleared


# --- Article 7 ---------------------------------------------------------------------------------------------


ARTICLE7_AREAS = (
    "id",
    "name",
    "admin_area",
    "longitude",
    "latitude",
    "hazard_class",
    "status",
    "mine_types",
    "ap_mines_found",
    "first_reported",
    "emplacement_date",
    "estimated_m2",
    "released_in_year_m2",
    "remaining_m2",
    "warning_measures",
)
ARTICLE7_WARNINGS = ("admin_area", "areas", "areas_marked", "eore_sessions", "eore_beneficiaries")


def _article7(p: Programme, period: Period) -> tuple[list[Section], list[str]]:
    hf = hazard_figures(p, period)
    ap = _ap_models(p, period)
    kinds = _kinds(p, ap)
    released = _released_in(hf)
    # Released before the year: no longer a mined area.
    listed = hf.known & np.isin(kinds, ("ap", "unrecorded")) & ~((hf.remaining <= CLOSED_M2) & (released <= CLOSED_M2))
    where = np.flatnonzero(listed)
    points = _points(p, where)
    h = p.hazards
    codes, keys = _admin_codes(p)
    names = [p.admin_name(k) if k != NONE_KEY else NONE_KEY for k in keys]
    estimated, released_m2, remaining = (
        hf.estimated[where].tolist(),
        released[where].tolist(),
        hf.remaining[where].tolist(),
    )
    rows: list[dict[str, Scalar]] = []
    per_admin: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(ARTICLE7_WARNINGS[1:], 0))
    for k, (i, code) in enumerate(zip(where.tolist(), codes[where].tolist(), strict=True)):
        models = ap.get(i, {})
        contamination = str(h["contamination"][i] or "")
        types = ", ".join(x for x in (contamination, *sorted(models)) if x) or "not recorded"
        marking = str(h["marking"][i] or "")
        rows.append(
            {
                "id": p.hazard_ids[i],
                "name": h["name"][i],
                "admin_area": names[code],
                "longitude": points[k][0],
                "latitude": points[k][1],
                "hazard_class": h["hazard_class"][i],
                "status": h["status"][i],
                "mine_types": types,
                "ap_mines_found": sum(models.values()),
                "first_reported": h["reported_date"][i],
                "emplacement_date": "not recorded",
                "estimated_m2": estimated[k],
                "released_in_year_m2": released_m2[k],
                "remaining_m2": remaining[k],
                "warning_measures": marking or "not recorded",
            }
        )
        entry = per_admin[keys[code]]
        entry["areas"] += 1
        entry["areas_marked"] += int(bool(marking) and marking.lower() not in ("none", "no"))
    for key, (sessions, people) in _eore_by_admin(p, period).items():
        per_admin[key]["eore_sessions"] += sessions
        per_admin[key]["eore_beneficiaries"] += people
    warnings: list[dict[str, Scalar]] = [
        {"admin_area": p.admin_name(k) if k != NONE_KEY else NONE_KEY, **v}
        for k, v in sorted(per_admin.items(), key=lambda item: id_order(item[0]))
    ]
    notes = [
        "Areas known or suspected to contain anti-personnel mines at any time in the year (released ones included, "
        "with the land released in the year); location is a point inside each area (WGS84).",
        "Quantity where known: anti-personnel mines found in the area up to the end of the year, by model.",
        "The date of emplacement is not recorded in this database; the date the area was first reported is given.",
        "Warning measures: each area's recorded marking, and risk education sessions held in the year.",
    ]
    return [Section("areas", ARTICLE7_AREAS, rows), Section("warnings", ARTICLE7_WARNINGS, warnings)], notes


def _points(p: Programme, where: Ints) -> list[tuple[float | None, float | None]]:
    """A point inside each of the hazards at ``where`` (None where there is no geometry)."""
    if p.hazard_geoms is None or not len(p.hazard_geoms):
        return [(None, None)] * len(where)
    shapes = p.hazard_geoms[where]
    xy = shapely.get_coordinates(shapely.point_on_surface(shapes), include_z=False).tolist()
    out: list[tuple[float | None, float | None]] = []
    k = 0
    for missing in shapely.is_missing(shapes).tolist():
        if missing:
            out.append((None, None))
        else:
            out.append((round(xy[k][0], 6), round(xy[k][1], 6)))
            k += 1
    return out


def _eore_by_admin(p: Programme, period: Period) -> dict[str, tuple[int, int]]:
    from landrelease.domain.schema import BENEFICIARY_FIELDS

    out: dict[str, tuple[int, int]] = {}
    for i, day in enumerate(p.eore["session_date"]):
        if not period.holds(str(day) if day else None):
            continue
        key = (p.eore_admin[i] if p.eore_admin else None) or NONE_KEY
        people = sum(int(v) for name in BENEFICIARY_FIELDS if isinstance(v := p.eore[name][i], int | float))
        sessions, total = out.get(key, (0, 0))
        out[key] = (sessions + 1, total + people)
    return out


# --- Article 5 ---------------------------------------------------------------------------------------------


ARTICLE5 = (
    "admin_area",
    "areas_at_start",
    "remaining_at_start_m2",
    "new_areas",
    "new_m2",
    "cancelled_m2",
    "reduced_m2",
    "cleared_m2",
    "areas_completed",
    "areas_at_end",
    "remaining_at_end_m2",
    "ap_mines_destroyed",
)


def _article5(p: Programme, period: Period) -> tuple[list[Section], list[str]]:
    hf = hazard_figures(p, period)
    ap = _ap_models(p, period)
    kinds = _kinds(p, ap)
    destroyed_ap = _ap_destroyed_in(p, period)
    listed = hf.known & np.isin(kinds, ("ap", "unrecorded"))
    at_start = p.reported_day.where(lambda d: d is None or d < period.start) | (hf.before > 0)
    open_m2 = hf.estimated - hf.before
    codes, keys = _admin_codes(p)
    # The figures as one pass over the hazards would add them up, per admin area.
    starting = _by_admin(
        codes, len(keys), listed & at_start, {"remaining_at_start_m2": open_m2}, {"areas_at_start": open_m2 > CLOSED_M2}
    )
    new = _by_admin(
        codes, len(keys), listed & ~at_start, {"new_m2": open_m2}, {"new_areas": np.ones(len(open_m2), dtype=bool)}
    )
    every = _by_admin(
        codes,
        len(keys),
        listed,
        {"cancelled_m2": hf.cancelled, "reduced_m2": hf.reduced, "cleared_m2": hf.cleared},
        {
            "areas_completed": (open_m2 > CLOSED_M2) & (hf.remaining <= CLOSED_M2),
            "areas_at_end": hf.remaining > CLOSED_M2,
        },
    )
    at_end = _by_admin(codes, len(keys), listed, {"remaining_at_end_m2": hf.remaining}, {})
    held = np.bincount(codes[listed], minlength=len(keys)).tolist()
    rows: dict[str, dict[str, float | int]] = {}
    for c, key in enumerate(keys):
        if held[c]:
            figures = starting[c] | new[c] | every[c] | at_end[c] | {"ap_mines_destroyed": 0}
            rows[key] = {name: figures[name] for name in ARTICLE5[1:]}
    for key, n in destroyed_ap.items():
        rows.setdefault(key, dict.fromkeys(ARTICLE5[1:], 0))["ap_mines_destroyed"] += n
    out = _with_total(p, rows, ARTICLE5)
    notes = [
        "remaining at start + new - cancelled - reduced - cleared = remaining at end, per row (m2).",
        "New areas: reported in the year. Completed: areas with land to release in the year and none at its end.",
        "Anti-personnel mines destroyed: finds of anti-personnel mines in the year whose disposal was destruction.",
    ]
    return [Section("progress", ARTICLE5, out)], notes


def _ap_destroyed_in(p: Programme, period: Period) -> dict[str, int]:
    return {k: v[0] for k, v in _destroyed_in(p, period).items()}


def _destroyed_in(p: Programme, period: Period) -> dict[str, tuple[int, int, int]]:
    """Items destroyed in the period per admin area: (AP mines, AT mines, other ordnance)."""
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    f = p.finds
    in_year = p.find_day.where(period.holds) & p.find_items.destroyed
    for i in np.flatnonzero(in_year).tolist():
        h = int(p.find_hazard[i])
        key = _admin_key(p, h) if h >= 0 else (p.find_admin[i] if p.find_admin else None) or NONE_KEY
        cat, sub, model = f["ordnance_category"][i], f["ordnance_subcategory"][i], f["ordnance_model"][i]
        known = by_model(str(model)) if model else None
        landmine = (known.category if known else str(cat or "")) == LANDMINE
        slot = 0 if anti_personnel(cat, sub, model) else 1 if landmine else 2
        out[key][slot] += quantity(f["quantity"][i])
    return {k: (v[0], v[1], v[2]) for k, v in out.items()}


def _with_total(
    p: Programme, rows: dict[str, dict[str, float | int]], columns: tuple[str, ...]
) -> list[dict[str, Scalar]]:
    out: list[dict[str, Scalar]] = []
    total = dict.fromkeys(columns[1:], 0.0)
    for key in sorted(rows, key=id_order):
        out.append({"admin_area": p.admin_name(key) if key != NONE_KEY else NONE_KEY, **rows[key]})
        for c in columns[1:]:
            total[c] += rows[key][c]
    out.append({"admin_area": "TOTAL", **{c: (v if c.endswith("_m2") else int(v)) for c, v in total.items()}})
    return out


# --- CCW Amended Protocol II -----------------------------------------------------------------------------------


CCW = (
    "admin_area",
    "mined_areas",
    "areas_cleared",
    "cleared_m2",
    "reduced_m2",
    "cancelled_m2",
    "remaining_at_end_m2",
    "ap_mines_destroyed",
    "at_mines_destroyed",
    "other_items_destroyed",
)


def _ccw(p: Programme, period: Period) -> tuple[list[Section], list[str]]:
    hf = hazard_figures(p, period)
    ap = _ap_models(p, period)
    kinds = _kinds(p, ap)
    released = _released_in(hf)
    listed = hf.known & (kinds != "other") & ~((hf.remaining <= CLOSED_M2) & (released <= CLOSED_M2))
    codes, keys = _admin_codes(p)
    sums = {
        "cleared_m2": hf.cleared,
        "reduced_m2": hf.reduced,
        "cancelled_m2": hf.cancelled,
        "remaining_at_end_m2": hf.remaining,
    }
    counts = {"mined_areas": listed, "areas_cleared": hf.cleared > CLOSED_M2}
    figures = _by_admin(codes, len(keys), listed, sums, counts)
    rows: dict[str, dict[str, float | int]] = {}
    for c, key in enumerate(keys):
        if figures[c]["mined_areas"]:
            rows[key] = {name: figures[c].get(name, 0) for name in CCW[1:]}
    for key, (a, t, o) in _destroyed_in(p, period).items():
        r = rows.setdefault(key, dict.fromkeys(CCW[1:], 0))
        r["ap_mines_destroyed"] += a
        r["at_mines_destroyed"] += t
        r["other_items_destroyed"] += o
    notes = [
        "Mined areas: areas of anti-personnel or anti-tank mines (or unrecorded contamination) with land to release "
        "in the year. Areas cleared: those with land cleared in the year.",
        "Other items: explosive ordnance that is not a mine (explosive remnants of war fall under CCW Protocol V).",
    ]
    return [Section("clearance", CCW, _with_total(p, rows, CCW))], notes
