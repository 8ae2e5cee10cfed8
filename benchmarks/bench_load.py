"""The service under load, on loopback: the real app served by uvicorn in its own process over a demo
programme, 50 reading clients and 10 writing ones for a fixed time, then a check that no write was lost.

- readers (threads, one keep-alive httpx client each, signed in as viewers): vector tiles at zooms 8-14
  around the data, OGC API items pages (``limit=100``, a random offset or a bbox around a hazard) and
  ``/api/hazards`` pages, in equal shares;
- writers (threads, each an operator and a reviewer): an operator reports, a reviewer approves. A third
  of the reports are new hazards (reconciled as new); the rest update one of three "hot" hazards with the
  version the operator saw, so approvals conflict: a stale approval gets 409, the reviewer reads the
  report's diff again and approves against the current version (a retry), never overwriting blindly;
- baseline, in the same run before the load: the same 50 readers asking ``/health`` (no database work),
  the floor of this server, its HTTP stack and this client on this machine.

Afterwards, through the API: every approved report is approved and its value is in the record's history
at the version the approval returned (nothing lost), each hot hazard's versions run 1, 2, ... n with no
gap and one version per approval, and the national ledger identity holds.

Latencies are measured by the client (Python threads sharing the machine's 2 cores with the server), so
they include client-side queueing; the baseline carries the same overhead.

With ``--db postgresql`` the demo programme is migrated (``landrelease migrate``) into a new database on
the server of ``--admin-url`` (dropped afterwards) and served from there.

Usage: python -m benchmarks.bench_load [--db gpkg|postgresql] [--hazards 3000] [--seconds 30] [--readers 50]
       [--writers 10] [--admin-url URL]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import shapely

from landrelease.store import open_store

HOT = 3
OPERATOR_ORG = "Demo Demining Group"
MAX_RETRIES = 50


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


def landrelease(db: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "landrelease", "--db", db, *args],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    return done.stdout


def add_user(db: str, name: str, role: str, org: str | None = None) -> str:
    extra = ["--org", org] if org else []
    return landrelease(db, "user", "add", name, "--role", role, *extra).strip().splitlines()[-1]


@dataclass
class Log:
    """What every thread records; appends to lists are atomic under the GIL."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    conflicts: int = 0
    approved: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def timed(self, kind: str, client: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response:
        start = time.perf_counter()
        response = client.request(method, url, **kwargs)
        self.latencies[kind].append(time.perf_counter() - start)
        return response

    def error(self, kind: str, response: httpx.Response) -> None:
        self.errors.append(
            f"{kind} {response.request.method} {response.request.url.path}: {response.status_code} "
            f"{response.text[:200]}"
        )


def client(base: str, token: str) -> httpx.Client:
    """A keep-alive client signed in with ``token`` (made before a phase starts: making one costs ~30 ms)."""
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60)


def reader(client: httpx.Client, centres: np.ndarray, seed: int, until: float, log: Log, health: bool) -> None:
    rng = random.Random(seed)
    with client:
        while time.monotonic() < until:
            if health:
                response = log.timed("health", client, "GET", "/health")
                if response.status_code != 200:
                    log.error("health", response)
                continue
            kind = rng.choice(("tile", "ogc_items", "api_hazards"))
            lon, lat = centres[rng.randrange(len(centres))]
            if kind == "tile":
                z = rng.randint(8, 14)
                x, y = tile_of(lon, lat, z)
                response = log.timed(kind, client, "GET", f"/tiles/hazards/{z}/{x}/{y}.mvt")
            elif kind == "ogc_items":
                if rng.random() < 0.5:
                    box = f"{lon - 0.1:.5f},{lat - 0.1:.5f},{lon + 0.1:.5f},{lat + 0.1:.5f}"
                    params: dict[str, Any] = {"bbox": box, "limit": 100}
                else:
                    params = {"limit": 100, "offset": rng.randrange(0, len(centres))}
                response = log.timed(kind, client, "GET", "/ogc/collections/hazards/items", params=params)
            else:
                params = {"limit": 100, "offset": rng.randrange(0, len(centres))}
                response = log.timed(kind, client, "GET", "/api/hazards", params=params)
            if not 200 <= response.status_code < 300:
                log.error(kind, response)


def writer(
    op: httpx.Client,
    rv: httpx.Client,
    hot: list[str],
    centres: np.ndarray,
    number: int,
    until: float,
    log: Log,
) -> None:
    rng = random.Random(1000 + number)
    count = 0
    with op, rv:
        while time.monotonic() < until:
            count += 1
            tag = f"load w{number} #{count}"
            if rng.random() < 1 / 3:
                lon, lat = centres[rng.randrange(len(centres))]
                lon += rng.uniform(-0.05, 0.05)
                lat += rng.uniform(-0.05, 0.05)
                square = shapely.geometry.mapping(shapely.box(lon, lat, lon + 0.002, lat + 0.002))
                body: dict[str, Any] = {
                    "layer": "hazards",
                    "attributes": {"hazard_class": "SHA", "name": tag},
                    "geometry": square,
                }
                target = None
            else:
                target = hot[rng.randrange(len(hot))]
                seen = log.timed("read_record", op, "GET", f"/api/hazards/{target}")
                if seen.status_code != 200:
                    log.error("read_record", seen)
                    continue
                version = seen.json()["version"]
                body = {"layer": "hazards", "attributes": {"name": tag}, "target_id": target, "target_version": version}
            submitted = log.timed("submit", op, "POST", "/api/submissions", json=body)
            if submitted.status_code != 201:
                log.error("submit", submitted)
                continue
            report = submitted.json()["id"]
            if target is None:
                decision: dict[str, Any] = {"reconcile": "new", "reason": "load test"}
            else:
                decision = {"reconcile": "existing", "target_id": target, "target_version": version}
            for _attempt in range(MAX_RETRIES):
                approved = log.timed("approve", rv, "POST", f"/api/submissions/{report}/approve", json=decision)
                if approved.status_code != 409:
                    break
                with log.lock:
                    log.conflicts += 1
                # Stale: the reviewer reads the report's diff against the record as it is now, then approves.
                again = log.timed("read_diff", rv, "GET", f"/api/submissions/{report}")
                if again.status_code != 200:
                    log.error("read_diff", again)
                    break
                decision = {**decision, "target_version": again.json()["diff"]["current_version"]}
            if approved.status_code != 200:
                log.error("approve", approved)
                continue
            done = approved.json()
            log.approved.append(
                {
                    "report": report,
                    "record": done["record_id"],
                    "version": done["record_version"],
                    "name": tag,
                    "target": target,
                }
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


def verify(base: str, token: str, hot: list[str], start_versions: dict[str, int], log: Log) -> dict[str, Any]:
    """Nothing lost: each approval is in the store at its version; hot hazards' histories have no gaps."""
    lost: list[str] = []
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
        histories: dict[str, list[dict[str, Any]]] = {}
        for entry in log.approved:
            record = entry["record"]
            if record not in histories:
                histories[record] = client.get(f"/api/hazards/{record}/history").json()
            versions = {v["version"]: v for v in histories[record]}
            kept = versions.get(entry["version"])
            if kept is None or kept["properties"].get("name") != entry["name"] or entry["report"] not in kept["reason"]:
                lost.append(f"{entry['report']} -> {record} v{entry['version']}")
            status = client.get(f"/api/submissions/{entry['report']}").json()["status"]
            if status != "approved":
                lost.append(f"{entry['report']} is {status}")
        gaps = []
        for record in hot:
            numbers = [v["version"] for v in client.get(f"/api/hazards/{record}/history").json()]
            approvals = sum(1 for e in log.approved if e["target"] == record)
            if numbers != list(range(1, len(numbers) + 1)) or len(numbers) != start_versions[record] + approvals:
                gaps.append(f"{record}: versions {numbers[:5]}...{numbers[-5:]}, {approvals} approvals")
        totals = client.get("/api/reports/land-release").json()["totals"]
    parts = sum(totals[k] for k in ("cancelled_m2", "reduced_m2", "cleared_m2", "remaining_m2"))
    return {
        "approved_checked": len(log.approved),
        "lost_writes": lost[:20],
        "history_gaps": gaps,
        "ledger_totals": {k: round(v, 1) if isinstance(v, float) else v for k, v in totals.items()},
        "ledger_identity_m2": round(totals["estimated_m2"] - parts, 3),
    }


def run_phase(threads: list[threading.Thread]) -> float:
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hazards", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--baseline-seconds", type=float, default=10)
    parser.add_argument("--readers", type=int, default=50)
    parser.add_argument("--writers", type=int, default=10)
    parser.add_argument("--db", choices=("gpkg", "postgresql"), default="gpkg")
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args, _ = parser.parse_known_args()

    database = f"landrelease_bench_load_{os.getpid()}"
    if args.db == "postgresql":
        import psycopg

        with psycopg.connect(args.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{database}"')
    try:
        return run(args, f"{args.admin_url.rpartition('/')[0]}/{database}" if args.db == "postgresql" else None)
    finally:
        if args.db == "postgresql":
            with psycopg.connect(args.admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def run(args: argparse.Namespace, url: str | None) -> int:
    """The benchmark on a GeoPackage, or on the PostGIS database at ``url`` (the same demo migrated there)."""
    with tempfile.TemporaryDirectory() as folder:
        db = str(Path(folder) / "load.gpkg")
        build_start = time.perf_counter()
        landrelease(db, "demo", "--no-serve", "--hazards", str(args.hazards))
        if url is not None:
            landrelease(db, "migrate", "--from", db, "--to", url)
            db = url
        build_s = time.perf_counter() - build_start
        viewer = add_user(db, "load-viewer", "viewer")
        admin = add_user(db, "load-admin", "admin")
        operators = [add_user(db, f"load-op{i}", "operator", OPERATOR_ORG) for i in range(args.writers)]
        reviewers = [add_user(db, f"load-rv{i}", "reviewer") for i in range(args.writers)]
        with open_store(db) as store:
            ids, geometries, _ = store.columns("hazards", [], geometry=True)
            hot = [str(i) for i in ids[:HOT]]
            start_versions = {h: store.get(h).version for h in hot}
        centres = shapely.get_coordinates(shapely.centroid(np.asarray(geometries)))

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server_log = Path(folder) / "server.log"
        with server_log.open("wb") as output:
            server = subprocess.Popen(
                [sys.executable, "-m", "landrelease", "--db", db, "serve", "--port", str(port)],
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
                    raise SystemExit(f"the server did not start: {server_log.read_text()[-2000:]}")
                time.sleep(0.2)
            # Warm the per-process layer index (built by the first tile or bbox query) outside the timings.
            httpx.get(f"{base}/tiles/hazards/8/150/85.mvt", headers={"Authorization": f"Bearer {viewer}"}, timeout=60)

            floor = Log()
            clients = [client(base, viewer) for _ in range(args.readers)]
            until = time.monotonic() + args.baseline_seconds
            floor_s = run_phase(
                [
                    threading.Thread(target=reader, args=(clients[i], centres, i, until, floor, True))
                    for i in range(args.readers)
                ]
            )

            log = Log()
            clients = [client(base, viewer) for _ in range(args.readers)]
            pairs = [(client(base, operators[i]), client(base, reviewers[i])) for i in range(args.writers)]
            until = time.monotonic() + args.seconds
            threads = [
                threading.Thread(target=reader, args=(clients[i], centres, i, until, log, False))
                for i in range(args.readers)
            ]
            threads += [
                threading.Thread(target=writer, args=(*pairs[i], hot, centres, i, until, log))
                for i in range(args.writers)
            ]
            load_s = run_phase(threads)
            checks = verify(base, admin, hot, start_versions, log)
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        text = server_log.read_text(errors="replace")

    requests = sum(len(v) for v in log.latencies.values())
    result = {
        "db": args.db,
        "hazards": args.hazards,
        "demo_build_s": round(build_s, 1),
        "readers": args.readers,
        "writers": args.writers,
        "seconds": round(load_s, 1),
        "requests": requests,
        "requests_per_s": round(requests / load_s, 1),
        "errors": len(log.errors),
        "error_samples": log.errors[:10],
        "expected_409s": log.conflicts,
        "writes_approved": len(log.approved),
        "updates_approved": sum(1 for e in log.approved if e["target"] is not None),
        "latency": {kind: percentiles(values) for kind, values in sorted(log.latencies.items())},
        "baseline_health": {
            "seconds": round(floor_s, 1),
            "requests_per_s": round(len(floor.latencies["health"]) / floor_s, 1),
            "errors": len(floor.errors),
            **percentiles(floor.latencies["health"]),
        },
        "checks": checks,
        "server_tracebacks": text.count("Traceback"),
        "server_exit_code": server.returncode,
    }
    print(json.dumps(result, indent=2))
    ok = (
        not log.errors
        and not floor.errors
        and not checks["lost_writes"]
        and not checks["history_gaps"]
        and abs(checks["ledger_identity_m2"]) < 1.0
        and result["server_tracebacks"] == 0
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
