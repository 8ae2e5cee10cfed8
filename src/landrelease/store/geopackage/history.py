"""``lr_history``: one row per version of every record, written with each change and never rewritten.

Attributes are a JSON object of the values that are set (fields without a value are left out, and read
back as None), so QGIS users can read them; the geometry is a GeoPackage blob (or NULL).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from json.encoder import encode_basestring
from typing import Any

from landrelease.domain.records import Action, Change, Scalar, Version
from landrelease.errors import NotFound
from landrelease.store.geopackage import blob

COLUMNS = ("record_id", "layer", "version", "action", "changed_at", "author", "reason", "attributes", "geom")
INSERT = f"INSERT INTO lr_history ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"


def to_json(attributes: Mapping[str, Scalar]) -> str:
    """The JSON object of the attributes that have a value."""
    return json.dumps({k: v for k, v in attributes.items() if v is not None}, ensure_ascii=False, separators=(",", ":"))


def _encoder(value: Scalar) -> Callable[[Any], str]:
    """How to write values of a column in JSON; checked columns hold one type (str, int, float or bool)."""
    if isinstance(value, str):
        return encode_basestring
    if isinstance(value, bool):
        return lambda v: "true" if v else "false"
    if isinstance(value, int):
        return int.__repr__
    return float.__repr__  # finite: the checks refuse NaN and infinities


def to_json_many(columns: Mapping[str, Sequence[Scalar]], count: int) -> list[str]:
    """``to_json`` of each row of a batch given as (checked) columns, built from per-column fragments:
    several times faster than ``json.dumps`` per row for large batches."""
    parts: list[list[str]] = []
    gaps = False  # whether some row lacks a value somewhere (its empty fragment must not leave a comma)
    for name, column in columns.items():
        first = next((v for v in column if v is not None), None)
        if first is None:
            continue
        key, encode = encode_basestring(name) + ":", _encoder(first)
        if None in column:
            gaps = True
            parts.append(["" if v is None else key + encode(v) for v in column])
        else:
            parts.append([key + text for text in map(encode, column)])
    if not parts:
        return ["{}"] * count
    if gaps:
        return ["{" + ",".join(filter(None, row)) + "}" for row in zip(*parts, strict=True)]
    return ["{" + ",".join(row) + "}" for row in zip(*parts, strict=True)]


def read(conn: sqlite3.Connection, record_id: str, names: Sequence[str]) -> list[Version]:
    """Every version of a record, oldest first; its attributes as ``names`` (absent ones None)."""
    rows = conn.execute(
        "SELECT version, action, changed_at, author, reason, attributes, geom FROM lr_history "
        "WHERE record_id = ? ORDER BY version",
        (record_id,),
    ).fetchall()
    if not rows:
        raise NotFound(f"no record {record_id}")
    geometries = blob.decode_many([row[6] for row in rows])
    versions = []
    for (version, action, changed_at, author, reason, attributes, _), geometry in zip(rows, geometries, strict=True):
        stored = json.loads(attributes)
        versions.append(
            Version(
                record_id=record_id,
                version=version,
                action=Action(action),
                change=Change(author=author, reason=reason, at=datetime.fromisoformat(changed_at)),
                attributes={n: stored.get(n) for n in names},
                geometry=geometry,
            )
        )
    return versions


def missing(conn: sqlite3.Connection, record_id: str) -> NotFound:
    """The error for a record that is not current: retired (saying when, by whom and why) or unknown."""
    last = conn.execute(
        "SELECT action, changed_at, author, reason FROM lr_history WHERE record_id = ? ORDER BY version DESC LIMIT 1",
        (record_id,),
    ).fetchone()
    if last is not None and last[0] == Action.RETIRE.value:
        return NotFound(f"{record_id} was retired on {last[1][:10]} by {last[2]}: {last[3]}")
    return NotFound(f"no record {record_id}")
