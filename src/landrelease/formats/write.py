"""``write_layer``: one layer's records to any format the field uses, never half-written.

The file is written into a temporary folder next to the target and moved into place with
``os.replace``, so a failed export leaves nothing behind and a reader never sees a partial file.
Each format gets the types it can hold: GeoPackage, Shapefile and Excel get real date columns;
CSV gets text only (UTF-8 with a byte-order mark so that Excel shows Cyrillic) with the geometry as
WKT; KML, GeoJSON and FlatGeobuf get ISO date strings. Values a format would silently cut (a
Shapefile text over 254 bytes, an Excel cell over 32,767 characters, any text with a NUL
character) are refused with a message instead.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import shutil
import tempfile
import warnings
import zipfile
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyogrio.errors
import shapely
from pyogrio import raw

from landrelease.domain.records import Scalar
from landrelease.domain.schema import Field, FieldType, GeometryKind, Layer
from landrelease.errors import InvalidInput
from landrelease.formats import shapefile
from landrelease.formats.drivers import Format, format_for_writing

#: Name of the geometry column in CSV and Excel exports.
WKT_COLUMN = "wkt"
EXCEL_CELL_LIMIT = 32_767
DBF_TEXT_LIMIT = 254

#: Formats with a real date type (FlatGeobuf only has date-times, so it gets ISO text).
_DATE_TYPED = {"GPKG", "ESRI Shapefile", "XLSX"}
_TABULAR = {"CSV", "XLSX"}
_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", shapefile.SIDECAR_SUFFIX, ".qix", ".sbn", ".sbx")
_INT32 = (-(2**31), 2**31 - 1)
_TEXT_TYPES = {str, type(None)}


@dataclass(frozen=True)
class Written:
    """What was written, for the message to the user."""

    path: Path
    driver: str
    features: int
    #: Each column's name -> its name in the file (they differ only in Shapefiles, cut to 10 letters).
    field_names: Mapping[str, str]


def write_layer(
    path: Path,
    layer: Layer,
    ids: Sequence[str],
    geometries: Sequence[Any] | npt.NDArray[np.object_] | None,
    columns: Mapping[str, Sequence[Scalar]],
    *,
    fields: Sequence[str] | None = None,
    include_personal: bool = False,
    overwrite: bool = False,
) -> Written:
    """Write records of ``layer`` to ``path`` in the format its extension names.

    ``ids[i]``, ``geometries[i]`` (WGS84 shapely geometries or ``None``; may be ``None`` for a layer
    without geometry) and ``columns[name][i]`` describe record ``i``. The file has an ``id`` column,
    then ``fields`` (default: every field of the layer, without personal ones unless
    ``include_personal``), then, in CSV and Excel, the geometry as ``wkt``. Polygons are written as
    MultiPolygons. Raises ``InvalidInput`` for an existing file (unless ``overwrite``), a value of
    the wrong type or that the format would truncate, or an unsupported extension.
    """
    path = Path(path)
    fmt = format_for_writing(path)
    count = len(ids)
    chosen = _choose_fields(layer, columns, fields, include_personal)
    _check_target(path, fmt, overwrite)
    _check_ids(ids)
    for name in chosen:
        if len(columns[name.name]) != count:
            raise InvalidInput(f"{len(columns[name.name])} values given for {name.name!r} but {count} ids")
    geoms = _geometries(layer, geometries, ids)
    driver = fmt.driver
    names = ["id", *(f.name for f in chosen)]
    if driver in _TABULAR:
        names.append(WKT_COLUMN)
    if len(set(names)) != len(names):
        raise InvalidInput(f"{layer.name}: a field may not be called 'id' or '{WKT_COLUMN}'")
    renamed = shapefile.short_names(names) if driver == "ESRI Shapefile" else {n: n for n in names}
    data, masks = _field_arrays(chosen, ids, columns, driver)
    if driver in _TABULAR:
        data.append(_wkt_column(geoms, driver, ids))
        masks.append(None)
    if driver == "ESRI Shapefile":
        _check_dbf_text(names, data, ids)
    _check_text(names, data, ids)
    _write_atomically(path, fmt, layer, geoms, data, masks, [renamed[n] for n in names], renamed, overwrite)
    return Written(path=path, driver=driver, features=count, field_names=renamed)


# --- checks -------------------------------------------------------------------------------------------


def _choose_fields(
    layer: Layer,
    columns: Mapping[str, Sequence[Scalar]],
    fields: Sequence[str] | None,
    include_personal: bool,
) -> list[Field]:
    if layer.personal and not include_personal:
        raise InvalidInput(f"the {layer.name} layer holds personal data: exporting it needs explicit permission")
    unknown = sorted(set(columns) - set(layer.field_names))
    if unknown:
        raise InvalidInput(f"{layer.name} has no field called {', '.join(map(repr, unknown))}")
    if fields is None:
        chosen = [f for f in layer.fields if include_personal or not f.personal]
    else:
        missing = [n for n in fields if n not in layer.field_names]
        if missing:
            raise InvalidInput(f"{layer.name} has no field called {', '.join(map(repr, missing))}")
        chosen = [layer.field(n) for n in fields]
        personal = [f.name for f in chosen if f.personal and not include_personal]
        if personal:
            raise InvalidInput(f"{', '.join(personal)}: personal data, exported only with explicit permission")
    absent = [f.name for f in chosen if f.name not in columns]
    if absent:
        raise InvalidInput(f"no values given for {', '.join(absent)} (pass fields= to export fewer fields)")
    return chosen


def _existing(path: Path, fmt: Format) -> list[Path]:
    if fmt.extension == ".shp":
        return [p for p in (path.with_suffix(s) for s in (".shp", ".shx", ".dbf")) if p.exists()]
    return [path] if path.exists() else []


def _check_target(path: Path, fmt: Format, overwrite: bool) -> None:
    if not path.parent.is_dir():
        raise InvalidInput(f"cannot write {path.name}: the folder {path.parent} does not exist")
    existing = _existing(path, fmt)
    if existing and not overwrite:
        raise InvalidInput(f"{existing[0].name} already exists: choose another name or allow overwriting")
    if path.is_dir():
        raise InvalidInput(f"cannot write {path.name}: it is a folder")


def _check_ids(ids: Sequence[str]) -> None:
    for record_id in ids:
        if not isinstance(record_id, str) or not record_id:
            raise InvalidInput(f"record ids must be non-empty text, not {record_id!r}")
    if len(set(ids)) != len(ids):
        twice = next(record_id for record_id, n in Counter(ids).items() if n > 1)
        raise InvalidInput(f"record id {twice} appears twice")


def _geometries(layer: Layer, geometries: Any, ids: Sequence[str]) -> npt.NDArray[np.object_]:
    """Geometries as the layer's kind requires (Polygon promoted to MultiPolygon; empty -> None)."""
    count = len(ids)
    if geometries is None:
        geoms = np.full(count, None, dtype=object)
    else:
        geoms = np.empty(count, dtype=object)
        if len(geometries) != count:
            raise InvalidInput(f"{len(geometries)} geometries given for {count} ids")
        geoms[:] = list(geometries)
    geoms[shapely.is_empty(geoms)] = None
    types = shapely.get_type_id(geoms)  # -1 for None
    allowed = {GeometryKind.POLYGON: (3, 6), GeometryKind.POINT: (0,), GeometryKind.NONE: ()}[layer.geometry]
    wrong = np.flatnonzero((types != -1) & ~np.isin(types, allowed))
    if wrong.size:
        i = int(wrong[0])
        expected = {GeometryKind.POLYGON: "polygons", GeometryKind.POINT: "points"}.get(layer.geometry, "no geometry")
        raise InvalidInput(f"{ids[i]}: a {geoms[i].geom_type} in the {layer.name} layer, which holds {expected}")
    polygons = np.flatnonzero(types == 3)
    if polygons.size:
        geoms[polygons] = shapely.multipolygons(geoms[polygons], indices=np.arange(polygons.size))
    return geoms


def _check_text(names: list[str], data: list[npt.NDArray[Any]], ids: Sequence[str]) -> None:
    for name, values in zip(names, data, strict=True):
        if values.dtype == object and "\x00" in "".join(v for v in values.tolist() if v.__class__ is str):
            i = next(i for i, v in enumerate(values) if isinstance(v, str) and "\x00" in v)
            raise InvalidInput(f"{ids[i]}: {name} contains a NUL character, which no format can hold")


def _check_dbf_text(names: list[str], data: list[npt.NDArray[Any]], ids: Sequence[str]) -> None:
    for name, values in zip(names, data, strict=True):
        if values.dtype == object:
            for i, v in enumerate(values):
                if isinstance(v, str) and len(v.encode("utf-8")) > DBF_TEXT_LIMIT:
                    raise InvalidInput(
                        f"{ids[i]}: {name} is too long for a Shapefile ({DBF_TEXT_LIMIT} bytes at most); "
                        "export to GeoPackage instead"
                    )


# --- values -------------------------------------------------------------------------------------------


def _wrong(record_id: str, f: Field, value: object) -> InvalidInput:
    return InvalidInput(f"{record_id}: {f.name} holds {value!r}, which is not a {f.type.value.lower()} value")


def _as_text(f: Field, value: Scalar, record_id: str) -> str | None:
    """A value as CSV text: exact (shortest round-trip floats, ISO dates, true/false)."""
    if value is None:
        return None
    if f.type is FieldType.BOOLEAN:
        if not isinstance(value, bool):
            raise _wrong(record_id, f, value)
        return "true" if value else "false"
    if f.type is FieldType.INTEGER:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _wrong(record_id, f, value)
        return str(value)
    if f.type is FieldType.REAL:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise _wrong(record_id, f, value)
        return repr(float(value))
    if f.type is FieldType.DATE:
        _date(f, value, record_id)
    elif not isinstance(value, str):
        raise _wrong(record_id, f, value)
    return str(value)


def _date(f: Field, value: Scalar, record_id: str) -> dt.date:
    if not isinstance(value, str):
        raise _wrong(record_id, f, value)
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{record_id}: {f.name} holds {value!r}, not a date (yyyy-mm-dd)") from None


def _typed(f: Field, values: Sequence[Scalar], ids: Sequence[str], driver: str) -> tuple[Any, Any]:
    """One column as a numpy array (and null mask) of the type the format should store."""
    nulls = np.array([v is None for v in values], dtype=bool)
    if f.type is FieldType.INTEGER:
        for i, v in enumerate(values):
            if v is not None and (isinstance(v, bool) or not isinstance(v, int)):
                raise _wrong(ids[i], f, v)
        ints = [0 if v is None else int(v) for v in values]
        # int32 where it fits: KML's schema has no 64-bit integers and would make them text
        small = all(_INT32[0] <= v <= _INT32[1] for v in ints)
        return np.array(ints, dtype=np.int32 if small else np.int64), nulls
    if f.type is FieldType.REAL:
        for i, v in enumerate(values):
            if v is not None and (isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v)):
                raise _wrong(ids[i], f, v)
        floats = [math.nan if v is None else float(v) for v in values]
        return np.array(floats, dtype=np.float64), None
    if f.type is FieldType.BOOLEAN:
        for i, v in enumerate(values):
            if v is not None and not isinstance(v, bool):
                raise _wrong(ids[i], f, v)
        return np.array([bool(v) for v in values], dtype=bool), nulls
    if f.type is FieldType.DATE and driver in _DATE_TYPED:
        days = [None if v is None else _date(f, v, ids[i]) for i, v in enumerate(values)]
        return np.array(["NaT" if d is None else d.isoformat() for d in days], dtype="datetime64[D]"), None
    return _text_array(f, values, ids), None


def _text_array(f: Field, values: Sequence[Scalar], ids: Sequence[str]) -> npt.NDArray[np.object_]:
    texts = np.empty(len(values), dtype=object)
    if f.type is FieldType.TEXT and {type(v) for v in values} <= _TEXT_TYPES:
        texts[:] = list(values)  # the common case, checked at once
    else:
        texts[:] = [_as_text(f, v, ids[i]) for i, v in enumerate(values)]
    return texts


def _field_arrays(
    chosen: list[Field], ids: Sequence[str], columns: Mapping[str, Sequence[Scalar]], driver: str
) -> tuple[list[npt.NDArray[Any]], list[npt.NDArray[np.bool_] | None]]:
    id_column = np.empty(len(ids), dtype=object)
    id_column[:] = list(ids)
    data: list[npt.NDArray[Any]] = [id_column]
    masks: list[npt.NDArray[np.bool_] | None] = [None]
    for f in chosen:
        if driver == "CSV":
            values, mask = _text_array(f, columns[f.name], ids), None
        else:
            values, mask = _typed(f, columns[f.name], ids, driver)
        data.append(values)
        masks.append(mask)
    return data, masks


def _wkt_column(geoms: npt.NDArray[np.object_], driver: str, ids: Sequence[str]) -> npt.NDArray[np.object_]:
    texts = np.asarray(shapely.to_wkt(geoms, rounding_precision=-1, output_dimension=2), dtype=object)
    if driver == "XLSX":
        for i, text in enumerate(texts):
            if text is not None and len(text) > EXCEL_CELL_LIMIT:
                raise InvalidInput(
                    f"{ids[i]}: its geometry is too detailed for an Excel cell ({len(text):,} characters, "
                    f"Excel holds {EXCEL_CELL_LIMIT:,}); export to GeoPackage, GeoJSON or CSV instead"
                )
    return texts


# --- writing ------------------------------------------------------------------------------------------


def _gdal_write(
    target: Path,
    fmt: Format,
    layer: Layer,
    geoms: npt.NDArray[np.object_],
    data: list[npt.NDArray[Any]],
    masks: list[npt.NDArray[np.bool_] | None],
    names: list[str],
) -> None:
    driver = fmt.driver
    kind = layer.geometry
    options: dict[str, str] = {}
    # a Shapefile without geometry would be a lone .dbf: it gets null points instead
    if driver in _TABULAR or (kind is GeometryKind.NONE and driver != "ESRI Shapefile"):
        wkb, geometry_type, crs = None, None, None
    else:
        wkb = shapely.to_wkb(geoms, output_dimension=2)
        geometry_type = "MultiPolygon" if kind is GeometryKind.POLYGON else "Point"
        crs = "EPSG:4326"
    if driver == "CSV":
        options["WRITE_BOM"] = "YES"
    elif driver == "GPKG":
        options["DESCRIPTION"] = layer.title
    elif driver == "FlatGeobuf" and bool(shapely.is_missing(geoms).any()):
        # its spatial index cannot hold null geometries (and would reorder the rows anyway)
        options["SPATIAL_INDEX"] = "NO"
    elif driver == "ESRI Shapefile":
        options["ENCODING"] = "UTF-8"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # GDAL notes; every loss is refused above
        raw.write(
            target,
            wkb,
            data,
            names,
            field_mask=masks,
            layer=layer.name,
            driver=driver,
            geometry_type=geometry_type,
            crs=crs,
            layer_options=options or None,
        )


def _write_atomically(
    path: Path,
    fmt: Format,
    layer: Layer,
    geoms: npt.NDArray[np.object_],
    data: list[npt.NDArray[Any]],
    masks: list[npt.NDArray[np.bool_] | None],
    names: list[str],
    renamed: Mapping[str, str],
    overwrite: bool,
) -> None:
    folder = Path(tempfile.mkdtemp(prefix=f".{path.stem}-", suffix=".partial", dir=path.parent))
    try:
        shapefile_like = fmt.extension in (".zip", ".shp")
        target = folder / (path.stem + ".shp" if shapefile_like else path.name)
        try:
            _gdal_write(target, fmt, layer, geoms, data, masks, names)
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, pyogrio.errors.FeatureError,
                pyogrio.errors.FieldError, pyogrio.errors.GeometryError) as e:  # fmt: skip
            reason = str(e).replace(str(folder) + "/", "").strip().splitlines()[0][:200]
            raise InvalidInput(f"could not write {path.name} as {fmt.label}: {reason}") from None
        if shapefile_like:
            labels = {f.name: f.label for f in layer.fields}
            shapefile.write_sidecar(target, {k: v for k, v in renamed.items() if k != v}, labels)
        if fmt.extension == ".zip":
            parts = sorted(folder.iterdir())
            bundle = folder / path.name
            with zipfile.ZipFile(bundle, "w", zipfile.ZIP_DEFLATED) as zf:
                for part in parts:
                    zf.write(part, part.name)
            os.replace(bundle, path)
        elif fmt.extension == ".shp":
            produced = {p.name for p in folder.iterdir()}
            if overwrite:
                for suffix in _SHAPEFILE_PARTS:
                    stale = path.with_name(path.stem + suffix)
                    if stale.name not in produced and stale.exists():
                        stale.unlink()
            # the .shp last: a reader looking for it finds the other parts already in place
            for name in sorted(produced, key=lambda n: n.endswith(".shp")):
                os.replace(folder / name, path.with_name(name))
        else:
            os.replace(target, path)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
