"""Prioritisation: hand-computed rankings, the score identity, the weights file, distances in metres."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyproj import Geod
from typer.testing import CliRunner

from landrelease.actions.prioritise import prioritise_store
from landrelease.analysis import nearness
from landrelease.analysis.prioritisation import Context, Hazards, Records, prioritise
from landrelease.analysis.priority_weights import CRITERIA, load_config
from landrelease.cli import app
from landrelease.domain.records import Change, NewFeature
from landrelease.errors import InvalidInput, UnreadableFile
from landrelease.store import Store, open_store

GEOD = Geod(ellps="WGS84")
AS_OF = date(2026, 6, 1)
AREA_1HA = math.log1p(10_000) / math.log1p(1_000_000)  # the area value of 1 ha with the default full_m2


def _box(lon: float, lat: float, size: float = 0.005) -> shapely.Polygon:
    return shapely.box(lon, lat, lon + size, lat + size)


def _east_of(box: shapely.Polygon, metres: float) -> shapely.Point:
    """The point ``metres`` due east (on the ellipsoid) of the middle of the box's east edge."""
    _, miny, maxx, maxy = box.bounds
    lon, lat, _ = GEOD.fwd(maxx, (miny + maxy) / 2, 90, metres)
    return shapely.Point(lon, lat)


def _objects(items: list[object]) -> np.ndarray:
    array = np.empty(len(items), dtype=object)
    array[:] = items
    return array


def _hazards(rows: list[tuple[str, shapely.Polygon, str, str, float]]) -> Hazards:
    return Hazards(
        [r[0] for r in rows],
        _objects([r[1] for r in rows]),
        [f"name {r[0]}" for r in rows],
        [r[2] for r in rows],
        [r[3] for r in rows],
        np.array([r[4] for r in rows], dtype=np.float64),
    )


def _context(rows: list[tuple[shapely.Point, str]]) -> Context:
    return Context(
        [f"CX-{i:06d}" for i in range(len(rows))],
        _objects([r[0] for r in rows]),
        [r[1] for r in rows],
        [None] * len(rows),
    )


def _records(rows: list[tuple[shapely.Point | None, str | None, str | None]]) -> Records:
    return Records(_objects([r[0] for r in rows]), [r[1] for r in rows], [r[2] for r in rows])


NO_RECORDS = _records([])


@pytest.fixture
def scenario() -> tuple[Hazards, Context, Records, Records]:
    """A: CHA of 1 km2 with a settlement 1 km away; B: SHA of 1 ha with two accidents (one linked and undated,
    one dated today 1.5 km away) and farmland 300 m away; C closed; D nothing remaining."""
    a, b, c, d = _box(30.0, 50.0), _box(30.2, 50.0), _box(30.4, 50.0), _box(30.6, 50.0)
    hazards = _hazards(
        [
            ("HZ-A", a, "CHA", "active", 1_000_000.0),
            ("HZ-B", b, "SHA", "worked_on", 10_000.0),
            ("HZ-C", c, "CHA", "closed", 5_000.0),
            ("HZ-D", d, "CHA", "active", 0.0),
        ]
    )
    context = _context([(_east_of(a, 1000), "settlement"), (_east_of(b, 300), "farmland")])
    accidents = _records([(None, None, "HZ-B"), (_east_of(b, 1500), AS_OF.isoformat(), None)])
    return hazards, context, accidents, NO_RECORDS


def test_hand_computed_ranking(scenario: tuple[Hazards, Context, Records, Records]) -> None:
    ranking = prioritise(*scenario, load_config(), AS_OF)
    first, second = ranking.ranked
    assert [first.id, second.id] == ["HZ-A", "HZ-B"]
    # A: settlements 25 x (1 - 1000/5000), evidence 15 x 1 (CHA), area 10 x 1 (1 km2 = full_m2)
    assert first.components == pytest.approx(
        {
            "settlements": 20.0,
            "infrastructure": 0,
            "accidents": 0,
            "finds": 0,
            "evidence": 15,
            "area": 10,
            "land_use": 0,
            "risk": 0,  # no risk cells, and its default weight is 0
        },
        abs=0.01,  # the settlement is 1000 m away to within 0.05 % (the distance method's error)
    )
    assert first.score == pytest.approx(45.0, abs=0.01)
    assert first.raw["settlements"] == pytest.approx(1000.0, abs=0.5)
    # B: accidents 20 x (0.5 undated + 1 today) / 3, evidence 15 x 0.5, area 10 x log(1 + 1e4)/log(1 + 1e6),
    # land use 5 x 1 (farmland within 1 km)
    expected = {
        "settlements": 0.0,
        "infrastructure": 0.0,
        "accidents": 20 * 1.5 / 3,
        "finds": 0.0,
        "evidence": 7.5,
        "area": 10 * AREA_1HA,
        "land_use": 5.0,
        "risk": 0.0,
    }
    assert second.components == pytest.approx(expected, abs=1e-5)
    assert second.score == pytest.approx(sum(expected.values()), abs=1e-5)
    assert second.raw["accidents"] == 1.5 and second.raw["land_use"] == "farmland" and second.raw["evidence"] == "SHA"
    assert ranking.not_ranked == {"closed or handed over": 1, "no land remaining": 1}
    assert any("no infrastructure" in note for note in ranking.notes)


def test_weights_file_changes_the_ranking(scenario: tuple[Hazards, Context, Records, Records], tmp_path: Path) -> None:
    weights = tmp_path / "accidents-first.toml"
    weights.write_text("[weights]\naccidents = 100\nsettlements = 0\n\n[accidents]\nsaturation = 1.5\n", "utf-8")
    ranking = prioritise(*scenario, load_config(weights), AS_OF)
    assert [r.id for r in ranking.ranked] == ["HZ-B", "HZ-A"]
    b = ranking.ranked[0]
    assert b.components["accidents"] == pytest.approx(100.0)  # (0.5 + 1) / 1.5, capped at 1
    assert ranking.ranked[1].components["settlements"] == 0.0


def test_age_half_life_and_radius() -> None:
    """An accident one half-life old counts half; one just beyond the radius does not count at all."""
    box = _box(20.0, 45.0)
    hazards = _hazards([("HZ-1", box, "SHA", "active", 100.0)])
    ten_years_ago = date(2016, 6, 1).isoformat()  # 3652 days: 0.5 ^ (3652 / 365.25 / 5)
    accidents = _records(
        [
            (_east_of(box, 1990), ten_years_ago, None),
            (_east_of(box, 2010), AS_OF.isoformat(), None),  # radius 2000 m: out
            (None, "2030-01-01", "HZ-1"),  # a future date counts 1
        ]
    )
    [ranked] = prioritise(hazards, _context([]), accidents, NO_RECORDS, load_config(), AS_OF).ranked
    weight = 0.5 ** (3652 / 365.25 / 5) + 1.0
    assert ranked.raw["accidents"] == pytest.approx(weight, abs=1e-6)
    assert ranked.components["accidents"] == pytest.approx(20 * weight / 3, abs=1e-5)


def test_score_is_the_sum_of_its_components() -> None:
    """On a random programme: score = sum(components), component = weight x value, sorted by score."""
    rng = np.random.default_rng(7)
    n = 400
    lon, lat = rng.uniform(24, 40, n), rng.uniform(45, 52, n)
    hazards = _hazards(
        [
            (
                f"HZ-{i:06d}",
                _box(lon[i], lat[i], 0.002),
                str(rng.choice(["SHA", "CHA", "EOD"])),
                "active",
                float(rng.uniform(0, 2e6)),
            )
            for i in range(n)
        ]
    )
    kinds = ["settlement", "road", "school", "farmland", "forest"]
    context = _context(
        [(shapely.Point(rng.uniform(24, 40), rng.uniform(45, 52)), str(rng.choice(kinds))) for _ in range(3000)]
    )
    accidents = _records(
        [
            (shapely.Point(x + 0.003, y), f"20{rng.integers(0, 26):02d}-03-01", None)
            for x, y in zip(lon, lat, strict=True)
        ]
    )
    config = load_config()
    ranking = prioritise(hazards, context, accidents, NO_RECORDS, config, AS_OF)
    assert len(ranking.ranked) == n
    scores = [r.score for r in ranking.ranked]
    assert scores == sorted(scores, reverse=True)
    assert len(set(scores)) > n // 2  # the criteria do separate hazards
    for r in ranking.ranked:
        assert set(r.components) == set(CRITERIA)
        assert r.score == pytest.approx(sum(r.components.values()), abs=1e-9)
        for c in CRITERIA:
            assert r.components[c] == pytest.approx(config.weights[c] * r.values[c], abs=1e-6)
            assert 0.0 <= r.values[c] <= 1.0
    assert any(r.components["settlements"] > 0 for r in ranking.ranked)
    assert any(r.components["accidents"] > 0 for r in ranking.ranked)


def test_a_typo_in_the_weights_file_is_one_clear_line(tmp_path: Path) -> None:
    weights = tmp_path / "w.toml"
    weights.write_text("[weights]\nsetlements = 30\n", "utf-8")
    with pytest.raises(InvalidInput) as caught:
        load_config(weights)
    message = caught.value.message
    assert "\n" not in message
    assert "unknown criterion 'setlements' in [weights]" in message and "did you mean 'settlements'" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[weight]\nfinds = 1\n", "unknown section 'weight' (did you mean 'weights'?)"),
        ("[accidents]\nhalf_life = 2\n", "unknown setting 'half_life' in [accidents]"),
        ("[weights]\nfinds = -1\n", "weights.finds must be at least 0"),
        ("[weights]\nfinds = 'high'\n", "weights.finds must be a number"),
        ("[evidence]\nCHAA = 1\n", "unknown hazard class 'CHAA' in [evidence] (did you mean 'CHA'?)"),
        ("[settlements]\nkinds = ['setlement']\n", "unknown context kind 'setlement'"),
        ("[weights\n", "is not valid TOML"),
    ],
)
def test_bad_weights_files_are_refused(tmp_path: Path, text: str, expected: str) -> None:
    weights = tmp_path / "w.toml"
    weights.write_text(text, "utf-8")
    with pytest.raises(InvalidInput, match=None) as caught:
        load_config(weights)
    assert expected in caught.value.message


def test_a_missing_weights_file() -> None:
    with pytest.raises(UnreadableFile, match="does not exist"):
        load_config(Path("/nonexistent/weights.toml"))


@pytest.mark.parametrize(("lon", "lat"), [(20.0, 40.0), (-80.0, -10.0), (140.0, 60.0), (-10.0, -50.0), (30.0, 0.0)])
def test_distances_are_metres_on_the_ellipsoid(lon: float, lat: float) -> None:
    """Across a whole zone (hundreds of km from its centre) the distances agree with geodesics to 0.3 %."""
    grid = np.arange(0.0, 10.0, 0.5)  # a 10-degree zone, points 0.5 degree apart
    points = [shapely.Point(lon + x, lat + y) for x in grid for y in grid]
    n = len(points)
    hazards = _objects([p.buffer(1e-6) for p in points])  # tiny areas: measured from their edge
    [zone] = list(nearness.zones(hazards))
    for bearing, metres in ((0, 3000.0), (90, 3000.0), (45, 800.0), (200, 9000.0)):
        lon, lat, _ = GEOD.fwd([p.x for p in points], [p.y for p in points], [bearing] * n, [metres] * n)
        others = _objects([shapely.Point(x, y) for x, y in zip(lon, lat, strict=True)])
        distance, which = nearness.nearest(zone, zone.project(others), 10_000)
        assert (which == np.arange(n)).all()
        assert np.abs(distance - metres).max() / metres < 0.003


def test_hazards_far_apart_are_measured_in_their_own_zones() -> None:
    boxes = [_box(-60.0, -10.0), _box(30.0, 50.0), _box(150.0, 60.0)]
    hazards = _hazards([(f"HZ-{i}", b, "SHA", "active", 100.0) for i, b in enumerate(boxes)])
    context = _context([(_east_of(b, 2500), "settlement") for b in boxes])
    ranking = prioritise(hazards, context, NO_RECORDS, NO_RECORDS, load_config(), AS_OF)
    assert len(list(nearness.zones(hazards.geometries))) == 3
    for r in ranking.ranked:
        assert r.raw["settlements"] == pytest.approx(2500.0, rel=0.001)
        assert r.components["settlements"] == pytest.approx(12.5, abs=0.02)


# --- the command --------------------------------------------------------------------------------------

runner = CliRunner()


def _geojson(path: Path, features: list[tuple[shapely.Geometry, dict[str, object]]]) -> Path:
    collection = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": shapely.geometry.mapping(g), "properties": p} for g, p in features
        ],
    }
    path.write_text(json.dumps(collection), "utf-8")
    return path


def test_prioritise_command(tmp_path: Path) -> None:
    db = str(tmp_path / "p.gpkg")
    near, far = _box(30.0, 50.0, 0.01), _box(30.5, 50.0, 0.01)
    hazards = _geojson(tmp_path / "h.geojson", [(near, {"name": "near"}), (far, {"name": "far"})])
    places = _geojson(
        tmp_path / "places.geojson",
        [(_east_of(near, 500), {"place": "Village", "pop": 800}), (_east_of(far, 4000), {"place": "Town", "pop": 90})],
    )
    assert runner.invoke(app, ["--db", db, "init"]).exit_code == 0
    assert runner.invoke(app, ["--db", db, "import", "hazards", str(hazards), "--class", "CHA"]).exit_code == 0
    imported = runner.invoke(
        app,
        ["--db", db, "import", "context", str(places), "--kind", "settlement", "--map", "name=place,population=pop"],
    )
    assert imported.exit_code == 0, imported.stderr
    result = runner.invoke(app, ["--db", db, "prioritise", "--json", "--as-of", "2026-06-01"])
    assert result.exit_code == 0, result.stderr
    ranking = json.loads(result.stdout)
    assert [(r["rank"], r["name"]) for r in ranking] == [(1, "near"), (2, "far")]
    for r in ranking:
        assert {"id", "score", "components"} <= set(r)
        assert r["score"] == pytest.approx(sum(r["components"].values()), abs=1e-9)
    assert ranking[0]["components"]["settlements"] == pytest.approx(25 * (1 - 500 / 5000), abs=0.01)
    assert ranking[1]["components"]["settlements"] == pytest.approx(25 * (1 - 4000 / 5000), abs=0.01)

    table = runner.invoke(app, ["--db", db, "prioritise", "--top", "1"])
    assert table.exit_code == 0
    assert "HZ-000001" in table.stdout and "HZ-000002" not in table.stdout
    assert "no infrastructure context features" in table.stderr

    weights = tmp_path / "w.toml"
    weights.write_text("[weights]\nsetlements = 30\n", "utf-8")
    bad = runner.invoke(app, ["--db", db, "prioritise", "--weights", str(weights), "--json"])
    assert bad.exit_code == 2 and bad.stdout == ""
    assert bad.stderr.strip().count("\n") == 0 and "unknown criterion 'setlements'" in bad.stderr

    wrong_kind = runner.invoke(app, ["--db", db, "import", "context", str(places), "--kind", "village"])
    assert wrong_kind.exit_code == 2 and "--kind takes settlement, road" in wrong_kind.stderr


# --- both stores --------------------------------------------------------------------------------------


@pytest.fixture(params=["geopackage", "postgis"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "geopackage":
        store = open_store(str(tmp_path / "p.gpkg"), create=True)
    else:
        database = request.getfixturevalue("postgis_database")
        url = database.fresh_schema()
        store = open_store(url, create=True)
    yield store
    store.close()


def test_prioritise_a_database(any_store: Store) -> None:
    """The same hand-computed ranking from a GeoPackage file and from PostGIS, with the ledger's remaining."""
    near, far, closed = _box(30.0, 50.0, 0.01), _box(30.5, 50.0, 0.01), _box(31.0, 50.0, 0.01)
    change = Change("test", "prioritisation")
    ids = any_store.add(
        "hazards",
        [
            NewFeature({"hazard_class": "SHA", "status": "active", "name": "far"}, far),
            NewFeature({"hazard_class": "CHA", "status": "active", "name": "near"}, near),
            NewFeature({"hazard_class": "CHA", "status": "closed", "name": "closed"}, closed),
        ],
        change,
    )
    any_store.add(
        "context",
        [
            NewFeature({"kind": "settlement", "name": "Village", "population": 800}, _east_of(near, 2500)),
            NewFeature({"kind": "school"}, _east_of(far, 1000)),
        ],
        change,
    )
    any_store.add("accidents", [NewFeature({"hazard_id": ids[0], "accident_date": "2026-06-01"})], change)
    ranking = prioritise_store(any_store, None, AS_OF)
    assert [r.id for r in ranking.ranked] == [ids[1], ids[0]]
    near_r, far_r = ranking.ranked
    area = float(any_store.get(ids[1]).attributes["remaining_m2"])  # type: ignore[arg-type]
    assert area == pytest.approx(1113 * 713, rel=0.01)  # 0.01 x 0.01 degree at 50 N
    assert near_r.components["settlements"] == pytest.approx(25 * 0.5, abs=0.02)
    assert near_r.components["area"] == pytest.approx(10 * math.log1p(area) / math.log1p(1e6), abs=1e-6)
    assert near_r.score == pytest.approx(12.5 + 15 + 10 * math.log1p(area) / math.log1p(1e6), abs=0.02)
    assert far_r.components["infrastructure"] == pytest.approx(15 * 0.5, abs=0.02)
    assert far_r.components["accidents"] == pytest.approx(20 / 3, abs=1e-6)  # linked, dated today
    assert ranking.not_ranked == {"closed or handed over": 1}
