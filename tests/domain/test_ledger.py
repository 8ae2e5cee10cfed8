"""The land release ledger's identities, on random polygons (hypothesis) and on hand-made cases."""

from __future__ import annotations

import math

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from landrelease.domain.ledger import compute_ledger
from landrelease.geo.area import geodesic_area

KINDS = ("cancelled", "reduced", "cleared")


def _ledger(hazards, outcomes):  # type: ignore[no-untyped-def]
    """hazards: list of geometries; outcomes: list of (hazard index, geometry, kind, date)."""
    hids = [f"HZ-{i:06d}" for i in range(len(hazards))]
    return compute_ledger(
        hids,
        np.array(hazards, dtype=object),
        [hids[h] for h, *_ in outcomes],
        np.array([g for _, g, *_ in outcomes], dtype=object),
        [k for _, _, k, _ in outcomes],
        [d for *_, d in outcomes],
        [f"OC-{i:06d}" for i in range(len(outcomes))],
        geodesic_area,
    )


def _area(g) -> float:  # type: ignore[no-untyped-def]
    return float(geodesic_area(np.array([g], dtype=object))[0])


def _close(a: float, b: float, scale: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9 * max(scale, 1.0))


@st.composite
def programme(draw):  # type: ignore[no-untyped-def]
    """A few hazards somewhere on Earth (not at the poles) with random, overlapping outcomes."""
    n = draw(st.integers(1, 4))
    hazards, outcomes = [], []
    for h in range(n):
        # Survey coordinates have ~1e-6 degree precision (10 cm); subnormal floats are not coordinates.
        lon = round(draw(st.floats(-179.0, 179.0)), 6)
        lat = round(draw(st.floats(-70.0, 70.0)), 6)
        w = draw(st.floats(0.0005, 0.05))
        hgt = draw(st.floats(0.0005, 0.05))
        shape = draw(st.sampled_from(["box", "disc", "holed"]))
        hazard = shapely.box(lon, lat, lon + w, lat + hgt)
        if shape == "disc":
            hazard = shapely.Point(lon + w / 2, lat + hgt / 2).buffer(min(w, hgt) / 2, quad_segs=6)
        elif shape == "holed":
            hazard = hazard.difference(shapely.box(lon + w / 3, lat + hgt / 3, lon + w / 2, lat + hgt / 2))
        hazards.append(hazard)
        for _ in range(draw(st.integers(0, 6))):
            fx0, fy0 = draw(st.floats(-0.2, 1.0)), draw(st.floats(-0.2, 1.0))
            fw, fh = draw(st.floats(0.05, 0.8)), draw(st.floats(0.05, 0.8))
            x0, y0 = round(lon + fx0 * w, 7), round(lat + fy0 * hgt, 7)
            g = shapely.box(x0, y0, round(x0 + fw * w, 7), round(y0 + fh * hgt, 7))
            kind = draw(st.sampled_from(KINDS))
            day = draw(st.one_of(st.none(), st.dates().map(lambda d: d.isoformat())))
            outcomes.append((h, g, kind, day))
    return hazards, outcomes


@settings(max_examples=150, deadline=None)
@given(programme())
def test_identity_holds_and_nothing_counts_twice(prog) -> None:  # type: ignore[no-untyped-def]
    hazards, outcomes = prog
    ledger = _ledger(hazards, outcomes)
    for i, hazard in enumerate(hazards):
        e = ledger.entry(i)
        total = e.cancelled_m2 + e.reduced_m2 + e.cleared_m2 + e.remaining_m2
        assert _close(e.estimated_m2, total, e.estimated_m2)
        assert e.remaining_m2 >= 0
        assert min(e.cancelled_m2, e.reduced_m2, e.cleared_m2) >= 0
        mine = [g for h, g, _, _ in outcomes if h == i]
        released_geom = shapely.intersection(shapely.union_all(mine), hazard) if mine else shapely.Polygon()
        # Released land is the union of the outcomes within the hazard: overlaps count once.
        assert _close(e.cancelled_m2 + e.reduced_m2 + e.cleared_m2, _area(released_geom), e.estimated_m2)
        assert _close(e.remaining_m2, _area(shapely.difference(hazard, released_geom)), e.estimated_m2)
    totals = ledger.totals()
    assert _close(
        totals.estimated_m2,
        totals.cancelled_m2 + totals.reduced_m2 + totals.cleared_m2 + totals.remaining_m2,
        totals.estimated_m2,
    )
    # Each outcome's credit adds up to its hazard's figures: every figure traces to its records.
    assert _close(
        float(ledger.released.sum()),
        totals.cancelled_m2 + totals.reduced_m2 + totals.cleared_m2,
        totals.estimated_m2,
    )


@settings(max_examples=60, deadline=None)
@given(programme(), st.randoms(use_true_random=False))
def test_figures_do_not_depend_on_record_order(prog, rnd) -> None:  # type: ignore[no-untyped-def]
    hazards, outcomes = prog
    shuffled = list(outcomes)
    rnd.shuffle(shuffled)
    a, b = _ledger(hazards, outcomes), _ledger(hazards, shuffled)
    for i in range(len(hazards)):
        ea, eb = a.entry(i), b.entry(i)
        for name in ("cancelled_m2", "reduced_m2", "cleared_m2", "remaining_m2"):
            assert _close(getattr(ea, name), getattr(eb, name), ea.estimated_m2)


@settings(max_examples=60, deadline=None)
@given(programme())
def test_national_totals_are_the_sum_of_groups(prog) -> None:  # type: ignore[no-untyped-def]
    hazards, outcomes = prog
    ledger = _ledger(hazards, outcomes)
    groups = np.arange(len(hazards)) % 2
    parts = [ledger.totals(groups == g) for g in (0, 1)]
    total = ledger.totals()
    assert parts[0].hazards + parts[1].hazards == total.hazards
    for name in ("estimated_m2", "cancelled_m2", "reduced_m2", "cleared_m2", "remaining_m2"):
        assert math.isclose(
            getattr(parts[0], name) + getattr(parts[1], name),
            getattr(total, name),
            rel_tol=1e-12,
            abs_tol=1e-9,
        )


def test_cleared_takes_precedence_over_cancelled_where_they_overlap() -> None:
    hazard = shapely.box(30.0, 50.0, 30.01, 50.01)
    left = shapely.box(30.0, 50.0, 30.006, 50.01)
    right = shapely.box(30.004, 50.0, 30.01, 50.01)
    ledger = _ledger([hazard], [(0, left, "cancelled", "2020-01-01"), (0, right, "cleared", "2023-01-01")])
    e = ledger.entry(0)
    assert math.isclose(e.cleared_m2, _area(right), rel_tol=1e-9)
    assert math.isclose(e.cancelled_m2, _area(shapely.difference(left, right)), rel_tol=1e-7)
    assert e.remaining_m2 < 1e-3


def test_earlier_release_of_the_same_kind_is_credited_first() -> None:
    hazard = shapely.box(30.0, 50.0, 30.01, 50.01)
    first = shapely.box(30.0, 50.0, 30.006, 50.01)
    second = shapely.box(30.004, 50.0, 30.01, 50.01)
    ledger = _ledger([hazard], [(0, second, "cleared", "2024-05-01"), (0, first, "cleared", "2023-01-01")])
    assert math.isclose(ledger.released[1], _area(first), rel_tol=1e-9)
    assert math.isclose(ledger.released[0], _area(shapely.difference(second, first)), rel_tol=1e-7)


def test_outcome_outside_its_hazard_is_clipped_and_unknown_hazards_are_reported() -> None:
    hazard = shapely.box(30.0, 50.0, 30.01, 50.01)
    spill = shapely.box(30.005, 50.0, 30.02, 50.01)
    ids = ["HZ-000001"]
    ledger = compute_ledger(
        ids,
        np.array([hazard], dtype=object),
        ["HZ-000001", "HZ-999999", None],
        np.array([spill, spill, spill], dtype=object),
        ["cleared", "cleared", "reduced"],
        [None, None, None],
        ["OC-1", "OC-2", "OC-3"],
        geodesic_area,
    )
    assert math.isclose(ledger.cleared[0], _area(shapely.box(30.005, 50.0, 30.01, 50.01)), rel_tol=1e-7)
    assert ledger.unlinked == [1, 2]
    assert ledger.released[1] == 0 and ledger.released[2] == 0


def test_empty_programme() -> None:
    ledger = _ledger([], [])
    assert len(ledger) == 0
    assert ledger.totals().estimated_m2 == 0.0
