"""The server backend: PostgreSQL with PostGIS (psycopg 3), loaded only when a ``postgresql://`` URL is opened."""

from __future__ import annotations

from landrelease.store.postgis.store import PostGISStore

__all__ = ["PostGISStore"]
