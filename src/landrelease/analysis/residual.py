"""Residual hazard of "non-persistent" mines: how many may still function, as a distribution, not a zero.

The model (docs/residual-hazard.md has the reasoning):

- Before the self-destruct time every emplaced mine is taken as live.
- After it, the fraction still functional is a failure rate ``theta``: the self-destruct failure rate (CCW
  Amended Protocol II design figure: at most 10 % within 30 days) until the self-deactivation deadline, and
  with self-deactivation, from day 120 on, the combined rate (design: at most 1 in 1,000).
- ``theta`` has a Beta prior whose mean is the design figure and whose weight (alpha + beta, "worth so many
  inspected mines") is low: the right tail is heavy because field failure rates are known to be worse than
  design figures. Field evidence (n inspected, k functional, in the same phase) updates it by conjugacy:
  Beta(alpha + k, beta + n - k).
- The number still functional among N emplaced is then Beta-binomial(N, alpha, beta).

Pure: numbers in, numbers out. It informs survey priorities and risk education; it never releases land.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from landrelease.domain.ordnance import by_model
from landrelease.domain.records import Scalar
from landrelease.errors import InvalidInput

#: Beyond this many mines the count's interval is N times the rate's interval (the exact sum would need N
#: terms; at this size the two differ by less than one mine in a thousand).
EXACT_COUNT_LIMIT = 2_000_000


@dataclass(frozen=True)
class DesignFigures:
    """CCW Amended Protocol II, Technical Annex, paragraph 3: remotely delivered anti-personnel mines."""

    #: At most this fraction of activated mines may fail to self-destruct within ``self_destruct_limit_days``.
    self_destruct_failure: float = 0.10
    self_destruct_limit_days: float = 30.0
    #: With self-deactivation as back-up, at most this fraction may still function after ``deactivation_days``.
    functional_after_deactivation: float = 0.001
    deactivation_days: float = 120.0


CCW_APII = DesignFigures()
#: The prior is worth this many inspected mines: little, so that evidence soon outweighs the design figure.
DEFAULT_PRIOR_WEIGHT = 20.0
DEFAULT_LEVEL = 0.95


class Phase(StrEnum):
    ARMED = "before self-destruction"
    SELF_DESTRUCT_FAILURES = "after self-destruction"
    AFTER_DEACTIVATION = "after self-deactivation"


@dataclass(frozen=True)
class Minefield:
    emplaced: int
    #: Days since the mines were laid, at the date of the estimate.
    days: float
    #: Recorded self-destruct time; ``None``: the design limit (30 days).
    self_destruct_days: float | None = None
    #: Whether the mines have self-deactivation as back-up (False: failures stay live indefinitely).
    self_deactivation: bool = True


@dataclass(frozen=True)
class Evidence:
    """Field evidence: mines inspected in the minefield and how many of them still functioned."""

    inspected: int
    functional: int
    #: Days after laying when they were inspected; ``None``: at the date of the estimate.
    day: float | None = None


@dataclass(frozen=True)
class BetaRate:
    """A rate's Beta distribution, kept as its mean and weight (alpha + beta) so the mean is exact."""

    mean: float
    weight: float

    @property
    def alpha(self) -> float:
        return self.mean * self.weight

    @property
    def beta(self) -> float:
        return (1.0 - self.mean) * self.weight

    def updated(self, inspected: int, functional: int) -> BetaRate:
        """The posterior after ``functional`` of ``inspected`` were found functional (conjugate update)."""
        return BetaRate((self.alpha + functional) / (self.weight + inspected), self.weight + inspected)

    def interval(self, level: float) -> tuple[float, float]:
        tail = (1.0 - level) / 2.0
        return beta_quantile(tail, self.alpha, self.beta), beta_quantile(1.0 - tail, self.alpha, self.beta)

    def as_dict(self, level: float) -> dict[str, object]:
        return {
            "alpha": self.alpha,
            "beta": self.beta,
            "mean": self.mean,
            "interval": list(self.interval(level)),
        }


@dataclass(frozen=True)
class ResidualEstimate:
    emplaced: int
    days: float
    phase: Phase
    expected_functional: float
    interval: tuple[int, int]
    level: float
    probability_any_functional: float
    design_rate: float | None = None
    prior: BetaRate | None = None
    posterior: BetaRate | None = None
    evidence: Evidence | None = None
    evidence_used: bool = False
    assumptions: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        rate: dict[str, object] | None = None
        if self.prior is not None and self.posterior is not None:
            rate = {
                "what": _RATE_MEANING[self.phase],
                "design_figure": self.design_rate,
                "prior": self.prior.as_dict(self.level),
                "posterior": self.posterior.as_dict(self.level),
            }
        evidence = None
        if self.evidence is not None:
            evidence = {
                "inspected": self.evidence.inspected,
                "functional": self.evidence.functional,
                "day": self.evidence.day,
                "used": self.evidence_used,
            }
        return {
            "emplaced": self.emplaced,
            "days": self.days,
            "phase": self.phase.value,
            "expected_functional": self.expected_functional,
            "interval": list(self.interval),
            "level": self.level,
            "probability_any_functional": self.probability_any_functional,
            "rate": rate,
            "evidence": evidence,
            "assumptions": self.assumptions,
        }


_RATE_MEANING = {
    Phase.SELF_DESTRUCT_FAILURES: "fraction of mines that failed to self-destruct (still functional)",
    Phase.AFTER_DEACTIVATION: "fraction still functional after self-destruction and self-deactivation",
}


def phase_at(day: float, minefield: Minefield, design: DesignFigures = CCW_APII) -> Phase:
    destruct = minefield.self_destruct_days
    if destruct is None:
        destruct = design.self_destruct_limit_days
    if day < destruct:
        return Phase.ARMED
    if minefield.self_deactivation and day >= max(design.deactivation_days, destruct):
        return Phase.AFTER_DEACTIVATION
    return Phase.SELF_DESTRUCT_FAILURES


def residual_hazard(
    minefield: Minefield,
    evidence: Evidence | None = None,
    *,
    design: DesignFigures = CCW_APII,
    prior_weight: float = DEFAULT_PRIOR_WEIGHT,
    level: float = DEFAULT_LEVEL,
) -> ResidualEstimate:
    """How many of a minefield's mines may still function ``minefield.days`` after laying."""
    _check(minefield, evidence, prior_weight, level)
    n = minefield.emplaced
    phase = phase_at(minefield.days, minefield, design)
    notes = _assumptions(minefield, design, prior_weight)
    if phase is Phase.ARMED:
        notes.append("before the self-destruct time every emplaced mine is taken as live")
        if evidence is not None:
            notes.append("evidence is not used before the self-destruct time: nothing has yet had to fail")
        return ResidualEstimate(
            n, minefield.days, phase, float(n), (n, n), level, 1.0 if n else 0.0, evidence=evidence, assumptions=notes
        )
    design_rate = (
        design.functional_after_deactivation if phase is Phase.AFTER_DEACTIVATION else design.self_destruct_failure
    )
    prior = BetaRate(design_rate, prior_weight)
    posterior = prior
    used = False
    if evidence is not None:
        evidence_day = evidence.day if evidence.day is not None else minefield.days
        if phase_at(evidence_day, minefield, design) is phase:
            posterior = prior.updated(evidence.inspected, evidence.functional)
            used = True
        else:
            notes.append(
                f"the evidence (day {evidence_day:g}) is from another phase than day {minefield.days:g}: not used"
            )
    lo, hi = count_interval(n, posterior.alpha, posterior.beta, level)
    return ResidualEstimate(
        emplaced=n,
        days=minefield.days,
        phase=phase,
        expected_functional=n * posterior.mean,
        interval=(lo, hi),
        level=level,
        probability_any_functional=probability_any(n, posterior.alpha, posterior.beta),
        design_rate=design_rate,
        prior=prior,
        posterior=posterior,
        evidence=evidence,
        evidence_used=used,
        assumptions=notes,
    )


def _check(minefield: Minefield, evidence: Evidence | None, prior_weight: float, level: float) -> None:
    if minefield.emplaced < 0:
        raise InvalidInput(f"the number of mines emplaced cannot be negative ({minefield.emplaced})")
    if not minefield.days >= 0 or math.isinf(minefield.days):
        raise InvalidInput(f"days since the mines were laid must be 0 or more, not {minefield.days}")
    if minefield.self_destruct_days is not None and not minefield.self_destruct_days >= 0:
        raise InvalidInput(f"the self-destruct time must be 0 days or more, not {minefield.self_destruct_days}")
    if not 0 < prior_weight < math.inf:
        raise InvalidInput(f"the prior weight must be a positive number of mines, not {prior_weight}")
    if not 0 < level < 1:
        raise InvalidInput(f"the interval level must be between 0 and 1 (e.g. 0.95), not {level}")
    if evidence is not None:
        if evidence.inspected < 0 or evidence.functional < 0:
            raise InvalidInput("inspected and functional mines are counts: 0 or more")
        if evidence.functional > evidence.inspected:
            raise InvalidInput(
                f"{evidence.functional} functional mines cannot come from {evidence.inspected} inspected"
            )


def _assumptions(minefield: Minefield, design: DesignFigures, prior_weight: float) -> list[str]:
    notes = [
        f"design figures (CCW Amended Protocol II): at most {design.self_destruct_failure:.0%} fail to self-destruct "
        f"within {design.self_destruct_limit_days:g} days; with self-deactivation at most "
        f"1 in {1 / design.functional_after_deactivation:,.0f} still functional "
        f"after {design.deactivation_days:g} days",
        f"prior: a Beta distribution with the design figure as its mean, worth {prior_weight:g} inspected mines "
        "(a heavy right tail: field failure rates are often worse than design)",
        "mines fail independently at one common rate; the estimate says nothing about where they are",
    ]
    if minefield.self_destruct_days is None:
        notes.append(f"no self-destruct time recorded: the design limit ({design.self_destruct_limit_days:g} days)")
    if not minefield.self_deactivation:
        notes.append("no self-deactivation: mines that failed to self-destruct stay live indefinitely")
    else:
        notes.append(
            f"self-deactivation is credited only from day {design.deactivation_days:g} (the design deadline), "
            "not gradually before it"
        )
    return notes


# --- the Beta and Beta-binomial distributions -------------------------------------------------------------


def _log_beta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def beta_cdf(x: float, a: float, b: float) -> float:
    """The regularised incomplete beta function I_x(a, b), by its continued fraction (DLMF 8.17.22)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    if x > (a + 1.0) / (a + b + 2.0):  # the fraction converges fast only below the mean, roughly
        return 1.0 - beta_cdf(1.0 - x, b, a)
    front = math.exp(a * math.log(x) + b * math.log1p(-x) - _log_beta(a, b)) / a
    return front * _continued_fraction(x, a, b)


def _continued_fraction(x: float, a: float, b: float) -> float:
    """1 / (1 + d1 / (1 + d2 / (1 + ...))): the denominator by the modified Lentz method, then its inverse."""
    tiny = 1e-300
    f, c, d = 1.0, 1.0, 0.0
    for i in range(1, 10_000):
        m = i // 2
        if i % 2:
            term = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
        else:
            term = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
        d = 1.0 + term * d
        d = tiny if abs(d) < tiny else d
        c = 1.0 + term / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        f *= c * d
        if abs(c * d - 1.0) < 1e-15:
            break
    return 1.0 / f


def beta_quantile(p: float, a: float, b: float) -> float:
    """The x with I_x(a, b) = p, by bisection on log x (small-alpha quantiles can be astronomically small)."""
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    lo, hi = -745.0, 0.0  # exp(-745) is the smallest positive double
    for _ in range(200):
        mid = (lo + hi) / 2.0
        if beta_cdf(math.exp(mid), a, b) < p:
            lo = mid
        else:
            hi = mid
    return math.exp(hi)


def beta_binomial_pmf(n: int, a: float, b: float) -> npt.NDArray[np.float64]:
    """P(K = k) for k = 0..n, K ~ Beta-binomial(n, a, b): from P(K = 0) by the ratio of successive terms."""
    log_p0 = math.lgamma(n + b) + math.lgamma(a + b) - math.lgamma(n + a + b) - math.lgamma(b)
    k = np.arange(n, dtype=np.float64)
    log_ratio = np.log(n - k) + np.log(k + a) - np.log(k + 1.0) - np.log(n - k - 1.0 + b)
    log_pmf = log_p0 + np.concatenate(([0.0], np.cumsum(log_ratio)))
    return np.exp(log_pmf)


def count_interval(n: int, a: float, b: float, level: float) -> tuple[int, int]:
    """The central ``level`` interval of the number still functional, K ~ Beta-binomial(n, a, b)."""
    tail = (1.0 - level) / 2.0
    if n == 0:
        return 0, 0
    if n > EXACT_COUNT_LIMIT:
        return math.floor(n * beta_quantile(tail, a, b)), math.ceil(n * beta_quantile(1.0 - tail, a, b))
    cdf = np.cumsum(beta_binomial_pmf(n, a, b))
    lo = int(np.searchsorted(cdf, tail, side="left"))
    hi = int(np.searchsorted(cdf, (1.0 - tail) * cdf[-1], side="left"))
    return min(lo, n), min(hi, n)


def probability_any(n: int, a: float, b: float) -> float:
    """P(K >= 1): at least one mine still functional."""
    if n == 0:
        return 0.0
    return -math.expm1(math.lgamma(n + b) + math.lgamma(a + b) - math.lgamma(n + a + b) - math.lgamma(b))


# --- per recorded minefield -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MinefieldResidual:
    record_id: str | None
    hazard_id: str | None
    estimate: ResidualEstimate | None
    #: Why there is no estimate (missing figures), in the user's terms.
    problem: str | None = None

    def as_dict(self) -> dict[str, object]:
        body: dict[str, object] = {"id": self.record_id, "hazard_id": self.hazard_id}
        if self.estimate is None:
            return body | {"estimate": None, "problem": self.problem}
        return body | self.estimate.as_dict()


def residual_of_minefields(
    records: Iterable[Mapping[str, Scalar]],
    as_of: date,
    *,
    design: DesignFigures = CCW_APII,
    prior_weight: float = DEFAULT_PRIOR_WEIGHT,
    level: float = DEFAULT_LEVEL,
) -> list[MinefieldResidual]:
    """The residual hazard of each recorded minefield at ``as_of``.

    A record is a mapping with ``mines_emplaced``, ``laid_on`` (ISO date), ``self_destruct_days``,
    ``self_deactivation`` and ``mine_types`` (catalogue models, separated by ";" or ","), plus ``id``/``hazard_id``
    and optional evidence ``inspected``, ``functional`` and ``inspected_on``. A record that lacks what the
    estimate needs gets a problem instead of a number: it still needs survey.
    """
    results = []
    for record in records:
        rid = _text(record.get("id"))
        hid = _text(record.get("hazard_id"))
        try:
            minefield, evidence, notes = _minefield_of(record, as_of, design)
        except InvalidInput as exc:
            results.append(MinefieldResidual(rid, hid, None, exc.message))
            continue
        estimate = residual_hazard(minefield, evidence, design=design, prior_weight=prior_weight, level=level)
        estimate.assumptions.extend(notes)
        results.append(MinefieldResidual(rid, hid, estimate))
    return results


def _minefield_of(
    record: Mapping[str, Scalar], as_of: date, design: DesignFigures
) -> tuple[Minefield, Evidence | None, list[str]]:
    emplaced = record.get("mines_emplaced")
    if emplaced is None or isinstance(emplaced, bool) or not isinstance(emplaced, int | float):
        raise InvalidInput("no number of mines emplaced recorded")
    laid = _date(record.get("laid_on"), "date laid")
    if laid is None:
        raise InvalidInput("no date laid recorded")
    if laid > as_of:
        raise InvalidInput(f"laid on {laid.isoformat()}, after the date of the estimate ({as_of.isoformat()})")
    notes: list[str] = []
    destruct = _number(record.get("self_destruct_days"))
    if destruct is None:
        destruct = _catalogue_self_destruct(_text(record.get("mine_types")))
        if destruct is not None:
            notes.append(f"self-destruct time from the ordnance catalogue: {destruct:g} days")
    deactivation = record.get("self_deactivation")
    if deactivation is None:
        notes.append("self-deactivation not recorded: taken as absent (the cautious reading)")
    minefield = Minefield(int(emplaced), float((as_of - laid).days), destruct, bool(deactivation))
    evidence = None
    inspected, functional = _number(record.get("inspected")), _number(record.get("functional"))
    if inspected is not None and inspected > 0:
        seen = _date(record.get("inspected_on"), "inspection date")
        day = float((seen - laid).days) if seen is not None else None
        evidence = Evidence(int(inspected), int(functional or 0), day)
    return minefield, evidence, notes


def _catalogue_self_destruct(mine_types: str | None) -> float | None:
    """The longest catalogued self-destruct time among the recorded types (the cautious one); None if any
    type has none or is unknown."""
    if not mine_types:
        return None
    times = []
    for model in (m.strip() for m in re.split(r"[;,]", mine_types) if m.strip()):
        item = by_model(model)
        if item is None or item.self_destruct_days is None:
            return None
        times.append(item.self_destruct_days)
    return max(times) if times else None


def _text(value: Scalar) -> str | None:
    return None if value is None else str(value)


def _number(value: Scalar) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _date(value: Scalar, what: str) -> date | None:
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise InvalidInput(f"the {what} {value!r} is not a date (yyyy-mm-dd)") from None
