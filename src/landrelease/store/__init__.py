"""Storage adapters behind one typed protocol (``protocol.Store``).

``open_store`` picks the backend from the location: ``postgresql://...`` is a PostGIS server (loaded only
when asked for), anything else is a GeoPackage file. With ``read``, reads go to that streaming replica and
writes to ``location`` (``store.routing``, ``store.postgis.replication``); a replica that is unavailable or
more than ``max_lag`` seconds behind is bypassed (reads go to ``location``) with one warning.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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


@contextmanager
def creating(location: str) -> Iterator[Store]:
    """The database at ``location``, made if it is not there, for one block of writes (``migrate``) after
    which it is as it was if the block fails: on PostGIS, making the schema (and PostGIS) and the writes are
    one transaction; a GeoPackage file this made (absent or empty before) is removed (emptied) again. What
    existed before is never dropped or removed."""
    if location.startswith(("postgresql://", "postgres://")):
        try:
            from landrelease.store.postgis.store import PostGISStore
        except ImportError as error:
            from landrelease.errors import StoreError

            raise StoreError(
                f"the PostGIS backend needs psycopg 3 ({error}); install it with: pip install 'landrelease[postgis]'"
            ) from None
        with PostGISStore.creating(location) as store:
            yield store
        return
    path = Path(location)
    made = not path.exists()
    emptied = not made and path.is_file() and path.stat().st_size == 0  # what opening makes a GeoPackage of
    try:
        with open_store(location, create=True) as store:
            yield store
    except BaseException:
        if made:
            path.unlink(missing_ok=True)
        elif emptied:
            path.write_bytes(b"")
        raise


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


__all__ = ["Store", "creating", "open_store"]
