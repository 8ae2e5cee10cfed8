"""Encoding detection and spreadsheet coordinate columns, unit by unit."""

from __future__ import annotations

from pathlib import Path

import pytest

from landrelease.errors import InvalidInput, UnreadableFile
from landrelease.formats import read_features
from landrelease.formats.encoding import cpg_encoding, detect_bytes_encoding, detect_text_encoding
from landrelease.formats.tabular import GeometryColumns, find_geometry_columns, parse_coordinate


@pytest.mark.parametrize(
    ("cpg", "codec"),
    [
        ("UTF-8", "utf-8"),
        ("utf8\n", "utf-8"),
        ("65001", "utf-8"),
        ("1251", "cp1251"),
        ("ANSI 1251", "cp1251"),
        ("CP1252", "cp1252"),
        ("88595", "iso8859-5"),
        ("ISO-8859-2", "iso8859-2"),
        ("KOI8-U", "koi8-u"),
        ("OEM", None),
    ],
)
def test_cpg_values_seen_in_the_wild(cpg: str, codec: str | None) -> None:
    assert cpg_encoding(cpg) == codec


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Харківська область Ізюм ґ є ї", "cp1251"),
        ("Харків", "cp1251"),
        ("Мінне поле біля села", "cp1251"),
        ("Київ Одеса Дніпро Запоріжжя", "koi8-u"),
        ("Café crème à la française, Garçon naïve", "cp1252"),
        ("Medellín Antioquia Peñol", "cp1252"),
        ("Goražde Foča Višegrad", "cp1250"),
        ("Zagreb Šibenik čćž Łódź", "cp1250"),
    ],
)
def test_detection_gives_back_the_text(text: str, encoding: str) -> None:
    data = text.encode(encoding)
    assert data.decode(detect_bytes_encoding(data)) == text


def test_ascii_and_utf8_need_no_guessing() -> None:
    assert detect_bytes_encoding(b"") == "utf-8"
    assert detect_bytes_encoding("Ізюм".encode()) == "utf-8"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ("a,b\nІзюм,1\n".encode("utf-16"), "utf-16"),
        ("a,b\nІзюм,1\n".encode("utf-16-le"), "utf-16-le"),
        ("a,b\nІзюм,1\n".encode("utf-16-be"), "utf-16-be"),
        ("a,b\nІзюм,1\n".encode("utf-8-sig"), "utf-8-sig"),
    ],
)
def test_byte_order_marks_and_utf16_without_one(data: bytes, encoding: str, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(data)
    assert detect_text_encoding(path) == encoding


def test_non_ascii_far_into_a_big_file_is_found(tmp_path: Path) -> None:
    path = tmp_path / "late.csv"
    path.write_bytes(b"name,lat,lon\n" + b"plain,1,2\n" * 300_000 + "Ізюм,3,4\n".encode("cp1251"))
    assert detect_text_encoding(path) == "cp1251"


def test_the_caller_may_override_the_encoding(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes("name,lat,lon\nČelić,1,2\n".encode("cp1250"))
    assert read_features(path, encoding="cp1250").features[0].properties["name"] == "Čelić"
    with pytest.raises(InvalidInput, match="unknown text encoding 'klingon'"):
        read_features(path, encoding="klingon")


@pytest.mark.parametrize(
    ("columns", "found"),
    [
        (["id", "Lat", "Lon"], GeometryColumns(lat="Lat", lon="Lon")),
        (["LATITUD_Y", "LONGITUD_X", "Municipio"], GeometryColumns(lat="LATITUD_Y", lon="LONGITUD_X")),
        (["Назва", "Широта", "Довгота"], GeometryColumns(lat="Широта", lon="Довгота")),
        (
            ["_location_latitude", "_location_longitude"],
            GeometryColumns(lat="_location_latitude", lon="_location_longitude"),
        ),
        (["Latitude (DD)", "Longitude (DD)"], GeometryColumns(lat="Latitude (DD)", lon="Longitude (DD)")),
        (["x", "y", "WKT"], GeometryColumns(wkt="WKT")),
        (["the_geom"], GeometryColumns(wkt="the_geom")),
        (["lat", "name"], GeometryColumns()),
        (["name", "note"], GeometryColumns()),
    ],
)
def test_geometry_columns_by_their_many_names(columns: list[str], found: GeometryColumns) -> None:
    assert find_geometry_columns(columns) == found


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("49.5", 49.5),
        ("49,5", 49.5),
        (" -36.25 ", -36.25),
        (49, 49.0),
        ("\u221236.5", -36.5),
        ("49°30'N", 49.5),
        ("49°30'36\"S", -49.51),
        ("W 36 15", -36.25),
        ("", "is empty"),
        (None, "is empty"),
        ("н/д", "'н/д' is not a number"),
        ("nan", "'nan' is not a number"),
        ("1,234.5", "'1,234.5' is not a number"),
        ("49°75'N", '"49°75\'N" is not a number'),
        (True, "True is not a number"),
    ],
)
def test_coordinate_cells(cell: object, value: float | str) -> None:
    got = parse_coordinate(cell)
    assert got == (pytest.approx(value) if isinstance(value, float) else value)


def test_text_that_is_not_in_the_named_encoding_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes("name,lat,lon\nІзюм,1,2\n".encode("cp1251"))
    with pytest.raises(UnreadableFile, match=r"x\.csv: its text is not utf-8 .*; name its encoding"):
        read_features(path, encoding="utf-8")
