"""``dump`` and ``load`` for the GeoPackage store: whole histories read and written as they are, bypassing
the "new version" path (``landrelease.store.dumps``)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime

import numpy as np

from landrelease.domain.ledger import LedgerState
from landrelease.domain.records import Action, Change, Version
from landrelease.domain.schema import LAYERS, GeometryKind, Layer, layer_named
from landrelease.errors import InvalidInput
from landrelease.store.dumps import (
    SERVICE_ORDER,
    SERVICE_TABLES,
    TIME_COLUMNS,
    LayerDump,
    ServiceDump,
    chunks,
    creation_order,
    steps,
)
from landrelease.store.geopackage import blob, geometries, history, schema, sql
from landrelease.store.geopackage.accounts import _TABLES as SERVICE_SCHEMA  # made on first use: so here too
from landrelease.store.geopackage.attributes import rules_for

#: Opens a short read on the store's connection (the store's lock held): one per page, none across yields.
Reading = Callable[[], AbstractContextManager[sqlite3.Connection]]


def _timestamp(at: datetime) -> str:
    """As the store writes change times: ISO 8601 in UTC with microseconds and a Z."""
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def dump(reading: Reading, layer_name: str) -> LayerDump:
    layer = layer_named(layer_name)
    derived_names = sorted(rules_for(layer).derived)
    table = sql.quote(layer.name)
    with reading() as conn:
        row = conn.execute("SELECT last_number FROM lr_counters WHERE layer = ?", (layer.name,)).fetchone()
        ids = [r[0] for r in conn.execute("SELECT DISTINCT record_id FROM lr_history WHERE layer = ?", (layer.name,))]
        version_count = conn.execute("SELECT count(*) FROM lr_history WHERE layer = ?", (layer.name,)).fetchone()[0]
        count = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        derived_rows = (
            conn.execute(f"SELECT id, {', '.join(map(sql.quote, derived_names))} FROM {table}").fetchall()
            if derived_names
            else []
        )
    derived = {r[0]: dict(zip(derived_names, r[1:], strict=True)) for r in derived_rows}
    return LayerDump(
        layer=layer.name,
        count=int(count),
        version_count=int(version_count),
        last_number=0 if row is None else int(row[0]),
        derived=derived,
        versions=_versions(reading, layer, creation_order(ids)),
    )


def _versions(reading: Reading, layer: Layer, record_ids: list[str]) -> Iterator[Version]:
    names = rules_for(layer).names
    for chunk in chunks(record_ids):
        with reading() as conn:
            rows = conn.execute(
                "SELECT record_id, version, action, changed_at, author, reason, attributes, geom FROM lr_history "
                f"WHERE record_id IN ({', '.join('?' * len(chunk))})",
                chunk,
            ).fetchall()
        order = {record_id: i for i, record_id in enumerate(chunk)}
        rows.sort(key=lambda r: (order[r[0]], r[1]))
        shapes = blob.decode_many([r[7] for r in rows])
        for (record_id, version, action, at, author, reason, attributes, _), shape in zip(rows, shapes, strict=True):
            stored = json.loads(attributes)
            yield Version(
                record_id=record_id,
                version=version,
                action=Action(action),
                change=Change(author=author, reason=reason, at=datetime.fromisoformat(at)),
                attributes={n: stored.get(n) for n in names},
                geometry=shape,
            )


def refuse_unless_empty(conn: sqlite3.Connection, location: str) -> None:
    """``InvalidInput`` if the file holds any record or history: a load never merges into data."""
    tables = [schema.HISTORY_TABLE, *(layer.name for layer in LAYERS.values())]
    for table in tables:
        if conn.execute(f"SELECT 1 FROM {sql.quote(table)} LIMIT 1").fetchone() is not None:
            raise InvalidInput(f"{location} already holds records: load (or migrate) only into a new or empty database")


def load(
    conn: sqlite3.Connection,
    location: str,
    layers: Iterable[LayerDump],
    ledger: LedgerState,
    progress: Callable[[int], None] | None,
    service: ServiceDump | None = None,
) -> None:
    """Write the dumps inside the caller's transaction (see ``Store.load``)."""
    refuse_unless_empty(conn, location)
    if service is not None:
        _load_service(conn, location, service)
    for dump in layers:
        layer = layer_named(dump.layer)
        spatial = layer.geometry is not GeometryKind.NONE
        fields = layer.field_names
        names = ["id", "version", "updated_at", "updated_by", *fields] + ([schema.GEOMETRY_COLUMN] if spatial else [])
        written = 0
        extent = np.array([np.inf, np.inf, -np.inf, -np.inf])
        last_change = ""
        for step in steps(dump.versions):
            blobs, bounds = geometries.check_and_encode(layer, [v.geometry for v in step.versions], dump.layer)
            times = [_timestamp(v.change.at) for v in step.versions]
            history_rows = [
                (
                    v.record_id,
                    layer.name,
                    v.version,
                    v.action.value,
                    at,
                    v.change.author,
                    v.change.reason,
                    history.to_json(v.attributes),
                    b,
                )
                for v, at, b in zip(step.versions, times, blobs, strict=True)
            ]
            sql.insert_rows(conn, schema.HISTORY_TABLE, history.COLUMNS, history_rows, len(history_rows))
            current_rows = []
            for i in step.current:
                v = step.versions[i]
                derived = dump.derived.get(v.record_id, {})
                values = [derived.get(f) if f in derived else v.attributes.get(f) for f in fields]
                row = [v.record_id, v.version, times[i], v.change.author, *values] + ([blobs[i]] if spatial else [])
                current_rows.append(row)
            sql.insert_rows(conn, layer.name, names, current_rows, len(current_rows))
            written += len(current_rows)
            if spatial and step.current:
                box = bounds[step.current]
                if not np.isnan(box[:, 0]).all():
                    low, high = np.nanmin(box[:, :2], axis=0), np.nanmax(box[:, 2:], axis=0)
                    extent = np.concatenate([np.fmin(extent[:2], low), np.fmax(extent[2:], high)])
            last_change = max(last_change, *times)
            if progress is not None:
                progress(len(step.versions))
        if written != dump.count:
            raise InvalidInput(
                f"{dump.layer}: {dump.count} current records but {written} with a history; records added outside "
                "landrelease (e.g. in QGIS) have none: import them first"
            )
        conn.execute(
            "INSERT OR REPLACE INTO lr_counters (layer, last_number) VALUES (?, ?)", (layer.name, dump.last_number)
        )
        if last_change:
            conn.execute(
                "UPDATE gpkg_contents SET last_change = ? WHERE table_name = ?", (last_change[:23] + "Z", layer.name)
            )
        if np.isfinite(extent).all():
            conn.execute(
                "UPDATE gpkg_contents SET min_x = ?, min_y = ?, max_x = ?, max_y = ? WHERE table_name = ?",
                (*map(float, extent), layer.name),
            )
    conn.executemany(
        "UPDATE lr_meta SET value = ? WHERE key = ?",
        [(str(ledger.changes), schema.LEDGER_CHANGES), (str(ledger.synced), schema.LEDGER_SYNCED)],
    )


def dump_service(reading: Reading) -> ServiceDump:
    """The service's tables as rows (``dumps.SERVICE_TABLES``); a file whose service never ran has none."""
    rows: dict[str, list[tuple[object, ...]]] = {}
    with reading() as conn:
        present = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        for table, columns in SERVICE_TABLES.items():
            if table not in present:
                rows[table] = []
                continue
            order = SERVICE_ORDER.get(table, "fid")
            fetched = conn.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}").fetchall()
            rows[table] = [
                tuple(
                    datetime.fromisoformat(v) if c in TIME_COLUMNS and isinstance(v, str) else v
                    for c, v in zip(columns, row, strict=True)
                )
                for row in fetched
            ]
    return ServiceDump(rows)


def _load_service(conn: sqlite3.Connection, location: str, service: ServiceDump) -> None:
    for statement in SERVICE_SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)
    for table in SERVICE_TABLES:
        if conn.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is not None:
            raise InvalidInput(
                f"{location} already has users or submissions ({table}): migrate only into a new database"
            )
    for table, rows in service.rows.items():
        columns = SERVICE_TABLES[table]
        written = [
            tuple(
                _timestamp(v) if c in TIME_COLUMNS and isinstance(v, datetime) else v
                for c, v in zip(columns, row, strict=True)
            )
            for row in rows
        ]
        if written:
            marks = ", ".join("?" * len(columns))
            conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", written)
