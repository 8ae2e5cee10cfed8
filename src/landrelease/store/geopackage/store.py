"""The embedded store: one GeoPackage 1.3 file, written with the standard library's ``sqlite3``.

The file is what QGIS and GDAL open: one table per layer holding only current records (with an R*Tree
spatial index), plus ``lr_history`` with every version of every record, retired ones included.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from itertools import repeat
from pathlib import Path
from types import TracebackType
from typing import Literal

import numpy as np
import numpy.typing as npt
from shapely.geometry.base import BaseGeometry

from landrelease.domain.ledger import LedgerState
from landrelease.domain.records import (
    Action,
    Change,
    Feature,
    NewFeature,
    NewFeatures,
    Scalar,
    Version,
    format_id,
    id_number,
    id_spans,
)
from landrelease.domain.schema import LAYERS, FieldType, GeometryKind, Layer, layer_named
from landrelease.errors import Conflict, InvalidInput, NotFound, StoreError
from landrelease.store import places
from landrelease.store.dumps import LayerDump, ServiceDump
from landrelease.store.geopackage import (
    blob,
    connection,
    dumps,
    geometries,
    history,
    outside_edits,
    rtree,
    schema,
    sql,
)
from landrelease.store.geopackage.attributes import AttributeRules, rules_for
from landrelease.store.protocol import KEEP, Geometries, Keep

#: From this many rows, ``add`` fills the R*Tree itself instead of through the per-row insert trigger.
BULK_ROWS = 256
#: Rows per query when iterating features (each page is one short read: no cursor stays open).
PAGE_ROWS = 2000


@dataclass(frozen=True)
class _Table:
    """SQL and rules for one layer, built once."""

    layer: Layer
    rules: AttributeRules
    spatial: bool
    #: All field names (derived included) in column order, as ``SELECT`` returns them after fid, id, version.
    fields: tuple[str, ...]
    booleans: tuple[str, ...]
    #: Quoted columns a read selects: fid, id, version, the fields, then the geometry if any.
    columns: tuple[str, ...]
    select: str

    @property
    def name(self) -> str:
        return self.layer.name


@cache
def _table(layer: Layer) -> _Table:
    rules = rules_for(layer)
    spatial = layer.geometry is not GeometryKind.NONE
    fields = layer.field_names
    columns = ["fid", "id", "version", *fields] + ([schema.GEOMETRY_COLUMN] if spatial else [])
    return _Table(
        layer=layer,
        rules=rules,
        spatial=spatial,
        fields=fields,
        booleans=tuple(f.name for f in layer.fields if f.type is FieldType.BOOLEAN),
        columns=tuple(map(sql.quote, columns)),
        select=f"SELECT {', '.join(map(sql.quote, columns))} FROM {sql.quote(layer.name)}",
    )


_BY_PREFIX = {layer.id_prefix: layer for layer in LAYERS.values()}


def _timestamp(at: datetime) -> str:
    """ISO 8601 in UTC with microseconds, e.g. 2024-05-01T09:30:00.000000Z (a naive time is taken as UTC)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class GeoPackageStore:
    """A national mine action database in one GeoPackage file (``landrelease.store.protocol.Store``).

    Safe to share between threads (calls are serialised); several processes may open the same file,
    writes wait for each other (SQLite locking).
    """

    location: str

    def __init__(self, conn: sqlite3.Connection, location: str) -> None:
        """Use ``GeoPackageStore.open``."""
        self._conn: sqlite3.Connection | None = conn
        self._lock = threading.RLock()
        self.location = location

    # --- opening -----------------------------------------------------------------------------------------

    @classmethod
    def open(cls, location: str | Path, *, create: bool = False) -> GeoPackageStore:
        """Open the GeoPackage at ``location``; with ``create`` make the file and its schema if absent."""
        path = Path(location)
        conn = connection.connect(path, create=create)
        return cls(conn, str(path))

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> GeoPackageStore:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"GeoPackageStore({self.location!r})"

    # --- plumbing ------------------------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"the database {self.location} is closed")
        return self._conn

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self._connection()
            except sqlite3.Error as error:
                raise connection.store_error(self.location, error) from None

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: everything in the block lands, or nothing does."""
        with self._lock:
            conn = self._connection()
            try:
                # IMMEDIATE takes the write lock now, so a read-modify-write cannot race another writer.
                conn.execute("BEGIN IMMEDIATE")
                yield conn
                conn.execute("COMMIT")
            except BaseException as error:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if isinstance(error, sqlite3.Error):
                    raise connection.store_error(self.location, error) from None
                raise

    # --- the protocol -------------------------------------------------------------------------------------

    def schema_version(self) -> int:
        with self._reading() as conn:
            version = schema.stored_version(conn)
        if version is None:
            raise StoreError(f"{self.location} has no landrelease schema version")
        return version

    def add(self, layer: str, features: Sequence[NewFeature], change: Change) -> list[str]:
        """Add features to a layer in one transaction; return their new ids in order."""
        return self.add_batch(layer, NewFeatures.of(features), change)

    def add_batch(self, layer: str, batch: NewFeatures, change: Change) -> list[str]:
        """Add a batch given as columns in one transaction; return the new ids in order.

        Everything is checked and encoded before the write starts; derived fields among the columns are
        ignored (those in ``batch.derived`` are written, unversioned).
        """
        table = _table(layer_named(layer))
        count = len(batch)
        if not count:
            return []
        filled, documents = table.rules.check_batch(batch)
        blobs, bounds = geometries.check_and_encode(table.layer, batch.geometries)
        at, author = _timestamp(change.at), change.author
        names = ["fid", "id", "version", "updated_at", "updated_by", *filled]
        names += [schema.GEOMETRY_COLUMN] if table.spatial else []
        with self._transaction() as conn:
            first = _allocate(conn, table, count)
            prefix = table.layer.id_prefix
            ids = [format_id(prefix, number) for number in range(first, first + count)]
            fid = _next_fid(conn, table.name)
            constant = (repeat(1, count), repeat(at, count), repeat(author, count))
            geometry = (blobs,) if table.spatial else ()
            rows = zip(range(fid, fid + count), ids, *constant, *filled.values(), *geometry, strict=True)
            bulk = table.spatial and count >= BULK_ROWS
            trigger = schema.insert_trigger_name(table.name)
            ledger_trigger = schema.ledger_insert_trigger(table.name)
            outside_trigger = outside_edits.insert_trigger(table.name)
            if bulk:
                # Index from the bounds we have instead of five Python SQL function calls per row in the
                # insert trigger, and count the ledger changes at once; the triggers are made again before
                # COMMIT (SQLite DDL is transactional), so no other connection ever sees the table without them.
                # The outside-edit trigger never fires for our rows (version 1) but costs a call per row (if a
                # program dropped it, it is made again here).
                conn.execute(f"DROP TRIGGER {sql.quote(trigger)}")
                conn.execute(f"DROP TRIGGER IF EXISTS {sql.quote(outside_trigger)}")
                if ledger_trigger is not None:
                    conn.execute(f"DROP TRIGGER {sql.quote(ledger_trigger)}")
            sql.insert_rows(conn, table.name, names, rows, count)
            if bulk:
                _index(conn, table, np.arange(fid, fid + count), bounds)
                conn.execute(schema.create_trigger_sql(table.name, trigger))
                conn.execute(outside_edits.triggers(table.layer)[outside_trigger])
                if ledger_trigger is not None:
                    conn.execute(
                        "UPDATE lr_meta SET value = CAST(value AS INTEGER) + ? WHERE key = ?",
                        (count, schema.LEDGER_CHANGES),
                    )
                    conn.execute(schema.create_ledger_trigger_sql(table.name, ledger_trigger))
            history_rows = zip(
                ids,
                repeat(table.name, count),
                repeat(1, count),
                repeat(Action.CREATE.value, count),
                repeat(at, count),
                repeat(author, count),
                repeat(change.reason, count),
                documents,
                blobs,
                strict=True,
            )
            sql.insert_rows(conn, schema.HISTORY_TABLE, history.COLUMNS, history_rows, count)
            _touch(conn, table, at, bounds)
        return ids

    def get(self, record_id: str) -> Feature:
        """The current version of a record; ``NotFound`` if there is none (saying so if it was retired)."""
        table = _table_of(record_id)
        with self._reading() as conn:
            row = conn.execute(f"{table.select} WHERE id = ?", (record_id,)).fetchone()
            if row is None:
                raise history.missing(conn, record_id)
        return _feature(table, row)

    def update(
        self,
        record_id: str,
        change: Change,
        attributes: Mapping[str, Scalar] | None = None,
        geometry: BaseGeometry | Literal[Keep.GEOMETRY] | None = KEEP,
        *,
        status_change: bool = False,
        expected_version: int | None = None,
    ) -> Feature:
        """Write a new version of a record: given attributes merge over the current ones (None clears one);
        ``geometry`` replaces the current one unless it is ``KEEP``; derived fields given are ignored.
        With ``expected_version``, a record changed by someone else since is refused (``Conflict``)."""
        table = _table_of(record_id)
        rules = table.rules
        changes = rules.check(attributes or {}, record_id)
        new_blob: bytes | None = None
        bounds = np.full((1, 4), np.nan)
        if geometry is not KEEP:
            blobs, bounds = geometries.check_and_encode(table.layer, [geometry], record_id)
            new_blob = blobs[0]
        at = _timestamp(change.at)
        action = Action.STATUS if status_change else Action.UPDATE
        with self._transaction() as conn:
            row = conn.execute(f"{table.select} WHERE id = ?", (record_id,)).fetchone()
            if row is None:
                raise history.missing(conn, record_id)
            current = _feature(table, row)
            if expected_version is not None and current.version != expected_version:
                raise Conflict(
                    f"{record_id} was changed by someone else (it is at version {current.version}, "
                    f"you edited version {expected_version}): reload it and apply your change again"
                )
            merged = rules.complete({**{n: current.attributes[n] for n in rules.names}, **changes}, record_id)
            version = current.version + 1
            assignments = ["version", "updated_at", "updated_by", *rules.names]
            values: list[object] = [version, at, change.author, *merged.values()]
            if geometry is KEEP:
                stored_blob = row[-1] if table.spatial else None
            else:
                assignments.append(schema.GEOMETRY_COLUMN)
                values.append(new_blob)
                stored_blob = new_blob
            conn.execute(
                f"UPDATE {sql.quote(table.name)} SET {', '.join(f'{sql.quote(a)} = ?' for a in assignments)} "
                "WHERE id = ?",
                (*values, record_id),
            )
            conn.execute(
                history.INSERT,
                (
                    record_id,
                    table.name,
                    version,
                    action.value,
                    at,
                    change.author,
                    change.reason,
                    history.to_json(merged),
                    stored_blob,
                ),
            )
            _touch(conn, table, at, bounds)
        derived = {n: current.attributes[n] for n in table.fields if n in rules.derived}
        return Feature(
            id=record_id,
            layer=table.name,
            attributes={n: merged[n] if n in merged else derived[n] for n in table.fields},
            geometry=current.geometry if geometry is KEEP else blob.decode(stored_blob),
            version=version,
        )

    def retire(self, record_id: str, change: Change) -> None:
        """Take a record out of its layer table; its history (and this retirement) stays in lr_history."""
        table = _table_of(record_id)
        at = _timestamp(change.at)
        with self._transaction() as conn:
            row = conn.execute(f"{table.select} WHERE id = ?", (record_id,)).fetchone()
            if row is None:
                raise history.missing(conn, record_id)
            current = _feature(table, row)
            conn.execute(
                history.INSERT,
                (
                    record_id,
                    table.name,
                    current.version + 1,
                    Action.RETIRE.value,
                    at,
                    change.author,
                    change.reason,
                    history.to_json({n: current.attributes[n] for n in table.rules.names}),
                    row[-1] if table.spatial else None,
                ),
            )
            conn.execute(f"DELETE FROM {sql.quote(table.name)} WHERE id = ?", (record_id,))
            _touch(conn, table, at, None)

    def history(self, record_id: str) -> list[Version]:
        """Every version of a record, oldest first (retired ones too); ``NotFound`` if the id was never used."""
        table = _table_of(record_id)
        with self._reading() as conn:
            return history.read(conn, record_id, table.rules.names)

    def features(self, layer: str, bbox: tuple[float, float, float, float] | None = None) -> Iterator[Feature]:
        """Current features of a layer in id (creation) order; with ``bbox`` (minx, miny, maxx, maxy) only
        those whose envelope meets it, found through the R*Tree."""
        table = _table(layer_named(layer))
        if bbox is not None and not table.spatial:
            raise InvalidInput(f"{table.name} has no geometry, so it cannot be filtered by a bounding box")
        return self._pages(table, bbox)

    def _pages(self, table: _Table, bbox: tuple[float, float, float, float] | None) -> Iterator[Feature]:
        # Keyset pages (fid > last): each page is a complete query, so no statement stays open between
        # yields and writes made meanwhile on this connection are safe.
        select = f"SELECT {', '.join('t.' + c for c in table.columns)} FROM {sql.quote(table.name)} AS t"
        if bbox is None:
            query = f"{select} WHERE t.fid > ? ORDER BY t.fid LIMIT {PAGE_ROWS}"
            parameters: tuple[float, ...] = ()
        else:
            minx, miny, maxx, maxy = bbox
            query = (
                f"{select} JOIN {sql.quote(schema.rtree_table(table.name))} AS r ON r.id = t.fid "
                "WHERE t.fid > ? AND r.minx <= ? AND r.maxx >= ? AND r.miny <= ? AND r.maxy >= ? "
                f"ORDER BY t.fid LIMIT {PAGE_ROWS}"
            )
            parameters = (maxx, minx, maxy, miny)
        last = -1
        while True:
            with self._reading() as conn:
                rows = conn.execute(query, (last, *parameters)).fetchall()
            for row in rows:
                # The R*Tree holds 32-bit boxes rounded outwards: check the exact envelope.
                if bbox is None or _meets(blob.envelope(row[-1]), bbox):
                    yield _feature(table, row)
            if len(rows) < PAGE_ROWS:
                return
            last = rows[-1][0]

    def count(self, layer: str) -> int:
        table = _table(layer_named(layer))
        with self._reading() as conn:
            result: int = conn.execute(f"SELECT count(*) FROM {sql.quote(table.name)}").fetchone()[0]
        return result

    def page(
        self,
        layer: str,
        *,
        equals: Mapping[str, Scalar] | None = None,
        bbox: tuple[float, float, float, float] | None = None,
        limit: int,
        offset: int = 0,
    ) -> tuple[list[Feature], int]:
        """One page in creation order and the number matched: SQL ``WHERE`` on the columns, the R*Tree for
        ``bbox``, ``LIMIT``/``OFFSET``; only the page's rows are decoded."""
        table = _table(layer_named(layer))
        where, parameters = _equals_sql(table, equals or {})
        if bbox is not None and not table.spatial:
            raise InvalidInput(f"{table.name} has no geometry, so it cannot be filtered by a bounding box")
        if limit < 0 or offset < 0:
            raise InvalidInput("limit and offset are counts: they cannot be negative")
        source = f"{sql.quote(table.name)} AS t"
        with self._reading() as conn:
            if bbox is None:
                total: int = conn.execute(f"SELECT count(*) FROM {source} WHERE {where}", parameters).fetchone()[0]
                select = f"SELECT {', '.join('t.' + c for c in table.columns)} FROM {source}"
                rows = conn.execute(
                    f"{select} WHERE {where} ORDER BY t.fid LIMIT ? OFFSET ?", (*parameters, limit, offset)
                ).fetchall()
                return [_feature(table, row) for row in rows], total
            # The R*Tree holds 32-bit boxes rounded outwards: its candidates are checked against the exact
            # envelope in the geometry's header (no geometry decoded) before counting and slicing.
            minx, miny, maxx, maxy = bbox
            candidates = conn.execute(
                f"SELECT t.fid, t.{sql.quote(schema.GEOMETRY_COLUMN)} FROM {source} "
                f"JOIN {sql.quote(schema.rtree_table(table.name))} AS r ON r.id = t.fid "
                f"WHERE {where} AND r.minx <= ? AND r.maxx >= ? AND r.miny <= ? AND r.maxy >= ? ORDER BY t.fid",
                (*parameters, maxx, minx, maxy, miny),
            ).fetchall()
            matched = [fid for fid, geometry in candidates if _meets(blob.envelope(geometry), bbox)]
            chosen = matched[offset : offset + limit]
            rows = []
            if chosen:
                marks = ", ".join("?" * len(chosen))
                rows = conn.execute(f"{table.select} WHERE fid IN ({marks}) ORDER BY fid", chosen).fetchall()
        return [_feature(table, row) for row in rows], len(matched)

    def columns(
        self, layer: str, names: Sequence[str], *, geometry: bool = True
    ) -> tuple[list[str], Geometries, dict[str, list[Scalar]]]:
        """Columnar read of a whole layer in id order: (ids, geometries, {name: values}).

        Geometries are decoded in one vectorised call; without ``geometry`` (or for a layer without
        geometry) the geometry array is empty.
        """
        table = _table(layer_named(layer))
        for name in names:
            if name not in table.fields:
                raise InvalidInput(f"{table.name} has no field called {name!r}; fields are: {', '.join(table.fields)}")
        with_geometry = geometry and table.spatial
        selected = ["id", *([schema.GEOMETRY_COLUMN] if with_geometry else []), *names]
        with self._reading() as conn:
            rows = conn.execute(
                f"SELECT {', '.join(map(sql.quote, selected))} FROM {sql.quote(table.name)} ORDER BY fid"
            ).fetchall()
        transposed = list(zip(*rows, strict=True)) if rows else [() for _ in selected]
        ids = list(transposed[0])
        shapes: Geometries = blob.decode_many(transposed[1]) if with_geometry else np.empty(0, dtype=object)
        offset = 2 if with_geometry else 1
        values: dict[str, list[Scalar]] = {}
        for i, name in enumerate(names):
            column = list(transposed[offset + i])
            if name in table.booleans:
                column = [None if v is None else bool(v) for v in column]
            values[name] = column
        return ids, shapes, values

    def polygons_at(self, layer: str, points: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.intp], list[str]]:
        """The records of a polygon layer each place lies in: an STRtree over the layer's current polygons
        (faster than the file's R*Tree for many places)."""
        checked = places.checked_points(layer, points)
        if not len(checked):
            return np.empty(0, dtype=np.intp), []
        ids, polygons, _ = self.columns(layer, [])
        return places.pairs_from_tree(ids, polygons, checked)

    def ledger_state(self) -> LedgerState:
        """Ledger-relevant changes counted so far, and how many the stored ledger figures account for."""
        with self._reading() as conn:
            rows = dict(
                conn.execute(
                    "SELECT key, CAST(value AS INTEGER) FROM lr_meta WHERE key IN (?, ?)",
                    (schema.LEDGER_CHANGES, schema.LEDGER_SYNCED),
                ).fetchall()
            )
        return LedgerState(int(rows.get(schema.LEDGER_CHANGES, 0)), int(rows.get(schema.LEDGER_SYNCED, 0)))

    def set_derived(
        self, layer: str, values: Mapping[str, Mapping[str, Scalar]], *, ledger_synced: int | None = None
    ) -> None:
        """Write derived fields (``{record_id: {field: value}}``) in one transaction, without new versions;
        with ``ledger_synced``, record in the same transaction that the figures account for that many changes."""
        table = _table(layer_named(layer))
        groups: dict[tuple[str, ...], list[tuple[Scalar, ...]]] = {}
        for record_id, fields in values.items():
            names = tuple(sorted(fields))
            if not names:
                continue
            checked = [table.rules.check_derived(n, fields[n], record_id) for n in names]
            groups.setdefault(names, []).append((*checked, record_id))
        if not groups and ledger_synced is None:
            return
        table_sql = sql.quote(table.name)
        with self._transaction() as conn:
            if ledger_synced is not None:
                conn.execute("UPDATE lr_meta SET value = ? WHERE key = ?", (str(ledger_synced), schema.LEDGER_SYNCED))
            for names, rows in groups.items():
                assignments = ", ".join(f"{sql.quote(n)} = ?" for n in names)
                cursor = conn.executemany(f"UPDATE {table_sql} SET {assignments} WHERE id = ?", rows)
                if cursor.rowcount == len(rows):
                    continue
                for row in rows:
                    if conn.execute(f"SELECT 1 FROM {table_sql} WHERE id = ?", (row[-1],)).fetchone() is None:
                        raise NotFound(f"no current record {row[-1]} in {table.name}")

    def dump(self, layer: str) -> LayerDump:
        """A whole layer, every version of every record, for ``load`` into another store (``dumps``)."""
        return dumps.dump(self._reading, layer)

    def dump_service(self) -> ServiceDump:
        """Users, tokens, sessions, the access log and submissions, for ``load`` into another store."""
        return dumps.dump_service(self._reading)

    def load(
        self,
        layers: Iterable[LayerDump],
        ledger: LedgerState,
        progress: Callable[[int], None] | None = None,
        service: ServiceDump | None = None,
    ) -> None:
        """Write dumped layers (and service records) as they were, in one transaction, into a file
        holding no records."""
        with self._transaction() as conn:
            dumps.load(conn, self.location, layers, ledger, progress, service)

    # --- not in the protocol ------------------------------------------------------------------------------

    def layer_exists(self, layer: str) -> bool:
        """Whether the file has a table for ``layer`` (a layer added to the schema after the file was made
        gets its table when the file is next opened)."""
        with self._reading() as conn:
            row = conn.execute(
                "SELECT 1 FROM gpkg_contents WHERE table_name = ?", (layer.replace("-", "_").lower(),)
            ).fetchone()
        return row is not None

    def tile(self, layer: str, z: int, x: int, y: int, properties: Sequence[str] = ()) -> bytes | None:
        """None: the service cuts this store's tiles from its in-process index (``protocol.TileSource``)."""
        return None


# --- helpers ----------------------------------------------------------------------------------------------


def _table_of(record_id: str) -> _Table:
    layer = _BY_PREFIX.get(record_id.split("-", 1)[0]) if isinstance(record_id, str) else None
    if layer is None:
        prefixes = ", ".join(_BY_PREFIX)
        raise NotFound(f"no record {record_id!r}: ids look like HZ-000001 (prefixes: {prefixes})")
    return _table(layer)


def _feature(table: _Table, row: Sequence[object]) -> Feature:
    values = row[3 : 3 + len(table.fields)]
    attributes: dict[str, Scalar] = dict(zip(table.fields, values, strict=True))  # type: ignore[arg-type]
    for name in table.booleans:
        if attributes[name] is not None:
            attributes[name] = bool(attributes[name])
    geometry = blob.decode(row[-1]) if table.spatial else None  # type: ignore[arg-type]
    version = row[2]
    assert isinstance(version, int) and isinstance(row[1], str)
    return Feature(id=row[1], layer=table.name, attributes=attributes, geometry=geometry, version=version)


def _equals_sql(table: _Table, equals: Mapping[str, Scalar]) -> tuple[str, list[Scalar]]:
    """``WHERE`` text and parameters for "field = value" on every pair (``1`` when there are none)."""
    for name in equals:
        if name not in table.fields:
            raise InvalidInput(f"{table.name} has no field called {name!r}; fields are: {', '.join(table.fields)}")
    terms = [f"t.{sql.quote(name)} = ?" for name in equals]
    return (" AND ".join(terms) or "1"), list(equals.values())


def _meets(box: blob.Envelope | None, bbox: tuple[float, float, float, float]) -> bool:
    if box is None:
        return False
    minx, maxx, miny, maxy = box
    return minx <= bbox[2] and maxx >= bbox[0] and miny <= bbox[3] and maxy >= bbox[1]


def _allocate(conn: sqlite3.Connection, table: _Table, count: int) -> int:
    """Reserve ``count`` record numbers for ``table``; return the first. Numbers are never given twice."""
    last = conn.execute("SELECT last_number FROM lr_counters WHERE layer = ?", (table.name,)).fetchone()
    number = 0 if last is None else int(last[0])
    # Rows another program (GDAL, QGIS) added with ids ahead of the counter must not be collided with. The
    # text max is cheap (the id index) and right while ids have six digits; past 999,999 text order is not
    # number order, so the ids about to be given are looked up too, and if one is taken the numbering
    # continues after the highest id there.
    table_name = sql.quote(table.name)
    prefix = table.layer.id_prefix
    top = conn.execute(f"SELECT max(id) FROM {table_name}").fetchone()[0]
    if isinstance(top, str) and top.startswith(prefix + "-") and (ahead := id_number(top)) is not None:
        number = max(number, ahead)
    taken = f"SELECT 1 FROM {table_name} WHERE id BETWEEN ? AND ? AND length(id) = ? LIMIT 1"
    if any(conn.execute(taken, span).fetchone() for span in id_spans(prefix, number + 1, number + count)):
        ids = conn.execute(f"SELECT id FROM {table_name} WHERE substr(id, 1, ?) = ?", (len(prefix) + 1, prefix + "-"))
        number = max([number, *(n for (i,) in ids if (n := id_number(i)) is not None)])
    conn.execute("INSERT OR REPLACE INTO lr_counters (layer, last_number) VALUES (?, ?)", (table.name, number + count))
    return number + 1


def _next_fid(conn: sqlite3.Connection, name: str) -> int:
    sequence = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (name,)).fetchone()
    top = conn.execute(f"SELECT max(fid) FROM {sql.quote(name)}").fetchone()[0]
    return max(0 if sequence is None else int(sequence[0]), top or 0) + 1


def _index(
    conn: sqlite3.Connection, table: _Table, fids: npt.NDArray[np.int64], bounds: npt.NDArray[np.float64]
) -> None:
    """Put new rows in the layer's R*Tree: a batch at least as large as the index rebuilds it packed
    (``rtree.load``), a smaller one is inserted row by row."""
    index = schema.rtree_table(table.name)
    present = ~np.isnan(bounds[:, 0])
    ids, boxes = fids[present], bounds[present][:, [0, 2, 1, 3]]
    if len(ids) >= rtree.entry_count(conn, index):
        rtree.load(conn, index, ids, boxes)
    else:
        conn.executemany(
            f"INSERT INTO {sql.quote(index)} VALUES (?, ?, ?, ?, ?)",
            zip(ids.tolist(), *boxes.T.tolist(), strict=True),
        )


def _touch(
    conn: sqlite3.Connection,
    table: _Table,
    at: str,
    bounds: npt.NDArray[np.float64] | None,
) -> None:
    """Record the change time and widen the layer extent in gpkg_contents (QGIS reads both)."""
    if bounds is None or np.isnan(bounds[:, 0]).all():
        conn.execute("UPDATE gpkg_contents SET last_change = ? WHERE table_name = ?", (at[:23] + "Z", table.name))
        return
    minx, miny = np.nanmin(bounds[:, 0]), np.nanmin(bounds[:, 1])
    maxx, maxy = np.nanmax(bounds[:, 2]), np.nanmax(bounds[:, 3])
    conn.execute(
        "UPDATE gpkg_contents SET last_change = :at, min_x = min(coalesce(min_x, :minx), :minx), "
        "min_y = min(coalesce(min_y, :miny), :miny), max_x = max(coalesce(max_x, :maxx), :maxx), "
        "max_y = max(coalesce(max_y, :maxy), :maxy) WHERE table_name = :name",
        {
            "at": at[:23] + "Z",
            "minx": float(minx),
            "miny": float(miny),
            "maxx": float(maxx),
            "maxy": float(maxy),
            "name": table.name,
        },
    )
