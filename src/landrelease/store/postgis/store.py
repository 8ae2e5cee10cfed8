"""The server store: PostgreSQL + PostGIS through psycopg 3 (``landrelease.store.protocol.Store``).

One table per layer holding only current records (``geom`` with a GiST index), ``lr_history`` with every
version of every record, ids from ``lr_counters``, and the ledger counted by triggers (``schema``). The
semantics, checks and messages are the embedded store's: both pass tests/store/test_contract.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from itertools import repeat
from operator import itemgetter
from types import TracebackType
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import psycopg
import shapely
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter
from shapely.geometry.base import BaseGeometry

from landrelease.domain.ledger import LEDGER_INPUTS, LedgerState
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
from landrelease.store import places as shared_places
from landrelease.store.dumps import LayerDump, ServiceDump
from landrelease.store.geopackage import history as json_history
from landrelease.store.geopackage.attributes import AttributeRules, rules_for
from landrelease.store.postgis import connection, dumps, geometries, places, schema, tiles
from landrelease.store.protocol import KEEP, Geometries, Keep

#: From this many rows, ``add`` writes with COPY instead of a pipelined INSERT per row.
BULK_ROWS = 256
#: From this many rows, and at least as many as the layer holds, ``add`` builds the GiST index again after
#: the COPY instead of inserting into it (it holds an exclusive lock on the layer until COMMIT).
REBUILD_ROWS = 10_000
#: Rows per query when iterating features (keyset pages: no cursor stays open between yields).
PAGE_ROWS = 2000

Connection = psycopg.Connection[Any]
_HISTORY_COLUMNS = ("record_id", "layer", "version", "action", "changed_at", "author", "reason", "attributes", "geom")


@dataclass(frozen=True)
class _Table:
    """SQL and rules for one layer, built once."""

    layer: Layer
    rules: AttributeRules
    spatial: bool
    #: All field names (derived included) in column order, as ``select`` returns them after fid, id, version.
    fields: tuple[str, ...]
    #: fid, id, version, the fields, then ``ST_AsBinary(geom)`` if the layer has a geometry.
    select: sql.Composed

    @property
    def name(self) -> str:
        return self.layer.name

    @property
    def ident(self) -> sql.Identifier:
        return sql.Identifier(self.layer.name)


@cache
def _table(layer: Layer) -> _Table:
    spatial = layer.geometry is not GeometryKind.NONE
    columns: list[sql.Composable] = [sql.Identifier(n) for n in ("fid", "id", "version", *layer.field_names)]
    if spatial:
        columns.append(sql.SQL("ST_AsBinary(geom)"))
    return _Table(
        layer=layer,
        rules=rules_for(layer),
        spatial=spatial,
        fields=layer.field_names,
        select=sql.SQL("SELECT {} FROM {}").format(sql.SQL(", ").join(columns), sql.Identifier(layer.name)),
    )


_BY_PREFIX = {layer.id_prefix: layer for layer in LAYERS.values()}


def _utc(at: datetime) -> datetime:
    """A change time as an aware datetime (a naive one is taken as UTC); microseconds are kept."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


class PostGISStore(connection.Connected):
    """A national mine action database on a PostgreSQL server with PostGIS.

    A pool of connections per store (``connection.Connected``): threads read and write side by side, each
    write transaction on a connection of its own; many processes and servers may open the same database:
    writes lock the rows they change (``SELECT ... FOR UPDATE``).
    """

    # --- opening -----------------------------------------------------------------------------------------

    @classmethod
    def open(cls, url: str, *, create: bool = False) -> PostGISStore:
        """Open the database at ``url``; with ``create`` make our schema (and PostGIS) in it if absent."""
        return cls(connection.open_pool(url, create=create), connection.safe_location(url))

    @classmethod
    @contextmanager
    def creating(cls, url: str) -> Iterator[PostGISStore]:
        """The database at ``url``, with our schema made if absent, where that and every write in the block
        are one transaction (``connection.creating``): a failed block leaves the database as it was."""
        location = connection.safe_location(url)
        store: PostGISStore | None = None
        try:
            with connection.creating(url) as conn:
                store = cls(connection.Held(conn), location)
                yield store
        finally:
            if store is not None:
                store.close()

    def __enter__(self) -> PostGISStore:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"PostGISStore({self.location!r})"

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
        """Add a batch given as columns in one transaction; return the new ids in order (COPY for big
        batches).

        Everything is checked and encoded before the write starts; derived fields among the columns are
        ignored (those in ``batch.derived`` are written, unversioned).
        """
        table = _table(layer_named(layer))
        count = len(batch)
        if not count:
            return []
        filled, documents = table.rules.check_batch(batch)
        encoded = geometries.encode(table.layer, batch.geometries)
        at, author = _utc(change.at), change.author
        names = ["id", "version", "updated_at", "updated_by", *filled] + (["geom"] if table.spatial else [])
        with self._transaction() as conn:
            first = _allocate(conn, table, count)
            ids = [format_id(table.layer.id_prefix, number) for number in range(first, first + count)]
            geometry = [encoded] if table.spatial else []
            rebuild = table.spatial and count >= REBUILD_ROWS and count >= _estimated_rows(conn, table)
            counted = False
            if rebuild:
                # Building the GiST index once, sorted, is several times faster than growing it row by row.
                # DDL is transactional: other sessions wait for this transaction, never see the layer unindexed.
                conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(f"{table.name}_geom_gist")))
                # The layer is locked already: count the ledger changes at once rather than through the insert
                # trigger, whose transition table would hold (and spill to disk) a copy of every new row.
                counted = _pause_ledger_trigger(conn, table)
            _insert(conn, table.name, names, [ids, _Same(1), _Same(at), _Same(author), *filled.values(), *geometry])
            history_columns: list[Sequence[object] | _Same] = [
                ids,
                _Same(table.name),
                _Same(1),
                _Same(Action.CREATE.value),
                _Same(at),
                _Same(author),
                _Same(change.reason),
                documents,
                encoded,
            ]
            _insert(conn, schema.HISTORY_TABLE, _HISTORY_COLUMNS, history_columns)
            if rebuild:
                schema.create_spatial_index(conn, table.layer)
                if counted:
                    _resume_ledger_trigger(conn, table, count)
        return ids

    def get(self, record_id: str) -> Feature:
        """The current version of a record; ``NotFound`` if there is none (saying so if it was retired)."""
        table = _table_of(record_id)
        with self._reading() as conn:
            row = conn.execute(table.select + sql.SQL(" WHERE id = %s"), (record_id,)).fetchone()
            if row is None:
                raise _missing(conn, record_id)
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
        new_geometry: BaseGeometry | None = None
        new_ewkb: str | None = None
        if geometry is not KEEP:
            encoded, checked = geometries.check_and_encode(table.layer, [geometry], record_id)
            new_ewkb, new_geometry = encoded[0], checked[0]
        at = _utc(change.at)
        action = Action.STATUS if status_change else Action.UPDATE
        with self._transaction() as conn:
            # The row lock makes read-check-write atomic: a concurrent update waits, then sees our version.
            row = conn.execute(table.select + sql.SQL(" WHERE id = %s FOR UPDATE"), (record_id,)).fetchone()
            if row is None:
                raise _missing(conn, record_id)
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
            if geometry is not KEEP:
                assignments.append("geom")
                values.append(new_ewkb)
            conn.execute(
                sql.SQL("UPDATE {} SET {} WHERE id = %s").format(
                    table.ident, sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(a)) for a in assignments)
                ),
                (*values, record_id),
            )
            _write_history(conn, table, record_id, version, action, change, at, json_history.to_json(merged))
        derived = {n: current.attributes[n] for n in table.fields if n in rules.derived}
        return Feature(
            id=record_id,
            layer=table.name,
            attributes={n: merged[n] if n in merged else derived[n] for n in table.fields},
            geometry=current.geometry if geometry is KEEP else new_geometry,
            version=version,
        )

    def retire(self, record_id: str, change: Change) -> None:
        """Take a record out of its layer table; its history (and this retirement) stays in lr_history."""
        table = _table_of(record_id)
        at = _utc(change.at)
        with self._transaction() as conn:
            row = conn.execute(table.select + sql.SQL(" WHERE id = %s FOR UPDATE"), (record_id,)).fetchone()
            if row is None:
                raise _missing(conn, record_id)
            current = _feature(table, row)
            attributes = json_history.to_json({n: current.attributes[n] for n in table.rules.names})
            _write_history(conn, table, record_id, current.version + 1, Action.RETIRE, change, at, attributes)
            conn.execute(sql.SQL("DELETE FROM {} WHERE id = %s").format(table.ident), (record_id,))

    def history(self, record_id: str) -> list[Version]:
        """Every version of a record, oldest first (retired ones too); ``NotFound`` if the id was never used."""
        table = _table_of(record_id)
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT version, action, changed_at, author, reason, attributes, ST_AsBinary(geom) FROM lr_history "
                "WHERE record_id = %s ORDER BY version",
                (record_id,),
            ).fetchall()
        if not rows:
            raise NotFound(f"no record {record_id}")
        shapes = geometries.decode_many([row[6] for row in rows])
        names = table.rules.names
        return [
            Version(
                record_id=record_id,
                version=version,
                action=Action(action),
                change=Change(author=author, reason=reason, at=changed_at),
                attributes={n: stored.get(n) for n in names},
                geometry=shape,
            )
            for (version, action, changed_at, author, reason, stored, _), shape in zip(rows, shapes, strict=True)
        ]

    def features(self, layer: str, bbox: tuple[float, float, float, float] | None = None) -> Iterator[Feature]:
        """Current features of a layer in creation order; with ``bbox`` (minx, miny, maxx, maxy) only those
        whose envelope meets it, found through the GiST index (``&&``)."""
        table = _table(layer_named(layer))
        if bbox is not None and not table.spatial:
            raise InvalidInput(f"{table.name} has no geometry, so it cannot be filtered by a bounding box")
        return self._pages(table, bbox)

    def _pages(self, table: _Table, bbox: tuple[float, float, float, float] | None) -> Iterator[Feature]:
        query = features_query(table.name, bbox is not None)
        parameters = () if bbox is None else tuple(float(v) for v in bbox)
        last = -1
        while True:
            with self._reading() as conn:
                rows = conn.execute(query, (last, *parameters)).fetchall()
            features = [_feature(table, row) for row in rows]
            if bbox is not None and features:
                # The index compares single-precision boxes rounded outwards: check the exact envelope.
                bounds = shapely.bounds(np.array([f.geometry for f in features], dtype=object))
                meets = (bounds[:, 0] <= bbox[2]) & (bounds[:, 2] >= bbox[0])
                meets &= (bounds[:, 1] <= bbox[3]) & (bounds[:, 3] >= bbox[1])
                features = [f for f, keep in zip(features, meets.tolist(), strict=True) if keep]
            yield from features
            if len(rows) < PAGE_ROWS:
                return
            last = rows[-1][0]

    def count(self, layer: str) -> int:
        table = _table(layer_named(layer))
        with self._reading() as conn:
            row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(table.ident)).fetchone()
        return int(row[0]) if row else 0

    def page(
        self,
        layer: str,
        *,
        equals: Mapping[str, Scalar] | None = None,
        bbox: tuple[float, float, float, float] | None = None,
        limit: int,
        offset: int = 0,
    ) -> tuple[list[Feature], int]:
        """One page in creation order and the number matched: ``WHERE`` on the columns, ``&&`` (the GiST
        index) then the exact envelope for ``bbox``, ``LIMIT``/``OFFSET``, and a ``count``."""
        table = _table(layer_named(layer))
        equals = equals or {}
        for name in equals:
            if name not in table.fields:
                raise InvalidInput(f"{table.name} has no field called {name!r}; fields are: {', '.join(table.fields)}")
        if bbox is not None and not table.spatial:
            raise InvalidInput(f"{table.name} has no geometry, so it cannot be filtered by a bounding box")
        if limit < 0 or offset < 0:
            raise InvalidInput("limit and offset are counts: they cannot be negative")
        if any(isinstance(v, str) and "\x00" in v for v in equals.values()):
            return [], 0  # PostgreSQL text cannot hold NUL, so nothing equals it (and it cannot be sent)
        terms: list[sql.Composable] = [sql.SQL("{} = %s").format(sql.Identifier(n)) for n in equals]
        parameters: list[object] = list(equals.values())
        if bbox is not None:
            # ``&&`` compares the index's single-precision boxes, rounded outwards: the exact envelope decides.
            terms.append(
                sql.SQL(
                    "geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326) AND ST_XMin(geom) <= %s AND ST_XMax(geom) >= %s "
                    "AND ST_YMin(geom) <= %s AND ST_YMax(geom) >= %s"
                )
            )
            minx, miny, maxx, maxy = (float(v) for v in bbox)
            parameters += [minx, miny, maxx, maxy, maxx, minx, maxy, miny]
        where = sql.SQL(" WHERE ") + sql.SQL(" AND ").join(terms) if terms else sql.SQL("")
        with self._reading() as conn:
            counted = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(table.ident) + where, parameters)
            row = counted.fetchone()
            total = int(row[0]) if row else 0
            rows = conn.execute(
                table.select + where + sql.SQL(" ORDER BY fid LIMIT %s OFFSET %s"), [*parameters, limit, offset]
            ).fetchall()
        return [_feature(table, r) for r in rows], total

    def columns(
        self, layer: str, names: Sequence[str], *, geometry: bool = True
    ) -> tuple[list[str], Geometries, dict[str, list[Scalar]]]:
        """Columnar read of a whole layer in creation order: (ids, geometries, {name: values}); geometries
        come as WKB and are decoded in one vectorised call."""
        table = _table(layer_named(layer))
        for name in names:
            if name not in table.fields:
                raise InvalidInput(f"{table.name} has no field called {name!r}; fields are: {', '.join(table.fields)}")
        with_geometry = geometry and table.spatial
        selected: list[sql.Composable] = [sql.Identifier("fid"), sql.Identifier("id")]
        if with_geometry:
            selected.append(sql.SQL("ST_AsBinary(geom)"))
        # Dates as ISO text, as everywhere in the domain (and read by psycopg's C text loader).
        selected += [
            sql.SQL("{}::text").format(sql.Identifier(n))
            if table.layer.field(n).type is FieldType.DATE
            else sql.Identifier(n)
            for n in names
        ]
        # Binary results: WKB comes as bytes (not hex text) and figures as doubles (not decimal text). No
        # ORDER BY: once rows have been updated the heap is out of fid order, and a sequential scan sorted
        # here is several times faster than walking the primary key (0.05 s against 0.23 s for 100,000).
        with self._reading() as conn, conn.cursor(binary=True) as cursor:
            rows = cursor.execute(
                sql.SQL("SELECT {} FROM {}").format(sql.SQL(", ").join(selected), table.ident)
            ).fetchall()
        rows.sort(key=itemgetter(0))  # by fid; a run of sorted rows costs timsort one pass
        transposed: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [() for _ in selected]
        ids = list(transposed[1])
        shapes = geometries.decode_many(transposed[2]) if with_geometry else np.empty(0, dtype=object)
        offset = 3 if with_geometry else 2
        values: dict[str, list[Scalar]] = {name: list(transposed[offset + i]) for i, name in enumerate(names)}
        return ids, shapes, values

    def polygons_at(self, layer: str, points: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.intp], list[str]]:
        """The records of a polygon layer each place lies in, found by the server (a grid hash join, see
        ``postgis.places``): the polygons never leave the database."""
        checked = shared_places.checked_points(layer, points)
        if not len(checked):
            return np.empty(0, dtype=np.intp), []
        with self._reading() as conn, conn.transaction():
            for setting in places.SETTINGS:
                conn.execute(setting)
            rows = conn.execute(places.query(layer), (places.multipoint_wkb(checked),)).fetchall()
        return np.array([row[0] for row in rows], dtype=np.intp), [row[1] for row in rows]

    def ledger_state(self) -> LedgerState:
        """Ledger-relevant changes counted so far, and how many the stored ledger figures account for."""
        with self._reading() as conn:
            rows = dict(
                conn.execute(
                    "SELECT key, value FROM lr_meta WHERE key IN (%s, %s)",
                    (schema.LEDGER_CHANGES, schema.LEDGER_SYNCED),
                ).fetchall()
            )
        return LedgerState(int(rows.get(schema.LEDGER_CHANGES, 0)), int(rows.get(schema.LEDGER_SYNCED, 0)))

    def set_derived(
        self, layer: str, values: Mapping[str, Mapping[str, Scalar]], *, ledger_synced: int | None = None
    ) -> None:
        """Write derived fields (``{record_id: {field: value}}``) in one transaction, without new versions;
        with ``ledger_synced``, record in the same transaction that the figures account for that many changes.
        Each group of records setting the same fields is one ``UPDATE ... FROM unnest(arrays)``."""
        table = _table(layer_named(layer))
        groups: dict[tuple[str, ...], list[list[Scalar]]] = {}
        for record_id, fields in values.items():
            names = tuple(sorted(fields))
            if not names:
                continue
            checked = [table.rules.check_derived(n, fields[n], record_id) for n in names]
            group = groups.setdefault(names, [[] for _ in range(len(names) + 1)])
            group[0].append(record_id)
            for column, value in zip(group[1:], checked, strict=True):
                column.append(value)
        if not groups and ledger_synced is None:
            return
        with self._transaction() as conn:
            if ledger_synced is not None:
                conn.execute("UPDATE lr_meta SET value = %s WHERE key = %s", (ledger_synced, schema.LEDGER_SYNCED))
            for names, group in groups.items():
                types = [schema.COLUMN_TYPES[table.layer.field(n).type] for n in names]
                arrays = sql.SQL(", ").join(
                    sql.SQL(f"%s::{kind}[]")
                    for kind in ["text", *types]  # types come from our own table
                )
                query = sql.SQL(
                    "UPDATE {t} SET {sets} FROM unnest({arrays}) AS v({columns}) WHERE {t}.id = v.lr_id"
                ).format(
                    t=table.ident,
                    sets=sql.SQL(", ").join(sql.SQL("{0} = v.{0}").format(sql.Identifier(n)) for n in names),
                    arrays=arrays,
                    columns=sql.SQL(", ").join(map(sql.Identifier, ("lr_id", *names))),
                )
                cursor = conn.execute(query, group)
                if cursor.rowcount == len(group[0]):
                    continue
                found = conn.execute(
                    sql.SQL("SELECT id FROM {} WHERE id = ANY(%s::text[])").format(table.ident), (group[0],)
                ).fetchall()
                missing = next(i for i in group[0] if i not in {row[0] for row in found})
                raise NotFound(f"no current record {missing} in {table.name}")

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
        """Write dumped layers (and service records) as they were, in one transaction, into a database
        holding no records."""
        with self._transaction() as conn:
            dumps.load(conn, self.location, layers, ledger, progress, service)

    # --- not in the protocol ------------------------------------------------------------------------------

    def tile(self, layer: str, z: int, x: int, y: int, properties: Sequence[str] = ()) -> bytes:
        """Tile z/x/y of ``layer`` cut by PostGIS (``ST_AsMVT``, see ``postgis.tiles``); ``b""`` if empty."""
        query = tiles.tile_query(layer_named(layer), tiles.property_names(properties))
        parameters = tiles.tile_parameters(z, x, y)
        with self._reading() as conn:
            row = conn.execute(query, parameters).fetchone()
        return bytes(row[0]) if row and row[0] is not None else b""


# --- helpers ----------------------------------------------------------------------------------------------


def features_query(layer: str, bbox: bool) -> sql.Composed:
    """The page query of ``features``: parameters are the last fid seen, then minx, miny, maxx, maxy if
    ``bbox``. The bounding box test is ``&&``, which the layer's GiST index answers."""
    table = _table(layer_named(layer))
    where = " AND geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326)" if bbox else ""
    return table.select + sql.SQL(f" WHERE fid > %s{where} ORDER BY fid LIMIT {PAGE_ROWS}")


def _table_of(record_id: str) -> _Table:
    layer = _BY_PREFIX.get(record_id.split("-", 1)[0]) if isinstance(record_id, str) else None
    if layer is None:
        prefixes = ", ".join(_BY_PREFIX)
        raise NotFound(f"no record {record_id!r}: ids look like HZ-000001 (prefixes: {prefixes})")
    return _table(layer)


def _feature(table: _Table, row: Sequence[Any]) -> Feature:
    attributes: dict[str, Scalar] = dict(zip(table.fields, row[3 : 3 + len(table.fields)], strict=True))
    wkb = row[-1] if table.spatial else None
    geometry = shapely.from_wkb(wkb) if wkb is not None else None
    return Feature(id=row[1], layer=table.name, attributes=attributes, geometry=geometry, version=row[2])


def _missing(conn: Connection, record_id: str) -> NotFound:
    """The error for a record that is not current: retired (saying when, by whom and why) or unknown."""
    last = conn.execute(
        "SELECT action, changed_at, author, reason FROM lr_history WHERE record_id = %s ORDER BY version DESC LIMIT 1",
        (record_id,),
    ).fetchone()
    if last is not None and last[0] == Action.RETIRE.value:
        day = last[1].astimezone(UTC).date().isoformat()
        return NotFound(f"{record_id} was retired on {day} by {last[2]}: {last[3]}")
    return NotFound(f"no record {record_id}")


def _write_history(
    conn: Connection,
    table: _Table,
    record_id: str,
    version: int,
    action: Action,
    change: Change,
    at: datetime,
    attributes: str,
) -> None:
    """One ``lr_history`` row, its geometry taken from the layer row as it now is (before a retire deletes it)."""
    geometry = sql.SQL("(SELECT geom FROM {} WHERE id = %s)").format(table.ident) if table.spatial else sql.SQL("NULL")
    conn.execute(
        sql.SQL("INSERT INTO lr_history ({}) SELECT %s, %s, %s, %s, %s, %s, %s, %s::jsonb, {}").format(
            sql.SQL(", ").join(map(sql.Identifier, _HISTORY_COLUMNS)), geometry
        ),
        (record_id, table.name, version, action.value, at, change.author, change.reason, attributes)
        + ((record_id,) if table.spatial else ()),
    )


def _pause_ledger_trigger(conn: Connection, table: _Table) -> bool:
    """Disable the layer's ledger insert trigger for this transaction, if it has one (see ``schema``)."""
    if table.name not in LEDGER_INPUTS:
        return False
    trigger = sql.Identifier(schema.ledger_insert_trigger(table.name))
    conn.execute(sql.SQL("ALTER TABLE {} DISABLE TRIGGER {}").format(table.ident, trigger))
    return True


def _resume_ledger_trigger(conn: Connection, table: _Table, count: int) -> None:
    """Enable the ledger insert trigger again and count the ``count`` rows added while it was off."""
    trigger = sql.Identifier(schema.ledger_insert_trigger(table.name))
    conn.execute(sql.SQL("ALTER TABLE {} ENABLE TRIGGER {}").format(table.ident, trigger))
    conn.execute("UPDATE lr_meta SET value = value + %s WHERE key = %s", (count, schema.LEDGER_CHANGES))


def _estimated_rows(conn: Connection, table: _Table) -> int:
    """The planner's row estimate of a layer (cheap; -1 when never analysed, treated as empty)."""
    row = conn.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", (table.name,)).fetchone()
    return int(row[0]) if row else 0


def _allocate(conn: Connection, table: _Table, count: int) -> int:
    """Reserve ``count`` record numbers for ``table``; return the first. Numbers are never given twice: the
    counter row stays locked until the transaction ends, so concurrent adds take turns."""
    top_row = conn.execute(sql.SQL("SELECT max(id) FROM {}").format(table.ident)).fetchone()
    top = top_row[0] if top_row else None
    prefix = table.layer.id_prefix
    # Rows another program added with ids ahead of the counter must not be collided with. The text max is
    # cheap (the id index) and right while ids have six digits; past 999,999 text order is not number order,
    # so the ids about to be given are looked up below too.
    ahead = id_number(top) if isinstance(top, str) and top.startswith(prefix + "-") else None
    row = conn.execute(
        "INSERT INTO lr_counters AS c (layer, last_number) VALUES (%(layer)s, %(ahead)s + %(count)s) "
        "ON CONFLICT (layer) DO UPDATE SET last_number = GREATEST(c.last_number, %(ahead)s) + %(count)s "
        "RETURNING last_number",
        {"layer": table.name, "ahead": ahead or 0, "count": count},
    ).fetchone()
    assert row is not None
    first = int(row[0]) - count + 1
    taken = sql.SQL("SELECT 1 FROM {} WHERE id BETWEEN %s AND %s AND length(id) = %s LIMIT 1").format(table.ident)
    if not any(conn.execute(taken, span).fetchone() for span in id_spans(prefix, first, first + count - 1)):
        return first
    # One of them is taken (a row added outside landrelease): continue after the highest id there.
    ids = conn.execute(sql.SQL("SELECT id FROM {} WHERE starts_with(id, %s)").format(table.ident), (prefix + "-",))
    highest = max([first - 1, *(n for (i,) in ids if (n := id_number(i)) is not None)])
    conn.execute("UPDATE lr_counters SET last_number = %s WHERE layer = %s", (highest + count, table.name))
    return highest + 1


@dataclass(frozen=True)
class _Same:
    """A column holding one value in every row."""

    value: object


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
#: Rows per ``COPY`` write: about a megabyte at a time, so the server starts on the first chunk early.
_COPY_CHUNK = 5_000


def _escape(text: str) -> str:
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return text.translate(_ESCAPES)
    return text


def _copy_text(value: object) -> str:
    """One value in COPY's text format (the server parses it by the column's type)."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return _escape(value)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    return repr(value)  # int, or a finite float: repr keeps every bit


def _copy_column(values: Sequence[object]) -> list[str]:
    """A whole column in COPY text format; a column holds one type (the checks made it so)."""
    first = next((v for v in values if v is not None), None)
    if isinstance(first, str):
        text = "".join(v for v in values if v is not None)  # type: ignore[misc]
        if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
            return ["\\N" if v is None else _escape(v) for v in values]  # type: ignore[arg-type]
        return ["\\N" if v is None else v for v in values]  # type: ignore[misc]
    if isinstance(first, float):
        return ["\\N" if v is None else float.__repr__(v) for v in values]
    return [_copy_text(v) for v in values]


def _insert(conn: Connection, name: str, names: Sequence[str], columns: Sequence[Sequence[object] | _Same]) -> None:
    """Insert rows given as columns: COPY (text format, built column by column) from ``BULK_ROWS`` rows on,
    a pipelined INSERT per row below that."""
    count = next(len(c) for c in columns if not isinstance(c, _Same))
    names_sql = sql.SQL(", ").join(map(sql.Identifier, names))
    if count < BULK_ROWS:
        placeholders = sql.SQL(", ").join(sql.Placeholder() * len(names))
        rows = zip(*(repeat(c.value, count) if isinstance(c, _Same) else c for c in columns), strict=False)
        with conn.cursor() as cursor:
            cursor.executemany(
                sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(sql.Identifier(name), names_sql, placeholders), rows
            )
        return
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(name), names_sql)
    with conn.cursor() as cursor, cursor.copy(statement, writer=QueuedLibpqWriter(cursor)) as copy:
        # The queued writer sends from a thread: the server parses one chunk while this one is formatted.
        for start in range(0, count, _COPY_CHUNK):
            stop = min(start + _COPY_CHUNK, count)
            texts = [
                repeat(_copy_text(c.value), stop - start) if isinstance(c, _Same) else _copy_column(c[start:stop])
                for c in columns
            ]
            copy.write("\n".join(map("\t".join, zip(*texts, strict=False))) + "\n")
