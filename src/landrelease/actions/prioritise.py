"""Prioritise the hazards of a database: read what the criteria need, rank (``analysis.prioritisation``)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np

from landrelease.actions.release import ensure_current_ledger
from landrelease.analysis.ledger import ledger_of
from landrelease.analysis.prioritisation import Context, Hazards, Ranking, Records, RiskCells, prioritise
from landrelease.analysis.priority_weights import load_config
from landrelease.domain.records import Scalar
from landrelease.store.protocol import Store


def prioritise_store(store: Store, weights: Path | None = None, as_of: date | None = None) -> Ranking:
    """The ranking of ``store``'s open hazards with the default weights, or ``weights`` laid over them."""
    config = load_config(weights)  # a bad weights file is refused before anything is read
    ensure_current_ledger(store)
    ids, geoms, cols = store.columns("hazards", ["name", "hazard_class", "status", "remaining_m2"])
    if store.ledger_state().current:
        remaining = np.array([np.nan if v is None else v for v in cols["remaining_m2"]], dtype=np.float64)
    else:  # a read-only database with stale figures: compute them from the polygons
        ledger, _, _ = ledger_of(store)
        by_id = dict(zip(ledger.hazard_ids, ledger.remaining.tolist(), strict=True))
        remaining = np.array([by_id.get(i, np.nan) for i in ids], dtype=np.float64)
    hazards = Hazards(ids, geoms, _texts(cols["name"]), _texts(cols["hazard_class"]), _texts(cols["status"]), remaining)
    c_ids, c_geoms, c_cols = store.columns("context", ["kind", "name"])
    context = Context(c_ids, c_geoms, _texts(c_cols["kind"]), _texts(c_cols["name"]))
    return prioritise(
        hazards,
        context,
        _records(store, "accidents", "accident_date"),
        _records(store, "finds", "found_date"),
        config,
        as_of or date.today(),
        _risk_cells(store),
    )


def _risk_cells(store: Store) -> RiskCells:
    """The stored risk cells that have a prediction (a cell the latest one did not cover has none)."""
    _, geoms, cols = store.columns("risk_cells", ["risk"])
    has = np.array([v is not None for v in cols["risk"]], dtype=bool)
    risk = np.array([v if v is not None else np.nan for v in cols["risk"]], dtype=np.float64)
    return RiskCells(np.asarray(geoms, dtype=object)[has], risk[has])


def _records(store: Store, layer: str, date_field: str) -> Records:
    _, geoms, cols = store.columns(layer, ["hazard_id", date_field])
    return Records(geoms, _texts(cols[date_field]), _texts(cols["hazard_id"]))


def _texts(values: list[Scalar]) -> list[str | None]:
    return [None if v is None else str(v) for v in values]
