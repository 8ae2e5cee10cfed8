"""What every report reads from a database, once: the ledger, the attributes reports group by, the finds,
the risk education sessions and the data's version stamp. Everything after this is pure computation.

Per-hazard figures for a period come from each outcome's stored credit (the land it released, net of
overlaps) and its release date: released before the period, released in it (by kind), and remaining at its
end = estimated - everything released up to the end. Outcomes without a release date count as released
before any period (the land is released; when is unknown) and are counted in ``undated_outcomes``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely

from landrelease.analysis.factors import Factor, factorise
from landrelease.analysis.ledger import ledger_with_columns
from landrelease.analysis.periods import Period
from landrelease.analysis.trace import IdList
from landrelease.domain.ledger import Ledger
from landrelease.domain.ordnance import by_model
from landrelease.domain.records import Scalar
from landrelease.domain.schema import LAYERS
from landrelease.domain.vocabulary import ReleaseKind
from landrelease.store.protocol import Geometries, Store

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]
Ints = npt.NDArray[np.int64]
NONE_KEY = "(none)"
HAZARD_COLUMNS = (
    "name",
    "hazard_class",
    "status",
    "contamination",
    "operator",
    "admin_area",
    "reported_date",
    "marking",
    "synthetic",
)
OUTCOME_COLUMNS = ("hazard_id", "activity_id", "kind", "release_date", "operator")
FIND_COLUMNS = (
    "hazard_id",
    "activity_id",
    "ordnance_category",
    "ordnance_subcategory",
    "ordnance_model",
    "quantity",
    "disposal",
    "found_date",
)


@dataclass(frozen=True)
class DataVersion:
    """Which state of the database a report shows: the ledger change counter, the record counts, when."""

    ledger_changes: int
    ledger_current: bool
    schema_version: int
    records: dict[str, int]
    generated_at: str
    database: str

    def as_dict(self) -> dict[str, object]:
        return {
            "ledger_changes": self.ledger_changes,
            "ledger_current": self.ledger_current,
            "schema_version": self.schema_version,
            "records": self.records,
            "generated_at": self.generated_at,
            "database": self.database,
        }


@dataclass
class Programme:
    hazard_ids: list[str]
    hazards: dict[str, list[Scalar]]
    ledger: Ledger
    outcome_ids: list[str]
    outcomes: dict[str, list[Scalar]]
    credits: Floats
    find_ids: list[str]
    finds: dict[str, list[Scalar]]
    eore_ids: list[str]
    eore: dict[str, list[Scalar]]
    donors: dict[str, str]
    admin_ids: list[str]
    admin: dict[str, list[Scalar]]
    version: DataVersion
    #: Admin area of each find and session by location (None outside every area); read with ``spatial``.
    find_admin: list[str | None] = field(default_factory=list)
    eore_admin: list[str | None] = field(default_factory=list)
    #: Geometries for the map (read with ``geometry``).
    hazard_geoms: Geometries | None = None
    admin_geoms: Geometries | None = None

    def admin_name(self, key: str, lang: str = "uk") -> str:
        i = self._admin_position.get(key)
        if i is None:
            return key
        en = self.admin["name_en"][i]
        return str(en if lang == "en" and en else self.admin["name"][i] or key)

    @functools.cached_property
    def _admin_position(self) -> dict[str, int]:
        position: dict[str, int] = {}
        for i, a in enumerate(self.admin_ids):
            position.setdefault(a, i)  # the first, as list.index would find
        return position

    @property
    def synthetic(self) -> bool:
        """Whether the hazards are synthetic demo records (the PDF says so on its title page)."""
        flags = self.hazards["synthetic"]
        return bool(flags) and all(bool(f) for f in flags)

    # Derived columns, computed once per programme: reports group and select with numpy on these.

    @functools.cached_property
    def hazard_position(self) -> dict[str, int]:
        return {h: i for i, h in enumerate(self.hazard_ids)}

    @functools.cached_property
    def outcome_hazard(self) -> Ints:
        """Each outcome's hazard (index into ``hazard_ids``), -1 when it names none the ledger knows."""
        return self.hazard_index(self.outcomes["hazard_id"])

    @functools.cached_property
    def find_hazard(self) -> Ints:
        return self.hazard_index(self.finds["hazard_id"])

    def hazard_index(self, hazard_ids: Sequence[Scalar]) -> Ints:
        """Where each of ``hazard_ids`` is in ``hazard_ids`` of the programme (-1: none, or not a hazard)."""
        found = self.hazard_list.positions_of(hazard_ids)
        if found is not None:
            return found
        position = self.hazard_position
        return np.fromiter(
            (position.get(str(h), -1) if h else -1 for h in hazard_ids), dtype=np.int64, count=len(hazard_ids)
        )

    @functools.cached_property
    def outcome_day(self) -> Factor[str | None]:
        return _days(self.outcomes["release_date"])

    @functools.cached_property
    def find_day(self) -> Factor[str | None]:
        return _days(self.finds["found_date"])

    @functools.cached_property
    def eore_day(self) -> Factor[str | None]:
        return _days(self.eore["session_date"])

    @functools.cached_property
    def reported_day(self) -> Factor[str | None]:
        return _days(self.hazards["reported_date"])

    @functools.cached_property
    def outcome_kind(self) -> Factor[str]:
        return factorise(self.outcomes["kind"]).relabel(str)

    @functools.cached_property
    def hazard_list(self) -> IdList:
        return IdList(self.hazard_ids)

    @functools.cached_property
    def outcome_list(self) -> IdList:
        return IdList(self.outcome_ids)

    @functools.cached_property
    def find_list(self) -> IdList:
        return IdList(self.find_ids)

    @functools.cached_property
    def eore_list(self) -> IdList:
        return IdList(self.eore_ids)

    @functools.cached_property
    def find_items(self) -> FindItems:
        f = self.finds
        columns = zip(f["ordnance_category"], f["ordnance_subcategory"], f["ordnance_model"], strict=True)
        category = factorise([item_category(c, s, m) for c, s, m in columns])
        counts = [quantity(q) for q in f["quantity"]]
        big = bool(counts) and max(counts) >= 2**62  # Python ints then, as quantity() gives
        q = np.array(counts, dtype=object if big else np.int64)
        return FindItems(category, q, np.array([destroyed(d) for d in f["disposal"]], dtype=bool))

    @functools.cached_property
    def beneficiaries(self) -> dict[str, Ints]:
        """Each session's people per beneficiary field and ``indirect_beneficiaries`` (0 where not a number)."""
        return {
            name: np.array([int(v) if isinstance(v, int | float) else 0 for v in self.eore[name]], dtype=np.int64)
            for name in (*_beneficiary_fields(), "indirect_beneficiaries")
        }


@dataclass(frozen=True)
class FindItems:
    """Each find's item category (``item_category``), quantity (``quantity``) and whether it was destroyed."""

    category: Factor[str]
    quantity: npt.NDArray[Any]
    destroyed: Bools


def _days(values: Sequence[Scalar]) -> Factor[str | None]:
    """Dates as ``yyyy-mm-dd`` (None where there is none), worked out once per distinct stored value."""
    return factorise(values).relabel(lambda d: str(d)[:10] if d else None)


def read_programme(
    store: Store,
    *,
    recompute: bool = False,
    spatial: bool = False,
    geometry: bool = False,
    hazard_columns: Sequence[str] = HAZARD_COLUMNS,
    outcome_columns: Sequence[str] = OUTCOME_COLUMNS,
    donors: bool = True,
) -> Programme:
    """Read what reports need. ``spatial`` places finds and sessions in admin areas by location;
    ``geometry`` keeps the hazard and admin polygons (for the map). A report that needs fewer hazard or
    outcome columns (or no donors) names them: at national scale every column costs a read."""
    state = store.ledger_state()
    read = ledger_with_columns(store, hazard_columns, outcome_columns, recompute=recompute, geometry=geometry)
    ledger, h_ids, h_geoms, hazards = read.ledger, read.ledger.hazard_ids, read.hazard_geoms, read.hazards
    o_ids, outcomes = read.outcome_ids, read.outcomes
    f_ids, f_geoms, finds = store.columns("finds", list(FIND_COLUMNS), geometry=spatial)
    eore_columns = ["session_date", "organisation", *_beneficiary_fields(), "indirect_beneficiaries"]
    e_ids, e_geoms, eore = store.columns("eore", eore_columns, geometry=spatial)
    donor_of: dict[str, str] = {}
    if donors:
        a_ids, _, acts = store.columns("activities", ["donor"], geometry=False)
        donor_of = {i: str(d) for i, d in zip(a_ids, acts["donor"], strict=True) if d}
    ad_ids, ad_geoms, admin = store.columns("admin_areas", ["name", "name_en", "level"], geometry=spatial or geometry)
    version = DataVersion(
        ledger_changes=state.changes,
        ledger_current=state.current,
        schema_version=store.schema_version(),
        records={name: store.count(name) for name in LAYERS},
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        database=store.location,
    )
    p = Programme(
        h_ids,
        hazards,
        ledger,
        o_ids,
        outcomes,
        ledger.released,
        f_ids,
        finds,
        e_ids,
        eore,
        donor_of,
        ad_ids,
        admin,
        version,
    )
    if spatial:
        levels = [int(v) if isinstance(v, int | float) else 0 for v in admin["level"]]
        p.find_admin = _admin_at(f_geoms, ad_ids, ad_geoms, levels)
        p.eore_admin = _admin_at(e_geoms, ad_ids, ad_geoms, levels)
    if geometry:
        p.hazard_geoms, p.admin_geoms = h_geoms, ad_geoms
    return p


def _beneficiary_fields() -> list[str]:
    from landrelease.domain.schema import BENEFICIARY_FIELDS

    return list(BENEFICIARY_FIELDS)


def _admin_at(points: Geometries, ids: list[str], areas: Geometries, levels: list[int]) -> list[str | None]:
    """The admin area each point lies in; where areas nest, the finest (highest level) one."""
    out: list[str | None] = [None] * len(points)
    if not len(points) or not len(areas):
        return out
    tree = shapely.STRtree(areas)
    pts, hit = tree.query(points, predicate="intersects")
    best: dict[int, int] = {}
    for p, a in zip(pts.tolist(), hit.tolist(), strict=True):
        if p not in best or levels[a] > levels[best[p]]:
            best[p] = a
    for p, a in best.items():
        out[p] = ids[a]
    return out


# --- per-hazard figures over a period -----------------------------------------------------------------


@dataclass(frozen=True)
class HazardFigures:
    """Per-hazard figures (m2) for a period: estimated = before + cancelled + reduced + cleared + remaining."""

    estimated: Floats
    before: Floats
    cancelled: Floats
    reduced: Floats
    cleared: Floats
    remaining: Floats
    #: Hazards known at the end of the period (reported by then, or with land released by then).
    known: Bools


def outcome_hazard_index(p: Programme) -> npt.NDArray[np.int64]:
    return p.outcome_hazard


def outcome_dates(p: Programme) -> list[str | None]:
    return p.outcome_day.values()


def hazard_figures(p: Programme, period: Period | None) -> HazardFigures:
    led = p.ledger
    n = len(p.hazard_ids)
    if period is None:
        return HazardFigures(
            led.estimated, np.zeros(n), led.cancelled, led.reduced, led.cleared, led.remaining, np.ones(n, bool)
        )
    hz = p.outcome_hazard
    day = p.outcome_day
    before = day.where(lambda d: d is None or d < period.start)
    within = day.where(lambda d: d is not None and period.start <= d <= period.end)
    linked = hz >= 0
    kind = p.outcome_kind
    sums = {}
    for name, mask in (("before", before), *((k.value, within & kind.where(k.value.__eq__)) for k in ReleaseKind)):
        sel = linked & mask
        sums[name] = np.bincount(hz[sel], weights=p.credits[sel], minlength=n).astype(np.float64)
    released_by_end = sums["before"] + sums["cancelled"] + sums["reduced"] + sums["cleared"]
    remaining = np.maximum(led.estimated - released_by_end, 0.0)
    known = p.reported_day.where(lambda d: d is None or d <= period.end)
    known[hz[linked & (before | within)]] = True
    zero = ~known
    figures = {name: np.where(zero, 0.0, values) for name, values in sums.items()}
    return HazardFigures(
        np.where(zero, 0.0, led.estimated),
        figures["before"],
        figures["cancelled"],
        figures["reduced"],
        figures["cleared"],
        np.where(zero, 0.0, remaining),
        known,
    )


# --- finds ---------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)  # a few hundred distinct (category, subcategory, model) in a country
def item_category(category: Scalar, subcategory: Scalar, model: Scalar) -> str:
    """``Category / Subcategory`` of a find: from the ordnance catalogue when it knows the model, else as
    recorded, else ``Unknown``."""
    known = by_model(str(model)) if model else None
    if known is not None:
        return f"{known.category} / {known.subcategory}"
    if category:
        return f"{category} / {subcategory}" if subcategory else str(category)
    return "Unknown"


@functools.lru_cache(maxsize=4096)
def anti_personnel(category: Scalar, subcategory: Scalar, model: Scalar) -> bool:
    known = by_model(str(model)) if model else None
    if known is not None:
        return known.anti_personnel
    return str(category or "").lower() == "landmine" and "personnel" in str(subcategory or "").lower()


def destroyed(disposal: Scalar) -> bool:
    return "destroy" in str(disposal or "").lower()


def quantity(value: Scalar) -> int:
    """A find's quantity; a find recorded without one is one item."""
    return int(value) if isinstance(value, int | float) and value >= 0 else 1
