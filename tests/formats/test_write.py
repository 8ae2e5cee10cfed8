"""Writing every format and reading it back: names and Cyrillic exact, nothing half-written."""

from __future__ import annotations

import codecs
import math
import zipfile
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyogrio import raw

from landrelease.domain import schema
from landrelease.domain.records import Scalar
from landrelease.domain.schema import FieldType, GeometryKind, Layer
from landrelease.errors import InvalidInput
from landrelease.formats import WRITABLE, read_features, write_layer
from landrelease.formats import write as write_module

EXTENSIONS = [f.extension for f in WRITABLE]
#: Formats that cannot tell an empty text from no value.
EMPTY_IS_NULL = {".kml", ".kmz", ".zip", ".shp", ".csv", ".xlsx"}
#: Formats whose reals survive to the last bit (the others keep 15 significant digits).
EXACT_REALS = {".gpkg", ".fgb", ".csv"}

TEXTS = ["Харківська область", "Ізюм, ґ є ї", 'лапки " та, кома', "", None, "Line one\nline two"]


def _value(field: schema.Field, i: int) -> Scalar:
    """A value for record ``i`` of ``field``: every type, Cyrillic, nulls in every column."""
    if i % 5 == 4:
        return None
    if field.choices:
        return field.choices[i % len(field.choices)]
    return {
        FieldType.TEXT: TEXTS[i % len(TEXTS)],
        FieldType.INTEGER: [0, -7, 123456, 2**31 - 1][i % 4],
        FieldType.REAL: [0.1 + 0.2, -1.5, 1234567.125, 1e-7][i % 4],
        FieldType.DATE: ["2023-05-01", "1999-12-31", "2024-02-29", "1970-01-01"][i % 4],
        FieldType.BOOLEAN: [True, False][i % 2],
    }[field.type]


def _geometry(kind: GeometryKind, i: int) -> shapely.Geometry | None:
    if kind is GeometryKind.NONE or i % 7 == 3:
        return None
    x, y = 36.0 + i / 10, 49.0 + i / 100
    if kind is GeometryKind.POINT:
        return shapely.Point(x + 0.123456789012, y + 0.987654321098)
    if i % 2:
        return shapely.box(x, y, x + 0.01, y + 0.01)
    # a two-part polygon with a hole
    outer = shapely.Polygon(
        [(x, y), (x + 0.02, y), (x + 0.02, y + 0.02), (x, y + 0.02)],
        [[(x + 0.005, y + 0.005), (x + 0.01, y + 0.005), (x + 0.01, y + 0.01)]],
    )
    return shapely.MultiPolygon([outer, shapely.box(x + 0.03, y, x + 0.04, y + 0.01)])


def _records(layer: Layer, n: int = 12) -> tuple[list[str], list[shapely.Geometry | None], dict[str, list[Scalar]]]:
    ids = [f"{layer.id_prefix}-{i:06d}" for i in range(n)]
    geoms = [_geometry(layer.geometry, i) for i in range(n)]
    columns = {f.name: [_value(f, i) for i in range(n)] for f in layer.fields}
    return ids, geoms, columns


def _expected(field: schema.Field, value: Scalar, ext: str) -> Scalar:
    if value == "" and ext in EMPTY_IS_NULL:
        return None
    if ext == ".csv" and value is not None:
        if isinstance(value, bool):
            return "true" if value else "false"
        return repr(float(value)) if field.type is FieldType.REAL else str(value)
    return value


def _same(read: Scalar, expected: Scalar, ext: str) -> bool:
    if isinstance(expected, float) and isinstance(read, float) and ext not in EXACT_REALS:
        return math.isclose(read, expected, rel_tol=1e-14)
    return read == expected and type(read) is type(expected)


LAYERS = [schema.HAZARDS, schema.FINDS, schema.ORGANISATIONS]


@pytest.mark.parametrize("ext", EXTENSIONS)
@pytest.mark.parametrize("layer", LAYERS, ids=lambda layer: layer.name)
def test_round_trip(ext: str, layer: Layer, tmp_path: Path) -> None:
    ids, geoms, columns = _records(layer)
    path = tmp_path / f"export{ext}"
    written = write_layer(path, layer, ids, geoms, columns)
    assert written.features == len(ids)

    result = read_features(path)
    assert result.field_names[0] == "id"
    assert result.field_names[1 : 1 + len(layer.fields)] == list(layer.field_names)
    by_id = {f.properties["id"]: f for f in result.features}
    assert sorted(by_id) == ids
    for i, record_id in enumerate(ids):
        feature = by_id[record_id]
        for field in layer.fields:
            expected = _expected(field, columns[field.name][i], ext)
            got = feature.properties[field.name]
            assert _same(got, expected, ext), f"{ext} {record_id} {field.name}: {got!r} != {expected!r}"
        original = geoms[i]
        if original is None:
            assert feature.geometry is None
        else:
            assert feature.geometry is not None, f"{record_id} lost its geometry"
            assert shapely.hausdorff_distance(feature.geometry, original) < 1e-9
            assert feature.geometry.area == pytest.approx(original.area, rel=1e-9)


@pytest.mark.parametrize("ext", [".gpkg", ".geojson", ".fgb", ".csv", ".xlsx"])
def test_polygons_are_written_as_multipolygons(ext: str, tmp_path: Path) -> None:
    path = tmp_path / f"a{ext}"
    ids, geoms, columns = _records(schema.HAZARDS, 3)
    write_layer(path, schema.HAZARDS, ids, geoms, columns)
    kinds = {f.geometry.geom_type for f in read_features(path).features if f.geometry is not None}
    assert kinds == {"MultiPolygon"}


def test_csv_is_utf8_with_bom_id_first_wkt_last(tmp_path: Path) -> None:
    path = tmp_path / "finds.csv"
    ids, geoms, columns = _records(schema.FINDS, 3)
    write_layer(path, schema.FINDS, ids, geoms, columns)
    data = path.read_bytes()
    assert data.startswith(codecs.BOM_UTF8)
    header = data[3:].decode("utf-8").splitlines()[0].split(",")
    assert header == ["id", *schema.FINDS.field_names, "wkt"]
    assert "Харківська область" in data.decode("utf-8-sig")


def test_shapefile_keeps_full_names_through_its_sidecar(tmp_path: Path) -> None:
    path = tmp_path / "hazards.shp"
    ids, geoms, columns = _records(schema.HAZARDS, 3)
    written = write_layer(path, schema.HAZARDS, ids, geoms, columns)
    assert written.field_names["hazard_class"] == "hazard_cla"
    assert all(len(short) <= 10 for short in written.field_names.values())
    on_disk = [str(n) for n in raw.read(path, max_features=1)[0]["fields"]]
    assert "hazard_cla" in on_disk and "hazard_class" not in on_disk
    sidecar = (tmp_path / "hazards.fields.txt").read_text("utf-8")
    assert "hazard_cla\thazard_class\tClass" in sidecar
    assert read_features(path).field_names[:3] == ["id", "name", "hazard_class"]


def test_zipped_shapefile_holds_every_part(tmp_path: Path) -> None:
    path = tmp_path / "finds.zip"
    write_layer(path, schema.FINDS, *_records(schema.FINDS, 2))
    names = sorted(zipfile.ZipFile(path).namelist())
    assert names == sorted(f"finds{s}" for s in (".cpg", ".dbf", ".fields.txt", ".prj", ".shp", ".shx"))
    assert list(tmp_path.iterdir()) == [path]


@pytest.mark.parametrize("ext", EXTENSIONS)
def test_refuses_to_overwrite_unless_asked(ext: str, tmp_path: Path) -> None:
    path = tmp_path / f"out{ext}"
    ids, geoms, columns = _records(schema.FINDS, 2)
    write_layer(path, schema.FINDS, ids, geoms, columns)
    with pytest.raises(InvalidInput, match="already exists"):
        write_layer(path, schema.FINDS, ids, geoms, columns)
    ids2, geoms2, columns2 = _records(schema.FINDS, 5)
    write_layer(path, schema.FINDS, ids2, geoms2, columns2, overwrite=True)
    assert len(read_features(path).features) == 5
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no temporary folder left"


def test_failed_export_leaves_nothing_and_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "out.gpkg"
    ids, geoms, columns = _records(schema.FINDS, 2)
    write_layer(path, schema.FINDS, ids, geoms, columns)
    before = path.read_bytes()

    def half_then_fail(target: Path, *args: object, **kwargs: object) -> None:
        Path(target).write_bytes(b"half a file")
        raise write_module.pyogrio.errors.DataSourceError("disk full")

    monkeypatch.setattr(write_module.raw, "write", half_then_fail)
    with pytest.raises(InvalidInput, match=r"could not write out\.gpkg as GeoPackage: disk full"):
        write_layer(path, schema.FINDS, ids, geoms, columns, overwrite=True)
    with pytest.raises(InvalidInput):
        write_layer(tmp_path / "new.shp", schema.FINDS, ids, geoms, columns)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.gpkg"]
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("quantity", "3", "quantity holds '3', which is not a integer value"),
        ("quantity", True, "which is not a integer value"),
        ("depth_cm", math.inf, "which is not a real value"),
        ("found_date", "12/05/2023", "not a date"),
        ("condition", 5, "which is not a text value"),
        ("condition", "a\x00b", "NUL character"),
    ],
)
def test_values_of_the_wrong_type_are_refused(field: str, value: Scalar, message: str, tmp_path: Path) -> None:
    ids, geoms, columns = _records(schema.FINDS, 2)
    columns[field][0] = value
    with pytest.raises(InvalidInput, match=message):
        write_layer(tmp_path / "x.gpkg", schema.FINDS, ids, geoms, columns)
    assert list(tmp_path.iterdir()) == []


def test_text_too_long_for_a_shapefile_is_refused_not_cut(tmp_path: Path) -> None:
    ids, geoms, columns = _records(schema.FINDS, 2)
    columns["condition"][0] = "ї" * 128  # 256 bytes in UTF-8
    with pytest.raises(InvalidInput, match="too long for a Shapefile"):
        write_layer(tmp_path / "x.shp", schema.FINDS, ids, geoms, columns)
    write_layer(tmp_path / "x.gpkg", schema.FINDS, ids, geoms, columns)


def test_geometry_too_detailed_for_excel_is_refused(tmp_path: Path) -> None:
    ids, geoms, columns = _records(schema.HAZARDS, 1)
    geoms[0] = shapely.Point(36.123456789, 49.123456789).buffer(0.01, quad_segs=400)
    with pytest.raises(InvalidInput, match="too detailed for an Excel cell"):
        write_layer(tmp_path / "x.xlsx", schema.HAZARDS, ids, geoms, columns)


def test_personal_data_needs_permission(tmp_path: Path) -> None:
    ids, _, columns = _records(schema.VICTIMS, 2)
    with pytest.raises(InvalidInput, match="personal data"):
        write_layer(tmp_path / "v.csv", schema.VICTIMS, ids, None, columns)
    written = write_layer(tmp_path / "v.csv", schema.VICTIMS, ids, None, columns, include_personal=True)
    assert "full_name" in written.field_names


def test_personal_fields_are_left_out_by_default(tmp_path: Path) -> None:
    layer = Layer(
        "people", "People", "PP", GeometryKind.NONE,
        (schema.Field("role", FieldType.TEXT, "Role"), schema.Field("phone", FieldType.TEXT, "Phone", personal=True)),
    )  # fmt: skip
    columns: dict[str, list[Scalar]] = {"role": ["deminer"], "phone": ["+380"]}
    written = write_layer(tmp_path / "p.geojson", layer, ["PP-1"], None, columns)
    assert list(written.field_names) == ["id", "role"]
    with pytest.raises(InvalidInput, match="phone: personal data"):
        write_layer(tmp_path / "q.geojson", layer, ["PP-1"], None, columns, fields=["role", "phone"])


def test_only_the_fields_asked_for(tmp_path: Path) -> None:
    ids, geoms, columns = _records(schema.FINDS, 2)
    path = tmp_path / "few.geojson"
    write_layer(path, schema.FINDS, ids, geoms, {"quantity": columns["quantity"]}, fields=["quantity"])
    assert read_features(path).field_names == ["id", "quantity"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda ids, geoms, cols: cols.update(colour=["red"] * len(ids)), "no field called 'colour'"),
        (lambda ids, geoms, cols: cols.pop("quantity"), "no values given for quantity"),
        (lambda ids, geoms, cols: cols["quantity"].pop(), "1 values given for 'quantity' but 2 ids"),
        (lambda ids, geoms, cols: ids.__setitem__(1, ids[0]), "appears twice"),
        (lambda ids, geoms, cols: geoms.__setitem__(0, shapely.box(0, 0, 1, 1)), "a Polygon in the finds layer"),
        (lambda ids, geoms, cols: geoms.pop(), "1 geometries given for 2 ids"),
    ],
)
def test_inconsistent_input_is_refused(change: object, message: str, tmp_path: Path) -> None:
    ids, geoms, columns = _records(schema.FINDS, 2)
    change(ids, geoms, columns)  # type: ignore[operator]
    with pytest.raises(InvalidInput, match=message):
        write_layer(tmp_path / "x.gpkg", schema.FINDS, ids, geoms, columns)


def test_unsupported_extension_and_missing_folder(tmp_path: Path) -> None:
    ids, geoms, columns = _records(schema.FINDS, 1)
    with pytest.raises(InvalidInput, match=r"cannot export to '\.dxf'; supported: \.gpkg"):
        write_layer(tmp_path / "x.dxf", schema.FINDS, ids, geoms, columns)
    with pytest.raises(InvalidInput, match="does not exist"):
        write_layer(tmp_path / "no" / "x.gpkg", schema.FINDS, ids, geoms, columns)


def test_geometries_may_be_a_numpy_array_and_empty_ones_become_null(tmp_path: Path) -> None:
    ids, _, columns = _records(schema.FINDS, 3)
    geoms = np.array([shapely.Point(36, 49), shapely.Point(), None], dtype=object)
    path = tmp_path / "a.geojson"
    write_layer(path, schema.FINDS, ids, geoms, columns)
    assert [f.geometry is None for f in read_features(path).features] == [False, True, True]
