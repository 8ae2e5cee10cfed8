"""Reading a table of grid cells for the risk model (CSV with lat/lon or WKT columns)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import shapely

from landrelease.analysis.risk.cells import CellTable, parse_label
from landrelease.errors import InvalidInput, UnreadableFile
from landrelease.formats.encoding import detect_text_encoding
from landrelease.formats.tabular import (
    LAT_NAMES,
    LON_NAMES,
    WKT_NAMES,
    find_geometry_columns,
    geometry_from_columns,
    normalise,
)

MAX_LEVELS = 50  # a text column with more distinct values than this is a name or an identifier, not a covariate
MISSING = ("na", "n/a", "nan", "null", "none")
POSITION_NAMES = frozenset(LAT_NAMES + LON_NAMES + WKT_NAMES)


def read_cells(path: Path, label: str | None, group: str | None) -> CellTable:
    """The cells of ``path``. ``label`` may be absent from the file only if it is ``None`` (prediction).

    Every other column that is not a position is a covariate: numeric if every filled value is a number,
    categorical otherwise (text columns that look like names or identifiers are left out).
    """
    if path.suffix.lower() not in (".csv", ".txt"):
        raise InvalidInput(f"{path.name}: cells are read from CSV files (with latitude/longitude or WKT columns)")
    try:
        with path.open(encoding=_encoding(path), newline="") as f:
            sample = f.read(64 * 1024)
            f.seek(0)
            try:
                dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
            except csv.Error:
                dialect = csv.excel
            reader = csv.reader(f, dialect)
            header = next(reader, None)
            rows = list(reader)
    except FileNotFoundError:
        raise UnreadableFile(f"{path}: no such file") from None
    except (OSError, UnicodeError, csv.Error) as exc:
        raise UnreadableFile(f"{path.name}: cannot be read as CSV ({exc})") from None
    if not header or not rows:
        raise InvalidInput(f"{path.name}: no cells (the file has no data rows)")
    width = len(header)
    bad = next((i for i, r in enumerate(rows) if len(r) != width), None)
    if bad is not None:
        raise InvalidInput(f"{path.name}: row {bad + 1} has {len(rows[bad])} values, the header {width}")
    columns = {name: [r[i] for r in rows] for i, name in enumerate(header)}
    for wanted, what in ((label, "--label"), (group, "--group")):
        if wanted is not None and wanted not in columns:
            raise InvalidInput(f"{path.name}: no column {wanted!r} ({what}); columns are {', '.join(header[:12])}...")
    lat, lon = _positions(path, header, columns)
    labels = np.full(len(rows), -1, dtype=np.int8)
    if label is not None and label in columns:
        for i, value in enumerate(columns[label]):
            parsed = parse_label(value)
            if parsed is None:
                raise InvalidInput(
                    f"{path.name}: row {i + 1}: {label} is {value!r}; use 1 (mines found), 0 (surveyed, none found) "
                    "or -1/empty (unknown)"
                )
            labels[i] = parsed
    groups = None if group is None else np.array([v.strip() for v in columns[group]], dtype=np.str_)
    numeric: dict[str, np.ndarray] = {}
    categorical: dict[str, np.ndarray] = {}
    for name, values in columns.items():
        if name in (label, group) or normalise(name) in POSITION_NAMES:
            continue
        as_numbers = _numbers(values)
        if as_numbers is not None:
            numeric[name] = as_numbers
        else:
            text = np.array([v.strip() for v in values], dtype=np.str_)
            if np.unique(text).size <= MAX_LEVELS:
                categorical[name] = text
    return CellTable(lat, lon, labels, groups, numeric, categorical, row=np.arange(1, len(rows) + 1))


def _encoding(path: Path) -> str:
    """UTF-8 when the file decodes as such (most do, and checking is fast), else the detected code page."""
    try:
        path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        return detect_text_encoding(path)
    return "utf-8-sig"


def _numbers(values: list[str]) -> np.ndarray | None:
    """The column as floats (NaN where empty), or ``None`` if a filled value is not a number."""
    try:
        out = np.array(values, dtype=np.float64)  # the usual case: every value a plain number
    except ValueError:
        out = np.full(len(values), np.nan)
        for i, value in enumerate(values):
            text = value.strip()
            if not text or text.lower() in MISSING:
                continue
            try:
                out[i] = float(text)
            except ValueError:
                return None
    filled = out[~np.isnan(out)]
    return out if filled.size and np.isfinite(filled).all() else None


def _positions(path: Path, header: list[str], columns: dict[str, list[str]]) -> tuple[np.ndarray, np.ndarray]:
    """Latitude and longitude of every cell (a WKT polygon's centroid); a cell without one is an error."""
    found = find_geometry_columns([h for h in header if normalise(h) not in WKT_NAMES])
    if found.lat is None:
        found = find_geometry_columns(header)
    if found.wkt is None and found.lat is None:
        raise InvalidInput(
            f"{path.name}: no position columns (latitude/longitude such as LATITUD_Y/LONGITUD_X, or WKT)"
        )
    geoms, problems = geometry_from_columns(found, columns, len(next(iter(columns.values()))))
    bad = next((i for i, p in enumerate(problems) if p is not None), None)
    if bad is not None:
        raise InvalidInput(f"{path.name}: row {bad + 1}: {problems[bad]}")
    points = shapely.centroid(geoms.astype(object))
    lon, lat = shapely.get_x(points), shapely.get_y(points)
    if np.isnan(lat).any():
        i = int(np.flatnonzero(np.isnan(lat))[0])
        raise InvalidInput(f"{path.name}: row {i + 1}: empty geometry")
    return np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64)


def write_risk(
    path: Path,
    cells: CellTable,
    risk: np.ndarray,
    drivers: list[list[tuple[str, float]]],
    top: int,
) -> None:
    """Cells with their risk and top covariates: a GeoPackage of points, or a CSV (by the extension)."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".gpkg"):
        raise InvalidInput(f"{path.name}: write risk to a .gpkg (GeoPackage) or .csv file")
    fields: dict[str, np.ndarray] = {
        "row": np.asarray(cells.row if cells.row is not None else np.arange(1, len(cells) + 1), dtype=np.int64),
    }
    if cells.groups is not None:
        fields["group"] = cells.groups.astype(object)
    fields["latitude"] = cells.lat
    fields["longitude"] = cells.lon
    fields["risk"] = np.round(risk, 5)
    for k in range(top):
        fields[f"driver_{k + 1}"] = np.array([d[k][0] if len(d) > k else "" for d in drivers], dtype=object)
        fields[f"effect_{k + 1}"] = np.array([round(d[k][1], 4) if len(d) > k else np.nan for d in drivers])
    try:
        if suffix == ".csv":
            with path.open("w", encoding="utf-8", newline="") as f:
                writer = csv.writer(f)
                writer.writerow(list(fields))
                for values in zip(*fields.values(), strict=True):
                    writer.writerow(["" if isinstance(v, float) and np.isnan(v) else v for v in values])
            return
        import pyogrio.raw

        if path.exists():
            path.unlink()
        geometry = shapely.to_wkb(shapely.points(cells.lon, cells.lat))
        pyogrio.raw.write(
            str(path), geometry, list(fields.values()), list(fields), layer="risk", driver="GPKG",
            geometry_type="Point", crs="EPSG:4326",
        )  # fmt: skip
    except OSError as exc:
        raise UnreadableFile(f"{path}: cannot be written ({exc.strerror or exc})") from None


def write_cells(path: Path, cells: CellTable, label: str, group: str) -> None:
    """Cells as a CSV that ``read_cells`` reads back: latitude, longitude, the group, the label, covariates."""
    if path.suffix.lower() != ".csv":
        raise InvalidInput(f"{path.name}: cells are written as CSV (name the file .csv)")
    columns: dict[str, list[object]] = {
        "latitude": np.round(cells.lat, 7).tolist(),
        "longitude": np.round(cells.lon, 7).tolist(),
    }
    if cells.groups is not None:
        columns[group] = cells.groups.tolist()
    columns[label] = cells.label.tolist()
    for name, values in cells.numeric.items():
        columns[name] = ["" if np.isnan(v) else v for v in values.tolist()]
    for name, texts in cells.categorical.items():
        columns[name] = texts.tolist()
    try:
        with path.open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(list(columns))
            writer.writerows(zip(*columns.values(), strict=True))
    except OSError as exc:
        raise UnreadableFile(f"{path}: cannot be written ({exc.strerror or exc})") from None
