"""Reports as CSV: one row per group (the national total first), areas in m2, hectares and km2.

The records behind each figure are in the JSON (``--json``), not here: a spreadsheet row holds figures.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

from landrelease.errors import InvalidInput

_NESTED = ("items", "eore", "records")


def _flat(row: Mapping[str, Any], items: Mapping[str, Mapping[str, int]], eore: Mapping[str, int]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key in _NESTED:
            continue
        out[key] = value
        if key.endswith("_m2") and isinstance(value, int | float):
            base = key[:-3]
            out[f"{base}_ha"] = value / 1e4
            out[f"{base}_km2"] = value / 1e6
    for label, counts in items.items():
        out[f"found: {label}"] = counts["found"]
        out[f"destroyed: {label}"] = counts["destroyed"]
    out.update({f"eore_{k}": v for k, v in eore.items() if k != "sessions"})
    return out


def land_release_csv(data: Mapping[str, Any]) -> str:
    total = {"key": "TOTAL", "name": "Total", **data["totals"]}
    for key in ("items_found", "items_destroyed"):
        if key in data:
            total[key] = data[key]
    rows = [_flat(total, data.get("items", {}), data.get("eore", {}))]
    rows += [_flat(g, g.get("items", {}), g.get("eore", {})) for g in data["groups"]]
    return _csv(rows)


def treaty_csv(data: Mapping[str, Any], section: str | None = None) -> str:
    """One section of a treaty table (the first unless named)."""
    sections = data["sections"]
    if section is None:
        chosen = sections[0]
    else:
        named = [s for s in sections if s["name"] == section]
        if not named:
            raise InvalidInput(
                f"--section takes {' or '.join(s['name'] for s in sections)} for {data['table']}, not {section!r}"
            )
        chosen = named[0]
    return _csv(chosen["rows"], list(chosen["columns"]))


def _csv(rows: list[dict[str, Any]], columns: list[str] | None = None) -> str:
    if columns is None:
        columns = []
        for row in rows:
            columns.extend(c for c in row if c not in columns)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()
