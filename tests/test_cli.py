"""The command line contract: commands, flags, JSON, exit codes, one-line errors and never a traceback."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import shapely
from typer.testing import CliRunner

from landrelease.cli import app
from landrelease.domain.records import Change
from landrelease.store.geopackage import GeoPackageStore
from tests.conftest import PostGISDatabase

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def _hazards_file(path: Path, n: int = 3) -> Path:
    features = [
        {
            "type": "Feature",
            "geometry": shapely.geometry.mapping(shapely.box(36.0 + i * 0.02, 49.0, 36.01 + i * 0.02, 49.01)),
            "properties": {"name": f"Ділянка {i}"},
        }
        for i in range(n)
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False), "utf-8")
    return path


def test_import_json_contract(tmp_path: Path) -> None:
    db = str(tmp_path / "p.gpkg")
    assert run("--db", db, "init")[0] == 0
    code, out, _ = run(
        "--db", db, "import", "hazards", str(_hazards_file(tmp_path / "h.geojson")), "--class", "SHA", "--json"
    )
    assert code == 0
    data = json.loads(out)
    assert {k: data[k] for k in ("imported", "repaired", "rejected", "errors")} == {
        "imported": 3,
        "repaired": 0,
        "rejected": 0,
        "errors": [],
    }


def test_import_json_lists_each_refusal_and_repair_and_the_terminal_gets_nothing_else(tmp_path: Path) -> None:
    """The installed command on a file with a repairable, an unreadable and an infinite outline: ``--json``
    is the whole summary, and no numpy warning reaches stderr."""
    import numpy as np
    import pyogrio.raw

    bowtie = shapely.Polygon([(36.0, 49.0), (36.01, 49.01), (36.01, 49.0), (36.0, 49.01)])
    outlines = [bowtie, shapely.box(36.1, 49.0, 36.11, 49.01), shapely.Polygon([(36, 49), (np.inf, 49), (36, 50)])]
    src = tmp_path / "mixed.gpkg"
    names = np.array(["bow", "box", "infinite"], dtype=object)
    pyogrio.raw.write(
        src, shapely.to_wkb(outlines), [names], fields=["name"], crs="EPSG:4326", geometry_type="Polygon", driver="GPKG"
    )
    db = tmp_path / "p.gpkg"
    command = [sys.executable, "-m", "landrelease", "--db", str(db)]
    subprocess.run([*command, "init"], check=True, capture_output=True)
    proc = subprocess.run(
        [*command, "import", "hazards", str(src), "--on-invalid", "repair", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Warning" not in proc.stderr, proc.stderr
    assert json.loads(proc.stdout) == {
        "imported": 2,
        "repaired": 1,
        "rejected": 1,
        "errors": [{"index": 2, "reason": "coordinates are not numbers (NaN or infinite)"}],
        "repairs": [
            {"index": 0, "reason": "repaired self-intersection at 36.005000 49.005000; the area is now 40.68 ha"}
        ],
        "layer": "hazards",
        "file": str(src),
    }


def test_report_json_contract_and_csv(tmp_path: Path) -> None:
    db = str(tmp_path / "p.gpkg")
    run("--db", db, "init")
    run("--db", db, "import", "hazards", str(_hazards_file(tmp_path / "h.geojson")))
    code, out, _ = run("--db", db, "report", "land-release", "--json")
    assert code == 0
    data = json.loads(out)
    assert set(data["totals"]) == {
        "hazards",
        "estimated_m2",
        "cancelled_m2",
        "reduced_m2",
        "cleared_m2",
        "remaining_m2",
    }
    assert data["totals"]["hazards"] == 3 and data["groups"] == []
    code, out, _ = run("--db", db, "report", "land-release", "--by", "admin", "--json")
    groups = json.loads(out)["groups"]
    assert sum(g["estimated_m2"] for g in groups) == pytest.approx(data["totals"]["estimated_m2"])
    code, out, _ = run("--db", db, "report", "land-release", "--csv")
    assert out.splitlines()[0].startswith("key,name,hazards,estimated_m2")


def test_report_periods_groupings_and_treaty_tables(tmp_path: Path) -> None:
    db = str(tmp_path / "p.gpkg")
    run("--db", db, "init")
    run("--db", db, "import", "hazards", str(_hazards_file(tmp_path / "h.geojson")))
    code, out, _ = run("--db", db, "report", "land-release", "--by", "quarter", "--period", "2024-Q3", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["period"] == {"label": "2024-Q3", "start": "2024-07-01", "end": "2024-09-30"}
    assert data["totals"]["released_before_m2"] == 0 and data["groups"] == []
    assert data["records"]["hazards"] == ["HZ-000001..HZ-000003"]
    assert data["data_version"]["records"]["hazards"] == 3
    code, out, _ = run("--db", db, "report", "article5", "--year", "2024", "--csv")
    assert code == 0 and out.splitlines()[0].startswith("admin_area,areas_at_start,remaining_at_start_m2")
    code, out, _ = run("--db", db, "report", "article7", "--year", "2024", "--json")
    assert code == 0 and [s["name"] for s in json.loads(out)["sections"]] == ["areas", "warnings"]
    code, _, err = run("--db", db, "report", "land-release", "--period", "spring")
    assert code == 2 and "--period takes 2024, 2024-Q3" in err and len(err.strip().splitlines()) == 1


def test_history_and_status(tmp_path: Path) -> None:
    db = str(tmp_path / "p.gpkg")
    run("--db", db, "init")
    run("--db", db, "--author", "im.officer", "import", "hazards", str(_hazards_file(tmp_path / "h.geojson", 1)))
    assert (
        run("--db", db, "--author", "reviewer", "status", "HZ-000001", "worked_on", "--reason", "clearance started")[0]
        == 0
    )
    code, _, err = run("--db", db, "status", "HZ-000001", "handed_over", "--reason", "skip")
    assert code == 2
    assert "a worked_on hazard cannot become handed_over; it can become: active, closed" in err
    code, out, _ = run("--db", db, "history", "hz-000001", "--json")
    versions = json.loads(out)
    assert [(v["version"], v["action"], v["author"]) for v in versions] == [
        (1, "create", "im.officer"),
        (2, "status", "reviewer"),
    ]
    assert versions[1]["reason"] == "clearance started"
    with GeoPackageStore.open(db) as store:  # a value cleared is shown as a change
        store.update("HZ-000001", Change("anna", "name was wrong"), {"name": None})
    code, out, _ = run("--db", db, "history", "HZ-000001")
    assert code == 0 and out.splitlines()[-1] == "      name cleared (was Ділянка 0)"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["import", "hazards", "missing.geojson"], "missing.geojson"),
        (["import", "stockpiles", "x.geojson"], "no layer called 'stockpiles'"),
        (["import", "hazards", "x.geojson", "--on-invalid", "ignore"], "--on-invalid takes reject or repair"),
        (["report", "land-release", "--by", "colour"], "--by takes admin, operator, month, quarter, year or donor"),
        (["history", "HZ-999999"], "HZ-999999"),
        (["export", "victims", "v.csv"], "personal data"),
    ],
)
def test_bad_input_gets_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    db = str(tmp_path / "p.gpkg")
    run("--db", db, "init")
    os.chdir(tmp_path)
    code, out, err = run("--db", db, *args)
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], err
    assert "Traceback" not in err + out


def test_missing_database_is_one_line(tmp_path: Path) -> None:
    code, _, err = run("--db", str(tmp_path / "nowhere.gpkg"), "report", "land-release")
    assert code == 2 and len(err.strip().splitlines()) == 1


def test_export_round_trip_keeps_cyrillic(tmp_path: Path) -> None:
    db = str(tmp_path / "p.gpkg")
    run("--db", db, "init")
    run("--db", db, "import", "hazards", str(_hazards_file(tmp_path / "h.geojson")))
    for ext in ("geojson", "gpkg", "csv", "kml", "fgb", "zip", "xlsx"):
        target = tmp_path / f"out.{ext}"
        code, _, err = run("--db", db, "export", "hazards", str(target))
        assert code == 0, err
        db2 = str(tmp_path / f"again-{ext}.gpkg")
        run("--db", db2, "init")
        code, out, err = run("--db", db2, "import", "hazards", str(target), "--json")
        assert code == 0, (ext, err)
        assert json.loads(out)["imported"] == 3, (ext, out)
        from landrelease.store import open_store

        store = open_store(db2)
        names = sorted(str(f.attributes["name"]) for f in store.features("hazards"))
        store.close()
        assert names == ["Ділянка 0", "Ділянка 1", "Ділянка 2"], ext  # FlatGeobuf reorders rows


def test_demo_is_deterministic_and_the_ledger_holds(tmp_path: Path) -> None:
    totals = []
    for name in ("a", "b"):
        db = str(tmp_path / f"{name}.gpkg")
        code, out, err = run("--db", db, "demo", "--no-serve", "--hazards", "150", "--json")
        assert code == 0, err
        data = json.loads(out)
        t = data["report"]["totals"]
        assert t["estimated_m2"] == pytest.approx(
            t["cancelled_m2"] + t["reduced_m2"] + t["cleared_m2"] + t["remaining_m2"]
        )
        assert t["cleared_m2"] > 0 and t["cancelled_m2"] > 0 and t["remaining_m2"] > 0
        assert data["records"]["hazards"] == 150 and data["records"]["finds"] > 0
        totals.append(t)
    assert totals[0] == totals[1]
    code, _, err = run("--db", str(tmp_path / "a.gpkg"), "check")
    assert code == 0, err


def test_demo_never_overwrites_real_data(tmp_path: Path) -> None:
    db = str(tmp_path / "p.gpkg")
    run("--db", db, "init")
    run("--db", db, "import", "hazards", str(_hazards_file(tmp_path / "h.geojson")))
    code, _, err = run("--db", db, "demo", "--no-serve", "--hazards", "10")
    assert code == 2 and "real (non-demo) hazards" in err


def test_check_finds_what_is_wrong(tmp_path: Path) -> None:
    from landrelease.domain.records import Change, NewFeature
    from landrelease.store import open_store

    db = str(tmp_path / "p.gpkg")
    run("--db", db, "init")
    run("--db", db, "import", "hazards", str(_hazards_file(tmp_path / "h.geojson", 1)))
    store = open_store(db)
    store.add(
        "outcomes",
        [NewFeature({"hazard_id": "HZ-000001", "kind": "cleared"}, shapely.box(36.005, 49.0, 36.02, 49.01))],
        Change("test", "an outcome spilling out of its hazard"),
    )
    store.close()
    run("--db", db, "status", "HZ-000001", "closed", "--reason", "all released (not true)")
    code, out, _ = run("--db", db, "check", "--json")
    assert code == 1
    checks = {(f["check"], f["id"]) for f in json.loads(out)["findings"]}
    assert ("outside", "OC-000001") in checks
    assert ("ledger", "HZ-000001") in checks


def test_no_traceback_from_the_real_command(tmp_path: Path) -> None:
    """The installed entry point, in a real process: an unreadable file is one line and exit 2."""
    bad = tmp_path / "bad.kml"
    bad.write_text("<kml><Document><Placemark>", encoding="utf-8")
    db = tmp_path / "p.gpkg"
    proc = subprocess.run(
        [sys.executable, "-m", "landrelease", "--db", str(db), "init"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "landrelease", "--db", str(db), "import", "hazards", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr


@pytest.mark.slow
def test_kill_9_mid_import_leaves_all_or_nothing(tmp_path: Path) -> None:
    import numpy as np
    import pyogrio.raw

    n = 60_000
    rng = np.random.default_rng(3)
    x = rng.uniform(22.5, 40.0, n)
    y = rng.uniform(45.0, 52.0, n)
    boxes = shapely.box(x, y, x + 0.002, y + 0.002)
    src = tmp_path / "big.gpkg"
    pyogrio.raw.write(
        src,
        shapely.to_wkb(boxes),
        [np.array([f"H{i}" for i in range(n)], dtype=object)],
        fields=["name"],
        crs="EPSG:4326",
        geometry_type="Polygon",
        driver="GPKG",
    )
    db = tmp_path / "p.gpkg"
    subprocess.run([sys.executable, "-m", "landrelease", "--db", str(db), "init"], check=True, capture_output=True)
    before = db.stat().st_size
    proc = subprocess.Popen(
        [sys.executable, "-m", "landrelease", "--db", str(db), "import", "hazards", str(src)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    journal = Path(str(db) + "-journal")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if (journal.exists() and journal.stat().st_size > 0) or db.stat().st_size > before * 2:
            time.sleep(0.2)  # mid-write
            break
        time.sleep(0.01)
    killed = proc.poll() is None
    if killed:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    code, out, _ = run("--db", str(db), "report", "land-release", "--json")
    assert code == 0
    assert json.loads(out)["totals"]["hazards"] in (0, n)
    assert killed, "the import finished before it could be killed: make the file bigger"


def test_the_demo_on_postgis_gives_the_same_figures_as_on_a_geopackage(
    tmp_path: Path, postgis_database: PostGISDatabase
) -> None:
    url = postgis_database.fresh_schema()
    try:
        results = []
        for db in (str(tmp_path / "demo.gpkg"), url):
            code, out, err = run("--db", db, "demo", "--no-serve", "--hazards", "120", "--json")
            assert code == 0, err
            results.append(json.loads(out))
        gpkg, pg = results
        assert gpkg["records"] == pg["records"]
        for key, value in gpkg["report"]["totals"].items():
            assert pg["report"]["totals"][key] == pytest.approx(value, rel=1e-9, abs=1e-6), key
        code, _, err = run("--db", url, "demo", "--no-serve", "--hazards", "10")
        assert code == 2 and "empty database" in err
    finally:
        postgis_database.drop_schema(url)
