"""Land release reports and treaty tables against figures worked out by hand on a small programme.

Two hazards of the same size (0.1 x 0.1 degree boxes on the same latitudes, so the same geodesic area a)
in two admin areas. On a lon/lat box the geodesic area is linear in the longitude span, so an outcome
covering a quarter of a hazard's width releases exactly a / 4.

- HZ-1 (area 1, AP mines, reported 2023-01-10): cancelled a quarter on 2023-06-01 (donor D1), cleared a
  quarter on 2024-05-15 (donor D2); 3 PMN-2 found and destroyed 2024-05-10.
- HZ-2 (area 2, AT mines, reported 2024-03-01): reduced half on 2024-08-01 (donor D1); one TM-62M found
  2024-07-30 and removed (not destroyed); a 152 mm projectile found and destroyed 2024-02-01 outside any
  hazard but inside area 2.
- Risk education: 2024-04-01 in area 1 (5 girls 0-9, 3 men 18-45, 10 indirect); 2023-09-01 in area 2.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import shapely

from landrelease.actions.release import refresh_ledger
from landrelease.analysis.land_release import land_release_report
from landrelease.analysis.periods import parse_period
from landrelease.analysis.programme import read_programme
from landrelease.analysis.trace import compact_ids, expand_ids
from landrelease.analysis.treaty import treaty_table
from landrelease.domain.records import Change, NewFeature
from landrelease.errors import InvalidInput
from landrelease.geo.area import geodesic_area
from landrelease.store import Store, open_store

C = Change("test", "hand-computed programme")


def _box(x0: float, x1: float, y0: float = 50.1, y1: float = 50.2) -> shapely.MultiPolygon:
    return shapely.MultiPolygon([shapely.box(x0, y0, x1, y1)])


@pytest.fixture
def programme(tmp_path: Path) -> Iterator[Store]:
    store = open_store(str(tmp_path / "p.gpkg"), create=True)
    a1, a2 = store.add(
        "admin_areas",
        [
            NewFeature({"name": "Перша", "name_en": "First", "level": 1}, _box(30, 31, 50, 51)),
            NewFeature({"name": "Друга", "name_en": "Second", "level": 1}, _box(31, 32, 50, 51)),
        ],
        C,
    )
    h1, h2 = store.add(
        "hazards",
        [
            NewFeature(
                {
                    "hazard_class": "CHA",
                    "status": "worked_on",
                    "admin_area": a1,
                    "operator": "Op X",
                    "contamination": "AP mines",
                    "reported_date": "2023-01-10",
                    "marking": "fenced",
                },
                _box(30.1, 30.2),
            ),
            NewFeature(
                {
                    "hazard_class": "CHA",
                    "status": "worked_on",
                    "admin_area": a2,
                    "operator": "Op Y",
                    "contamination": "AT mines",
                    "reported_date": "2024-03-01",
                },
                _box(31.1, 31.2),
            ),
        ],
        C,
    )
    ac = store.add(
        "activities",
        [
            NewFeature({"hazard_id": h1, "activity_type": "nts", "status": "completed", "donor": "D1"}),
            NewFeature({"hazard_id": h1, "activity_type": "clearance", "status": "completed", "donor": "D2"}),
            NewFeature({"hazard_id": h2, "activity_type": "ts", "status": "completed", "donor": "D1"}),
        ],
        C,
    )
    store.add(
        "outcomes",
        [
            NewFeature(
                {"hazard_id": h1, "activity_id": ac[0], "kind": "cancelled", "release_date": "2023-06-01"},
                _box(30.1, 30.125),
            ),
            NewFeature(
                {"hazard_id": h1, "activity_id": ac[1], "kind": "cleared", "release_date": "2024-05-15"},
                _box(30.125, 30.15),
            ),
            NewFeature(
                {"hazard_id": h2, "activity_id": ac[2], "kind": "reduced", "release_date": "2024-08-01"},
                _box(31.1, 31.15),
            ),
        ],
        C,
    )
    store.add(
        "finds",
        [
            NewFeature(
                {
                    "hazard_id": h1,
                    "activity_id": ac[1],
                    "ordnance_model": "PMN-2",
                    "quantity": 3,
                    "disposal": "destroyed in situ",
                    "found_date": "2024-05-10",
                },
                shapely.Point(30.13, 50.15),
            ),
            NewFeature(
                {
                    "hazard_id": h2,
                    "activity_id": ac[2],
                    "ordnance_model": "TM-62M",
                    "quantity": 1,
                    "disposal": "removed",
                    "found_date": "2024-07-30",
                },
                shapely.Point(31.12, 50.15),
            ),
            NewFeature(
                {
                    "ordnance_category": "Unexploded ordnance",
                    "ordnance_subcategory": "Projectile",
                    "disposal": "removed and destroyed",
                    "found_date": "2024-02-01",
                },
                shapely.Point(31.5, 50.5),
            ),
        ],
        C,
    )
    store.add(
        "eore",
        [
            NewFeature(
                {"session_date": "2024-04-01", "female_0_9": 5, "male_18_45": 3, "indirect_beneficiaries": 10},
                shapely.Point(30.5, 50.5),
            ),
            NewFeature({"session_date": "2023-09-01", "male_10_17": 4}, shapely.Point(31.5, 50.5)),
        ],
        C,
    )
    refresh_ledger(store)
    yield store
    store.close()


@pytest.fixture
def a() -> float:
    return float(geodesic_area(np.array([_box(30.1, 30.2)], dtype=object))[0])


def _group(data: dict[str, object], key: str) -> dict[str, object]:
    groups = data["groups"]
    assert isinstance(groups, list)
    return next(g for g in groups if g["key"] == key)


def test_by_admin_in_a_year(programme: Store, a: float) -> None:
    data = land_release_report(programme, "admin", period=parse_period("2024")).as_dict()
    t = data["totals"]
    assert isinstance(t, dict)
    assert t["hazards"] == 2
    assert t["estimated_m2"] == pytest.approx(2 * a)
    assert t["released_before_m2"] == pytest.approx(a / 4)
    assert (t["cancelled_m2"], t["reduced_m2"], t["cleared_m2"]) == pytest.approx((0, a / 2, a / 4))
    assert t["remaining_m2"] == pytest.approx(a)
    first, second = _group(data, "AD-000001"), _group(data, "AD-000002")
    assert first["name"] == "Перша"
    assert (first["released_before_m2"], first["cleared_m2"], first["remaining_m2"]) == pytest.approx(
        (a / 4, a / 4, a / 2)
    )
    assert first["items"] == {"Landmine / Anti-personnel": {"found": 3, "destroyed": 3}}
    assert first["eore"] == {
        "female_0_9": 5,
        "male_0_9": 0,
        "female_10_17": 0,
        "male_10_17": 0,
        "female_18_45": 0,
        "male_18_45": 3,
        "female_46_plus": 0,
        "male_46_plus": 0,
        "sessions": 1,
        "direct": 8,
        "indirect": 10,
    }
    assert first["records"] == {
        "hazards": ["HZ-000001"],
        "outcomes": ["OC-000002"],
        "finds": ["FD-000001"],
        "eore": ["ER-000001"],
        "outcomes_before": ["OC-000001"],
    }
    # The projectile lies in no hazard: it is placed in area 2 by its location. The TM-62M was not destroyed.
    assert second["items"] == {
        "Landmine / Anti-tank": {"found": 1, "destroyed": 0},
        "Unexploded ordnance / Projectile": {"found": 1, "destroyed": 1},
    }
    assert (second["reduced_m2"], second["remaining_m2"]) == pytest.approx((a / 2, a / 2))
    assert second["eore"]["sessions"] == 0  # type: ignore[index]


def test_a_year_before_a_hazard_was_reported_leaves_it_out(programme: Store, a: float) -> None:
    data = land_release_report(programme, None, period=parse_period("2023")).as_dict()
    t = data["totals"]
    assert isinstance(t, dict)
    assert t["hazards"] == 1
    assert (t["cancelled_m2"], t["remaining_m2"], t["released_before_m2"]) == pytest.approx((a / 4, 3 * a / 4, 0))
    assert data["eore"]["male_10_17"] == 4  # type: ignore[index]


def test_without_a_period_the_contract_is_unchanged(programme: Store, a: float) -> None:
    data = land_release_report(programme).as_dict()
    assert set(data["totals"]) == {  # type: ignore[arg-type]
        "hazards",
        "estimated_m2",
        "cancelled_m2",
        "reduced_m2",
        "cleared_m2",
        "remaining_m2",
    }
    assert data["groups"] == []
    assert data["totals_ha"]["remaining_ha"] == pytest.approx(a / 1e4)  # a/2 left of each  # type: ignore[index]
    assert data["items_found"] == 5 and data["items_destroyed"] == 4


def test_by_quarter_and_donor(programme: Store, a: float) -> None:
    q = land_release_report(programme, "quarter", period=parse_period("2024")).as_dict()
    assert [g["key"] for g in q["groups"]] == ["2024-Q1", "2024-Q2", "2024-Q3"]  # type: ignore[attr-defined]
    q2, q3 = _group(q, "2024-Q2"), _group(q, "2024-Q3")
    assert (q2["cleared_m2"], q2["released_m2"], q2["outcomes"], q2["items_found"]) == pytest.approx(
        (a / 4, a / 4, 1, 3)
    )
    assert q2["eore_beneficiaries"] == 8
    assert (q3["reduced_m2"], q3["hazards"]) == pytest.approx((a / 2, 1))
    assert _group(q, "2024-Q1")["items_found"] == 1
    d = land_release_report(programme, "donor").as_dict()
    d1, d2 = _group(d, "D1"), _group(d, "D2")
    assert (d1["cancelled_m2"], d1["reduced_m2"], d1["released_m2"]) == pytest.approx((a / 4, a / 2, 3 * a / 4))
    assert d1["records"]["outcomes"] == ["OC-000001", "OC-000003"]  # type: ignore[index]
    assert (d2["cleared_m2"], d2["items_destroyed"]) == pytest.approx((a / 4, 3))


def test_article5_progress_adds_up(programme: Store, a: float) -> None:
    table = treaty_table(read_programme(programme, spatial=True), "article5", 2024).as_dict()
    rows = table["sections"][0]["rows"]  # type: ignore[index]
    # HZ-2 holds anti-tank mines only: not an Article 5 area.
    assert [r["admin_area"] for r in rows] == ["Перша", "Друга", "TOTAL"]
    first = rows[0]
    assert first["areas_at_start"] == 1 and first["new_areas"] == 0
    assert first["remaining_at_start_m2"] == pytest.approx(3 * a / 4)
    assert first["cleared_m2"] == pytest.approx(a / 4)
    assert first["remaining_at_end_m2"] == pytest.approx(a / 2)
    assert first["ap_mines_destroyed"] == 3 and first["areas_completed"] == 0
    assert rows[1]["areas_at_start"] == 0 and rows[1]["ap_mines_destroyed"] == 0  # area 2: the projectile only
    total = rows[-1]
    assert total["remaining_at_start_m2"] + total["new_m2"] - total["cancelled_m2"] - total["reduced_m2"] - total[
        "cleared_m2"
    ] == pytest.approx(total["remaining_at_end_m2"])


def test_article7_lists_the_ap_area_with_what_is_known(programme: Store, a: float) -> None:
    table = treaty_table(read_programme(programme, spatial=True, geometry=True), "article7", 2024).as_dict()
    areas, warnings = table["sections"]  # type: ignore[misc]
    assert [r["id"] for r in areas["rows"]] == ["HZ-000001"]
    row = areas["rows"][0]
    assert row["mine_types"] == "AP mines, PMN-2" and row["ap_mines_found"] == 3
    assert row["emplacement_date"] == "not recorded" and row["first_reported"] == "2023-01-10"
    assert 30.1 < row["longitude"] < 30.2 and 50.1 < row["latitude"] < 50.2
    assert (row["released_in_year_m2"], row["remaining_m2"]) == pytest.approx((a / 4, a / 2))
    assert row["warning_measures"] == "fenced"
    assert warnings["rows"][0] == {
        "admin_area": "Перша",
        "areas": 1,
        "areas_marked": 1,
        "eore_sessions": 1,
        "eore_beneficiaries": 8,
    }


def test_ccw_summary(programme: Store, a: float) -> None:
    rows = treaty_table(read_programme(programme, spatial=True), "ccw", 2024).as_dict()["sections"][0]["rows"]  # type: ignore[index]
    first, second, total = rows
    assert (first["mined_areas"], first["areas_cleared"], first["ap_mines_destroyed"]) == (1, 1, 3)
    assert first["cleared_m2"] == pytest.approx(a / 4)
    assert (second["mined_areas"], second["at_mines_destroyed"], second["other_items_destroyed"]) == (1, 0, 1)
    assert second["reduced_m2"] == pytest.approx(a / 2)
    assert total["admin_area"] == "TOTAL" and total["mined_areas"] == 2


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2024", "2024-01-01", "2024-12-31"),
        ("2024-q3", "2024-07-01", "2024-09-30"),
        ("2024-02", "2024-02-01", "2024-02-29"),
        ("2023-01-01..2024-06-30", "2023-01-01", "2024-06-30"),
    ],
)
def test_periods(text: str, start: str, end: str) -> None:
    p = parse_period(text)
    assert (p.start, p.end) == (start, end)


@pytest.mark.parametrize("text", ["24", "2024-Q5", "2024-13", "2024-06-30..2024-01-01", "last year"])
def test_bad_periods_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="--period"):
        parse_period(text)


def test_compact_ids_round_trip() -> None:
    ids = ["HZ-000003", "HZ-000001", "HZ-000002", "HZ-000007", "OC-000001", "odd"]
    assert compact_ids(ids) == ["HZ-000001..HZ-000003", "HZ-000007", "OC-000001", "odd"]
    assert sorted(expand_ids(compact_ids(ids))) == sorted(ids)
