"""The embedded backend: a GeoPackage 1.3 file that QGIS and GDAL open as it is."""

from __future__ import annotations

from landrelease.store.geopackage.store import GeoPackageStore

__all__ = ["GeoPackageStore"]
