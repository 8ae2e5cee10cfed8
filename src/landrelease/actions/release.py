"""Keeping the ledger figures stored on hazards and outcomes in step with their polygons."""

from __future__ import annotations

from collections.abc import Iterable

from landrelease.analysis.ledger import ledger_of
from landrelease.domain.ledger import Ledger
from landrelease.domain.records import Scalar
from landrelease.store.protocol import Store


def refresh_ledger(store: Store, hazard_ids: Iterable[str] | None = None) -> Ledger:
    """Recompute the ledger (of some hazards, or all) and store its figures on the hazards and outcomes."""
    ledger, o_ids, _ = ledger_of(store, hazard_ids)
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
        "outcomes", {oid: {"released_m2": float(r)} for oid, r in zip(o_ids, ledger.released, strict=True)}
    )
    return ledger
