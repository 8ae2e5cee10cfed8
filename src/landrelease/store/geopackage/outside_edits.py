"""The GeoPackage's triggers versioning edits made by other programs (``landrelease.store.outside_edits``).

Generated per layer from ``domain/schema.py``. They use only SQLite's built-in functions (``json_object``,
``printf``, ``strftime``): QGIS and GDAL run them in their own SQLite, which knows none of ours. The
attributes JSON is what ``history.to_json`` writes: the values that are set, booleans as true/false,
numbers as numbers (reals with 17 significant digits, as SQLite's JSON keeps only 15).
"""

from __future__ import annotations

import sqlite3
from functools import cache

from landrelease.domain.records import Action
from landrelease.domain.schema import LAYERS, Field, FieldType, GeometryKind, Layer
from landrelease.store import outside_edits
from landrelease.store.geopackage.history import COLUMNS as HISTORY_COLUMNS
from landrelease.store.geopackage.sql import quote

#: Now as the store writes change times: ISO 8601 in UTC with microseconds and a Z (SQLite has milliseconds).
NOW = "(strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z')"
#: The reason of the ``create`` version an upgrade writes for rows other programs added before these triggers.
UPGRADE_REASON = "added in another program before landrelease versioned such edits (found on upgrade)"

_HISTORY = f"INSERT INTO lr_history ({', '.join(HISTORY_COLUMNS)})"
_MAX_REAL = "1.7976931348623157e308"


def literal(text: str) -> str:
    """An SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _json_value(field: Field, column: str) -> str:
    """``column`` as json_object takes it, so that the JSON is what ``history.to_json`` writes."""
    if field.type is FieldType.BOOLEAN:
        return (
            f"json(CASE typeof({column}) WHEN 'integer' THEN CASE WHEN {column} THEN 'true' ELSE 'false' END "
            f"ELSE json_quote({column}) END)"
        )
    if field.type is FieldType.REAL:
        # Infinities would print as Inf, which is not JSON: kept as text (the store refuses them anyway).
        return (
            f"json(CASE WHEN typeof({column}) != 'real' THEN json_quote({column}) "
            f"WHEN abs({column}) <= {_MAX_REAL} THEN printf('%!.17g', {column}) "
            f"ELSE json_quote(CAST({column} AS TEXT)) END)"
        )
    return column


def attributes_json(layer: Layer, row: str) -> str:
    """The JSON object of the writable fields of ``row`` (``NEW``, ``OLD`` or a table alias) that are set:
    json_patch drops the keys json_object wrote as null."""
    pairs = [f"{literal(f.name)}, {_json_value(f, f'{row}.{quote(f.name)}')}" for f in layer.fields if not f.derived]
    return f"json_patch('{{}}', json_object({', '.join(pairs)}))" if pairs else "'{}'"


def _well_formed(layer: Layer, column: str) -> str:
    prefix = layer.id_prefix
    return f"({column} GLOB '{prefix}-[0-9]*' AND substr({column}, {len(prefix) + 2}) NOT GLOB '*[^0-9]*')"


def _copied_version(layer: Layer, action: Action, version: str, where: str) -> str:
    """INSERT into lr_history of the layer row ``where`` selects, as it now is, as ``action``."""
    geometry = "r." + quote("geom") if layer.geometry is not GeometryKind.NONE else "NULL"
    return (
        f"{_HISTORY} SELECT r.id, {literal(layer.name)}, {version}, {literal(action.value)}, r.updated_at, "
        f"r.updated_by, {literal(outside_edits.REASONS[action])}, {attributes_json(layer, 'r')}, {geometry} "
        f"FROM {quote(layer.name)} AS r WHERE {where}"
    )


def insert_trigger(layer: str) -> str:
    return f"lr_outside_{layer}_insert"


@cache
def triggers(layer: Layer) -> dict[str, str]:
    """The CREATE TRIGGER statements for ``layer``, keyed by trigger name (as sqlite_master keeps them)."""
    t, name = quote(layer.name), layer.name
    spatial = layer.geometry is not GeometryKind.NONE
    stamp = f"updated_at = {NOW}, updated_by = {literal(outside_edits.AUTHOR)}"
    counter = (
        "UPDATE lr_counters SET last_number = max(last_number, coalesce((SELECT CAST(substr(id, "
        f"{len(layer.id_prefix) + 2}) AS INTEGER) FROM {t} WHERE {_well_formed(layer, 'id')} "
        f"ORDER BY id DESC LIMIT 1), 0)) + 1 WHERE layer = {literal(name)} AND NEW.id IS NULL"
    )
    next_id = (
        f"'{layer.id_prefix}-' || printf('%06d', (SELECT last_number FROM lr_counters WHERE layer = {literal(name)}))"
    )
    number = f"CAST(substr({{}}, {len(layer.id_prefix) + 2}) AS INTEGER)"
    # The text max above is number order only while ids have six digits: past 999,999 a row written ahead
    # of the counter without this trigger (before schema 2, or with a version of its own) may be missed.
    # Then, and only then, all ids are read, so that the id given is free.
    past_taken = (
        f"UPDATE lr_counters SET last_number = 1 + (SELECT max({number.format('id')}) FROM {t} "
        f"WHERE {_well_formed(layer, 'id')}) WHERE layer = {literal(name)} AND NEW.id IS NULL "
        f"AND EXISTS (SELECT 1 FROM {t} WHERE id = {next_id})"
    )
    # An id typed in moves the counter past it, so that neither this trigger nor ``add`` gives it again
    # (not even after the row is deleted and only its history holds the id).
    typed = (
        f"UPDATE lr_counters SET last_number = max(last_number, {number.format('NEW.id')}) "
        f"WHERE layer = {literal(name)} AND NEW.id IS NOT NULL"
    )
    bad_id = literal(outside_edits.bad_id_message(name, layer.id_prefix))
    statements = {
        # A row added without a version (0, the default): landrelease's add and load always write one.
        insert_trigger(name): f"CREATE TRIGGER {quote(insert_trigger(name))} AFTER INSERT ON {t} "
        "WHEN NEW.version = 0 OR NEW.id IS NULL BEGIN "
        f"SELECT RAISE(ABORT, {bad_id}) WHERE NEW.id IS NOT NULL AND NOT {_well_formed(layer, 'NEW.id')}; "
        f"SELECT RAISE(ABORT, {literal(outside_edits.reused_id_message(name))}) "
        "WHERE EXISTS (SELECT 1 FROM lr_history WHERE record_id = NEW.id); "
        f"{counter}; {past_taken}; {typed}; "
        f"UPDATE {t} SET id = coalesce(id, {next_id}), version = 1, {stamp} WHERE fid = NEW.fid; "
        f"{_copied_version(layer, Action.CREATE, '1', 'r.fid = NEW.fid')}; END",
        f"lr_outside_{name}_id": f'CREATE TRIGGER "lr_outside_{name}_id" BEFORE UPDATE OF id ON {t} '
        "WHEN OLD.id IS NOT NULL AND NEW.id IS NOT OLD.id BEGIN "
        f"SELECT RAISE(ABORT, {literal(outside_edits.id_change_message(name))}); END",
        # A version written back lower (a stale feature saved by a script, a field calculator on version) would
        # make the record's next version one its history already holds: no edit could then be saved, ours or
        # theirs. (The insert trigger's own write, on a row that has no id yet, is let through.)
        f"lr_outside_{name}_version": f'CREATE TRIGGER "lr_outside_{name}_version" BEFORE UPDATE OF version ON {t} '
        "WHEN OLD.id IS NOT NULL AND NEW.version < OLD.version BEGIN "
        f"SELECT RAISE(ABORT, {literal(outside_edits.version_back_message(name))}); END",
        # landrelease's retire writes its retire version before deleting: then there is nothing to add.
        f"lr_outside_{name}_delete": f'CREATE TRIGGER "lr_outside_{name}_delete" AFTER DELETE ON {t} '
        "WHEN NOT EXISTS (SELECT 1 FROM lr_history WHERE record_id = OLD.id AND version = OLD.version + 1) BEGIN "
        f"{_HISTORY} VALUES (OLD.id, {literal(name)}, OLD.version + 1, {literal(Action.RETIRE.value)}, {NOW}, "
        f"{literal(outside_edits.AUTHOR)}, {literal(outside_edits.REASONS[Action.RETIRE])}, "
        f"{attributes_json(layer, 'OLD')}, {'OLD.' + quote('geom') if spatial else 'NULL'}); END",
    }
    versioned = [f.name for f in layer.fields if not f.derived] + (["geom"] if spatial else [])
    if versioned:
        # landrelease's update always bumps the version and set_derived writes derived fields only: neither fires.
        changed = " OR ".join(f"NEW.{quote(c)} IS NOT OLD.{quote(c)}" for c in versioned)
        statements[f"lr_outside_{name}_update"] = (
            f'CREATE TRIGGER "lr_outside_{name}_update" AFTER UPDATE OF {", ".join(map(quote, versioned))} ON {t} '
            f"WHEN NEW.version IS OLD.version AND ({changed}) BEGIN "
            f"UPDATE {t} SET version = OLD.version + 1, {stamp} WHERE fid = NEW.fid; "
            f"{_copied_version(layer, Action.UPDATE, 'r.version', 'r.fid = NEW.fid')}; END"
        )
    return statements


def _stored(conn: sqlite3.Connection) -> dict[str, str]:
    rows = conn.execute(
        r"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'lr\_outside\_%' ESCAPE '\'"
    )
    return {name: text for name, text in rows}


def stale(conn: sqlite3.Connection) -> bool:
    """Whether some layer's triggers are missing or were made from another schema (a field added since)."""
    stored = _stored(conn)
    return any(stored.get(n) != s for layer in LAYERS.values() for n, s in triggers(layer).items())


def ensure(conn: sqlite3.Connection) -> bool:
    """Make the triggers of every layer as the schema now declares them; True if any was (re)made."""
    stored = _stored(conn)
    changed = False
    for layer in LAYERS.values():
        for name, statement in triggers(layer).items():
            if stored.get(name) == statement:
                continue
            if name in stored:
                conn.execute(f"DROP TRIGGER {quote(name)}")
            conn.execute(statement)
            changed = True
    return changed


def allow_empty_id(conn: sqlite3.Connection, layer: Layer) -> bool:
    """Drop ``NOT NULL`` from a layer's ``id`` column (made so by schema 1), so that a feature added in QGIS
    may leave it empty and get the next id from the insert trigger. SQLite cannot ALTER a constraint: this
    is its documented in-place edit of the table's SQL (nothing on disk changes). False if the table's SQL is
    not ours as written, or this SQLite refuses (defensive mode): the id then stays required."""
    old = ", id TEXT UNIQUE NOT NULL,"
    row = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (layer.name,)).fetchone()
    if row is None or row[0].count(old) != 1:
        return False
    schema_version = conn.execute("PRAGMA schema_version").fetchone()[0]
    conn.execute("PRAGMA writable_schema = ON")
    try:
        conn.execute(
            "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?",
            (row[0].replace(old, ", id TEXT UNIQUE,"), layer.name),
        )
        conn.execute(f"PRAGMA schema_version = {int(schema_version) + 1}")
    except sqlite3.DatabaseError:
        return False
    finally:
        conn.execute("PRAGMA writable_schema = OFF")
    return True


def version_unversioned(conn: sqlite3.Connection, layer: Layer) -> int:
    """Give every current row with a well-formed id and no history at all (added by another program before
    the triggers) version 1 and a ``create`` version; return how many."""
    t = quote(layer.name)
    lacking = f"{_well_formed(layer, 'id')} AND NOT EXISTS (SELECT 1 FROM lr_history AS h WHERE h.record_id = {t}.id)"
    count = conn.execute(
        f"UPDATE {t} SET version = 1, updated_at = {NOW}, updated_by = {literal(outside_edits.AUTHOR)} WHERE {lacking}"
    ).rowcount
    if count:
        geometry = "r." + quote("geom") if layer.geometry is not GeometryKind.NONE else "NULL"
        conn.execute(
            f"{_HISTORY} SELECT r.id, {literal(layer.name)}, 1, {literal(Action.CREATE.value)}, r.updated_at, "
            f"r.updated_by, {literal(UPGRADE_REASON)}, {attributes_json(layer, 'r')}, {geometry} FROM {t} AS r "
            f"WHERE {_well_formed(layer, 'r.id')} "
            "AND NOT EXISTS (SELECT 1 FROM lr_history AS h WHERE h.record_id = r.id)"
        )
    return count
