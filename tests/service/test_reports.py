"""``/api/reports``: the land release report by every grouping and period, and the treaty tables, as the
CLI gives them (the same JSON), over a small demo programme; bad periods and years refused in one line."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

from landrelease.accounts import open_accounts
from landrelease.accounts.users import create_user
from landrelease.actions.demo import build_demo
from landrelease.actions.reports import land_release, treaty
from landrelease.service.app import create_app
from landrelease.service.context import Role
from landrelease.store import open_store


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, TestClient]]:
    db = str(tmp_path_factory.mktemp("reports") / "demo.gpkg")
    build_demo(db, hazards=60)
    accounts = open_accounts(db)
    token = create_user(accounts, "reader", Role.VIEWER)[1]
    accounts.close()
    app = create_app(db)
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
        yield db, client


def _stable(report: dict[str, Any]) -> dict[str, Any]:
    """A report without the moment it was made."""
    report = dict(report)
    report.pop("generated_at", None)
    report["data_version"] = {k: v for k, v in report["data_version"].items() if k != "generated_at"}
    return report


@pytest.mark.parametrize(
    ("by", "period"),
    [
        ("quarter", None),
        ("year", "2024"),
        ("donor", "2024-Q2"),
        ("admin", "2023-01-01..2024-06-30"),
        ("month", "2024-05"),
        (None, "2024"),
    ],
)
def test_land_release_is_the_cli_json(served: tuple[str, TestClient], by: str | None, period: str | None) -> None:
    db, client = served
    params = {k: v for k, v in (("by", by), ("period", period)) if v is not None}
    response = client.get("/api/reports/land-release", params=params)
    assert response.status_code == 200, response.text
    with open_store(db) as store:
        expected = land_release(store, by=by, period=period).as_dict()
    body = response.json()
    assert _stable(body) == _stable(expected)
    if period is not None:
        assert body["period"]["label"] == period.upper() and "released_before_m2" in body["totals"]
    if by is not None:
        assert body["groups"], "the demo programme has figures in every grouping"


def test_the_groups_add_up_to_the_released_totals(served: tuple[str, TestClient]) -> None:
    _, client = served
    body = client.get("/api/reports/land-release", params={"by": "quarter", "period": "2024"}).json()
    for kind in ("cancelled_m2", "reduced_m2", "cleared_m2"):
        assert sum(g[kind] for g in body["groups"]) == pytest.approx(body["totals"][kind])
    assert all(g["key"].startswith("2024-Q") for g in body["groups"] if g["outcomes"])


@pytest.mark.parametrize("table", ["article7", "article5", "ccw"])
def test_treaty_tables_are_the_cli_json(served: tuple[str, TestClient], table: str) -> None:
    db, client = served
    response = client.get(f"/api/reports/{table}", params={"year": 2024})
    assert response.status_code == 200, response.text
    with open_store(db) as store:
        expected = treaty(store, table, 2024).as_dict()  # type: ignore[arg-type]
    body = response.json()
    assert _stable(body) == _stable(expected)
    assert body["table"] == table and body["year"] == 2024 and body["sections"][0]["rows"]


def test_treaty_year_defaults_to_the_latest_release(served: tuple[str, TestClient]) -> None:
    db, client = served
    with open_store(db) as store:
        expected = treaty(store, "article5").year
    assert client.get("/api/reports/article5").json()["year"] == expected


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"period": "2024-13"}, 400, "period takes"),
        ({"period": "2024-06-30..2024-01-01"}, 400, "ends before it starts"),
        ({"period": "spring"}, 422, "period"),
        ({"by": "colour"}, 422, "by"),
    ],
)
def test_bad_periods_and_groupings_are_refused_in_one_line(
    served: tuple[str, TestClient], params: dict[str, str], status: int, message: str
) -> None:
    _, client = served
    response = client.get("/api/reports/land-release", params=params)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert message in error and "--" not in error and "\n" not in error


@pytest.mark.parametrize("year", ["1800", "2024.5", "soon"])
def test_bad_years_are_refused(served: tuple[str, TestClient], year: str) -> None:
    _, client = served
    response = client.get("/api/reports/ccw", params={"year": year})
    assert response.status_code == 422 and "year" in response.json()["error"]


def test_reports_need_sign_in_and_are_documented(served: tuple[str, TestClient], tmp_path: Path) -> None:
    _, client = served
    anonymous = TestClient(client.app)
    for path in ("/api/reports/land-release", "/api/reports/article7", "/api/reports/article5", "/api/reports/ccw"):
        assert anonymous.get(path).status_code == 401
    paths = client.get("/openapi.json").json()["paths"]
    parameters = {p["name"]: p for p in paths["/api/reports/land-release"]["get"]["parameters"]}
    by = parameters["by"]["schema"]["anyOf"][0]["enum"]
    assert set(by) == {"admin", "operator", "month", "quarter", "year", "donor"}
    assert "pattern" in parameters["period"]["schema"]["anyOf"][0]
    for table in ("article7", "article5", "ccw"):
        assert "200" in paths[f"/api/reports/{table}"]["get"]["responses"]
