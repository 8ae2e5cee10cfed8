"""The file's tables: the GeoPackage 1.3 core, one table per layer with its R*Tree, and our own tables.

Our tables (prefix ``lr_``): ``lr_meta`` (schema version), ``lr_counters`` (the last number given out per
layer, so ids are never reused) and ``lr_history`` (every version of every record). From schema 2 triggers
version edits made by other programs too (``outside_edits``).

Schema changes: adding a layer or a field in ``domain/schema.py`` needs nothing here (``sync_layers``
adds missing tables and columns on open). Anything else (a rename, a type change, moving data) is a
numbered migration: bump ``SCHEMA_VERSION`` and add ``MIGRATIONS[new_version]``, a function that takes
the database from ``new_version - 1`` to ``new_version``. They run in one transaction on open.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from landrelease.domain.ledger import LEDGER_INPUTS
from landrelease.domain.schema import LAYERS, FieldType, GeometryKind, Layer
from landrelease.store import outside_edits as outside
from landrelease.store.geopackage import outside_edits
from landrelease.store.geopackage.sql import quote

SCHEMA_VERSION = 2

#: A migration takes an open transaction from version N - 1 to N.
Migration = Callable[[sqlite3.Connection], None]

APPLICATION_ID = 0x47504B47  # "GPKG"
USER_VERSION = 10300  # GeoPackage 1.3.0
SRS_ID = 4326
GEOMETRY_COLUMN = "geom"
HISTORY_TABLE = "lr_history"
LEDGER_CHANGES = "ledger_changes"
LEDGER_SYNCED = "ledger_synced"

#: SQLite column type per field type. DOUBLE, not FLOAT (GDAL reads FLOAT as 32-bit); never VARCHAR.
COLUMN_TYPES: dict[FieldType, str] = {
    FieldType.TEXT: "TEXT",
    FieldType.DATE: "DATE",
    FieldType.INTEGER: "INTEGER",
    FieldType.BOOLEAN: "BOOLEAN",
    FieldType.REAL: "DOUBLE",
}

#: Columns every layer table has before its fields (``fid`` is the GeoPackage/GDAL feature id).
SYSTEM_COLUMNS = ("fid", "id", "version", "updated_at", "updated_by")

_WGS84_WKT = (
    'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,'
    'AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,'
    'AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],'
    'AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]'
)

_CORE = """
CREATE TABLE gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL PRIMARY KEY,
  organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL,
  definition TEXT NOT NULL,
  description TEXT
);
CREATE TABLE gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY,
  data_type TEXT NOT NULL,
  identifier TEXT UNIQUE,
  description TEXT DEFAULT '',
  last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE,
  srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id)
);
CREATE TABLE gpkg_geometry_columns (
  table_name TEXT NOT NULL,
  column_name TEXT NOT NULL,
  geometry_type_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL,
  z TINYINT NOT NULL,
  m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT uk_gc_table_name UNIQUE (table_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id)
);
CREATE TABLE gpkg_extensions (
  table_name TEXT,
  column_name TEXT,
  extension_name TEXT NOT NULL,
  definition TEXT NOT NULL,
  scope TEXT NOT NULL,
  CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name)
);
CREATE TABLE lr_meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
CREATE TABLE lr_counters (layer TEXT PRIMARY KEY NOT NULL, last_number INTEGER NOT NULL);
CREATE TABLE lr_history (
  fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  record_id TEXT NOT NULL,
  layer TEXT NOT NULL,
  version INTEGER NOT NULL,
  action TEXT NOT NULL,
  changed_at TEXT NOT NULL,
  author TEXT NOT NULL,
  reason TEXT NOT NULL,
  attributes TEXT NOT NULL,
  geom BLOB,
  CONSTRAINT uk_history_version UNIQUE (record_id, version)
);
"""


def rtree_table(layer: str) -> str:
    return f"rtree_{layer}_{GEOMETRY_COLUMN}"


def insert_trigger_name(layer: str) -> str:
    return f"{rtree_table(layer)}_insert"


def _rtree_triggers(layer: str) -> dict[str, str]:
    """The gpkg_rtree_index triggers (the corrected set of GeoPackage 1.3.1/1.4: update5-7 replace
    update1 and update3, which also GDAL writes). Keyed by trigger name."""
    t, c, i, r = quote(layer), quote(GEOMETRY_COLUMN), quote("fid"), quote(rtree_table(layer))
    has = f"(NEW.{c} NOTNULL AND NOT ST_IsEmpty(NEW.{c}))"
    lacks = f"(NEW.{c} ISNULL OR ST_IsEmpty(NEW.{c}))"
    had = f"(OLD.{c} NOTNULL AND NOT ST_IsEmpty(OLD.{c}))"
    lacked = f"(OLD.{c} ISNULL OR ST_IsEmpty(OLD.{c}))"
    box = f"ST_MinX(NEW.{c}), ST_MaxX(NEW.{c}), ST_MinY(NEW.{c}), ST_MaxY(NEW.{c})"
    name = rtree_table(layer)
    return {
        f"{name}_insert": f"AFTER INSERT ON {t} WHEN {has} "
        f"BEGIN INSERT OR REPLACE INTO {r} VALUES (NEW.{i}, {box}); END",
        f"{name}_update6": f"AFTER UPDATE OF {c} ON {t} WHEN OLD.{i} = NEW.{i} AND {has} AND {had} "
        f"BEGIN UPDATE {r} SET minx = ST_MinX(NEW.{c}), maxx = ST_MaxX(NEW.{c}), "
        f"miny = ST_MinY(NEW.{c}), maxy = ST_MaxY(NEW.{c}) WHERE id = NEW.{i}; END",
        f"{name}_update7": f"AFTER UPDATE OF {c} ON {t} WHEN OLD.{i} = NEW.{i} AND {has} AND {lacked} "
        f"BEGIN INSERT INTO {r} VALUES (NEW.{i}, {box}); END",
        f"{name}_update2": f"AFTER UPDATE OF {c} ON {t} WHEN OLD.{i} = NEW.{i} AND {lacks} "
        f"BEGIN DELETE FROM {r} WHERE id = OLD.{i}; END",
        f"{name}_update5": f"AFTER UPDATE ON {t} WHEN OLD.{i} != NEW.{i} AND {has} "
        f"BEGIN DELETE FROM {r} WHERE id = OLD.{i}; INSERT OR REPLACE INTO {r} VALUES (NEW.{i}, {box}); END",
        f"{name}_update4": f"AFTER UPDATE ON {t} WHEN OLD.{i} != NEW.{i} AND {lacks} "
        f"BEGIN DELETE FROM {r} WHERE id IN (OLD.{i}, NEW.{i}); END",
        f"{name}_delete": f"AFTER DELETE ON {t} WHEN OLD.{c} NOT NULL BEGIN DELETE FROM {r} WHERE id = OLD.{i}; END",
    }


def create_trigger_sql(layer: str, trigger: str) -> str:
    return f"CREATE TRIGGER {quote(trigger)} {_rtree_triggers(layer)[trigger]}"


def _column_sql(layer: Layer) -> list[str]:
    columns = [
        "fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL",
        # May be left empty by QGIS or GDAL: the insert trigger gives the next id (``outside_edits``).
        "id TEXT UNIQUE",
        # Defaults so that a feature added in QGIS or GDAL (which know nothing of these) is accepted; version 0
        # is how the triggers know a row landrelease did not write.
        "version INTEGER NOT NULL DEFAULT 0",
        "updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
        f"updated_by TEXT NOT NULL DEFAULT {outside_edits.literal(outside.AUTHOR)}",
    ]
    columns += [f"{quote(f.name)} {COLUMN_TYPES[f.type]}" for f in layer.fields]
    if layer.geometry is not GeometryKind.NONE:
        columns.append(f"{quote(GEOMETRY_COLUMN)} {layer.geometry.value}")
    return columns


def _create_layer(conn: sqlite3.Connection, layer: Layer) -> None:
    table = quote(layer.name)
    conn.execute(f"CREATE TABLE {table} ({', '.join(_column_sql(layer))})")
    spatial = layer.geometry is not GeometryKind.NONE
    conn.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) VALUES (?, ?, ?, ?, ?)",
        (layer.name, "features" if spatial else "attributes", layer.title, layer.title, SRS_ID if spatial else None),
    )
    conn.execute("INSERT INTO lr_counters (layer, last_number) VALUES (?, 0)", (layer.name,))
    if not spatial:
        return
    conn.execute(
        "INSERT INTO gpkg_geometry_columns VALUES (?, ?, ?, ?, 0, 0)",
        (layer.name, GEOMETRY_COLUMN, layer.geometry.value, SRS_ID),
    )
    conn.execute(f"CREATE VIRTUAL TABLE {quote(rtree_table(layer.name))} USING rtree(id, minx, maxx, miny, maxy)")
    for trigger in _rtree_triggers(layer.name):
        conn.execute(create_trigger_sql(layer.name, trigger))
    conn.execute(
        "INSERT INTO gpkg_extensions VALUES (?, ?, 'gpkg_rtree_index', "
        "'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
        (layer.name, GEOMETRY_COLUMN),
    )


def _ledger_triggers(layer: Layer) -> dict[str, str]:
    """Triggers counting ledger-relevant changes (``LEDGER_INPUTS``), made by anyone: us, QGIS or GDAL."""
    t = quote(layer.name)
    names = (GEOMETRY_COLUMN, *LEDGER_INPUTS[layer.name])
    columns = ", ".join(quote(c) for c in names)
    # Only a real change counts: the store's updates set every column, most often to the same value.
    changed = " OR ".join(f"NEW.{quote(c)} IS NOT OLD.{quote(c)}" for c in names)
    bump = f"BEGIN UPDATE lr_meta SET value = CAST(value AS INTEGER) + 1 WHERE key = '{LEDGER_CHANGES}'; END"
    name = f"lr_ledger_{layer.name}"
    return {
        f"{name}_insert": f"AFTER INSERT ON {t} {bump}",
        f"{name}_update": f"AFTER UPDATE OF {columns} ON {t} WHEN {changed} {bump}",
        f"{name}_delete": f"AFTER DELETE ON {t} {bump}",
    }


def ledger_insert_trigger(layer: str) -> str | None:
    """The name of the insert trigger counting ledger changes on ``layer``, if it has one."""
    return f"lr_ledger_{layer}_insert" if layer in LEDGER_INPUTS else None


def create_ledger_trigger_sql(layer: str, trigger: str) -> str:
    return f"CREATE TRIGGER IF NOT EXISTS {quote(trigger)} {_ledger_triggers(LAYERS[layer])[trigger]}"


def _ensure_ledger_tracking(conn: sqlite3.Connection) -> bool:
    changed = False
    for key in (LEDGER_CHANGES, LEDGER_SYNCED):
        changed |= conn.execute("INSERT OR IGNORE INTO lr_meta (key, value) VALUES (?, '0')", (key,)).rowcount > 0
    for name in LEDGER_INPUTS:
        for trigger in _ledger_triggers(LAYERS[name]):
            if not _has_trigger(conn, trigger):
                conn.execute(create_ledger_trigger_sql(name, trigger))
                changed = True
    return changed


def _has_trigger(conn: sqlite3.Connection, name: str) -> bool:
    row = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = ?", (name,)).fetchone()
    return row is not None


def create(conn: sqlite3.Connection) -> None:
    """Make an empty landrelease GeoPackage (inside the caller's transaction)."""
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {USER_VERSION}")
    for statement in _CORE.split(";"):
        if statement.strip():
            conn.execute(statement)
    conn.executemany(
        "INSERT INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)",
        [
            ("Undefined Cartesian SRS", -1, "NONE", -1, "undefined", "undefined Cartesian coordinate reference system"),
            ("Undefined geographic SRS", 0, "NONE", 0, "undefined", "undefined geographic coordinate reference system"),
            (
                "WGS 84 geodetic",
                SRS_ID,
                "EPSG",
                SRS_ID,
                _WGS84_WKT,
                "longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid",
            ),
        ],
    )
    conn.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description) VALUES (?, 'attributes', ?, ?)",
        (HISTORY_TABLE, "Record history", "Every version of every record: who changed what, when and why"),
    )
    conn.execute("INSERT INTO lr_meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
    sync_layers(conn)


def sync_layers(conn: sqlite3.Connection) -> bool:
    """Add tables and columns that ``LAYERS`` declares and the file lacks; True if anything was added."""
    changed = False
    for layer in LAYERS.values():
        present = {row[1] for row in conn.execute(f"PRAGMA table_info({quote(layer.name)})")}
        if not present:
            _create_layer(conn, layer)
            changed = True
            continue
        for field in layer.fields:
            if field.name not in present:
                conn.execute(
                    f"ALTER TABLE {quote(layer.name)} ADD COLUMN {quote(field.name)} {COLUMN_TYPES[field.type]}"
                )
                changed = True
    changed |= _ensure_ledger_tracking(conn)
    changed |= outside_edits.ensure(conn)
    return changed


def needs_sync(conn: sqlite3.Connection) -> bool:
    """Whether ``sync_layers`` has anything to do (checked outside a write transaction)."""
    for layer in LAYERS.values():
        present = {row[1] for row in conn.execute(f"PRAGMA table_info({quote(layer.name)})")}
        if not present or any(f.name not in present for f in layer.fields):
            return True
    if any(not _has_trigger(conn, trigger) for name in LEDGER_INPUTS for trigger in _ledger_triggers(LAYERS[name])):
        return True
    return outside_edits.stale(conn)


def stored_version(conn: sqlite3.Connection) -> int | None:
    """The schema version written in the file; None if it has no ``lr_meta`` (not ours)."""
    try:
        row = conn.execute("SELECT value FROM lr_meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.OperationalError:
        return None
    return None if row is None else int(row[0])


def _version_outside_edits(conn: sqlite3.Connection) -> None:
    """Schema 2: edits made by other programs are versioned. Layer ids may be left empty (the trigger gives
    one) and rows such programs added before get a ``create`` version; ``sync_layers``, which runs after
    every migration, makes the triggers."""
    for layer in LAYERS.values():
        if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (layer.name,)).fetchone():
            outside_edits.allow_empty_id(conn, layer)
            outside_edits.version_unversioned(conn, layer)


MIGRATIONS: dict[int, Migration] = {2: _version_outside_edits}


def migrate(conn: sqlite3.Connection, from_version: int) -> None:
    """Run the migrations from ``from_version`` up to ``SCHEMA_VERSION`` (inside the caller's transaction)."""
    for version in range(from_version + 1, SCHEMA_VERSION + 1):
        MIGRATIONS[version](conn)
    conn.execute("UPDATE lr_meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))
