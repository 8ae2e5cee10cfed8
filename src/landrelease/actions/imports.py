"""Importing a file into a layer: read, map fields, validate at the door, link, write in one transaction.

Valid features are imported and every rejected one is reported with its position in the file and the
reason; ``all_or_nothing`` refuses the whole file instead. A file that cannot be read changes nothing.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Literal, TypeVar

import numpy as np
import numpy.typing as npt
from shapely.geometry.base import BaseGeometry

from landrelease import jsontext
from landrelease.actions.linking import admin_area_of, hazard_of_features, programme_extent
from landrelease.actions.mapping import parse_map, resolve_mapping
from landrelease.actions.release import hazard_figure_columns, keep_current_after, refresh_ledger
from landrelease.domain.attributes import coerce_text_column, coerce_value
from landrelease.domain.records import Change, NewFeatures, Scalar, id_order
from landrelease.domain.schema import LINKS, Field, GeometryKind, Layer, layer_named
from landrelease.domain.vocabulary import ContextKind, HazardClass, HazardStatus, ReleaseKind
from landrelease.errors import ImportAborted, InvalidInput
from landrelease.formats.read import read_features
from landrelease.geo.area import geodesic_area
from landrelease.geo.validation import Checked, Extent, Verdict, check_many, find_duplicates
from landrelease.store.protocol import Store

OnInvalid = Literal["reject", "repair"]
Progress = Callable[[str], None]
#: (index in the file, attributes, geometry) of a feature that passed the checks
Candidate = tuple[int, dict[str, Scalar], BaseGeometry | None]
T = TypeVar("T")


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
    """What an import would write, before anything is written: the features that pass, held as columns
    (a national file is checked and written without a dict per feature), and the summary."""

    layer: Layer
    path: Path
    driver: str
    summary: ImportSummary
    #: position in the file of each feature that would be written, ascending
    indexes: list[int]
    #: their checked attributes by field, one value per feature of ``indexes``
    columns: dict[str, list[Scalar]]
    #: their checked geometries
    geometries: list[BaseGeometry | None]
    #: the geodesic area of each one's geometry (hazards; 0 for other layers)
    areas: list[float]
    #: fields the file does not give that the import filled from the location where it found a value (a
    #: hazard's admin area): ``candidates`` leaves them out where nothing was found, so that a report approved
    #: as an update of an existing record does not clear them
    located: set[str] = field(default_factory=set)

    def __len__(self) -> int:
        return len(self.indexes)

    @property
    def candidates(self) -> Iterator[Candidate]:
        """Each feature that would be written: (position in the file, attributes, geometry)."""
        names = list(self.columns)
        for k, index in enumerate(self.indexes):
            attributes = {name: self.columns[name][k] for name in names}
            for name in self.located:
                if attributes.get(name) is None:
                    attributes.pop(name, None)
            yield index, attributes, self.geometries[k]

    def keep(self, positions: Sequence[int]) -> None:
        """Keep only the features at ``positions`` (ascending places in this plan)."""
        if len(positions) == len(self.indexes):
            return
        self.indexes = _take(self.indexes, positions)
        self.columns = {name: _take(column, positions) for name, column in self.columns.items()}
        self.geometries = _take(self.geometries, positions)
        self.areas = _take(self.areas, positions)


def _take(values: list[T], positions: Sequence[int]) -> list[T]:
    """``[values[p] for p in positions]``, done in C."""
    if len(positions) == len(values):
        return values
    if len(positions) < 2:
        return [values[p] for p in positions]
    return list(itemgetter(*positions)(values))


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector while a file is checked and written: it would walk the hundreds of
    thousands of geometries, lists and strings the import holds again and again (0.3 s of 2 s for 100,000
    polygons), and nothing here makes reference cycles that need it; it resumes (as it was) after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def import_file(
    store: Store, layer_name: str, path: Path, options: ImportOptions, progress: Progress | None = None
) -> ImportSummary:
    """Import ``path`` into ``layer_name``; see the module docstring for what is kept and what is refused."""
    with _collector_paused():
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
    say(f"checking {len(read)} features")
    extent = programme_extent(store) if layer.geometry is not GeometryKind.NONE else None
    mapped = set(mapping.values())
    unmapped = [c for c in read.field_names if c not in mapped]
    count = len(read)
    with ThreadPoolExecutor(max_workers=1) as pool:
        # GEOS and numpy release the GIL: the geometry checks run beside the (pure Python) attribute checks.
        geometry_job = pool.submit(_check_geometries, read.geometries, read.problems, layer, options, extent)
        columns, reasons = _attribute_columns(layer, read.columns, count, mapping, unmapped, options, path)
        geometries, notes, areas = geometry_job.result()
    for i in sorted(notes.keys() | reasons.keys()):
        note = notes.get(i)
        if note is not None and note.verdict is Verdict.REJECTED:
            summary.errors.append(Rejection(i, note.reason or "rejected"))
        elif i in reasons:
            summary.errors.append(Rejection(i, reasons[i]))
        elif note is not None:
            summary.repairs.append(Rejection(i, note.reason or "repaired"))
    plan = ImportPlan(layer, path, read.driver, summary, list(range(count)), columns, geometries, areas)
    refused = {e.index for e in summary.errors}
    if refused:
        plan.keep([i for i in range(count) if i not in refused])
    _drop_duplicates(store, plan)
    _link(store, plan)
    summary.errors.sort(key=lambda e: e.index)
    summary.rejected = len(summary.errors)
    if options.all_or_nothing and summary.errors:
        first = summary.errors[0]
        summary.repairs = []
        error = ImportAborted(
            f"nothing imported: {summary.rejected} of {count} features were rejected "
            f"(first: feature {first.index}: {first.reason})"
        )
        error.summary = summary
        raise error
    kept = set(plan.indexes)
    summary.repairs = [r for r in summary.repairs if r.index in kept]
    return plan


def write_plan(
    store: Store, plan: ImportPlan, options: ImportOptions, progress: Progress | None = None
) -> ImportSummary:
    """Write what ``plan_import`` found, in one transaction; the summary of the import."""
    say = progress or (lambda _msg: None)
    layer, summary, path = plan.layer, plan.summary, plan.path
    repaired_indexes = {r.index for r in summary.repairs}
    if len(plan):
        say(f"writing {len(plan)} features")
        change = Change(options.author, f"import {path.name} ({plan.driver})")
        before = store.ledger_state()
        # New hazards have no outcomes yet: their ledger is known now and written with them.
        derived = hazard_figure_columns(plan.areas) if layer.name == "hazards" else {}
        summary.ids = store.add_batch(layer.name, NewFeatures(plan.columns, plan.geometries, derived), change)
        if layer.name == "hazards":
            keep_current_after(store, before, len(plan))
        if layer.name == "outcomes":
            say("updating the land release ledger")
            hazards = sorted({str(h) for h in plan.columns.get("hazard_id", ()) if h}, key=id_order)
            refresh_ledger(store, hazards, before=before, changes=len(plan))
    summary.imported = len(plan)
    summary.repaired = sum(1 for i in plan.indexes if i in repaired_indexes)
    return summary


def _check_geometries(
    geometries: Sequence[BaseGeometry | None],
    problems: Sequence[str | None],
    layer: Layer,
    options: ImportOptions,
    extent: Extent | None,
) -> tuple[list[BaseGeometry | None], dict[int, Checked], list[float]]:
    """``check_many`` of the features' geometries and, for hazards, the geodesic area of each one's
    geometry as it would be stored (0 for other layers)."""

    def check() -> tuple[list[BaseGeometry | None], dict[int, Checked]]:
        return check_many(
            geometries, layer.geometry, repair=options.on_invalid == "repair", problems=problems, extent=extent
        )

    if layer.name != "hazards":
        checked, notes = check()
        return checked, notes, [0.0] * len(checked)
    given = np.empty(len(geometries), dtype=object)
    given[:] = list(geometries)
    with ThreadPoolExecutor(max_workers=1) as pool:
        # Nearly every feature is stored as it came (a Polygon as a one-member MultiPolygon, the same area):
        # measure them beside the checks, then again only the repaired ones.
        measuring = pool.submit(_raw_areas, given)
        checked, notes = check()
        areas = measuring.result()
    repaired = [i for i, c in notes.items() if c.verdict is Verdict.REPAIRED]
    if repaired:
        again = np.empty(len(repaired), dtype=object)
        again[:] = [checked[i] for i in repaired]
        areas[repaired] = geodesic_area(again)
    return checked, notes, areas.tolist()


def _raw_areas(geometries: npt.NDArray[np.object_]) -> npt.NDArray[np.float64]:
    """``geodesic_area`` of the file's outlines as they came: NaN or infinite coordinates among them (refused
    by the checks) must not print numpy's warnings."""
    with np.errstate(invalid="ignore"):
        return geodesic_area(geometries)


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


def _attribute_columns(
    layer: Layer,
    source: Mapping[str, Sequence[Scalar]],
    n: int,
    mapping: Mapping[str, str],
    unmapped: Sequence[str],
    options: ImportOptions,
    path: Path,
) -> tuple[dict[str, list[Scalar]], dict[int, str]]:
    """The file's columns (``n`` values each) as the layer's fields, checked, and the reason each feature
    that cannot be taken is refused (by position).

    Works a column at a time and checks each distinct value of a column once: national files repeat
    values (classes, statuses, operators) across hundreds of thousands of rows.
    """
    forced, fallback = _defaults(layer, options, path)
    columns: dict[str, Sequence[object]] = {name: source[column] for name, column in mapping.items()}
    for name, value in fallback.items():
        column = columns.get(name)
        columns[name] = [value] * n if column is None else [value if v in (None, "") else v for v in column]
    for name, value in forced.items():
        columns[name] = [value] * n
    if unmapped:
        columns["extra"] = _extras({c: source[c] for c in unmapped}, n)
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
        checked[name] = _checked_column(f, values, reasons)
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
    return checked, reasons


def _checked_column(f: Field, values: Sequence[object], reasons: dict[int, str]) -> list[Scalar]:
    """``coerce_value`` of each value of a column, each distinct value checked once; a bad value's feature
    gets its reason in ``reasons`` (unless an earlier field already gave one) and None here."""
    n = len(values)
    # Keyed by type too: True, 1 and 1.0 are equal in Python but not the same text.
    keys = list(zip(map(type, values), values, strict=True))
    try:
        distinct = set(keys)
    except TypeError:  # an unhashable value somewhere (a list from a JSON file): check them one by one
        distinct = None
    results: dict[tuple[type, object], Scalar | InvalidInput] = {}
    for key in distinct if distinct is not None else ():
        try:
            results[key] = coerce_value(f, key[1])
        except InvalidInput as error:
            results[key] = error
    if distinct is not None and not any(isinstance(r, InvalidInput) for r in results.values()):
        if len(results) == 1:  # a constant column (a default, a class given with --class)
            return [next(iter(results.values()))] * n  # type: ignore[list-item]
        return [results[key] for key in keys]  # type: ignore[misc]
    good: list[Scalar] = [None] * n
    for i, key in enumerate(keys):
        if distinct is not None:
            result = results[key]
        else:
            try:
                result = coerce_value(f, key[1])
            except InvalidInput as error:
                result = error
        if isinstance(result, InvalidInput):
            reasons.setdefault(i, result.message)
        else:
            good[i] = result
    return good


def _extras(unmapped: Mapping[str, Sequence[Scalar]], n: int) -> list[Scalar]:
    """Each feature's values of the file's unmapped columns as JSON (kept in ``extra``, never dropped),
    None where it has none; written a column at a time when the columns allow it."""
    kept = {name: [None if v == "" else v for v in column] for name, column in unmapped.items()}
    if jsontext.plain(kept):
        return [None if text == "{}" else text for text in jsontext.objects(kept, n, item=", ", key=": ")]
    rows = zip(*kept.values(), strict=True)
    return [_extra(list(kept), values) for values in rows]


def _extra(names: Sequence[str], values: Sequence[Scalar]) -> str | None:
    extra = {c: v for c, v in zip(names, values, strict=True) if v is not None}
    return json.dumps(extra, ensure_ascii=False, default=str) if extra else None


def _drop_duplicates(store: Store, plan: ImportPlan) -> None:
    """Hazards (and admin areas) that repeat an existing record or an earlier feature of the file."""
    layer, summary = plan.layer, plan.summary
    if layer.name not in ("hazards", "admin_areas") or not len(plan):
        return
    existing_ids, existing, _ = store.columns(layer.name, [])
    new = np.empty(len(plan), dtype=object)
    new[:] = plan.geometries
    dupes = find_duplicates(new, existing)
    if not dupes:
        return
    drop = set()
    for d in dupes:
        index = plan.indexes[d.index]
        other = f"feature {plan.indexes[d.other]} of this file" if d.within_batch else existing_ids[d.other]
        summary.errors.append(Rejection(index, f"duplicate of {other} ({d.overlap:.0%} the same area)"))
        drop.add(d.index)
    plan.keep([k for k in range(len(plan)) if k not in drop])


#: Layers whose records get their hazard from their location when the file names none.
_LOCATED = ("outcomes", "finds", "accidents", "activities")
#: A record of each linked layer, in messages.
_ONE = {"hazards": "hazard", "activities": "activity", "accidents": "accident"}


def _link(store: Store, plan: ImportPlan) -> None:
    """Fill hazard ids from the location where the file gives none, and admin areas of hazards."""
    layer, summary, n = plan.layer, plan.summary, len(plan)
    if not n:
        return
    if layer.name in _LOCATED:
        known = set(store.columns("hazards", [], geometry=False)[0])
        given = list(plan.columns.get("hazard_id") or [None] * n)
        need = [k for k, h in enumerate(given) if not h]
        found = hazard_of_features(store, [plan.geometries[k] for k in need]) if need else []
        for k, hazard in zip(need, found, strict=True):
            given[k] = hazard
        plan.columns["hazard_id"] = given
        keep = []
        for k, hazard_id in enumerate(given):
            index = plan.indexes[k]
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
                keep.append(k)
        plan.keep(keep)
    for (owner, name), target in LINKS.items():
        # Other references (an outcome's activity, a victim's accident) must name a record that exists.
        if owner != layer.name or (name == "hazard_id" and layer.name in _LOCATED) or not len(plan):
            continue
        values = plan.columns.get(name) or []
        if not any(values):
            continue
        known = set(store.columns(target, [], geometry=False)[0])
        keep = []
        for k, value in enumerate(values):
            if value and value not in known:
                summary.errors.append(Rejection(plan.indexes[k], f"{_ONE[target]} {value} does not exist"))
            else:
                keep.append(k)
        plan.keep(keep)
    if layer.name == "hazards":
        areas = admin_area_of(store, plan.geometries)
        stated = plan.columns.get("admin_area")
        if stated is None:
            plan.located.add("admin_area")
            stated = [None] * n
        plan.columns["admin_area"] = [g if g else a for g, a in zip(stated, areas, strict=True)]
