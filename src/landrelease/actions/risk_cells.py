"""Risk cells from a database: read the layers the grid needs (``analysis.risk.grid``), and store predicted cells
in the ``risk_cells`` layer for the web map and prioritisation."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import shapely

from landrelease.analysis.risk.cells import CellTable
from landrelease.analysis.risk.grid import Areas, Polygons, Records, Sources, SurveyCells, build_cells, is_mine
from landrelease.domain.records import Change, NewFeature, Scalar
from landrelease.domain.vocabulary import ContextKind
from landrelease.errors import InvalidInput, NotFound
from landrelease.store.protocol import Store

RISK_LAYER = "risk_cells"


def cells_from_store(store: Store, size_m: float = 1000.0, admin_area: str | None = None) -> SurveyCells:
    """The grid of ``store`` (over its admin areas, or ``admin_area`` and the areas inside it) with covariates
    from its layers and labels from its survey history."""
    area_ids, area_geoms, area_cols = store.columns("admin_areas", ["parent_id"])
    if admin_area is not None:
        chosen = _within_area(admin_area.strip().upper(), area_ids, [_text(p) for p in area_cols["parent_id"]])
        area_ids = [area_ids[i] for i in chosen]
        area_geoms = area_geoms[chosen]
    h_ids, h_geoms, h_cols = store.columns("hazards", ["hazard_class"])
    o_ids, o_geoms, o_cols = store.columns("outcomes", ["kind", "hazard_id"])
    _, f_geoms, f_cols = store.columns("finds", ["hazard_id", "ordnance_category", "ordnance_model"])
    _, a_geoms, _ = store.columns("accidents", [])
    _, c_geoms, c_cols = store.columns("context", ["kind"])
    kinds = np.array([k or "" for k in c_cols["kind"]], dtype=object)
    context = {k.value: c_geoms[kinds == k.value] for k in ContextKind if (kinds == k.value).any()}
    mines = np.array(
        [
            is_mine(_text(c), _text(m))
            for c, m in zip(f_cols["ordnance_category"], f_cols["ordnance_model"], strict=True)
        ],
        dtype=bool,
    )
    sources = Sources(
        areas=Areas(area_ids, area_geoms),
        hazards=Polygons(h_ids, h_geoms, [_text(k) for k in h_cols["hazard_class"]]),
        outcomes=Polygons(o_ids, o_geoms, [_text(k) for k in o_cols["kind"]], [_text(h) for h in o_cols["hazard_id"]]),
        finds=Records(f_geoms, [_text(h) for h in f_cols["hazard_id"]], mines),
        accidents=Records(a_geoms),
        context=context,
    )
    try:
        return build_cells(sources, size_m)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


def _within_area(wanted: str, ids: Sequence[str], parents: Sequence[str | None]) -> list[int]:
    """Positions of ``wanted`` and every area inside it (by ``parent_id``, at any depth)."""
    if wanted not in ids:
        some = ", ".join(list(ids)[:5]) + (f" ... ({len(ids)} in all)" if len(ids) > 5 else "")
        raise NotFound(f"no admin area {wanted} (--admin-area); the database has: {some or 'none'}")
    inside = {wanted}
    grew = True
    while grew:
        grew = False
        for area, parent in zip(ids, parents, strict=True):
            if parent in inside and area not in inside:
                inside.add(area)
                grew = True
    return [i for i, area in enumerate(ids) if area in inside]


def _text(value: Scalar) -> str | None:
    return None if value is None or value == "" else str(value)


def store_risk(
    store: Store,
    cells: CellTable,
    risk: npt.NDArray[np.float64],
    drivers: list[list[tuple[str, float]]],
    model: str,
    size_m: float,
    change: Change,
) -> StoredRisk:
    """Write a prediction into the ``risk_cells`` layer, in one transaction per step (cheap to repeat).

    A cell already stored (same centre and size) gets the new values; a new one is added; a stored cell this
    prediction does not cover keeps its place but loses its risk (the map and prioritisation skip it). The
    prediction is derived: rewriting it makes no new versions."""
    ids, geoms, cols = store.columns(RISK_LAYER, ["cell_size_m"])
    stored = {
        _key(p.x, p.y, s): record_id
        for record_id, p, s in zip(ids, geoms, cols["cell_size_m"], strict=True)
        if p is not None and not p.is_empty
    }
    today = date.today().isoformat()
    values: dict[str, dict[str, Scalar]] = {}
    new: list[NewFeature] = []
    groups = cells.groups
    lon, lat = cells.lon.tolist(), cells.lat.tolist()
    for i, value in enumerate(np.round(risk, 5).tolist()):
        derived: dict[str, Scalar] = {
            "risk": value,
            "model": model,
            "top_covariates": json.dumps([[n, round(e, 4)] for n, e in drivers[i]], ensure_ascii=False),
            "predicted_on": today,
        }
        record_id = stored.pop(_key(lon[i], lat[i], size_m), None)
        if record_id is not None:
            values[record_id] = derived
            continue
        area = None if groups is None else str(groups[i]) or None
        new.append(
            NewFeature({"cell_size_m": float(size_m), "admin_area": area}, shapely.Point(lon[i], lat[i]), derived)
        )
    cleared: dict[str, Scalar] = {"risk": None, "model": None, "top_covariates": None, "predicted_on": None}
    values.update({record_id: cleared for record_id in stored.values()})
    store.set_derived(RISK_LAYER, values)
    store.add(RISK_LAYER, new, change)
    return StoredRisk(updated=len(values) - len(stored), added=len(new), cleared=len(stored))


@dataclass(frozen=True)
class StoredRisk:
    updated: int
    added: int
    cleared: int


def _key(lon: float, lat: float, size: Scalar) -> tuple[float, float, float]:
    return round(lon, 6), round(lat, 6), round(float(size or 0.0), 3)
