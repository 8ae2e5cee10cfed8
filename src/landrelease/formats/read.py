"""``read_features``: any file the field sends, as features in WGS84 with a reason for each bad one.

Every file passes the checks of ``safety`` before GDAL opens it; zips (zipped Shapefiles, KMZ) are
extracted into a temporary folder that is always removed. Reading is all-or-nothing at the file
level (``UnreadableFile``/``UnsafeFile``, one line in the user's terms) but never at the feature
level: a geometry that cannot be parsed leaves that feature's ``geometry`` ``None`` with a
``problem``, and the rest of the file is still read.
"""

from __future__ import annotations

import codecs
from dataclasses import replace
from pathlib import Path

from landrelease.errors import InvalidInput, UnreadableFile
from landrelease.formats import encoding as enc
from landrelease.formats.drivers import format_for_reading
from landrelease.formats.gdal import check_before_gdal, layer_counts, read_file
from landrelease.formats.result import RawFeature, ReadResult
from landrelease.formats.safety import DEFAULT_LIMITS, Limits, check_size, extracted_zip

__all__ = ["RawFeature", "ReadResult", "read_features"]

_KML = format_for_reading(Path("doc.kml"))
_ZIP_READABLE = (".shp", ".gpkg", ".geojson", ".json", ".kml", ".fgb", ".csv", ".xlsx")


def read_features(
    path: Path, *, layer: str | None = None, limits: Limits = DEFAULT_LIMITS, encoding: str | None = None
) -> ReadResult:
    """Read the features of one layer of ``path`` (the format is chosen by its extension).

    ``layer`` picks a layer of a GeoPackage or KML, a sheet of a workbook, or a file in a zip;
    by default the first non-empty one is read. ``encoding`` overrides the detected encoding of a
    CSV or a Shapefile's attributes (for when the detection guesses wrong). Raises ``UnreadableFile``
    (or ``UnsafeFile``, for files refused for safety) with a one-line message; ``InvalidInput`` if
    ``layer`` does not exist.
    """
    path = Path(path)
    fmt = format_for_reading(path)
    check_size(path, limits)
    if encoding is not None:
        try:
            encoding = codecs.lookup(encoding).name
            "".encode(encoding)  # refuses codecs that are not text encodings ("hex", "zlib")
        except LookupError:
            raise InvalidInput(f"unknown text encoding {encoding!r}") from None
    if fmt.extension == ".zip":
        return _read_zip(path, layer, limits, encoding)
    if fmt.extension == ".kmz":
        return _read_kmz(path, layer, limits)
    return read_file(path, fmt, layer, limits, encoding)


# --- containers ---------------------------------------------------------------------------------------


def _prefixed(archive: str, error: UnreadableFile) -> UnreadableFile:
    return type(error)(f"{archive}: {error.message}")


def _shape_count(shp: Path) -> int:
    """Records in a Shapefile, from its index (.shx: 100-byte header, 8 bytes a record)."""
    shx = enc.sidecar(shp, ".shx")
    return max((shx.stat().st_size - 100) // 8, 0) if shx else 1


def _read_zip(path: Path, layer: str | None, limits: Limits, encoding: str | None) -> ReadResult:
    with extracted_zip(path, limits) as folder:
        files = sorted(
            (p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in _ZIP_READABLE),
            key=lambda p: (p.suffix.lower() != ".shp", str(p.relative_to(folder)).lower()),
        )
        files = [p for p in files if "__MACOSX" not in p.parts and not p.name.startswith("._")]
        if not files:
            raise UnreadableFile(
                f"{path.name} holds no file that can be read (a zip may hold a Shapefile with its "
                f".dbf and .shx, or one of: {', '.join(_ZIP_READABLE[1:])})"
            )
        names = tuple(p.stem if p.suffix.lower() == ".shp" else p.name for p in files)
        inner_layer = layer
        if layer is not None and len(files) > 1:
            matches = [p for p, n in zip(files, names, strict=True) if layer.lower() in (n.lower(), p.name.lower())]
            if not matches:
                raise InvalidInput(f"{path.name} has no file or layer called {layer!r}; it holds: {', '.join(names)}")
            chosen, inner_layer = matches[0], None
        else:
            nonempty = [p for p in files if p.suffix.lower() != ".shp" or _shape_count(p) > 0]
            chosen = (nonempty or files)[0]
        try:
            result = read_file(chosen, format_for_reading(chosen), inner_layer, limits, encoding)
        except UnreadableFile as e:
            raise _prefixed(path.name, e) from None
        layers = names if len(files) > 1 else result.layers
        name = names[files.index(chosen)] if len(files) > 1 else result.layer_name
        return replace(result, layers=layers, layer_name=name)


def _read_kmz(path: Path, layer: str | None, limits: Limits) -> ReadResult:
    """A KMZ: its ``doc.kml`` and any other KML inside (libkml puts each layer in ``layers/*.kml``,
    linked from ``doc.kml``; a link between extracted files is not followed, so each file is read
    as a source of layers and the first non-empty layer, or the one asked for, is read)."""
    with extracted_zip(path, limits) as folder:
        kmls = sorted(
            (p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() == ".kml"),
            key=lambda p: (p.name.lower() != "doc.kml", len(p.relative_to(folder).parts), str(p).lower()),
        )
        if not kmls:
            raise UnreadableFile(f"{path.name} holds no KML document (doc.kml)")
        try:
            for kml in kmls:  # all of them, before GDAL parses any
                check_before_gdal(kml, _KML, limits)
            found: list[tuple[Path, str, int]] = [
                (kml, name, count) for kml in kmls for name, count in layer_counts(kml)
            ]
            chosen_layer: str | None
            if layer is not None:
                wanted = [(kml, name) for kml, name, _ in found if name == layer]
                if not wanted:
                    listing = ", ".join(name for _, name, _ in found) or "none"
                    raise InvalidInput(f"{path.name} has no layer called {layer!r}; its layers are: {listing}")
                chosen, chosen_layer = wanted[0]
            else:
                nonempty = [(kml, name) for kml, name, count in found if count != 0]
                chosen, chosen_layer = nonempty[0] if nonempty else (kmls[0], found[0][1] if found else None)
            result = read_file(chosen, _KML, chosen_layer, limits, None)
        except UnreadableFile as e:
            raise _prefixed(path.name, e) from None
        return replace(result, layers=tuple(name for _, name, _ in found) or result.layers)
