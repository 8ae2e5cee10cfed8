"""Each role's rules, each test failing if its rule broke."""

from __future__ import annotations

from typing import Any

from tests.service.conftest import NEW_AREA, Programme


def new_hazard_report() -> dict[str, Any]:
    return {
        "layer": "hazards",
        "attributes": {"hazard_class": "SHA", "name": "Reported field"},
        "geometry": {"type": "Polygon", "coordinates": [list(NEW_AREA.exterior.coords)]},
    }


def test_every_role_reads_the_national_record(programme: Programme) -> None:
    for user in ("viewer", "operator", "reviewer", "admin"):
        page = programme.client(user).get("/api/hazards").json()
        assert [f["id"] for f in page["features"]] == [programme.hazard_id]


def test_viewer_cannot_submit(programme: Programme) -> None:
    response = programme.client("viewer").post("/api/submissions", json=new_hazard_report())
    assert response.status_code == 403
    assert programme.client("reviewer").get("/api/submissions").json()["submissions"] == []


def test_operator_cannot_approve_reject_or_edit(programme: Programme) -> None:
    created = programme.client("operator").post("/api/submissions", json=new_hazard_report())
    assert created.status_code == 201, created.text
    sid = created.json()["id"]
    client = programme.client("operator")
    assert client.post(f"/api/submissions/{sid}/approve", json={"reconcile": "new"}).status_code == 403
    assert client.post(f"/api/submissions/{sid}/reject", json={"reason": "no"}).status_code == 403
    edit = client.patch(
        f"/api/hazards/{programme.hazard_id}",
        json={"attributes": {"name": "x"}, "reason": "r"},
        headers={"If-Match": '"1"'},
    )
    assert edit.status_code == 403
    assert programme.client("viewer").get("/api/hazards").json()["number_matched"] == 1
    assert programme.client("reviewer").get(f"/api/submissions/{sid}").json()["status"] == "submitted"


def test_operators_never_see_another_organisations_submissions(programme: Programme) -> None:
    a = programme.client("operator").post("/api/submissions", json=new_hazard_report()).json()["id"]
    b = programme.client("operator_b").post("/api/submissions", json=new_hazard_report()).json()["id"]
    assert [s["id"] for s in programme.client("operator").get("/api/submissions").json()["submissions"]] == [a]
    assert [s["id"] for s in programme.client("operator_a2").get("/api/submissions").json()["submissions"]] == [a]
    assert [s["id"] for s in programme.client("operator_b").get("/api/submissions").json()["submissions"]] == [b]
    assert programme.client("operator").get(f"/api/submissions/{b}").status_code == 404
    assert programme.client("operator_b").get(f"/api/submissions/{a}").status_code == 404
    assert {s["id"] for s in programme.client("reviewer").get("/api/submissions").json()["submissions"]} == {a, b}


def test_personal_data_is_hidden_from_viewers_and_operators(programme: Programme) -> None:
    from landrelease.accounts import open_accounts

    for user in ("viewer", "operator"):
        client = programme.client(user)
        victim = client.get(f"/api/victims/{programme.victim_id}").json()
        assert "full_name" not in victim["properties"] and victim["properties"]["sex"] == "male"
        listed = client.get("/api/victims").json()["features"][0]["properties"]
        history = client.get(f"/api/victims/{programme.victim_id}/history").json()
        assert "full_name" not in listed and all("full_name" not in v["properties"] for v in history)
        assert "Invented Person" not in client.get("/api/victims").text
    accounts = open_accounts(programme.db)
    try:
        assert accounts.access_log() == []
    finally:
        accounts.close()


def test_personal_data_is_shown_to_reviewers_and_every_showing_is_logged(programme: Programme) -> None:
    from landrelease.accounts import open_accounts

    client = programme.client("reviewer")
    victim = client.get(f"/api/victims/{programme.victim_id}").json()
    assert victim["properties"]["full_name"] == "Invented Person"
    assert client.get("/api/victims").json()["features"][0]["properties"]["full_name"] == "Invented Person"
    accounts = open_accounts(programme.db)
    try:
        log = accounts.access_log(programme.victim_id)
    finally:
        accounts.close()
    assert [(e.user, e.record_id) for e in log] == [("reviewer", programme.victim_id)] * 2
    assert "/api/victims" in log[0].purpose


def test_accidents_are_seen_without_the_victims(programme: Programme) -> None:
    accident = programme.client("viewer").get(f"/api/accidents/{programme.accident_id}").json()
    assert accident["id"] == programme.accident_id and "full_name" not in accident["properties"]
