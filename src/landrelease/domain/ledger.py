"""The land release ledger: for every hazard, estimated = cancelled + reduced + cleared + remaining.

Each term is the area of the part of the hazard released that way; overlaps are never counted twice:
outcomes are taken one at a time and each is credited only with the land no earlier outcome released.
The order is the strength of the evidence (cleared, then reduced, then cancelled: land that was both
cancelled and later cleared counts as cleared), then release date (earlier first), then creation (the
record id's number: OC-999999 before OC-1000000, ``records.id_order``), so the figures never depend on the
order records happen to be stored in. Outcome land outside its hazard's polygon is not counted (the hazard
is the estimate). Remaining is what is left and is never negative.

Every figure is traceable: each outcome is credited with the exact area it released (``released``), and
a hazard's cancelled/reduced/cleared figures are the sums of its outcomes' credits.

Pure computation: the caller supplies the area measure (geodesic, see ``landrelease.geo.area``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely

from landrelease.domain.records import creation_ranks
from landrelease.domain.vocabulary import ReleaseKind

Geometries = npt.NDArray[np.object_]
Floats = npt.NDArray[np.float64]
#: Area in m2 of each lon/lat geometry; must be additive (a polygon split in two measures the same).
Measure = Callable[[Geometries], Floats]

KINDS: tuple[ReleaseKind, ...] = tuple(ReleaseKind)  # precedence order: cleared, reduced, cancelled

#: What the ledger is computed from, besides each layer's geometry: a change to any of these (or a record
#: added or retired) makes the stored ledger figures stale until they are recomputed.
LEDGER_INPUTS: dict[str, tuple[str, ...]] = {
    "hazards": (),
    "outcomes": ("hazard_id", "kind", "release_date"),
}


@dataclass(frozen=True)
class LedgerState:
    """How many ledger-relevant changes a database has seen, and up to which the stored figures account.

    Stores count changes with database triggers, so edits made outside landrelease (QGIS, GDAL) count too.
    """

    changes: int
    synced: int

    @property
    def current(self) -> bool:
        return self.changes == self.synced


@dataclass(frozen=True)
class LedgerEntry:
    hazard_id: str
    estimated_m2: float
    cancelled_m2: float
    reduced_m2: float
    cleared_m2: float
    remaining_m2: float


@dataclass(frozen=True)
class Ledger:
    """Columnar ledger of many hazards, plus each outcome's credit."""

    hazard_ids: list[str]
    estimated: Floats
    cancelled: Floats
    reduced: Floats
    cleared: Floats
    remaining: Floats
    #: Land each outcome released, net of overlaps, in the order the outcomes were given.
    released: Floats
    #: Indexes of outcomes whose hazard is not in the ledger (reported, never silently dropped).
    unlinked: list[int]

    def __len__(self) -> int:
        return len(self.hazard_ids)

    def __iter__(self) -> Iterator[LedgerEntry]:
        for i, hid in enumerate(self.hazard_ids):
            yield self.entry(i, hid)

    def entry(self, i: int, hazard_id: str | None = None) -> LedgerEntry:
        return LedgerEntry(
            hazard_id if hazard_id is not None else self.hazard_ids[i],
            float(self.estimated[i]),
            float(self.cancelled[i]),
            float(self.reduced[i]),
            float(self.cleared[i]),
            float(self.remaining[i]),
        )

    def totals(self, mask: npt.NDArray[np.bool_] | None = None) -> LedgerTotals:
        sel = slice(None) if mask is None else mask
        return LedgerTotals(
            hazards=len(self.hazard_ids) if mask is None else int(np.count_nonzero(mask)),
            estimated_m2=float(self.estimated[sel].sum()),
            cancelled_m2=float(self.cancelled[sel].sum()),
            reduced_m2=float(self.reduced[sel].sum()),
            cleared_m2=float(self.cleared[sel].sum()),
            remaining_m2=float(self.remaining[sel].sum()),
        )


@dataclass(frozen=True)
class LedgerTotals:
    hazards: int
    estimated_m2: float
    cancelled_m2: float
    reduced_m2: float
    cleared_m2: float
    remaining_m2: float

    def as_dict(self) -> dict[str, float | int]:
        return {
            "hazards": self.hazards,
            "estimated_m2": self.estimated_m2,
            "cancelled_m2": self.cancelled_m2,
            "reduced_m2": self.reduced_m2,
            "cleared_m2": self.cleared_m2,
            "remaining_m2": self.remaining_m2,
        }


def compute_ledger(
    hazard_ids: Sequence[str],
    hazard_geoms: Geometries,
    outcome_hazard_ids: Sequence[str | None],
    outcome_geoms: Geometries,
    outcome_kinds: Sequence[str],
    outcome_dates: Sequence[str | None],
    outcome_ids: Sequence[str],
    measure: Measure,
) -> Ledger:
    """The ledger of the given hazards from their outcomes (all geometries lon/lat, valid)."""
    n = len(hazard_ids)
    hazard_geoms = np.asarray(hazard_geoms, dtype=object)
    estimated = measure(hazard_geoms) if n else np.zeros(0)
    per_kind = {kind: np.zeros(n) for kind in KINDS}
    m = len(outcome_ids)
    released = np.zeros(m)

    index_of = {hid: i for i, hid in enumerate(hazard_ids)}
    hazard_of = np.array([index_of.get(h, -1) if h is not None else -1 for h in outcome_hazard_ids], dtype=np.int64)
    kind_rank = {kind.value: r for r, kind in enumerate(KINDS)}
    ranks = np.array([kind_rank.get(k, -1) for k in outcome_kinds], dtype=np.int64)
    linked = (hazard_of >= 0) & (ranks >= 0) & ~shapely.is_missing(np.asarray(outcome_geoms, dtype=object))
    unlinked = [int(i) for i in np.flatnonzero(~linked)]

    idx = np.flatnonzero(linked)
    if idx.size:
        geoms = np.asarray(outcome_geoms, dtype=object)
        shapely.prepare(hazard_geoms)
        pieces = np.full(m, None, dtype=object)
        pieces[idx] = _clip(geoms[idx], hazard_geoms[hazard_of[idx]])
        # Overlay is costly (tens of microseconds a call): only outcomes whose land really overlaps another
        # outcome of the same hazard go through the sequential subtraction; the rest are credited whole.
        overlapping = _overlapping(idx, pieces, hazard_of)
        plain = np.setdiff1d(idx, overlapping, assume_unique=True)
        released[plain] = measure(pieces[plain])
        if overlapping.size:
            released[overlapping] = _credit_in_order(
                overlapping, pieces, hazard_of, ranks, outcome_dates, outcome_ids, n, measure
            )
        for r, kind in enumerate(KINDS):
            sel = idx[ranks[idx] == r]
            np.add.at(per_kind[kind], hazard_of[sel], released[sel])

    cleared = per_kind[ReleaseKind.CLEARED]
    reduced = per_kind[ReleaseKind.REDUCED]
    cancelled = per_kind[ReleaseKind.CANCELLED]
    remaining = np.maximum(estimated - (cleared + reduced + cancelled), 0.0)
    return Ledger(list(hazard_ids), estimated, cancelled, reduced, cleared, remaining, released, unlinked)


def _overlapping(
    idx: npt.NDArray[np.int64], pieces: Geometries, hazard_of: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Outcomes (among ``idx``) whose interior meets another outcome's interior in the same hazard."""
    tree = shapely.STRtree(pieces[idx])
    a, b = tree.query(pieces[idx])  # pairs whose envelopes meet
    keep = (a < b) & (hazard_of[idx[a]] == hazard_of[idx[b]])
    a, b = idx[a[keep]], idx[b[keep]]
    if a.size == 0:
        return np.zeros(0, dtype=np.int64)
    # Touching bounding boxes (tiled lanes, adjacent parts) are not overlaps: interiors must meet.
    ba, bb = shapely.bounds(pieces[a]), shapely.bounds(pieces[b])
    strict = (ba[:, 0] < bb[:, 2]) & (bb[:, 0] < ba[:, 2]) & (ba[:, 1] < bb[:, 3]) & (bb[:, 1] < ba[:, 3])
    a, b = a[strict], b[strict]
    if a.size == 0:
        return np.zeros(0, dtype=np.int64)
    meets = _in_parallel(lambda x, y: shapely.relate_pattern(x, y, "T********"), pieces[a], pieces[b])
    return np.unique(np.r_[a[meets], b[meets]]).astype(np.int64)


def _credit_in_order(
    subset: npt.NDArray[np.int64],
    pieces: Geometries,
    hazard_of: npt.NDArray[np.int64],
    ranks: npt.NDArray[np.int64],
    dates: Sequence[str | None],
    ids: Sequence[str],
    n: int,
    measure: Measure,
) -> Floats:
    """Credit overlapping outcomes one at a time per hazard, each with the land not credited before it.

    Vectorised across hazards: round k takes every hazard's k-th outcome in precedence order.
    """
    keys_date = np.array([dates[i] or "9999-99-99" for i in subset])
    keys_id = creation_ranks([ids[i] for i in subset])  # creation order, not text order
    order = np.lexsort((keys_id, keys_date, ranks[subset], hazard_of[subset]))
    ordered = subset[order]
    hz = hazard_of[ordered]
    starts = np.r_[0, np.flatnonzero(np.diff(hz)) + 1]
    level = np.arange(hz.size) - np.repeat(starts, np.diff(np.r_[starts, hz.size]))
    credit = np.zeros(ordered.size)
    taken = np.full(n, None, dtype=object)  # land already credited, per hazard
    for k in range(int(level.max()) + 1):
        sel = np.flatnonzero(level == k)
        at, h = ordered[sel], hz[sel]
        piece = pieces[at].copy()
        before = ~shapely.is_missing(taken[h])
        if before.any():
            piece[before] = _in_parallel(shapely.difference, piece[before], taken[h[before]])
        credit[sel] = measure(piece)
        # Only hazards with a later outcome need the land taken so far.
        more = np.isin(h, hz[level == k + 1])
        taken[h[~before & more]] = piece[~before & more]
        grow = before & more
        if grow.any():
            taken[h[grow]] = _in_parallel(shapely.union, taken[h[grow]], piece[grow])
    out = np.zeros(subset.size)
    out[order] = credit
    return out


def _clip(outcomes: Geometries, hazards: Geometries) -> Geometries:
    """Each outcome clipped to its hazard, skipping the overlay where the hazard already covers it."""
    covered = _in_parallel(shapely.covers, hazards, outcomes)
    out = np.array(outcomes, dtype=object, copy=True)
    if (~covered).any():
        out[~covered] = _in_parallel(shapely.intersection, outcomes[~covered], hazards[~covered])
    return out


#: Below this many pairs, threads cost more than they save.
PARALLEL_MIN = 20_000


def _in_parallel(
    op: Callable[[Geometries, Geometries], npt.NDArray[Any]], a: Geometries, b: Geometries
) -> npt.NDArray[Any]:
    """``op(a, b)`` on chunks in threads: GEOS releases the GIL, so overlay work uses every core."""
    workers = os.cpu_count() or 1
    if workers == 1 or len(a) < PARALLEL_MIN:
        return op(a, b)
    bounds = np.linspace(0, len(a), workers + 1).astype(int)
    with ThreadPoolExecutor(workers) as pool:
        parts = list(pool.map(lambda i: op(a[bounds[i] : bounds[i + 1]], b[bounds[i] : bounds[i + 1]]), range(workers)))
    return np.concatenate(parts)
