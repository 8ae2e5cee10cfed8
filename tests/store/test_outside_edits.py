"""Edits made outside landrelease (QGIS, GDAL, psql, sqlite3) are versioned like ours, on both stores.

Another program's edits are made here with a plain connection to the database: sqlite3 on the GeoPackage
(with the R*Tree triggers' ST_ functions registered, as GDAL and QGIS have them) or psycopg on the URL; and
for the GeoPackage also with GDAL itself (``ogr.OGREdit``, pyogrio). Only the protocol reads the results.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import pytest
import shapely
from pyogrio import raw
from shapely.geometry import MultiPolygon, Point, box
from shapely.geometry.base import BaseGeometry

from landrelease.domain.records import Action, Change, NewFeature, Scalar
from landrelease.domain.schema import LAYERS
from landrelease.errors import Conflict, NotFound
from landrelease.store import Store, open_store
from landrelease.store.geopackage import GeoPackageStore, blob
from landrelease.store.geopackage import history as gpkg_history
from landrelease.store.geopackage import outside_edits as gpkg_outside
from landrelease.store.geopackage import schema as gpkg_schema
from landrelease.store.geopackage.store import BULK_ROWS
from landrelease.store.outside_edits import AUTHOR, REASONS
from tests.store.conftest import PostGISDatabase
from tests.store.ogr import OGREdit

ANNA = Change("anna", "national survey 2024", datetime(2024, 5, 1, 9, 30, tzinfo=UTC))
BOHDAN = Change("bohdan", "technical survey report TS-17", datetime(2024, 6, 2, 14, 0, tzinfo=UTC))

#: The contract's backends with a database another program can open (the routed store is a GeoPackage too).
both = pytest.mark.parametrize("store", ["geopackage", "postgis"], indirect=True)
postgis = pytest.mark.parametrize("store", ["postgis"], indirect=True)


class Outside:
    """Another program's connection to the store's database (autocommit, as QGIS saves an edit)."""

    def __init__(self, location: str) -> None:
        self.postgis = location.startswith("postgresql://")
        self.conn: Any
        if self.postgis:
            import psycopg

            self.conn = psycopg.connect(location, autocommit=True)
            self.errors: tuple[type[Exception], ...] = (psycopg.DatabaseError,)
        else:
            self.conn = sqlite3.connect(location, isolation_level=None)
            blob.register_sql_functions(self.conn)
            self.errors = (sqlite3.DatabaseError,)

    def run(self, query: str, *parameters: object) -> list[tuple[Any, ...]]:
        """``query`` with ``%s`` placeholders; its rows."""
        cursor = self.conn.execute(query if self.postgis else query.replace("%s", "?"), parameters)
        return list(cursor.fetchall()) if cursor.description else []

    def geometry(self, shape: BaseGeometry) -> tuple[str, object]:
        """The SQL placeholder and parameter of a geometry (a WKT for PostGIS, a GeoPackage blob here)."""
        if self.postgis:
            return "ST_GeomFromText(%s, 4326)", shape.wkt
        return "%s", blob.encode(shape)

    def set_geometry(self, layer: str, record_id: str, shape: BaseGeometry) -> None:
        placeholder, value = self.geometry(shape)
        self.run(f"UPDATE {layer} SET geom = {placeholder} WHERE id = %s", value, record_id)

    def insert(self, layer: str, values: Mapping[str, object], shape: BaseGeometry | None = None) -> None:
        """A new row as QGIS adds one: only the columns it was given (no version: the column default)."""
        names, marks, parameters = list(values), ["%s"] * len(values), list(values.values())
        if shape is not None:
            mark, value = self.geometry(shape)
            names.append("geom")
            marks.append(mark)
            parameters.append(value)
        self.run(f"INSERT INTO {layer} ({', '.join(names)}) VALUES ({', '.join(marks)})", *parameters)

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def outside(store: Store) -> Iterator[Outside]:
    """(The PostGIS store's location is its URL without the password; the test server needs none.)"""
    connection = Outside(store.location)
    yield connection
    connection.close()


def hazard(name: str, status: str = "active") -> dict[str, Scalar]:
    return {"name": name, "hazard_class": "SHA", "status": status}


def square(x: float, size: float = 0.01) -> MultiPolygon:
    return MultiPolygon([box(x, 48.0, x + size, 48.0 + size)])


def history_counts(store: Store, ids: list[str]) -> list[int]:
    return [len(store.history(i)) for i in ids]


# --- updates ------------------------------------------------------------------------------------------------


@both
def test_an_outside_edit_of_status_and_geometry_is_a_version(store: Store, outside: Outside) -> None:
    [hz] = store.add("hazards", [NewFeature(hazard("Field by the river"), square(30))], ANNA)
    before = datetime.now(UTC) - timedelta(seconds=1)
    outside.run("UPDATE hazards SET status = %s WHERE id = %s", "worked_on", hz)
    assert store.get(hz).version == 2
    outside.set_geometry("hazards", hz, square(31))

    versions = store.history(hz)
    assert [(v.version, v.action, v.change.author) for v in versions] == [
        (1, Action.CREATE, "anna"),
        (2, Action.UPDATE, AUTHOR),
        (3, Action.UPDATE, AUTHOR),
    ]
    assert versions[1].change.reason == versions[2].change.reason == REASONS[Action.UPDATE]
    assert versions[1].change.at >= before and versions[1].change.at.utcoffset() == timedelta(0)
    assert versions[1].attributes == {**versions[0].attributes, "status": "worked_on"}
    assert versions[2].attributes == versions[1].attributes
    assert versions[1].geometry is not None and versions[1].geometry.equals(square(30))
    assert versions[2].geometry is not None and versions[2].geometry.equals(square(31))
    assert outside.run("SELECT version, updated_by FROM hazards WHERE id = %s", hz) == [(3, AUTHOR)]

    current = store.get(hz)
    assert current.version == 3 and current.attributes["status"] == "worked_on"
    assert current.geometry is not None and current.geometry.equals(square(31))
    # Whoever edited version 1 in landrelease meanwhile is told, not silently overwritten.
    with pytest.raises(Conflict, match="at version 3, you edited version 1"):
        store.update(hz, BOHDAN, {"name": "stale"}, expected_version=1)
    assert store.update(hz, BOHDAN, {"name": "renamed"}, expected_version=3).version == 4
    assert [v.version for v in store.history(hz)] == [1, 2, 3, 4]


@both
def test_edits_that_change_no_versioned_value_are_no_version(store: Store, outside: Outside) -> None:
    [hz] = store.add("hazards", [NewFeature(hazard("Field"), square(30))], ANNA)
    outside.run("UPDATE hazards SET status = status, name = name")  # QGIS saves every column as it was
    outside.run("UPDATE hazards SET estimated_m2 = 5.0")  # derived: the ledger's, never versioned
    store.set_derived("hazards", {hz: {"cleared_m2": 2.0}})
    assert store.get(hz).version == 1
    assert history_counts(store, [hz]) == [1]
    assert store.get(hz).attributes["estimated_m2"] == 5.0


@both
def test_values_are_written_as_the_store_writes_them(store: Store, outside: Outside) -> None:
    """Integers, reals to the last bit, dates, booleans, text with quotes and Cyrillic, and cleared values."""
    given: dict[str, Scalar] = {
        "ordnance_category": "AP mine",
        "quantity": 2,
        "depth_cm": 5.5,
        "found_date": "2024-03-01",
    }
    [fd] = store.add("finds", [NewFeature(given, Point(30, 48))], ANNA)
    outside.run(
        "UPDATE finds SET quantity = %s, depth_cm = %s, found_date = %s, synthetic = %s, condition = %s, "
        "ordnance_category = NULL WHERE id = %s",
        12,
        0.1 + 0.2,
        "2024-03-02",
        True,
        'Поле біля Ізюма, "Слов’янськ" \\ 5 км',
        fd,
    )
    last = store.history(fd)[-1]
    assert last.version == 2
    expected = {
        **store.history(fd)[0].attributes,
        "ordnance_category": None,
        "quantity": 12,
        "depth_cm": 0.30000000000000004,
        "found_date": "2024-03-02",
        "synthetic": True,
        "condition": 'Поле біля Ізюма, "Слов’янськ" \\ 5 км',
    }
    assert last.attributes == expected
    assert last.attributes["synthetic"] is True and isinstance(last.attributes["quantity"], int)
    assert {k: v for k, v in store.get(fd).attributes.items() if k in expected} == expected
    stored = outside.run("SELECT attributes FROM lr_history WHERE record_id = %s AND version = 2", fd)[0][0]
    document = stored if outside.postgis else json.loads(stored)
    assert document == json.loads(gpkg_history.to_json(expected))  # the values that are set, nothing else


@both
def test_a_required_value_cleared_elsewhere_is_versioned_and_found_by_check(store: Store, outside: Outside) -> None:
    """QGIS can clear a value landrelease requires (the table cannot refuse it without refusing old rows):
    the edit is a version that keeps the old value in history, and ``check`` names the record."""
    from landrelease.actions.checks import check_database

    [hz] = store.add("hazards", [NewFeature(hazard("Field"), square(30))], ANNA)
    [ac] = store.add(
        "activities", [NewFeature({"hazard_id": hz, "activity_type": "clearance", "status": "planned"})], ANNA
    )
    outside.run("UPDATE hazards SET status = NULL WHERE id = %s", hz)
    outside.run("UPDATE activities SET activity_type = '  ' WHERE id = %s", ac)
    assert [v.attributes.get("status") for v in store.history(hz)] == ["active", None]
    found = [(f.check, f.record_id, f.message) for f in check_database(store) if f.check == "required"]
    assert found == [
        ("required", hz, "Status (status) is empty; it is required"),
        ("required", ac, "Type (activity_type) is empty; it is required"),
    ]
    store.update(hz, BOHDAN, {"status": "active"})  # put right through landrelease
    assert [f.record_id for f in check_database(store) if f.check == "required"] == [ac]


@both
def test_a_value_a_field_cannot_hold_written_elsewhere_is_found_by_check(store: Store, outside: Outside) -> None:
    """QGIS writes what it is given: a status not in the list (a typo), a date that is not a date. The
    edit is versioned, and ``check`` names each record with what is wrong, so it can be put right."""
    from landrelease.actions.checks import check_database

    hz, other = store.add("hazards", [NewFeature(hazard(f"H{i}"), square(30 + i)) for i in range(2)], ANNA)
    outside.run("UPDATE hazards SET status = %s WHERE id = %s", "actve", hz)
    if not outside.postgis:  # a PostGIS date column cannot hold one that is not a date
        outside.run("UPDATE hazards SET reported_date = %s WHERE id = %s", "yesterday", other)
    found = [(f.record_id, f.message) for f in check_database(store) if f.check == "value"]
    expected = [(hz, "Status: status: 'actve' is not one of active, worked_on, closed, handed_over")]
    if not outside.postgis:
        expected.append((other, "Date reported: reported_date: 'yesterday' is not a valid date"))
    assert sorted(found) == sorted(expected)
    store.update(hz, BOHDAN, {"status": "active"})  # put right through landrelease
    assert all(f.record_id != hz for f in check_database(store) if f.check == "value")


# --- deletions ----------------------------------------------------------------------------------------------


@both
def test_an_outside_delete_is_a_retirement(store: Store, outside: Outside) -> None:
    ids = store.add("hazards", [NewFeature(hazard(f"H{i}"), square(30 + i)) for i in range(2)], ANNA)
    outside.run("UPDATE hazards SET status = %s WHERE id = %s", "worked_on", ids[0])
    outside.run("DELETE FROM hazards WHERE id = %s", ids[0])

    versions = store.history(ids[0])
    assert [(v.version, v.action) for v in versions] == [(1, Action.CREATE), (2, Action.UPDATE), (3, Action.RETIRE)]
    assert versions[2].change.author == AUTHOR and versions[2].change.reason == REASONS[Action.RETIRE]
    assert versions[2].attributes == versions[1].attributes  # the last attributes and geometry, kept
    assert versions[2].geometry is not None and versions[2].geometry.equals(square(30))
    with pytest.raises(NotFound, match=f"{ids[0]} was retired on .* by {AUTHOR}: deleted in another program"):
        store.get(ids[0])
    assert store.add("hazards", [NewFeature(hazard("next"))], ANNA) == ["HZ-000003"]  # never reused
    assert history_counts(store, ids) == [3, 1]


# --- insertions ---------------------------------------------------------------------------------------------


@both
def test_an_outside_insert_gets_the_next_id_version_1_and_a_create_version(store: Store, outside: Outside) -> None:
    store.add("hazards", [NewFeature(hazard(f"H{i}"), square(30 + i)) for i in range(2)], ANNA)
    outside.insert("hazards", hazard("drawn in QGIS"), square(35))  # no id, no version: QGIS "add feature"
    [(added, version)] = outside.run("SELECT id, version FROM hazards WHERE name = %s", "drawn in QGIS")
    assert (added, version) == ("HZ-000003", 1)
    [created] = store.history(added)
    assert (created.version, created.action, created.change.author) == (1, Action.CREATE, AUTHOR)
    assert created.change.reason == REASONS[Action.CREATE]
    assert created.attributes == {n: store.get(added).attributes[n] for n in created.attributes}
    assert created.attributes["name"] == "drawn in QGIS"
    assert created.geometry is not None and created.geometry.equals(square(35))
    assert store.get(added).version == 1

    assert store.add("hazards", [NewFeature(hazard("ours"))], ANNA) == ["HZ-000004"]
    outside.insert("hazards", {"id": "HZ-000010", **hazard("typed id")})  # an id typed in by hand
    assert [v.action for v in store.history("HZ-000010")] == [Action.CREATE]
    assert store.add("hazards", [NewFeature(hazard("ours"))], ANNA) == ["HZ-000011"]
    outside.insert("victims", {"sex": "female"})  # a layer without geometry
    assert [(v.version, v.action) for v in store.history("VC-000001")] == [(1, Action.CREATE)]
    outside.insert("hazards", hazard("again"))
    assert outside.run("SELECT id FROM hazards WHERE name = %s", "again") == [("HZ-000012",)]
    assert store.count("hazards") == 7


@both
def test_wrong_and_reused_ids_and_id_changes_are_refused(store: Store, outside: Outside) -> None:
    ids = store.add("hazards", [NewFeature(hazard(f"H{i}")) for i in range(2)], ANNA)
    store.retire(ids[1], BOHDAN)
    with pytest.raises(outside.errors, match="hazards: ids look like HZ-000001; leave the id empty"):
        outside.insert("hazards", {"id": "field 7", **hazard("x")})
    with pytest.raises(outside.errors, match="hazards: ids look like HZ-000001"):
        outside.insert("hazards", {"id": "FD-000009", **hazard("x")})
    with pytest.raises(outside.errors, match="that id was used before and ids are never reused"):
        outside.insert("hazards", {"id": ids[1], **hazard("x")})
    with pytest.raises(outside.errors, match="a record's id never changes"):
        outside.run("UPDATE hazards SET id = %s WHERE id = %s", "HZ-000099", ids[0])
    assert [f.id for f in store.features("hazards")] == [ids[0]]
    assert history_counts(store, ids) == [1, 2]


@both
def test_a_version_written_back_lower_is_refused(store: Store, outside: Outside) -> None:
    """A stale feature saved whole (a script that read it before landrelease's update) would set version 1
    again: every later edit of the record, landrelease's or QGIS's, would then collide with its history."""
    [hz] = store.add("hazards", [NewFeature(hazard("Field"), square(30))], ANNA)
    store.update(hz, BOHDAN, {"status": "worked_on"})
    with pytest.raises(outside.errors, match="hazards: a record's version counts its versions and never goes back"):
        outside.run("UPDATE hazards SET version = 1, status = 'active', name = 'stale' WHERE id = %s", hz)
    outside.run("UPDATE hazards SET name = 'renamed in QGIS' WHERE id = %s", hz)
    # The insert trigger's own write of version 1 is let through: on the GeoPackage also over a version typed
    # in on a row without an id (on PostGIS a row added with a version of its own is left as it is).
    typed = {} if outside.postgis else {"version": 3}
    outside.insert("hazards", {**typed, **hazard("drawn in QGIS")})
    assert store.update(hz, BOHDAN, {"status": "active"}).version == 4
    assert [v.version for v in store.history(hz)] == [1, 2, 3, 4]
    assert store.get("HZ-000002").version == 1
    assert [v.action for v in store.history("HZ-000002")] == [Action.CREATE]


@both
def test_ids_typed_in_or_written_ahead_are_never_given_again_past_999999(store: Store, outside: Outside) -> None:
    """Past 999,999 text order is not number order: VC-999999 sorts after VC-1000004."""
    victim = {"accident_id": "AX-000001", "sex": "male"}
    store.add("victims", [NewFeature(victim)], ANNA)
    outside.run("UPDATE lr_counters SET last_number = 999998 WHERE layer = 'victims'")
    assert store.add("victims", [NewFeature(victim)], ANNA) == ["VC-999999"]

    def added() -> str:
        outside.insert("victims", {"sex": "female"})
        return str(outside.run("SELECT id FROM victims ORDER BY fid DESC LIMIT 1")[0][0])

    assert added() == "VC-1000000"
    outside.insert("victims", {"id": "VC-1000002", "sex": "male"})  # typed in QGIS, then deleted
    outside.run("DELETE FROM victims WHERE id = %s", "VC-1000002")
    # A row with a version of its own (copied from another file): no trigger sees it.
    outside.run("INSERT INTO victims (id, version, sex) VALUES ('VC-1000004', 1, 'male')")
    assert [added(), added()] == ["VC-1000003", "VC-1000005"]
    assert store.add("victims", [NewFeature(victim)], ANNA) == ["VC-1000006"]
    assert [v.action for v in store.history("VC-1000002")] == [Action.CREATE, Action.RETIRE]
    assert added() == "VC-1000007"


@postgis
def test_postgis_gives_free_ids_past_999999_to_many_rows_added_at_once(store: Store, outside: Outside) -> None:
    """psql adding many rows in one statement, each id from the column default, after rows copied in with
    versions of their own past 999,999 (where the text max, VC-999999, is behind them)."""
    victim = {"accident_id": "AX-000001", "sex": "male"}
    outside.run("UPDATE lr_counters SET last_number = 999998 WHERE layer = 'victims'")
    assert store.add("victims", [NewFeature(victim)], ANNA) == ["VC-999999"]
    outside.run("INSERT INTO victims (id, version, sex) VALUES ('VC-1000000', 1, 'male'), ('VC-1000001', 1, 'male')")
    outside.run("INSERT INTO victims (sex) SELECT 'female' FROM generate_series(1, 3)")
    added = [i for (i,) in outside.run("SELECT id FROM victims WHERE sex = 'female' ORDER BY fid")]
    assert added == ["VC-1000002", "VC-1000003", "VC-1000004"]
    assert [[v.action for v in store.history(i)] for i in added] == [[Action.CREATE]] * 3
    assert store.add("victims", [NewFeature(victim)], ANNA) == ["VC-1000005"]
    outside.insert("victims", {"id": "VC-2000000", "sex": "male"})  # typed in past a million more
    outside.insert("victims", {"sex": "female"})
    assert outside.run("SELECT id FROM victims ORDER BY fid DESC LIMIT 1") == [("VC-2000001",)]


# --- landrelease's own writes ---------------------------------------------------------------------------------


@both
def test_landreleases_own_writes_write_one_version_each(store: Store, empty_store: Store) -> None:
    [one] = store.add("hazards", [NewFeature(hazard("one"), square(30))], ANNA)
    many = store.add("hazards", [NewFeature(hazard(f"H{i}"), square(31 + i / 1000)) for i in range(BULK_ROWS)], ANNA)
    outcomes = store.add("outcomes", [NewFeature({"hazard_id": one, "kind": "cleared"}, square(30, 0.005))], ANNA)
    [victim] = store.add("victims", [NewFeature({"accident_id": "AX-000001", "sex": "male"})], ANNA)
    assert history_counts(store, [one, many[0], many[-1], *outcomes, victim]) == [1, 1, 1, 1, 1]
    assert store.get(many[-1]).version == 1

    store.update(one, BOHDAN, {"status": "worked_on"}, status_change=True)
    store.update(one, BOHDAN, geometry=square(30.5))
    store.update(victim, BOHDAN, {"sex": "female"})
    store.set_derived("hazards", {one: {"cleared_m2": 10.0}, many[0]: {"estimated_m2": 20.0}}, ledger_synced=1)
    store.retire(many[1], BOHDAN)
    assert history_counts(store, [one, many[0], many[1], victim]) == [3, 1, 2, 2]
    assert [v.action for v in store.history(many[1])] == [Action.CREATE, Action.RETIRE]

    layers = ["hazards", "outcomes", "victims"]
    dumps = [store.dump(layer) for layer in layers]
    assert [d.version_count for d in dumps] == [BULK_ROWS + 1 + 3, 1, 2]
    empty_store.load(dumps, store.ledger_state())
    assert [empty_store.dump(layer).version_count for layer in layers] == [BULK_ROWS + 4, 1, 2]
    for record_id in (one, many[0], many[1], victim):
        assert empty_store.history(record_id) == store.history(record_id)
    assert empty_store.get(one).version == 3 and empty_store.get(many[0]).attributes["estimated_m2"] == 20.0


# --- the GeoPackage with GDAL ------------------------------------------------------------------------------------


def test_gdal_appends_updates_and_deletes_are_versioned(tmp_path: Path) -> None:
    path = tmp_path / "national.gpkg"
    with GeoPackageStore.open(path, create=True) as store:
        ids = store.add("hazards", [NewFeature(hazard(f"H{i}"), square(30 + i)) for i in range(3)], ANNA)
    # QGIS "add feature" through GDAL: no id, no version.
    drawn = np.array([shapely.to_wkb(square(36))], dtype=object)
    columns = [np.array(v, dtype=object) for v in (["CHA"], ["active"], ["з QGIS"])]
    fields = ["hazard_class", "status", "name"]
    options = {"driver": "GPKG", "append": True, "geometry_type": "MultiPolygon", "crs": "EPSG:4326"}
    raw.write(path, drawn, columns, fields, layer="hazards", **options)
    # QGIS saving an edited feature and deleting one: GDAL's SetFeature and DeleteFeature.
    with OGREdit(path) as ogr:
        ogr.set("hazards", 1, {"status": "worked_on"}, square(30.5))
        ogr.set("hazards", 2, {"name": "H1"})  # saved unchanged: no version
        ogr.delete("hazards", 3)

    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("SELECT rtreecheck('rtree_hazards_geom')").fetchone()[0] == "ok"
    assert pyogrio.read_info(path, layer="hazards")["features"] == 3
    with GeoPackageStore.open(path) as store:
        assert [(v.version, v.action, v.change.author) for v in store.history(ids[0])] == [
            (1, Action.CREATE, "anna"),
            (2, Action.UPDATE, AUTHOR),
        ]
        edited = store.get(ids[0])
        assert edited.version == 2 and edited.attributes["status"] == "worked_on"
        assert edited.geometry is not None and edited.geometry.equals(square(30.5))
        assert store.history(ids[0])[1].geometry == edited.geometry
        assert history_counts(store, ids) == [2, 1, 2]
        assert store.history(ids[2])[-1].action is Action.RETIRE
        [created] = store.history("HZ-000004")
        assert created.action is Action.CREATE and created.attributes["name"] == "з QGIS"
        assert store.add("hazards", [NewFeature(hazard("next"))], ANNA) == ["HZ-000005"]


def _as_schema_1(path: Path) -> None:
    """Make a GeoPackage as schema 1 left it: no outside-edit triggers, ``id NOT NULL``."""
    with sqlite3.connect(path, isolation_level=None) as conn:
        for name in [n for layer in LAYERS.values() for n in gpkg_outside.triggers(layer)]:
            conn.execute(f'DROP TRIGGER "{name}"')
        version = conn.execute("PRAGMA schema_version").fetchone()[0]
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute(
            "UPDATE sqlite_master SET sql = replace(sql, ', id TEXT UNIQUE,', ', id TEXT UNIQUE NOT NULL,') "
            "WHERE type = 'table'"
        )
        conn.execute(f"PRAGMA schema_version = {version + 1}")
        conn.execute("PRAGMA writable_schema = OFF")
        conn.execute("UPDATE lr_meta SET value = '1' WHERE key = 'schema_version'")


def test_a_geopackage_of_schema_1_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "old.gpkg"
    with GeoPackageStore.open(path, create=True) as store:
        [hz] = store.add("hazards", [NewFeature(hazard("ours"), square(30))], ANNA)
    _as_schema_1(path)
    with sqlite3.connect(path) as conn:
        blob.register_sql_functions(conn)
        # What QGIS left under schema 1: rows without history (version 0, or a version typed in), an edit.
        conn.execute(
            "INSERT INTO hazards (id, hazard_class, status, updated_by) VALUES ('HZ-000007', 'SHA', 'active', 'qgis')"
        )
        conn.execute("INSERT INTO victims (id, version, sex) VALUES ('VC-000003', 1, 'male')")
        conn.execute("INSERT INTO victims (id, sex) VALUES ('not ours', 'male')")
        conn.execute("UPDATE hazards SET status = 'closed' WHERE id = ?", (hz,))
        assert [r[3] for r in conn.execute("PRAGMA table_info(hazards)") if r[1] == "id"] == [1]

    with GeoPackageStore.open(path) as store:
        assert store.schema_version() == gpkg_schema.SCHEMA_VERSION == 2
        for record_id in ("HZ-000007", "VC-000003"):
            [created] = store.history(record_id)
            assert (created.version, created.action, created.change.author) == (1, Action.CREATE, AUTHOR)
            assert created.change.reason == gpkg_outside.UPGRADE_REASON
            assert store.get(record_id).version == 1
        assert len(store.history(hz)) == 1  # an edit made before the triggers stays unrecorded
    with sqlite3.connect(path) as conn:
        blob.register_sql_functions(conn)
        assert [r[3] for r in conn.execute("PRAGMA table_info(hazards)") if r[1] == "id"] == [0]
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        conn.execute("UPDATE hazards SET status = 'worked_on' WHERE id = ?", (hz,))
        conn.execute("INSERT INTO hazards (hazard_class, status) VALUES ('SHA', 'active')")
    with GeoPackageStore.open(path) as store:
        assert [v.action for v in store.history(hz)] == [Action.CREATE, Action.UPDATE]
        assert [v.action for v in store.history("HZ-000008")] == [Action.CREATE]
    assert pyogrio.read_info(path, layer="hazards")["features"] == 3


def test_a_postgis_database_of_schema_3_is_upgraded(postgis_database: PostGISDatabase) -> None:
    import psycopg

    from landrelease.store.postgis import outside_edits as pg_outside
    from landrelease.store.postgis import schema as pg_schema

    url = postgis_database.fresh_schema()
    try:
        with open_store(url, create=True) as store:
            [hz] = store.add("hazards", [NewFeature(hazard("ours"), square(30))], ANNA)
        with psycopg.connect(url, autocommit=True) as conn:  # as schema 3 left it, and what psql did then
            for layer in LAYERS.values():
                for name in pg_outside.functions(layer):
                    conn.execute(f'DROP FUNCTION "{name}"() CASCADE')
                conn.execute(f'ALTER TABLE "{layer.name}" ALTER COLUMN id DROP DEFAULT')
            conn.execute("DROP FUNCTION lr_next_id(text, text)")
            conn.execute("UPDATE lr_meta SET value = 3 WHERE key = 'schema_version'")
            conn.execute("INSERT INTO hazards (id, hazard_class, status) VALUES ('HZ-000007', 'SHA', 'active')")
            conn.execute("UPDATE hazards SET status = 'closed' WHERE id = %s", (hz,))
        with open_store(url) as store:
            assert store.schema_version() == pg_schema.SCHEMA_VERSION == 4
            [created] = store.history("HZ-000007")
            assert (created.version, created.action, created.change.reason) == (
                1,
                Action.CREATE,
                pg_outside.UPGRADE_REASON,
            )
            assert len(store.history(hz)) == 1
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("UPDATE hazards SET status = 'worked_on' WHERE id = %s", (hz,))
            conn.execute("INSERT INTO hazards (hazard_class, status) VALUES ('SHA', 'active')")
        with open_store(url) as store:
            assert [v.action for v in store.history(hz)] == [Action.CREATE, Action.UPDATE]
            assert [v.action for v in store.history("HZ-000008")] == [Action.CREATE]
    finally:
        postgis_database.drop_schema(url)


#: ``lr_next_id`` as schema 4 first made it (the highest id by text order only).
_FIRST_NEXT_ID = """
DECLARE
  top text;
  ahead bigint := 0;
  next_number bigint;
BEGIN
  EXECUTE format('SELECT max(id) FROM %I', p_layer) INTO top;
  IF top ~ ('^' || p_prefix || '-[0-9]+$') THEN
    ahead := substr(top, length(p_prefix) + 2)::bigint;
  END IF;
  INSERT INTO lr_counters AS c (layer, last_number) VALUES (p_layer, ahead + 1)
    ON CONFLICT (layer) DO UPDATE SET last_number = GREATEST(c.last_number, ahead) + 1
    RETURNING c.last_number INTO next_number;
  RETURN p_prefix || '-' || lpad(next_number::text, GREATEST(6, length(next_number::text)), '0');
END
"""


def test_a_postgis_database_with_the_first_schema_4_triggers_gets_the_new_ones_on_open(
    postgis_database: PostGISDatabase,
) -> None:
    """Schema 4's trigger SQL was changed in place: opening a database made with the first one remakes them."""
    import psycopg

    from landrelease.store.postgis import outside_edits as pg_outside
    from landrelease.store.postgis import schema as pg_schema

    url = postgis_database.fresh_schema()
    try:
        with open_store(url, create=True) as store:
            [hz] = store.add("hazards", [NewFeature(hazard("ours"), square(30))], ANNA)
            store.update(hz, BOHDAN, {"status": "worked_on"})
        with psycopg.connect(url, autocommit=True) as conn:  # as the first schema 4 made them
            conn.execute(
                f"CREATE OR REPLACE FUNCTION lr_next_id(p_layer text, p_prefix text) RETURNS text "
                f"LANGUAGE plpgsql AS $lr${_FIRST_NEXT_ID}$lr$"
            )
            for layer in LAYERS.values():
                conn.execute(f'DROP FUNCTION "lr_outside_{layer.name}_version"() CASCADE')
                name = f"lr_outside_{layer.name}_insert"
                first, typed = re.subn(
                    r"  -- An id typed in.*?(?=  UPDATE)", "", pg_outside.functions(layer)[name], flags=re.DOTALL
                )
                assert typed == 1
                conn.execute(
                    f'CREATE OR REPLACE FUNCTION "{name}"() RETURNS trigger LANGUAGE plpgsql AS $lr${first}$lr$'
                )
            assert pg_schema.needs_sync(conn)
        with open_store(url) as store:
            with psycopg.connect(url) as conn:
                assert not pg_schema.needs_sync(conn)
            outside = Outside(url)
            try:
                with pytest.raises(outside.errors, match="hazards: a record's version counts its versions"):
                    outside.run("UPDATE hazards SET version = 1 WHERE id = %s", hz)
                outside.insert("hazards", {"id": "HZ-000005", **hazard("typed id")})
                outside.run("DELETE FROM hazards WHERE id = %s", "HZ-000005")
                assert store.add("hazards", [NewFeature(hazard("ours"))], ANNA) == ["HZ-000006"]
                outside.run("UPDATE lr_counters SET last_number = 999998 WHERE layer = 'hazards'")
                assert store.add("hazards", [NewFeature(hazard("ours"))], ANNA) == ["HZ-999999"]
                outside.run(
                    "INSERT INTO hazards (id, version, hazard_class, status) VALUES ('HZ-1000000', 1, 'SHA', 'active')"
                )
                outside.insert("hazards", hazard("drawn in QGIS"))
                assert outside.run("SELECT id FROM hazards WHERE name = 'drawn in QGIS'") == [("HZ-1000001",)]
            finally:
                outside.close()
            assert [v.version for v in store.history(hz)] == [1, 2]
    finally:
        postgis_database.drop_schema(url)


def _read_only_command(folder: Path) -> list[str]:
    """The start of a command that sees ``folder`` read-only: its files chmod 444 for a user, a read-only
    bind mount for root (whom file modes do not stop)."""
    if os.geteuid() != 0:
        for path in folder.iterdir():
            path.chmod(0o444)
        folder.chmod(0o555)
        return []
    if shutil.which("unshare") is None:
        pytest.skip("running as root without unshare: no way to make a file read-only")
    mount = f'mount --bind "{folder}" "{folder}" && mount -o remount,ro,bind "{folder}" "{folder}" && exec "$@"'
    probe = subprocess.run(["unshare", "-m", "sh", "-c", mount, "sh", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"running as root and cannot mount read-only: {probe.stderr.decode().strip()}")
    return ["unshare", "-m", "sh", "-c", mount, "sh"]


def test_a_read_only_geopackage_of_schema_1_is_left_as_it_was_with_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "share"
    folder.mkdir()
    path = folder / "old.gpkg"
    with GeoPackageStore.open(path, create=True) as store:
        [hz] = store.add("hazards", [NewFeature(hazard("ours"), square(30))], ANNA)
    _as_schema_1(path)
    before = path.read_bytes()
    command = [*_read_only_command(folder), sys.executable, "-m", "landrelease", "--db", str(path)]
    try:
        done = subprocess.run([*command, "history", hz], capture_output=True, text=True, check=False)
    finally:
        folder.chmod(0o755)
        path.chmod(0o644)
    assert done.returncode != 0 and done.stdout == ""
    assert done.stderr == (
        f"error: {path} must be upgraded from schema 1 to 2 once, which writes to it, but it is read-only here: "
        "open it once where it can be written\n"
    )
    assert path.read_bytes() == before and not Path(f"{path}-journal").exists()
    with GeoPackageStore.open(path) as store:  # writable again: upgraded as any other
        assert store.schema_version() == 2 and len(store.history(hz)) == 1
