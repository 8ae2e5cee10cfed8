"""Hostile and broken files: refused before GDAL sees them, in one line, leaving nothing behind."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from landrelease.errors import UnreadableFile, UnsafeFile
from landrelease.formats import Limits, read_features
from landrelease.formats.safety import check_xml, extracted_zip
from tests.fixtures import nasty


@pytest.mark.parametrize("name", nasty.names("unsafe"))
def test_hostile_files_are_refused_as_unsafe(name: str, inputs: Path, system_tmp: Path) -> None:
    path = nasty.make(name, inputs)
    with pytest.raises(UnsafeFile) as caught:
        read_features(path)
    message = str(caught.value)
    assert "\n" not in message
    assert path.name in message
    assert sorted(p.name for p in inputs.iterdir()) == [path.name], "nothing may be extracted next to the input"


@pytest.mark.parametrize("name", nasty.names("unreadable"))
def test_broken_files_are_unreadable_in_one_line(name: str, inputs: Path, system_tmp: Path) -> None:
    path = nasty.make(name, inputs)
    with pytest.raises(UnreadableFile) as caught:
        read_features(path)
    assert not isinstance(caught.value, UnsafeFile)
    message = str(caught.value)
    assert "\n" not in message and len(message) < 300
    assert message.startswith(path.name)
    assert "/" not in message.replace(path.name, ""), "no paths (temporary or not) in messages"


@pytest.mark.parametrize("name", nasty.names("reads") + nasty.names("problem"))
def test_awkward_but_legitimate_files_are_read(name: str, inputs: Path, system_tmp: Path) -> None:
    result = read_features(nasty.make(name, inputs))
    assert result.features
    problems = [f for f in result.features if f.problem]
    assert all(f.geometry is None for f in problems)
    assert bool(problems) == (nasty.CATALOGUE[name].expect == "problem")


def test_zip_bomb_is_refused_without_extracting(inputs: Path, system_tmp: Path) -> None:
    path = nasty.make("zip_bomb", inputs)
    assert path.stat().st_size < 100_000, "the catalogue keeps the bomb small on disk"
    with pytest.raises(UnsafeFile, match=r"expands 1,0\d\d times"):
        read_features(path)


def _zip_of(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


_EMPTY_FC = b'{"type": "FeatureCollection", "features": []}'


def test_too_many_members(inputs: Path, system_tmp: Path) -> None:
    path = _zip_of(inputs / "many.zip", {f"f{i}.geojson": _EMPTY_FC for i in range(6)})
    with pytest.raises(UnsafeFile, match="holds 6 files, more than the limit of 5"):
        read_features(path, limits=Limits(max_members=5))


def test_total_uncompressed_size(inputs: Path, system_tmp: Path) -> None:
    path = _zip_of(inputs / "big.zip", {"a.geojson": _EMPTY_FC + b" " * 5000})
    with pytest.raises(UnsafeFile, match="expands to"):
        read_features(path, limits=Limits(max_uncompressed_bytes=4000))


def test_file_size_limit(inputs: Path) -> None:
    path = nasty.make("null_geometry", inputs)
    with pytest.raises(UnsafeFile, match="more than the limit"):
        read_features(path, limits=Limits(max_file_bytes=100))


def test_feature_count_limit(inputs: Path) -> None:
    path = inputs / "many.csv"
    path.write_text("lat,lon\n" + "1,2\n" * 50)
    with pytest.raises(UnsafeFile, match="holds 50 features, more than the limit of 10"):
        read_features(path, limits=Limits(max_features=10))


def test_ratio_is_not_checked_on_small_members(inputs: Path, system_tmp: Path) -> None:
    """A small, very compressible member (padded DBF text) is not a bomb."""
    fc = b'{"type": "FeatureCollection", "features": []}' + b" " * 500_000
    path = _zip_of(inputs / "padded.zip", {"a.geojson": fc})
    assert read_features(path).features == []


def test_extraction_folder_is_removed_on_success_and_failure(inputs: Path, system_tmp: Path) -> None:
    path = _zip_of(inputs / "ok.zip", {"a/b.txt": b"hello"})
    with extracted_zip(path, Limits()) as folder:
        assert (folder / "a" / "b.txt").read_bytes() == b"hello"
    assert not folder.exists()
    with pytest.raises(RuntimeError), extracted_zip(path, Limits()) as folder:
        raise RuntimeError("boom")
    assert not folder.exists()


def test_password_protected_zip_is_unreadable(inputs: Path) -> None:
    path = _zip_of(inputs / "locked.zip", {"a.geojson": _EMPTY_FC})
    data = bytearray(path.read_bytes())
    # set the "encrypted" flag in the central directory entry
    central = data.rfind(b"PK\x01\x02")
    data[central + 8] |= 0x1
    path.write_bytes(bytes(data))
    with pytest.raises(UnreadableFile, match="password-protected"):
        read_features(path)


def test_not_a_zip(inputs: Path) -> None:
    path = inputs / "fake.kmz"
    path.write_text("not a zip")
    with pytest.raises(UnreadableFile, match="not a readable zip archive"):
        read_features(path)


def test_zip_without_anything_readable(inputs: Path, system_tmp: Path) -> None:
    path = _zip_of(inputs / "photos.zip", {"photo.jpg": b"\xff\xd8\xff", "readme.txt": b"hi"})
    with pytest.raises(UnreadableFile, match="holds no file that can be read"):
        read_features(path)


@pytest.mark.parametrize(
    ("xml", "reason"),
    [
        (b'<!DOCTYPE kml [<!ENTITY % p SYSTEM "http://x/">%p;]><kml/>', "declares XML entities"),
        (b'<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE kml [<!ENTITY a "b">]><kml/>', "declares XML entities"),
        (b'<!DOCTYPE kml PUBLIC "-//x//y" "http://x/y.dtd"><kml/>', "external document type"),
    ],
)
def test_xml_check_refuses_entities_in_any_form(xml: bytes, reason: str) -> None:
    data = xml.decode().encode("utf-16") if b"UTF-16" in xml else xml
    with pytest.raises(UnsafeFile, match=reason):
        check_xml(io.BytesIO(data), "x.kml")


def test_xml_check_stops_at_the_root_element() -> None:
    """Cost does not grow with the document: whatever follows the root's start tag is not parsed."""
    stream = io.BytesIO(b'<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><' + b"\xff" * 10)
    assert check_xml(stream, "x.kml") == "kml"


def test_kml_must_have_a_kml_root(inputs: Path) -> None:
    path = inputs / "gml.kml"
    path.write_text('<?xml version="1.0"?><FeatureCollection xmlns="http://www.opengis.net/gml"/>')
    with pytest.raises(UnreadableFile, match="not KML: its root element is <FeatureCollection>"):
        read_features(path)


def test_sqlite_that_is_not_a_geopackage(inputs: Path) -> None:
    import sqlite3

    path = inputs / "plain.gpkg"
    db = sqlite3.connect(path)
    db.execute("create table t (x)")
    db.commit()
    db.close()
    with pytest.raises(UnreadableFile, match="SQLite database but not a GeoPackage"):
        read_features(path)
