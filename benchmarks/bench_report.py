"""Land release report over 100,000 hazards and 300,000 outcomes, against plain shapely baselines.

Builds the synthetic programme into a GeoPackage, then times, each in a fresh process (for its memory):
- the report as users run it: the stored ledger is current (kept so by every write), so it is read;
- the full recomputation from the polygons (``--recompute``; what runs after edits made outside landrelease);
- baseline 1: GDAL (pyogrio) reading the same two layers: the floor for any report that reads the polygons;
- baseline 2: a plain shapely loop doing the same per-hazard ledger on a sample, scaled up;
- every report (each grouping, with and without a period, and the treaty tables) in one fresh process,
  beside its floor in the same process: reading the columns the ``--by admin`` report reads, and nothing else.

``--db PATH`` keeps the benchmark database at PATH: built and timed in full when absent; when there, only
the reports and their floor are timed (the build takes minutes).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyogrio
import shapely
from pyproj import Geod

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import synthetic_programme, timed
from landrelease.actions.release import refresh_ledger
from landrelease.analysis.land_release import land_release_report
from landrelease.domain.records import Change, NewFeature
from landrelease.store import open_store

KINDS = ("cancelled", "reduced", "cleared")


def naive_ledger(hazards: np.ndarray, outcomes: np.ndarray, hid: np.ndarray) -> float:  # type: ignore[type-arg]
    """What a careful analyst would write with shapely and pyproj: union per hazard, Geod areas."""
    geod = Geod(ellps="WGS84")
    total = 0.0
    order = np.argsort(hid, kind="stable")
    bounds = np.searchsorted(hid[order], np.arange(len(hazards) + 1))
    for i, hazard in enumerate(hazards):
        mine = outcomes[order[bounds[i] : bounds[i + 1]]]
        released = shapely.intersection(shapely.union_all(mine), hazard)
        total += abs(geod.geometry_area_perimeter(released)[0]) if not released.is_empty else 0.0
    return total


REPORT_IN_PROCESS = """
import json, sys, time
from landrelease.analysis.land_release import land_release_report
from landrelease.store import open_store
store = open_store(sys.argv[1])
best = float("inf")
for _ in range(3):
    start = time.perf_counter()
    land_release_report(store, "admin", recompute=sys.argv[2] == "1")
    best = min(best, time.perf_counter() - start)
# VmHWM, not ru_maxrss: Linux carries the parent's high-water mark over fork into ru_maxrss.
rss = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM")) / 1024
print(json.dumps({"seconds": round(best, 3), "peak_rss_mb": round(rss)}))
"""


EVERY_REPORT_IN_PROCESS = """
import json, sys, time
from landrelease.analysis.land_release import land_release_report
from landrelease.analysis.periods import parse_period
from landrelease.analysis.programme import read_programme
from landrelease.analysis.treaty import treaty_columns, treaty_table
from landrelease.store import open_store
store = open_store(sys.argv[1])
out = {}
def floor():
    # The floor of a report from the stored ledger: the columns ``--by admin`` reads, read and nothing more.
    store.ledger_state()
    store.columns("hazards", ["estimated_m2", "cancelled_m2", "reduced_m2", "cleared_m2", "remaining_m2",
                              "admin_area"], geometry=False)
    store.columns("outcomes", ["hazard_id", "release_date", "kind", "released_m2"], geometry=False)
cpu = {}
def best(name, fn):
    # Wall time, and this process's CPU time: on a shared machine the CPU time is what load does not inflate.
    t, c = float("inf"), float("inf")
    for _ in range(2):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        t, c = min(t, time.perf_counter() - start), min(c, time.process_time() - start_cpu)
    out[name], cpu[name] = round(t, 3), round(c, 3)
best("read_columns_floor", floor)
for by in ("admin", "operator", "month", "quarter", "year", "donor"):
    best(f"by_{by}", lambda: land_release_report(store, by))
    best(f"by_{by}_period_2024", lambda: land_release_report(store, by, period=parse_period("2024")))
for table in ("article7", "article5", "ccw"):
    # Each as the command runs it: read what the table needs (geometry for Article 7's locations), build.
    best(table, lambda: treaty_table(read_programme(store, **treaty_columns(table)), table, 2024))
print(json.dumps({"wall": out, "cpu": cpu}))
"""


def every_report(path: Path) -> dict[str, dict[str, float]]:
    """Every grouping, with and without a period, and the treaty tables, in one fresh process: wall and
    CPU seconds of each."""
    out = subprocess.run(
        [sys.executable, "-c", EVERY_REPORT_IN_PROCESS, str(path)], check=True, capture_output=True, text=True
    ).stdout
    return dict(json.loads(out))


def in_fresh_process(path: Path, *, recompute: bool) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", REPORT_IN_PROCESS, str(path), "1" if recompute else "0"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return dict(json.loads(out))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hazards", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=5_000, help="hazards for the naive loop baseline")
    parser.add_argument("--db", type=Path, help="keep the benchmark database here (reused when it exists)")
    args = parser.parse_args()
    if args.db is not None and args.db.exists():
        stored = in_fresh_process(args.db, recompute=False)
        result = {"database": str(args.db), "report_stored_ledger_s": stored["seconds"]}
        reports = every_report(args.db)
        result |= {"every_report_s": reports["wall"], "every_report_cpu_s": reports["cpu"]}
        print(json.dumps(result, indent=2))
        return
    hazards, outcomes, hid, kind = synthetic_programme(args.hazards)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db if args.db is not None else Path(tmp) / "bench.gpkg"
        store = open_store(str(path), create=True)
        change = Change("benchmark", "synthetic programme")
        build_s, ids = timed(
            lambda: store.add(
                "hazards",
                [NewFeature({"hazard_class": "SHA", "status": "active", "synthetic": True}, g) for g in hazards],
                change,
            )
        )
        store.add(
            "outcomes",
            [
                NewFeature(
                    {
                        "hazard_id": ids[h],
                        "kind": KINDS[k],
                        # Release dates over 2022-2025, so period reports select a share of the outcomes.
                        "release_date": f"{2022 + n % 4}-{1 + n % 12:02d}-{1 + n % 28:02d}",
                        "synthetic": True,
                    },
                    g,
                )
                for n, (h, k, g) in enumerate(zip(hid.tolist(), kind.tolist(), outcomes, strict=True))
            ],
            change,
        )
        refresh_s, _ = timed(lambda: refresh_ledger(store))
        report = land_release_report(store, "admin")
        store.close()
        stored = in_fresh_process(path, recompute=False)
        recomputed = in_fresh_process(path, recompute=True)
        reports = every_report(path)
        gdal_s, _ = timed(
            lambda: (pyogrio.raw.read(path, layer="hazards"), pyogrio.raw.read(path, layer="outcomes")), repeat=3
        )
        sample = min(args.sample, args.hazards)
        mask = hid < sample
        naive_s, _ = timed(lambda: naive_ledger(hazards[:sample], outcomes[mask], hid[mask]))
        naive_scaled = naive_s * args.hazards / sample
    t = report.totals
    identity_gap = t.estimated_m2 - (t.cancelled_m2 + t.reduced_m2 + t.cleared_m2 + t.remaining_m2)
    result = {
        "hazards": args.hazards,
        "outcomes": len(outcomes),
        "report_stored_ledger_s": stored["seconds"],
        "report_stored_peak_rss_mb": stored["peak_rss_mb"],
        "report_recompute_s": recomputed["seconds"],
        "report_recompute_peak_rss_mb": recomputed["peak_rss_mb"],
        "refresh_ledger_s": round(refresh_s, 2),
        "gdal_read_both_layers_s": round(gdal_s, 3),
        "recompute_ratio_to_gdal_read": round(recomputed["seconds"] / gdal_s, 2),
        "naive_shapely_loop_s_scaled": round(naive_scaled, 1),
        "recompute_speedup_over_naive": round(naive_scaled / recomputed["seconds"], 1),
        "identity_gap_m2": identity_gap,
        "add_hazards_s": round(build_s, 2),
        "every_report_s": reports["wall"],
        "every_report_cpu_s": reports["cpu"],
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
