"""Risk cells from a database: a small hand-made programme whose labels, distances and counts are checked by
hand (distances against pyproj's geodesics), then `risk cells` / `risk predict --db` on the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyproj import Geod, Transformer
from shapely.geometry import MultiPolygon, Point, box
from typer.testing import CliRunner

from landrelease.actions.risk_cells import RISK_LAYER, cells_from_store, store_risk
from landrelease.analysis.risk.grid import SurveyCells, is_mine
from landrelease.cli import app
from landrelease.domain.records import Change, NewFeature
from landrelease.errors import InvalidInput, NotFound
from landrelease.formats.cells import read_cells
from landrelease.store import Store, open_store

SETUP = Change("test", "hand-made programme")
GEOD = Geod(ellps="WGS84")
runner = CliRunner()

# Three admin areas side by side, each 0.03 x 0.02 degrees (about 2.2 x 2.2 km) at 49 N.
AREAS = [box(36.00, 49.00, 36.03, 49.02), box(36.03, 49.00, 36.06, 49.02), box(36.06, 49.00, 36.09, 49.02)]
H1 = box(36.010, 49.008, 36.014, 49.012)  # CHA with a mine found in it, partly cleared
H1_CLEARED = box(36.011, 49.009, 36.013, 49.011)
H2 = box(36.040, 49.005, 36.046, 49.010)  # SHA, all cancelled, nothing found
H3 = box(36.070, 49.005, 36.076, 49.010)  # SHA, all reduced, but a mortar round was found in it
MINE = Point(36.012, 49.010)
MORTAR = Point(36.073, 49.0075)
ACCIDENT = Point(36.05, 49.015)
SETTLEMENT = Point(36.02, 49.0)
ROAD = Point(36.08, 49.018)


def multi(polygon: shapely.Polygon) -> MultiPolygon:
    return MultiPolygon([polygon])


def programme(store: Store) -> dict[str, str]:
    areas = store.add("admin_areas", [NewFeature({"name": f"A{i}"}, multi(a)) for i, a in enumerate(AREAS)], SETUP)
    hazards = store.add(
        "hazards",
        [
            NewFeature({"hazard_class": "CHA", "status": "worked_on", "admin_area": areas[0]}, multi(H1)),
            NewFeature({"hazard_class": "SHA", "status": "closed", "admin_area": areas[1]}, multi(H2)),
            NewFeature({"hazard_class": "SHA", "status": "closed", "admin_area": areas[2]}, multi(H3)),
        ],
        SETUP,
    )
    store.add(
        "outcomes",
        [
            NewFeature({"hazard_id": hazards[0], "kind": "cleared"}, multi(H1_CLEARED)),
            NewFeature({"hazard_id": hazards[1], "kind": "cancelled"}, multi(H2)),
            NewFeature({"hazard_id": hazards[2], "kind": "reduced"}, multi(H3)),
        ],
        SETUP,
    )
    store.add(
        "finds",
        [
            NewFeature({"hazard_id": hazards[0], "ordnance_category": "Landmine", "ordnance_model": "PMN-2"}, MINE),
            NewFeature({"hazard_id": hazards[2], "ordnance_category": "Unexploded ordnance"}, MORTAR),
        ],
        SETUP,
    )
    store.add("accidents", [NewFeature({"accident_class": "mine"}, ACCIDENT)], SETUP)
    store.add("context", [NewFeature({"kind": "settlement"}, SETTLEMENT), NewFeature({"kind": "road"}, ROAD)], SETUP)
    return {"area0": areas[0], "area1": areas[1], "area2": areas[2]}


@pytest.fixture
def built(gpkg: Store) -> tuple[SurveyCells, dict[str, str]]:
    ids = programme(gpkg)
    return cells_from_store(gpkg, 500.0), ids


def metres(cells: SurveyCells, point: Point) -> np.ndarray:
    """Geodesic distance from every cell centre to ``point``: the independent reference."""
    t = cells.table
    _, _, d = GEOD.inv(t.lon, t.lat, np.full(len(t), point.x), np.full(len(t), point.y))
    return np.asarray(d)


def cell_containing(cells: SurveyCells, point: Point) -> int:
    """On a square grid, the cell holding a point is the one whose centre is nearest to it."""
    return int(np.argmin(metres(cells, point)))


def squares(cells: SurveyCells) -> np.ndarray:
    """Each cell's square, back in longitude/latitude (for hand-made overlap checks)."""
    g = cells.grid
    r, c = np.divmod(cells.flat, g.cols)
    x, y = g.x0 + c * g.size_m, g.y0 + r * g.size_m
    inverse = Transformer.from_crs(g.crs, "EPSG:4326", always_xy=True)
    out = []
    for x0, y0 in zip(x.tolist(), y.tolist(), strict=True):
        xs = [x0, x0 + g.size_m, x0 + g.size_m, x0]
        ys = [y0, y0, y0 + g.size_m, y0 + g.size_m]
        lon, lat = inverse.transform(xs, ys)
        out.append(shapely.Polygon(list(zip(lon, lat, strict=True))))
    return np.array(out, dtype=object)


def test_cells_cover_the_admin_areas_and_belong_to_the_one_holding_their_centre(built) -> None:
    cells, ids = built
    t = cells.table
    assert t.groups is not None
    # 6.6 x 2.2 km at 500 m: about 13 x 4 cells (the grid is laid in metres, not degrees)
    assert 40 <= len(t) <= 70
    area_ids = [ids["area0"], ids["area1"], ids["area2"]]
    for lon, lat, group in zip(t.lon.tolist(), t.lat.tolist(), t.groups.tolist(), strict=True):
        holding = [a for a, polygon in zip(area_ids, AREAS, strict=True) if polygon.contains(Point(lon, lat))]
        assert holding == [group]
    # equal-area: every square is 500 x 500 m on the ground to well within 0.1 %
    areas = np.array([abs(GEOD.geometry_area_perimeter(s)[0]) for s in squares(cells)])
    assert np.allclose(areas, 250_000, rtol=1e-3)


def test_labels_from_survey_history(built) -> None:
    cells, _ = built
    label = cells.table.label
    cell_squares = squares(cells)
    overlaps = lambda polygon: shapely.area(shapely.intersection(cell_squares, polygon)) > 0  # noqa: E731
    mine_cell, mortar_cell = cell_containing(cells, MINE), cell_containing(cells, MORTAR)
    assert label[mine_cell] == 1
    # the CHA with a mine find: every cell it overlaps is mined
    assert (label[overlaps(H1)] == 1).all()
    # cancelled with nothing found: clean; the same for reduced land, except where the mortar was found
    assert (label[overlaps(H2)] == 0).all() and overlaps(H2).sum() >= 1
    reduced = overlaps(H3)
    assert label[mortar_cell] == -1
    assert (label[reduced & (np.arange(len(label)) != mortar_cell)] == 0).all()
    # everything else was never surveyed: unknown, never a negative
    elsewhere = ~(overlaps(H1) | overlaps(H2) | reduced)
    assert (label[elsewhere] == -1).all()
    assert (label == 0).sum() == overlaps(H2).sum() + reduced.sum() - 1
    assert (label == 1).sum() == overlaps(H1).sum()


def test_distances_and_counts(built) -> None:
    cells, _ = built
    t = cells.table
    assert set(t.numeric) == {
        "hazard_m", "find_m", "finds_1km", "finds_5km", "accident_m", "accidents_5km", "road_m", "settlement_m",
    }  # fmt: skip
    for name, point in (("accident_m", ACCIDENT), ("settlement_m", SETTLEMENT), ("road_m", ROAD)):
        assert np.allclose(t.numeric[name], metres(cells, point), rtol=1e-3, atol=0.2), name
    # finds: the cell's own finds are left out (they make its label)
    to_mine, to_mortar = metres(cells, MINE), metres(cells, MORTAR)
    mine_cell, mortar_cell = cell_containing(cells, MINE), cell_containing(cells, MORTAR)
    expected = np.minimum(to_mine, to_mortar)
    expected[mine_cell], expected[mortar_cell] = to_mortar[mine_cell], to_mine[mortar_cell]
    assert np.allclose(t.numeric["find_m"], expected, rtol=1e-3, atol=0.2)
    for radius, name in ((1000, "finds_1km"), (5000, "finds_5km")):
        counted = (to_mine <= radius).astype(float) + (to_mortar <= radius)
        counted[mine_cell] -= to_mine[mine_cell] <= radius
        counted[mortar_cell] -= to_mortar[mortar_cell] <= radius
        near_edge = (np.abs(to_mine - radius) < 5) | (np.abs(to_mortar - radius) < 5)
        assert np.array_equal(t.numeric[name][~near_edge], counted[~near_edge]), name
    assert t.numeric["finds_1km"][mine_cell] == 0  # the mortar is 4.4 km away
    assert t.numeric["finds_5km"][mine_cell] == 1
    assert np.array_equal(t.numeric["accidents_5km"], (metres(cells, ACCIDENT) <= 5000).astype(float))
    # a cell whose centre is inside a hazard is 0 m from it; the others measure to the nearest edge
    centres = shapely.points(t.lon, t.lat)
    inside = shapely.contains(H2, centres) | shapely.contains(H3, centres) | shapely.contains(H1, centres)
    assert (t.numeric["hazard_m"][inside] == 0).all()
    assert (t.numeric["hazard_m"][~inside] > 0).all()


def test_one_admin_area_and_the_ones_inside_it(gpkg: Store) -> None:
    ids = programme(gpkg)
    inner = gpkg.add(
        "admin_areas",
        [NewFeature({"name": "inner", "parent_id": ids["area1"]}, multi(box(36.03, 49.00, 36.045, 49.02)))],
        SETUP,
    )[0]
    cells = cells_from_store(gpkg, 500.0, ids["area1"])
    assert cells.table.groups is not None
    # only area 1; its western half belongs to the smaller area inside it
    assert set(cells.table.groups.tolist()) == {ids["area1"], inner}
    assert (cells.table.lon > 36.03).all() and (cells.table.lon < 36.06).all()
    with pytest.raises(NotFound, match="no admin area AD-000099"):
        cells_from_store(gpkg, 500.0, "AD-000099")
    with pytest.raises(InvalidInput, match="cell size"):
        cells_from_store(gpkg, 10.0)


def test_without_admin_areas_the_grid_covers_the_hazards(gpkg: Store) -> None:
    gpkg.add("hazards", [NewFeature({"hazard_class": "SHA", "status": "active"}, multi(H2))], SETUP)
    cells = cells_from_store(gpkg, 500.0)
    assert cells.table.groups is None and cells.notes
    # the hazard (about 440 x 560 m) plus a cell on every side
    assert 12 <= len(cells.table) <= 20
    assert (cells.table.label == -1).all()


def test_mines_are_known_by_category_or_model() -> None:
    assert is_mine("Landmine", None) and is_mine(None, "PMN-2") and is_mine(None, "tm-62m")
    assert not is_mine("Submunition", "PTAB-1M") and not is_mine("Unexploded ordnance", None)
    assert not is_mine(None, None)


@pytest.fixture(params=["geopackage", "postgis"])
def any_store(request: pytest.FixtureRequest, db_path: Path) -> Iterator[Store]:
    if request.param == "geopackage":
        opened = open_store(str(db_path), create=True)
    else:
        database = request.getfixturevalue("postgis_database")
        url = database.fresh_schema()
        request.addfinalizer(lambda: database.drop_schema(url))
        opened = open_store(url, create=True)
    yield opened
    opened.close()


def test_stored_predictions_are_replaced_not_versioned(any_store: Store) -> None:
    gpkg = any_store
    programme(gpkg)
    cells = cells_from_store(gpkg, 500.0)
    t = cells.table
    risk = np.linspace(0, 1, len(t))
    drivers = [[("road_m", 0.5)] for _ in range(len(t))]
    first = store_risk(gpkg, t, risk, drivers, "m.json", 500.0, SETUP)
    assert (first.added, first.updated, first.cleared) == (len(t), 0, 0)
    again = store_risk(gpkg, t, 1 - risk, drivers, "m2.json", 500.0, SETUP)
    assert (again.added, again.updated, again.cleared) == (0, len(t), 0)
    ids, _, cols = gpkg.columns(RISK_LAYER, ["risk", "model", "top_covariates", "cell_size_m"])
    assert len(ids) == len(t)
    assert np.allclose(sorted(cols["risk"]), sorted(np.round(1 - risk, 5)))
    assert set(cols["model"]) == {"m2.json"} and json.loads(str(cols["top_covariates"][0])) == [["road_m", 0.5]]
    assert len(gpkg.history(ids[0])) == 1  # the prediction is derived: no new version
    # a coarser grid: new cells; the old ones lose their risk (the map and prioritisation skip them)
    coarse = cells_from_store(gpkg, 1000.0).table
    third = store_risk(gpkg, coarse, np.full(len(coarse), 0.3), [[] for _ in range(len(coarse))], "m", 1000.0, SETUP)
    assert (third.added, third.cleared) == (len(coarse), len(t))
    _, _, cols = gpkg.columns(RISK_LAYER, ["risk"])
    assert sum(v is not None for v in cols["risk"]) == len(coarse)


def test_cli_cells_then_predict_from_the_database(tmp_path: Path, db_path: Path) -> None:
    with open_store(str(db_path), create=True) as store:
        programme(store)
    out = tmp_path / "cells.csv"
    r = runner.invoke(app, ["--db", str(db_path), "risk", "cells", str(out), "--size-m", "500", "--json"])
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert summary["groups"] == 3 and summary["mined"] >= 1 and summary["clean"] >= 1
    back = read_cells(out, "mined", "admin_area")
    assert len(back) == summary["n_cells"]
    assert int((back.label == -1).sum()) == summary["unknown"]
    assert set(back.numeric) >= {"find_m", "accident_m", "road_m"}
    r = runner.invoke(app, ["--db", str(db_path), "risk", "predict", "--model", str(tmp_path / "none.json")])
    assert r.exit_code != 0 and "--out" in r.output
    r = runner.invoke(app, ["--db", str(db_path), "risk", "cells", str(tmp_path / "c.txt")])
    assert r.exit_code != 0 and "csv" in r.output.lower() and "Traceback" not in r.output


@pytest.mark.slow  # the demo programme, then training with leave-area-out tuning: about 20 s
def test_demo_programme_cells_train_predict_store_and_prioritise(tmp_path: Path) -> None:
    db = str(tmp_path / "demo.gpkg")
    r = runner.invoke(app, ["--db", db, "demo", "--no-serve", "--hazards", "300", "--json"])
    assert r.exit_code == 0, r.output
    cells, model = tmp_path / "cells.csv", tmp_path / "risk.json"
    r = runner.invoke(app, ["--db", db, "risk", "cells", str(cells), "--size-m", "2000", "--json"])
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert summary["groups"] == 6  # the demo's districts
    assert summary["mined"] > 20 and summary["clean"] > 20
    assert summary["unknown"] > 0.9 * summary["n_cells"]  # most of the land was never surveyed
    assert {"settlement_m", "road_m", "farmland_m", "find_m", "accident_m", "hazard_m"} <= set(summary["covariates"])
    r = runner.invoke(
        app, ["risk", "train", str(cells), "--label", "mined", "--group", "admin_area", "--model", str(model)]
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["--db", db, "risk", "predict", "--model", str(model), "--size-m", "2000", "--store"])
    assert r.exit_code == 0, r.output
    with open_store(db) as store:
        ids, _, cols = store.columns(RISK_LAYER, ["risk", "admin_area", "model"])
    assert len(ids) == summary["n_cells"]
    assert all(0 <= v <= 1 for v in cols["risk"]) and set(cols["model"]) == {"risk.json"}
    weights = tmp_path / "weights.toml"
    weights.write_text("[weights]\nrisk = 30\n", encoding="utf-8")
    r = runner.invoke(app, ["--db", db, "prioritise", "--weights", str(weights), "--json", "--as-of", "2026-06-01"])
    assert r.exit_code == 0, r.output
    ranked = json.loads(r.stdout)
    assert any(h["components"]["risk"] > 0 for h in ranked)
    assert all(h["components"]["risk"] == pytest.approx(30 * h["values"]["risk"], abs=1e-6) for h in ranked)


def test_stored_cells_come_through_the_vector_tiles(any_store: Store) -> None:
    gpkg = any_store
    import mapbox_vector_tile  # type: ignore[import-untyped]

    from landrelease.service.ogc_index import LayerCache
    from landrelease.service.tiles import tile_bytes, tile_layer

    programme(gpkg)
    t = cells_from_store(gpkg, 500.0).table
    store_risk(gpkg, t, np.linspace(0.1, 0.9, len(t)), [[] for _ in range(len(t))], "m.json", 500.0, SETUP)
    # one cell loses its risk: it is still in the layer, but no longer carries a risk to draw
    ids, _, _ = gpkg.columns(RISK_LAYER, [])
    gpkg.set_derived(RISK_LAYER, {ids[0]: {"risk": None}})
    z = 10
    x = int((36.045 + 180) / 360 * 2**z)
    y = int((1 - np.arcsinh(np.tan(np.radians(49.01))) / np.pi) / 2 * 2**z)
    content = tile_bytes(gpkg, tile_layer("risk-cells"), z, x, y, LayerCache())
    assert content is not None
    features = mapbox_vector_tile.decode(content)["risk_cells"]["features"]
    assert len(features) == len(t)  # the whole programme (6.6 x 2.2 km) is in one zoom-10 tile
    risks = {f["properties"]["id"]: f["properties"].get("risk") for f in features}
    assert risks[ids[0]] is None
    assert all(0.1 <= r <= 0.9 for i, r in risks.items() if i != ids[0])
    assert {f["properties"]["cell_size_m"] for f in features} == {500.0}
