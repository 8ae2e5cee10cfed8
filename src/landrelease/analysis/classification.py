"""Evidence-weighted SHA/CHA classification: suggest each hazard's class from its evidence, flag disagreements.

Evidence comes from the records (finds and accidents linked to a hazard or inside it count as "in"; within
``near_m`` metres of its edge, "near") and from an ``evidence`` column recorded on the hazard (names of
evidence types, comma- or semicolon-separated; kept in the record's source columns when the layer has no
such field). Weights, kinds (direct or indirect) and thresholds are a readable TOML or JSON file; the
defaults ship in ``classification.toml``. The suggestion informs review; the recorded class changes only
through the usual workflow.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import Transformer

from landrelease.domain.records import Scalar
from landrelease.domain.schema import LAYERS
from landrelease.domain.vocabulary import HazardClass
from landrelease.errors import InvalidInput, UnreadableFile
from landrelease.store.protocol import Store

DEFAULTS_FILE = "classification.toml"
#: Evidence types computed from finds and accidents; the others are recorded on hazards.
FROM_RECORDS = (
    "mine_find_in",
    "other_find_in",
    "mine_accident_in",
    "other_accident_in",
    "mine_find_near",
    "other_find_near",
    "accident_near",
)
CLASSIFIED = (HazardClass.SHA.value, HazardClass.CHA.value)
NO_EVIDENCE = "no recorded evidence"


@dataclass(frozen=True)
class EvidenceType:
    name: str
    direct: bool
    weight: float
    label: str


@dataclass(frozen=True)
class ClassificationConfig:
    evidence: dict[str, EvidenceType]
    cha: float
    sha: float
    cha_requires_direct: bool
    near_m: float
    max_count: int
    source: str = "defaults"


# --- the configuration ---------------------------------------------------------------------------------


def default_settings() -> dict[str, Any]:
    return tomllib.loads(resources.files("landrelease.analysis").joinpath(DEFAULTS_FILE).read_text("utf-8"))


def load_classification(path: Path | None = None) -> ClassificationConfig:
    """The shipped defaults, with a user's TOML or JSON file laid over them (it needs only what it changes)."""
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
        user = _parse(text, path)
        for section, table in user.items():
            if section not in settings:
                raise InvalidInput(f"{source}: unknown section [{section}]; sections: {', '.join(settings)}")
            if not isinstance(table, dict):
                raise InvalidInput(f"{source}: {section} must be a table")
            for key, value in table.items():
                if section == "evidence":
                    # New evidence types may be added: the hazards' evidence column names them.
                    base = settings["evidence"].get(key, {})
                    if not isinstance(value, dict):
                        raise InvalidInput(f"{source}: evidence.{key} must be a table with kind and weight")
                    settings["evidence"][key] = base | value
                elif key not in settings[section]:
                    raise InvalidInput(
                        f"{source}: unknown setting {key!r} in [{section}]; known: {', '.join(settings[section])}"
                    )
                else:
                    settings[section][key] = value
    return _config(settings, source)


def _parse(text: str, path: Path) -> dict[str, Any]:
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{path.name} is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise InvalidInput(f"{path.name} must hold an object of sections")
        return data
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"{path.name} is not valid TOML: {exc}") from None


def _config(s: dict[str, Any], source: str) -> ClassificationConfig:
    evidence = {}
    for name, table in s["evidence"].items():
        kind = table.get("kind")
        if kind not in ("direct", "indirect"):
            raise InvalidInput(f'{source}: evidence.{name}.kind must be "direct" or "indirect", not {kind!r}')
        weight = _number(source, f"evidence.{name}.weight", table.get("weight"))
        evidence[name] = EvidenceType(name, kind == "direct", weight, str(table.get("label", name)))
    cha = _number(source, "thresholds.cha", s["thresholds"]["cha"])
    sha = _number(source, "thresholds.sha", s["thresholds"]["sha"])
    if sha > cha:
        raise InvalidInput(f"{source}: thresholds.sha ({sha:g}) must not exceed thresholds.cha ({cha:g})")
    requires = s["thresholds"]["cha_requires_direct"]
    if not isinstance(requires, bool):
        raise InvalidInput(f"{source}: thresholds.cha_requires_direct must be true or false")
    count = s["counting"]["max_count"]
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise InvalidInput(f"{source}: counting.max_count must be a whole number of at least 1, not {count!r}")
    near = _number(source, "counting.near_m", s["counting"]["near_m"])
    return ClassificationConfig(evidence, cha, sha, requires, near, count, source)


def _number(source: str, where: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise InvalidInput(f"{source}: {where} must be a number, 0 or more, not {value!r}")
    return float(value)


# --- scoring (pure) ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    hazard_id: str
    recorded: str | None
    suggested: str
    score: float
    components: dict[str, float]
    counts: dict[str, int]
    direct: bool
    no_evidence: bool
    unknown_evidence: list[str] = field(default_factory=list)

    @property
    def disagrees(self) -> bool:
        return self.recorded != self.suggested

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.hazard_id,
            "recorded_class": self.recorded,
            "suggested_class": self.suggested,
            "disagrees": self.disagrees,
            "score": self.score,
            "components": self.components,
            "counts": self.counts,
            "direct_evidence": self.direct,
            "no_recorded_evidence": self.no_evidence,
            "unknown_evidence": self.unknown_evidence,
        }


def suggest(
    hazard_id: str, recorded: str | None, counts: Mapping[str, int], config: ClassificationConfig, unknown: list[str]
) -> Suggestion:
    """The class a hazard's evidence counts suggest: CHA at or above the CHA threshold (with direct evidence if
    required), else SHA; below the SHA threshold it is flagged as having no recorded evidence."""
    components: dict[str, float] = {}
    direct = False
    for name, n in counts.items():
        if n <= 0 or name not in config.evidence:
            continue
        kind = config.evidence[name]
        components[name] = kind.weight * min(n, config.max_count)
        direct = direct or (kind.direct and kind.weight > 0)
    score = float(sum(components.values()))
    confirmed = score >= config.cha and (direct or not config.cha_requires_direct)
    return Suggestion(
        hazard_id,
        recorded,
        HazardClass.CHA.value if confirmed else HazardClass.SHA.value,
        score,
        components,
        {k: int(v) for k, v in counts.items() if v > 0},
        direct,
        score < config.sha,
        unknown,
    )


def declared_evidence(value: Scalar, extra: Scalar) -> list[str]:
    """Evidence type names recorded on a hazard: its ``evidence`` value, or the one kept in its source columns."""
    text = value
    if text is None and isinstance(extra, str) and extra:
        try:
            kept = json.loads(extra)
        except json.JSONDecodeError:
            kept = None
        if isinstance(kept, dict):
            text = next((v for k, v in kept.items() if k.strip().lower() == "evidence"), None)
    if not isinstance(text, str):
        return []
    return [_name(part) for part in re.split(r"[;,]", text) if part.strip()]


def _name(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.strip().lower()).strip("_")


# --- over a database --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClassificationReport:
    suggestions: list[Suggestion]
    not_classified: int
    config: ClassificationConfig

    def as_dict(self) -> dict[str, object]:
        return {
            "hazards": len(self.suggestions),
            "disagreements": sum(1 for s in self.suggestions if s.disagrees),
            "no_recorded_evidence": sum(1 for s in self.suggestions if s.no_evidence),
            "not_classified": self.not_classified,
            "weights": self.config.source,
            "thresholds": {
                "cha": self.config.cha,
                "sha": self.config.sha,
                "cha_requires_direct": self.config.cha_requires_direct,
                "near_m": self.config.near_m,
                "max_count": self.config.max_count,
            },
            "suggestions": [s.as_dict() for s in self.suggestions],
        }


def classify(store: Store, config: ClassificationConfig) -> ClassificationReport:
    """Suggest a class for every SHA and CHA hazard of the database (EOD spot tasks and stockpiles are left)."""
    # The evidence column is read from the layer when the schema has one, else from the source columns.
    has_field = "evidence" in LAYERS["hazards"].field_names
    ids, geoms, cols = store.columns("hazards", ["hazard_class", "extra", *(["evidence"] if has_field else [])])
    declared_values: Sequence[Scalar] = cols["evidence"] if has_field else [None] * len(ids)
    position = {h: i for i, h in enumerate(ids)}
    classified = np.fromiter((c in CLASSIFIED for c in cols["hazard_class"]), bool, len(ids))
    counts = np.zeros((len(ids), len(FROM_RECORDS)), dtype=np.int64)
    spatial = _Hazards(geoms, classified)
    _, f_geoms, f_cols = store.columns("finds", ["hazard_id", "ordnance_category"])
    mine_find = np.array([str(c or "").strip().lower() == "landmine" for c in f_cols["ordnance_category"]], dtype=bool)
    _count(counts, "find", mine_find, f_cols["hazard_id"], f_geoms, spatial, position, config.near_m)
    _, a_geoms, a_cols = store.columns("accidents", ["hazard_id", "accident_class"])
    mine_accident = np.array([c in ("mine", "demining") for c in a_cols["accident_class"]], dtype=bool)
    _count(counts, "accident", mine_accident, a_cols["hazard_id"], a_geoms, spatial, position, config.near_m)
    # Hazards with the same counts and no evidence recorded on them get the same suggestion: scored once.
    rows = counts.tolist()
    scored: dict[tuple[int, ...], Suggestion] = {}
    suggestions = []
    for i in np.flatnonzero(classified).tolist():
        hid, recorded = ids[i], str(cols["hazard_class"][i])
        row = tuple(rows[i])
        declared = declared_evidence(declared_values[i], cols["extra"][i])
        if declared:
            mine = dict(zip(FROM_RECORDS, row, strict=True))
            unknown = []
            for name in declared:
                if name in config.evidence and name not in FROM_RECORDS:
                    mine[name] = mine.get(name, 0) + 1
                else:
                    unknown.append(name)
            suggestions.append(suggest(hid, recorded, mine, config, unknown))
            continue
        same = scored.get(row)
        if same is None:
            recorded_counts = dict(zip(FROM_RECORDS, row, strict=True))
            same = scored[row] = suggest(hid, recorded, recorded_counts, config, [])
        # Each suggestion owns its dicts and lists: a caller may change one without changing the others.
        suggestions.append(
            Suggestion(
                hid,
                recorded,
                same.suggested,
                same.score,
                dict(same.components),
                dict(same.counts),
                same.direct,
                same.no_evidence,
                [],
            )
        )
    return ClassificationReport(suggestions, len(ids) - int(classified.sum()), config)


Geometries = npt.NDArray[np.object_]
ToMetres = Callable[[Geometries], Geometries]


class _Hazards:
    """The hazards in metres, projected once (and only when some record is to be placed) for all the record
    layers. The projection is centred on every hazard with a shape; only the classified ones are looked up
    (the others' counts are not reported)."""

    def __init__(self, geoms: Geometries, classified: npt.NDArray[np.bool_]) -> None:
        self.geoms = geoms
        self.present = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
        self.wanted = np.flatnonzero(self.present & classified)
        self._projected: tuple[ToMetres, shapely.STRtree] | None = None

    def projected(self) -> tuple[ToMetres, shapely.STRtree]:
        """The projection to metres and a tree of the wanted hazards in metres."""
        if self._projected is None:
            to_metres = _equidistant(self.geoms[self.present])
            self._projected = to_metres, shapely.STRtree(to_metres(self.geoms[self.wanted]))
        return self._projected


def _count(
    counts: npt.NDArray[np.int64],
    what: str,
    is_mine: npt.NDArray[np.bool_],
    linked: Sequence[Scalar],
    points: Geometries,
    hazards: _Hazards,
    position: dict[str, int],
    near_m: float,
) -> None:
    """Add each record to its hazard: linked or inside counts "in", within ``near_m`` of the edge "near".

    Each (hazard, record) pair is one integer, so the pairs are sets of integers kept in numpy."""
    n = len(is_mine)
    if n == 0:
        return
    link = np.fromiter((position.get(str(h), -1) if h is not None else -1 for h in linked), np.int64, len(linked))
    linked_records = np.flatnonzero(link >= 0)
    inside = [link[linked_records] * n + linked_records]
    near = np.zeros(0, dtype=np.int64)
    where = np.flatnonzero(~shapely.is_missing(points) & ~shapely.is_empty(points))
    if where.size and hazards.wanted.size:
        to_metres, tree = hazards.projected()
        points_m = to_metres(points[where])
        p, h = tree.query(points_m, predicate="dwithin", distance=near_m)
        distance = shapely.distance(tree.geometries[h], points_m[p])
        pairs = hazards.wanted[h] * n + where[p]
        inside.append(pairs[distance == 0])
        near = pairs[distance != 0]
    pairs_in = np.unique(np.concatenate(inside))
    # A record linked to one hazard is not also "near" others: it is that hazard's evidence.
    near = np.setdiff1d(near, pairs_in)
    near = near[link[near % n] < 0]
    column = {name: k for k, name in enumerate(FROM_RECORDS)}
    for pairs, mine_name, other_name in (
        (pairs_in, f"mine_{what}_in", f"other_{what}_in"),
        (
            near,
            "mine_find_near" if what == "find" else "accident_near",
            f"other_{what}_near" if what == "find" else "accident_near",
        ),
    ):
        hz, record = np.divmod(pairs, n)
        mine = is_mine[record]
        np.add.at(counts[:, column[mine_name]], hz[mine], 1)
        np.add.at(counts[:, column[other_name]], hz[~mine], 1)


def _equidistant(hazards: Geometries) -> ToMetres:
    """Longitude/latitude to metres in one azimuthal equidistant projection centred on the hazards: a distance
    r from the centre is stretched by at most about (r/R)^2/6 (under 0.5 % within 1,000 km), plenty for a
    "near" of some hundred metres in a national database."""
    x0, y0, x1, y1 = shapely.total_bounds(hazards)
    transformer = Transformer.from_crs(
        "EPSG:4326", f"+proj=aeqd +lat_0={(y0 + y1) / 2} +lon_0={(x0 + x1) / 2} +ellps=WGS84 +units=m", always_xy=True
    )

    def to_metres(xy: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack((x, y))

    return lambda geometries: np.asarray(shapely.transform(geometries, to_metres), dtype=object)
