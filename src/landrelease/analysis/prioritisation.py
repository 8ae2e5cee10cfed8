"""Explainable prioritisation: which hazard to send the next team to, and why.

Each criterion gives every open hazard a value from 0 to 1 (``CRITERIA``; how each is computed is in the
shipped ``prioritisation.toml``). A hazard's component for a criterion is ``weight x value`` and its score
is the sum of its components, so a rank is explained by its components and nothing else.

Hazards that are closed or handed over, or have no land remaining (``remaining_m2 == 0``), are not ranked:
there is nothing left to send a team to. They are counted in ``Ranking.not_ranked`` with the reason.

Pure: arrays in, a ranking out (distances via ``nearness``); reading the database is ``actions.prioritise``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import numpy.typing as npt

from landrelease.analysis import nearness
from landrelease.analysis.priority_weights import CRITERIA, Nearness, PriorityConfig, RecordsNearby
from landrelease.domain.records import Scalar, creation_ranks
from landrelease.domain.vocabulary import HazardStatus

Geometries = npt.NDArray[np.object_]
Floats = npt.NDArray[np.float64]

#: Statuses with nothing left to prioritise.
NOT_RANKED_STATUSES = (HazardStatus.CLOSED.value, HazardStatus.HANDED_OVER.value)
DAYS_PER_YEAR = 365.25
#: Values, components and scores are rounded to this many decimals: a component is the weight times the
#: rounded value, and the score the sum of the rounded components.
DECIMALS = 9


@dataclass(frozen=True)
class Hazards:
    ids: Sequence[str]
    geometries: Geometries  # longitude/latitude
    names: Sequence[str | None]
    classes: Sequence[str | None]
    statuses: Sequence[str | None]
    remaining_m2: Floats  # NaN where unknown


@dataclass(frozen=True)
class Context:
    ids: Sequence[str]
    geometries: Geometries
    kinds: Sequence[str | None]
    names: Sequence[str | None]


@dataclass(frozen=True)
class Records:
    """Accidents or finds: where, when (ISO date or None) and the hazard they are linked to (or None)."""

    geometries: Geometries
    dates: Sequence[str | None]
    hazard_ids: Sequence[str | None]


@dataclass(frozen=True)
class RiskCells:
    """Stored risk cells (``risk predict --store``): centres and predicted risk (0 to 1); empty if none."""

    geometries: Geometries
    risk: Floats


NO_RISK_CELLS = RiskCells(np.empty(0, dtype=object), np.empty(0))


@dataclass(frozen=True)
class Ranked:
    id: str
    name: str | None
    score: float
    components: dict[str, float]
    #: Each criterion's normalised value (0..1): component = weight x value.
    values: dict[str, float]
    #: What each value was computed from, in the field's units (see ``RAW_UNITS``).
    raw: dict[str, Scalar]

    def as_dict(self, rank: int) -> dict[str, object]:
        return {
            "rank": rank,
            "id": self.id,
            "name": self.name,
            "score": self.score,
            "components": self.components,
            "values": self.values,
            "raw": self.raw,
        }


RAW_UNITS = {
    "settlements": "metres to the nearest settlement within reach (null: none)",
    "infrastructure": "metres to the nearest infrastructure within reach (null: none)",
    "accidents": "accidents nearby or linked, each weighted by its age (half-life)",
    "finds": "find records nearby or linked, each weighted by its age (half-life)",
    "evidence": "hazard class",
    "area": "remaining m2",
    "land_use": "the most valued land use within the radius (null: none)",
    "risk": "highest (or mean) predicted risk of the risk cells within the radius (null: none)",
}


@dataclass(frozen=True)
class Ranking:
    """The ranked hazards, held as columns in rank order (100,000 hazards need no 100,000 objects until asked)."""

    ids: list[str]
    names: list[str | None]
    scores: list[float]
    #: (hazards x criteria) in ``CRITERIA`` order: components = values x weights.
    components: Floats
    values: Floats
    raw: dict[str, list[Scalar]]
    weights: dict[str, float]
    as_of: date
    #: Hazards left out, by reason.
    not_ranked: dict[str, int] = field(default_factory=dict)
    #: Things a reader should know (e.g. no settlements imported: that criterion is 0 everywhere).
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)

    def top(self, n: int | None = None) -> list[Ranked]:
        """The first ``n`` (all without ``n``) as objects."""
        k = len(self.ids) if n is None else min(n, len(self.ids))
        components, values = self.components[:k].tolist(), self.values[:k].tolist()
        return [
            Ranked(
                self.ids[i],
                self.names[i],
                self.scores[i],
                dict(zip(CRITERIA, components[i], strict=True)),
                dict(zip(CRITERIA, values[i], strict=True)),
                {c: self.raw[c][i] for c in CRITERIA},
            )
            for i in range(k)
        ]

    @property
    def ranked(self) -> list[Ranked]:
        return self.top()

    def as_list(self) -> list[dict[str, object]]:
        """The ``--json`` contract: ``[{"rank", "id", "name", "score", "components", "values", "raw"}]``."""
        raws = zip(*(self.raw[c] for c in CRITERIA), strict=True)
        return [
            {
                "rank": rank,
                "id": hazard,
                "name": name,
                "score": score,
                "components": dict(zip(CRITERIA, parts, strict=True)),
                "values": dict(zip(CRITERIA, value, strict=True)),
                "raw": dict(zip(CRITERIA, raw, strict=True)),
            }
            for rank, hazard, name, score, parts, value, raw in zip(
                range(1, len(self.ids) + 1),
                self.ids,
                self.names,
                self.scores,
                self.components.tolist(),
                self.values.tolist(),
                raws,
                strict=True,
            )
        ]


def prioritise(
    hazards: Hazards,
    context: Context,
    accidents: Records,
    finds: Records,
    config: PriorityConfig,
    as_of: date,
    risk_cells: RiskCells = NO_RISK_CELLS,
) -> Ranking:
    """Rank the open hazards with land remaining, highest score first (ties by id: the older hazard first)."""
    n = len(hazards.ids)
    statuses = np.array([s or "" for s in hazards.statuses], dtype=object)
    closed = np.isin(statuses, NOT_RANKED_STATUSES)
    remaining = np.asarray(hazards.remaining_m2, dtype=np.float64)
    nothing_left = ~closed & (remaining <= 0)
    open_ = ~closed & ~nothing_left
    not_ranked = {}
    if closed.any():
        not_ranked["closed or handed over"] = int(closed.sum())
    if nothing_left.any():
        not_ranked["no land remaining"] = int(nothing_left.sum())

    values: dict[str, Floats] = {c: np.zeros(n) for c in CRITERIA}
    raw: dict[str, list[Scalar]] = {}
    notes: list[str] = []
    zones = nearness.zones(hazards.geometries, open_)  # each hazard projected once, to its zone's metres
    _nearness_values(hazards, context, zones, config, values, raw, notes)
    id_index = {h: i for i, h in enumerate(hazards.ids)}
    for name, records, settings in (("accidents", accidents, config.accidents), ("finds", finds, config.finds)):
        weighted = _records_nearby(n, records, zones, settings, id_index, as_of)
        values[name] = np.minimum(weighted / settings.saturation, 1.0)
        raw[name] = np.round(weighted, DECIMALS).tolist()
    values["evidence"] = np.array([config.evidence.get(c or "", 0.0) for c in hazards.classes], dtype=np.float64)
    raw["evidence"] = list(hazards.classes)
    known = np.isfinite(remaining) & (remaining > 0)
    area = np.zeros(n)
    area[known] = np.minimum(np.log1p(remaining[known]) / math.log1p(config.area_full_m2), 1.0)
    values["area"] = area
    raw["area"] = _finite_or_none(remaining, 1)
    risk = _risk_nearby(n, risk_cells, zones, config)
    values["risk"] = np.nan_to_num(risk, nan=0.0)
    raw["risk"] = _finite_or_none(risk, 5)
    if not len(risk_cells.risk) and config.weights["risk"] > 0:
        notes.append("no risk cells: the risk criterion is 0 for every hazard (store some with: risk predict --store)")
    elif len(risk_cells.risk) and config.weights["risk"] == 0:
        notes.append("risk cells are stored but the risk criterion weighs 0 (set weights.risk in --weights to use it)")

    chosen = np.flatnonzero(open_)
    value = np.asarray(np.round(np.column_stack([values[c][chosen] for c in CRITERIA]), DECIMALS), dtype=np.float64)
    weights = np.array([config.weights[c] for c in CRITERIA], dtype=np.float64)
    components = np.asarray(np.round(value * weights, DECIMALS), dtype=np.float64)
    scores = np.round(components.sum(axis=1), DECIMALS)
    ids = np.array(hazards.ids, dtype=object)[chosen]
    made = creation_ranks([str(i) for i in ids])  # equal scores: the older hazard first (by number, not text)
    order = np.lexsort((made, -scores)) if chosen.size else np.empty(0, dtype=np.intp)
    ranked = chosen[order]
    names = np.array(hazards.names, dtype=object)
    return Ranking(
        ids=ids[order].tolist(),
        names=names[ranked].tolist() if ranked.size else [],
        scores=scores[order].tolist(),
        components=components[order],
        values=value[order],
        raw={c: [raw[c][i] for i in ranked.tolist()] for c in CRITERIA},
        weights=dict(config.weights),
        as_of=as_of,
        not_ranked=not_ranked,
        notes=notes,
    )


def _finite_or_none(values: Floats, decimals: int) -> list[Scalar]:
    rounded: list[Scalar] = np.round(values, decimals).tolist()
    return [v if finite else None for v, finite in zip(rounded, np.isfinite(values).tolist(), strict=True)]


def _nearness_values(
    hazards: Hazards,
    context: Context,
    zones: list[nearness.Zone],
    config: PriorityConfig,
    values: dict[str, Floats],
    raw: dict[str, list[Scalar]],
    notes: list[str],
) -> None:
    """Settlements and infrastructure (distance to the nearest) and land use (best within a radius)."""
    n = len(hazards.ids)
    kinds = np.array([k or "" for k in context.kinds], dtype=object)
    nearby: list[tuple[str, Nearness]] = [
        ("settlements", config.settlements),
        ("infrastructure", config.infrastructure),
    ]
    land_value = np.array([config.land_use.get(k, 0.0) for k in kinds], dtype=np.float64)
    member = {name: np.isin(kinds, list(settings.kinds)) for name, settings in nearby}
    member["land_use"] = land_value > 0
    for name, mask in member.items():
        if not mask.any() and config.weights[name] > 0:
            notes.append(
                f"no {name.replace('_', ' ')} context features: that criterion is 0 for every hazard "
                "(import some with: landrelease import context FILE --kind KIND)"
            )
    points = {name: nearness.Points.of(context.geometries, np.flatnonzero(mask)) for name, mask in member.items()}
    distances = {name: np.full(n, np.inf) for name, _ in nearby}
    best_land = np.zeros(n)
    best_kind: list[Scalar] = [None] * n
    for zone in zones:
        # one lookup per criterion, each with its own reach (one lookup at the largest reach costs more)
        for name, settings in nearby:
            _, near_m = zone.points_near(points[name], settings.reach_m)
            distances[name][zone.hazards], _ = nearness.nearest(zone, near_m, settings.reach_m)
        chosen, near_m = zone.points_near(points["land_use"], config.land_use_radius_m)
        h, p = nearness.within(zone, near_m, config.land_use_radius_m)
        # the most valued land use per hazard: pairs sorted by value, so the last write wins
        order = np.argsort(land_value[chosen[p]], kind="stable")
        hazard, source = zone.hazards[h[order]], chosen[p[order]]
        best_land[hazard] = land_value[source]
        for i, j in zip(hazard.tolist(), source.tolist(), strict=True):
            best_kind[i] = kinds[j]
    for name, settings in nearby:
        d = distances[name]
        values[name] = np.clip(1.0 - d / settings.reach_m, 0.0, 1.0)
        raw[name] = _finite_or_none(d, 1)
    values["land_use"] = best_land
    raw["land_use"] = best_kind


def _risk_nearby(n: int, cells: RiskCells, zones: list[nearness.Zone], config: PriorityConfig) -> Floats:
    """Per hazard, the highest or mean risk of the cells whose centre is within the radius (NaN where none)."""
    total, count, best = np.zeros(n), np.zeros(n), np.full(n, -np.inf)
    points = nearness.Points.of(cells.geometries)
    for zone in zones:
        chosen, near_m = zone.points_near(points, config.risk.radius_m)
        h, p = nearness.within(zone, near_m, config.risk.radius_m)
        hazard, value = zone.hazards[h], cells.risk[chosen[p]]
        np.add.at(total, hazard, value)
        np.add.at(count, hazard, 1)
        np.maximum.at(best, hazard, value)
    found = count > 0
    result = np.full(n, np.nan)
    result[found] = best[found] if config.risk.statistic == "max" else total[found] / count[found]
    return result


def _records_nearby(
    n: int,
    records: Records,
    zones: list[nearness.Zone],
    settings: RecordsNearby,
    id_index: dict[str, int],
    as_of: date,
) -> Floats:
    """Per hazard, the age-weighted count of records within the radius or linked to it (each counted once)."""
    count = len(records.dates)
    weights = _age_weights(records.dates, settings, as_of)
    pairs_h: list[npt.NDArray[np.intp]] = []
    pairs_r: list[npt.NDArray[np.intp]] = []
    linked = [(id_index[h], r) for r, h in enumerate(records.hazard_ids) if h is not None and h in id_index]
    if linked:
        pairs_h.append(np.array([h for h, _ in linked], dtype=np.intp))
        pairs_r.append(np.array([r for _, r in linked], dtype=np.intp))
    points = nearness.Points.of(records.geometries)
    for zone in zones:
        chosen, near_m = zone.points_near(points, settings.radius_m)
        h, p = nearness.within(zone, near_m, settings.radius_m)
        pairs_h.append(zone.hazards[h])
        pairs_r.append(chosen[p])
    if not pairs_h or not count:
        return np.zeros(n)
    unique = np.unique(np.concatenate(pairs_h).astype(np.int64) * count + np.concatenate(pairs_r))
    hazard, record = np.divmod(unique, count)
    return np.bincount(hazard, weights=weights[record], minlength=n).astype(np.float64)


def _age_weights(dates: Sequence[str | None], settings: RecordsNearby, as_of: date) -> Floats:
    """0.5 ^ (age / half-life) per record; one without a (readable) date counts ``undated``; a future one 1.

    Dates repeat (many finds a day): each distinct one is parsed once."""
    memo: dict[str | None, float] = {}
    weights = np.empty(len(dates))
    for i, when in enumerate(dates):
        weight = memo.get(when)
        if weight is None:
            weight = memo[when] = _age_weight(when, settings, as_of)
        weights[i] = weight
    return weights


def _age_weight(when: str | None, settings: RecordsNearby, as_of: date) -> float:
    if not when:
        return settings.undated
    try:
        day = date.fromisoformat(str(when)[:10])
    except ValueError:
        return settings.undated
    years = max((as_of - day).days, 0) / DAYS_PER_YEAR
    return float(0.5 ** (years / settings.half_life_years))
