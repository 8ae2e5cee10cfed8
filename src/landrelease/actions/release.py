"""Keeping the ledger figures stored on hazards and outcomes in step with their polygons."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from shapely.geometry.base import BaseGeometry

from landrelease.analysis.ledger import ledger_of
from landrelease.domain.ledger import Ledger, LedgerState
from landrelease.domain.records import Scalar
from landrelease.errors import StoreError
from landrelease.geo.area import geodesic_area
from landrelease.store.protocol import Store


def refresh_ledger(
    store: Store, hazard_ids: Iterable[str] | None = None, *, before: LedgerState | None = None, changes: int = 0
) -> Ledger:
    """Recompute the ledger (of some hazards, or all) and store its figures on the hazards and outcomes.

    A full refresh marks the stored ledger current as of when it started. A partial one (after a write that
    touched ``hazard_ids``) does so only if the ledger was current ``before`` the write and the write made
    exactly ``changes`` ledger-relevant changes: anyone else's change in between leaves it stale.
    """
    start = store.ledger_state()
    ledger, o_ids, _ = ledger_of(store, hazard_ids)
    synced: int | None = None
    if hazard_ids is None or (before is not None and before.current and start.changes == before.changes + changes):
        synced = start.changes
    hazards: dict[str, dict[str, Scalar]] = {
        e.hazard_id: {
            "estimated_m2": e.estimated_m2,
            "cancelled_m2": e.cancelled_m2,
            "reduced_m2": e.reduced_m2,
            "cleared_m2": e.cleared_m2,
            "remaining_m2": e.remaining_m2,
        }
        for e in ledger
    }
    store.set_derived("hazards", hazards)
    store.set_derived(
        "outcomes",
        {oid: {"released_m2": float(r)} for oid, r in zip(o_ids, ledger.released, strict=True)},
        ledger_synced=synced,
    )
    return ledger


def new_hazard_figures(geometries: Sequence[BaseGeometry | None]) -> list[dict[str, Scalar]]:
    """The ledger of hazards about to be created: nothing released yet, so all of it remains."""
    return hazard_figures(geodesic_area(np.array(list(geometries), dtype=object)).tolist())


def hazard_figures(areas: Sequence[float]) -> list[dict[str, Scalar]]:
    """``new_hazard_figures`` from the hazards' geodesic areas, when they are known already."""
    return [
        {"estimated_m2": a, "cancelled_m2": 0.0, "reduced_m2": 0.0, "cleared_m2": 0.0, "remaining_m2": a} for a in areas
    ]


def hazard_figure_columns(areas: Sequence[float]) -> dict[str, Sequence[Scalar]]:
    """``hazard_figures`` as columns (a batch of new hazards: ``NewFeatures.derived``)."""
    area = list(areas)
    zero = [0.0] * len(area)
    return {"estimated_m2": area, "cancelled_m2": zero, "reduced_m2": zero, "cleared_m2": zero, "remaining_m2": area}


def keep_current_after(store: Store, before: LedgerState, changes: int) -> None:
    """After a write whose ledger figures were written with it, the ledger is still current if it was
    ``before`` and nobody else changed its inputs meanwhile (exactly ``changes`` counted)."""
    now = store.ledger_state()
    if before.current and now.changes == before.changes + changes:
        store.set_derived("hazards", {}, ledger_synced=now.changes)


def ensure_current_ledger(store: Store) -> bool:
    """Bring stale stored figures up to date (after edits made outside landrelease); True if it did.

    A database that cannot be written (a read-only copy) is left as it is: reports then compute the
    ledger from the polygons instead.
    """
    if store.ledger_state().current:
        return False
    try:
        refresh_ledger(store)
    except StoreError:
        return False
    return True
