"""Reads from a streaming replica (``--read-db``): what read-your-writes costs, how far the replica lags, and a
whole-layer read from either server; baselines measured in the same run on the primary alone.

Builds a throwaway primary and a streaming replica on loopback ports with PostgreSQL's own tools (the test
suite's ``tests/store/pg_cluster.py``; as root they run as the postgres user) and removes them at the end.
Both servers share this machine, so the replica adds no capacity here: the figures are the overheads of
routing, not the gain of a second server. Prints one JSON object (``{"skipped": reason}`` without the tools).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.store import pg_cluster

from benchmarks.common import timed
from landrelease.domain.records import Change, NewFeature
from landrelease.store import Store, open_store
from landrelease.store.postgis.replication import ReplayPosition
from landrelease.store.routing import RoutedStore

CHANGE = Change("bench", "replica benchmark")


def hazards(count: int, seed: int) -> list[NewFeature]:
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(22, 40, count), rng.uniform(44, 52, count)
    boxes = shapely.box(x, y, x + 0.005, y + 0.004)
    return [NewFeature({"name": f"H{i}", "hazard_class": "SHA", "status": "active"}, g) for i, g in enumerate(boxes)]


def percentiles(seconds: list[float]) -> dict[str, float]:
    ms = np.array(seconds) * 1000
    return {"p50_ms": round(float(np.percentile(ms, 50)), 2), "p95_ms": round(float(np.percentile(ms, 95)), 2)}


def write_then_read(store: Store, rounds: int) -> list[float]:
    """Seconds for one hazard added and read back, ``rounds`` times (what a reviewer's approval does)."""
    spent = []
    for feature in hazards(rounds, seed=7):
        start = time.perf_counter()
        (new,) = store.add("hazards", [feature], CHANGE)
        store.get(new)
        spent.append(time.perf_counter() - start)
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hazards", type=int, default=50_000, help="hazards loaded before measuring")
    parser.add_argument("--rounds", type=int, default=300, help="write-then-read rounds and lag samples")
    args = parser.parse_args()
    reason = pg_cluster.missing_tools()
    if reason is not None:
        print(json.dumps({"skipped": reason}))
        return
    with pg_cluster.replicated_pair() as pair:
        primary = open_store(pair.primary, create=True)
        primary.add("hazards", hazards(args.hazards, seed=1), CHANGE)
        routed = open_store(pair.primary, read=pair.replica)
        assert isinstance(routed, RoutedStore) and isinstance(routed.freshness, ReplayPosition)
        freshness = routed.freshness

        # Replication lag: from a write's return to the replica having replayed it.
        lag = []
        for feature in hazards(args.rounds, seed=3):
            primary.add("hazards", [feature], CHANGE)
            position, start = freshness.primary_position(), time.perf_counter()
            if not freshness.wait_for(position, 10.0):
                raise SystemExit("the replica did not catch up within 10 s")
            lag.append(time.perf_counter() - start)

        baseline = write_then_read(primary, args.rounds)
        before = routed.reads
        routed_rounds = write_then_read(routed, args.rounds)
        after = routed.reads
        served = {where: after[where] - before[where] for where in after}

        names = ["name", "hazard_class", "status"]
        read_primary, _ = timed(lambda: primary.columns("hazards", names), repeat=3)
        read_replica, _ = timed(lambda: routed.columns("hazards", names), repeat=3)
        count = routed.count("hazards")
        routed.close()
        primary.close()
    print(
        json.dumps(
            {
                "hazards": count,
                "replay_lag_after_write": percentiles(lag),
                "write_then_read_primary_only": percentiles(baseline),
                "write_then_read_routed": percentiles(routed_rounds),
                "routed_reads_after_write": served,
                "columns_whole_layer_s": {"primary": round(read_primary, 3), "replica": round(read_replica, 3)},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
