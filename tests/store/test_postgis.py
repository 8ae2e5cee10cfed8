"""What only the PostGIS backend has: the GiST index, the COPY path, connection messages, the ledger triggers
written in plpgsql, schema versions. The shared behaviour is in test_contract.py (run on both backends)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import shapely
from shapely.geometry import Point, box

from landrelease.domain.records import Change, NewFeature
from landrelease.errors import StoreError
from landrelease.store import open_store

from .conftest import PostGISDatabase

psycopg = pytest.importorskip("psycopg")

ANNA = Change("anna", "national survey 2024", datetime(2024, 5, 1, 9, 30, tzinfo=UTC))
BOHDAN = Change("bohdan", "technical survey report TS-17", datetime(2024, 6, 2, 14, 0, tzinfo=UTC))


@pytest.fixture
def url(postgis_database: PostGISDatabase) -> Iterator[str]:
    """A fresh, empty schema (our tables not made yet)."""
    made = postgis_database.fresh_schema()
    yield made
    postgis_database.drop_schema(made)


def _sql(url: str, query: str, *parameters: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(query, parameters or None)
        return cursor.fetchall() if cursor.description else []


def _hazards(count: int, offset: float = 0.0) -> list[NewFeature]:
    return [
        NewFeature(
            {"name": f"H{i}", "hazard_class": "SHA", "status": "active", "reported_date": "2024-02-03"},
            box(22 + i * 0.001 + offset, 44, 22.0005 + i * 0.001 + offset, 44.0005),
            {"estimated_m2": float(i)},
        )
        for i in range(count)
    ]


def test_bounding_box_query_uses_the_gist_index(url: str) -> None:
    from landrelease.store.postgis.store import features_query

    with open_store(url, create=True) as store:
        store.add("hazards", _hazards(20_000), ANNA)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE hazards")
        query = features_query("hazards", bbox=True).as_string(conn)
        plan = conn.execute(f"EXPLAIN {query}", (-1, 25.0, 44.0, 25.01, 44.01)).fetchall()
    text = "\n".join(row[0] for row in plan)
    assert "hazards_geom_gist" in text, text
    indexes = _sql(url, "SELECT indexdef FROM pg_indexes WHERE tablename = 'finds'")
    assert any("USING gist (geom)" in row[0] for row in indexes)


def test_copy_path_gives_the_same_records_as_the_insert_path(
    postgis_database: PostGISDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    from landrelease.store.postgis import store as module

    batch = [
        *_hazards(300),
        NewFeature({"hazard_class": "CHA", "status": "active", "name": "Поле «Ізюм»\tтаб\\N\r\n\\x"}, None),
    ]
    urls = [postgis_database.fresh_schema() for _ in range(2)]
    try:
        results = []
        for url, threshold in zip(urls, (module.BULK_ROWS, 10**9), strict=True):
            monkeypatch.setattr(module, "BULK_ROWS", threshold)
            with open_store(url, create=True) as store:
                ids = store.add("hazards", batch, ANNA)
                results.append(
                    (
                        ids,
                        list(store.features("hazards")),
                        [store.history(i) for i in ids[::50]],
                        store.ledger_state(),
                    )
                )
        copied, inserted = results
        assert copied[0] == inserted[0] == [f"HZ-{i:06d}" for i in range(1, 302)]
        assert copied[1] == inserted[1]
        assert copied[2] == inserted[2]
        assert copied[3] == inserted[3] and copied[3].changes == 301
        assert copied[1][5].attributes["estimated_m2"] == 5.0
        assert copied[1][-1].attributes["name"] == batch[-1].attributes["name"]
    finally:
        for url in urls:
            postgis_database.drop_schema(url)


@pytest.mark.parametrize(
    "location",
    [
        "postgresql://anna:s3cret-pw@127.0.0.1:1/landrelease",  # nothing listens on port 1
        "postgresql://postgres:s3cret-pw@127.0.0.1:5432/landrelease_no_such_database",
    ],
)
def test_connection_errors_are_one_line_without_the_password(location: str, postgis_database: PostGISDatabase) -> None:
    with pytest.raises(StoreError) as caught:
        open_store(location)
    message = str(caught.value)
    assert "s3cret-pw" not in message
    assert "\n" not in message
    assert message.startswith("cannot connect to postgresql://")


def test_a_database_without_our_schema_is_refused_unless_created(url: str) -> None:
    from landrelease.store.postgis import schema

    with pytest.raises(StoreError, match="not a landrelease database") as caught:
        open_store(url)
    assert "\n" not in str(caught.value)
    with open_store(url, create=True) as store:
        assert store.schema_version() == schema.SCHEMA_VERSION
    with open_store(url) as store:  # and now it opens
        assert store.count("hazards") == 0


def test_a_newer_schema_is_refused(url: str) -> None:
    open_store(url, create=True).close()
    _sql(url, "UPDATE lr_meta SET value = 99 WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match=r"newer landrelease \(schema 99\)"):
        open_store(url)


def test_ledger_triggers_count_only_real_changes(url: str) -> None:
    with open_store(url, create=True) as store:
        [hz] = store.add("hazards", _hazards(1), ANNA)
        outcomes = [NewFeature({"hazard_id": hz, "kind": "cleared"}, box(22, 44, 22.0001, 44.0001))] * 300
        ocs = store.add("outcomes", outcomes, ANNA)  # the COPY path: one statement, 300 changes
        assert store.ledger_state().changes == 301
        store.add("finds", [NewFeature({"quantity": 1}, Point(22, 44))], ANNA)  # not a ledger input
        store.update(hz, BOHDAN, {"status": "worked_on"}, status_change=True)  # not a ledger input
        store.update(ocs[0], BOHDAN, {"kind": "cleared", "operator": "HALO"})  # same kind: no change
        store.update(hz, BOHDAN, geometry=store.get(hz).geometry)  # same geometry
        store.set_derived("hazards", {hz: {"cleared_m2": 1.0}})  # derived: not an input
        assert store.ledger_state().changes == 301
        store.update(ocs[0], BOHDAN, {"kind": "reduced"})
        store.update(ocs[1], BOHDAN, {"release_date": "2024-05-05"})
        store.update(hz, BOHDAN, geometry=box(22, 44, 22.1, 44.1))
        assert store.ledger_state().changes == 304
        store.retire(ocs[2], BOHDAN)
        assert store.ledger_state().changes == 305
        # An edit made by another program (psql, QGIS) counts too; one that changes nothing does not.
        _sql(url, "UPDATE outcomes SET kind = 'cancelled' WHERE id = %s", ocs[3])
        _sql(url, "UPDATE outcomes SET kind = kind")
        assert store.ledger_state().changes == 306
        store.set_derived("hazards", {}, ledger_synced=306)
        assert store.ledger_state().current


def test_concurrent_adds_never_share_an_id(url: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    open_store(url, create=True).close()

    def add(worker: int) -> list[str]:
        with open_store(url) as store:
            return [i for _ in range(5) for i in store.add("hazards", _hazards(3, worker), ANNA)]

    with ThreadPoolExecutor(4) as pool:
        ids = [i for chunk in pool.map(add, range(4)) for i in chunk]
    assert len(ids) == len(set(ids)) == 60
    assert sorted(ids) == [f"HZ-{i:06d}" for i in range(1, 61)]


def test_columns_decode_geometries_from_wkb(url: str) -> None:
    with open_store(url, create=True) as store:
        ids = store.add("hazards", _hazards(1000), ANNA)
        got_ids, geometries, values = store.columns("hazards", ["estimated_m2", "reported_date"])
    assert got_ids == ids
    assert shapely.equals(geometries, shapely.multipolygons([[g] for g in (f.geometry for f in _hazards(1000))])).all()
    assert values["estimated_m2"][:3] == [0.0, 1.0, 2.0]
    assert set(values["reported_date"]) == {"2024-02-03"}


def test_the_geopackage_path_never_imports_psycopg(tmp_path: Path) -> None:
    code = (
        "import sys; from landrelease.store import open_store; "
        f"open_store({str(tmp_path / 'a.gpkg')!r}, create=True).close(); "
        "assert 'psycopg' not in sys.modules, 'psycopg imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.slow
def test_the_same_commands_give_the_same_figures_on_both_backends(url: str, tmp_path: Path) -> None:
    """Real BiH records imported into a GeoPackage and into PostGIS, outcomes added, reports compared."""
    from landrelease.actions.checks import check_database
    from landrelease.actions.imports import ImportOptions, import_file
    from landrelease.actions.release import refresh_ledger
    from landrelease.analysis.land_release import land_release_report
    from tests.conftest import shared_file

    admin, cleared = shared_file("bih", "admin1.geojson"), shared_file("bih", "cleared_areas.geojson")
    results = []
    for location in (str(tmp_path / "bih.gpkg"), url):
        with open_store(location, create=True) as store:
            import_file(store, "admin-areas", admin, ImportOptions(level=1, name_field="shapeName"))
            summary = import_file(store, "hazards", cleared, ImportOptions(on_invalid="repair"))
            ids, geoms, _ = store.columns("hazards", [])
            kinds = ("cancelled", "reduced", "cleared")
            outcomes = []
            for i, (hid, geom) in enumerate(zip(ids[:400], geoms[:400], strict=True)):
                minx, miny, maxx, maxy = geom.bounds
                strip = shapely.box(minx, miny, minx + (maxx - minx) * 0.6, maxy)  # overlaps the next one
                piece = shapely.intersection(geom, strip)
                if not piece.is_empty and piece.area > 0:
                    polygons = [p for p in shapely.get_parts(piece) if p.geom_type == "Polygon"]
                    if polygons:
                        attrs = {"hazard_id": hid, "kind": kinds[i % 3], "release_date": f"20{10 + i % 10}-05-01"}
                        outcomes.append(NewFeature(attrs, shapely.MultiPolygon(polygons)))
            store.add("outcomes", outcomes, ANNA)
            refresh_ledger(store)
            report = land_release_report(store, "admin")
            recomputed = land_release_report(store, "admin", recompute=True)
            results.append((summary.as_dict(), report.as_dict(), recomputed.totals, len(check_database(store))))
    (gpkg_import, gpkg, gpkg_recomputed, gpkg_problems), (pg_import, pg, pg_recomputed, pg_problems) = results
    assert {k: gpkg_import[k] for k in ("imported", "repaired", "rejected")} == {
        k: pg_import[k] for k in ("imported", "repaired", "rejected")
    }
    assert gpkg_problems == pg_problems
    for name, value in gpkg["totals"].items():
        assert pg["totals"][name] == pytest.approx(value, rel=1e-9), name
        assert getattr(pg_recomputed, name) == pytest.approx(value, rel=1e-9), name
        assert getattr(gpkg_recomputed, name) == pytest.approx(value, rel=1e-9), name
    assert gpkg["totals"]["cleared_m2"] > 0
    assert [(g["name"], g["hazards"]) for g in gpkg["groups"]] == [(g["name"], g["hazards"]) for g in pg["groups"]]
