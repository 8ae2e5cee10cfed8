"""What reading a file gives: its features as found, and what is known about the file."""

from __future__ import annotations

from dataclasses import dataclass

from shapely.geometry.base import BaseGeometry

from landrelease.domain.records import Scalar


@dataclass(frozen=True)
class RawFeature:
    """One feature as the file holds it, before validation and mapping onto a layer."""

    #: 0-based position in the file, as users are told "feature 17".
    index: int
    #: In WGS84 lon/lat, 2D. ``None`` when the file has no geometry here or it could not be parsed.
    geometry: BaseGeometry | None
    #: Attribute values; dates and times as ISO 8601 strings.
    properties: dict[str, Scalar]
    #: Why a geometry present in the file could not be parsed (one line), else ``None``.
    problem: str | None = None


@dataclass(frozen=True)
class ReadResult:
    """The features of one layer of a file, with what the user should be told about the file."""

    features: list[RawFeature]
    #: The GDAL driver that read the data ("GPKG", "LIBKML", "ESRI Shapefile", "CSV", ...).
    driver: str
    #: The layer (or sheet, folder, zip member) that was read.
    layer_name: str
    #: The coordinate system the file declared, as GDAL reports it; ``None`` if none (taken as WGS84).
    source_crs: str | None
    field_names: list[str]
    #: Every layer the file holds, so a user can be told which one was read and pick another.
    layers: tuple[str, ...] = ()
    #: The text encoding used for CSV and Shapefile attributes.
    encoding: str | None = None
    #: CSV/Excel columns that were turned into the geometry (they are not in ``properties``).
    geometry_columns: tuple[str, ...] = ()
    #: GDAL's warnings while reading (e.g. unclosed rings it accepted), deduplicated.
    warnings: tuple[str, ...] = ()
