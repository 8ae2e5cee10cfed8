"""Drafts and corrections: an operator's organisation keeps a report as a draft, submits it when ready, and
corrects a report a reviewer sent back; nobody else can change it, and a submitted report is frozen."""

from __future__ import annotations

from shapely.geometry import mapping

from tests.service.conftest import NEW_AREA, Programme

REPORT = {
    "layer": "hazards",
    "attributes": {"name": "Draft field", "hazard_class": "SHA"},
    "geometry": mapping(NEW_AREA),
}


def test_a_draft_is_finished_by_its_organisation_then_submitted(programme: Programme) -> None:
    operator, colleague = programme.client("operator"), programme.client("operator_a2")
    created = operator.post("/api/submissions", json={**REPORT, "draft": True})
    assert created.status_code == 201, created.text
    draft = created.json()
    assert draft["status"] == "draft"
    fixed = {"attributes": {"name": "Draft field, walked", "hazard_class": "CHA"}, "geometry": mapping(NEW_AREA)}
    kept = colleague.put(f"/api/submissions/{draft['id']}", json=fixed)
    assert kept.status_code == 200, kept.text
    assert kept.json()["status"] == "draft" and kept.json()["attributes"]["name"] == "Draft field, walked"
    # Another organisation cannot see it, let alone change it.
    other = programme.client("operator_b").put(f"/api/submissions/{draft['id']}", json={"submit": True})
    assert other.status_code == 404
    # A reviewer cannot approve a draft.
    early = programme.client("reviewer").post(f"/api/submissions/{draft['id']}/approve", json={"reconcile": "new"})
    assert early.status_code == 409
    submitted = operator.put(f"/api/submissions/{draft['id']}", json={"submit": True})
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"
    assert submitted.json()["attributes"]["name"] == "Draft field, walked"
    frozen = operator.put(f"/api/submissions/{draft['id']}", json=fixed)
    assert frozen.status_code == 409 and "only a draft or a report sent back" in frozen.json()["error"]
    approved = programme.client("reviewer").post(f"/api/submissions/{draft['id']}/approve", json={"reconcile": "new"})
    assert approved.status_code == 200, approved.text


def test_a_report_sent_back_is_corrected_and_submitted_again(programme: Programme) -> None:
    operator, reviewer = programme.client("operator"), programme.client("reviewer")
    sent = operator.post("/api/submissions", json=REPORT).json()
    rejected = reviewer.post(f"/api/submissions/{sent['id']}/reject", json={"reason": "the class needs evidence"})
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    bad = operator.put(f"/api/submissions/{sent['id']}", json={"attributes": {"hazard_class": "XYZ"}, "submit": True})
    assert bad.status_code in (400, 422) and bad.json()["error"]
    assert operator.get(f"/api/submissions/{sent['id']}").json()["status"] == "rejected"  # nothing changed
    corrected = {
        "attributes": {"name": "Draft field", "hazard_class": "CHA", "contamination": "AP mines (accident 2024)"},
        "geometry": mapping(NEW_AREA),
        "submit": True,
    }
    again = operator.put(f"/api/submissions/{sent['id']}", json=corrected)
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "submitted" and again.json()["reason"] == "the class needs evidence"
    approved = reviewer.post(f"/api/submissions/{sent['id']}/approve", json={"reconcile": "new"})
    assert approved.status_code == 200 and approved.json()["record_id"]
