"""50 concurrent editors on overlapping hazards, through the HTTP API on loopback, on either store.

Each editor (a thread with its own keep-alive connection, signed in as a reviewer) loops for a fixed time:
read a hazard picked at random from a small shared set (``GET /api/hazards/{id}``: its version is the ETag),
then edit it with ``PATCH`` and ``If-Match: <version>``. Most edits rename the hazard; one in four also
moves its boundary (grown or shrunk by a few metres around its outcomes), which changes the ledger. A stale
version gets 409: the editor reads the record again and re-applies the same edit on the new version, up to
``MAX_RETRIES`` times (a real editor would look first; the point here is that nothing is overwritten
blindly).

Afterwards (``verify``): every 200 is in the record's history at the version the PATCH returned, with the
editor's value; each hazard's versions run 1..n with no gap and n == its first version + its successful
edits (so no write was lost and none was invented); the stored ledger is either marked stale or equal to a
fresh computation from the polygons; the land release report's identity holds (estimated = cancelled +
reduced + cleared + remaining) and its figures equal the fresh computation.

Baseline, in the same run (after): the same editors, each on a hazard of its own (no overlap, so no conflict),
which is what the store's writes cost without contention.

Usage: python -m benchmarks.bench_editors [--db gpkg|postgresql] [--hazards 1000] [--hot 20]
       [--editors 50] [--seconds 30] [--admin-url URL]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import shapely

from landrelease.accounts import open_accounts
from landrelease.accounts.users import create_user
from landrelease.actions.release import refresh_ledger
from landrelease.analysis.ledger import ledger_of
from landrelease.domain.ledger import Ledger
from landrelease.domain.records import Change, NewFeature
from landrelease.domain.roles import Role
from landrelease.store import Store, open_store

MAX_RETRIES = 200
FIGURES = ("estimated_m2", "cancelled_m2", "reduced_m2", "cleared_m2", "remaining_m2")
SETUP = Change("bench setup", "synthetic programme")
#: Degrees a moved boundary is grown or shrunk by (about 10 m at these latitudes).
NUDGE = 0.0001


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def programme(store: Store, hazards: int, seed: int = 3) -> list[str]:
    """Square hazards across eastern Ukraine, each with a cancelled, a reduced and a cleared strip inside its
    inner half (so a boundary nudged by ``NUDGE`` still holds them); the stored ledger made current."""
    rng = np.random.default_rng(seed)
    lon = rng.uniform(35.0, 38.0, hazards)
    lat = rng.uniform(47.5, 50.0, hazards)
    side = rng.uniform(0.004, 0.02, hazards)
    squares = shapely.box(lon, lat, lon + side, lat + side)
    ids = store.add(
        "hazards",
        [
            NewFeature({"hazard_class": "CHA", "status": "active", "name": f"field {i}"}, g)
            for i, g in enumerate(squares)
        ],
        SETUP,
    )
    outcomes = []
    for hazard, x, y, s in zip(ids, lon, lat, side, strict=True):
        for k, kind in enumerate(("cancelled", "reduced", "cleared")):
            strip = shapely.box(x + s * (0.25 + k * 0.15), y + s * 0.25, x + s * (0.35 + k * 0.15), y + s * 0.75)
            outcomes.append(NewFeature({"hazard_id": hazard, "kind": kind, "release_date": "2025-06-01"}, strip))
    store.add("outcomes", outcomes, SETUP)
    refresh_ledger(store)
    return ids


def editor_tokens(location: str, count: int) -> list[str]:
    """``count`` reviewers (who may edit records directly) and their API tokens (no passwords: hashing one
    takes a memory-hard KDF's time, and the editors sign in with their tokens)."""
    accounts = open_accounts(location)
    try:
        return [create_user(accounts, f"editor{i}", Role.REVIEWER)[1] for i in range(count)]
    finally:
        accounts.close()


@contextmanager
def served(location: str) -> Iterator[str]:
    """``landrelease serve`` on a loopback port in a process of its own (so the editors' threads do not share
    its interpreter lock), yields its base URL once ``/health`` answers; stopped with Ctrl-C (SIGINT)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "landrelease", "--db", location, "serve", "--port", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    output.seek(0)
                    raise RuntimeError(f"the server did not start: {output.read()[-2000:].decode(errors='replace')}")
                time.sleep(0.1)
            yield base
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def warm(base: str, token: str, hazards: list[str]) -> None:
    """Read each hazard once, outside any timing: the first API request of a process loads its modules."""
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
        for hazard in hazards:
            client.get(f"/api/hazards/{hazard}").raise_for_status()


@dataclass
class Tally:
    """What the editors did; list appends are atomic under the GIL, counters go under the lock."""

    written: list[tuple[str, int, str]] = field(default_factory=list)  # (hazard, version, name)
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"read": [], "edit": []})
    errors: list[str] = field(default_factory=list)
    conflicts: int = 0
    gave_up: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def moved(geometry: dict[str, Any], grow: bool) -> dict[str, Any]:
    """A hazard's boundary grown or shrunk by ``NUDGE`` (its outcomes stay inside)."""
    shape = shapely.geometry.shape(geometry)
    minx, miny, maxx, maxy = shape.bounds
    d = NUDGE if grow else -NUDGE
    mapped: dict[str, Any] = shapely.geometry.mapping(shapely.box(minx - d, miny - d, maxx + d, maxy + d))
    return mapped


def editor(
    base: str, token: str, number: int, hazards: list[str], until: float, tally: Tally, at_least: int = 0
) -> None:
    """Edit until ``until``, and until ``at_least`` edits went through (bounded by ``MAX_RETRIES`` each)."""
    rng = random.Random(number)
    edits = 0
    done = 0
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
        while time.monotonic() < until or done < at_least:
            hazard = hazards[rng.randrange(len(hazards))]
            edits += 1
            name = f"editor {number} edit {edits}"
            boundary = rng.random() < 0.25
            grow = rng.random() < 0.5
            for _attempt in range(MAX_RETRIES):
                start = time.perf_counter()
                seen = client.get(f"/api/hazards/{hazard}")
                tally.latencies["read"].append(time.perf_counter() - start)
                if seen.status_code != 200:
                    tally.errors.append(f"GET {hazard}: {seen.status_code} {seen.text[:200]}")
                    return
                body: dict[str, Any] = {"attributes": {"name": name}, "reason": f"bench edit by editor {number}"}
                if boundary:
                    body["geometry"] = moved(seen.json()["geometry"], grow)
                start = time.perf_counter()
                edited = client.patch(f"/api/hazards/{hazard}", json=body, headers={"If-Match": seen.headers["ETag"]})
                tally.latencies["edit"].append(time.perf_counter() - start)
                if edited.status_code == 200:
                    tally.written.append((hazard, int(edited.json()["version"]), name))
                    done += 1
                    break
                if edited.status_code != 409:
                    tally.errors.append(f"PATCH {hazard}: {edited.status_code} {edited.text[:200]}")
                    return
                with tally.lock:
                    tally.conflicts += 1
            else:
                with tally.lock:
                    tally.gave_up += 1


def run_editors(
    base: str, tokens: list[str], hazards: list[str], seconds: float, *, own: bool = False, at_least: int = 0
) -> Tally:
    """``len(tokens)`` editors for ``seconds`` (and until each made ``at_least`` edits), all on ``hazards``
    (or, with ``own``, each on its own one). Bounded: an editor still running 60 s after the end (plus 30 s
    an edit owed) is reported as stuck."""
    tally = Tally()
    until = time.monotonic() + seconds
    threads = [
        threading.Thread(
            target=editor,
            args=(base, token, i, [hazards[i % len(hazards)]] if own else hazards, until, tally, at_least),
            name=f"editor-{i}",
        )
        for i, token in enumerate(tokens)
    ]
    for thread in threads:
        thread.start()
    bound = until + 60 + 30 * at_least
    for thread in threads:
        thread.join(timeout=max(0.0, bound - time.monotonic()))
    stuck = [t.name for t in threads if t.is_alive()]
    if stuck:
        tally.errors.append(f"{len(stuck)} editors still waiting long after the end (deadlock?): {stuck[:5]}")
    return tally


def verify(store: Store, base: str, token: str, start_versions: dict[str, int], tally: Tally) -> dict[str, Any]:
    """The checks of the module docstring; returns what was found (empty lists when all is well)."""
    lost, gaps = [], []
    by_hazard: dict[str, list[tuple[int, str]]] = {h: [] for h in start_versions}
    for hazard, version, name in tally.written:
        by_hazard[hazard].append((version, name))
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
        for hazard, writes in by_hazard.items():
            history = client.get(f"/api/hazards/{hazard}/history").json()
            versions = [v["version"] for v in history]
            expected = start_versions[hazard] + len(writes)
            if versions != list(range(1, expected + 1)):
                gaps.append(f"{hazard}: versions {versions[:3]}..{versions[-3:]}, expected 1..{expected}")
            kept = {v["version"]: v["properties"].get("name") for v in history}
            lost += [f"{hazard} v{version} ({name})" for version, name in writes if kept.get(version) != name]
        state = store.ledger_state()
        fresh, _, _ = ledger_of(store)
        differing = _differing_figures(store, fresh)
        report = client.get("/api/reports/land-release").json()["totals"]
    # The report brings a stale stored ledger up to date: afterwards it must be current and exact.
    after = store.ledger_state()
    differing_after = _differing_figures(store, fresh)
    parts = sum(report[k] for k in ("cancelled_m2", "reduced_m2", "cleared_m2", "remaining_m2"))
    fresh_total = float(np.sum(fresh.estimated))
    return {
        "lost_writes": lost[:20],
        "history_gaps": gaps[:20],
        "stored_ledger_marked_current": state.current,
        "stored_figures_differing_from_fresh": differing,
        "after_report_ledger_current": after.current,
        "after_report_figures_differing_from_fresh": differing_after,
        "report_identity_m2": round(report["estimated_m2"] - parts, 6),
        "report_estimated_minus_fresh_m2": round(report["estimated_m2"] - fresh_total, 6),
    }


def _differing_figures(store: Store, fresh: Ledger) -> int:
    """How many hazards' stored ledger figures differ from ``fresh`` (computed from the polygons)."""
    ids, _, stored = store.columns("hazards", list(FIGURES), geometry=False)
    position = {hazard: i for i, hazard in enumerate(fresh.hazard_ids)}
    differing = 0
    for k, hazard in enumerate(ids):
        i = position[hazard]
        expected = [float(getattr(fresh, name.removesuffix("_m2"))[i]) for name in FIGURES]
        found = [stored[name][k] for name in FIGURES]
        if any(v is None for v in found) or not np.allclose(expected, [float(v) for v in found if v is not None]):
            differing += 1
    return differing


def passed(checks: dict[str, Any]) -> bool:
    """Nothing lost, no gap, the ledger consistent (stale figures only where the store says they are stale)."""
    return (
        not checks["lost_writes"]
        and not checks["history_gaps"]
        and (not checks["stored_ledger_marked_current"] or checks["stored_figures_differing_from_fresh"] == 0)
        and checks["after_report_ledger_current"]
        and checks["after_report_figures_differing_from_fresh"] == 0
        and abs(checks["report_identity_m2"]) < 1e-3
        and abs(checks["report_estimated_minus_fresh_m2"]) < 1e-3
    )


def percentiles(seconds: list[float]) -> dict[str, float | int]:
    if not seconds:
        return {"count": 0}
    ms = np.array(seconds) * 1000
    return {
        "count": len(seconds),
        "p50_ms": round(float(np.percentile(ms, 50)), 1),
        "p95_ms": round(float(np.percentile(ms, 95)), 1),
        "p99_ms": round(float(np.percentile(ms, 99)), 1),
    }


def summary(tally: Tally, seconds: float) -> dict[str, Any]:
    return {
        "writes": len(tally.written),
        "writes_per_s": round(len(tally.written) / seconds, 1),
        "conflicts_409": tally.conflicts,
        "gave_up": tally.gave_up,
        "errors": len(tally.errors),
        "error_samples": tally.errors[:5],
        "read": percentiles(tally.latencies["read"]),
        "edit": percentiles(tally.latencies["edit"]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("gpkg", "postgresql"), default="gpkg")
    parser.add_argument("--hazards", type=int, default=1000)
    parser.add_argument("--hot", type=int, default=20, help="hazards all editors share")
    parser.add_argument("--editors", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--baseline-seconds", type=float, default=10)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args, _ = parser.parse_known_args()  # run_all passes its arguments to every benchmark

    database = f"landrelease_bench_editors_{os.getpid()}"
    with tempfile.TemporaryDirectory() as folder:
        if args.db == "postgresql":
            import psycopg

            location = f"{args.admin_url.rpartition('/')[0]}/{database}"
            with psycopg.connect(args.admin_url, autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{database}"')
        else:
            location = str(Path(folder) / "editors.gpkg")
        try:
            with open_store(location, create=True) as store:
                ids = programme(store, args.hazards)
                tokens = editor_tokens(location, args.editors)
                with served(location) as base:
                    warm(base, tokens[0], ids[: args.hot + args.editors])
                    hot = ids[: args.hot]
                    start_versions = {h: store.get(h).version for h in hot}
                    started = time.perf_counter()
                    tally = run_editors(base, tokens, hot, args.seconds)
                    elapsed = time.perf_counter() - started
                    checks = verify(store, base, tokens[0], start_versions, tally)
                    # Baseline after (the server and the editors' connections warm): each editor on a hazard
                    # of its own, taken after the shared ones.
                    own = ids[args.hot : args.hot + args.editors]
                    floor = run_editors(base, tokens, own, args.baseline_seconds, own=True)
                    floor_checks = verify(store, base, tokens[0], dict.fromkeys(own, 1), floor)
        finally:
            if args.db == "postgresql":
                with psycopg.connect(args.admin_url, autocommit=True) as admin:
                    admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    result = {
        "benchmark": f"{args.editors} concurrent editors on {args.hot} shared hazards, {args.db}",
        "hazards": args.hazards,
        "seconds": round(elapsed, 1),
        **summary(tally, elapsed),
        "checks": checks,
        "baseline_own_hazard_each": {**summary(floor, args.baseline_seconds), "checks_pass": passed(floor_checks)},
    }
    print(json.dumps(result, indent=2))
    return 0 if passed(checks) and not tally.errors and not floor.errors else 1


if __name__ == "__main__":
    raise SystemExit(main())
