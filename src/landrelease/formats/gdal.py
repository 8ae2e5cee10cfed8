"""Reading one plain file through GDAL (pyogrio): checks, encoding, layer, values, geometry.

The checks of ``safety`` run first, always. GDAL's warnings are collected for the user, its errors
turned into one line in the user's terms with GDAL's own reason after a colon.
"""

from __future__ import annotations

import shutil
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import pyogrio.errors
from pyogrio import raw

from landrelease.domain.records import Scalar
from landrelease.errors import InvalidInput, UnreadableFile, UnsafeFile
from landrelease.formats import encoding as enc
from landrelease.formats import shapefile
from landrelease.formats.drivers import Format
from landrelease.formats.fields import column_values
from landrelease.formats.geometry import parse_crs, parse_wkb, to_wgs84
from landrelease.formats.result import ReadResult
from landrelease.formats.safety import Limits, check_kml, check_signature, check_size, check_xlsx
from landrelease.formats.tabular import find_geometry_columns, geometry_from_columns

_TABULAR = {"CSV", "XLSX"}
_MULTI_LAYER = {"GPKG", "LIBKML", "XLSX"}
_OPEN_OPTIONS: dict[str, dict[str, str]] = {
    # keep ISO date strings as they are instead of guessing date types from text
    "GeoJSON": {"DATE_AS_STRING": "YES"},
    # every column as text (the importer knows the types); a first row is always the header;
    # no 10 MB cap per line, so that detailed WKT polygons can be read (file size is capped)
    "CSV": {"HEADERS": "YES", "AUTODETECT_TYPE": "NO", "MAX_LINE_SIZE": "-1"},
    "XLSX": {"HEADERS": "FORCE", "FIELD_TYPES": "AUTO"},
}
#: The columns libkml adds for KML's own elements, with the values that mean "not set".
_KML_ELEMENTS: dict[str, tuple[Scalar, ...]] = {
    "Name": (), "id": (), "description": (), "timestamp": (), "begin": (), "end": (), "altitudeMode": (),
    "tessellate": (-1,), "extrude": (0,), "visibility": (-1,), "drawOrder": (), "icon": (), "snippet": (),
}  # fmt: skip
_PYOGRIO_ERRORS = (
    pyogrio.errors.DataSourceError,
    pyogrio.errors.DataLayerError,
    pyogrio.errors.FeatureError,
    pyogrio.errors.GeometryError,
    pyogrio.errors.FieldError,
    pyogrio.errors.CRSError,
)


def check_before_gdal(path: Path, fmt: Format, limits: Limits) -> None:
    """Every check a file must pass before GDAL may open it (see ``safety``)."""
    check_size(path, limits)
    if fmt.driver == "LIBKML":
        with path.open("rb") as f:
            check_kml(f, path.name)
    elif fmt.driver == "XLSX":
        check_xlsx(path, limits)
    else:
        check_signature(path, fmt.driver)
    if fmt.driver == "ESRI Shapefile":
        if enc.sidecar(path, ".shx") is None:
            raise UnreadableFile(
                f"{path.name}: its index {path.stem}.shx is missing (a Shapefile is a .shp, .shx and .dbf)"
            )
        for suffix in (".dbf", ".shx"):
            part = enc.sidecar(path, suffix)
            if part is not None:
                check_size(part, limits)


@contextmanager
def _gdal_warnings() -> Iterator[list[str]]:
    """Collect the warnings pyogrio raises for GDAL's, so they reach the user instead of stderr.

    (``warnings.catch_warnings`` swaps process-wide state; concurrent reads may mix their lists.)
    """
    messages: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield messages
    for w in caught:
        text = str(w.message).strip().splitlines()[0] if str(w.message).strip() else ""
        # an unclosed ring GDAL let through is reported on the feature itself
        if text and text not in messages and not text.startswith("Non closed ring detected"):
            messages.append(text)


_KNOWN_REASONS = (
    ("disk image is malformed", "the file is damaged or cut short"),
    ("file is not a database", "the file is damaged"),
    ("not recognized as being in a supported file format", "its content is not in this format"),
    ("Unterminated", "the file is cut short or damaged"),
)


def _gdal_reason(error: BaseException, path: Path) -> str:
    """GDAL's message cut to its reason (no SQL, no temporary paths), led by a plain explanation."""
    text = str(error).strip()
    text = text.splitlines()[0] if text else type(error).__name__
    for long, short in ((str(path), path.name), (str(path.parent) + "/", "")):
        text = text.replace(long, short)
    text = text.rsplit("failed: ", 1)[-1]
    parts = list(dict.fromkeys(p.strip() for p in text.split(";") if p.strip()))
    text = "; ".join(parts)[:160]
    for needle, plain in _KNOWN_REASONS:
        if needle in text:
            return f"{plain} ({text})"
    return text


def _choose_layer(path: Path, requested: str | None) -> tuple[str | None, tuple[str, ...]]:
    counts = layer_counts(path)
    layers = tuple(name for name, _ in counts)
    if requested is not None:
        if requested not in layers:
            listing = ", ".join(layers) or "none"
            raise InvalidInput(f"{path.name} has no layer called {requested!r}; its layers are: {listing}")
        return requested, layers
    nonempty = [name for name, count in counts if count != 0]
    first = nonempty or list(layers)
    return (first[0] if first else None), layers


#: The fewest bytes one feature can take in each format, to skip counting files too small to exceed
#: ``max_features`` (pyogrio pre-allocates ``max_features`` rows if asked to stop there, so it is not).
_MIN_FEATURE_BYTES = {"GeoJSON": 16, "CSV": 2, "LIBKML": 20, "ESRI Shapefile": 12}


def _check_feature_count(path: Path, driver: str, layer: str | None, limits: Limits) -> None:
    if path.stat().st_size // _MIN_FEATURE_BYTES.get(driver, 1) <= limits.max_features:
        return
    count = int(pyogrio.read_info(path, layer=layer, force_feature_count=True)["features"])
    if count > limits.max_features:
        raise UnsafeFile(f"{path.name} holds {count:,} features, more than the limit of {limits.max_features:,}")


def _text_encoding(path: Path, stack: ExitStack, given: str | None) -> tuple[Path, str]:
    """For a CSV: the file GDAL should read (UTF-8) and the encoding the original was in.

    Anything but UTF-8 is transcoded to a temporary UTF-8 copy: GDAL's CSV parser cannot read
    UTF-16, and for 8-bit code pages a streamed copy (0.2 s for 40 MB) is faster than pyogrio
    decoding every value in Python (4 s more for a million rows).
    """
    found = given or enc.detect_text_encoding(path)
    if found in ("utf-8", "utf-8-sig"):
        return path, found
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="landrelease-")))
    copy = folder / path.name
    try:
        with (
            path.open(encoding=found, newline="") as src,
            copy.open("w", encoding="utf-8", newline="") as dst,
        ):
            shutil.copyfileobj(src, dst, 1024**2)
    except UnicodeError as e:
        raise UnreadableFile(f"{path.name} is not valid {found} text ({e}); name its encoding") from None
    return copy, found


def read_file(path: Path, fmt: Format, layer: str | None, limits: Limits, given: str | None) -> ReadResult:
    """Read one layer of a plain (not zipped) file; ``given`` overrides the detected text encoding."""
    check_before_gdal(path, fmt, limits)
    driver = fmt.driver
    with ExitStack() as stack:
        gdal_path, encoding, found = path, None, None
        if driver == "CSV":
            gdal_path, found = _text_encoding(path, stack, given)
        elif driver == "ESRI Shapefile":
            encoding = given or enc.shapefile_encoding(path)[0]
            found = encoding
        elif driver == "LIBKML":
            # keep <Data name="кількість"> as is: libkml otherwise turns non-ASCII names into "_"
            pyogrio.set_gdal_config_options({"LIBKML_LAUNDER_FIELD_NAMES": "NO"})
        messages = stack.enter_context(_gdal_warnings())
        try:
            layers: tuple[str, ...] = ()
            if driver in _MULTI_LAYER:
                layer, layers = _choose_layer(gdal_path, layer)
                if layer is None:
                    raise UnreadableFile(f"{path.name} holds no layers")
            elif layer is not None and layer != path.stem:
                raise InvalidInput(f"{path.name} holds a single layer; it has no layer called {layer!r}")
            else:
                layer = None
            _check_feature_count(gdal_path, driver, layer, limits)
            meta, _fids, wkb, data = raw.read(
                gdal_path,
                layer=layer,
                encoding=encoding,
                read_geometry=driver not in _TABULAR,
                force_2d=True,
                datetime_as_string=True,
                **_OPEN_OPTIONS.get(driver, {}),
            )
        except _PYOGRIO_ERRORS as e:
            raise UnreadableFile(
                f"{path.name} could not be read as {fmt.label}: {_gdal_reason(e, gdal_path)}"
            ) from None
        except UnicodeDecodeError as e:
            raise UnreadableFile(
                f"{path.name}: its text is not {found or 'UTF-8'} ({e.reason}); name its encoding"
            ) from None
        stack.close()  # collect the warnings now
    return _result(path, fmt, layer, layers, meta, wkb, data, found, tuple(messages))


def _result(
    path: Path,
    fmt: Format,
    layer: str | None,
    layers: tuple[str, ...],
    meta: dict[str, Any],
    wkb: Any,
    data: Any,
    found_encoding: str | None,
    messages: tuple[str, ...],
) -> ReadResult:
    driver = fmt.driver
    names = [str(n) for n in meta["fields"]]
    count = len(wkb) if wkb is not None else (len(data[0]) if len(data) else 0)
    columns = {
        name: column_values(values, t, st, empty_is_null=driver in _TABULAR)
        for name, values, t, st in zip(names, data, meta["ogr_types"], meta["ogr_subtypes"], strict=True)
    }
    messages += _precision_warnings(names, data, meta["ogr_types"])
    if driver == "ESRI Shapefile" and enc.sidecar(path, ".dbf") is None:
        messages += (f"{path.stem}.dbf is missing: the features have no attributes",)
    if driver == "LIBKML":
        columns = _tidy_kml(columns)
    elif driver == "ESRI Shapefile":
        full = shapefile.read_sidecar(path, list(columns))
        columns = {full.get(n, n): v for n, v in columns.items()}
    geometry_columns: tuple[str, ...] = ()
    crs = None
    if driver in _TABULAR:
        found = find_geometry_columns(list(columns))
        geometry_columns = found.names
        if not geometry_columns and count == 0:
            raise UnreadableFile(
                f"{path.name} has no rows and no geometry columns (a column named wkt, or latitude "
                "and longitude columns)"
            )
        geoms, problems = geometry_from_columns(found, columns, count)
        columns = {n: v for n, v in columns.items() if n not in geometry_columns}
    else:
        crs = parse_crs(meta["crs"], path.name)
        geoms, problems = parse_wkb(wkb, count)
        geoms = to_wgs84(geoms, crs)
    return ReadResult(
        geometries=list(geoms),
        problems=list(problems),
        columns=columns,
        driver=driver,
        layer_name=layer if layer is not None else path.stem,
        source_crs=meta["crs"] or None,
        field_names=list(columns),
        layers=layers or (layer if layer is not None else path.stem,),
        encoding=found_encoding,
        geometry_columns=geometry_columns,
        warnings=messages,
    )


_EXACT_FLOAT_INT = 2**53


def _precision_warnings(names: list[str], data: Any, ogr_types: list[str]) -> tuple[str, ...]:
    """pyogrio returns an integer column that has empty cells as float64, exact only up to 2**53."""
    found = []
    for name, values, ogr_type in zip(names, data, ogr_types, strict=True):
        if (
            ogr_type == "OFTInteger64"
            and values.dtype.kind == "f"
            and np.nanmax(np.abs(values), initial=0) > _EXACT_FLOAT_INT
        ):
            found.append(
                f"{name}: whole numbers beyond {_EXACT_FLOAT_INT:,} in a column with empty cells may have lost "
                "their last digits"
            )
    return tuple(found)


def _tidy_kml(columns: dict[str, list[Scalar]]) -> dict[str, list[Scalar]]:
    """libkml adds a column per KML element (id, tessellate, visibility...): drop the ones left unset.

    Its ``Name`` column is the Placemark's ``<name>``, given back as ``name``.
    """
    tidy: dict[str, list[Scalar]] = {}
    for name, values in columns.items():
        unset = (None, "", *_KML_ELEMENTS.get(name, ()))
        if name in _KML_ELEMENTS and all(v in unset for v in values):
            continue
        tidy["name" if name == "Name" and "name" not in columns else name] = values
    return tidy


def layer_counts(path: Path) -> list[tuple[str, int]]:
    """Each layer of a multi-layer file with its number of features."""
    with _gdal_warnings():
        try:
            names = [str(name) for name in pyogrio.list_layers(path)[:, 0]]
            return [(n, int(pyogrio.read_info(path, layer=n, force_feature_count=True)["features"])) for n in names]
        except _PYOGRIO_ERRORS as e:
            raise UnreadableFile(f"{path.name} could not be read: {_gdal_reason(e, path)}") from None
