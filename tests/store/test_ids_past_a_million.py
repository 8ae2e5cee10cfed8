"""The millionth record: ids grow past six digits (FD-999999, FD-1000000) in the same form, and every place
that orders, compares, compacts or parses ids orders them by creation, on every backend.

The counters are set near 999,998 in ``lr_counters`` (as a national programme with a million finds has them),
so the next records cross into seven digits; text order would put HZ-1000000 before HZ-200000.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from datetime import date
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import box
from typer.testing import CliRunner

from landrelease.actions.exports import export_layer
from landrelease.actions.locate import locate_points
from landrelease.actions.prioritise import prioritise_store
from landrelease.actions.release import refresh_ledger
from landrelease.actions.reports import treaty
from landrelease.analysis.forecast import forecast_of
from landrelease.analysis.land_release import land_release_report
from landrelease.analysis.ledger import ledger_of
from landrelease.analysis.trace import expand_ids
from landrelease.cli import app
from landrelease.domain.records import Change, NewFeature
from landrelease.store import Store

C = Change("test", "a national programme past a million records")
FIELD = box(30.0, 50.0, 30.01, 50.01)


def _sql(store: Store, statement: str) -> None:
    """A statement run as another program would, on the database under ``store`` (its primary if routed)."""
    if store.location.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(store.location, autocommit=True) as conn:
            conn.execute(statement)  # type: ignore[arg-type]
    else:
        with sqlite3.connect(store.location) as conn:
            conn.execute(statement)


def _counter(store: Store, layer: str, last: int) -> None:
    _sql(
        store,
        f"INSERT INTO lr_counters (layer, last_number) VALUES ('{layer}', {last}) "
        "ON CONFLICT (layer) DO UPDATE SET last_number = excluded.last_number",
    )


def hazards(*names: str) -> list[NewFeature]:
    return [NewFeature({"name": n, "hazard_class": "SHA", "status": "active"}, FIELD) for n in names]


def _crossing(store: Store) -> list[str]:
    """HZ-000001, HZ-200000, then four crossing into seven digits."""
    made = store.add("hazards", hazards("first"), C)
    _counter(store, "hazards", 199_999)
    made += store.add("hazards", hazards("second"), C)
    _counter(store, "hazards", 999_997)
    made += store.add("hazards", hazards("c", "d", "e", "f"), C)
    return made


CREATED = ["HZ-000001", "HZ-200000", "HZ-999998", "HZ-999999", "HZ-1000000", "HZ-1000001"]


def test_ids_cross_into_seven_digits_and_every_read_keeps_creation_order(store: Store, empty_store: Store) -> None:
    assert _crossing(store) == CREATED
    assert sorted(CREATED) != CREATED  # as text they would not be in this order
    assert [f.id for f in store.features("hazards")] == CREATED
    assert [f.id for f in store.page("hazards", limit=3, offset=2)[0]] == CREATED[2:5]
    assert store.columns("hazards", [], geometry=False)[0] == CREATED
    assert store.polygons_at("hazards", np.array([[30.005, 50.005]]))[1] == CREATED  # the first recorded first
    assert [v.record_id for v in store.dump("hazards").versions] == CREATED
    assert store.get("HZ-1000000").attributes["name"] == "e"
    assert store.dump("hazards").last_number == 1_000_001

    # Moved to another store: the same order, and numbering goes on from the counter.
    empty_store.load([store.dump(layer) for layer in ("hazards",)], store.ledger_state())
    assert [f.id for f in empty_store.features("hazards")] == CREATED
    assert empty_store.add("hazards", hazards("g"), C) == ["HZ-1000002"]


def _team(name: str) -> NewFeature:
    return NewFeature({"name": name, "kind": "team"})


def test_a_row_added_outside_landrelease_past_a_million_is_not_collided_with(store: Store) -> None:
    _counter(store, "organisations", 199_999)
    assert store.add("organisations", [_team("early")], C) == ["OR-200000"]
    _counter(store, "organisations", 999_999)
    assert store.add("organisations", [_team("first")], C) == ["OR-1000000"]
    # Another program (QGIS, psql) adds the next row itself. The text max(id) is OR-200000 (it sorts after
    # OR-1000001), so only looking the new ids up finds it.
    _sql(
        store,
        "INSERT INTO organisations (id, version, updated_at, updated_by, name) "
        "VALUES ('OR-1000001', 0, '2024-01-01', 'qgis', 'added in QGIS')",
    )
    assert store.add("organisations", [_team("second"), _team("third")], C) == ["OR-1000002", "OR-1000003"]
    _sql(
        store,
        "INSERT INTO organisations (id, version, updated_at, updated_by, name) "
        "VALUES ('OR-1000009', 0, '2024-01-01', 'qgis', 'ahead')",
    )
    # A batch running into a row someone added continues after the highest id there.
    assert store.add("organisations", [_team(f"t{i}") for i in range(7)], C)[0] == "OR-1000010"
    assert store.add("organisations", [_team("last")], C) == ["OR-1000017"]


def test_figures_rankings_reports_and_exports_follow_creation_order(store: Store, tmp_path: Path) -> None:
    _counter(store, "admin_areas", 999_998)
    areas = store.add(
        "admin_areas",
        [NewFeature({"name": n, "level": 1}, shapely.MultiPolygon([box(30, 50, 31, 51)])) for n in ("A", "B")],
        C,
    )
    assert areas == ["AD-999999", "AD-1000000"]
    _counter(store, "hazards", 999_998)
    both = store.add(
        "hazards",
        [NewFeature({"name": n, "hazard_class": "CHA", "status": "active", "admin_area": a,
                     "contamination": "AP mines"}, FIELD) for n, a in (("older", areas[0]), ("newer", areas[1]))],
        C,
    )  # fmt: skip
    assert both == ["HZ-999999", "HZ-1000000"]
    # Equal scores (the same field twice): the older hazard ranks first.
    refresh_ledger(store)
    ranking = prioritise_store(store)
    assert [r.id for r in ranking.ranked] == ["HZ-999999", "HZ-1000000"]
    assert ranking.ranked[0].score == ranking.ranked[1].score
    _counter(store, "outcomes", 999_998)
    cleared = [NewFeature({"hazard_id": both[0], "kind": "cleared", "release_date": "2024-05-01"}, FIELD)] * 2
    outcomes = store.add("outcomes", cleared, C)
    assert outcomes == ["OC-999999", "OC-1000000"]

    # The ledger credits land to the earlier of two equal outcomes (same kind, same day): the older record.
    ledger, o_ids, _ = ledger_of(store)
    credit = dict(zip(o_ids, ledger.released.tolist(), strict=True))
    assert credit["OC-999999"] > 0 and credit["OC-1000000"] == 0
    refresh_ledger(store)

    # Reports: groups by admin area in creation order, records compacted across the width change.
    report = land_release_report(store, "admin").as_dict()
    assert [g["key"] for g in report["groups"]] == ["AD-999999", "AD-1000000"]  # type: ignore[attr-defined]
    records = land_release_report(store, None).as_dict()["records"]["outcomes"]  # type: ignore[index]
    assert records == ["OC-999999..OC-1000000"] and expand_ids(records) == outcomes
    article7 = {s.name: s.rows for s in treaty(store, "article7", 2024).sections}
    assert [r["id"] for r in article7["areas"]] == both
    assert [r["admin_area"] for r in article7["warnings"]] == ["A", "B"]  # AD-999999, then AD-1000000
    (progress,) = treaty(store, "article5", 2024).sections
    assert [r["admin_area"] for r in progress.rows] == ["A", "B", "TOTAL"]
    forecast = forecast_of(store, as_of=date(2024, 12, 31), by="admin")
    assert [g.key for g in forecast.groups] == ["AD-999999", "AD-1000000"]

    # Locate: a place in both hazards is reported with the first recorded one.
    assert locate_points(store, np.array([[30.005, 50.005]])).hazard_id == ["HZ-999999"]

    # Exports list records in creation order.
    out = tmp_path / "hazards.csv"
    assert export_layer(store, "hazards", out) == 2
    with out.open(encoding="utf-8-sig") as handle:
        assert [row["id"] for row in csv.DictReader(handle)] == both


def test_the_cli_reports_past_a_million(store: Store) -> None:
    _crossing(store)
    result = CliRunner().invoke(app, ["--db", store.location, "report", "land-release", "--json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["records"]["hazards"] == ["HZ-000001", "HZ-200000", "HZ-999998..HZ-1000001"]


def test_the_service_lists_pages_and_tiles_past_a_million(store: Store) -> None:
    """The JSON API's list, OGC API items paging and vector tiles (cut by the service, or by PostGIS)."""
    import math
    import warnings

    import mapbox_vector_tile  # type: ignore[import-untyped]
    from starlette.exceptions import StarletteDeprecationWarning

    from landrelease.accounts import open_accounts
    from landrelease.accounts.users import create_user
    from landrelease.service.app import create_app
    from landrelease.service.context import Role

    with warnings.catch_warnings():  # Starlette 1.x prefers httpx2 for its TestClient; httpx is installed
        warnings.simplefilter("ignore", StarletteDeprecationWarning)
        from fastapi.testclient import TestClient

    _crossing(store)
    accounts = open_accounts(store.location)
    try:
        token = create_user(accounts, "viewer", Role.VIEWER, None, None)[1]
    finally:
        accounts.close()
    with TestClient(create_app(store.location), headers={"Authorization": f"Bearer {token}"}) as client:
        listed = client.get("/api/hazards", params={"limit": 3, "offset": 2})
        assert listed.status_code == 200, listed.text
        assert [f["id"] for f in listed.json()["features"]] == CREATED[2:5]
        pages = [client.get("/ogc/collections/hazards/items", params={"limit": 2, "offset": o}) for o in (0, 2, 4)]
        assert [f["id"] for page in pages for f in page.json()["features"]] == CREATED
        z = 12  # the tile holding the field at 30.005 E, 50.005 N
        x = int((30.005 + 180) / 360 * 2**z)
        y = int((1 - math.asinh(math.tan(math.radians(50.005))) / math.pi) / 2 * 2**z)
        tile = client.get(f"/tiles/hazards/{z}/{x}/{y}.mvt")
        assert tile.status_code == 200, tile.text
        features = mapbox_vector_tile.decode(tile.content)["hazards"]["features"]
        # The feature id is the id's number (what map clients key on): 1,000,000 and on too.
        assert sorted((f["id"], f["properties"]["id"]) for f in features) == sorted(
            (int(i.split("-")[1]), i) for i in CREATED
        )
