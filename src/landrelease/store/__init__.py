"""Storage adapters behind one typed protocol (``protocol.Store``).

``open_store`` picks the backend from the location: ``postgresql://...`` is a PostGIS server (loaded only
when asked for), anything else is a GeoPackage file.
"""

from __future__ import annotations

from landrelease.store.protocol import Store


def open_store(location: str, *, create: bool = False) -> Store:
    """Open the database at ``location``; with ``create`` make it (and its schema) if it is not there."""
    if location.startswith(("postgresql://", "postgres://")):
        from landrelease.errors import StoreError

        raise StoreError("the PostGIS backend is not available yet; use a GeoPackage file (.gpkg)")
    from landrelease.store.geopackage.store import GeoPackageStore

    return GeoPackageStore.open(location, create=create)


__all__ = ["Store", "open_store"]
