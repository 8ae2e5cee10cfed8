"""Moving a database between stores (``landrelease migrate``) and backing it up (``backup``/``restore``).

The round trip is the promise: GeoPackage -> PostGIS -> GeoPackage gives the same records, the same
versions, the same history entries and the same report figures, on the demo programme with edited and
retired records added.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import box
from typer.testing import CliRunner

from landrelease.accounts import open_accounts
from landrelease.cli import app
from landrelease.domain.records import Change, NewFeature
from landrelease.domain.roles import Role
from landrelease.domain.schema import LAYERS
from landrelease.store import Store, open_store
from tests.conftest import PostGISDatabase

runner = CliRunner()
EDITOR = Change(
    "olena", "technical survey TS-2024-17 reduced the area", datetime(2024, 9, 3, 10, 15, 7, 250000, tzinfo=UTC)
)
CLOSER = Change("bohdan", "duplicate of another report", datetime(2024, 10, 1, tzinfo=UTC))


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def build_demo(path: Path) -> dict[str, str]:
    """The demo programme (200 hazards) plus a hazard with several versions and a retired one."""
    code, _, error = run("--db", str(path), "demo", "--no-serve", "--hazards", "200")
    assert code == 0, error
    with open_store(str(path)) as store:
        edited, retired = [f.id for f in store.features("hazards")][:2]
        store.update(edited, EDITOR, {"marking": "fenced"}, geometry=box(30.5, 50.1, 30.51, 50.11))
        store.update(edited, CLOSER, {"status": "closed"}, status_change=True)
        store.retire(retired, CLOSER)
    accounts = open_accounts(str(path))
    try:
        accounts.add_user("marta", Role.ADMIN, None, "scrypt$hash-of-a-password")
        accounts.add_user("ops", Role.OPERATOR, "OR-000002", None)
        accounts.add_token("ops", "sha256-of-a-token", "field tablet")
        accounts.add_session("sha256-of-a-session", "marta", datetime(2030, 1, 1, tzinfo=UTC))
        accounts.log_access("marta", ["VC-000001", "VC-000002"], "victim assistance follow-up")
        payload = {"attributes": {"name": "Поле біля школи", "hazard_class": "SHA", "status": "active"}}
        first = accounts.add_submission("hazards", payload, "OR-000002", "ops", "submitted")
        accounts.add_submission("hazards", payload, "OR-000002", "ops", "submitted")
        accounts.decide(first.id, "submitted", "rejected", "marta", "already recorded as " + edited)
    finally:
        accounts.close()
    return {"edited": edited, "retired": retired}


def everything(store: Store) -> dict[str, Any]:
    """Every current record, every version of every record (retired ones too), counters and ledger state."""
    snapshot: dict[str, Any] = {"ledger": store.ledger_state()}
    for layer in LAYERS:
        dump = store.dump(layer)
        snapshot[layer] = (list(store.features(layer)), list(dump.versions), dump.last_number, dict(dump.derived))
    return snapshot


def figures(location: str) -> dict[str, Any]:
    """``report land-release --json`` without what names the database or the moment."""
    code, output, error = run("--db", location, "report", "land-release", "--json")
    assert code == 0, error
    report = json.loads(output)

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in ("generated_at", "database", "schema_version")}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return strip(report)  # type: ignore[no-any-return]


@pytest.fixture
def demo(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    path = tmp_path / "demo.gpkg"
    return path, build_demo(path)


def test_round_trip_through_postgis_keeps_every_version_and_figure(
    demo: tuple[Path, dict[str, str]], postgis_database: PostGISDatabase, tmp_path: Path
) -> None:
    source, ids = demo
    server = postgis_database.fresh_schema()
    back = tmp_path / "back.gpkg"
    code, _, error = run("migrate", "--from", str(source), "--to", server)
    assert code == 0, error
    assert "hazards: 199 records, 203 versions" in error  # one retired, one with two more versions
    code, output, error = run("migrate", "--from", server, "--to", str(back), "--json")
    assert code == 0, error
    moved = json.loads(output)
    assert moved["records"]["hazards"] == 199 and moved["versions"]["hazards"] == 203

    with open_store(str(source)) as a, open_store(server) as b, open_store(str(back)) as c:
        original = everything(a)
        assert everything(b) == original
        assert everything(c) == original
        history = c.history(ids["edited"])
        assert [(v.version, v.action.value, v.change) for v in history[1:]] == [
            (2, "update", EDITOR),
            (3, "status", CLOSER),
        ]
        assert c.history(ids["retired"])[-1].action.value == "retire"
        assert any(v for v in c.columns("hazards", ["remaining_m2"], geometry=False)[2]["remaining_m2"])
        service = a.dump_service()
        assert service.count() == 2 + 1 + 1 + 2 + 2
        assert b.dump_service() == service
        assert c.dump_service() == service
    for location in (server, str(back)):
        accounts = open_accounts(location)
        try:
            assert accounts.password_hash("marta") == "scrypt$hash-of-a-password"
            assert accounts.user_by_token("sha256-of-a-token") == accounts.user("ops")
            assert [e.record_id for e in accounts.access_log()] == ["VC-000001", "VC-000002"]
            assert accounts.submission("SB-000001").reason == "already recorded as " + ids["edited"]
            # Submission ids continue after the copied ones.
            assert accounts.add_submission("hazards", {}, None, "ops", "submitted").id == "SB-000003"
        finally:
            accounts.close()
    report = figures(str(source))
    assert report["items_found"] > 0  # a real programme, not an empty report
    assert figures(str(back)) == figures(server) == report


def test_migrate_refuses_a_target_with_records_and_leaves_it_alone(
    demo: tuple[Path, dict[str, str]], postgis_database: PostGISDatabase
) -> None:
    source, _ = demo
    server = postgis_database.fresh_schema()
    with open_store(server, create=True) as target:
        [mine] = target.add(
            "hazards", [NewFeature({"name": "mine", "hazard_class": "SHA", "status": "active"})], EDITOR
        )
    code, _, error = run("migrate", "--from", str(source), "--to", server)
    assert code == 2
    assert "already holds records" in error and "Traceback" not in error
    with open_store(server) as target:
        assert [f.id for f in target.features("hazards")] == [mine]
        assert target.count("finds") == 0


def corrupt(source: Path) -> None:
    """A row another program added with a version of its own (so the triggers took it for landrelease's, as
    they do rows a program adds without one): current, but with no history to move. The load finds out
    after writing hazards, outcomes, finds..., mid-way through the copy."""
    with sqlite3.connect(source) as conn:
        conn.execute(
            "INSERT INTO victims (id, version, updated_at, updated_by) VALUES ('VC-999999', 3, '2024', 'qgis')"
        )


def test_a_failed_migrate_leaves_no_file_behind(demo: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    source, _ = demo
    corrupt(source)
    folder = tmp_path / "copies"
    folder.mkdir()
    target = folder / "copy.gpkg"
    code, _, error = run("migrate", "--from", str(source), "--to", str(target))
    assert code == 2
    assert "victims" in error and "added outside landrelease" in error
    assert list(folder.iterdir()) == []  # not the file, nor a journal

    # An empty file someone made for it is left empty (opening makes a GeoPackage of it).
    (folder / "made-by-hand.gpkg").touch()
    code, _, error = run("migrate", "--from", str(source), "--to", str(folder / "made-by-hand.gpkg"))
    assert code == 2 and "added outside landrelease" in error
    assert [(f.name, f.stat().st_size) for f in folder.iterdir()] == [("made-by-hand.gpkg", 0)]


def test_a_failed_migrate_never_touches_an_existing_geopackage(
    demo: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    source, _ = demo
    corrupt(source)
    existing = tmp_path / "existing.gpkg"
    open_store(str(existing), create=True).close()  # an empty landrelease database: a valid target
    before = existing.read_bytes()
    code, _, error = run("migrate", "--from", str(source), "--to", str(existing))
    assert code == 2 and "added outside landrelease" in error
    assert existing.read_bytes() == before
    assert sorted(f.name for f in tmp_path.iterdir()) == ["demo.gpkg", "existing.gpkg"]


def _objects(url: str) -> dict[str, list[str]]:
    """What a PostgreSQL schema (the URL's search_path) and its database hold: relations, functions,
    extensions."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        relations = conn.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace ORDER BY relname"
        ).fetchall()
        functions = conn.execute(
            "SELECT proname FROM pg_proc WHERE pronamespace = current_schema()::regnamespace ORDER BY proname"
        ).fetchall()
        extensions = conn.execute("SELECT extname FROM pg_extension ORDER BY extname").fetchall()
    return {
        "relations": [r[0] for r in relations],
        "functions": [r[0] for r in functions],
        "extensions": [r[0] for r in extensions],
    }


def test_a_failed_migrate_into_postgis_leaves_no_schema_behind(
    demo: tuple[Path, dict[str, str]], postgis_database: PostGISDatabase
) -> None:
    import psycopg

    source, _ = demo
    corrupt(source)
    server = postgis_database.fresh_schema()
    with psycopg.connect(server, autocommit=True) as conn:  # someone's own table: never dropped
        conn.execute("CREATE TABLE field_notes (note text)")
        conn.execute("INSERT INTO field_notes VALUES ('checked the school road')")
    before = _objects(server)
    assert before["relations"] == ["field_notes"] and "postgis" in before["extensions"]

    code, _, error = run("migrate", "--from", str(source), "--to", server)
    assert code == 2
    assert "victims" in error and "added outside landrelease" in error and "Traceback" not in error
    assert _objects(server) == before  # no lr_meta, no layer tables, no ledger functions
    with psycopg.connect(server, autocommit=True) as conn:
        assert conn.execute("SELECT note FROM field_notes").fetchall() == [("checked the school road",)]
    code, _, error = run("--db", server, "check")
    assert code == 2 and "no landrelease schema" in error


def test_a_migrate_the_target_refuses_leaves_what_was_there(
    demo: tuple[Path, dict[str, str]], postgis_database: PostGISDatabase
) -> None:
    import psycopg

    source, _ = demo
    server = postgis_database.fresh_schema()
    with psycopg.connect(server, autocommit=True) as conn:  # a table of another program, named like a layer
        conn.execute("CREATE TABLE finds (what text)")
        conn.execute("INSERT INTO finds VALUES ('a table that is not ours')")
    before = _objects(server)
    code, _, error = run("migrate", "--from", str(source), "--to", server)
    assert code == 2
    assert "already has a table finds that is not a landrelease layer" in error and "Traceback" not in error
    assert _objects(server) == before
    with psycopg.connect(server, autocommit=True) as conn:
        assert conn.execute("SELECT what FROM finds").fetchall() == [("a table that is not ours",)]
        columns = conn.execute(  # the layer's columns added to it while opening were rolled back too
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = 'finds'"
        ).fetchall()
        assert columns == [("what",)]


def test_a_failed_migrate_into_a_database_without_postgis_leaves_it_without(
    demo: tuple[Path, dict[str, str]], postgis_database: PostGISDatabase
) -> None:
    """PostGIS itself, added by the migrate, goes with the rest; a migrate that succeeds keeps it."""
    import psycopg

    source, _ = demo
    name = f"{postgis_database.name}_bare"
    admin = postgis_database.url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    bare = postgis_database.url.rsplit("/", 1)[0] + f"/{name}"
    try:
        assert "postgis" not in _objects(bare)["extensions"]
        good = source.with_name("good.gpkg")
        shutil.copy(source, good)
        corrupt(source)
        code, _, error = run("migrate", "--from", str(source), "--to", bare)
        assert code == 2 and "added outside landrelease" in error
        left = _objects(bare)
        assert "postgis" not in left["extensions"] and left["relations"] == [] and left["functions"] == []

        code, _, error = run("migrate", "--from", str(good), "--to", bare)
        assert code == 0, error
        assert "postgis" in _objects(bare)["extensions"]
        with open_store(str(good)) as a, open_store(bare) as b:
            assert b.count("hazards") == a.count("hazards") == 199
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_migrate_says_what_is_wrong_with_its_locations(tmp_path: Path) -> None:
    code, _, error = run("migrate", "--from", str(tmp_path / "none.gpkg"), "--to", str(tmp_path / "b.gpkg"))
    assert code == 2 and "no database at" in error
    assert not (tmp_path / "b.gpkg").exists()
    code, _, error = run("migrate", "--from", "a.gpkg", "--to", "a.gpkg")
    assert code == 2 and "same database" in error


# --- backup and restore ------------------------------------------------------------------------------------


def test_geopackage_backup_and_restore(demo: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    source, ids = demo
    saved = tmp_path / "saved.gpkg"
    with open_store(str(source)) as store:
        before = everything(store)
        # The service keeps its connection open (and writes) while the backup is taken.
        code, _, error = run("--db", str(source), "backup", str(saved))
        assert code == 0, error
        assert "SQLite online backup" in error
        store.update(ids["edited"], EDITOR, {"name": "after the backup"})
    code, _, error = run("--db", str(source), "backup", str(saved))
    assert code == 2 and "already exists" in error

    code, _, error = run("--db", str(source), "restore", str(saved))
    assert code == 2 and "already holds data" in error and "--force" in error
    with open_store(str(source)) as store:
        assert store.get(ids["edited"]).attributes["name"] == "after the backup"  # refused: untouched

    code, _, error = run("--db", str(source), "restore", str(saved), "--force")
    assert code == 0, error
    fresh = tmp_path / "fresh.gpkg"
    code, _, error = run("--db", str(fresh), "restore", str(saved))
    assert code == 0, error
    with open_store(str(source)) as restored, open_store(str(fresh)) as new:
        assert everything(restored) == before
        assert everything(new) == before


def test_restore_refuses_what_is_not_a_backup(tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("not a database")
    other = tmp_path / "other.sqlite"  # someone else's SQLite file is never silently replaced
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE mine (x)")
    saved = tmp_path / "saved.gpkg"
    open_store(str(tmp_path / "empty.gpkg"), create=True).close()
    assert run("--db", str(tmp_path / "empty.gpkg"), "backup", str(saved))[0] == 0
    code, _, error = run("--db", str(other), "restore", str(saved))
    assert code == 2 and "already holds data" in error
    with sqlite3.connect(other) as conn:
        assert conn.execute("SELECT name FROM sqlite_master").fetchall() == [("mine",)]
    code, _, error = run("--db", str(tmp_path / "x.gpkg"), "restore", str(junk))
    assert code == 2 and "not a landrelease backup" in error
    code, _, error = run("--db", str(tmp_path / "x.gpkg"), "restore", str(tmp_path / "missing.dump"))
    assert code == 2 and "no backup file" in error


@pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump/pg_restore are not installed (postgresql-client)")
def test_postgis_backup_and_restore_with_pg_dump(
    demo: tuple[Path, dict[str, str]], postgis_database: PostGISDatabase, tmp_path: Path
) -> None:
    source, ids = demo
    server = postgis_database.fresh_schema()
    assert run("migrate", "--from", str(source), "--to", server)[0] == 0
    saved = tmp_path / "national.dump"
    code, _, error = run("--db", server, "backup", str(saved))
    assert code == 0, error
    assert "pg_dump" in error and saved.read_bytes().startswith(b"PGDMP")
    with open_store(server) as store:
        before = everything(store)
        store.update(ids["edited"], EDITOR, {"name": "after the backup"})
        store.add("hazards", [NewFeature({"name": "new", "hazard_class": "SHA", "status": "active"})], EDITOR)

    code, _, error = run("--db", server, "restore", str(saved))
    assert code == 2 and "already holds data" in error
    code, _, error = run("--db", server, "restore", str(saved), "--force")
    assert code == 0, error
    with open_store(server) as store:
        assert everything(store) == before
        # The ledger triggers are back: a change to a ledger input is counted again.
        changes = store.ledger_state().changes
        store.update(ids["edited"], EDITOR, geometry=box(30.5, 50.1, 30.52, 50.12))
        assert store.ledger_state().changes == changes + 1
        versions = len(store.history(ids["edited"]))
    # So are those versioning edits made outside landrelease (psql here).
    import psycopg

    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute("UPDATE hazards SET name = 'edited in QGIS' WHERE id = %s", (ids["edited"],))
    with open_store(server) as store:
        assert [v.attributes["name"] for v in store.history(ids["edited"])][versions:] == ["edited in QGIS"]
    # A PostgreSQL dump is not a GeoPackage: said plainly.
    code, _, error = run("--db", str(tmp_path / "x.gpkg"), "restore", str(saved))
    assert code == 2 and "postgresql://" in error


def test_a_geopackage_backup_restores_into_an_empty_postgis_database(
    demo: tuple[Path, dict[str, str]], postgis_database: PostGISDatabase, tmp_path: Path
) -> None:
    source, _ = demo
    saved = tmp_path / "saved.gpkg"
    assert run("--db", str(source), "backup", str(saved))[0] == 0
    server = postgis_database.fresh_schema()
    code, _, error = run("--db", server, "restore", str(saved))
    assert code == 0, error
    assert "migrate" in error
    with open_store(str(source)) as a, open_store(server) as b:
        assert everything(b) == everything(a)
    code, _, error = run("--db", server, "restore", str(saved), "--force")
    assert code == 2 and "only into an empty PostGIS database" in error


def test_postgis_backup_without_pg_dump_is_a_geopackage(
    demo: tuple[Path, dict[str, str]],
    postgis_database: PostGISDatabase,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from landrelease.actions import transfer

    source, _ = demo
    server = postgis_database.fresh_schema()
    assert run("migrate", "--from", str(source), "--to", server)[0] == 0
    monkeypatch.setattr(transfer.shutil, "which", lambda name: None)  # a server without postgresql-client
    saved = tmp_path / "national-backup.gpkg"
    code, _, error = run("--db", server, "backup", str(saved))
    assert code == 0, error
    assert "as a GeoPackage: pg_dump is not installed" in error and saved.read_bytes().startswith(
        b"SQLite format 3\x00"
    )
    with open_store(server) as a, open_store(str(saved)) as b:
        assert everything(b) == everything(a)
        assert b.dump_service() == a.dump_service()
