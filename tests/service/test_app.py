"""The app's frame: health, sign-in, sessions, errors and the OpenAPI document."""

from __future__ import annotations

import pytest

from tests.service.conftest import PASSWORD, Programme, TestClient


def test_health_needs_no_sign_in(programme: Programme) -> None:
    response = programme.client("anonymous").get("/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.parametrize(
    "path", ["/api/hazards", "/api/victims", "/api/submissions", "/api/reports/land-release", "/api/me", "/nowhere"]
)
def test_anonymous_requests_get_401(programme: Programme, path: str) -> None:
    response = programme.client("anonymous").get(path)
    assert response.status_code == 401
    assert "sign in" in response.json()["error"]


def test_a_wrong_token_gets_401(programme: Programme) -> None:
    client = programme.client("anonymous")
    response = client.get("/api/hazards", headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401
    response = client.get("/api/hazards", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert response.status_code == 401


def test_login_sets_a_strict_httponly_cookie_and_logout_ends_it(programme: Programme) -> None:
    client = programme.client("anonymous")
    response = client.post("/api/login", data={"name": "reviewer", "password": PASSWORD})
    assert response.status_code == 200, response.text
    assert response.json()["role"] == "reviewer"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert client.get("/api/me").json()["name"] == "reviewer"
    session = client.cookies["landrelease_session"]
    assert client.post("/api/logout").status_code == 204
    assert "landrelease_session" not in client.cookies
    replayed = programme.client("anonymous")
    replayed.cookies.set("landrelease_session", session)
    assert replayed.get("/api/me").status_code == 401
    assert client.get("/api/me").status_code == 401


def test_login_with_json_and_a_wrong_password(programme: Programme) -> None:
    client = programme.client("anonymous")
    assert client.post("/api/login", json={"name": "viewer", "password": PASSWORD}).status_code == 200
    client.cookies.clear()
    wrong = client.post("/api/login", json={"name": "viewer", "password": "nope"})
    unknown = client.post("/api/login", json={"name": "nobody", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"error": "wrong name or password"}
    assert (
        client.post("/api/login", content=b"{not json", headers={"content-type": "application/json"}).status_code == 422
    )
    assert client.post("/api/login", json={"name": "viewer"}).status_code == 422


def test_openapi_document_loads_and_names_every_layer(programme: Programme) -> None:
    document = programme.client("anonymous").get("/openapi.json").json()
    paths = document["paths"]
    for layer in ("hazards", "activities", "outcomes", "finds", "accidents", "victims", "eore", "admin-areas"):
        assert f"/api/{layer}" in paths and f"/api/{layer}/{{record_id}}/history" in paths
    assert "/api/submissions/{submission_id}/approve" in paths
    assert programme.client("anonymous").get("/docs").status_code == 200


def test_unknown_paths_and_methods_answer_in_json(programme: Programme) -> None:
    client = programme.client("viewer")
    assert client.get("/api/nothing-here").json() == {"error": "Not Found"}
    assert client.delete("/api/hazards").status_code == 405


def test_an_internal_error_is_500_without_details(programme: Programme, monkeypatch: pytest.MonkeyPatch) -> None:
    from landrelease.service import reports

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("secret detail /etc/passwd")

    monkeypatch.setattr(reports, "land_release_report", broken)
    client = TestClient(programme.app_client.app, raise_server_exceptions=False)
    response = client.get(
        "/api/reports/land-release", headers={"Authorization": f"Bearer {programme.tokens['viewer']}"}
    )
    assert response.status_code == 500
    assert response.json() == {"error": "internal error"}


def test_users_are_managed_by_admins_only(programme: Programme) -> None:
    body = {"name": "newcomer", "role": "viewer", "password": "long enough password"}
    assert programme.client("reviewer").post("/api/users", json=body).status_code == 403
    created = programme.client("admin").post("/api/users", json=body)
    assert created.status_code == 201, created.text
    token = created.json()["token"]
    me = programme.client("anonymous").get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["name"] == "newcomer"
    assert "newcomer" in {u["name"] for u in programme.client("admin").get("/api/users").json()}
    assert programme.client("admin").post("/api/users", json=body).status_code == 400


def test_ogc_api_and_tiles_are_served_by_the_app_behind_sign_in(programme: Programme) -> None:
    """The real app mounts the OGC API and the tiles, with the same sign-in rules as the JSON API."""
    anonymous, viewer = programme.client("anonymous"), programme.client("viewer")
    assert anonymous.get("/ogc/collections").status_code == 401
    assert anonymous.get("/tiles/hazards/10/617/351.mvt").status_code == 401
    items = viewer.get("/ogc/collections/hazards/items").json()
    assert programme.hazard_id in [f["id"] for f in items["features"]]
    # The tile holding the fixture's hazard (37.005E 49.005N at zoom 10).
    tile = viewer.get("/tiles/hazards/10/617/351.mvt")
    assert tile.status_code == 200 and tile.headers["content-type"].startswith("application/vnd.mapbox-vector-tile")
