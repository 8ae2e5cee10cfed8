"""Land release report over 100,000 hazards and 300,000 outcomes, against plain shapely baselines.

Builds the synthetic programme into a GeoPackage, then times:
- landrelease's report (read both layers, compute the ledger with overlaps, group by admin area);
- baseline 1: GDAL (pyogrio) reading the same two layers: the floor for any report that reads the file;
- baseline 2: a plain shapely loop doing the same per-hazard ledger on a sample, scaled up.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyogrio
import shapely
from pyproj import Geod

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import peak_rss_mb, synthetic_programme, timed
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hazards", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=5_000, help="hazards for the naive loop baseline")
    args = parser.parse_args()
    hazards, outcomes, hid, kind = synthetic_programme(args.hazards)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.gpkg"
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
                NewFeature({"hazard_id": ids[h], "kind": KINDS[k], "synthetic": True}, g)
                for h, k, g in zip(hid.tolist(), kind.tolist(), outcomes, strict=True)
            ],
            change,
        )
        report_s, report = timed(lambda: land_release_report(store, "admin"), repeat=3)
        store.close()
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
        "report_s": round(report_s, 3),
        "gdal_read_both_layers_s": round(gdal_s, 3),
        "ratio_to_gdal_read": round(report_s / gdal_s, 2),
        "naive_shapely_loop_s_scaled": round(naive_scaled, 1),
        "speedup_over_naive": round(naive_scaled / report_s, 1),
        "identity_gap_m2": identity_gap,
        "add_hazards_s": round(build_s, 2),
        "peak_rss_mb": round(peak_rss_mb()),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
