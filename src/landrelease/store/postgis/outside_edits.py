"""The PostGIS triggers versioning edits made by other programs (``landrelease.store.outside_edits``).

Generated per layer from ``domain/schema.py``: a PL/pgSQL function per event (``lr_outside_<layer>_insert``,
``_update``, ``_delete``, ``_id``, ``_version``) and its trigger. The insert trigger runs AFTER the row is in,
never BEFORE: a BEFORE ROW trigger makes PostgreSQL's COPY insert row by row, and ``add`` copies big batches.
A row another program adds without an id gets one from the column default ``lr_next_id`` (QGIS leaves a
column with a default to the server).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

import psycopg

from landrelease.domain.records import Action
from landrelease.domain.schema import LAYERS, GeometryKind, Layer
from landrelease.store import outside_edits

Connection = psycopg.Connection[Any]

#: The reason of the ``create`` version an upgrade writes for rows other programs added before the triggers.
UPGRADE_REASON = "added in another program before landrelease versioned such edits (found on upgrade)"
#: Arguments per ``jsonb_build_object`` call (PostgreSQL takes at most 100).
_PAIRS_PER_CALL = 50
_HISTORY = "INSERT INTO lr_history (record_id, layer, version, action, changed_at, author, reason, attributes, geom)"

#: The next id of a layer, as ``add`` would give it (never one already given, nor one a program wrote ahead).
#: The text max is cheap (the id index) and number order while ids have six digits; past 999,999 a row written
#: ahead of the counter without the insert trigger (with a version of its own) may be missed: then, and only
#: then, every id is read, so that the id given is free.
NEXT_ID = """
DECLARE
  top text;
  ahead bigint := 0;
  next_number bigint;
  taken boolean;
BEGIN
  EXECUTE format('SELECT max(id) FROM %I', p_layer) INTO top;
  IF top ~ ('^' || p_prefix || '-[0-9]+$') THEN
    ahead := substr(top, length(p_prefix) + 2)::bigint;
  END IF;
  INSERT INTO lr_counters AS c (layer, last_number) VALUES (p_layer, ahead + 1)
    ON CONFLICT (layer) DO UPDATE SET last_number = GREATEST(c.last_number, ahead) + 1
    RETURNING c.last_number INTO next_number;
  EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE id = $1)', p_layer) INTO taken
    USING p_prefix || '-' || lpad(next_number::text, GREATEST(6, length(next_number::text)), '0');
  IF taken THEN
    EXECUTE format('SELECT max(substr(id, $2)::bigint) FROM %I WHERE id ~ $1', p_layer) INTO next_number
      USING '^' || p_prefix || '-[0-9]+$', length(p_prefix) + 2;
    next_number := next_number + 1;
    UPDATE lr_counters SET last_number = next_number WHERE layer = p_layer;
  END IF;
  RETURN p_prefix || '-' || lpad(next_number::text, GREATEST(6, length(next_number::text)), '0');
END
"""


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def id_default(layer: Layer) -> str:
    """The ``id`` column's default: the next id of the layer."""
    return f"lr_next_id({literal(layer.name)}, {literal(layer.id_prefix)})"


def attributes_json(layer: Layer, row: str) -> str:
    """The jsonb of the writable fields of ``row`` (``NEW``, ``OLD`` or an alias) that are set, as the store
    writes them (dates as ISO text, booleans and numbers as themselves)."""
    pairs = [f"{literal(f.name)}, {row}.{ident(f.name)}" for f in layer.fields if not f.derived]
    if not pairs:
        return "'{}'::jsonb"
    calls = [
        f"jsonb_build_object({', '.join(pairs[i : i + _PAIRS_PER_CALL])})"
        for i in range(0, len(pairs), _PAIRS_PER_CALL)
    ]
    return f"jsonb_strip_nulls({' || '.join(calls)})"


def _geometry(layer: Layer, row: str) -> str:
    return f"{row}.geom" if layer.geometry is not GeometryKind.NONE else "NULL"


def _raise(message: str) -> str:
    return f"RAISE EXCEPTION USING MESSAGE = {literal(message)}, ERRCODE = 'check_violation';"


def _versioned(layer: Layer) -> list[str]:
    """The columns whose change is a new version: the writable fields and the geometry."""
    return [f.name for f in layer.fields if not f.derived] + (
        ["geom"] if layer.geometry is not GeometryKind.NONE else []
    )


@cache
def functions(layer: Layer) -> dict[str, str]:
    """The trigger functions' bodies (as ``pg_proc.prosrc`` keeps them), keyed by function name."""
    t, name, author = ident(layer.name), layer.name, literal(outside_edits.AUTHOR)

    def reason(action: Action) -> str:
        return literal(outside_edits.REASONS[action])

    bodies = {
        f"lr_outside_{name}_insert": f"""
BEGIN
  IF NEW.id !~ '^{layer.id_prefix}-[0-9]+$' THEN
    {_raise(outside_edits.bad_id_message(name, layer.id_prefix))}
  END IF;
  IF EXISTS (SELECT 1 FROM lr_history WHERE record_id = NEW.id) THEN
    {_raise(outside_edits.reused_id_message(name))}
  END IF;
  -- An id typed in moves the counter past it, so that neither lr_next_id nor add gives it again (not even
  -- after the row is deleted and only its history holds the id). An id the default gave is the counter's.
  INSERT INTO lr_counters AS c (layer, last_number)
    VALUES ({literal(name)}, substr(NEW.id, {len(layer.id_prefix) + 2})::bigint)
    ON CONFLICT (layer) DO UPDATE SET last_number = EXCLUDED.last_number WHERE c.last_number < EXCLUDED.last_number;
  UPDATE {t} SET version = 1, updated_at = now(), updated_by = {author} WHERE fid = NEW.fid;
  {_HISTORY}
    VALUES (NEW.id, {literal(name)}, 1, 'create', now(), {author}, {reason(Action.CREATE)},
            {attributes_json(layer, "NEW")}, {_geometry(layer, "NEW")});
  RETURN NULL;
END
""",
        f"lr_outside_{name}_id": f"""
BEGIN
  {_raise(outside_edits.id_change_message(name))}
END
""",
        f"lr_outside_{name}_version": f"""
BEGIN
  {_raise(outside_edits.version_back_message(name))}
END
""",
        f"lr_outside_{name}_delete": f"""
BEGIN
  IF NOT EXISTS (SELECT 1 FROM lr_history WHERE record_id = OLD.id AND version = OLD.version + 1) THEN
    {_HISTORY}
      VALUES (OLD.id, {literal(name)}, OLD.version + 1, 'retire', now(), {author}, {reason(Action.RETIRE)},
              {attributes_json(layer, "OLD")}, {_geometry(layer, "OLD")});
  END IF;
  RETURN NULL;
END
""",
    }
    if _versioned(layer):
        bodies[f"lr_outside_{name}_update"] = f"""
BEGIN
  NEW.version := OLD.version + 1;
  NEW.updated_at := now();
  NEW.updated_by := {author};
  {_HISTORY}
    VALUES (NEW.id, {literal(name)}, NEW.version, 'update', now(), {author}, {reason(Action.UPDATE)},
            {attributes_json(layer, "NEW")}, {_geometry(layer, "NEW")});
  RETURN NEW;
END
"""
    return bodies


@cache
def triggers(layer: Layer) -> dict[str, str]:
    """The CREATE TRIGGER statements of ``layer``, keyed by trigger name (each calls its function)."""
    t, name = ident(layer.name), layer.name
    statements = {
        # Version 0 is the column default: landrelease's add and load always write 1 or more.
        f"lr_outside_{name}_insert": f"AFTER INSERT ON {t} FOR EACH ROW WHEN (NEW.version = 0)",
        f"lr_outside_{name}_id": f"BEFORE UPDATE OF id ON {t} FOR EACH ROW WHEN (NEW.id IS DISTINCT FROM OLD.id)",
        # A version written back lower (a stale feature saved whole, a field calculator on version) would make the
        # record's next version one its history already holds: no edit could then be saved, ours or theirs.
        f"lr_outside_{name}_version": f"BEFORE UPDATE OF version ON {t} FOR EACH ROW WHEN (NEW.version < OLD.version)",
        # landrelease's retire writes its retire version before deleting: the function then adds nothing.
        f"lr_outside_{name}_delete": f"AFTER DELETE ON {t} FOR EACH ROW",
    }
    versioned = _versioned(layer)
    if versioned:
        # landrelease's update always bumps the version and set_derived writes derived fields only: neither fires.
        changed = " OR ".join(f"NEW.{ident(c)} IS DISTINCT FROM OLD.{ident(c)}" for c in versioned)
        statements[f"lr_outside_{name}_update"] = (
            f"BEFORE UPDATE OF {', '.join(map(ident, versioned))} ON {t} FOR EACH ROW "
            f"WHEN (NEW.version = OLD.version AND ({changed}))"
        )
    return {n: f"CREATE TRIGGER {ident(n)} {event} EXECUTE FUNCTION {ident(n)}()" for n, event in statements.items()}


def _create_function(conn: Connection, name: str, body: str) -> None:
    conn.execute(f"CREATE OR REPLACE FUNCTION {ident(name)}() RETURNS trigger LANGUAGE plpgsql AS $lr${body}$lr$")


def _stored(conn: Connection) -> dict[str, str]:
    rows = conn.execute(
        "SELECT proname, prosrc FROM pg_proc WHERE pronamespace = current_schema()::regnamespace "
        r"AND (proname LIKE 'lr\_outside\_%' OR proname = 'lr_next_id')"
    ).fetchall()
    return {name: source for name, source in rows}


def ensure_next_id(conn: Connection) -> None:
    """Make ``lr_next_id`` (the layers' ``id`` default) if it is missing or differs."""
    if _stored(conn).get("lr_next_id") != NEXT_ID:
        conn.execute(
            "CREATE OR REPLACE FUNCTION lr_next_id(p_layer text, p_prefix text) RETURNS text LANGUAGE plpgsql "
            f"AS $lr${NEXT_ID}$lr$"
        )


def stale(conn: Connection, present: set[str]) -> bool:
    """Whether a function or trigger is missing or was made from another schema (a field added since);
    ``present`` are the trigger names the database has."""
    stored = _stored(conn)
    if stored.get("lr_next_id") != NEXT_ID:
        return True
    for layer in LAYERS.values():
        if any(stored.get(n) != body for n, body in functions(layer).items()):
            return True
        if any(n not in present for n in triggers(layer)):
            return True
    return False


def ensure(conn: Connection, present: set[str], layers: Iterable[Layer] = LAYERS.values()) -> bool:
    """Make the functions and triggers of every layer as the schema now declares them (the tables exist);
    True if any was (re)made. A layer's triggers are made again whenever its functions change."""
    ensure_next_id(conn)
    stored = _stored(conn)
    changed = False
    for layer in layers:
        bodies = functions(layer)
        remade = any(stored.get(n) != body for n, body in bodies.items())
        if remade:
            for name, body in bodies.items():
                _create_function(conn, name, body)
        for name, statement in triggers(layer).items():
            if remade or name not in present:
                conn.execute(f"DROP TRIGGER IF EXISTS {ident(name)} ON {ident(layer.name)}")
                conn.execute(statement)
                changed = True
        changed |= remade
    return changed


def version_unversioned(conn: Connection, layer: Layer) -> int:
    """Give every current row with a well-formed id and no history at all (added by another program before
    the triggers) version 1 and a ``create`` version; return how many."""
    t = ident(layer.name)
    cursor = conn.execute(
        f"WITH lacking AS (UPDATE {t} AS r SET version = 1, updated_at = now(), "
        f"updated_by = {literal(outside_edits.AUTHOR)} "
        f"WHERE r.id ~ '^{layer.id_prefix}-[0-9]+$' "
        "AND NOT EXISTS (SELECT 1 FROM lr_history AS h WHERE h.record_id = r.id) RETURNING r.*) "
        f"{_HISTORY} SELECT id, {literal(layer.name)}, 1, 'create', updated_at, updated_by, "
        f"{literal(UPGRADE_REASON)}, {attributes_json(layer, 'lacking')}, {_geometry(layer, 'lacking')} FROM lacking"
    )
    return cursor.rowcount
