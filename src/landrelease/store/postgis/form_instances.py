"""Field form submissions already seen (``landrelease.fieldforms.instances``), in the ``lr_form_instances``
table of a PostGIS database (``schema.FORM_INSTANCES``, migration 3: opening upgrades an older database).

Same semantics as the GeoPackage backend (tests/fieldforms/test_instances_contract.py runs on both). Two
imports of the same export on two machines may race: ``keep`` is an upsert, the last one wins, as on
the GeoPackage.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from types import TracebackType
from typing import Any

from psycopg.types.json import Json

from landrelease.errors import InvalidInput
from landrelease.fieldforms.instances import NEEDS_CORRECTION, SeenInstance
from landrelease.store.postgis import connection

_COLUMNS = "instance_id, form, version, status, reason, reports, answers, updated_at"


def _seen(row: Sequence[Any]) -> SeenInstance:
    return SeenInstance(row[0], row[1], row[2], row[3], row[4], list(row[5]), dict(row[6]), row[7].astimezone(UTC))


def _text(value: str | None) -> str | None:
    """PostgreSQL text cannot hold NUL: a reason quoting such an answer shows it as U+2400 instead. (The
    ``json`` columns keep it, escaped, and keep the answers' order, as the GeoPackage's JSON text does.)"""
    return None if value is None else value.replace("\x00", "\u2400")


class PostGISFormInstances(connection.Connected):
    """The instance ledger of a landrelease PostGIS database (``FormInstanceStore``), on connections of its own."""

    @classmethod
    def open(cls, url: str) -> PostGISFormInstances:
        """Open the ledger of the landrelease database at ``url`` (which must exist; an older one is upgraded)."""
        return cls(connection.open_pool(url, create=False), connection.safe_location(url))

    def __enter__(self) -> PostGISFormInstances:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def seen(self, instance_ids: Sequence[str]) -> dict[str, SeenInstance]:
        wanted = [i for i in instance_ids if "\x00" not in i]  # such an id was never kept
        if not wanted:
            return {}
        with self._reading() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM lr_form_instances WHERE instance_id = ANY(%s)", (wanted,)
            ).fetchall()
        return {row[0]: _seen(row) for row in rows}

    def needing_correction(self, form: str | None = None) -> list[SeenInstance]:
        with self._reading() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM lr_form_instances WHERE status = %s AND (%s::text IS NULL OR form = %s) "
                'ORDER BY updated_at, instance_id COLLATE "C"',
                (NEEDS_CORRECTION, form, form),
            ).fetchall()
        return [_seen(row) for row in rows]

    def keep(self, instance: SeenInstance) -> None:
        if "\x00" in instance.instance_id:
            raise InvalidInput("an instance id contains a NUL character (\\x00), which the database cannot hold")
        with self._transaction() as conn:
            conn.execute(
                f"INSERT INTO lr_form_instances ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, clock_timestamp()) "
                "ON CONFLICT (instance_id) DO UPDATE SET form = EXCLUDED.form, version = EXCLUDED.version, "
                "status = EXCLUDED.status, reason = EXCLUDED.reason, reports = EXCLUDED.reports, "
                "answers = EXCLUDED.answers, updated_at = EXCLUDED.updated_at",
                (
                    instance.instance_id,
                    _text(instance.form),
                    _text(instance.version),
                    instance.status,
                    _text(instance.reason),
                    Json(instance.reports),
                    Json(instance.answers),
                ),
            )

    def __repr__(self) -> str:
        return f"PostGISFormInstances({self.location!r})"
