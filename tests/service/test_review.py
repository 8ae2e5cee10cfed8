"""Submit, approve (as new, as existing), reject: the national figure follows, stale versions get 409."""

from __future__ import annotations

from typing import Any

from shapely.geometry import box

from landrelease.store import open_store
from tests.service.conftest import HAZARD, Programme
from tests.service.test_roles import new_hazard_report


def polygon(shape: Any) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [list(shape.exterior.coords)]}


def totals(programme: Programme) -> dict[str, float]:
    report = programme.client("viewer").get("/api/reports/land-release")
    assert report.status_code == 200, report.text
    result: dict[str, float] = report.json()["totals"]
    return result


def test_submit_then_approve_as_new_changes_the_national_figure(programme: Programme) -> None:
    before = totals(programme)
    sid = programme.client("operator").post("/api/submissions", json=new_hazard_report()).json()["id"]
    assert totals(programme) == before  # a submitted report is not a national record
    approved = programme.client("reviewer").post(f"/api/submissions/{sid}/approve", json={"reconcile": "new"})
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert body["status"] == "approved" and body["record_id"].startswith("HZ-") and body["record_version"] == 1
    after = totals(programme)
    assert after["estimated_m2"] > before["estimated_m2"] * 1.9
    record = programme.client("viewer").get(f"/api/hazards/{body['record_id']}").json()
    assert record["properties"]["source_ref"] == sid and record["properties"]["status"] == "active"
    history = programme.client("viewer").get(f"/api/hazards/{body['record_id']}/history").json()
    assert history[0]["author"] == "reviewer" and sid in history[0]["reason"] and "operator" in history[0]["reason"]
    again = programme.client("reviewer2").post(f"/api/submissions/{sid}/approve", json={"reconcile": "new"})
    assert again.status_code == 409
    assert programme.client("viewer").get("/api/hazards").json()["number_matched"] == 2


def test_an_outcome_report_releases_land(programme: Programme) -> None:
    cleared = box(37.00, 49.00, 37.005, 49.01)
    report = {
        "layer": "outcomes",
        "attributes": {"hazard_id": programme.hazard_id, "kind": "cleared", "release_date": "2026-05-01"},
        "geometry": polygon(cleared),
    }
    sid = programme.client("operator").post("/api/submissions", json=report).json()["id"]
    assert totals(programme)["cleared_m2"] == 0
    programme.client("reviewer").post(f"/api/submissions/{sid}/approve", json={"reconcile": "new"})
    figures = totals(programme)
    assert 0.45 < figures["cleared_m2"] / figures["estimated_m2"] < 0.55
    hazard = programme.client("viewer").get(f"/api/hazards/{programme.hazard_id}").json()["properties"]
    assert hazard["cleared_m2"] == figures["cleared_m2"]


def update_report(programme: Programme, name: str, version: int = 1) -> dict[str, Any]:
    return {
        "layer": "hazards",
        "attributes": {"name": name},
        "target_id": programme.hazard_id,
        "target_version": version,
    }


def test_approve_as_existing_shows_the_diff_and_a_stale_version_gets_409(programme: Programme) -> None:
    sid = programme.client("operator").post("/api/submissions", json=update_report(programme, "Renamed")).json()["id"]
    shown = programme.client("reviewer").get(f"/api/submissions/{sid}").json()
    assert shown["diff"]["fields"] == [{"field": "name", "current": "North field", "proposed": "Renamed"}]
    assert shown["diff"]["stale"] is False and shown["diff"]["geometry_changed"] is False
    stale = {"reconcile": "existing", "target_id": programme.hazard_id, "target_version": 7}
    response = programme.client("reviewer").post(f"/api/submissions/{sid}/approve", json=stale)
    assert response.status_code == 409 and "version" in response.json()["error"]
    # Nothing lost: the record is as it was and the report still waits.
    hazard = programme.client("viewer").get(f"/api/hazards/{programme.hazard_id}")
    assert hazard.json()["version"] == 1 and hazard.json()["properties"]["name"] == "North field"
    assert hazard.headers["etag"] == '"1"'
    assert programme.client("reviewer").get(f"/api/submissions/{sid}").json()["status"] == "submitted"
    fresh = {"reconcile": "existing", "target_id": programme.hazard_id, "target_version": 1}
    done = programme.client("reviewer").post(f"/api/submissions/{sid}/approve", json=fresh).json()
    assert done["status"] == "approved" and done["record_version"] == 2
    assert (
        programme.client("viewer").get(f"/api/hazards/{programme.hazard_id}").json()["properties"]["name"] == "Renamed"
    )


def test_two_reviewers_approving_conflicting_updates_one_wins_the_other_gets_409(programme: Programme) -> None:
    first = programme.client("operator").post("/api/submissions", json=update_report(programme, "First")).json()["id"]
    second = (
        programme.client("operator_b").post("/api/submissions", json=update_report(programme, "Second")).json()["id"]
    )
    decision = {"reconcile": "existing", "target_id": programme.hazard_id, "target_version": 1}
    won = programme.client("reviewer").post(f"/api/submissions/{first}/approve", json=decision)
    lost = programme.client("reviewer2").post(f"/api/submissions/{second}/approve", json=decision)
    assert (won.status_code, lost.status_code) == (200, 409)
    hazard = programme.client("viewer").get(f"/api/hazards/{programme.hazard_id}").json()
    assert hazard["properties"]["name"] == "First" and hazard["version"] == 2
    waiting = programme.client("reviewer").get(f"/api/submissions/{second}").json()
    assert waiting["status"] == "submitted" and waiting["diff"]["stale"] is True


def test_reject_needs_a_reason_and_writes_nothing(programme: Programme) -> None:
    sid = programme.client("operator").post("/api/submissions", json=new_hazard_report()).json()["id"]
    client = programme.client("reviewer")
    assert client.post(f"/api/submissions/{sid}/reject", json={}).status_code == 422
    assert client.post(f"/api/submissions/{sid}/reject", json={"reason": "   "}).status_code == 409
    rejected = client.post(f"/api/submissions/{sid}/reject", json={"reason": "duplicate of HZ-000001"})
    assert rejected.status_code == 200 and rejected.json()["reason"] == "duplicate of HZ-000001"
    assert client.post(f"/api/submissions/{sid}/approve", json={"reconcile": "new"}).status_code == 409
    assert programme.client("viewer").get("/api/hazards").json()["number_matched"] == 1
    mine = programme.client("operator").get("/api/submissions?status=rejected").json()["submissions"]
    assert [s["id"] for s in mine] == [sid]


def test_direct_edit_with_if_match(programme: Programme) -> None:
    client = programme.client("reviewer")
    url = f"/api/hazards/{programme.hazard_id}"
    before = totals(programme)["estimated_m2"]
    body = {"attributes": {"status": "worked_on"}, "reason": "clearance started"}
    assert client.patch(url, json=body).status_code == 428
    edited = client.patch(url, json=body, headers={"If-Match": '"1"'})
    assert edited.status_code == 200, edited.text
    assert edited.headers["etag"] == '"2"' and edited.json()["properties"]["status"] == "worked_on"
    stale = client.patch(url, json={"attributes": {"name": "x"}, "reason": "r"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 409
    illegal = client.patch(
        url, json={"attributes": {"status": "handed_over"}, "reason": "r"}, headers={"If-Match": "2"}
    )
    assert illegal.status_code == 409 and "cannot become" in illegal.json()["error"]
    moved = client.patch(
        url,
        json={"geometry": polygon(HAZARD.buffer(0.001, join_style="mitre")), "reason": "resurveyed"},
        headers={"If-Match": "2"},
    )
    assert moved.status_code == 200 and totals(programme)["estimated_m2"] > before * 1.4
    with open_store(programme.db) as store:
        assert store.ledger_state().current


def test_filters_and_paging(programme: Programme) -> None:
    for i in range(3):
        report = new_hazard_report() | {"geometry": polygon(box(37.1 + i * 0.02, 49.0, 37.11 + i * 0.02, 49.01))}
        sid = programme.client("operator").post("/api/submissions", json=report).json()["id"]
        programme.client("reviewer").post(f"/api/submissions/{sid}/approve", json={"reconcile": "new"})
    client = programme.client("viewer")
    assert client.get("/api/hazards?hazard_class=SHA").json()["number_matched"] == 3
    assert client.get("/api/hazards?hazard_class=CHA&status=active").json()["number_matched"] == 1
    page = client.get("/api/hazards?limit=2&offset=1").json()
    assert page["number_matched"] == 4 and page["number_returned"] == 2
    assert client.get("/api/hazards?bbox=36.99,48.99,37.015,49.02").json()["number_matched"] == 1
    assert client.get(f"/api/accidents?hazard_id={programme.hazard_id}").json()["number_matched"] == 1
    assert client.get("/api/hazards?limit=1001").status_code == 422
    assert client.get("/api/hazards?bbox=1,2,3").status_code == 400
    assert client.get("/api/victims?hazard_class=SHA").status_code == 400
    assert client.get(f"/api/outcomes/{programme.hazard_id}").status_code == 404
    assert client.get("/api/hazards/HZ-999999").status_code == 404
