"""Storage adapters behind one typed protocol (``protocol.Store``).

``open_store`` picks the backend from the location: ``postgresql://...`` is a PostGIS server (loaded only
when asked for), anything else is a GeoPackage file.
"""

from __future__ import annotations

from landrelease.store.protocol import Store


def open_store(location: str, *, create: bool = False) -> Store:
    """Open the database at ``location``; with ``create`` make it (and its schema) if it is not there."""
    if location.startswith(("postgresql://", "postgres://")):
        try:
            from landrelease.store.postgis.store import PostGISStore
        except ImportError as error:  # psycopg is an optional dependency (the ``postgis`` extra)
            from landrelease.errors import StoreError

            raise StoreError(
                f"the PostGIS backend needs psycopg 3 ({error}); install it with: pip install 'landrelease[postgis]'"
            ) from None

        return PostGISStore.open(location, create=create)
    from landrelease.store.geopackage.store import GeoPackageStore

    return GeoPackageStore.open(location, create=create)


__all__ = ["Store", "open_store"]
