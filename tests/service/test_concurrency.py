"""Reviewers approving conflicting updates of one hazard at the same moment, through the app: only an
approval against the current version wins, every stale one is a 409 that leaves the report submitted, and
retried against the new version it goes through. The history has no gap and no approved value is lost."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.service.conftest import Programme

REVIEWERS = 10


def test_simultaneous_conflicting_approvals(programme: Programme) -> None:
    operator, reviewer = programme.client("operator"), programme.client("reviewer")
    hazard = programme.hazard_id
    start = reviewer.get(f"/api/hazards/{hazard}").json()["version"]
    reports = []
    for n in range(REVIEWERS):
        body = {"layer": "hazards", "attributes": {"name": f"field {n}"}, "target_id": hazard, "target_version": start}
        created = operator.post("/api/submissions", json=body)
        assert created.status_code == 201, created.text
        reports.append(created.json()["id"])

    barrier = threading.Barrier(REVIEWERS)

    def approve(report: str) -> list[int]:
        """Approve against the version the report was based on; on 409 read the diff and approve against
        the current version. Returns the status of every attempt."""
        client = programme.client("reviewer" if report < reports[REVIEWERS // 2] else "reviewer2")
        body: dict[str, Any] = {"reconcile": "existing", "target_id": hazard, "target_version": start}
        barrier.wait(timeout=30)
        statuses = []
        for _ in range(REVIEWERS + 1):
            response = client.post(f"/api/submissions/{report}/approve", json=body)
            statuses.append(response.status_code)
            if response.status_code != 409:
                break
            assert "version" in response.json()["error"]
            seen = client.get(f"/api/submissions/{report}").json()
            assert seen["status"] == "submitted" and seen["diff"]["stale"] is True
            body["target_version"] = seen["diff"]["current_version"]
        return statuses

    with ThreadPoolExecutor(REVIEWERS) as pool:
        outcomes = list(pool.map(approve, reports, timeout=120))

    first_tries = [statuses[0] for statuses in outcomes]
    # Everyone approved against the same version at once: exactly one could be current.
    assert first_tries.count(200) == 1 and first_tries.count(409) == REVIEWERS - 1
    assert all(statuses[-1] == 200 and set(statuses[:-1]) <= {409} for statuses in outcomes)

    history = reviewer.get(f"/api/hazards/{hazard}/history").json()
    versions = [v["version"] for v in history]
    assert versions == list(range(1, start + REVIEWERS + 1))
    by_version = {v["version"]: v for v in history}
    written = set()
    for report in reports:
        done = reviewer.get(f"/api/submissions/{report}").json()
        assert done["status"] == "approved" and done["record_id"] == hazard
        kept = by_version[done["record_version"]]
        assert kept["properties"]["name"] == done["attributes"]["name"]
        assert report in kept["reason"]
        written.add(done["record_version"])
    assert written == set(range(start + 1, start + REVIEWERS + 1))  # one version per approval, none lost
    assert reviewer.get(f"/api/hazards/{hazard}").json()["version"] == start + REVIEWERS
