"""``lr_history``: one row per version of every record, written with each change and never rewritten.

Attributes are a JSON object of the values that are set (fields without a value are left out, and read
back as None), so QGIS users can read them; the geometry is a GeoPackage blob (or NULL).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime

from landrelease.domain.records import Action, Change, Scalar, Version
from landrelease.errors import NotFound
from landrelease.store.geopackage import blob

COLUMNS = ("record_id", "layer", "version", "action", "changed_at", "author", "reason", "attributes", "geom")
INSERT = f"INSERT INTO lr_history ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"


def to_json(attributes: Mapping[str, Scalar]) -> str:
    """The JSON object of the attributes that have a value."""
    return json.dumps({k: v for k, v in attributes.items() if v is not None}, ensure_ascii=False, separators=(",", ":"))


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
