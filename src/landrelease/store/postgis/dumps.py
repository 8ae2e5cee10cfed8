"""``dump`` and ``load`` for the PostGIS store: whole histories read and written as they are, bypassing the
"new version" path (``landrelease.store.dumps``). Loads write with ``COPY``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import sql

from landrelease.domain.ledger import LedgerState
from landrelease.domain.records import Action, Change, Version
from landrelease.domain.schema import LAYERS, GeometryKind, Layer, layer_named
from landrelease.errors import InvalidInput
from landrelease.store.dumps import (
    SERVICE_ORDER,
    SERVICE_TABLES,
    LayerDump,
    ServiceDump,
    chunks,
    creation_order,
    steps,
)
from landrelease.store.geopackage import history
from landrelease.store.geopackage.attributes import rules_for
from landrelease.store.postgis import geometries, schema

Connection = psycopg.Connection[Any]
#: Opens a short read on one of the store's pooled connections: one per page, none held across yields.
Reading = Callable[[], AbstractContextManager[Connection]]
#: From this many current records a spatial layer's GiST index is built once after the load.
REBUILD_ROWS = 10_000
_HISTORY = ("record_id", "layer", "version", "action", "changed_at", "author", "reason", "attributes", "geom")


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


def dump(reading: Reading, layer_name: str) -> LayerDump:
    layer = layer_named(layer_name)
    derived_names = sorted(rules_for(layer).derived)
    table = sql.Identifier(layer.name)
    with reading() as conn:
        row = conn.execute("SELECT last_number FROM lr_counters WHERE layer = %s", (layer.name,)).fetchone()
        ids = [r[0] for r in conn.execute("SELECT DISTINCT record_id FROM lr_history WHERE layer = %s", (layer.name,))]
        counted = conn.execute("SELECT count(*) FROM lr_history WHERE layer = %s", (layer.name,)).fetchone()
        current = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(table)).fetchone()
        derived_rows = (
            conn.execute(
                sql.SQL("SELECT id, {} FROM {}").format(sql.SQL(", ").join(map(sql.Identifier, derived_names)), table)
            ).fetchall()
            if derived_names
            else []
        )
    return LayerDump(
        layer=layer.name,
        count=int(current[0]) if current else 0,
        version_count=int(counted[0]) if counted else 0,
        last_number=0 if row is None else int(row[0]),
        derived={r[0]: dict(zip(derived_names, r[1:], strict=True)) for r in derived_rows},
        versions=_versions(reading, layer, creation_order(ids)),
    )


def _versions(reading: Reading, layer: Layer, record_ids: list[str]) -> Iterator[Version]:
    names = rules_for(layer).names
    for chunk in chunks(record_ids):
        with reading() as conn:
            rows = conn.execute(
                "SELECT record_id, version, action, changed_at, author, reason, attributes, ST_AsBinary(geom) "
                "FROM lr_history WHERE record_id = ANY(%s::text[])",
                (chunk,),
            ).fetchall()
        order = {record_id: i for i, record_id in enumerate(chunk)}
        rows.sort(key=lambda r: (order[r[0]], r[1]))
        shapes = geometries.decode_many([r[7] for r in rows])
        for (record_id, version, action, at, author, reason, stored, _), shape in zip(rows, shapes, strict=True):
            yield Version(
                record_id=record_id,
                version=version,
                action=Action(action),
                change=Change(author=author, reason=reason, at=at),
                attributes={n: stored.get(n) for n in names},
                geometry=shape,
            )


def refuse_unless_empty(conn: Connection, location: str) -> None:
    """``InvalidInput`` if the database holds any record or history: a load never merges into data."""
    for table in [schema.HISTORY_TABLE, *(layer.name for layer in LAYERS.values())]:
        if conn.execute(sql.SQL("SELECT 1 FROM {} LIMIT 1").format(sql.Identifier(table))).fetchone() is not None:
            raise InvalidInput(f"{location} already holds records: load (or migrate) only into a new or empty database")


def _copy(conn: Connection, table: str, names: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, names))
    )
    with conn.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def load(
    conn: Connection,
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
        rebuild = spatial and dump.count >= REBUILD_ROWS
        if rebuild:
            # One sorted GiST build after the COPY is several times faster than growing it row by row; DDL is
            # transactional, so a failed load leaves the index as it was.
            conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(f"{layer.name}_geom_gist")))
        for step in steps(dump.versions):
            encoded, _ = geometries.check_and_encode(layer, [v.geometry for v in step.versions], dump.layer)
            _copy(
                conn,
                schema.HISTORY_TABLE,
                _HISTORY,
                (
                    (
                        v.record_id,
                        layer.name,
                        v.version,
                        v.action.value,
                        _utc(v.change.at),
                        v.change.author,
                        v.change.reason,
                        history.to_json(v.attributes),
                        g,
                    )
                    for v, g in zip(step.versions, encoded, strict=True)
                ),
            )
            current_rows = []
            for i in step.current:
                v = step.versions[i]
                derived = dump.derived.get(v.record_id, {})
                values = [derived.get(f) if f in derived else v.attributes.get(f) for f in fields]
                current_rows.append(
                    [v.record_id, v.version, _utc(v.change.at), v.change.author, *values]
                    + ([encoded[i]] if spatial else [])
                )
            _copy(conn, layer.name, names, current_rows)
            written += len(current_rows)
            if progress is not None:
                progress(len(step.versions))
        if rebuild:
            schema.create_spatial_index(conn, layer)
        if written != dump.count:
            raise InvalidInput(
                f"{dump.layer}: {dump.count} current records but {written} with a history; records added outside "
                "landrelease (e.g. in QGIS) have none: import them first"
            )
        conn.execute(
            "INSERT INTO lr_counters (layer, last_number) VALUES (%s, %s) "
            "ON CONFLICT (layer) DO UPDATE SET last_number = excluded.last_number",
            (layer.name, dump.last_number),
        )
    for key, value in ((schema.LEDGER_CHANGES, ledger.changes), (schema.LEDGER_SYNCED, ledger.synced)):
        conn.execute("UPDATE lr_meta SET value = %s WHERE key = %s", (value, key))


def dump_service(reading: Reading) -> ServiceDump:
    """The service's tables as rows (``dumps.SERVICE_TABLES``); payloads as the JSON text they were stored as."""
    rows: dict[str, list[tuple[object, ...]]] = {}
    with reading() as conn:
        for table, columns in SERVICE_TABLES.items():
            selected = sql.SQL(", ").join(
                sql.SQL("payload::text") if c == "payload" else sql.Identifier(c) for c in columns
            )
            order = sql.Identifier(SERVICE_ORDER.get(table, "fid"))
            query = sql.SQL("SELECT {} FROM {} ORDER BY {}").format(selected, sql.Identifier(table), order)
            rows[table] = [tuple(row) for row in conn.execute(query).fetchall()]
    return ServiceDump(rows)


def _load_service(conn: Connection, location: str, service: ServiceDump) -> None:
    for table in SERVICE_TABLES:
        if conn.execute(sql.SQL("SELECT 1 FROM {} LIMIT 1").format(sql.Identifier(table))).fetchone() is not None:
            raise InvalidInput(
                f"{location} already has users or submissions ({table}): migrate only into a new database"
            )
    for table, rows in service.rows.items():
        if rows:
            _copy(conn, table, SERVICE_TABLES[table], rows)
    # Submission ids are numbered from fid: the next one continues after the copied ones.
    conn.execute(
        "SELECT setval(pg_get_serial_sequence('lr_submissions', 'fid'), coalesce(max(fid), 1), max(fid) IS NOT NULL) "
        "FROM lr_submissions"
    )
