"""Importing files: validation at the door, nothing lost, nothing half-written, the ledger kept in step."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import shapely

from landrelease.actions.imports import ImportOptions, import_file
from landrelease.analysis.land_release import land_release_report
from landrelease.errors import ImportAborted, InvalidInput, UnreadableFile
from landrelease.store import Store
from tests.conftest import shared_file


def _geojson(path: Path, features: list[tuple[shapely.Geometry | None, dict[str, object]]]) -> Path:
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": shapely.geometry.mapping(g) if g is not None else None,
                        "properties": p,
                    }
                    for g, p in features
                ],
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    return path


BOWTIE = shapely.Polygon([(30.0, 50.0), (30.01, 50.01), (30.01, 50.0), (30.0, 50.01)])


def test_valid_features_go_in_and_each_rejected_one_is_reported(gpkg: Store, tmp_path: Path) -> None:
    src = _geojson(
        tmp_path / "mixed.geojson",
        [
            (shapely.box(36.0, 49.0, 36.01, 49.01), {"Name": "Поле біля Ізюма", "Oblast": "Харківська"}),
            (None, {"Name": "no location"}),
            (BOWTIE, {"Name": "bowtie"}),
            (shapely.box(500000, 5500000, 500100, 5500100), {"Name": "UTM labelled as WGS84"}),
            (shapely.box(36.0, 49.0, 36.01, 49.01), {"Name": "the first one again"}),
        ],
    )
    summary = import_file(gpkg, "hazards", src, ImportOptions(hazard_class="CHA"))
    assert (summary.imported, summary.repaired, summary.rejected) == (1, 0, 4)
    reasons = {e.index: e.reason for e in summary.errors}
    assert "no geometry" in reasons[1]
    assert "self-intersection" in reasons[2]
    assert "projected metres" in reasons[3]
    assert "duplicate of feature 0 of this file" in reasons[4]
    hazard = gpkg.get(summary.ids[0])
    assert hazard.attributes["name"] == "Поле біля Ізюма"
    assert hazard.attributes["hazard_class"] == "CHA"
    assert hazard.attributes["status"] == "active"
    # A column that maps to no field is kept, not dropped.
    assert json.loads(str(hazard.attributes["extra"])) == {"Oblast": "Харківська"}
    assert hazard.attributes["estimated_m2"] == pytest.approx(813_700, rel=0.01)


def test_repair_reports_what_changed(gpkg: Store, tmp_path: Path) -> None:
    src = _geojson(tmp_path / "bowtie.geojson", [(BOWTIE, {"name": "bowtie"})])
    summary = import_file(gpkg, "hazards", src, ImportOptions(on_invalid="repair"))
    assert (summary.imported, summary.repaired, summary.rejected) == (1, 1, 0)
    assert "repaired self-intersection" in summary.repairs[0].reason


def test_duplicates_of_existing_hazards_are_refused(gpkg: Store, tmp_path: Path) -> None:
    first = _geojson(tmp_path / "a.geojson", [(shapely.box(36.0, 49.0, 36.01, 49.01), {"name": "a"})])
    import_file(gpkg, "hazards", first, ImportOptions())
    again = _geojson(tmp_path / "b.geojson", [(shapely.box(36.0001, 49.0, 36.0101, 49.01), {"name": "a redrawn"})])
    summary = import_file(gpkg, "hazards", again, ImportOptions())
    assert summary.imported == 0
    assert summary.errors[0].reason.startswith("duplicate of HZ-000001")


def test_all_or_nothing_writes_nothing(gpkg: Store, tmp_path: Path) -> None:
    src = _geojson(
        tmp_path / "mixed.geojson",
        [(shapely.box(36.0, 49.0, 36.01, 49.01), {"name": "ok"}), (BOWTIE, {"name": "bad"})],
    )
    with pytest.raises(ImportAborted, match=r"nothing imported: 1 of 2 features were rejected \(first: feature 1"):
        import_file(gpkg, "hazards", src, ImportOptions(all_or_nothing=True))
    assert gpkg.count("hazards") == 0


def test_unreadable_file_changes_nothing(gpkg: Store, tmp_path: Path) -> None:
    bad = tmp_path / "broken.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    with pytest.raises(UnreadableFile):
        import_file(gpkg, "hazards", bad, ImportOptions())
    assert gpkg.count("hazards") == 0


def test_field_mapping(gpkg: Store, tmp_path: Path) -> None:
    src = _geojson(
        tmp_path / "own_names.geojson",
        [(shapely.box(36.0, 49.0, 36.01, 49.01), {"Назва": "Ділянка 7", "Клас": "CHA", "Дата": "24.02.2023"})],
    )
    summary = import_file(
        gpkg, "hazards", src, ImportOptions(field_map="name=Назва,hazard_class=Клас,reported_date=Дата")
    )
    attrs = gpkg.get(summary.ids[0]).attributes
    assert (attrs["name"], attrs["hazard_class"], attrs["reported_date"]) == ("Ділянка 7", "CHA", "2023-02-24")
    with pytest.raises(InvalidInput, match="--map names column 'Nope', which the file does not have"):
        import_file(gpkg, "hazards", src, ImportOptions(field_map="name=Nope"))


def test_outcomes_link_by_location_and_the_ledger_follows(gpkg: Store, tmp_path: Path) -> None:
    hz = _geojson(
        tmp_path / "h.geojson",
        [
            (shapely.box(36.0, 49.0, 36.01, 49.01), {"name": "a"}),
            (shapely.box(36.1, 49.0, 36.11, 49.01), {"name": "b"}),
        ],
    )
    import_file(gpkg, "hazards", hz, ImportOptions())
    out = _geojson(
        tmp_path / "o.geojson",
        [
            (shapely.box(36.0, 49.0, 36.005, 49.01), {"date": "2024-05-01"}),
            (shapely.box(36.003, 49.0, 36.008, 49.01), {"date": "2024-06-01"}),  # overlaps the first
            (shapely.box(37.0, 49.0, 37.01, 49.01), {}),  # in no hazard
        ],
    )
    summary = import_file(gpkg, "outcomes", out, ImportOptions(kind="cleared"))
    assert summary.imported == 2
    assert "lies within no hazard" in summary.errors[0].reason
    report = land_release_report(gpkg)
    t = report.totals
    assert t.hazards == 2
    assert t.cleared_m2 + t.remaining_m2 == pytest.approx(t.estimated_m2, rel=1e-12)
    # Overlap counted once: 0.008 of the 0.01 degree width of hazard a is cleared.
    a = gpkg.get("HZ-000001").attributes
    assert a["cleared_m2"] == pytest.approx(0.8 * float(a["estimated_m2"]), rel=1e-6)  # type: ignore[arg-type]
    credits = [gpkg.get(i).attributes["released_m2"] for i in summary.ids]
    assert sum(credits) == pytest.approx(a["cleared_m2"], rel=1e-12)  # type: ignore[arg-type]


def test_outcomes_need_a_kind(gpkg: Store, tmp_path: Path) -> None:
    src = _geojson(tmp_path / "o.geojson", [(shapely.box(36.0, 49.0, 36.005, 49.01), {})])
    with pytest.raises(InvalidInput, match="outcomes need --kind"):
        import_file(gpkg, "outcomes", src, ImportOptions())


def test_admin_areas_then_hazards_get_their_area(gpkg: Store, tmp_path: Path) -> None:
    areas = _geojson(
        tmp_path / "areas.geojson",
        [(shapely.box(35.0, 48.0, 37.0, 50.0), {"NAME_UK": "Харківська область", "iso3166-2": "UA-63"})],
    )
    summary = import_file(gpkg, "admin-areas", areas, ImportOptions(level=1, name_field="NAME_UK"))
    area = gpkg.get(summary.ids[0]).attributes
    assert (area["name"], area["level"], area["code"]) == ("Харківська область", 1, "UA-63")
    hz = _geojson(tmp_path / "h.geojson", [(shapely.box(36.0, 49.0, 36.01, 49.01), {})])
    hazard_id = import_file(gpkg, "hazards", hz, ImportOptions()).ids[0]
    assert gpkg.get(hazard_id).attributes["admin_area"] == summary.ids[0]
    # Swapped coordinates inside the lon/lat range are caught against the programme's extent.
    swapped = _geojson(tmp_path / "s.geojson", [(shapely.box(49.0, 36.0, 49.01, 36.01), {})])
    result = import_file(gpkg, "hazards", swapped, ImportOptions())
    assert "swapped" in result.errors[0].reason


@pytest.mark.slow
def test_real_bih_cleared_areas(gpkg: Store) -> None:
    src = shared_file("bih", "cleared_areas.geojson")
    rejected = import_file(gpkg, "hazards", src, ImportOptions())
    assert rejected.imported + rejected.rejected == 8_329  # nothing silently dropped
    reasons = Counter(e.reason.split(" at ")[0].split(" (")[0] for e in rejected.errors)
    assert reasons["no geometry"] == 108
    assert sum(n for r, n in reasons.items() if r.startswith("invalid polygon")) >= 600
    assert all(e.reason for e in rejected.errors)


@pytest.mark.slow
def test_real_bih_cleared_areas_repaired(gpkg: Store) -> None:
    src = shared_file("bih", "cleared_areas.geojson")
    summary = import_file(gpkg, "hazards", src, ImportOptions(on_invalid="repair"))
    assert summary.imported + summary.rejected == 8_329
    assert summary.repaired >= 600
    assert gpkg.count("hazards") == summary.imported
    t = land_release_report(gpkg).totals
    # ~40 km2 of cleared areas, as traced from the map sheets.
    assert 30e6 < t.estimated_m2 < 50e6


@pytest.mark.slow
def test_real_bih_programme_admin_areas_hazards_and_incidents(gpkg: Store) -> None:
    """The whole real programme in one file: admin areas, cleared areas as hazards, incidents as accidents."""
    areas = import_file(
        gpkg, "admin-areas", shared_file("bih", "admin1.geojson"), ImportOptions(level=1, name_field="shapeName")
    )
    assert areas.imported == 3
    names = sorted(str(gpkg.get(i).attributes["name"]) for i in areas.ids)
    assert "Brčko District" in names  # non-ASCII names kept exactly
    hazards = import_file(
        gpkg, "hazards", shared_file("bih", "cleared_areas.geojson"), ImportOptions(on_invalid="repair")
    )
    incidents = import_file(gpkg, "accidents", shared_file("bih", "incidents.geojson"), ImportOptions())
    assert incidents.imported + incidents.rejected == 1_442
    assert incidents.imported > 1_400
    # The source's own columns are kept with each record, and the map sheet is its source reference.
    accident = gpkg.get(incidents.ids[0]).attributes
    assert json.loads(str(accident["extra"]))["typeArea"] == "Incidents"
    report = land_release_report(gpkg, "admin")
    assert sum(g.figures["hazards"] for g in report.groups) == hazards.imported
    assert sum(float(g.figures["estimated_m2"]) for g in report.groups) == pytest.approx(report.totals.estimated_m2)
    with_area = [g for g in report.groups if g.key != "(none)"]
    assert sum(int(g.figures["hazards"]) for g in with_area) > 0.95 * hazards.imported


def test_each_feature_with_bad_attributes_gets_its_first_reason(gpkg: Store, tmp_path: Path) -> None:
    src = _geojson(
        tmp_path / "attributes.geojson",
        [
            (shapely.box(30.0, 48.0, 30.01, 48.01), {"hazard_class": "SHA", "reported_date": "2020-01-02"}),
            (shapely.box(30.1, 48.0, 30.11, 48.01), {"hazard_class": "XYZ", "reported_date": "not a date"}),
            (shapely.box(30.2, 48.0, 30.21, 48.01), {"reported_date": "2020-01-02"}),
            (shapely.box(30.3, 48.0, 30.31, 48.01), {"hazard_class": "CHA", "reported_date": "not a date"}),
            (shapely.box(30.4, 48.0, 30.41, 48.01), {"hazard_class": "cha", "reported_date": "31.12.2019"}),
        ],
    )
    summary = import_file(gpkg, "hazards", src, ImportOptions())
    assert (summary.imported, summary.rejected) == (3, 2)
    reasons = {e.index: e.reason for e in summary.errors}
    assert reasons[1] == "hazard_class: 'XYZ' is not one of SHA, CHA, EOD, stockpile"  # the class is checked first
    assert reasons[3] == "reported_date: 'not a date' is not a valid date"
    first, defaulted, last = (gpkg.get(i).attributes for i in summary.ids)
    assert (first["hazard_class"], first["reported_date"], first["status"]) == ("SHA", "2020-01-02", "active")
    assert defaulted["hazard_class"] == "SHA"  # a file without classes holds suspected areas
    assert (last["hazard_class"], last["reported_date"]) == ("CHA", "2019-12-31")


def test_references_to_records_that_do_not_exist_are_refused(gpkg: Store, tmp_path: Path) -> None:
    """A find naming an activity, or a victim naming an accident, that the database does not hold is
    refused with its reason (never stored with a broken link); `check` finds such links made elsewhere."""
    from landrelease.actions.checks import check_database
    from landrelease.domain.records import Change, NewFeature

    anna = Change("anna", "survey")
    area = shapely.box(30.0, 50.0, 30.01, 50.01)
    hazard = gpkg.add("hazards", [NewFeature({"name": "H", "hazard_class": "SHA", "status": "active"}, area)], anna)[0]
    activity = gpkg.add(
        "activities", [NewFeature({"hazard_id": hazard, "activity_type": "clearance", "status": "completed"})], anna
    )[0]
    accident = gpkg.add("accidents", [NewFeature({"hazard_id": hazard}, shapely.Point(30.005, 50.005))], anna)[0]
    finds = _geojson(
        tmp_path / "finds.geojson",
        [
            (shapely.Point(30.005, 50.005), {"hazard_id": hazard, "activity_id": activity, "quantity": 1}),
            (shapely.Point(30.005, 50.005), {"hazard_id": hazard, "activity_id": "AC-000999", "quantity": 2}),
        ],
    )
    summary = import_file(gpkg, "finds", finds, ImportOptions())
    assert (summary.imported, summary.rejected) == (1, 1)
    assert [e.as_dict() for e in summary.errors] == [{"index": 1, "reason": "activity AC-000999 does not exist"}]
    victims = tmp_path / "victims.csv"
    victims.write_text(f"accident_id,sex\n{accident},female\nAX-000404,male\n", encoding="utf-8")
    summary = import_file(gpkg, "victims", victims, ImportOptions())
    assert (summary.imported, summary.rejected) == (1, 1)
    assert summary.errors[0].reason == "accident AX-000404 does not exist"

    gpkg.add(
        "finds", [NewFeature({"activity_id": "AC-000777", "quantity": 1}, shapely.Point(30, 50))], Change("qgis", "x")
    )
    messages = [f.message for f in check_database(gpkg) if f.check == "link"]
    assert messages == ["refers to activity AC-000777, which does not exist"]
