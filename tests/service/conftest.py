"""A small real programme in a GeoPackage (or, with ``postgis_programme``, in a PostGIS schema), one user
per role (and a second operator organisation), and a TestClient per user."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from shapely.geometry import box
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    # Starlette 1.x prefers the httpx2 package for its TestClient; httpx is what is installed here.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

from landrelease.accounts import open_accounts
from landrelease.accounts.users import create_user
from landrelease.actions.release import refresh_ledger
from landrelease.domain.records import Change, NewFeature
from landrelease.service.app import create_app
from landrelease.service.context import Role
from landrelease.store import open_store
from tests.conftest import PostGISDatabase

SETUP = Change("test setup", "fixture")
PASSWORD = "correct horse battery"
#: A hazard of about 1.1 km x 1.1 km in eastern Ukraine, and the square next to it for new reports.
HAZARD = box(37.00, 49.00, 37.01, 49.01)
NEW_AREA = box(37.02, 49.00, 37.03, 49.01)


@dataclass
class Programme:
    db: str
    app_client: TestClient
    tokens: dict[str, str]
    hazard_id: str
    accident_id: str
    victim_id: str

    def client(self, user: str) -> TestClient:
        """A client of the app acting as ``user`` (a bearer token); ``anonymous`` sends none."""
        headers = {} if user == "anonymous" else {"Authorization": f"Bearer {self.tokens[user]}"}
        return TestClient(self.app_client.app, headers=headers)


USERS = {
    "viewer": (Role.VIEWER, None),
    "operator": (Role.OPERATOR, "Org A"),
    "operator_a2": (Role.OPERATOR, "Org A"),
    "operator_b": (Role.OPERATOR, "Org B"),
    "reviewer": (Role.REVIEWER, None),
    "reviewer2": (Role.REVIEWER, None),
    "admin": (Role.ADMIN, None),
}


def serve_programme(db: str, *, create: bool = True) -> Iterator[Programme]:
    """Fill the database at ``db`` (made with ``create``) with the small programme and its users, and serve it."""
    with open_store(db, create=create) as store:
        (hazard,) = store.add(
            "hazards", [NewFeature({"hazard_class": "CHA", "status": "active", "name": "North field"}, HAZARD)], SETUP
        )
        (accident,) = store.add("accidents", [NewFeature({"hazard_id": hazard}, HAZARD.centroid)], SETUP)
        (victim,) = store.add(
            "victims",
            [
                NewFeature(
                    {"accident_id": accident, "full_name": "Invented Person", "sex": "male", "outcome": "injured"}
                )
            ],
            SETUP,
        )
        refresh_ledger(store)
    accounts = open_accounts(db)
    tokens = {}
    for name, (role, org) in USERS.items():
        tokens[name] = create_user(accounts, name, role, org, PASSWORD)[1]
    accounts.close()
    with TestClient(create_app(db)) as client:
        yield Programme(db, client, tokens, hazard, accident, victim)


@pytest.fixture
def programme(tmp_path: Path) -> Iterator[Programme]:
    yield from serve_programme(str(tmp_path / "programme.gpkg"))


@pytest.fixture
def postgis_programme(postgis_database: PostGISDatabase) -> Iterator[Programme]:
    """The same programme in a PostGIS schema of its own (skipped, or failed under CI, without a server)."""
    url = postgis_database.fresh_schema()
    try:
        yield from serve_programme(url)
    finally:
        postgis_database.drop_schema(url)
