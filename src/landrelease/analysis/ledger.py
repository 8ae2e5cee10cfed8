"""The land release ledger of a database, computed from its polygons."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from landrelease.domain.ledger import Ledger, compute_ledger
from landrelease.domain.records import Scalar
from landrelease.geo.area import geodesic_area
from landrelease.store.protocol import Store

OUTCOME_COLUMNS = ["hazard_id", "kind", "release_date", "operator"]


def ledger_of(
    store: Store, hazard_ids: Iterable[str] | None = None
) -> tuple[Ledger, list[str], dict[str, list[Scalar]]]:
    """The ledger of all hazards (or of ``hazard_ids``), with the outcome ids and columns it was built from."""
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
