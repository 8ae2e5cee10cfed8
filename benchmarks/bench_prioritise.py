"""Prioritisation of 100,000 hazards against a plain shapely STRtree baseline over the same geometries.

Synthetic programme across Ukraine's extent (``common.synthetic_programme``'s hazards), with context
points (settlements, infrastructure, farmland), accidents and finds scattered over the same extent and
clustered near hazards. Times, in one run:
- the scoring core (``analysis.prioritisation.prioritise``) on arrays in memory;
- the command as users run it (``actions.prioritise.prioritise_store``: reading the GeoPackage, then scoring);
- baseline: the same spatial questions asked of shapely's STRtree directly in degrees (nearest settlement,
  nearest infrastructure within reach, accidents, finds and farmland within a radius), without projecting
  to metres, time-weighting or scoring: the floor for anything that answers them with GEOS.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import synthetic_programme, timed
from landrelease.actions.prioritise import prioritise_store
from landrelease.analysis.prioritisation import Context, Hazards, Records, prioritise
from landrelease.analysis.priority_weights import load_config
from landrelease.cli_priority import ranking_json
from landrelease.domain.records import Change, NewFeature
from landrelease.store import open_store

AS_OF = date(2026, 6, 1)
INFRASTRUCTURE = ("road", "school", "health_facility", "water_point", "bridge")


def scatter(rng: np.random.Generator, hazards: np.ndarray, n: int, near: float) -> np.ndarray:  # type: ignore[type-arg]
    """``n`` points: a share ``near`` within about 2 km of a random hazard, the rest anywhere in the extent."""
    centres = shapely.get_coordinates(shapely.centroid(hazards))
    k = int(n * near)
    around = centres[rng.integers(0, len(centres), k)] + rng.normal(0, 0.015, (k, 2))
    anywhere = rng.uniform([22.5, 45.0], [40.0, 52.0], (n - k, 2))
    return shapely.points(np.vstack((around, anywhere)))


def dates(rng: np.random.Generator, n: int) -> list[str | None]:
    days = rng.integers(0, 365 * 30, n)
    return [
        None if d % 10 == 0 else (date(1995, 1, 1).fromordinal(date(1995, 1, 1).toordinal() + int(d))).isoformat()
        for d in days
    ]


def baseline(
    hazards: np.ndarray,
    context: np.ndarray,
    kinds: np.ndarray,
    accidents: np.ndarray,  # type: ignore[type-arg]
    finds: np.ndarray,
) -> int:  # type: ignore[type-arg]
    """The spatial queries alone, in degrees (1 degree ~ 111 km: radii converted at the equator's rate)."""
    m = 1 / 111_000
    pairs = 0
    for wanted, reach in ((kinds == "settlement", 5000), (np.isin(kinds, INFRASTRUCTURE), 2000)):
        tree = shapely.STRtree(context[wanted])
        pairs += tree.query_nearest(hazards, max_distance=reach * m, all_matches=False).shape[1]
    for points, radius in ((accidents, 2000), (finds, 500), (context[kinds == "farmland"], 1000)):
        pairs += shapely.STRtree(points).query(hazards, predicate="dwithin", distance=radius * m).shape[1]
    return pairs


def cpu_seconds(fn: Callable[[], object]) -> float:
    """CPU time of one run of ``fn`` (this process only): steadier than wall time on a shared machine."""
    start = time.process_time()
    fn()
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hazards", type=int, default=100_000)
    args = parser.parse_args()
    n = args.hazards
    rng = np.random.default_rng(5)
    hazards, _, _, _ = synthetic_programme(n, outcomes_per_hazard=0)
    n_context = n // 2
    context = scatter(rng, hazards, n_context, near=0.5)
    kinds = rng.choice(
        np.array(["settlement", "settlement", "farmland", "forest", *INFRASTRUCTURE], dtype=object), n_context
    )
    accidents = scatter(rng, hazards, n // 5, near=0.7)
    finds = scatter(rng, hazards, 2 * n, near=0.9)
    accident_dates, find_dates = dates(rng, len(accidents)), dates(rng, len(finds))
    classes = rng.choice(np.array(["SHA", "CHA", "EOD"], dtype=object), n)
    remaining = rng.uniform(0, 600_000, n)
    statuses = np.where(rng.random(n) < 0.1, "closed", "active")
    config = load_config()

    def core() -> int:
        ranking = prioritise(
            Hazards([f"HZ-{i:06d}" for i in range(n)], hazards, [None] * n, list(classes), list(statuses), remaining),
            Context([f"CX-{i:06d}" for i in range(n_context)], context, list(kinds), [None] * n_context),
            Records(accidents, accident_dates, [None] * len(accidents)),
            Records(finds, find_dates, [None] * len(finds)),
            config,
            AS_OF,
        )
        return len(ranking)

    base_s, pairs = timed(lambda: baseline(hazards, context, kinds, accidents, finds), repeat=3)
    core_s, ranked = timed(core, repeat=3)
    base_cpu = cpu_seconds(lambda: baseline(hazards, context, kinds, accidents, finds))
    core_cpu = cpu_seconds(core)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.gpkg"
        store = open_store(str(path), create=True)
        change = Change("bench", "synthetic prioritisation programme")
        store.add(
            "hazards",
            [
                NewFeature({"hazard_class": c, "status": s}, g)
                for c, s, g in zip(classes, statuses, hazards, strict=True)
            ],
            change,
        )
        store.add("context", [NewFeature({"kind": k}, g) for k, g in zip(kinds, context, strict=True)], change)
        store.add(
            "accidents",
            [NewFeature({"accident_date": d}, g) for d, g in zip(accident_dates, accidents, strict=True)],
            change,
        )
        store.add("finds", [NewFeature({"found_date": d}, g) for d, g in zip(find_dates, finds, strict=True)], change)
        # the ledger figures as a refresh would write them (remaining as drawn above), marked current
        ids, _, _ = store.columns("hazards", [], geometry=False)
        figures = {i: {"remaining_m2": float(r), "estimated_m2": float(r)} for i, r in zip(ids, remaining, strict=True)}
        store.set_derived("hazards", figures, ledger_synced=store.ledger_state().changes)
        e2e_s, ranking = timed(lambda: prioritise_store(store, None, AS_OF), repeat=3)
        e2e_cpu = cpu_seconds(lambda: prioritise_store(store, None, AS_OF))
        json_s, _ = timed(lambda: ranking_json(ranking))
        store.close()
    print(
        json.dumps(
            {
                "hazards": n,
                "ranked": ranked,
                "context": n_context,
                "accidents": len(accidents),
                "finds": len(finds),
                "baseline_strtree_degrees_s": round(base_s, 3),
                "baseline_cpu_s": round(base_cpu, 3),
                "baseline_pairs": pairs,
                "prioritise_core_s": round(core_s, 3),
                "prioritise_core_cpu_s": round(core_cpu, 3),
                "prioritise_from_gpkg_s": round(e2e_s, 3),
                "prioritise_from_gpkg_cpu_s": round(e2e_cpu, 3),
                "json_of_the_whole_ranking_s": round(json_s, 3),
                "ratio_core_to_baseline_wall": round(core_s / base_s, 2),
                "ratio_core_to_baseline_cpu": round(core_cpu / base_cpu, 2),
                "top": ranking.top(1)[0].as_dict(1),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
