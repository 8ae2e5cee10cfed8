"""Users, roles, organisations, tokens, sessions, the personal data access log and submitted reports.

``open_accounts`` picks the backend from the database location, as ``landrelease.store.open_store`` does.
"""

from __future__ import annotations

from typing import Protocol

from landrelease.accounts.protocol import AccountStore, SubmissionStore


class Accounts(AccountStore, SubmissionStore, Protocol):
    """A backend holding both the accounts and the submissions (one database, like the national record)."""


def open_accounts(location: str) -> Accounts:
    """The accounts of the (existing) database at ``location``: their tables are made on first use in a
    GeoPackage, and come with the schema (migration 2) on PostGIS."""
    if location.startswith(("postgresql://", "postgres://")):
        try:
            from landrelease.store.postgis.accounts import PostGISAccounts
        except ImportError as error:  # psycopg is an optional dependency (the ``postgis`` extra)
            from landrelease.errors import StoreError

            raise StoreError(
                f"the PostGIS backend needs psycopg 3 ({error}); install it with: pip install 'landrelease[postgis]'"
            ) from None

        return PostGISAccounts.open(location)
    from landrelease.store.geopackage.accounts import GeoPackageAccounts

    return GeoPackageAccounts.open(location)


__all__ = ["AccountStore", "Accounts", "SubmissionStore", "open_accounts"]
