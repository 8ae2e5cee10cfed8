"""The GeoPackage backend beyond the contract: the file is a valid GeoPackage that GDAL (and so QGIS)
reads and writes as it is, it survives a killed process, and it refuses files that are not its own."""

from __future__ import annotations

import signal
import sqlite3
import struct
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyogrio import raw
from shapely.geometry import Point, box

from landrelease.domain.records import Change, NewFeature
from landrelease.domain.schema import HAZARDS, LAYERS, GeometryKind
from landrelease.errors import NotFound, StoreError
from landrelease.store import open_store
from landrelease.store.geopackage import GeoPackageStore, blob, outside_edits, schema
from landrelease.store.geopackage import store as store_module

ANNA = Change("anna", "national survey 2024")
NAMES = ["Поле біля Ізюма", "Харківська область", "ґ є і ї"]


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "programme.gpkg"


@pytest.fixture
def filled(path: Path) -> Iterator[GeoPackageStore]:
    """A database with hazards (polygons, one without geometry), finds (points) and victims (no geometry)."""
    store = GeoPackageStore.open(path, create=True)
    store.add(
        "hazards",
        [
            NewFeature(
                {"name": NAMES[0], "hazard_class": "SHA", "status": "active", "synthetic": True},
                box(36, 49, 36.1, 49.1),
            ),
            NewFeature(
                {"name": NAMES[1], "hazard_class": "CHA", "status": "worked_on", "reported_date": "2022-02-24"}, None
            ),
            NewFeature(
                {"name": NAMES[2], "hazard_class": "SHA", "status": "active"},
                shapely.Polygon([(30, 50), (31, 50), (30, 51)]),
            ),
        ],
        ANNA,
    )
    store.add(
        "finds", [NewFeature({"quantity": 2, "depth_cm": 12.5, "ordnance_model": "ПМН-2"}, Point(36.05, 49.05))], ANNA
    )
    store.add("victims", [NewFeature({"accident_id": "AX-000001", "full_name": "Олена"})], ANNA)
    yield store
    store.close()


def sql(path: Path) -> sqlite3.Connection:
    """A plain connection, as another program would open the file (no functions of ours registered)."""
    return sqlite3.connect(path)


def rtree_matches_table(path: Path, layer: str) -> None:
    """Every row with a geometry is in the layer's R*Tree with its envelope (float32 rounded outwards)."""
    with sql(path) as conn:
        assert conn.execute(f"SELECT rtreecheck('rtree_{layer}_geom')").fetchone()[0] == "ok"
        rows = conn.execute(f"SELECT fid, geom FROM {layer}").fetchall()
        index = {r[0]: r[1:] for r in conn.execute(f"SELECT id, minx, maxx, miny, maxy FROM rtree_{layer}_geom")}
    expected = {fid: blob.envelope(geometry) for fid, geometry in rows if geometry is not None}
    assert set(index) == set(expected)
    for fid, (minx, maxx, miny, maxy) in expected.items():  # type: ignore[misc]
        low_x, high_x, low_y, high_y = index[fid]
        assert low_x <= minx and high_x >= maxx and low_y <= miny and high_y >= maxy
        assert np.allclose([low_x, high_x, low_y, high_y], [minx, maxx, miny, maxy], rtol=1e-6, atol=1e-6)


# --- a valid GeoPackage ------------------------------------------------------------------------------------


def test_the_file_is_a_geopackage_1_3(filled: GeoPackageStore, path: Path) -> None:
    with sql(path) as conn:
        assert conn.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 10300
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        srs = {row[0] for row in conn.execute("SELECT srs_id FROM gpkg_spatial_ref_sys")}
        assert srs == {-1, 0, 4326}
        contents = dict(conn.execute("SELECT table_name, data_type FROM gpkg_contents").fetchall())
        columns = dict(conn.execute("SELECT table_name, geometry_type_name FROM gpkg_geometry_columns").fetchall())
        extensions = conn.execute(
            "SELECT table_name, column_name, extension_name, scope FROM gpkg_extensions"
        ).fetchall()
        fid = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'hazards'").fetchone()[0]
    assert contents["lr_history"] == "attributes"
    for layer in LAYERS.values():
        if layer.geometry is GeometryKind.NONE:
            assert contents[layer.name] == "attributes" and layer.name not in columns
        else:
            assert contents[layer.name] == "features"
            assert columns[layer.name] == layer.geometry.value
            assert (layer.name, "geom", "gpkg_rtree_index", "write-only") in extensions
    assert "fid INTEGER PRIMARY KEY AUTOINCREMENT" in fid
    assert '"estimated_m2" DOUBLE' in fid and "FLOAT" not in fid and "VARCHAR" not in fid
    for name in ("hazards", "finds"):
        rtree_matches_table(path, name)


def test_geometry_blobs_follow_the_spec(filled: GeoPackageStore, path: Path) -> None:
    with sql(path) as conn:
        data = conn.execute("SELECT geom FROM hazards WHERE id = 'HZ-000001'").fetchone()[0]
    magic, version, flags, srs_id = struct.unpack_from("<2sBBi", data)
    assert (magic, version, srs_id) == (b"GP", 0, 4326)
    assert flags & 0x01 and (flags >> 1) & 0x07 == 1 and not flags & 0x30  # little endian, xy envelope
    assert struct.unpack_from("<4d", data, 8) == (36.0, 36.1, 49.0, 49.1)
    assert shapely.from_wkb(data[40:]).equals(box(36, 49, 36.1, 49.1))
    assert data[40] == 1 and struct.unpack_from("<I", data, 41)[0] == 6  # little-endian ISO WKB MultiPolygon


def test_gdal_reads_every_layer_as_it_is(filled: GeoPackageStore, path: Path) -> None:
    listed = dict(pyogrio.list_layers(path).tolist())
    assert set(listed) == {*LAYERS, "lr_history"}
    assert listed["hazards"] == "MultiPolygon" and listed["finds"] == "Point" and listed["victims"] is None
    for layer in ("hazards", "finds", "victims"):
        info = pyogrio.read_info(path, layer=layer)
        assert info["features"] == filled.count(layer)
        assert list(info["fields"]) == ["id", "version", "updated_at", "updated_by", *LAYERS[layer].field_names]
        if LAYERS[layer].geometry is not GeometryKind.NONE:
            assert info["crs"] == "EPSG:4326"
        dtypes = dict(zip(info["fields"], info["dtypes"], strict=True))
        for field in LAYERS[layer].fields:
            if field.type == "REAL":
                assert dtypes[field.name] == "float64"  # never 32-bit
            if field.type == "DATE":
                assert dtypes[field.name].startswith("datetime64"), field.name  # a date picker in QGIS
            if field.type == "BOOLEAN":
                assert dtypes[field.name] == "bool", field.name  # a checkbox in QGIS
        meta, _, geometries, values = raw.read(path, layer=layer, return_fids=True)
        by_name = dict(zip(meta["fields"], values, strict=True))
        ours = list(filled.features(layer))
        assert list(by_name["id"]) == [f.id for f in ours]
        for feature, i in zip(ours, range(len(ours)), strict=True):
            for name, value in feature.attributes.items():
                gdal = by_name[name][i]
                if value is None:
                    assert gdal is None or bool(np.isnat(gdal) if isinstance(gdal, np.datetime64) else np.isnan(gdal))
                elif isinstance(gdal, np.datetime64):  # GDAL reads DATE columns as dates
                    assert str(gdal) == value, (layer, name)
                else:
                    assert gdal == value, (layer, name)
            if geometries is not None:
                gdal_geometry = None if geometries[i] is None else shapely.from_wkb(geometries[i])
                assert (gdal_geometry is None) == (feature.geometry is None)
                if feature.geometry is not None:
                    assert gdal_geometry is not None and gdal_geometry.equals(feature.geometry)
                    assert gdal_geometry.geom_type == feature.geometry.geom_type
    assert list(raw.read(path, layer="hazards")[3][4]) == NAMES  # Cyrillic names, exactly
    history = raw.read(path, layer="lr_history", read_geometry=False)
    assert len(history[3][0]) == 5


def test_gdal_can_append_and_the_rtree_follows(filled: GeoPackageStore, path: Path) -> None:
    filled.close()
    geometry = shapely.to_wkb(np.array([shapely.MultiPolygon([box(40, 45, 40.5, 45.5)])], dtype=object))
    values = [
        np.array(v, dtype=object)
        for v in (["HZ-500000"], ["2024-01-01T00:00:00Z"], ["qgis"], ["CHA"], ["active"], ["з QGIS"])
    ]
    values.insert(1, np.array([1]))
    raw.write(
        path,
        geometry,
        values,
        ["id", "version", "updated_at", "updated_by", "hazard_class", "status", "name"],
        layer="hazards",
        driver="GPKG",
        append=True,
        geometry_type="MultiPolygon",
        crs="EPSG:4326",
    )
    with sql(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    rtree_matches_table(path, "hazards")
    with GeoPackageStore.open(path) as store:
        assert store.count("hazards") == 4
        [found] = store.features("hazards", (40.1, 45.1, 40.2, 45.2))
        assert found.id == "HZ-500000" and found.attributes["name"] == "з QGIS"
        # Our next id does not collide with the one GDAL wrote.
        assert store.add("hazards", [NewFeature({"hazard_class": "SHA", "status": "active"})], ANNA) == ["HZ-500001"]
        store.update("HZ-500000", ANNA, {"status": "worked_on"}, geometry=box(41, 46, 41.5, 46.5))
    rtree_matches_table(path, "hazards")


def test_rtree_follows_updates_and_retirements(filled: GeoPackageStore, path: Path) -> None:
    filled.update("HZ-000001", ANNA, geometry=box(10, 10, 11, 11))  # update6 trigger
    filled.update("HZ-000002", ANNA, geometry=box(12, 12, 13, 13))  # update7: it had no geometry
    filled.update("HZ-000003", ANNA, geometry=None)  # update2
    filled.retire("FD-000001", ANNA)  # delete trigger
    for layer in ("hazards", "finds"):
        rtree_matches_table(path, layer)
    assert [f.id for f in filled.features("hazards", (10, 10, 13, 13))] == ["HZ-000001", "HZ-000002"]


def test_bulk_adds_keep_the_rtree_exact(path: Path) -> None:
    rng = np.random.default_rng(3)
    with GeoPackageStore.open(path, create=True) as store:
        for count in (1000, 300, 2000, 5):  # packed load, row inserts, packed rebuild, trigger
            x, y = rng.uniform(22, 40, count), rng.uniform(44, 52, count)
            polygons = shapely.box(x, y, x + 0.01, y + 0.01)
            store.add("hazards", [NewFeature({"hazard_class": "SHA", "status": "active"}, p) for p in polygons], ANNA)
            rtree_matches_table(path, "hazards")
        with sql(path) as conn:
            triggers = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        assert "rtree_hazards_geom_insert" in triggers
        assert store.count("hazards") == 3305


def test_a_failed_write_leaves_nothing_behind(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object) -> None:
        raise RuntimeError("disk on fire")

    with GeoPackageStore.open(path, create=True) as store:
        monkeypatch.setattr(store_module, "_touch", fail)  # the last step of add, after every insert
        polygons = [
            NewFeature({"hazard_class": "SHA", "status": "active"}, box(i, i, i + 1, i + 1)) for i in range(500)
        ]
        with pytest.raises(RuntimeError):
            store.add("hazards", polygons, ANNA)
        monkeypatch.undo()
        assert store.count("hazards") == 0
        assert store.add("hazards", polygons[:1], ANNA) == ["HZ-000001"]
    with sql(path) as conn:
        assert conn.execute("SELECT count(*) FROM lr_history").fetchone()[0] == 1
        assert conn.execute("SELECT count(*) FROM rtree_hazards_geom").fetchone()[0] == 1
        assert (
            conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'rtree_hazards_geom_insert'").fetchone()[0]
            == 1
        )


def test_two_stores_on_one_file_never_share_an_id(path: Path) -> None:
    with GeoPackageStore.open(path, create=True) as one, GeoPackageStore.open(path) as two:
        a = one.add("finds", [NewFeature({}, Point(0, 0))], ANNA)
        b = two.add("finds", [NewFeature({}, Point(0, 0))], ANNA)
        assert a == ["FD-000001"] and b == ["FD-000002"]
        assert one.get(b[0]).id == b[0]


# --- a killed process ---------------------------------------------------------------------------------------

_CRASH = textwrap.dedent(
    """
    import sys
    import shapely, numpy as np
    from landrelease.domain.records import Change, NewFeature
    from landrelease.store.geopackage import GeoPackageStore
    store = GeoPackageStore.open(sys.argv[1])
    rng = np.random.default_rng(0)
    x, y = rng.uniform(22, 40, 200_000), rng.uniform(44, 52, 200_000)
    features = [NewFeature({"name": "Поле", "hazard_class": "SHA", "status": "active"}, p)
                for p in shapely.box(x, y, x + 0.01, y + 0.01)]
    print("writing", flush=True)
    store.add("hazards", features, Change("crash", "test"))
    print("committed", flush=True)
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("moment", ["journal", "spill"])
def test_a_process_killed_mid_write_leaves_all_or_nothing(path: Path, moment: str) -> None:
    """SIGKILL while 200,000 hazards are being written: the next opener rolls the hot journal back."""
    GeoPackageStore.open(path, create=True).close()
    size = path.stat().st_size
    journal = Path(f"{path}-journal")
    with subprocess.Popen([sys.executable, "-c", _CRASH, str(path)], stdout=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None and process.stdout.readline().strip() == "writing"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            # "journal": the write transaction has begun; "spill": pages have already gone to the file.
            if journal.exists() and (moment == "journal" or path.stat().st_size > size):
                break
            time.sleep(0.002)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    committed = process.returncode == 0
    with GeoPackageStore.open(path) as store:
        count = store.count("hazards")
        assert count == (200_000 if committed else 0)
        # A journal the killed process had only begun is not "hot" and is left for the next writer.
        store.add("hazards", [NewFeature({"hazard_class": "SHA", "status": "active"})], ANNA)
        count += 1
    assert not journal.exists()
    with sql(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("SELECT count(*) FROM lr_history").fetchone()[0] == count
        assert (
            conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'rtree_hazards_geom_insert'").fetchone()[0]
            == 1
        )
    rtree_matches_table(path, "hazards")
    assert pyogrio.read_info(path, layer="hazards")["features"] == count


# --- opening -------------------------------------------------------------------------------------------------


def test_a_missing_file_is_not_found_unless_created(path: Path) -> None:
    with pytest.raises(NotFound, match="no database at"):
        open_store(str(path))
    assert not path.exists()
    with open_store(str(path), create=True) as store:  # type: ignore[attr-defined]
        assert store.schema_version() == schema.SCHEMA_VERSION
    with open_store(str(path), create=True) as store:  # type: ignore[attr-defined]
        assert store.count("hazards") == 0  # create on an existing database just opens it
    with pytest.raises(StoreError, match=r"folder .* does not exist"):
        GeoPackageStore.open(path.parent / "nowhere" / "x.gpkg", create=True)
    with pytest.raises(StoreError, match="is a folder"):
        GeoPackageStore.open(path.parent, create=True)


def test_files_that_are_not_ours_are_refused(tmp_path: Path) -> None:
    text = tmp_path / "notes.gpkg"
    text.write_text("hazard list\n" * 100)
    with pytest.raises(StoreError, match="is not a GeoPackage") as caught:
        GeoPackageStore.open(text)
    assert "\n" not in str(caught.value)

    plain = tmp_path / "plain.sqlite"
    with sqlite3.connect(plain) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(StoreError, match="is not a GeoPackage"):
        GeoPackageStore.open(plain)
    with pytest.raises(StoreError, match="is not a GeoPackage"):
        GeoPackageStore.open(plain, create=True)  # never takes over somebody else's database

    other = tmp_path / "other.gpkg"
    raw.write(
        other,
        shapely.to_wkb(np.array([Point(0, 0)], dtype=object)),
        [],
        [],
        driver="GPKG",
        geometry_type="Point",
        crs="EPSG:4326",
    )
    with pytest.raises(StoreError, match="a GeoPackage but not a landrelease database"):
        GeoPackageStore.open(other)


def test_a_database_from_a_newer_landrelease_is_refused(path: Path) -> None:
    GeoPackageStore.open(path, create=True).close()
    with sql(path) as conn:
        conn.execute("UPDATE lr_meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(
        StoreError, match=r"^this database was written by a newer landrelease \(schema 99\); upgrade landrelease$"
    ):
        GeoPackageStore.open(path)


def test_migrations_run_once_in_one_transaction(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    GeoPackageStore.open(path, create=True).close()
    current = schema.SCHEMA_VERSION
    ran: list[int] = []

    def next_one(conn: sqlite3.Connection) -> None:
        ran.append(current + 1)
        conn.execute("ALTER TABLE lr_meta ADD COLUMN note TEXT")

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE lr_half_done (x)")
        raise sqlite3.OperationalError("migration failed")

    monkeypatch.setattr(schema, "SCHEMA_VERSION", current + 2)
    monkeypatch.setattr(schema, "MIGRATIONS", {current + 1: next_one, current + 2: broken})
    with pytest.raises(StoreError):
        GeoPackageStore.open(path)
    with sql(path) as conn:  # nothing of either stayed
        assert conn.execute("SELECT value FROM lr_meta").fetchone()[0] == str(current)
        assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'lr_half_done'").fetchone()[0] == 0

    monkeypatch.setattr(schema, "SCHEMA_VERSION", current + 1)
    ran.clear()
    with GeoPackageStore.open(path) as store:
        assert store.schema_version() == current + 1
    with GeoPackageStore.open(path) as store:
        assert store.schema_version() == current + 1
    assert ran == [current + 1]


def test_fields_added_to_the_schema_appear_in_old_files(path: Path) -> None:
    GeoPackageStore.open(path, create=True).close()
    # A file made before the field existed: without the column, and with triggers made without it.
    older = replace(HAZARDS, fields=tuple(f for f in HAZARDS.fields if f.name != "source_ref"))
    with sql(path) as conn:
        for name in outside_edits.triggers(HAZARDS):
            conn.execute(f"DROP TRIGGER {name}")
        conn.execute("ALTER TABLE hazards DROP COLUMN source_ref")
        for statement in outside_edits.triggers(older).values():
            conn.execute(statement)
    with GeoPackageStore.open(path) as store:
        [hz] = store.add("hazards", [NewFeature({"hazard_class": "SHA", "status": "active", "source_ref": "r1"})], ANNA)
        assert store.get(hz).attributes["source_ref"] == "r1"
        assert store.layer_exists("hazards") and store.layer_exists("admin-areas")
        assert not store.layer_exists("stockpiles")
    with sql(path) as conn:  # the triggers were made again with the new field: its edits are versioned
        blob.register_sql_functions(conn)  # the R*Tree triggers' functions, as GDAL and QGIS have them
        conn.execute("UPDATE hazards SET source_ref = 'r2' WHERE id = ?", (hz,))
    with GeoPackageStore.open(path) as store:
        assert [v.attributes["source_ref"] for v in store.history(hz)] == ["r1", "r2"]


def test_a_closed_store_says_so(path: Path) -> None:
    store = GeoPackageStore.open(path, create=True)
    store.close()
    store.close()  # twice is fine
    with pytest.raises(StoreError, match="is closed"):
        store.count("hazards")


# --- the blob codec ------------------------------------------------------------------------------------------

coordinates = st.floats(-180, 180, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(coordinates, coordinates, st.floats(0, 10)), min_size=1, max_size=20), st.booleans())
def test_blobs_round_trip(parts: list[tuple[float, float, float]], points: bool) -> None:
    if points:
        geometries = np.array([Point(x, y) for x, y, _ in parts], dtype=object)
    else:
        geometries = shapely.multipolygons(
            shapely.box(*np.array(parts).T[:2], *(np.array(parts).T[:2] + np.array(parts).T[2])).reshape(-1, 1)
        )
    blobs, bounds = blob.encode_many(geometries)
    decoded = blob.decode_many(blobs)
    for original, data, back, box_ in zip(geometries, blobs, decoded, bounds, strict=True):
        assert data is not None and back.equals_exact(original, 0)
        minx, miny, maxx, maxy = box_
        assert blob.envelope(data) == (minx, maxx, miny, maxy) == tuple(shapely.bounds(original)[[0, 2, 1, 3]])


def test_blobs_written_by_other_tools_are_read() -> None:
    """Big-endian headers, no envelope (GDAL writes points so), the empty flag, and NULL."""
    point = Point(30.5, 50.25)
    no_envelope = struct.pack("<2sBBi", b"GP", 0, 0x01, 4326) + shapely.to_wkb(point, byte_order=1)
    big_endian = struct.pack(">2sBBi4d", b"GP", 0, 0x02, 4326, 30.5, 30.5, 50.25, 50.25) + shapely.to_wkb(
        point, byte_order=0
    )
    empty = struct.pack("<2sBBi", b"GP", 0, 0x11, 4326) + shapely.to_wkb(Point(), byte_order=1)
    for data in (no_envelope, big_endian):
        assert blob.decode(data) == point
        assert blob.envelope(data) == (30.5, 30.5, 50.25, 50.25)
    decoded_empty = blob.decode(empty)
    assert blob.envelope(empty) is None and decoded_empty is not None and decoded_empty.is_empty
    assert blob.decode(None) is None and blob.envelope(None) is None
    assert list(blob.decode_many([no_envelope, None, big_endian])) == [point, None, point]
    with pytest.raises(blob.BlobError):
        blob.decode(b"not a geometry")

    conn = sqlite3.connect(":memory:")
    blob.register_sql_functions(conn)
    row = conn.execute(
        "SELECT ST_IsEmpty(?), ST_MinX(?), ST_MaxY(?), ST_IsEmpty(?), ST_MinX(NULL), ST_IsEmpty(x'00')",
        (no_envelope, big_endian, no_envelope, empty),
    ).fetchone()
    assert row == (0, 30.5, 50.25, 1, None, None)
    conn.close()
