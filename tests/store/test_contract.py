"""The storage contract (``landrelease.store.protocol.Store``): every backend passes this one suite.

Only the protocol is used here, never a backend's own API, so a new backend is tested by adding it to
``BACKENDS`` in conftest.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, box

from landrelease.domain.records import Action, Change, NewFeature, NewFeatures, Scalar, Version
from landrelease.domain.schema import LAYERS, GeometryKind
from landrelease.errors import InvalidInput, NotFound
from landrelease.store import Store
from landrelease.store.dumps import ServiceDump
from landrelease.store.protocol import KEEP

ANNA = Change("anna", "national survey 2024", datetime(2024, 5, 1, 9, 30, tzinfo=UTC))
BOHDAN = Change("bohdan", "technical survey report TS-17", datetime(2024, 6, 2, 14, 0, tzinfo=UTC))
KYIV = timezone(timedelta(hours=3))

#: Ukrainian text with the letters only Ukrainian has and an apostrophe that is not ASCII.
FIELD_NAME = "Поле біля Ізюма, ґрунтова дорога; з'їзд «Слов’янськ» — 5 км"


def hazard(name: str = "field", hazard_class: str = "SHA", status: str = "active", **more: Scalar) -> dict[str, Scalar]:
    return {"name": name, "hazard_class": hazard_class, "status": status, **more}


def add_hazards(store: Store, *geometries: Polygon | MultiPolygon | None, change: Change = ANNA) -> list[str]:
    features = [NewFeature(hazard(f"H{i}"), g) for i, g in enumerate(geometries)]
    return store.add("hazards", features, change)


# --- ids -------------------------------------------------------------------------------------------------


def test_add_returns_ids_in_order_with_the_layer_prefix(store: Store) -> None:
    ids = add_hazards(store, box(0, 0, 1, 1), box(1, 1, 2, 2), box(2, 2, 3, 3))
    assert ids == ["HZ-000001", "HZ-000002", "HZ-000003"]
    assert [store.get(i).attributes["name"] for i in ids] == ["H0", "H1", "H2"]
    more = add_hazards(store, box(5, 5, 6, 6))
    assert more == ["HZ-000004"]
    finds = store.add("finds", [NewFeature({"quantity": 1}, Point(30, 50))], ANNA)
    assert re.fullmatch(r"FD-\d{6}", finds[0])
    for layer in LAYERS.values():
        assert re.fullmatch(r"[A-Z]{2}", layer.id_prefix)


def test_add_of_nothing_writes_nothing(store: Store) -> None:
    assert store.add("hazards", [], ANNA) == []
    assert store.count("hazards") == 0


def test_ids_are_never_reused_after_retire(store: Store) -> None:
    ids = add_hazards(store, box(0, 0, 1, 1), box(1, 1, 2, 2))
    store.retire(ids[1], BOHDAN)
    assert add_hazards(store, box(3, 3, 4, 4)) == ["HZ-000003"]


def test_unknown_layer_and_record(store: Store) -> None:
    with pytest.raises(NotFound, match="no layer called 'stockpiles'"):
        store.add("stockpiles", [NewFeature({})], ANNA)
    with pytest.raises(NotFound, match="HZ-000099"):
        store.get("HZ-000099")
    with pytest.raises(NotFound, match="HZ-000099"):
        store.history("HZ-000099")
    with pytest.raises(NotFound):
        store.get("nonsense")


# --- get, update, history ------------------------------------------------------------------------------------


def test_get_returns_the_current_version(store: Store) -> None:
    [hz] = store.add(
        "hazards",
        [NewFeature(hazard(FIELD_NAME, "CHA", reported_date="2022-02-24", synthetic=True), box(36, 49, 36.1, 49.1))],
        ANNA,
    )
    feature = store.get(hz)
    assert feature.id == hz
    assert feature.layer == "hazards"
    assert feature.version == 1
    assert feature.attributes["name"] == FIELD_NAME
    assert feature.attributes["hazard_class"] == "CHA"
    assert feature.attributes["reported_date"] == "2022-02-24"
    assert feature.attributes["synthetic"] is True
    assert feature.attributes["operator"] is None
    assert set(feature.attributes) == set(LAYERS["hazards"].field_names)
    # Polygons are stored as MultiPolygon (a hazard may have several parts).
    assert feature.geometry is not None
    assert feature.geometry.geom_type == "MultiPolygon"
    assert feature.geometry.equals(box(36, 49, 36.1, 49.1))


def test_update_merges_attributes_and_bumps_the_version(store: Store) -> None:
    [hz] = store.add("hazards", [NewFeature(hazard("Поле", operator="HALO"), box(0, 0, 1, 1))], ANNA)
    updated = store.update(hz, BOHDAN, {"status": "worked_on"}, status_change=True)
    assert updated.version == 2
    assert updated.attributes["status"] == "worked_on"
    assert updated.attributes["name"] == "Поле"  # untouched fields stay
    assert updated.attributes["operator"] == "HALO"
    assert updated.geometry is not None and updated.geometry.equals(box(0, 0, 1, 1))  # KEEP by default
    assert store.get(hz) == updated

    cleared = store.update(hz, BOHDAN, {"operator": None}, geometry=box(0, 0, 0.5, 0.5))
    assert cleared.version == 3
    assert cleared.attributes["operator"] is None
    assert cleared.attributes["status"] == "worked_on"
    assert cleared.geometry is not None and cleared.geometry.equals(box(0, 0, 0.5, 0.5))
    assert cleared.geometry.geom_type == "MultiPolygon"

    no_geometry = store.update(hz, BOHDAN, geometry=None)
    assert no_geometry.geometry is None and store.get(hz).geometry is None
    kept = store.update(hz, BOHDAN, {"name": "renamed"}, geometry=KEEP)
    assert kept.geometry is None and kept.version == 5


def test_update_refuses_to_clear_a_required_field(store: Store) -> None:
    [hz] = add_hazards(store, box(0, 0, 1, 1))
    with pytest.raises(InvalidInput, match=f"{hz}: hazard_class is required"):
        store.update(hz, BOHDAN, {"hazard_class": None})
    assert store.get(hz).version == 1


def test_history_keeps_every_version_with_author_reason_and_time(store: Store) -> None:
    [hz] = add_hazards(store, box(0, 0, 1, 1), change=ANNA)
    store.update(hz, BOHDAN, {"status": "worked_on"}, status_change=True)
    late = Change("olena", "boundary corrected", datetime(2024, 7, 3, 12, 0, 0, 123456, tzinfo=KYIV))
    store.update(hz, late, {"name": "Поле 2"}, geometry=box(0, 0, 2, 2))
    versions = store.history(hz)
    assert [v.version for v in versions] == [1, 2, 3]
    assert [v.action for v in versions] == [Action.CREATE, Action.STATUS, Action.UPDATE]
    assert [v.change.author for v in versions] == ["anna", "bohdan", "olena"]
    assert [v.change.reason for v in versions] == [ANNA.reason, BOHDAN.reason, late.reason]
    assert [v.change.at for v in versions] == [ANNA.at, BOHDAN.at, late.at]  # exact, any time zone
    assert all(v.change.at.tzinfo is not None for v in versions)
    assert [v.attributes["status"] for v in versions] == ["active", "worked_on", "worked_on"]
    assert [v.attributes["name"] for v in versions] == ["H0", "H0", "Поле 2"]
    assert all(v.record_id == hz for v in versions)
    geometries = [v.geometry for v in versions]
    assert geometries[0] is not None and geometries[0].equals(box(0, 0, 1, 1))
    assert geometries[2] is not None and geometries[2].equals(box(0, 0, 2, 2))


def test_retire_keeps_history_and_takes_the_record_out(store: Store) -> None:
    ids = add_hazards(store, box(0, 0, 1, 1), box(2, 2, 3, 3))
    store.update(ids[0], BOHDAN, {"status": "worked_on"}, status_change=True)
    retire = Change("olena", "duplicate of HZ-000002", datetime(2024, 8, 1, tzinfo=UTC))
    store.retire(ids[0], retire)
    with pytest.raises(NotFound, match=r"HZ-000001 was retired on 2024-08-01 by olena: duplicate of HZ-000002"):
        store.get(ids[0])
    versions = store.history(ids[0])
    assert [v.action for v in versions] == [Action.CREATE, Action.STATUS, Action.RETIRE]
    assert versions[-1].change == retire
    assert versions[-1].attributes["status"] == "worked_on"  # the record as it was when retired
    assert versions[-1].geometry is not None and versions[-1].geometry.equals(box(0, 0, 1, 1))
    assert store.count("hazards") == 1
    assert [f.id for f in store.features("hazards")] == [ids[1]]
    assert [f.id for f in store.features("hazards", (0, 0, 1, 1))] == []
    assert store.columns("hazards", [])[0] == [ids[1]]
    with pytest.raises(NotFound, match="retired"):
        store.update(ids[0], BOHDAN, {"status": "closed"})
    with pytest.raises(NotFound, match="retired"):
        store.retire(ids[0], BOHDAN)


# --- checks at the boundary ----------------------------------------------------------------------------------


def test_a_batch_of_columns_is_added_as_the_same_features_would_be(store: Store) -> None:
    shapes = [box(0, 0, 1, 1), box(2, 2, 3, 3), None]
    batch = NewFeatures(
        columns={"name": ["A", "B", "C"], "hazard_class": ["SHA", "cha", "SHA"], "status": ["active"] * 3},
        geometries=shapes,
        derived={"estimated_m2": [1.0, 2.0, None]},
    )
    ids = store.add_batch("hazards", batch, ANNA)
    assert ids == ["HZ-000001", "HZ-000002", "HZ-000003"]
    twins = store.add(
        "hazards",
        [NewFeature(hazard(n, c), g) for n, c, g in zip("ABC", ["SHA", "cha", "SHA"], shapes, strict=True)],
        ANNA,
    )
    for batched, one_by_one in zip(ids, twins, strict=True):
        a, b = store.get(batched), store.get(one_by_one)
        assert {k: v for k, v in a.attributes.items() if k != "estimated_m2"} == {
            k: v for k, v in b.attributes.items() if k != "estimated_m2"
        }
        assert a.geometry == b.geometry or (a.geometry is not None and a.geometry.equals(b.geometry))
        assert [v.action for v in store.history(batched)] == [Action.CREATE]
    assert store.get(ids[1]).attributes["hazard_class"] == "CHA"  # coerced as one by one
    assert store.get(ids[0]).attributes["estimated_m2"] == 1.0
    assert store.get(ids[2]).attributes["estimated_m2"] is None


def test_a_batch_with_a_bad_column_writes_nothing(store: Store) -> None:
    with pytest.raises(InvalidInput, match="holds 1 values for 2 features"):
        store.add_batch("hazards", NewFeatures({"name": ["A"]}, [box(0, 0, 1, 1), box(1, 1, 2, 2)]), ANNA)
    with pytest.raises(InvalidInput, match="feature 2: no field called 'colour'"):
        store.add_batch(
            "hazards",
            NewFeatures({**{k: [v, v] for k, v in hazard().items()}, "colour": [None, "red"]}, [None, None]),
            ANNA,
        )
    with pytest.raises(InvalidInput, match="feature 2"):
        store.add_batch(
            "hazards", NewFeatures({"name": ["A", "B"], "hazard_class": ["SHA", "XYZ"]}, [None, None]), ANNA
        )
    assert store.count("hazards") == 0


def test_a_batch_refuses_derived_values_for_what_is_not_a_derived_field_even_when_empty(store: Store) -> None:
    # A column of None writes nothing, but a name that is no derived field is still a caller's mistake.
    for name, why in (("bogus", "'bogus' is not a field"), ("name", "'name' is written with update")):
        with pytest.raises(InvalidInput, match=why):
            store.add_batch("hazards", NewFeatures({k: [v] for k, v in hazard().items()}, [None], {name: [None]}), ANNA)
        with pytest.raises(InvalidInput, match=why):
            store.add("hazards", [NewFeature(hazard(), None, {name: None})], ANNA)
    with pytest.raises(InvalidInput, match="feature 2: estimated_m2: 'lots' is not a valid real"):
        store.add_batch(
            "hazards",
            NewFeatures({k: [v, v] for k, v in hazard().items()}, [None, None], {"estimated_m2": [1.0, "lots"]}),
            ANNA,
        )
    assert store.count("hazards") == 0


def test_a_batch_and_the_same_features_one_by_one_leave_the_same_record_and_history(store: Store) -> None:
    # Sparse columns, a column of None only, columns as tuples, Ukrainian text, every scalar type.
    columns: dict[str, tuple[Scalar, ...]] = {
        "name": (FIELD_NAME, "B", "C"),
        "hazard_class": ("SHA", "CHA", "EOD"),
        "status": ("active", "active", "active"),
        "operator": (None, None, None),
        "reported_date": ("2024-02-29", None, "2023-01-01"),
        "extra": ('{"Примітка": "ґ"}', None, None),
        "synthetic": (True, False, None),
    }
    shapes = (box(0, 0, 1, 1), None, MultiPolygon([box(2, 2, 3, 3), box(4, 4, 5, 5)]))
    ids = store.add_batch("hazards", NewFeatures(columns, shapes, {"estimated_m2": (10.5, None, 3.0)}), ANNA)
    twins = store.add(
        "hazards",
        [
            NewFeature({k: v[i] for k, v in columns.items() if v[i] is not None}, shapes[i], derived)
            for i, derived in enumerate(({"estimated_m2": 10.5}, {}, {"estimated_m2": 3.0}))
        ],
        ANNA,
    )
    for batched, one_by_one in zip(ids, twins, strict=True):
        a, b = store.get(batched), store.get(one_by_one)
        assert a.attributes == b.attributes
        assert (a.geometry is None and b.geometry is None) or a.geometry.equals(b.geometry)  # type: ignore[union-attr]
        [first], [second] = store.history(batched), store.history(one_by_one)
        assert first.attributes == second.attributes and first.change == second.change == ANNA
    assert store.get(ids[0]).attributes["estimated_m2"] == 10.5
    assert store.get(ids[1]).attributes["estimated_m2"] is None
    assert store.get(ids[0]).attributes["name"] == FIELD_NAME
    assert store.get(ids[0]).attributes["synthetic"] is True and store.get(ids[1]).attributes["synthetic"] is False


def test_a_batch_of_nothing_and_a_batch_without_geometries(store: Store) -> None:
    assert store.add_batch("hazards", NewFeatures({}, []), ANNA) == []
    assert store.add_batch("hazards", NewFeatures({"name": []}, [], {"estimated_m2": []}), ANNA) == []
    [hz] = add_hazards(store, box(0, 0, 1, 1))
    [ax] = store.add("accidents", [NewFeature({"hazard_id": hz}, Point(0.5, 0.5))], ANNA)
    victims = store.add_batch(
        "victims", NewFeatures({"accident_id": [ax, ax], "sex": ["female", "male"]}, [None, None]), ANNA
    )
    assert [store.get(v).attributes["sex"] for v in victims] == ["female", "male"]
    with pytest.raises(InvalidInput, match="victims records have no geometry"):
        store.add_batch("victims", NewFeatures({"accident_id": [ax]}, [Point(1, 1)]), ANNA)
    with pytest.raises(InvalidInput, match="column sex holds 1 values for 2 features"):
        store.add_batch("victims", NewFeatures({"accident_id": [ax, ax], "sex": ["male"]}, [None, None]), ANNA)
    with pytest.raises(InvalidInput, match="column estimated_m2 holds 2 values for 1 features"):
        store.add_batch("hazards", NewFeatures({"name": ["A"]}, [None], {"estimated_m2": [1.0, 2.0]}), ANNA)
    assert store.count("victims") == 2 and store.count("hazards") == 1


def test_add_is_atomic(store: Store) -> None:
    add_hazards(store, box(0, 0, 1, 1))
    batch = [NewFeature(hazard(f"ok {i}"), box(i, i, i + 1, i + 1)) for i in range(300)]
    batch.insert(150, NewFeature(hazard("bad", hazard_class="minefield"), box(0, 0, 1, 1)))
    with pytest.raises(InvalidInput, match="hazards feature 151: hazard_class: 'minefield' is not one of"):
        store.add("hazards", batch, ANNA)
    assert store.count("hazards") == 1
    assert add_hazards(store, box(0, 0, 1, 1)) == ["HZ-000002"]  # no number was used up


def test_unknown_field_names_the_field_and_the_valid_ones(store: Store) -> None:
    features = [NewFeature(hazard()), NewFeature(hazard(colour="red"))]
    with pytest.raises(InvalidInput) as caught:
        store.add("hazards", features, ANNA)
    message = str(caught.value)
    assert "feature 2" in message and "'colour'" in message
    assert "hazard_class" in message and "reported_date" in message
    assert "\n" not in message
    [hz] = add_hazards(store, None)
    with pytest.raises(InvalidInput, match=f"{hz}: no field called 'colour'"):
        store.update(hz, BOHDAN, {"colour": "red"})


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        (hazard(hazard_class="XYZ"), r"hazard_class: 'XYZ' is not one of SHA, CHA, EOD, stockpile"),
        (hazard(status="exploded"), r"status: 'exploded' is not one of active"),
        (hazard(reported_date="2024-13-01"), r"reported_date: '2024-13-01' is not a valid date"),
        (hazard(reported_date="yesterday"), r"reported_date: 'yesterday' is not a valid date"),
        ({"status": "active"}, r"hazard_class is required"),
        ({"hazard_class": "SHA", "status": "  "}, r"status is required"),
    ],
)
def test_bad_values_are_refused_with_a_clear_message(store: Store, attributes: dict[str, Scalar], message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as caught:
        store.add("hazards", [NewFeature(attributes, box(0, 0, 1, 1))], ANNA)
    assert "\n" not in str(caught.value)
    assert store.count("hazards") == 0


def test_values_are_coerced_to_the_field_type(store: Store) -> None:
    [fd] = store.add(
        "finds",
        [NewFeature({"quantity": "3", "depth_cm": 12, "found_date": "2024-03-05", "synthetic": "yes"}, Point(1, 2))],
        ANNA,
    )
    attributes = store.get(fd).attributes
    assert attributes["quantity"] == 3 and type(attributes["quantity"]) is int
    assert attributes["depth_cm"] == 12.0 and type(attributes["depth_cm"]) is float
    assert attributes["synthetic"] is True
    with pytest.raises(InvalidInput, match="quantity"):
        store.add("finds", [NewFeature({"quantity": "many"}, Point(1, 2))], ANNA)


def test_derived_fields_given_to_add_or_update_are_ignored(store: Store) -> None:
    [hz] = store.add("hazards", [NewFeature(hazard(cleared_m2=5.0), box(0, 0, 1, 1))], ANNA)
    assert store.get(hz).attributes["cleared_m2"] is None
    store.update(hz, BOHDAN, {"cleared_m2": 7.0})
    assert store.get(hz).attributes["cleared_m2"] is None


def test_geometry_must_fit_the_layer(store: Store) -> None:
    with pytest.raises(InvalidInput, match="hazards feature 1: a Point cannot go in hazards"):
        store.add("hazards", [NewFeature(hazard(), Point(1, 1))], ANNA)
    with pytest.raises(InvalidInput, match="a Polygon cannot go in finds"):
        store.add("finds", [NewFeature({}, box(0, 0, 1, 1))], ANNA)
    with pytest.raises(InvalidInput, match="victims records have no geometry"):
        store.add("victims", [NewFeature({"accident_id": "AX-000001"}, Point(1, 1))], ANNA)
    with pytest.raises(InvalidInput, match="not numbers"):
        store.add("finds", [NewFeature({}, Point(1, float("nan")))], ANNA)
    [fd] = store.add("finds", [NewFeature({}, Point(1, 1))], ANNA)
    with pytest.raises(InvalidInput, match=f"{fd}: a LineString cannot go in finds"):
        store.update(fd, BOHDAN, geometry=shapely.LineString([(0, 0), (1, 1)]))
    assert store.count("hazards") == 0 and store.count("victims") == 0


# --- layers of every kind --------------------------------------------------------------------------------------


def test_points_polygons_and_multipolygons_round_trip(store: Store) -> None:
    two_parts = MultiPolygon([box(0, 0, 1, 1), box(2, 2, 3, 3)])
    holed = Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], [[(1, 1), (2, 1), (2, 2), (1, 2)]])
    ids = add_hazards(store, two_parts, holed, None)
    got = [store.get(i).geometry for i in ids]
    assert got[0] is not None and got[0].equals(two_parts)
    assert got[1] is not None and got[1].equals(holed) and got[1].geom_type == "MultiPolygon"
    assert got[2] is None
    point = Point(36.123456789012, 49.987654321098)
    [fd] = store.add("finds", [NewFeature({"ordnance_model": "ПМН-2"}, point)], ANNA)
    found = store.get(fd).geometry
    assert found is not None and found.geom_type == "Point"
    assert (found.x, found.y) == (point.x, point.y)  # coordinates are kept to the last bit


def test_non_spatial_layers(store: Store) -> None:
    ids = store.add(
        "victims",
        [NewFeature({"accident_id": "AX-000001", "full_name": "Олена Ковальчук", "sex": "female"})],
        ANNA,
    )
    assert ids == ["VC-000001"]
    victim = store.get(ids[0])
    assert victim.geometry is None and victim.attributes["full_name"] == "Олена Ковальчук"
    store.update(ids[0], BOHDAN, {"outcome": "injured"})
    assert store.get(ids[0]).version == 2
    assert [f.id for f in store.features("victims")] == ids
    with pytest.raises(InvalidInput, match="victims has no geometry"):
        list(store.features("victims", (0, 0, 1, 1)))
    got_ids, geometries, values = store.columns("victims", ["full_name"])
    assert got_ids == ids and len(geometries) == 0 and values == {"full_name": ["Олена Ковальчук"]}
    [org] = store.add("organisations", [NewFeature({"name": "ДСНС", "kind": "authority"})], ANNA)
    assert org == "OR-000001" and store.count("organisations") == 1
    assert LAYERS["organisations"].geometry is GeometryKind.NONE


def test_cyrillic_text_round_trips_exactly(store: Store) -> None:
    texts = [FIELD_NAME, "Харківська область", "ґ є і ї Ґ Є І Ї", "Чорнобаївка 🌻", "Zaporizhzhia / Запоріжжя"]
    ids = store.add("hazards", [NewFeature(hazard(t), box(0, 0, 1, 1)) for t in texts], Change("Андрій", "перевірка"))
    assert [store.get(i).attributes["name"] for i in ids] == texts
    assert store.history(ids[0])[0].change.author == "Андрій"
    assert store.history(ids[0])[0].change.reason == "перевірка"
    assert store.columns("hazards", ["name"])[2]["name"] == texts


# --- reads -----------------------------------------------------------------------------------------------


def test_features_filters_by_bounding_box(store: Store) -> None:
    ids = add_hazards(store, box(0, 0, 1, 1), box(10, 10, 11, 11), box(0.5, 0.5, 10.5, 10.5), None)
    assert [f.id for f in store.features("hazards")] == ids
    assert [f.id for f in store.features("hazards", (-1, -1, 0.2, 0.2))] == [ids[0]]
    assert [f.id for f in store.features("hazards", (0.9, 0.9, 10.1, 10.1))] == ids[:3]
    assert [f.id for f in store.features("hazards", (1.2, 1.2, 2, 2))] == [ids[2]]  # envelope, not shape
    assert [f.id for f in store.features("hazards", (20, 20, 30, 30))] == []
    assert [f.id for f in store.features("hazards", (1.0, 1.0, 1.0, 1.0))] == [ids[0], ids[2]]  # touching
    [fd] = store.add("finds", [NewFeature({}, Point(5, 5))], ANNA)
    assert [f.id for f in store.features("finds", (4, 4, 6, 6))] == [fd]
    assert [f.id for f in store.features("finds", (6, 6, 7, 7))] == []


def test_bounding_box_matches_brute_force_on_a_large_layer(store: Store) -> None:
    rng = np.random.default_rng(7)
    x, y = rng.uniform(22, 40, 3000), rng.uniform(44, 52, 3000)
    size = rng.uniform(0.0001, 0.5, 3000)
    polygons = shapely.box(x, y, x + size, y + size)
    ids = store.add("hazards", [NewFeature(hazard(), p) for p in polygons], ANNA)
    more = store.add("hazards", [NewFeature(hazard(), box(30, 48, 30.01, 48.01)) for _ in range(10)], ANNA)
    everything = np.concatenate([polygons, [box(30, 48, 30.01, 48.01)] * 10])
    all_ids = ids + more
    bounds = shapely.bounds(everything)
    for query in [(30, 48, 31, 49), (22, 44, 23, 45), (35.5, 50.25, 35.51, 50.26), (0, 0, 100, 100)]:
        expected = [
            i
            for i, b in zip(all_ids, bounds, strict=True)
            if b[0] <= query[2] and b[2] >= query[0] and b[1] <= query[3] and b[3] >= query[1]
        ]
        assert [f.id for f in store.features("hazards", query)] == expected


def test_page_filters_counts_and_slices_in_creation_order(store: Store) -> None:
    geometries = [box(i, 0, i + 0.5, 0.5) for i in range(12)]
    classes = ["SHA", "CHA", "EOD"]
    ids = store.add(
        "hazards",
        [
            NewFeature(hazard(f"H{i}", classes[i % 3], "active" if i < 8 else "closed"), g)
            for i, g in enumerate(geometries)
        ],
        ANNA,
    )
    store.retire(ids[3], BOHDAN)
    current = [i for i in ids if i != ids[3]]
    page, matched = store.page("hazards", limit=4)
    assert ([f.id for f in page], matched) == (current[:4], 11)
    assert page[0] == store.get(ids[0])  # whole features: attributes, geometry, version
    page, matched = store.page("hazards", limit=4, offset=8)
    assert ([f.id for f in page], matched) == (current[8:], 11)
    page, matched = store.page("hazards", equals={"hazard_class": "SHA"}, limit=10)
    assert ([f.id for f in page], matched) == ([ids[0], ids[6], ids[9]], 3)  # ids[3] is retired
    page, matched = store.page("hazards", equals={"hazard_class": "SHA", "status": "closed"}, limit=10)
    assert ([f.id for f in page], matched) == ([ids[9]], 1)
    page, matched = store.page("hazards", equals={"hazard_class": "CHA"}, bbox=(2.5, -1, 7.2, 1), limit=1, offset=1)
    assert ([f.id for f in page], matched) == ([ids[7]], 2)  # ids[4] and ids[7] match; the second of them
    page, matched = store.page("hazards", bbox=(0.5, 0.5, 1.0, 1.0), limit=10)  # touching edges count
    assert ([f.id for f in page], matched) == (ids[:2], 2)
    assert store.page("hazards", equals={"status": "nonesuch"}, limit=10) == ([], 0)
    assert store.page("hazards", limit=10, offset=50) == ([], 11)
    assert store.page("hazards", equals={"operator": None}, limit=10) == ([], 0)  # a missing value never matches
    assert store.page("hazards", equals={"name": "H1\x00"}, limit=10) == ([], 0)
    with pytest.raises(InvalidInput, match="hazards has no field called 'colour'"):
        store.page("hazards", equals={"colour": "red"}, limit=10)
    with pytest.raises(InvalidInput, match="cannot be filtered by a bounding box"):
        store.page("organisations", bbox=(0, 0, 1, 1), limit=10)


def test_page_bounding_box_matches_brute_force(store: Store) -> None:
    rng = np.random.default_rng(11)
    x, y = rng.uniform(22, 40, 2000), rng.uniform(44, 52, 2000)
    size = rng.uniform(0.0001, 0.5, 2000)
    polygons = shapely.box(x, y, x + size, y + size)
    classes = rng.choice(["SHA", "CHA"], 2000).tolist()
    ids = store.add(
        "hazards", [NewFeature(hazard(hazard_class=c), p) for c, p in zip(classes, polygons, strict=True)], ANNA
    )
    bounds = shapely.bounds(polygons)
    for query in [(30, 48, 31, 49), (35.5, 50.25, 35.51, 50.26), (0, 0, 100, 100)]:
        expected = [
            i
            for i, b, c in zip(ids, bounds, classes, strict=True)
            if c == "CHA" and b[0] <= query[2] and b[2] >= query[0] and b[1] <= query[3] and b[3] >= query[1]
        ]
        page, matched = store.page("hazards", equals={"hazard_class": "CHA"}, bbox=query, limit=7, offset=3)
        assert ([f.id for f in page], matched) == (expected[3:10], len(expected))


def test_columns_give_whole_layers_for_analysis(store: Store) -> None:
    ids = store.add(
        "hazards",
        [
            NewFeature(hazard("А", synthetic=True), box(0, 0, 1, 1)),
            NewFeature(hazard("Б", "CHA"), None),
            NewFeature(hazard("В", synthetic=False), Polygon([(0, 0), (1, 0), (0, 1)])),
        ],
        ANNA,
    )
    got_ids, geometries, values = store.columns("hazards", ["name", "hazard_class", "synthetic", "cleared_m2"])
    assert got_ids == ids
    assert isinstance(geometries, np.ndarray) and geometries.dtype == object and len(geometries) == 3
    assert geometries[0].equals(box(0, 0, 1, 1)) and geometries[1] is None
    assert list(shapely.get_type_id(geometries)) == [6, -1, 6]
    assert values == {
        "name": ["А", "Б", "В"],
        "hazard_class": ["SHA", "CHA", "SHA"],
        "synthetic": [True, None, False],
        "cleared_m2": [None, None, None],
    }
    no_geometry = store.columns("hazards", ["name"], geometry=False)
    assert no_geometry[0] == ids and len(no_geometry[1]) == 0
    with pytest.raises(InvalidInput, match="no field called 'colour'"):
        store.columns("hazards", ["colour"])
    empty = store.columns("outcomes", ["kind"])
    assert empty[0] == [] and len(empty[1]) == 0 and empty[2] == {"kind": []}


def test_set_derived_writes_figures_without_new_versions(store: Store) -> None:
    ids = add_hazards(store, box(0, 0, 1, 1), box(1, 1, 2, 2))
    store.set_derived(
        "hazards",
        {ids[0]: {"estimated_m2": 1000.0, "cleared_m2": 250.5}, ids[1]: {"remaining_m2": 3}},
    )
    first = store.get(ids[0])
    assert first.version == 1
    assert first.attributes["estimated_m2"] == 1000.0 and first.attributes["cleared_m2"] == 250.5
    assert store.get(ids[1]).attributes["remaining_m2"] == 3.0
    assert len(store.history(ids[0])) == 1
    assert store.columns("hazards", ["cleared_m2"])[2]["cleared_m2"] == [250.5, None]
    # An update keeps the derived figures (they are the system's, not the editor's).
    assert store.update(ids[0], BOHDAN, {"name": "x"}).attributes["cleared_m2"] == 250.5

    with pytest.raises(InvalidInput, match="'status' is written with update"):
        store.set_derived("hazards", {ids[0]: {"status": "closed"}})
    with pytest.raises(NotFound, match="HZ-000099"):
        store.set_derived("hazards", {ids[1]: {"cleared_m2": 1.0}, "HZ-000099": {"cleared_m2": 1.0}})
    assert store.get(ids[1]).attributes["cleared_m2"] is None  # all or nothing


def test_schema_version_and_count(store: Store) -> None:
    assert store.schema_version() >= 1
    assert store.count("hazards") == 0
    add_hazards(store, box(0, 0, 1, 1), None)
    assert store.count("hazards") == 2
    assert store.count("admin-areas") == 0
    assert isinstance(store.location, str) and store.location


def test_stale_update_is_refused_and_nothing_is_lost(store: Store) -> None:
    from landrelease.errors import Conflict

    [hid] = add_hazards(store, box(0, 0, 1, 1))
    store.update(hid, ANNA, {"name": "first editor"}, expected_version=1)
    with pytest.raises(Conflict, match=r"changed by someone else \(it is at version 2, you edited version 1\)"):
        store.update(hid, BOHDAN, {"name": "second editor"}, expected_version=1)
    assert store.get(hid).attributes["name"] == "first editor"
    assert [v.version for v in store.history(hid)] == [1, 2]


# --- dump and load (moving a whole database) -------------------------------------------------------------


def _fill_for_dump(store: Store) -> dict[str, list[str]]:
    """Records with several versions, a status change, a retired one, derived figures and a non-spatial layer."""
    hazards = add_hazards(store, box(30, 50, 30.01, 50.01), box(31, 50, 31.02, 50.02), None)
    store.update(hazards[0], BOHDAN, {"name": FIELD_NAME}, geometry=box(30, 50, 30.03, 50.03))
    store.update(
        hazards[0],
        Change("olena", "survey closed", datetime(2024, 7, 1, 8, tzinfo=KYIV)),
        {"status": "closed"},
        status_change=True,
    )
    store.retire(hazards[2], Change("olena", "duplicate", datetime(2024, 8, 1, 12, 0, 0, 123456, tzinfo=UTC)))
    outcomes = store.add(
        "outcomes",
        [NewFeature({"hazard_id": hazards[0], "kind": "cleared", "depth_cm": 12.5}, box(30, 50, 30.001, 50.001))],
        ANNA,
    )
    store.set_derived("hazards", {hazards[0]: {"cleared_m2": 250.5, "remaining_m2": 0.0}}, ledger_synced=3)
    organisations = store.add(
        "organisations", [NewFeature({"name": "Олена і партнери", "kind": "operator", "synthetic": True})], ANNA
    )
    return {"hazards": hazards, "outcomes": outcomes, "organisations": organisations}


def _everything(store: Store, ids: dict[str, list[str]]) -> tuple[object, ...]:
    histories = {i: store.history(i) for group in ids.values() for i in group}
    features = {layer: list(store.features(layer)) for layer in LAYERS}
    return histories, features, store.ledger_state()


def test_dump_and_load_move_every_version_retirement_and_figure(store: Store, empty_store: Store) -> None:
    ids = _fill_for_dump(store)
    dumps = [store.dump(layer) for layer in LAYERS]
    assert sum(d.version_count for d in dumps) == 3 + 2 + 1 + 1 + 1
    written: list[int] = []
    empty_store.load(dumps, store.ledger_state(), written.append)
    assert sum(written) == 8
    assert _everything(empty_store, ids) == _everything(store, ids)
    versions = empty_store.history(ids["hazards"][0])
    assert [(v.version, v.action, v.change.author) for v in versions] == [
        (1, Action.CREATE, "anna"),
        (2, Action.UPDATE, "bohdan"),
        (3, Action.STATUS, "olena"),
    ]
    assert versions[2].change.at == datetime(2024, 7, 1, 5, tzinfo=UTC)
    with pytest.raises(NotFound, match=r"HZ-000003 was retired on 2024-08-01 by olena: duplicate"):
        empty_store.get(ids["hazards"][2])
    assert empty_store.get(ids["hazards"][0]).attributes["cleared_m2"] == 250.5
    # The id counter moved too: the retired HZ-000003 is never given again; the record keeps editing normally.
    assert add_hazards(empty_store, box(0, 0, 1, 1)) == ["HZ-000004"]
    assert empty_store.update(ids["hazards"][1], BOHDAN, {"name": "moved"}).version == 2


def test_load_refuses_a_database_that_holds_records(store: Store, empty_store: Store) -> None:
    ids = _fill_for_dump(store)
    [mine] = add_hazards(empty_store, box(0, 0, 1, 1))
    with pytest.raises(InvalidInput, match="already holds records"):
        empty_store.load([store.dump(layer) for layer in LAYERS], store.ledger_state())
    assert [f.id for f in empty_store.features("hazards")] == [mine]
    with pytest.raises(NotFound):
        empty_store.history(ids["outcomes"][0])


def test_a_failed_load_writes_nothing(store: Store, empty_store: Store) -> None:
    ids = _fill_for_dump(store)
    dumps = [store.dump(layer) for layer in LAYERS]

    outcomes = list(LAYERS).index("outcomes")  # after hazards: those are written when the failure comes
    read = dumps[outcomes].versions

    def broken() -> Iterator[Version]:
        yield from read
        raise OSError("the source went away")

    dumps[outcomes] = replace(dumps[outcomes], versions=broken())
    with pytest.raises(OSError, match="went away"):
        empty_store.load(dumps, store.ledger_state())
    assert all(empty_store.count(layer) == 0 for layer in LAYERS)
    with pytest.raises(NotFound):
        empty_store.history(ids["hazards"][0])
    assert empty_store.ledger_state().changes == 0
    assert add_hazards(empty_store, box(0, 0, 1, 1)) == ["HZ-000001"]  # the counters were not moved either


def test_service_records_move_with_the_load(store: Store, empty_store: Store) -> None:
    ids = _fill_for_dump(store)
    at = datetime(2024, 5, 1, 9, 30, 0, 250000, tzinfo=UTC)
    rejected = ("rejected", "dup", at, at + timedelta(days=1), "marta", None, None)
    approved = ("approved", None, at, at, "marta", ids["hazards"][0], 3)
    service = ServiceDump(
        {
            "lr_users": [("marta", "admin", None, "scrypt$hash", at), ("ops", "operator", "OR-000001", None, at)],
            "lr_tokens": [("sha256-token", "ops", "tablet", at)],
            "lr_sessions": [("sha256-session", "marta", at, at + timedelta(hours=8))],
            "lr_access_log": [(at, "marta", "VC-000002", "follow-up"), (at, "marta", "VC-000001", "follow-up")],
            "lr_submissions": [
                (7, "SB-000007", "hazards", '{"attributes":{"name":"Поле"}}', "OR-000001", "ops", *rejected),
                (9, "SB-000009", "hazards", '{"target_id":"HZ-000001","target_version":2}', None, "ops", *approved),
            ],
        }
    )
    empty_store.load([store.dump(layer) for layer in LAYERS], store.ledger_state(), None, service)
    assert empty_store.dump_service() == service
    assert _everything(empty_store, ids) == _everything(store, ids)
    # A second load is refused: users (and records) are there now.
    with pytest.raises(InvalidInput, match="already"):
        empty_store.load([], store.ledger_state(), None, service)
