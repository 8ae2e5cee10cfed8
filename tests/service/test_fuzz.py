"""The OpenAPI document, fuzzed with schemathesis in-process: no 5xx on any input, every response is what
the document declares (status code, content type, body schema), and input the document forbids is refused
with a 4xx; for an admin and a viewer (and, on reports, an operator).

The app runs over a small demo programme (``build_demo``: admin areas, organisations, hazards with their
outcomes, finds, accidents, victims, EORE, activities) through schemathesis' ASGI transport: no network.
Hypothesis is derandomized (the same cases every run) and bounded per operation.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    import schemathesis
    from fastapi.testclient import TestClient
    from schemathesis.checks import (
        content_type_conformance,
        negative_data_rejection,
        not_a_server_error,
        response_schema_conformance,
        status_code_conformance,
    )

from landrelease.accounts import open_accounts
from landrelease.accounts.users import create_user
from landrelease.actions.demo import OPERATORS, build_demo
from landrelease.service.app import create_app
from landrelease.service.context import Role

#: Examples per operation (each case is sent as the admin and as the viewer, and reports also as an
#: operator); LANDRELEASE_FUZZ_EXAMPLES=500 makes a deeper run.
EXAMPLES = int(os.environ.get("LANDRELEASE_FUZZ_EXAMPLES", "15"))
#: No 5xx; status, content type and body as declared; input the document forbids is refused with a 4xx.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[schemathesis.BaseSchema, dict[str, str]]]:
    db = str(tmp_path_factory.mktemp("fuzz") / "demo.gpkg")
    build_demo(db, hazards=40)
    accounts = open_accounts(db)
    tokens = {
        "admin": create_user(accounts, "fuzz-admin", Role.ADMIN)[1],
        "viewer": create_user(accounts, "fuzz-viewer", Role.VIEWER)[1],
        "operator": create_user(accounts, "fuzz-operator", Role.OPERATOR, OPERATORS[0])[1],
    }
    accounts.close()
    app = create_app(db)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StarletteDeprecationWarning)
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    yield schema, tokens
    app.state.landrelease.close()


@pytest.fixture
def fuzz_schema(fuzzed: tuple[schemathesis.BaseSchema, dict[str, str]]) -> schemathesis.BaseSchema:
    return fuzzed[0]


@pytest.fixture
def tokens(fuzzed: tuple[schemathesis.BaseSchema, dict[str, str]]) -> dict[str, str]:
    return fuzzed[1]


schema = schemathesis.pytest.from_fixture("fuzz_schema")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error_and_responses_as_declared(case: schemathesis.Case, tokens: dict[str, str]) -> None:
    users = ["admin", "viewer"]
    if case.operation.path.startswith("/api/submissions"):
        users.append("operator")
    for user in users:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", StarletteDeprecationWarning)
            case.call_and_validate(headers={"Authorization": f"Bearer {tokens[user]}"}, checks=CHECKS)


def test_non_json_numbers_are_refused(tmp_path: Path) -> None:
    """NaN and Infinity pass Python's JSON reader but are not JSON (so schemathesis never sends them): a
    report or an edit carrying one is refused with 422, and nothing is kept."""
    db = str(tmp_path / "demo.gpkg")
    build_demo(db, hazards=5)
    accounts = open_accounts(db)
    operator = create_user(accounts, "op", Role.OPERATOR, OPERATORS[0])[1]
    reviewer = create_user(accounts, "rv", Role.REVIEWER)[1]
    accounts.close()
    app = create_app(db)
    try:
        as_operator = TestClient(app, headers={"Authorization": f"Bearer {operator}"})
        as_reviewer = TestClient(app, headers={"Authorization": f"Bearer {reviewer}"})
        hazard = as_reviewer.get("/api/hazards?limit=1").json()["features"][0]
        json_headers = {"content-type": "application/json"}
        for value in ("NaN", "Infinity", "-Infinity"):
            body = '{"layer": "hazards", "attributes": {"name": %s}, "target_id": "%s", "target_version": %d}'
            sent = as_operator.post(
                "/api/submissions", content=body % (value, hazard["id"], hazard["version"]), headers=json_headers
            )
            assert sent.status_code == 422 and "not a number" in sent.json()["error"], sent.text
            edit = '{"attributes": {"name": ' + value + '}, "reason": "fuzz"}'
            edited = as_reviewer.patch(
                f"/api/hazards/{hazard['id']}",
                content=edit,
                headers={**json_headers, "If-Match": str(hazard["version"])},
            )
            assert edited.status_code == 422 and "not a number" in edited.json()["error"], edited.text
        assert as_reviewer.get("/api/submissions").json()["submissions"] == []
        assert as_reviewer.get(f"/api/hazards/{hazard['id']}").json()["version"] == hazard["version"]
    finally:
        app.state.landrelease.close()
