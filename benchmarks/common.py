"""Shared helpers for benchmarks: timing, peak memory, synthetic national data."""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from typing import TypeVar

import numpy as np
import shapely

T = TypeVar("T")


def timed(fn: Callable[[], T], repeat: int = 1) -> tuple[float, T]:
    """Best wall time of ``repeat`` runs (seconds) and the last result."""
    best = float("inf")
    result: T
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def peak_rss_mb() -> float:
    """Peak resident memory of this process (VmHWM; ru_maxrss would include a forking parent's)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def synthetic_programme(
    n_hazards: int, outcomes_per_hazard: int = 3, overlap_share: float = 0.05, seed: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # type: ignore[type-arg]
    """Hazards as irregular 8-12 vertex polygons across Ukraine's extent; each split into strips released
    as cancelled, reduced and cleared, part of it remaining, and a share of outcomes overlapping their
    neighbour (re-surveyed land), as in real data.

    Returns (hazard polygons, outcome polygons, outcome hazard index, outcome kind index 0..2).
    """
    rng = np.random.default_rng(seed)
    centres = rng.uniform([22.5, 45.0], [40.0, 52.0], size=(n_hazards, 2))
    radius = rng.uniform(0.001, 0.006, size=n_hazards)
    k = 10
    angles = np.sort(rng.uniform(0, 2 * np.pi, (n_hazards, k)), axis=1)
    r = radius[:, None] * rng.uniform(0.7, 1.2, (n_hazards, k))
    xs = centres[:, 0:1] + r * np.cos(angles) / np.cos(np.radians(centres[:, 1:2]))
    ys = centres[:, 1:2] + r * np.sin(angles)
    rings = np.stack((xs, ys), axis=2)
    hazards = shapely.polygons(rings)
    hazards = shapely.make_valid(hazards)
    m = outcomes_per_hazard
    hid = np.repeat(np.arange(n_hazards), m)
    kind = np.tile(np.arange(m) % 3, n_hazards)
    b = shapely.bounds(hazards)[hid]
    width = b[:, 2] - b[:, 0]
    start = b[:, 0] + width * (np.tile(np.arange(m), n_hazards) * 0.8 / m)
    stop = start + width * 0.8 / m
    overlap = rng.random(hid.size) < overlap_share
    start = np.where(overlap, start - width * 0.1, start)
    strips = shapely.box(start, b[:, 1], stop, b[:, 3])
    outcomes = shapely.intersection(strips, hazards[hid])
    return hazards, outcomes, hid, kind
