"""The land release ledger of a database: computed from its polygons, or read from the stored figures.

The stored figures (on each hazard, and each outcome's credit) are what a report reads: they are
recomputed for the hazards touched by every write, and the database counts every change to the ledger's
inputs (even edits made in QGIS), so whether they are current is always known (``Store.ledger_state``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from landrelease.domain.ledger import Ledger, compute_ledger
from landrelease.domain.records import Scalar
from landrelease.errors import Conflict
from landrelease.geo.area import geodesic_area
from landrelease.store.protocol import Geometries, Store

OUTCOME_COLUMNS = ["hazard_id", "kind", "release_date", "operator"]
FIGURES = ("estimated_m2", "cancelled_m2", "reduced_m2", "cleared_m2", "remaining_m2")


def ledger_of(
    store: Store, hazard_ids: Iterable[str] | None = None
) -> tuple[Ledger, list[str], dict[str, list[Scalar]]]:
    """The ledger of all hazards (or of ``hazard_ids``) computed from the polygons, with the outcome ids
    and columns it was built from."""
    ids, geoms, _ = store.columns("hazards", [])
    o_ids, o_geoms, o_cols = store.columns("outcomes", OUTCOME_COLUMNS)
    if hazard_ids is not None:
        wanted = set(hazard_ids)
        keep = np.array([i in wanted for i in ids], dtype=bool)
        ids = [i for i, k in zip(ids, keep, strict=True) if k]
        geoms = geoms[keep]
        o_keep = np.array([h in wanted for h in o_cols["hazard_id"]], dtype=bool)
        o_ids = [i for i, k in zip(o_ids, o_keep, strict=True) if k]
        o_geoms = o_geoms[o_keep]
        o_cols = {name: [v for v, k in zip(values, o_keep, strict=True) if k] for name, values in o_cols.items()}
    ledger = compute_ledger(
        ids,
        geoms,
        [str(h) if h is not None else None for h in o_cols["hazard_id"]],
        o_geoms,
        [str(k) for k in o_cols["kind"]],
        [str(d) if d is not None else None for d in o_cols["release_date"]],
        o_ids,
        geodesic_area,
    )
    return ledger, o_ids, o_cols


def stored_ledger(
    store: Store, outcome_columns: Sequence[str] = ("hazard_id",)
) -> tuple[Ledger, list[str], dict[str, list[Scalar]]]:
    """The ledger as stored on the records (fast: no geometry is read), with the outcome columns asked for
    (``hazard_id`` is always read: outcomes linked to no hazard are counted). Only meaningful when current."""
    read = ledger_with_columns(store, (), outcome_columns)
    return read.ledger, read.outcome_ids, read.outcomes


@dataclass(frozen=True)
class LedgerRead:
    """The ledger with the hazard and outcome columns read beside it (in the ledger's order)."""

    ledger: Ledger
    hazards: dict[str, list[Scalar]]
    hazard_geoms: Geometries
    outcome_ids: list[str]
    outcomes: dict[str, list[Scalar]]


def ledger_with_columns(
    store: Store,
    hazard_columns: Sequence[str],
    outcome_columns: Sequence[str],
    *,
    recompute: bool = False,
    geometry: bool = False,
) -> LedgerRead:
    """The current ledger (stored, or computed from the polygons when stale or with ``recompute``) and the
    columns asked for. From the stored ledger, each layer is read once, its figures beside its columns."""
    o_wanted = ["hazard_id", *(c for c in outcome_columns if c != "hazard_id")]
    if recompute or not store.ledger_state().current:
        ledger, l_ids, _ = ledger_of(store)
        h_ids, h_geoms, hazards = store.columns("hazards", list(hazard_columns), geometry=geometry)
        o_ids, _, outcomes = store.columns("outcomes", o_wanted, geometry=False)
        if h_ids != ledger.hazard_ids or o_ids != l_ids:  # a concurrent writer between the reads
            raise Conflict("the database changed while the report was read; run it again")
        return LedgerRead(ledger, hazards, h_geoms, o_ids, outcomes)
    h_read = [*FIGURES, *(c for c in hazard_columns if c not in FIGURES)]
    ids, h_geoms, cols = store.columns("hazards", h_read, geometry=geometry)
    o_ids, _, o_cols = store.columns("outcomes", [*o_wanted, "released_m2"], geometry=False)
    known = set(ids)
    unlinked = [i for i, h in enumerate(o_cols["hazard_id"]) if h not in known]
    ledger = Ledger(
        ids,
        _floats(cols["estimated_m2"]),
        _floats(cols["cancelled_m2"]),
        _floats(cols["reduced_m2"]),
        _floats(cols["cleared_m2"]),
        _floats(cols["remaining_m2"]),
        _floats(o_cols.pop("released_m2")),
        unlinked,
    )
    hazards = {c: cols[c] for c in hazard_columns}
    return LedgerRead(ledger, hazards, h_geoms, o_ids, o_cols)


def _floats(values: list[Scalar]) -> npt.NDArray[np.float64]:
    """Stored figures as floats; a missing one (never computed) counts as 0."""
    return np.nan_to_num(np.array(values, dtype=np.float64), nan=0.0)


def current_ledger(
    store: Store, *, recompute: bool = False, outcome_columns: Sequence[str] = ("hazard_id",)
) -> tuple[Ledger, list[str], dict[str, list[Scalar]]]:
    """The stored ledger if it is current, else (or with ``recompute``) the ledger computed from polygons."""
    if not recompute and store.ledger_state().current:
        return stored_ledger(store, outcome_columns)
    return ledger_of(store)
