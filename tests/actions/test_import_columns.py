"""The columnar import gives what the row-by-row importer gave: the same summary (indexes, reasons, counts),
the same records (attributes, ``extra`` JSON text, areas, admin areas, links) for the same file.

Expected values here were taken from the row-by-row importer (fe60bb1) run on the same files; where a rule
can be stated (``extra`` is ``json.dumps`` of a feature's non-empty unmapped values), it is checked as the rule.
"""

from __future__ import annotations

import gc
import hashlib
import json
import math
import zipfile
from pathlib import Path

import numpy as np
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st
from pyogrio import raw

from landrelease.actions.imports import ImportOptions, ImportSummary, _extras, import_file, plan_import
from landrelease.domain.records import Scalar
from landrelease.errors import ImportAborted, UnreadableFile
from landrelease.formats import read_features
from landrelease.geo.area import geodesic_area
from landrelease.geo.validation import _fmt_area
from landrelease.store import Store
from tests.conftest import shared_file


def _geojson(path: Path, features: list[tuple[shapely.Geometry | None, dict[str, object]]]) -> Path:
    collection = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": None if g is None else shapely.geometry.mapping(g), "properties": p}
            for g, p in features
        ],
    }
    path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    return path


def _square(i: int, j: int = 0) -> shapely.Polygon:
    return shapely.box(36 + i * 0.02, 49 + j * 0.02, 36.01 + i * 0.02, 49.01 + j * 0.02)


BOWTIE = shapely.Polygon([(36.0, 49.0), (36.01, 49.01), (36.01, 49.0), (36.0, 49.01)])
RING_AT = "self-intersection at 36.005000 49.005000"
METRES = (
    "coordinates look like projected metres (e.g. x=500100, y=5500000), not longitude/latitude: declare the "
    "file's coordinate system or reproject it to WGS84"
)


def _old_extra(properties: dict[str, Scalar], unmapped: list[str]) -> str | None:
    """``extra`` as the row-by-row importer wrote it."""
    extra = {c: properties.get(c) for c in unmapped if properties.get(c) not in (None, "")}
    return json.dumps(extra, ensure_ascii=False, default=str) if extra else None


def _summary(summary: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in summary.items() if k != "file"}


def _mixed(tmp_path: Path) -> Path:
    """Valid, invalid, repairable, duplicated and badly attributed hazards, with unmapped columns of every kind."""
    return _geojson(
        tmp_path / "mixed.geojson",
        [
            (
                _square(0),
                {
                    "name": "A",
                    "Mixed": 1,
                    "Note": 'ґ є ї "q" \\ \n\t',
                    "Flag": True,
                    "Num": 0.1,
                    "Empty": "",
                    "Arr": [1, 2],
                },
            ),
            (
                _square(1),
                {"name": "B", "Mixed": "one", "Note": "", "Flag": False, "Num": 1e20, "Big": 12345678901234567890},
            ),
            (_square(2), {"name": "C", "Mixed": 2.5, "Note": None, "Flag": None, "Num": -0.0, "Obj": {"k": "в"}}),
            (BOWTIE, {"name": "bow", "Note": "x", "hazard_class": "XYZ"}),
            (_square(3), {"name": "D", "Mixed": True, "Note": "😀", "Num": 3, "reported_date": "not a date"}),
            (_square(4), {"name": "E", "Mixed": "", "Note": "", "Empty": ""}),
            (None, {"name": "nowhere", "Note": "n"}),
            (_square(0), {"name": "A again", "Note": "dup"}),
            (shapely.box(500000, 5500000, 500100, 5500100), {"name": "metres"}),
            (shapely.GeometryCollection([_square(5), shapely.Point(36, 49)]), {"name": "collection"}),
            (_square(6).reverse(), {"name": "clockwise", "Num": 7.25}),
            (BOWTIE, {"name": "bow, unknown class", "hazard_class": "nope"}),
            (shapely.MultiPolygon([_square(7), _square(8)]), {"name": "two parts", "Mixed": 10}),
        ],
    )


def test_a_mixed_file_gets_the_summary_and_records_the_row_by_row_importer_gave(gpkg: Store, tmp_path: Path) -> None:
    path = _mixed(tmp_path)
    rejected = import_file(gpkg, "hazards", path, ImportOptions())
    assert _summary(rejected.as_dict()) == {
        "imported": 6,
        "repaired": 0,
        "rejected": 7,
        "errors": [
            {"index": 3, "reason": f"invalid polygon: {RING_AT}"},  # the geometry's reason before the class's
            {"index": 4, "reason": "reported_date: 'not a date' is not a valid date"},
            {"index": 6, "reason": "no geometry (the record has no location)"},
            {"index": 7, "reason": "duplicate of feature 0 of this file (100% the same area)"},
            {"index": 8, "reason": METRES},
            {"index": 9, "reason": "a geometry collection: only its areas can be kept"},
            {"index": 11, "reason": f"invalid polygon: {RING_AT}"},
        ],
        "repairs": [],
        "layer": "hazards",
    }
    assert rejected.ids == [f"HZ-00000{i}" for i in range(1, 7)]
    records = [gpkg.get(i).attributes for i in rejected.ids]
    assert [r["name"] for r in records] == ["A", "B", "C", "E", "clockwise", "two parts"]
    # Every unmapped value is kept as the row-by-row importer wrote it: json.dumps of the non-empty ones.
    read = read_features(path)
    unmapped = [c for c in read.field_names if c not in ("name", "hazard_class", "reported_date")]
    by_name = {str(r["name"]): r["extra"] for r in records}
    for feature in read.features:
        name = str(feature.properties["name"])
        if name in by_name:
            assert by_name[name] == _old_extra(dict(feature.properties), unmapped), name
    assert (
        by_name["A"] == '{"Mixed": "1", "Note": "ґ є ї \\"q\\" \\\\ \\n\\t", "Flag": true, "Num": 0.1, "Arr": "[1, 2]"}'
    )
    assert by_name["B"] == '{"Mixed": "one", "Flag": false, "Num": 1e+20, "Big": 1.2345678901234567e+19}'
    assert by_name["E"] is None  # nothing but empty strings: no extra at all
    # Areas are those of the stored geometries (a clockwise ring or two parts measured as stored).
    for hazard_id in rejected.ids:
        hazard = gpkg.get(hazard_id)
        area = float(geodesic_area(np.array([hazard.geometry], dtype=object))[0])
        assert hazard.attributes["estimated_m2"] == area == hazard.attributes["remaining_m2"]


def test_repair_mode_over_a_database_that_holds_them_already(gpkg: Store, tmp_path: Path) -> None:
    path = _mixed(tmp_path)
    import_file(gpkg, "hazards", path, ImportOptions())
    again = import_file(gpkg, "hazards", path, ImportOptions(on_invalid="repair"))
    duplicate = "duplicate of {} (100% the same area)".format
    assert _summary(again.as_dict()) == {
        "imported": 1,
        "repaired": 1,
        "rejected": 12,
        "errors": [
            {"index": 0, "reason": duplicate("HZ-000001")},
            {"index": 1, "reason": duplicate("HZ-000002")},
            {"index": 2, "reason": duplicate("HZ-000003")},
            # repairable, but its attributes are not: the attributes' reason, no repair note
            {"index": 3, "reason": "hazard_class: 'XYZ' is not one of SHA, CHA, EOD, stockpile"},
            {"index": 4, "reason": "reported_date: 'not a date' is not a valid date"},
            {"index": 5, "reason": duplicate("HZ-000004")},
            {"index": 6, "reason": "no geometry (the record has no location)"},
            {"index": 7, "reason": duplicate("HZ-000001")},
            {"index": 8, "reason": METRES},
            {"index": 10, "reason": duplicate("HZ-000005")},
            {"index": 11, "reason": "hazard_class: 'nope' is not one of SHA, CHA, EOD, stockpile"},
            {"index": 12, "reason": duplicate("HZ-000006")},
        ],
        "repairs": [{"index": 9, "reason": "kept only the areas of a geometry collection"}],
        "layer": "hazards",
    }
    kept = gpkg.get(again.ids[0])
    assert kept.attributes["name"] == "collection" and kept.geometry is not None
    assert kept.geometry.geom_type == "MultiPolygon"
    assert kept.attributes["estimated_m2"] == float(geodesic_area(np.array([kept.geometry], dtype=object))[0])


def test_all_or_nothing_reports_every_refusal_and_writes_nothing(gpkg: Store, tmp_path: Path) -> None:
    path = _mixed(tmp_path)
    import_file(gpkg, "hazards", path, ImportOptions())
    with pytest.raises(ImportAborted) as caught:
        import_file(gpkg, "hazards", path, ImportOptions(on_invalid="repair", all_or_nothing=True))
    assert caught.value.message == (
        "nothing imported: 12 of 13 features were rejected "
        "(first: feature 0: duplicate of HZ-000001 (100% the same area))"
    )
    aborted = caught.value.summary
    assert isinstance(aborted, ImportSummary)
    summary = aborted.as_dict()
    # Every refusal is listed (duplicates of the database, attributes, geometry); repairs are not reported.
    assert (summary["imported"], summary["rejected"], summary["repairs"]) == (0, 12, [])
    assert [e["index"] for e in summary["errors"]] == [i for i in range(13) if i != 9]  # type: ignore[attr-defined]
    assert gpkg.count("hazards") == 6
    assert gc.isenabled()  # the cycle collector paused for the import runs again after a refusal


@given(
    st.integers(min_value=0, max_value=6).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.dictionaries(
                st.text(min_size=1, max_size=5),
                st.lists(
                    st.one_of(
                        st.none(),
                        st.just(""),
                        st.text(max_size=4),
                        st.integers(min_value=-(2**70), max_value=2**70),
                        st.floats(),
                        st.booleans(),
                    ),
                    min_size=n,
                    max_size=n,
                ),
                max_size=4,
            ),
        )
    )
)
def test_extra_is_the_row_by_row_json_for_any_columns(case: tuple[int, dict[str, list[Scalar]]]) -> None:
    """Columns of one type take the column-at-a-time path; mixed ones, NaN and infinities the per-row one."""
    count, columns = case
    names = list(columns)
    rows = [{name: columns[name][i] for name in names} for i in range(count)]
    assert _extras(columns, count) == [_old_extra(row, names) for row in rows]


def test_extra_keeps_dates_numbers_and_text_of_a_zipped_shapefile_and_kml(gpkg: Store, tmp_path: Path) -> None:
    folder = tmp_path / "shp"
    folder.mkdir()
    raw.write(
        folder / "areas.shp",
        shapely.to_wkb(np.array([shapely.box(38 + i * 0.02, 47, 38.01 + i * 0.02, 47.01) for i in range(3)])),
        [
            np.array([f"Ділянка {i}" for i in range(3)], dtype=object),
            np.array([0, 10, 20], dtype=np.int32),
            np.array([0.0, 1 / 3, 2 / 3]),
            np.array(["2023-05-01", "2023-05-02", "2023-05-03"], dtype="datetime64[D]"),
            np.array(["", "Примітка", ""], dtype=object),
        ],
        ["NAME", "NUM", "FLT", "DATUM", "PRIM"],
        driver="ESRI Shapefile",
        geometry_type="Polygon",
        crs="EPSG:4326",
        encoding="UTF-8",
    )
    with zipfile.ZipFile(tmp_path / "areas.zip", "w") as archive:
        for member in folder.iterdir():
            archive.write(member, member.name)
    shp = import_file(gpkg, "hazards", tmp_path / "areas.zip", ImportOptions(field_map="name=NAME", synthetic=True))
    assert (shp.imported, shp.rejected) == (3, 0)
    assert [gpkg.get(i).attributes["extra"] for i in shp.ids] == [
        '{"NUM": 0, "FLT": 0.0, "DATUM": "2023-05-01"}',
        '{"NUM": 10, "FLT": 0.333333333333333, "DATUM": "2023-05-02", "PRIM": "Примітка"}',
        '{"NUM": 20, "FLT": 0.666666666666667, "DATUM": "2023-05-03"}',
    ]
    assert all(gpkg.get(i).attributes["synthetic"] is True for i in shp.ids)
    placemarks = "".join(
        f'<Placemark><name>К{i}</name><ExtendedData><Data name="кількість"><value>{i}</value></Data>'
        f'<Data name="Note"><value>{"" if i % 2 else "ґ"}</value></Data></ExtendedData><Polygon><outerBoundaryIs>'
        f"<LinearRing><coordinates>{39 + i * 0.02},46 {39.01 + i * 0.02},46 {39.01 + i * 0.02},46.01 "
        f"{39 + i * 0.02},46.01 {39 + i * 0.02},46</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>"
        for i in range(2)
    )
    kml = tmp_path / "areas.kml"
    kml.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        f"{placemarks}</Document></kml>",
        encoding="utf-8",
    )
    areas = import_file(gpkg, "hazards", kml, ImportOptions())
    assert [(gpkg.get(i).attributes["name"], gpkg.get(i).attributes["extra"]) for i in areas.ids] == [
        ("К0", '{"кількість": "0", "Note": "ґ"}'),
        ("К1", '{"кількість": "1"}'),
    ]


def test_csv_with_coordinates_or_wkt(gpkg: Store, tmp_path: Path) -> None:
    wkt = tmp_path / "hazards.csv"
    rows = ["name,wkt,Oblast,Extra Num"]
    rows += [
        f'W{i},"{shapely.box(37 + i * 0.02, 48, 37.01 + i * 0.02, 48.01).wkt}",{"Донецька" if i else ""},{i}'
        for i in range(2)
    ]
    rows += [f'bow,"{BOWTIE.wkt}",x,1', 'broken,"POLYGON((1 2, 3",,2']
    wkt.write_text("\n".join(rows) + "\n", encoding="utf-8")
    hazards = import_file(gpkg, "hazards", wkt, ImportOptions(on_invalid="repair"))
    assert _summary(hazards.as_dict()) == {
        "imported": 3,
        "repaired": 1,
        "rejected": 1,
        "errors": [
            {
                "index": 3,
                "reason": "wkt 'POLYGON((1 2, 3' is not a geometry: the geometry could not be read "
                "(Expected number but encountered end of stream)",
            }
        ],
        "repairs": [{"index": 2, "reason": f"repaired {RING_AT}; the area is now 40.68 ha"}],
        "layer": "hazards",
    }
    assert [gpkg.get(i).attributes["extra"] for i in hazards.ids] == [
        '{"Extra Num": "0"}',  # CSV text stays text
        '{"Oblast": "Донецька", "Extra Num": "1"}',
        '{"Oblast": "x", "Extra Num": "1"}',
    ]
    # The repaired polygon's area in the note is the one stored with it.
    bow = gpkg.get(hazards.ids[2]).attributes
    assert _fmt_area(float(bow["estimated_m2"])) == "40.68 ha"  # type: ignore[arg-type]
    points = tmp_path / "finds.csv"
    points.write_text(
        "latitude,longitude,Model,Qty,Note\n49.023,36.003,PMN-2,1,н/д\n49.023,36.023,TM-62,2,\n,,TM-62,1,\nxx,36,TM-62,1,\n",
        encoding="utf-8",
    )
    finds = import_file(gpkg, "finds", points, ImportOptions(field_map="ordnance_model=Model,quantity=Qty"))
    assert _summary(finds.as_dict())["errors"] == [
        {"index": 2, "reason": "no coordinates (latitude and longitude are empty)"},
        {"index": 3, "reason": "latitude 'xx' is not a number"},
    ]
    first, second = (gpkg.get(i).attributes for i in finds.ids)
    assert (first["ordnance_model"], first["quantity"], first["extra"]) == ("PMN-2", 1, '{"Note": "н/д"}')
    assert (second["quantity"], second["extra"], second["hazard_id"]) == (2, None, None)


def test_admin_areas_fill_only_what_the_file_leaves_empty(gpkg: Store, tmp_path: Path) -> None:
    west, east = import_file(
        gpkg,
        "admin-areas",
        _geojson(
            tmp_path / "areas.geojson",
            [
                (shapely.box(35.9, 48.9, 36.05, 49.1), {"name": "West"}),
                (shapely.box(36.05, 48.9, 36.2, 49.1), {"name": "East"}),
            ],
        ),
        ImportOptions(level=1),
    ).ids
    path = _geojson(
        tmp_path / "hazards.geojson",
        [
            (_square(0), {"name": "found"}),
            (_square(1), {"name": "stated", "admin_area": east}),  # lies in West: the file's own value stays
            (_square(2), {"name": "empty", "admin_area": ""}),
            (_square(20), {"name": "outside"}),
        ],
    )
    plan = plan_import(gpkg, "hazards", path, ImportOptions())
    given = [attributes.get("admin_area", "(absent)") for _, attributes, _ in plan.candidates]
    assert given == [west, east, west, None]  # the file has the column: None is what it said
    summary = import_file(gpkg, "hazards", path, ImportOptions())
    assert [gpkg.get(i).attributes["admin_area"] for i in summary.ids] == [west, east, west, None]

    no_column = _geojson(
        tmp_path / "more.geojson", [(_square(3), {"name": "found"}), (_square(21), {"name": "outside"})]
    )
    candidates = [
        attributes for _, attributes, _ in plan_import(gpkg, "hazards", no_column, ImportOptions()).candidates
    ]
    # Nothing found and nothing in the file: left out, so that a report approved as an update keeps its area.
    assert [c.get("admin_area", "(absent)") for c in candidates] == [east, "(absent)"]


def test_outcomes_finds_and_accidents_are_linked_by_location_unless_the_file_names_a_hazard(
    gpkg: Store, tmp_path: Path
) -> None:
    hazards = import_file(
        gpkg,
        "hazards",
        _geojson(tmp_path / "h.geojson", [(_square(i), {"name": f"H{i}"}) for i in range(4)]),
        ImportOptions(),
    ).ids
    outcomes = _geojson(
        tmp_path / "o.geojson",
        [
            (shapely.box(36.0, 49.0, 36.005, 49.01), {"date": "2024-01-01", "Team": "T0"}),
            (shapely.box(36.02, 49.0, 36.025, 49.01), {"date": "2024-02-01", "hazard_id": hazards[3]}),
            (shapely.box(36.04, 49.0, 36.045, 49.01), {"date": "2024-03-01", "hazard_id": "HZ-999999"}),
            (shapely.box(40, 40, 40.01, 40.01), {"date": "2024-04-01"}),
            (shapely.box(36.06, 49.0, 36.065, 49.01), {"date": "bad"}),
            (None, {"date": "2024-05-01"}),
        ],
    )
    summary = import_file(gpkg, "outcomes", outcomes, ImportOptions(kind="cleared"))
    assert _summary(summary.as_dict())["errors"] == [
        {"index": 2, "reason": "hazard HZ-999999 does not exist"},
        {"index": 3, "reason": "no hazard given and the outcome lies within no hazard: which hazard was released?"},
        {"index": 4, "reason": "release_date: 'bad' is not a valid date"},
        {"index": 5, "reason": "no geometry (the record has no location)"},
    ]
    first, named = (gpkg.get(i).attributes for i in summary.ids)
    assert (first["hazard_id"], first["extra"]) == (hazards[0], '{"Team": "T0"}')
    assert (named["hazard_id"], named["released_m2"]) == (
        hazards[3],
        0.0,
    )  # the file's hazard, though it lies in another
    assert gpkg.get(hazards[0]).attributes["cleared_m2"] == pytest.approx(first["released_m2"])
    finds = _geojson(
        tmp_path / "f.geojson",
        [
            (shapely.Point(36.025, 49.005), {"ordnance_model": "PMN-2"}),
            (shapely.Point(40, 40), {"ordnance_model": "TM-62"}),
        ],
    )
    found = import_file(gpkg, "finds", finds, ImportOptions())
    assert [gpkg.get(i).attributes["hazard_id"] for i in found.ids] == [hazards[1], None]  # a find anywhere is kept
    accidents = import_file(gpkg, "accidents", finds, ImportOptions())
    assert [gpkg.get(i).attributes["hazard_id"] for i in accidents.ids] == [hazards[1], None]


def test_the_cycle_collector_runs_again_after_any_import(gpkg: Store, tmp_path: Path) -> None:
    assert gc.isenabled()
    import_file(gpkg, "hazards", _geojson(tmp_path / "ok.geojson", [(_square(0), {"name": "a"})]), ImportOptions())
    assert gc.isenabled()
    broken = tmp_path / "broken.geojson"
    broken.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    with pytest.raises(UnreadableFile):
        import_file(gpkg, "hazards", broken, ImportOptions())
    assert gc.isenabled()
    gc.disable()
    try:
        import_file(gpkg, "hazards", _geojson(tmp_path / "b.geojson", [(_square(5), {"name": "b"})]), ImportOptions())
        assert not gc.isenabled()  # left as it was found
    finally:
        gc.enable()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("on_invalid", "counts", "total_m2", "digest"),
    [
        (
            "reject",
            (7_415, 0, 914),
            36_376_374.02040091,
            "fa57149f92bb3c3ea06f764d70f4579c73beb147c0e8881ffa50feb623e25b6f",
        ),
        (
            "repair",
            (8_119, 704, 210),
            39_848_952.40380426,
            "b5c7846eadb207204de8589434e8fab88f42212fee06145f670f0bd161246a45",
        ),
    ],
)
def test_real_bih_cleared_areas_as_the_row_by_row_importer_did(
    gpkg: Store, on_invalid: str, counts: tuple[int, int, int], total_m2: float, digest: str
) -> None:
    """The whole summary (every index and reason, every repair note with its area) is the row-by-row
    importer's to the byte: its digest was taken from that importer's ``--json`` on this file."""
    summary = import_file(
        gpkg,
        "hazards",
        shared_file("bih", "cleared_areas.geojson"),
        ImportOptions(on_invalid=on_invalid),  # type: ignore[arg-type]
    )
    assert (summary.imported, summary.repaired, summary.rejected) == counts
    kept = {
        k: v for k, v in summary.as_dict().items() if k in ("imported", "repaired", "rejected", "errors", "repairs")
    }
    assert hashlib.sha256(json.dumps(kept, ensure_ascii=False, sort_keys=True).encode()).hexdigest() == digest
    ids, geometries, figures = gpkg.columns("hazards", ["estimated_m2", "extra"])
    assert list(ids) == summary.ids  # in the file's order
    estimated = np.asarray(figures["estimated_m2"], dtype=float)
    assert math.fsum(estimated) == pytest.approx(total_m2, rel=1e-12)
    # Each hazard's figure is the area of its stored outline; each repair note states it.
    assert np.array_equal(estimated, geodesic_area(geometries))
    stated = {
        r.index: r.reason.rsplit("the area is now ", 1)[1] for r in summary.repairs if "the area is now" in r.reason
    }
    imported = [i for i in range(8_329) if i not in {e.index for e in summary.errors}]
    by_index = dict(zip(imported, estimated.tolist(), strict=True))
    assert len(stated) == counts[1] and all(_fmt_area(by_index[i]) == text for i, text in stated.items())
    read = read_features(shared_file("bih", "cleared_areas.geojson"))
    unmapped = [c for c in read.field_names if c != "fileId"]
    expected = [_old_extra(dict(read.features[i].properties), unmapped) for i in imported]
    assert figures["extra"] == expected


def test_infinite_coordinates_are_refused_without_numpy_warnings(gpkg: Store, tmp_path: Path) -> None:
    """Warnings are errors in this suite: a stray RuntimeWarning (printed to the user's terminal with a
    source line) fails the import here. The area beside the checks measures the file's raw outlines."""
    path = tmp_path / "infinite.gpkg"
    outlines = [
        shapely.Polygon([(36.2, 49.9), (np.inf, 49.9), (36.3, 50.0)]),
        shapely.Polygon([(36.2, 49.9), (36.3, 49.9), (36.3, 50.0)]),
        shapely.Polygon([(36.2, 49.9), (36.3, np.inf), (36.3, 50.0)]),
    ]
    names = np.array(["east", "fine", "north"], dtype=object)
    raw.write(
        path,
        shapely.to_wkb(np.array(outlines)),
        [names],
        ["name"],
        driver="GPKG",
        crs="EPSG:4326",
        geometry_type="Polygon",
    )
    summary = import_file(gpkg, "hazards", path, ImportOptions(on_invalid="repair"))
    assert _summary(summary.as_dict())["errors"] == [
        {"index": 0, "reason": "coordinates are not numbers (NaN or infinite)"},
        {"index": 2, "reason": "coordinates are not numbers (NaN or infinite)"},
    ]
    assert summary.imported == 1
