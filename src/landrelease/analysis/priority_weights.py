"""The prioritisation weights: a readable TOML file, with the defaults shipped in the package.

A user's file (``--weights FILE``) is laid over the defaults key by key, so it needs only what it changes.
Every name in it is checked against the defaults: a typo'd criterion or setting is refused with one line
naming it (and the nearest real name), never silently ignored, because a silently ignored weight is a
ranking nobody asked for.
"""

from __future__ import annotations

import difflib
import math
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from landrelease.domain.vocabulary import ContextKind, HazardClass
from landrelease.errors import InvalidInput, UnreadableFile

#: The criteria, in the order they are shown.
CRITERIA = ("settlements", "infrastructure", "accidents", "finds", "evidence", "area", "land_use", "risk")
#: How the predicted risk of the cells near a hazard becomes one value.
RISK_STATISTICS = ("max", "mean")
DEFAULTS_FILE = "prioritisation.toml"
#: Tables keyed by a vocabulary (hazard classes, context kinds) rather than by fixed setting names.
OPEN_TABLES = ("evidence", "land_use.kinds")


@dataclass(frozen=True)
class Nearness:
    """Closeness to context features of some kinds: 1 at the edge, falling linearly to 0 at ``reach_m``."""

    reach_m: float
    kinds: tuple[str, ...]


@dataclass(frozen=True)
class RecordsNearby:
    """Accidents or finds near a hazard, each counting less as it ages (a half-life)."""

    radius_m: float
    half_life_years: float
    saturation: float
    undated: float


@dataclass(frozen=True)
class RiskNearby:
    """The predicted risk of the stored risk cells whose centre is within ``radius_m`` of the hazard."""

    radius_m: float
    statistic: str  # "max" or "mean"


@dataclass(frozen=True)
class PriorityConfig:
    weights: dict[str, float]
    settlements: Nearness
    infrastructure: Nearness
    accidents: RecordsNearby
    finds: RecordsNearby
    evidence: dict[str, float]
    area_full_m2: float
    land_use_radius_m: float
    land_use: dict[str, float]
    risk: RiskNearby
    #: Where the settings came from, for messages.
    source: str = "defaults"


def default_settings() -> dict[str, Any]:
    """The shipped defaults as the raw TOML tables."""
    text = resources.files("landrelease.analysis").joinpath(DEFAULTS_FILE).read_text("utf-8")
    return tomllib.loads(text)


def load_config(path: Path | None = None) -> PriorityConfig:
    """The defaults, with ``path``'s settings laid over them if given."""
    settings = default_settings()
    source = "defaults"
    if path is not None:
        source = path.name
        try:
            text = path.read_text("utf-8")
        except FileNotFoundError:
            raise UnreadableFile(f"weights file {path} does not exist") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise UnreadableFile(f"cannot read weights file {path}: {exc}") from None
        try:
            user = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InvalidInput(f"{source} is not valid TOML: {exc}") from None
        settings = _merge(settings, user, source)
    return _config(settings, source)


def _merge(defaults: dict[str, Any], user: dict[str, Any], source: str, where: str = "") -> dict[str, Any]:
    """``user`` over ``defaults``, refusing any name the defaults do not have."""
    merged = dict(defaults)
    for key, value in user.items():
        if where in OPEN_TABLES:  # keyed by a vocabulary: checked against it later
            merged[key] = value
            continue
        if key not in defaults:
            raise InvalidInput(_unknown(source, where, key, list(defaults)))
        if isinstance(defaults[key], dict):
            if not isinstance(value, dict):
                raise InvalidInput(f"{source}: {_at(where, key)} must be a table ([{_at(where, key)}])")
            merged[key] = _merge(defaults[key], value, source, _at(where, key))
        else:
            merged[key] = value
    return merged


def _at(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _unknown(source: str, where: str, key: str, known: list[str]) -> str:
    what = "criterion" if where == "weights" else ("section" if not where else "setting")
    place = f" in [{where}]" if where else ""
    close = difflib.get_close_matches(key, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{source}: unknown {what} {key!r}{place}{hint}; known: {', '.join(known)}"


def _number(source: str, where: str, value: object, *, low: float = 0.0, high: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(f"{source}: {where} must be a number, not {value!r}")
    if not low <= value <= high:
        bound = f"from {low:g} to {high:g}" if math.isfinite(high) else f"at least {low:g}"
        raise InvalidInput(f"{source}: {where} must be {bound}, not {value!r}")
    return float(value)


def _positive(source: str, where: str, value: object) -> float:
    number = _number(source, where, value)
    if number <= 0:
        raise InvalidInput(f"{source}: {where} must be more than 0, not {value!r}")
    return number


def _kinds(source: str, where: str, value: object) -> tuple[str, ...]:
    known = [k.value for k in ContextKind]
    if not isinstance(value, list) or not all(isinstance(k, str) for k in value):
        raise InvalidInput(f'{source}: {where} must be a list of context kinds, e.g. ["settlement"]')
    for kind in value:
        if kind not in known:
            raise InvalidInput(_unknown(source, where, kind, known).replace("setting", "context kind"))
    return tuple(value)


def _values(source: str, where: str, table: dict[str, Any], known: list[str], what: str) -> dict[str, float]:
    values = {}
    for key, value in table.items():
        if key not in known:
            raise InvalidInput(_unknown(source, where, key, known).replace("setting", what))
        values[key] = _number(source, f"{where}.{key}", value, high=1.0)
    return values


def _nearby(source: str, name: str, table: dict[str, Any]) -> RecordsNearby:
    return RecordsNearby(
        radius_m=_number(source, f"{name}.radius_m", table["radius_m"]),
        half_life_years=_positive(source, f"{name}.half_life_years", table["half_life_years"]),
        saturation=_positive(source, f"{name}.saturation", table["saturation"]),
        undated=_number(source, f"{name}.undated", table["undated"], high=1.0),
    )


def _statistic(source: str, table: dict[str, Any]) -> str:
    value = table["statistic"]
    if value not in RISK_STATISTICS:
        raise InvalidInput(f"{source}: risk.statistic must be one of {', '.join(RISK_STATISTICS)}, not {value!r}")
    return str(value)


def _config(s: dict[str, Any], source: str) -> PriorityConfig:
    weights = {c: _number(source, f"weights.{c}", s["weights"][c]) for c in CRITERIA}
    full = _number(source, "area.full_m2", s["area"]["full_m2"])
    if full <= 1:
        raise InvalidInput(f"{source}: area.full_m2 must be more than 1, not {full:g}")
    return PriorityConfig(
        weights=weights,
        settlements=Nearness(
            _positive(source, "settlements.reach_m", s["settlements"]["reach_m"]),
            _kinds(source, "settlements.kinds", s["settlements"]["kinds"]),
        ),
        infrastructure=Nearness(
            _positive(source, "infrastructure.reach_m", s["infrastructure"]["reach_m"]),
            _kinds(source, "infrastructure.kinds", s["infrastructure"]["kinds"]),
        ),
        accidents=_nearby(source, "accidents", s["accidents"]),
        finds=_nearby(source, "finds", s["finds"]),
        evidence=_values(source, "evidence", s["evidence"], [c.value for c in HazardClass], "hazard class"),
        area_full_m2=full,
        land_use_radius_m=_number(source, "land_use.radius_m", s["land_use"]["radius_m"]),
        land_use=_values(source, "land_use.kinds", s["land_use"]["kinds"], [k.value for k in ContextKind], "kind"),
        risk=RiskNearby(_number(source, "risk.radius_m", s["risk"]["radius_m"]), _statistic(source, s["risk"])),
        source=source,
    )
