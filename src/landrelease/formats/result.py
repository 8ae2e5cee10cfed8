"""What reading a file gives: its features as found, and what is known about the file."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

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
    """The features of one layer of a file, with what the user should be told about the file.

    Held as columns, as GDAL gives them (a national file's import never needs a dict per feature);
    ``features`` gives them one by one."""

    #: Each feature's geometry (``RawFeature.geometry``), in file order.
    geometries: list[BaseGeometry | None]
    #: Why each feature's geometry could not be parsed, or None (``RawFeature.problem``).
    problems: list[str | None]
    #: Attribute values by field, one per feature (``RawFeature.properties``), in ``field_names`` order.
    columns: dict[str, list[Scalar]]
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

    def __len__(self) -> int:
        return len(self.geometries)

    @cached_property
    def features(self) -> list[RawFeature]:
        """The features one by one, properties as dicts."""
        names = list(self.columns)
        if names:
            # The outer zip checks the columns' lengths; each tuple then has one value per name.
            properties = [dict(zip(names, values, strict=False)) for values in zip(*self.columns.values(), strict=True)]
        else:
            properties = [{} for _ in self.geometries]
        return [
            RawFeature(i, g, p, why)
            for i, (g, p, why) in enumerate(zip(self.geometries, properties, self.problems, strict=True))
        ]
