"""Completion forecast: when will the known hazardous land be released at today's pace (the Article 5 question).

- Remaining area: the ledger's remaining figures (land released after ``as_of`` is added back, so a forecast
  can be made, and checked, as of a past date).
- Pace: land released (cancelled + reduced + cleared) per calendar month over the last ``window`` full months
  before ``as_of``; months without any release count as zero. A programme younger than the window is
  measured from its first release.
- Completion: remaining / mean monthly rate. Its interval: a seeded bootstrap over the monthly rates (the
  same data always gives the same dates).
- Teams scenario: release is taken to scale in proportion to the number of teams working, counted as the
  distinct teams on activities in the window.

Known hazards only: land found contaminated later moves the date out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import repeat

import numpy as np
import numpy.typing as npt

from landrelease.analysis.ledger import ledger_of
from landrelease.domain.records import Scalar, id_order
from landrelease.errors import InvalidInput
from landrelease.store.protocol import Store

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

DAYS_PER_MONTH = 365.25 / 12
MIN_MONTHS = 3
DEFAULT_WINDOW = 12
DEFAULT_SAMPLES = 2000
DEFAULT_SEED = 20261124
#: Completion beyond this many years is reported as "not within a century": no date means anything then.
HORIZON_MONTHS = 1200
NONE_KEY = "(none)"


def month_index(iso: str) -> int:
    """Months since year 0 of an ISO date's month: consecutive months differ by one."""
    return int(iso[:4]) * 12 + int(iso[5:7]) - 1


def month_label(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@dataclass(frozen=True)
class Pace:
    """Land released per month over the window."""

    months: list[str]
    released_m2: Floats
    #: Released in the as-of month up to as-of (not part of the pace: the month is partial).
    partial_m2: float = 0.0

    @property
    def mean(self) -> float:
        return float(self.released_m2.mean()) if len(self.released_m2) else 0.0

    @property
    def sd(self) -> float:
        return float(self.released_m2.std(ddof=1)) if len(self.released_m2) > 1 else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "mean_m2_per_month": self.mean,
            "sd_m2_per_month": self.sd,
            "min_m2_per_month": float(self.released_m2.min()) if len(self.released_m2) else 0.0,
            "max_m2_per_month": float(self.released_m2.max()) if len(self.released_m2) else 0.0,
            "months": [
                {"month": m, "released_m2": float(v)} for m, v in zip(self.months, self.released_m2, strict=True)
            ],
        }


@dataclass(frozen=True)
class Completion:
    """When the remaining land is released at a given pace; ``reason`` instead of a date when there is none."""

    months: float | None
    date: str | None
    interval: tuple[str | None, str | None] | None
    months_interval: tuple[float | None, float | None] | None
    rate_m2_per_month: float
    rate_interval: tuple[float, float] | None
    reason: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "completion_date": self.date,
            "interval": list(self.interval) if self.interval else None,
            "months": self.months,
            "months_interval": list(self.months_interval) if self.months_interval else None,
            "rate_m2_per_month": self.rate_m2_per_month,
            "rate_interval_m2_per_month": list(self.rate_interval) if self.rate_interval else None,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Forecast:
    key: str
    name: str
    as_of: str
    remaining_m2: float
    pace: Pace
    teams_now: int
    completion: Completion
    scenario_teams: int | None = None
    scenario: Completion | None = None
    level: float = 0.95
    assumptions: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        scenario: dict[str, object] | None = None
        if self.scenario_teams is not None and self.scenario is not None:
            scenario = {"teams": self.scenario_teams, **self.scenario.as_dict()}
        return {
            "key": self.key,
            "name": self.name,
            "as_of": self.as_of,
            "remaining_m2": self.remaining_m2,
            "remaining_ha": self.remaining_m2 / 1e4,
            "remaining_km2": self.remaining_m2 / 1e6,
            "rate": self.pace.as_dict(),
            "teams_now": self.teams_now,
            "forecast": self.completion.as_dict(),
            "scenario": scenario,
            "level": self.level,
        }


def monthly_pace(months: Ints, released_m2: Floats, as_of: date, window: int, first_month: int | None = None) -> Pace:
    """Land released per calendar month in the ``window`` full months before ``as_of``'s month.

    ``months`` are the release months (``month_index``) of the outcomes and ``released_m2`` their credits;
    the window starts no earlier than ``first_month`` (the programme's first release)."""
    end = as_of.year * 12 + as_of.month - 1  # the as-of month is partial: not counted
    start = end - window
    if first_month is not None:
        start = max(start, first_month)
    if end <= start:
        return Pace([], np.zeros(0), float(released_m2[months == end].sum()))
    inside = (months >= start) & (months < end)
    sums = np.bincount(months[inside] - start, weights=released_m2[inside], minlength=end - start)
    partial = float(released_m2[months == end].sum())
    return Pace([month_label(m) for m in range(start, end)], sums.astype(np.float64), partial)


def completion(
    remaining_m2: float,
    pace: Pace,
    as_of: date,
    *,
    scale: float = 1.0,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
    level: float = 0.95,
) -> Completion:
    """When ``remaining_m2`` is released at the window's pace times ``scale``, with a bootstrap interval."""
    rates = pace.released_m2 * scale
    rate = float(rates.mean()) if len(rates) else 0.0
    if remaining_m2 <= 0:
        return Completion(0.0, None, None, None, rate, None, "nothing remains: all known land released")
    active = int(np.count_nonzero(rates))
    if len(rates) >= MIN_MONTHS and active == 0:
        why = f"no land released in the last {len(rates)} months: no completion date at this pace"
        return Completion(None, None, None, None, rate, None, why)
    if len(rates) < MIN_MONTHS or active < MIN_MONTHS:
        why = (
            f"too little history: {active} of the last {len(rates)} months released land; "
            f"a forecast needs at least {MIN_MONTHS}"
        )
        return Completion(None, None, None, None, rate, None, why)
    tail = (1.0 - level) / 2.0
    rng = np.random.default_rng(seed)
    draws = rng.choice(rates, size=(samples, len(rates)), replace=True).mean(axis=1)
    rate_lo, rate_hi = (float(q) for q in np.quantile(draws, [tail, 1.0 - tail], method="inverted_cdf"))
    months = remaining_m2 / rate
    # Few, slow months give late dates: the slow end of the rate interval is the late end of the date's.
    late = remaining_m2 / rate_lo if rate_lo > 0 else math.inf
    early = remaining_m2 / rate_hi
    return Completion(
        months=months if months <= HORIZON_MONTHS else None,
        date=_after(as_of, months),
        interval=(_after(as_of, early), _after(as_of, late)),
        months_interval=(_finite(early), _finite(late)),
        rate_m2_per_month=rate,
        rate_interval=(rate_lo, rate_hi),
        reason=None if months <= HORIZON_MONTHS else f"beyond {HORIZON_MONTHS // 12} years at this pace",
    )


def _after(start: date, months: float) -> str | None:
    if not months <= HORIZON_MONTHS:
        return None
    return (start + timedelta(days=round(months * DAYS_PER_MONTH))).isoformat()


def _finite(months: float) -> float | None:
    return months if months <= HORIZON_MONTHS else None


ASSUMPTIONS = [
    "the pace is land released (cancelled + reduced + cleared) per calendar month over the window; "
    "months without any release count as zero",
    "the interval is a seeded bootstrap of the window's mean monthly rate (the same data gives the same dates)",
    "known hazards only: land found contaminated later moves the date out",
    "teams scenario: release is taken to scale in proportion to the number of teams working "
    "(distinct teams on activities in the window)",
]


# --- over a database ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ForecastReport:
    national: Forecast
    by: str | None
    groups: list[Forecast]
    undated_outcomes: int
    window: int
    samples: int
    seed: int

    def as_dict(self) -> dict[str, object]:
        return {
            **self.national.as_dict(),
            "by": self.by,
            "groups": [g.as_dict() for g in self.groups],
            "window_months": self.window,
            "undated_outcomes": self.undated_outcomes,
            "bootstrap": {"samples": self.samples, "seed": self.seed},
            "assumptions": self.national.assumptions,
        }


def forecast_of(
    store: Store,
    *,
    as_of: date,
    by: str | None = None,
    teams: int | None = None,
    window: int = DEFAULT_WINDOW,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
    level: float = 0.95,
) -> ForecastReport:
    """The completion forecast of a database, nationally and (``by="admin"``) per admin area."""
    if by not in (None, "admin"):
        raise InvalidInput(f"--by takes admin, not {by!r}")
    if window < MIN_MONTHS or window > 600:
        raise InvalidInput(f"--window takes {MIN_MONTHS} to 600 months, not {window}")
    if teams is not None and teams < 0:
        raise InvalidInput(f"--teams takes a number of teams (0 or more), not {teams}")
    if not 100 <= samples <= 1_000_000:
        raise InvalidInput(f"--samples takes 100 to 1,000,000, not {samples}")
    hazard_ids, remaining, h_cols, released, o_cols = _figures(store)
    position = {h: i for i, h in enumerate(hazard_ids)}
    o_days, o_months = _parse_dates(o_cols["release_date"])
    dated = o_months >= 0
    # Land released after as_of was still remaining then: added back, so a past forecast can be checked.
    cutoff = as_of.toordinal()
    after = o_days > cutoff
    o_hazard = _positions(o_cols["hazard_id"], position)
    # Hazards reported after as_of were not known then: left out, with their outcomes.
    known = _parse_dates(h_cols["reported_date"])[0] <= cutoff
    o_known = (o_hazard < 0) | known[o_hazard.clip(0)] if len(known) else np.ones(len(o_hazard), dtype=bool)
    before = dated & ~after
    first = int(o_months[before].min()) if before.any() else None
    a_hazard, a_team, a_first, a_last = _activity_teams(store, position)
    window_end = as_of.year * 12 + as_of.month - 1
    in_window = (a_last >= window_end - window) & (a_first < window_end)
    national_teams = _distinct(a_team[in_window])

    def one(key: str, name: str, hazards: npt.NDArray[np.bool_] | None) -> Forecast:
        if hazards is None:
            o_in = np.ones(len(released), dtype=bool)
            a_in = in_window
            left = float(remaining[known].sum())
        else:
            o_in = (o_hazard >= 0) & hazards[o_hazard.clip(0)]
            a_in = in_window & (a_hazard >= 0) & hazards[a_hazard.clip(0)]
            left = float(remaining[hazards & known].sum())
        left += float(released[after & o_in & o_known].sum())
        pace = monthly_pace(o_months[before & o_in], released[before & o_in], as_of, window, first)
        teams_now = _distinct(a_team[a_in])
        return _forecast(key, name, as_of, left, pace, teams_now, teams, national_teams, samples, seed, level)

    national = one("TOTAL", "Total", None)
    groups: list[Forecast] = []
    if by == "admin":
        # Admin areas as integer codes, so each group's hazards are one integer comparison.
        code: dict[str, int] = {}
        keys = [str(a) if a is not None else NONE_KEY for a in h_cols["admin_area"]]
        area = np.fromiter((code.setdefault(k, len(code)) for k in keys), np.int64, len(keys))
        names = _admin_names(store)
        # Every admin area is listed, also those with no known hazard: "nothing remains" is a figure too.
        for key in sorted(set(code) | set(names), key=id_order):
            groups.append(one(key, names.get(key, key), area == code.get(key, -1)))
    return ForecastReport(national, by, groups, int((~dated).sum()), window, samples, seed)


def _distinct(teams: Ints) -> int:
    return int(np.unique(teams[teams >= 0]).size)


def _forecast(
    key: str,
    name: str,
    as_of: date,
    remaining_m2: float,
    pace: Pace,
    teams_now: int,
    teams: int | None,
    national_teams: int,
    samples: int,
    seed: int,
    level: float,
) -> Forecast:
    base = completion(remaining_m2, pace, as_of, samples=samples, seed=seed, level=level)
    notes = list(ASSUMPTIONS)
    scenario = None
    if teams is not None:
        # Groups scale with the national ratio: extra teams are taken to spread as today's do.
        if national_teams == 0:
            scenario = Completion(
                None, None, None, None, 0.0, None, "no teams recorded on activities in the window: no scenario"
            )
        else:
            scale = teams / national_teams
            scenario = completion(remaining_m2, pace, as_of, scale=scale, samples=samples, seed=seed, level=level)
    return Forecast(key, name, as_of.isoformat(), remaining_m2, pace, teams_now, base, teams, scenario, level, notes)


def _activity_teams(store: Store, position: dict[str, int]) -> tuple[Ints, Ints, Ints, Ints]:
    """Each activity's hazard (position), team (a code per organisation/team; -1 none) and first and last
    month worked."""
    _, _, cols = store.columns(
        "activities", ["hazard_id", "organisation", "team", "start_date", "end_date"], geometry=False
    )
    hazard = _positions(cols["hazard_id"], position)
    # Teams as integer codes (-1: none recorded), so counting them per group is a numpy operation.
    code: dict[str, int] = {"": -1}
    team = (f"{o or ''}/{t}" if t else "" for o, t in zip(cols["organisation"], cols["team"], strict=True))
    codes = np.fromiter((code.setdefault(name, len(code) - 1) for name in team), np.int64, len(hazard))
    _, start = _parse_dates(cols["start_date"])
    _, end = _parse_dates(cols["end_date"])
    lo = np.where(start >= 0, start, end)
    # An activity with no end date is still going on: it counts up to now.
    hi = np.where(end >= 0, end, 10**9)
    return hazard, codes, lo, hi


def _figures(store: Store) -> tuple[list[str], Floats, dict[str, list[Scalar]], Floats, dict[str, list[Scalar]]]:
    """Hazard ids, their remaining area and admin area and report date; each outcome's released area, hazard
    and release date. From the stored ledger when it is current (each layer read once, no geometry), else
    computed from the polygons."""
    wanted = ["admin_area", "reported_date"]
    if store.ledger_state().current:
        ids, _, h_cols = store.columns("hazards", ["remaining_m2", *wanted], geometry=False)
        _, _, o_cols = store.columns("outcomes", ["hazard_id", "release_date", "released_m2"], geometry=False)
        return ids, _floats(h_cols["remaining_m2"]), h_cols, _floats(o_cols["released_m2"]), o_cols
    ledger, _, o_cols = ledger_of(store)
    ids, _, cols = store.columns("hazards", wanted, geometry=False)
    row = {i: k for k, i in enumerate(ids)}
    order = [row[h] for h in ledger.hazard_ids]
    h_cols = {name: [cols[name][k] for k in order] for name in wanted}
    return ledger.hazard_ids, ledger.remaining, h_cols, ledger.released, o_cols


def _floats(values: list[Scalar]) -> Floats:
    """Stored figures as floats; one never computed counts as 0, as in the stored ledger."""
    return np.nan_to_num(np.array(values, dtype=np.float64), nan=0.0)


def _positions(hazard_ids: Sequence[Scalar], position: dict[str, int]) -> Ints:
    """Each record's hazard as a position (-1: linked to no known hazard)."""
    return np.fromiter(map(position.get, map(str, hazard_ids), repeat(-1)), np.int64, len(hazard_ids))


def _parse_dates(values: Sequence[Scalar]) -> tuple[Ints, Ints]:
    """Each value's day (proleptic ordinal) and month index; -1 for both if it is not a date. Dates repeat a lot
    (a few thousand days in a programme's life), so each distinct value is parsed once."""
    distinct = {value: k for k, value in enumerate(set(values))}
    parsed = np.array([_parse_date(value) for value in distinct], dtype=np.int64).reshape(-1, 2)
    index = np.fromiter(map(distinct.__getitem__, values), np.int64, len(values))
    return parsed[index, 0], parsed[index, 1]


def _parse_date(value: Scalar) -> tuple[int, int]:
    if not isinstance(value, str) or len(value) < 10:
        return -1, -1
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        return -1, -1
    return day.toordinal(), day.year * 12 + day.month - 1


def _admin_names(store: Store) -> dict[str, str]:
    ids, _, cols = store.columns("admin_areas", ["name"], geometry=False)
    return {i: str(n) for i, n in zip(ids, cols["name"], strict=True) if n is not None}
