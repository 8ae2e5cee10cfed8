"""``landrelease check``: every validation over the whole database, like GICHD's geocheck but built in.

Each finding names the record, the check and what is wrong, so an information manager can fix it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely

from landrelease.analysis.ledger import ledger_of
from landrelease.domain.attributes import coerce_value
from landrelease.domain.schema import LAYERS, LINKS, FieldType, GeometryKind
from landrelease.errors import InvalidInput
from landrelease.geo.area import geodesic_area
from landrelease.geo.validation import Verdict, check_geometry, find_duplicates
from landrelease.store.protocol import Store

#: Share of an outcome outside its hazard above which it is reported (below it is digitising noise).
OUTSIDE_TOLERANCE = 0.01
LEDGER_FIGURES = ("estimated_m2", "cancelled_m2", "reduced_m2", "cleared_m2", "remaining_m2")


@dataclass(frozen=True)
class Finding:
    check: str
    layer: str
    record_id: str | None
    message: str

    def as_dict(self) -> dict[str, str | None]:
        return {"check": self.check, "layer": self.layer, "id": self.record_id, "message": self.message}


def check_database(store: Store) -> list[Finding]:
    findings: list[Finding] = []
    for layer in LAYERS.values():
        if layer.geometry is GeometryKind.NONE:
            continue
        ids, geoms, _ = store.columns(layer.name, [])
        for rid, g in zip(ids, geoms, strict=True):
            c = check_geometry(0, g, layer.geometry, repair=False)
            if c.verdict is Verdict.REJECTED:
                findings.append(Finding("geometry", layer.name, rid, c.reason or "invalid"))
    findings += _required(store)
    findings += _values(store)
    findings += _duplicate_hazards(store)
    findings += _links(store)
    findings += _outcomes(store)
    findings += _ledger(store)
    return findings


def _required(store: Store) -> list[Finding]:
    """Records missing a required value: landrelease never writes one, but QGIS or SQL may clear it (the
    edit is versioned, so the value it had is in the record's history)."""
    out = []
    for layer in LAYERS.values():
        names = [f.name for f in layer.fields if f.required and not f.derived]
        if not names:
            continue
        ids, _, cols = store.columns(layer.name, names, geometry=False)
        for name in names:
            label = layer.field(name).label
            for rid, value in zip(ids, cols[name], strict=True):
                if value is None or (isinstance(value, str) and not value.strip()):
                    out.append(Finding("required", layer.name, rid, f"{label} ({name}) is empty; it is required"))
    return out


def _values(store: Store) -> list[Finding]:
    """Values a field cannot hold (a status not in the list, a date that is not one, text in a number):
    landrelease refuses them at the door, but another program (QGIS, SQL) writes what it is given."""
    out = []
    for layer in LAYERS.values():
        fields = [f for f in layer.fields if not f.derived and (f.choices is not None or f.type is not FieldType.TEXT)]
        if not fields:
            continue
        ids, _, cols = store.columns(layer.name, [f.name for f in fields], geometry=False)
        for f in fields:
            column = cols[f.name]
            bad: dict[tuple[type, object], str] = {}
            for key in set(zip(map(type, column), column, strict=True)):  # each distinct value once
                try:
                    coerce_value(f, key[1])
                except InvalidInput as error:
                    bad[key] = error.message
            if bad:
                out += [
                    Finding("value", layer.name, rid, f"{f.label}: {bad[type(v), v]}")
                    for rid, v in zip(ids, column, strict=True)
                    if (type(v), v) in bad
                ]
    return out


def _duplicate_hazards(store: Store) -> list[Finding]:
    ids, geoms, _ = store.columns("hazards", [])
    valid = shapely.is_valid(geoms)
    sub = np.flatnonzero(valid)
    dupes = find_duplicates(geoms[sub], np.array([], dtype=object))
    return [
        Finding(
            "duplicate",
            "hazards",
            ids[sub[d.index]],
            f"the same area as {ids[sub[d.other]]} ({d.overlap:.0%} overlap): the same minefield reported twice?",
        )
        for d in dupes
    ]


def _links(store: Store) -> list[Finding]:
    """Records that name a hazard, activity or accident that does not exist (``schema.LINKS``)."""
    known: dict[str, set[str]] = {}
    out = []
    for (layer, name), target in LINKS.items():
        if target not in known:
            known[target] = set(store.columns(target, [], geometry=False)[0])
        ids, _, cols = store.columns(layer, [name], geometry=False)
        for rid, ref in zip(ids, cols[name], strict=True):
            if ref is not None and ref not in known[target]:
                out.append(Finding("link", layer, rid, f"refers to {_ONE[target]} {ref}, which does not exist"))
    return out


_ONE = {"hazards": "hazard", "activities": "activity", "accidents": "accident"}


def _outcomes(store: Store) -> list[Finding]:
    h_ids, h_geoms, _ = store.columns("hazards", [])
    index = {h: i for i, h in enumerate(h_ids)}
    o_ids, o_geoms, cols = store.columns("outcomes", ["hazard_id"])
    pairs = [(i, index[h]) for i, h in enumerate(cols["hazard_id"]) if h in index and o_geoms[i] is not None]
    if not pairs:
        return []
    oi = np.array([p[0] for p in pairs])
    hi = np.array([p[1] for p in pairs])
    covered = shapely.covers(h_geoms[hi], o_geoms[oi])
    out = []
    check = ~covered
    if check.any():
        outside = shapely.difference(o_geoms[oi[check]], h_geoms[hi[check]])
        share = geodesic_area(outside) / np.maximum(geodesic_area(o_geoms[oi[check]]), 1e-9)
        for o, h, s in zip(oi[check].tolist(), hi[check].tolist(), share.tolist(), strict=True):
            if s > OUTSIDE_TOLERANCE:
                out.append(
                    Finding(
                        "outside",
                        "outcomes",
                        o_ids[o],
                        f"{s:.0%} of it lies outside its hazard {h_ids[h]} and is not counted as released",
                    )
                )
    return out


def _ledger(store: Store) -> list[Finding]:
    ledger, _, _ = ledger_of(store)
    ids, _, cols = store.columns("hazards", ["status", *LEDGER_FIGURES], geometry=False)
    position = {h: i for i, h in enumerate(ids)}
    out = []
    computed = {
        "estimated_m2": ledger.estimated,
        "cancelled_m2": ledger.cancelled,
        "reduced_m2": ledger.reduced,
        "cleared_m2": ledger.cleared,
        "remaining_m2": ledger.remaining,
    }
    for i, hid in enumerate(ledger.hazard_ids):
        row = position[hid]
        stale = [name for name in LEDGER_FIGURES if not _close(cols[name][row], float(computed[name][i]))]
        if stale:
            out.append(
                Finding(
                    "ledger",
                    "hazards",
                    hid,
                    f"stored {', '.join(stale)} differ from the polygons (refresh needed)",
                )
            )
        remaining = float(ledger.remaining[i])
        if cols["status"][row] in ("closed", "handed_over") and remaining > max(1.0, 1e-3 * float(ledger.estimated[i])):
            out.append(
                Finding(
                    "ledger",
                    "hazards",
                    hid,
                    f"{cols['status'][row]} but {remaining:,.0f} m2 of it has not been cancelled, reduced or cleared",
                )
            )
    return out


def _close(stored: object, computed: float) -> bool:
    if not isinstance(stored, int | float):
        return False
    return math.isclose(float(stored), computed, rel_tol=1e-6, abs_tol=1e-3)
