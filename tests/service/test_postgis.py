"""The service over PostGIS, end to end: sign in over HTTP, read, submit, approve, see the record, with the
accounts and submissions in the same PostgreSQL schema as the national record; and ``serve`` on a URL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from landrelease.accounts import open_accounts
from landrelease.accounts.users import create_user
from landrelease.domain.roles import Role
from landrelease.store import open_store
from tests.conftest import PostGISDatabase
from tests.service.conftest import PASSWORD, Programme
from tests.service.test_roles import new_hazard_report
from tests.service.test_serve import free_port

if TYPE_CHECKING:
    from fastapi.testclient import TestClient


def signed_in(programme: Programme, name: str) -> TestClient:
    """A client holding a session cookie from ``POST /api/login`` (a password, not a token)."""
    client = programme.client("anonymous")
    response = client.post("/api/login", data={"name": name, "password": PASSWORD})
    assert response.status_code == 200, response.text
    assert response.json()["name"] == name
    return client


def test_sign_in_read_submit_approve_and_see_the_record(postgis_programme: Programme) -> None:
    programme = postgis_programme
    assert programme.db.startswith("postgresql://")
    operator = programme.client("anonymous")
    assert operator.get("/api/hazards").status_code == 401
    assert operator.post("/api/login", data={"name": "operator", "password": "wrong password"}).status_code == 401
    operator = signed_in(programme, "operator")
    reviewer = signed_in(programme, "reviewer")
    assert operator.get("/api/me").json()["role"] == "operator"

    before = programme.client("viewer").get("/api/reports/land-release").json()["totals"]["estimated_m2"]
    hazards = operator.get("/api/hazards").json()
    assert [f["id"] for f in hazards["features"]] == [programme.hazard_id] and hazards["number_matched"] == 1

    created = operator.post("/api/submissions", json=new_hazard_report())
    assert created.status_code == 201, created.text
    sid = created.json()["id"]
    assert sid == "SB-000001" and created.json()["status"] == "submitted"
    assert programme.client("viewer").get("/api/hazards").json()["number_matched"] == 1  # not yet national
    queue = reviewer.get("/api/submissions", params={"status": "submitted"}).json()
    assert [s["id"] for s in queue["submissions"]] == [sid]
    assert programme.client("operator_b").get(f"/api/submissions/{sid}").status_code == 404

    approved = reviewer.post(f"/api/submissions/{sid}/approve", json={"reconcile": "new"})
    assert approved.status_code == 200, approved.text
    record_id = approved.json()["record_id"]
    assert record_id == "HZ-000002" and approved.json()["decided_by"] == "reviewer"
    again = programme.client("reviewer2").post(f"/api/submissions/{sid}/approve", json={"reconcile": "new"})
    assert again.status_code == 409

    record = programme.client("viewer").get(f"/api/hazards/{record_id}").json()
    assert record["properties"]["name"] == "Reported field" and record["properties"]["source_ref"] == sid
    history = programme.client("viewer").get(f"/api/hazards/{record_id}/history").json()
    assert history[0]["author"] == "reviewer" and sid in history[0]["reason"]
    assert programme.client("viewer").get("/api/hazards").json()["number_matched"] == 2
    after = programme.client("viewer").get("/api/reports/land-release").json()["totals"]["estimated_m2"]
    assert 1.9 < after / before < 2.1  # the new hazard is as large as the first: the national figure follows

    assert operator.post("/api/logout").status_code == 204
    assert operator.get("/api/me").status_code == 401


def test_reading_personal_data_is_logged_in_the_database(postgis_programme: Programme) -> None:
    programme = postgis_programme
    victim = programme.client("reviewer").get(f"/api/victims/{programme.victim_id}").json()
    assert victim["properties"]["full_name"] == "Invented Person"
    assert "full_name" not in programme.client("viewer").get(f"/api/victims/{programme.victim_id}").json()["properties"]
    accounts = open_accounts(programme.db)
    try:
        log = accounts.access_log(programme.victim_id)
    finally:
        accounts.close()
    assert [(e.user, e.record_id) for e in log] == [("reviewer", programme.victim_id)]


def test_two_reviewers_approving_at_once_make_one_record(postgis_programme: Programme) -> None:
    programme = postgis_programme
    sid = programme.client("operator").post("/api/submissions", json=new_hazard_report()).json()["id"]

    def approve(reviewer: str) -> int:
        response = programme.client(reviewer).post(f"/api/submissions/{sid}/approve", json={"reconcile": "new"})
        code: int = response.status_code
        return code

    with ThreadPoolExecutor(2) as pool:
        codes = sorted(pool.map(approve, ["reviewer", "reviewer2"]))
    assert codes == [200, 409]
    assert programme.client("viewer").get("/api/hazards").json()["number_matched"] == 2


def test_serve_runs_on_a_postgis_url_without_showing_its_password(
    postgis_database: PostGISDatabase, tmp_path: Path
) -> None:
    schema_url = postgis_database.fresh_schema()
    url = schema_url.replace("postgres@", "postgres:s3cret-pw@")  # the local server trusts loopback: not checked
    try:
        open_store(url, create=True).close()
        accounts = open_accounts(url)
        try:
            _, token = create_user(accounts, "olena", Role.VIEWER)
        finally:
            accounts.close()
        port = free_port()
        log = tmp_path / "serve.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "landrelease", "--db", url, "serve", "--port", str(port)],
                stdout=output,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONWARNINGS": "ignore"},
            )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                    break
                except httpx.TransportError:
                    assert process.poll() is None, log.read_text()
                    assert time.monotonic() < deadline, "the service did not start within 30 s"
                    time.sleep(0.2)
            base = f"http://127.0.0.1:{port}/api"
            assert httpx.get(f"{base}/hazards", timeout=5).status_code == 401
            signed = httpx.get(f"{base}/hazards", headers={"Authorization": f"Bearer {token}"}, timeout=5)
            assert signed.status_code == 200 and signed.json()["number_matched"] == 0
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        text = log.read_text()
        assert process.returncode == 0, text
        assert "serving postgresql://postgres@127.0.0.1" in text and "s3cret-pw" not in text
        assert "Traceback" not in text
    finally:
        postgis_database.drop_schema(schema_url)
