"""Mapping a file's own column names onto the layer's fields (``--map name=Hazard_Name,...``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from landrelease.domain.schema import Layer
from landrelease.errors import InvalidInput

#: Column names the field commonly uses for our fields (matched case-insensitively, after exact names).
ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("title", "назва", "hazard_name", "site_name", "area_name", "label"),
    "hazard_class": ("class", "hazard_type_class", "classification"),
    "reported_date": ("date", "report_date", "date_reported", "дата"),
    "operator": ("organisation", "organization", "org", "оператор"),
    "source_ref": ("ref", "reference", "source_id", "external_id", "fileid", "file_id", "code_source"),
    "kind": ("release_kind", "method"),
    "release_date": ("date", "end_date", "completion_date"),
    "found_date": ("date", "find_date"),
    "accident_date": ("date", "incident_date"),
    "session_date": ("date",),
    "quantity": ("qty", "count", "number"),
    "ordnance_model": ("model", "device", "ordnance"),
    "hazard_id": ("hazard", "hazard_code"),
    "code": ("iso3166-2", "iso", "pcode", "koatuu"),
    "name_en": ("name:en", "name_english", "english_name"),
}


def parse_map(text: str | None) -> dict[str, str]:
    """``"name=Hazard_Name,status=Stat"`` as ``{"name": "Hazard_Name", "status": "Stat"}``."""
    if not text:
        return {}
    out: dict[str, str] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        field, sep, column = item.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise InvalidInput(f"--map takes field=Column pairs separated by commas; {item.strip()!r} is not one")
        out[field.strip()] = column.strip()
    return out


def resolve_mapping(layer: Layer, columns: Iterable[str], explicit: Mapping[str, str]) -> dict[str, str]:
    """{field: column} for every field the file provides: explicit first, then exact names, then aliases."""
    columns = list(columns)
    by_lower = {c.lower(): c for c in columns}
    fields = {f.name for f in layer.fields if not f.derived}
    mapping: dict[str, str] = {}
    for field, column in explicit.items():
        if field not in fields:
            raise InvalidInput(
                f"--map names {field!r}, which is not a field of {layer.name}; fields are: {', '.join(sorted(fields))}"
            )
        if column not in columns and column.lower() not in by_lower:
            raise InvalidInput(
                f"--map names column {column!r}, which the file does not have; it has: {', '.join(columns)}"
            )
        mapping[field] = column if column in columns else by_lower[column.lower()]
    used = set(mapping.values())
    for field in layer.field_names:
        if field in mapping or field not in fields:
            continue
        for candidate in (field, *ALIASES.get(field, ())):
            found = by_lower.get(candidate.lower())
            if found is not None and found not in used:
                mapping[field] = found
                used.add(found)
                break
    return mapping
