"""The storage contract for "is this place in a hazardous area?" (``Store.polygons_at``) and for bulk adds
(the path that rebuilds the spatial index and counts the ledger at once), on every backend."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, box

from landrelease.domain.records import Change, NewFeature
from landrelease.errors import InvalidInput
from landrelease.store import Store

ANNA = Change("anna", "national survey 2024", datetime(2024, 5, 1, 9, 30, tzinfo=UTC))


def add_hazards(store: Store, *geometries: Polygon | MultiPolygon | None) -> list[str]:
    features = [
        NewFeature({"name": f"H{i}", "hazard_class": "SHA", "status": "active"}, g) for i, g in enumerate(geometries)
    ]
    return store.add("hazards", features, ANNA)


def pairs(store: Store, places: list[tuple[float, float]]) -> list[tuple[int, str]]:
    where, ids = store.polygons_at("hazards", np.array(places, dtype=float))
    return list(zip(where.tolist(), ids, strict=True))


def test_each_place_gets_every_hazard_it_lies_in(store: Store) -> None:
    with_hole = Polygon([(0, 0), (10, 0), (10, 10), (0, 10)], [[(4, 4), (6, 4), (6, 6), (4, 6)]])
    two_parts = MultiPolygon([box(20, 0, 21, 1), box(30, 0, 31, 1)])
    first, second, third, _ = add_hazards(store, with_hole, two_parts, box(8, 8, 12, 12), None)
    found = pairs(
        store,
        [
            (1, 1),  # inside the first
            (5, 5),  # in its hole: not in it
            (10, 5),  # on its edge: in it
            (9, 9),  # where the first and the third overlap: both, oldest first
            (30.5, 0.5),  # in the second part of a MultiPolygon
            (50, 50),  # nowhere
            (11, 11),  # only in the third
        ],
    )
    assert found == [(0, first), (2, first), (3, first), (3, third), (4, second), (6, third)]


def test_retired_hazards_and_other_layers_are_not_looked_in(store: Store) -> None:
    kept, retired = add_hazards(store, box(0, 0, 1, 1), box(0, 0, 2, 2))
    store.add("outcomes", [NewFeature({"kind": "cleared", "hazard_id": kept}, box(0, 0, 5, 5))], ANNA)
    store.retire(retired, Change("anna", "duplicate of the first", ANNA.at))
    assert pairs(store, [(0.5, 0.5), (1.5, 1.5)]) == [(0, kept)]
    where, ids = store.polygons_at("outcomes", np.array([[1.5, 1.5]]))
    assert where.tolist() == [0] and len(ids) == 1 and ids[0].startswith("OC-")


def test_no_places_or_no_hazards(store: Store) -> None:
    assert pairs(store, [(1, 1)]) == []
    add_hazards(store, box(0, 0, 1, 1))
    where, ids = store.polygons_at("hazards", np.empty((0, 2)))
    assert where.size == 0 and ids == []


@pytest.mark.parametrize(
    ("layer", "places", "message"),
    [
        ("finds", [[1.0, 1.0]], "finds holds no areas"),
        ("hazards", [[1.0, float("nan")]], "place 1 has a coordinate that is not a number"),
        ("hazards", [[0.0, 0.0], [1.0, float("inf")]], "place 2 has a coordinate that is not a number"),
        ("hazards", [1.0, 2.0, 3.0], "pairs of numbers (longitude, latitude)"),
        ("hazards", [["north", "east"]], "pairs of numbers (longitude, latitude)"),
    ],
)
def test_bad_places_are_refused_in_one_line(store: Store, layer: str, places: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        store.polygons_at(layer, places)  # type: ignore[arg-type]


def test_polygons_at_matches_brute_force_on_random_hazards(store: Store) -> None:
    rng = np.random.default_rng(7)
    centres = rng.uniform(0, 10, (300, 2))
    sizes = rng.uniform(0.05, 0.8, (300, 2))
    hazards = shapely.box(centres[:, 0], centres[:, 1], centres[:, 0] + sizes[:, 0], centres[:, 1] + sizes[:, 1])
    ids = add_hazards(store, *hazards)
    places = rng.uniform(-0.5, 11, (5_000, 2))
    places[:50] = shapely.get_coordinates(hazards[:50])[::5][:50]  # corners: exactly on boundaries
    where, found = store.polygons_at("hazards", places)
    inside = shapely.intersects(hazards[None, :], shapely.points(places)[:, None])
    expected = [(int(p), ids[h]) for p, h in zip(*np.nonzero(inside), strict=True)]
    assert list(zip(where.tolist(), found, strict=True)) == expected
    assert len(expected) > 500


def test_a_bulk_add_counts_the_ledger_and_keeps_history_and_the_index(store: Store) -> None:
    """Large adds take another path (index rebuilt, ledger counted at once): the same results."""
    add_hazards(store, box(-1, -1, -0.5, -0.5))
    before = store.ledger_state().changes
    grid = [box(x * 0.01, y * 0.01, x * 0.01 + 0.005, y * 0.01 + 0.005) for x in range(100) for y in range(100)]
    ids = add_hazards(store, *grid)
    assert len(ids) == 10_000 and store.count("hazards") == 10_001
    assert store.ledger_state().changes == before + 10_000
    history = store.history(ids[1234])
    assert [v.version for v in history] == [1] and history[0].change.author == "anna"
    assert history[0].attributes["name"] == "H1234" and history[0].geometry is not None
    assert history[0].geometry.equals(grid[1234])
    assert len(list(store.features("hazards", (0.1, 0.1, 0.104, 0.104)))) == 1
    assert pairs(store, [(0.502, 0.302), (0.507, 0.302)]) == [(0, ids[50 * 100 + 30])]
    # Later edits are counted as before: the insert trigger is back.
    store.update(ids[0], ANNA, geometry=box(5, 5, 6, 6))
    store.add(
        "hazards",
        [NewFeature({"name": "late", "hazard_class": "SHA", "status": "active"}, Point(0, 0).buffer(1))],
        ANNA,
    )
    assert store.ledger_state().changes == before + 10_002
