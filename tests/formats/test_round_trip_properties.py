"""Property-based round trips: any attribute values through GeoJSON and GeoPackage come back."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from landrelease.domain.records import Scalar
from landrelease.domain.schema import Field, FieldType, GeometryKind, Layer
from landrelease.formats import read_features, write_layer

LAYER = Layer(
    "samples",
    "Samples",
    "SM",
    GeometryKind.POINT,
    (
        Field("text", FieldType.TEXT, "Text"),
        Field("count", FieldType.INTEGER, "Count"),
        Field("amount", FieldType.REAL, "Amount"),
        Field("day", FieldType.DATE, "Day"),
        Field("flag", FieldType.BOOLEAN, "Flag"),
    ),
)

# NUL cannot be held by GDAL (C strings); write_layer refuses it, tested elsewhere.
_text = st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=40)
# Integer columns with empty cells reach Python as float64 (a pyogrio limitation), exact to 2**53.
_count = st.integers(-(2**53), 2**53)
_amount = st.floats(allow_nan=False, allow_infinity=False)
_day = st.dates().map(lambda d: d.isoformat())

_record = st.fixed_dictionaries(
    {
        "text": st.none() | _text,
        "count": st.none() | _count,
        "amount": st.none() | _amount,
        "day": st.none() | _day,
        "flag": st.none() | st.booleans(),
    }
)
_point = st.builds(
    shapely.Point,
    st.floats(-180, 180, allow_nan=False),
    st.floats(-90, 90, allow_nan=False),
)


def _same_real(read: Scalar, written: Scalar, exact: bool) -> bool:
    if written is None or read is None:
        return read is written
    assert isinstance(read, float) and isinstance(written, float)
    # GDAL's GeoJSON writer tidies 17 significant digits ("...0000000004", "...99999858") away
    return read == written if exact else math.isclose(read, written, rel_tol=1e-14, abs_tol=1e-300)


@pytest.mark.parametrize("ext", [".geojson", ".gpkg"])
@settings(max_examples=40, deadline=None)
@given(records=st.lists(st.tuples(_record, st.none() | _point), min_size=1, max_size=8))
def test_any_values_round_trip(ext: str, records: list[tuple[dict[str, Scalar], shapely.Point | None]]) -> None:
    ids = [f"SM-{i}" for i in range(len(records))]
    columns = {f.name: [r[f.name] for r, _ in records] for f in LAYER.fields}
    geoms = [g for _, g in records]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"samples{ext}"
        write_layer(path, LAYER, ids, geoms, columns)
        result = read_features(path)
    assert [f.properties["id"] for f in result.features] == ids
    for feature, (record, geom) in zip(result.features, records, strict=True):
        props = feature.properties
        assert props["text"] == record["text"]
        assert props["count"] == record["count"] and type(props["count"]) is type(record["count"])
        assert _same_real(props["amount"], record["amount"], exact=ext == ".gpkg")
        assert props["day"] == record["day"]
        assert props["flag"] is record["flag"]
        if geom is None:
            assert feature.geometry is None
        else:
            assert feature.geometry is not None
            # GDAL's GeoJSON writer keeps ~15 decimals of a degree and tidies "...99999858" to "...0"
            tolerance = 0.0 if ext == ".gpkg" else 1e-12
            assert abs(feature.geometry.x - geom.x) <= tolerance and abs(feature.geometry.y - geom.y) <= tolerance
