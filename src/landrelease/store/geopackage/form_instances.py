"""Field form submissions already seen (``landrelease.fieldforms.instances``), in a private
``lr_form_instances`` table of the GeoPackage, made on first use. Like the accounts tables it is registered
nowhere in ``gpkg_contents``.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from landrelease.errors import StoreError
from landrelease.fieldforms.instances import NEEDS_CORRECTION, SUBMITTED, SeenInstance
from landrelease.store.geopackage import connection

__all__ = ["NEEDS_CORRECTION", "SUBMITTED", "FormInstances", "SeenInstance"]

_TABLE = """
CREATE TABLE IF NOT EXISTS lr_form_instances (
  instance_id TEXT PRIMARY KEY NOT NULL,
  form TEXT NOT NULL,
  version TEXT,
  status TEXT NOT NULL,
  reason TEXT,
  reports TEXT NOT NULL,
  answers TEXT NOT NULL,
  updated_at TEXT NOT NULL
)
"""


class FormInstances:
    """The instance ledger of one landrelease GeoPackage (``FormInstanceStore``)."""

    def __init__(self, location: str) -> None:
        self.location = location
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = connection.connect(Path(location), create=False)
        try:
            with self._write() as conn:
                conn.execute(_TABLE)
        except BaseException:
            self.close()
            raise

    def _write(self) -> _Transaction:
        if self._conn is None:
            raise StoreError(f"the database {self.location} is closed")
        return _Transaction(self._conn, self._lock, self.location)

    def seen(self, instance_ids: Sequence[str]) -> dict[str, SeenInstance]:
        """The instances among ``instance_ids`` met before, by id."""
        if self._conn is None:
            raise StoreError(f"the database {self.location} is closed")
        found: dict[str, SeenInstance] = {}
        with self._lock:
            for start in range(0, len(instance_ids), 500):
                chunk = list(instance_ids[start : start + 500])
                marks = ",".join("?" * len(chunk))
                rows = self._conn.execute(
                    "SELECT instance_id, form, version, status, reason, reports, answers, updated_at "
                    f"FROM lr_form_instances WHERE instance_id IN ({marks})",
                    chunk,
                ).fetchall()
                for r in rows:
                    found[r[0]] = SeenInstance(
                        r[0], r[1], r[2], r[3], r[4], json.loads(r[5]), json.loads(r[6]), datetime.fromisoformat(r[7])
                    )
        return found

    def needing_correction(self, form: str | None = None) -> list[SeenInstance]:
        """Instances kept for correction (of one form, or all), the longest waiting first."""
        if self._conn is None:
            raise StoreError(f"the database {self.location} is closed")
        with self._lock:
            rows = self._conn.execute(
                "SELECT instance_id FROM lr_form_instances WHERE status = ? AND (? IS NULL OR form = ?) "
                "ORDER BY updated_at, instance_id",
                (NEEDS_CORRECTION, form, form),
            ).fetchall()
        ids = [r[0] for r in rows]
        found = self.seen(ids)
        return [found[i] for i in ids if i in found]

    def keep(self, instance: SeenInstance) -> None:
        """Record (or replace) what became of an instance."""
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO lr_form_instances "
                "(instance_id, form, version, status, reason, reports, answers, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    instance.instance_id,
                    instance.form,
                    instance.version,
                    instance.status,
                    instance.reason,
                    json.dumps(instance.reports),
                    json.dumps(instance.answers, ensure_ascii=False),
                    datetime.now(UTC).isoformat(),
                ),
            )

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


class _Transaction:
    def __init__(self, conn: sqlite3.Connection, lock: threading.Lock, location: str) -> None:
        self.conn, self.lock, self.location = conn, lock, location

    def __enter__(self) -> sqlite3.Connection:
        self.lock.acquire()
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as error:
            self.lock.release()
            raise connection.store_error(self.location, error) from None
        return self.conn

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: object) -> None:
        try:
            if kind is None:
                self.conn.execute("COMMIT")
            elif self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
        except sqlite3.Error as exc:
            raise connection.store_error(self.location, exc) from None
        finally:
            self.lock.release()
        if isinstance(error, sqlite3.Error):
            raise connection.store_error(self.location, error) from None
