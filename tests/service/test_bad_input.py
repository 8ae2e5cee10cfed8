"""Bad input gets a 4xx with a clear message, and nothing is written."""

from __future__ import annotations

from typing import Any

import pytest

from landrelease.store import open_store
from tests.service.conftest import Programme
from tests.service.test_roles import new_hazard_report


def nothing_written(programme: Programme) -> None:
    assert programme.client("reviewer").get("/api/submissions").json()["submissions"] == []
    with open_store(programme.db) as store:
        assert store.count("hazards") == 1 and store.history(programme.hazard_id)[-1].version == 1


BOW_TIE = {"type": "Polygon", "coordinates": [[[37, 49], [37.01, 49.01], [37.01, 49], [37, 49.01], [37, 49]]]}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"attributes": {"hazard_class": 12}}, "hazard_class"),
        ({"attributes": {"hazard_class": "XYZ"}}, "hazard_class"),
        ({"attributes": {"reported_date": "yesterday"}}, "reported_date"),
        ({"attributes": {"no_such_field": "x"}}, "no field"),
        ({"attributes": {"hazard_class": {"nested": 1}}}, "attributes"),
        ({"surprise": 1}, "surprise"),
        ({"geometry": BOW_TIE}, "geometry: invalid polygon"),
        ({"geometry": {"type": "Polygon", "coordinates": "nonsense"}}, "GeoJSON"),
        ({"geometry": {"type": "Point", "coordinates": [37, 49]}}, "area"),
        (
            {"geometry": {"type": "Polygon", "coordinates": [[[4e6, 6e6], [4.1e6, 6e6], [4.1e6, 6.1e6], [4e6, 6e6]]]}},
            "projected",
        ),
        ({"geometry": None}, "no geometry"),
        ({"layer": "nowhere"}, "no layer"),
        ({"layer": "admin-areas"}, "kept by the authority"),
        ({"target_id": "HZ-000001"}, "target_version"),
        ({"target_id": "HZ-000404", "target_version": 1}, "not a current record"),
        ({"target_version": 0, "target_id": "HZ-000001"}, "target_version"),
    ],
)
def test_invalid_reports_are_refused_at_the_door(programme: Programme, change: dict[str, Any], message: str) -> None:
    report = new_hazard_report()
    for key, value in change.items():
        if key == "attributes":
            report["attributes"] = report["attributes"] | value
        else:
            report[key] = value
    response = programme.client("operator").post("/api/submissions", json=report)
    assert response.status_code == 422, response.text
    assert message in response.json()["error"]
    nothing_written(programme)


def test_malformed_json_and_wrong_content(programme: Programme) -> None:
    client = programme.client("operator")
    response = client.post(
        "/api/submissions", content=b'{"layer": "hazards",', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422 and "JSON" in response.json()["error"]
    assert (
        client.post("/api/submissions", content=b"[1, 2]", headers={"content-type": "application/json"}).status_code
        == 422
    )
    assert (
        client.post("/api/submissions", content=b"\xff\xfe", headers={"content-type": "application/json"}).status_code
        == 422
    )
    nothing_written(programme)


def test_a_huge_body_gets_413(programme: Programme) -> None:
    client = programme.client("operator")
    big = b'{"layer": "hazards", "attributes": {"name": "' + b"x" * (11 * 1024 * 1024) + b'"}}'
    response = client.post("/api/submissions", content=big, headers={"content-type": "application/json"})
    assert response.status_code == 413 and "10 MB" in response.json()["error"]

    def chunks() -> Any:
        yield big[: 6 * 1024 * 1024]
        yield big[6 * 1024 * 1024 :]

    streamed = client.post("/api/submissions", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413
    nothing_written(programme)


def test_sql_looking_strings_are_stored_literally(programme: Programme) -> None:
    sneaky = "x'); DROP TABLE hazards; --"
    report = new_hazard_report()
    report["attributes"]["name"] = sneaky
    sid = programme.client("operator").post("/api/submissions", json=report).json()["id"]
    record = programme.client("reviewer").post(f"/api/submissions/{sid}/approve", json={"reconcile": "new"}).json()
    shown = programme.client("viewer").get(f"/api/hazards/{record['record_id']}").json()
    assert shown["properties"]["name"] == sneaky
    filtered = programme.client("viewer").get("/api/hazards", params={"status": "' OR 1=1 --"}).json()
    assert filtered["number_matched"] == 0
    assert programme.client("viewer").get("/api/hazards/HZ-1' OR '1'='1").status_code == 404


def test_bad_approvals(programme: Programme) -> None:
    sid = programme.client("operator").post("/api/submissions", json=new_hazard_report()).json()["id"]
    client = programme.client("reviewer")
    assert client.post(f"/api/submissions/{sid}/approve", json={}).status_code == 422
    assert client.post(f"/api/submissions/{sid}/approve", json={"reconcile": "merge"}).status_code == 422
    assert client.post(f"/api/submissions/{sid}/approve", json={"reconcile": "existing"}).status_code == 422
    wrong_layer = {"reconcile": "existing", "target_id": "AX-000001", "target_version": 1}
    assert client.post(f"/api/submissions/{sid}/approve", json=wrong_layer).status_code == 422
    assert client.post("/api/submissions/SB-999999/approve", json={"reconcile": "new"}).status_code == 404
    assert client.get(f"/api/submissions/{sid}").json()["status"] == "submitted"
    with open_store(programme.db) as store:
        assert store.count("hazards") == 1


def test_numbers_too_large_and_lone_surrogates_are_4xx_not_500(programme: Programme) -> None:
    client = programme.client("operator")
    finds = {
        "layer": "finds",
        "attributes": {"quantity": 10**30},
        "geometry": {"type": "Point", "coordinates": [37, 49]},
    }
    response = client.post("/api/submissions", json=finds)
    assert response.status_code == 422 and "too large" in response.json()["error"]
    body = b'{"layer": "hazards", "attributes": {"hazard_class": "SHA", "name": "\\ud800"}, "geometry": null}'
    surrogate = client.post("/api/submissions", content=body, headers={"content-type": "application/json"})
    assert 400 <= surrogate.status_code < 500
    assert programme.client("viewer").get("/api/hazards/HZ-%ED%A0%80").status_code < 500
    nothing_written(programme)


def test_a_query_parameter_given_twice_is_refused(programme: Programme) -> None:
    response = programme.client("viewer").get("/api/hazards?status=active&status=closed")
    assert response.status_code == 400
    assert "status given more than once" in response.json()["error"]
