"""Storage adapters behind one typed protocol (``protocol.Store``).

``open_store`` picks the backend from the location: ``postgresql://...`` is a PostGIS server (loaded only
when asked for), anything else is a GeoPackage file. With ``read``, reads go to that streaming replica and
writes to ``location`` (``store.routing``, ``store.postgis.replication``); a replica that is unavailable or
more than ``max_lag`` seconds behind is bypassed (reads go to ``location``) with one warning.
"""

from __future__ import annotations

from landrelease.store.protocol import Store


def open_store(location: str, *, create: bool = False, read: str | None = None, max_lag: float | None = None) -> Store:
    """Open the database at ``location``; with ``create`` make it (and its schema) if it is not there.
    With ``read`` (a PostgreSQL replica's URL), reads go there and writes to ``location``; ``max_lag``:
    seconds behind the primary past which the replica is bypassed (default ``store.routing.MAX_LAG``)."""
    if read:
        return _open_replicated(location, read, create=create, max_lag=max_lag)
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


def _open_replicated(location: str, read: str, *, create: bool, max_lag: float | None) -> Store:
    from landrelease.errors import StoreError

    postgres = ("postgresql://", "postgres://")
    if not (location.startswith(postgres) and read.startswith(postgres)):
        raise StoreError(
            "--read-db needs PostgreSQL for both: --db postgresql://PRIMARY and --read-db postgresql://REPLICA"
        )
    try:
        from landrelease.store.postgis.replication import open_replicated
    except ImportError as error:  # psycopg is an optional dependency (the ``postgis`` extra)
        raise StoreError(
            f"the PostGIS backend needs psycopg 3 ({error}); install it with: pip install 'landrelease[postgis]'"
        ) from None

    if max_lag is None:
        return open_replicated(location, read, create=create)
    return open_replicated(location, read, create=create, max_lag=max_lag)


__all__ = ["Store", "open_store"]
