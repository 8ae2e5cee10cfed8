"""Importing a file into a layer: read, map fields, validate at the door, link, write in one transaction.

Valid features are imported and every rejected one is reported with its position in the file and the
reason; ``all_or_nothing`` refuses the whole file instead. A file that cannot be read changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from shapely.geometry.base import BaseGeometry

from landrelease.actions.linking import admin_area_of, hazard_of_features, programme_extent
from landrelease.actions.mapping import parse_map, resolve_mapping
from landrelease.actions.release import hazard_figures, keep_current_after, refresh_ledger
from landrelease.domain.attributes import coerce_text_column, coerce_value
from landrelease.domain.records import Change, NewFeature, Scalar, id_order
from landrelease.domain.schema import GeometryKind, Layer, layer_named
from landrelease.domain.vocabulary import ContextKind, HazardClass, HazardStatus, ReleaseKind
from landrelease.errors import ImportAborted, InvalidInput
from landrelease.formats.read import read_features
from landrelease.formats.result import RawFeature
from landrelease.geo.area import geodesic_area
from landrelease.geo.validation import Checked, Extent, Verdict, check_batch, find_duplicates
from landrelease.store.protocol import Store

OnInvalid = Literal["reject", "repair"]
Progress = Callable[[str], None]
#: (index in the file, attributes, geometry) of a feature that passed the checks
Candidate = tuple[int, dict[str, Scalar], BaseGeometry | None]


@dataclass(frozen=True)
class Rejection:
    index: int
    reason: str

    def as_dict(self) -> dict[str, int | str]:
        return {"index": self.index, "reason": self.reason}


@dataclass
class ImportSummary:
    """What an import did; ``as_dict`` is the CLI's ``--json`` contract."""

    layer: str
    file: str
    imported: int = 0
    repaired: int = 0
    rejected: int = 0
    errors: list[Rejection] = field(default_factory=list)
    repairs: list[Rejection] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "imported": self.imported,
            "repaired": self.repaired,
            "rejected": self.rejected,
            "errors": [e.as_dict() for e in self.errors],
            "repairs": [r.as_dict() for r in self.repairs],
            "layer": self.layer,
            "file": self.file,
        }


@dataclass(frozen=True)
class ImportOptions:
    on_invalid: OnInvalid = "reject"
    all_or_nothing: bool = False
    field_map: str | None = None
    hazard_class: str | None = None
    kind: str | None = None  # outcomes: cancelled | reduced | cleared; context: settlement | road | ...
    level: int | None = None  # admin areas
    name_field: str | None = None  # admin areas
    source_layer: str | None = None  # a layer inside a GeoPackage or KML
    author: str = "landrelease"
    synthetic: bool = False


@dataclass
class ImportPlan:
    """What an import would write, before anything is written: the features that pass, and the summary."""

    layer: Layer
    path: Path
    driver: str
    summary: ImportSummary
    #: (index in the file, checked attributes, checked geometry) of each feature that would be written
    candidates: list[Candidate]
    #: geodesic area of each hazard's geometry, by index in the file (hazards only)
    areas: dict[int, float]


def import_file(
    store: Store, layer_name: str, path: Path, options: ImportOptions, progress: Progress | None = None
) -> ImportSummary:
    """Import ``path`` into ``layer_name``; see the module docstring for what is kept and what is refused."""
    return write_plan(store, plan_import(store, layer_name, path, options, progress), options, progress)


def plan_import(
    store: Store, layer_name: str, path: Path, options: ImportOptions, progress: Progress | None = None
) -> ImportPlan:
    """Read and check ``path`` as ``import_file`` would, writing nothing (the service's "check, then confirm").

    ``ImportAborted`` if ``all_or_nothing`` and anything was rejected."""
    layer = layer_named(layer_name)
    say = progress or (lambda _msg: None)
    _check_options(layer, options)
    say(f"reading {path.name}")
    read = read_features(path, layer=options.source_layer)
    summary = ImportSummary(layer=layer.name, file=str(path))
    explicit = parse_map(options.field_map)
    if layer.name == "admin_areas" and options.name_field:
        explicit.setdefault("name", options.name_field)
    mapping = resolve_mapping(layer, read.field_names, explicit)
    say(f"checking {len(read.features)} features")
    extent = programme_extent(store) if layer.geometry is not GeometryKind.NONE else None
    mapped = set(mapping.values())
    unmapped = [c for c in read.field_names if c not in mapped]
    with ThreadPoolExecutor(max_workers=1) as pool:
        # GEOS and numpy release the GIL: the geometry checks run beside the (pure Python) attribute checks.
        geometry_job = pool.submit(_check_geometries, read.features, layer, options, extent)
        rows = _attribute_rows(layer, [f.properties for f in read.features], mapping, unmapped, options, path)
        checked, areas = geometry_job.result()
    area_of = dict(zip((f.index for f in read.features), areas, strict=True))
    candidates: list[Candidate] = []
    for raw, verdict, attrs in zip(read.features, checked, rows, strict=True):
        if verdict.verdict is Verdict.REJECTED:
            summary.errors.append(Rejection(raw.index, verdict.reason or "rejected"))
            continue
        if isinstance(attrs, str):
            summary.errors.append(Rejection(raw.index, attrs))
            continue
        if verdict.verdict is Verdict.REPAIRED:
            summary.repairs.append(Rejection(raw.index, verdict.reason or "repaired"))
        candidates.append((raw.index, attrs, verdict.geometry))

    candidates = _drop_duplicates(store, layer, candidates, summary)
    candidates = _link(store, layer, candidates, summary)
    summary.errors.sort(key=lambda e: e.index)
    summary.rejected = len(summary.errors)
    if options.all_or_nothing and summary.errors:
        first = summary.errors[0]
        summary.repairs = []
        error = ImportAborted(
            f"nothing imported: {summary.rejected} of {len(read.features)} features were rejected "
            f"(first: feature {first.index}: {first.reason})"
        )
        error.summary = summary
        raise error
    kept = {c[0] for c in candidates}
    summary.repairs = [r for r in summary.repairs if r.index in kept]
    return ImportPlan(layer, path, read.driver, summary, candidates, area_of)


def write_plan(
    store: Store, plan: ImportPlan, options: ImportOptions, progress: Progress | None = None
) -> ImportSummary:
    """Write what ``plan_import`` found, in one transaction; the summary of the import."""
    say = progress or (lambda _msg: None)
    layer, candidates, summary, path = plan.layer, plan.candidates, plan.summary, plan.path
    repaired_indexes = {r.index for r in summary.repairs}
    if candidates:
        say(f"writing {len(candidates)} features")
        change = Change(options.author, f"import {path.name} ({plan.driver})")
        before = store.ledger_state()
        if layer.name == "hazards":
            # New hazards have no outcomes yet: their ledger is known now and written with them.
            figures = hazard_figures([plan.areas[index] for index, _, _ in candidates])
            features = [NewFeature(a, g, f) for (_, a, g), f in zip(candidates, figures, strict=True)]
            summary.ids = store.add(layer.name, features, change)
            keep_current_after(store, before, len(candidates))
        else:
            summary.ids = store.add(layer.name, [NewFeature(a, g) for _, a, g in candidates], change)
        if layer.name == "outcomes":
            say("updating the land release ledger")
            hazards = _touched_hazards(layer, summary.ids, candidates)
            refresh_ledger(store, hazards, before=before, changes=len(candidates))
    summary.imported = len(candidates)
    summary.repaired = sum(1 for c in candidates if c[0] in repaired_indexes)
    return summary


def _check_geometries(
    features: Sequence[RawFeature], layer: Layer, options: ImportOptions, extent: Extent | None
) -> tuple[list[Checked], list[float]]:
    """Each feature's geometry verdict and, for hazards, the geodesic area of what would be stored."""
    checked = check_batch(
        [f.geometry for f in features],
        layer.geometry,
        repair=options.on_invalid == "repair",
        problems=[f.problem for f in features],
        extent=extent,
    )
    if layer.name != "hazards":
        return checked, [0.0] * len(checked)
    kept = np.array([c.geometry if c.verdict is not Verdict.REJECTED else None for c in checked], dtype=object)
    return checked, geodesic_area(kept).tolist()


def _check_options(layer: Layer, options: ImportOptions) -> None:
    if options.on_invalid not in ("reject", "repair"):
        raise InvalidInput(f"--on-invalid takes reject or repair, not {options.on_invalid!r}")
    if options.hazard_class is not None:
        if layer.name != "hazards":
            raise InvalidInput("--class applies to hazards only")
        if options.hazard_class not in {c.value for c in HazardClass}:
            raise InvalidInput(f"--class takes {', '.join(c.value for c in HazardClass)}, not {options.hazard_class!r}")
    if layer.name == "outcomes" and options.kind is None:
        raise InvalidInput("outcomes need --kind cancelled|reduced|cleared (how the land was released)")
    if options.kind is not None and layer.name == "context":
        if options.kind not in {k.value for k in ContextKind}:
            raise InvalidInput(f"--kind takes {', '.join(k.value for k in ContextKind)}, not {options.kind!r}")
    elif options.kind is not None:
        if layer.name != "outcomes":
            raise InvalidInput("--kind applies to outcomes and context only")
        if options.kind not in {k.value for k in ReleaseKind}:
            raise InvalidInput(f"--kind takes cancelled, reduced or cleared, not {options.kind!r}")
    if (options.level is not None or options.name_field is not None) and layer.name != "admin_areas":
        raise InvalidInput("--level and --name-field apply to admin-areas only")


def _defaults(layer: Layer, options: ImportOptions, path: Path) -> tuple[dict[str, object], dict[str, object]]:
    """(values that replace the file's, values used where the file gives none) for this layer and options."""
    forced: dict[str, object] = {}
    fallback: dict[str, object] = {"source": path.name}
    if options.synthetic:
        forced["synthetic"] = True
    if layer.name == "hazards":
        if options.hazard_class is not None:
            forced["hazard_class"] = options.hazard_class
        fallback["hazard_class"] = HazardClass.SHA.value
        fallback["status"] = HazardStatus.ACTIVE.value
    elif layer.name == "outcomes" or (layer.name == "context" and options.kind is not None):
        forced["kind"] = options.kind
    elif layer.name == "admin_areas" and options.level is not None:
        forced["level"] = options.level
    elif layer.name == "activities":
        fallback["status"] = "completed"
    return forced, fallback


def _attribute_rows(
    layer: Layer,
    properties: Sequence[Mapping[str, Scalar]],
    mapping: Mapping[str, str],
    unmapped: Sequence[str],
    options: ImportOptions,
    path: Path,
) -> list[dict[str, Scalar] | str]:
    """Each feature's attributes as the layer's fields, or the reason it cannot be taken.

    Works a column at a time and checks each distinct value of a column once: national files repeat
    values (classes, statuses, operators) across hundreds of thousands of rows.
    """
    n = len(properties)
    forced, fallback = _defaults(layer, options, path)
    columns: dict[str, list[object]] = {name: [p.get(column) for p in properties] for name, column in mapping.items()}
    for name, value in fallback.items():
        column = columns.get(name)
        columns[name] = [value] * n if column is None else [value if v in (None, "") else v for v in column]
    for name, value in forced.items():
        columns[name] = [value] * n
    if unmapped:
        columns["extra"] = [_extra(p, unmapped) for p in properties]
    # Checked columns first, then the rows at once: a feature's reason is the first bad field's, in column order.
    fields = {f.name: f for f in layer.fields}
    checked: dict[str, list[Scalar]] = {}
    reasons: dict[int, str] = {}
    for name, values in columns.items():
        f = fields[name]
        if f.derived:
            continue
        bulk = coerce_text_column(f, values)
        if bulk is not None:
            checked[name] = bulk
            continue
        # Keyed by type too: True, 1 and 1.0 are equal in Python but not the same text.
        memo: dict[tuple[type, object], Scalar | InvalidInput] = {}
        good: list[Scalar] = [None] * n
        for i, value in enumerate(values):
            if i in reasons:
                continue
            try:
                result = memo[type(value), value]
            except KeyError:
                try:
                    result = coerce_value(f, value)
                except InvalidInput as error:
                    result = error
                memo[type(value), value] = result
            except TypeError:  # an unhashable value: check it on its own
                try:
                    result = coerce_value(f, value)
                except InvalidInput as error:
                    result = error
            if isinstance(result, InvalidInput):
                reasons[i] = result.message
            else:
                good[i] = result
        checked[name] = good
    # Outcomes may get their hazard from the location (linked later), so only they skip the hazard check.
    required = [f.name for f in layer.fields if f.required and not (layer.name == "outcomes" and f.name == "hazard_id")]
    missing: dict[int, list[str]] = {}
    for name in required:
        present = checked.get(name) or [None] * n
        for i in (i for i, v in enumerate(present) if v is None):
            missing.setdefault(i, []).append(name)
    for i, names in missing.items():
        if i not in reasons:
            reasons[i] = f"missing required {'field' if len(names) == 1 else 'fields'}: {', '.join(names)}"
    keys = list(checked)
    rows: list[dict[str, Scalar] | str]
    if keys:
        # Each tuple holds one value per key by construction: the inner zip needs no strictness check.
        rows = [dict(zip(keys, values, strict=False)) for values in zip(*checked.values(), strict=True)]
    else:
        rows = [{} for _ in range(n)]
    for i, reason in reasons.items():
        rows[i] = reason
    return rows


def _extra(properties: Mapping[str, Scalar], unmapped: Sequence[str]) -> str | None:
    extra = {c: properties.get(c) for c in unmapped if properties.get(c) not in (None, "")}
    return json.dumps(extra, ensure_ascii=False, default=str) if extra else None


def _drop_duplicates(
    store: Store,
    layer: Layer,
    candidates: list[tuple[int, dict[str, Scalar], BaseGeometry | None]],
    summary: ImportSummary,
) -> list[tuple[int, dict[str, Scalar], BaseGeometry | None]]:
    """Hazards (and admin areas) that repeat an existing record or an earlier feature of the file."""
    if layer.name not in ("hazards", "admin_areas") or not candidates:
        return candidates
    existing_ids, existing, _ = store.columns(layer.name, [])
    new = np.array([c[2] for c in candidates], dtype=object)
    dupes = find_duplicates(new, existing)
    if not dupes:
        return candidates
    drop = set()
    for d in dupes:
        index = candidates[d.index][0]
        other = f"feature {candidates[d.other][0]} of this file" if d.within_batch else existing_ids[d.other]
        summary.errors.append(Rejection(index, f"duplicate of {other} ({d.overlap:.0%} the same area)"))
        drop.add(d.index)
    return [c for i, c in enumerate(candidates) if i not in drop]


def _link(
    store: Store,
    layer: Layer,
    candidates: list[tuple[int, dict[str, Scalar], BaseGeometry | None]],
    summary: ImportSummary,
) -> list[tuple[int, dict[str, Scalar], BaseGeometry | None]]:
    """Fill hazard ids from the location where the file gives none, and admin areas of hazards."""
    if not candidates:
        return candidates
    if layer.name in ("outcomes", "finds", "accidents", "activities"):
        known = set(store.columns("hazards", [], geometry=False)[0])
        need = [i for i, c in enumerate(candidates) if not c[1].get("hazard_id")]
        found = hazard_of_features(store, [candidates[i][2] for i in need]) if need else []
        for i, hazard in zip(need, found, strict=True):
            candidates[i][1]["hazard_id"] = hazard
        kept = []
        for index, attrs, geom in candidates:
            hazard_id = attrs.get("hazard_id")
            if hazard_id is not None and hazard_id not in known:
                summary.errors.append(Rejection(index, f"hazard {hazard_id} does not exist"))
            elif hazard_id is None and layer.name == "outcomes":
                summary.errors.append(
                    Rejection(
                        index,
                        "no hazard given and the outcome lies within no hazard: which hazard was released?",
                    )
                )
            else:
                kept.append((index, attrs, geom))
        candidates = kept
    if layer.name == "hazards":
        areas = admin_area_of(store, [c[2] for c in candidates])
        for (_, attrs, _g), area in zip(candidates, areas, strict=True):
            if not attrs.get("admin_area") and area is not None:
                attrs["admin_area"] = area
    return candidates


def _touched_hazards(
    layer: Layer, ids: list[str], candidates: list[tuple[int, dict[str, Scalar], BaseGeometry | None]]
) -> list[str]:
    if layer.name == "hazards":
        return ids
    return sorted({str(c[1]["hazard_id"]) for c in candidates if c[1].get("hazard_id")}, key=id_order)
