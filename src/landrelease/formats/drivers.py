"""The file formats the field uses, by extension: which GDAL driver reads and writes each one.

One table, so that error messages ("supported: ...") and the readers and writers never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from landrelease.errors import InvalidInput, UnreadableFile


@dataclass(frozen=True)
class Format:
    extension: str
    label: str
    #: GDAL driver used for this extension (the zip forms are unpacked first).
    driver: str
    readable: bool = True
    writable: bool = True


FORMATS: tuple[Format, ...] = (
    Format(".gpkg", "GeoPackage", "GPKG"),
    Format(".geojson", "GeoJSON", "GeoJSON"),
    Format(".json", "GeoJSON", "GeoJSON"),
    Format(".kml", "KML", "LIBKML"),
    Format(".kmz", "KMZ (zipped KML)", "LIBKML"),
    Format(".zip", "zipped Shapefile", "ESRI Shapefile"),
    Format(".shp", "Shapefile", "ESRI Shapefile"),
    Format(".csv", "CSV", "CSV"),
    Format(".fgb", "FlatGeobuf", "FlatGeobuf"),
    Format(".xlsx", "Excel workbook", "XLSX"),
)

_BY_EXTENSION = {f.extension: f for f in FORMATS}


def _listing(formats: tuple[Format, ...]) -> str:
    return ", ".join(f.extension for f in formats)


READABLE = tuple(f for f in FORMATS if f.readable)
WRITABLE = tuple(f for f in FORMATS if f.writable)


def format_for_reading(path: Path) -> Format:
    """The format of ``path`` judged by its extension, or ``UnreadableFile`` naming the supported ones."""
    fmt = _BY_EXTENSION.get(path.suffix.lower())
    if fmt is None or not fmt.readable:
        raise UnreadableFile(
            f"{path.name}: files ending in {path.suffix or '(no extension)'!r} cannot be read; "
            f"supported: {_listing(READABLE)}"
        )
    return fmt


def format_for_writing(path: Path) -> Format:
    """The format to write ``path`` in, or ``InvalidInput`` naming the supported ones."""
    fmt = _BY_EXTENSION.get(path.suffix.lower())
    if fmt is None or not fmt.writable:
        raise InvalidInput(
            f"{path.name}: cannot export to {path.suffix or '(no extension)'!r}; supported: {_listing(WRITABLE)}"
        )
    return fmt
