"""Reading every format: layers, encodings, coordinate systems, property types, real data."""

from __future__ import annotations

import codecs
import zipfile
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyogrio import raw
from pyproj import Transformer

from landrelease.errors import InvalidInput, UnreadableFile
from landrelease.formats import read_features
from tests.fixtures import nasty
from tests.formats.conftest import shared_data

UKRAINIAN = nasty.UKRAINIAN


def _write(
    path: Path, geoms: list[shapely.Geometry | None], crs: str | None = "EPSG:4326", **fields: list[object]
) -> Path:
    wkb = shapely.to_wkb(np.array(geoms, dtype=object))
    data = [np.array(v, dtype=object) for v in fields.values()]
    kind = next((g.geom_type for g in geoms if g is not None), "Unknown")
    raw.write(path, wkb, data, list(fields), geometry_type=kind, crs=crs)
    return path


def test_unknown_extension_lists_the_supported_ones(inputs: Path) -> None:
    path = inputs / "hazards.dxf"
    path.write_text("0\nSECTION\n")
    with pytest.raises(UnreadableFile, match=r"hazards.dxf: files ending in '.dxf' cannot be read; supported: .gpkg,"):
        read_features(path)


def test_missing_file(inputs: Path) -> None:
    with pytest.raises(UnreadableFile, match=r"nowhere\.geojson: no such file"):
        read_features(inputs / "nowhere.geojson")


def test_geojson_properties_keep_their_types(inputs: Path) -> None:
    path = inputs / "types.geojson"
    path.write_text(
        '{"type": "FeatureCollection", "features": ['
        '{"type": "Feature", "geometry": {"type": "Point", "coordinates": [36.2, 49.9]}, "properties": '
        '{"n": 1, "big": 9007199254740991, "x": 1.5, "b": true, "d": "2023-05-01", "s": "Ізюм", "nested": {"a": 1}, '
        '"list": [1, 2]}},'
        '{"type": "Feature", "geometry": null, "properties": {"n": null, "big": null, "x": null, "b": null, "d": null, '
        '"s": null, "nested": null, "list": null}}]}'
    )
    first, second = read_features(path).features
    assert first.properties == {
        "n": 1, "big": 9007199254740991, "x": 1.5, "b": True, "d": "2023-05-01", "s": "Ізюм",
        "nested": '{ "a": 1 }', "list": "[1, 2]",
    }  # fmt: skip
    assert all(v is None for v in second.properties.values())
    assert type(first.properties["n"]) is int and type(first.properties["b"]) is bool
    assert second.geometry is None and second.problem is None


def test_geopackage_first_non_empty_layer_or_the_one_asked_for(inputs: Path) -> None:
    path = inputs / "two.gpkg"
    raw.write(path, None, [np.array([], dtype=object)], ["name"], layer="empty", geometry_type=None)
    wkb = shapely.to_wkb(np.array([shapely.Point(36.2, 49.9)], dtype=object))
    raw.write(path, wkb, [np.array(["Ізюм"], dtype=object)], ["name"], layer="finds", geometry_type="Point",
              crs="EPSG:4326", append=True)  # fmt: skip
    result = read_features(path)
    assert result.layer_name == "finds" and set(result.layers) == {"empty", "finds"}
    assert result.features[0].properties == {"name": "Ізюм"}
    assert read_features(path, layer="empty").features == []
    with pytest.raises(InvalidInput, match="no layer called 'roads'; its layers are: "):
        read_features(path, layer="roads")


def test_geopackage_in_web_mercator_is_reprojected(inputs: Path) -> None:
    to_mercator = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    lon, lat = 36.2304, 49.9935
    x, y = to_mercator.transform(lon, lat)
    path = _write(inputs / "mercator.gpkg", [shapely.Point(x, y)], crs="EPSG:3857", name=["Харків"])
    result = read_features(path)
    assert result.source_crs == "EPSG:3857"
    point = result.features[0].geometry
    assert point is not None
    assert abs(point.x - lon) < 1e-6 and abs(point.y - lat) < 1e-6


def test_shapefile_in_utm_36n_is_reprojected(inputs: Path) -> None:
    result = read_features(nasty.make("utm36n_shapefile", inputs))
    assert result.source_crs == "EPSG:32636"
    assert result.driver == "ESRI Shapefile"
    for feature, (lon, lat) in zip(result.features, nasty.UTM36N_POINTS, strict=True):
        assert feature.geometry is not None
        assert abs(feature.geometry.x - lon) < 1e-6 and abs(feature.geometry.y - lat) < 1e-6
    # the central meridian of zone 36 is 33°E exactly, whatever the library
    assert result.features[0].geometry.x == pytest.approx(33.0, abs=1e-9)  # type: ignore[union-attr]
    assert [f.properties["name"] for f in result.features] == ["Полтава", "Ізюм", "ґ є ї"]


def test_shapefile_in_cp1251_without_cpg_is_detected(inputs: Path) -> None:
    path = inputs / "old.shp"
    names = [f"{UKRAINIAN[0]} {i}" for i in range(3)] + [" ".join(UKRAINIAN)]
    wkb = shapely.to_wkb(np.array([shapely.Point(36, 49)] * 4, dtype=object))
    raw.write(path, wkb, [np.array(names, dtype=object)], ["назва"], geometry_type="Point", crs="EPSG:4326",
              encoding="cp1251")  # fmt: skip
    path.with_suffix(".cpg").unlink()
    result = read_features(path)
    assert result.encoding == "cp1251"
    assert result.field_names == ["назва"]
    assert [f.properties["назва"] for f in result.features] == names


def test_shapefile_cpg_is_trusted(inputs: Path) -> None:
    path = inputs / "latin.shp"
    wkb = shapely.to_wkb(np.array([shapely.Point(18, 44)], dtype=object))
    raw.write(path, wkb, [np.array(["Čačak Šibenik"], dtype=object)], ["name"], geometry_type="Point",
              crs="EPSG:4326", encoding="cp1250")  # fmt: skip
    path.with_suffix(".cpg").write_text("1250")
    result = read_features(path)
    assert result.encoding == "cp1250"
    assert result.features[0].properties["name"] == "Čačak Šibenik"


@pytest.mark.parametrize("name", ["cp1251_csv", "utf16_csv"])
def test_csv_encodings_give_exact_ukrainian(name: str, inputs: Path, system_tmp: Path) -> None:
    result = read_features(nasty.make(name, inputs))
    assert result.field_names == ["назва", "область", "примітка"]
    assert result.geometry_columns == ("широта", "довгота")
    first = result.features[0]
    assert first.properties == {"назва": "Ізюм", "область": "Харківська область", "примітка": "ґ є ї"}
    assert first.geometry is not None and (first.geometry.x, first.geometry.y) == (37.2569, 49.2128)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1251", "utf-16", "utf-16-le"])
def test_csv_in_any_common_encoding(encoding: str, inputs: Path) -> None:
    text = "name,note,lat,lon\n" + "".join(
        f"{UKRAINIAN[0]} {i},{' '.join(UKRAINIAN)},49.{i},36.{i}\n" for i in range(20)
    )
    path = inputs / "points.csv"
    path.write_bytes(text.encode(encoding))
    result = read_features(path)
    assert [f.properties["name"] for f in result.features] == [f"{UKRAINIAN[0]} {i}" for i in range(20)]
    assert {f.properties["note"] for f in result.features} == {" ".join(UKRAINIAN)}


def test_csv_latin_encoding(inputs: Path) -> None:
    path = inputs / "latin.csv"
    path.write_bytes("name;lat;lon\nCafé crème à la française;1;2\nGarçon naïve señor;3;4\n".encode("cp1252"))
    names = [f.properties["name"] for f in read_features(path).features]
    assert names == ["Café crème à la française", "Garçon naïve señor"]


def test_csv_coordinates_with_problems(inputs: Path) -> None:
    result = read_features(nasty.make("latlon_cyrillic_csv", inputs))
    assert result.geometry_columns == ("Широта", "Довгота")
    assert result.field_names == ["Назва", "Примітка"]
    by_name = {f.properties["Назва"]: f for f in result.features}
    assert by_name["Поле, північ"].properties["Примітка"] == 'лапки " всередині'
    assert by_name["Без координат"].problem == "no coordinates (Широта and Довгота are empty)"
    assert by_name["Погані координати"].problem == "Широта 'н/д' is not a number"
    dms = by_name["Градуси"].geometry
    assert dms is not None and dms.y == pytest.approx(49 + 12 / 60 + 46 / 3600)
    assert [f.index for f in result.features] == list(range(5))


def test_csv_with_a_wkt_column(inputs: Path) -> None:
    path = inputs / "wkt.csv"
    path.write_text(
        'id,WKT,name\n1,"POLYGON ((36 49, 36.1 49, 36.1 49.1, 36 49))",a\n2,"POLYGON ((36 49, 37 50, 36 49))",b\n'
        "3,not wkt,c\n4,,d\n5,0101000020E6100000000000000000F03F0000000000000040,e\n"
    )
    result = read_features(path)
    assert result.geometry_columns == ("WKT",) and result.field_names == ["id", "name"]
    ok, ring3, junk, empty, ewkb = result.features
    assert ok.geometry is not None and ok.problem is None
    assert ring3.geometry is None and ring3.problem == "a polygon ring has fewer than 3 distinct points"
    assert junk.geometry is None and junk.problem is not None and "'not wkt'" in junk.problem
    assert empty.problem == "the WKT cell is empty"
    assert ewkb.geometry == shapely.Point(1, 2)


def test_csv_without_geometry_columns_has_no_geometry(inputs: Path) -> None:
    path = inputs / "victims.csv"
    path.write_text("accident_id,sex\nAX-1,female\n")
    result = read_features(path)
    assert result.geometry_columns == ()
    assert result.features[0].geometry is None and result.features[0].problem is None


def test_xlsx_reads_like_csv_with_types(inputs: Path) -> None:
    path = inputs / "finds.xlsx"
    ids = np.array(["FD-1", "FD-2"], dtype=object)
    lat = np.array([49.5, np.nan])
    lon = np.array([36.25, 36.0])
    name = np.array(["Ізюм", "ґ є ї"], dtype=object)
    raw.write(path, None, [ids, name, lat, lon], ["id", "Назва", "Latitude", "Longitude"], driver="XLSX")
    result = read_features(path)
    assert result.driver == "XLSX" and result.geometry_columns == ("Latitude", "Longitude")
    first, second = result.features
    assert first.geometry == shapely.Point(36.25, 49.5) and first.properties == {"id": "FD-1", "Назва": "Ізюм"}
    assert second.geometry is None and second.problem == "Latitude is empty"


def test_kml_folders_are_layers(inputs: Path) -> None:
    path = inputs / "folders.kml"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        "<Folder><name>Порожня</name></Folder>"
        "<Folder><name>Знахідки</name><Placemark><name>ПМН-2 ґ є ї</name><description>біля дороги</description>"
        '<ExtendedData><Data name="кількість"><value>3</value></Data></ExtendedData>'
        "<Point><coordinates>36.2,49.9,120</coordinates></Point></Placemark></Folder>"
        "</Document></kml>",
        encoding="utf-8",
    )
    result = read_features(path)
    assert result.driver == "LIBKML"
    assert result.layers == ("Порожня", "Знахідки") and result.layer_name == "Знахідки"
    feature = result.features[0]
    assert feature.properties == {"name": "ПМН-2 ґ є ї", "description": "біля дороги", "кількість": "3"}
    assert feature.geometry == shapely.Point(36.2, 49.9), "2D: the altitude is dropped"


def test_kmz_is_extracted_checked_and_read(inputs: Path, system_tmp: Path) -> None:
    kml = (
        '<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        "<Placemark><name>Ізюм</name><Polygon><outerBoundaryIs><LinearRing><coordinates>"
        "36,49 36.1,49 36.1,49.1 36,49</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>"
        "</Document></kml>"
    )
    path = inputs / "area.kmz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("doc.kml", kml)
        zf.writestr("files/photo.jpg", b"\xff\xd8\xff")
    result = read_features(path)
    assert [f.properties["name"] for f in result.features] == ["Ізюм"]
    assert result.features[0].geometry is not None and result.features[0].geometry.geom_type == "Polygon"


def test_zipped_shapefile_and_zip_of_one_file(inputs: Path, system_tmp: Path) -> None:
    shp = nasty.make("utm36n_shapefile", inputs)
    path = inputs / "bundle.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for part in inputs.glob("utm36n.*"):
            zf.write(part, f"folder/{part.name}")
    result = read_features(path)
    assert result.driver == "ESRI Shapefile" and result.layer_name == "utm36n"
    assert len(result.features) == 3 and result.encoding == "utf-8"
    single = inputs / "single.zip"
    with zipfile.ZipFile(single, "w") as zf:
        zf.writestr("points.csv", codecs.BOM_UTF8 + nasty.CSV_LATLON.encode())
    assert read_features(single).driver == "CSV"
    assert shp.exists()


def test_zip_with_several_files_reads_the_one_asked_for(inputs: Path, system_tmp: Path) -> None:
    path = inputs / "several.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a.csv", "lat,lon\n1,2\n")
        zf.writestr("b.geojson", '{"type":"FeatureCollection","features":[]}')
    assert read_features(path).layers == ("a.csv", "b.geojson")
    assert read_features(path, layer="b.geojson").driver == "GeoJSON"
    with pytest.raises(InvalidInput, match="no file or layer called 'c'"):
        read_features(path, layer="c")


def test_flatgeobuf(inputs: Path) -> None:
    path = _write(inputs / "a.fgb", [shapely.Point(36, 49), shapely.Point(37, 50)], name=["Ізюм", None])
    result = read_features(path)
    assert result.driver == "FlatGeobuf"
    assert sorted((f.properties["name"] or "") for f in result.features) == ["", "Ізюм"]


def test_geometry_problems_keep_the_rest_of_the_file(inputs: Path) -> None:
    result = read_features(nasty.make("ring_3_points", inputs))
    ok, bad = result.features
    assert ok.geometry is not None and ok.problem is None
    assert bad.geometry is None and bad.problem == "a polygon ring has fewer than 3 distinct points"
    assert bad.index == 1 and bad.properties == {"name": "ring of 3"}


def test_multipolygon_with_one_degenerate_part_is_a_problem(inputs: Path) -> None:
    path = inputs / "multi.geojson"
    path.write_text(
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":'
        '{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]],[[[5,5],[6,6],[5,5]]]]}}]}'
    )
    (feature,) = read_features(path).features
    assert feature.geometry is None and feature.problem == "a polygon ring has fewer than 3 distinct points"


def test_real_bosnian_minefields() -> None:
    path = shared_data("bih", "cleared_areas.geojson")
    result = read_features(path)
    assert len(result.features) == 8329
    missing = [f for f in result.features if f.geometry is None]
    assert len(missing) == 108
    assert all(f.problem is None for f in missing), "null in the file: nothing failed to parse"
    assert result.field_names == ["typeArea", "fileId"]
    assert result.features[17].index == 17


def test_shapefile_without_its_index_or_attributes(inputs: Path) -> None:
    shp = nasty.make("utm36n_shapefile", inputs)
    shp.with_suffix(".dbf").unlink()
    result = read_features(shp)
    assert len(result.features) == 3 and result.field_names == []
    assert "utm36n.dbf is missing: the features have no attributes" in result.warnings
    shp.with_suffix(".shx").unlink()
    with pytest.raises(UnreadableFile, match=r"utm36n\.shp: its index utm36n\.shx is missing"):
        read_features(shp)


def test_a_single_layer_file_has_no_other_layer(inputs: Path) -> None:
    path = nasty.make("null_geometry", inputs)
    assert read_features(path, layer="null").layer_name == "null"
    with pytest.raises(InvalidInput, match="holds a single layer; it has no layer called 'roads'"):
        read_features(path, layer="roads")
