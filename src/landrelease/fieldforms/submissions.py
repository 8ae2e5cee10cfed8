"""Reading what ODK Central and KoboToolbox export: each submission as one ``Instance``.

Layouts read (the servers' own):

- ODK submission XML (one instance per file; a .zip of instance folders, as ODK Briefcase and Collect
  keep them, with their media), parsed with defusedxml: no DTDs, no entity expansion;
- ODK Central CSV (``submissions.csv.zip``: the main table, one table per repeat joined by ``PARENT_KEY``,
  groups joined with ``-``, geopoints split into Latitude/Longitude/Altitude/Accuracy columns, ``media/``);
- ODK Central OData JSON (``{"value": [...]}``, nested groups, repeats expanded, geometry as GeoJSON);
- KoboToolbox JSON (``{"results": [...]}`` or a list: ``group/question`` keys, repeats as lists of
  objects, ``_attachments``) and CSV (``;`` or ``,`` separated, ``/`` paths).

Answers keep ODK's text form ("lat lon alt acc" points, "p; p; ..." shapes); ``geometry`` turns them into
shapes with a message per bad number.
"""

from __future__ import annotations

import csv
import io
import json
import posixpath
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

from landrelease.errors import InvalidInput, UnreadableFile, UnsafeFile

MAX_EXPORT_BYTES = 512 * 1024**2
MAX_MEMBERS = 20_000
_GEO_PARTS = ("Latitude", "Longitude", "Altitude", "Accuracy")


@dataclass
class Instance:
    """One submission as exported: answers by path ("activity/status"), repeats as lists of answers."""

    index: int
    instance_id: str | None = None
    form_id: str | None = None
    version: str | None = None
    values: dict[str, str] = field(default_factory=dict)
    repeats: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    attachments: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "instance_id": self.instance_id,
            "form_id": self.form_id,
            "version": self.version,
            "values": self.values,
            "repeats": self.repeats,
            "attachments": self.attachments,
        }


def read_export(path: Path, repeats: Iterable[str]) -> list[Instance]:
    """Every submission in an export file; ``repeats`` names the form's repeat groups."""
    names = frozenset(repeats)
    data = _read_bytes(path)
    suffix = path.suffix.lower()
    if suffix == ".zip" or data[:4] == b"PK\x03\x04":
        instances = _read_zip(path, data, names)
    elif suffix == ".xml":
        instances = [_from_xml(data, names, path.name)]
    elif suffix == ".json":
        instances = _from_json(data, names, path.name)
    elif suffix == ".csv":
        instances = _from_csv(_text(data, path.name), {}, path.name)
    else:
        raise UnreadableFile(f"{path.name}: submissions come as .csv, .json, .xml or a .zip of them")
    for i, instance in enumerate(instances, start=1):
        instance.index = i
    return instances


def read_document(data: bytes, repeats: Iterable[str], name: str) -> list[Instance]:
    """Every submission in a JSON document (Central's OData, KoboToolbox's API) fetched from a server."""
    if len(data) > MAX_EXPORT_BYTES:
        raise UnsafeFile(f"{name} is larger than {MAX_EXPORT_BYTES // 1024**2} MiB; pull fewer submissions")
    instances = _from_json(data, frozenset(repeats), name)
    for i, instance in enumerate(instances, start=1):
        instance.index = i
    return instances


def _read_bytes(path: Path) -> bytes:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise UnreadableFile(f"{path.name}: no such file") from None
    if not path.is_file():
        raise UnreadableFile(f"{path.name}: not a file")
    if size == 0:
        raise UnreadableFile(f"{path.name} is empty (0 bytes)")
    if size > MAX_EXPORT_BYTES:
        raise UnsafeFile(f"{path.name} is larger than {MAX_EXPORT_BYTES // 1024**2} MiB; export fewer submissions")
    return path.read_bytes()


def _text(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnreadableFile(f"{name} is not UTF-8 text, as ODK Central and KoboToolbox write") from None


# --- XML -------------------------------------------------------------------------------------------------


def _from_xml(data: bytes, repeats: frozenset[str], name: str) -> Instance:
    import defusedxml.ElementTree as SafeET
    from defusedxml import DefusedXmlException

    try:
        root = SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException:
        raise UnsafeFile(f"{name}: XML with a DTD or entities is refused (they can read files or explode)") from None
    except SafeET.ParseError as exc:
        raise UnreadableFile(f"{name} is not well-formed XML ({exc})") from None
    instance = Instance(0, form_id=root.get("id") or _local(root.tag), version=root.get("version"))

    def walk(element: Any, prefix: str, into: dict[str, str]) -> None:
        for child in element:
            tag = _local(child.tag)
            if len(child):
                walk(child, f"{prefix}{tag}/", into)
            else:
                into[f"{prefix}{tag}"] = (child.text or "").strip()

    for child in root:
        tag = _local(child.tag)
        if tag in repeats:
            item: dict[str, str] = {}
            walk(child, "", item)
            instance.repeats.setdefault(tag, []).append(item)
        elif len(child):
            walk(child, f"{tag}/", instance.values)
        else:
            instance.values[tag] = (child.text or "").strip()
    instance.instance_id = instance.values.get("meta/instanceID") or None
    return instance


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


# --- JSON ------------------------------------------------------------------------------------------------


def _from_json(data: bytes, repeats: frozenset[str], name: str) -> list[Instance]:
    try:
        document = json.loads(_text(data, name))
    except json.JSONDecodeError as exc:
        raise UnreadableFile(f"{name} is not JSON ({exc.msg} at line {exc.lineno})") from None
    # ODK Central's OData wraps submissions in "value", KoboToolbox's API in "results".
    rows = document.get("value", document.get("results")) if isinstance(document, dict) else document
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise UnreadableFile(
            f"{name} is not a submissions export: expected a list of submissions, "
            'or {"value": [...]} (ODK Central) or {"results": [...]} (KoboToolbox)'
        )
    return [_json_instance(row, repeats) for row in rows]


def _json_instance(row: Mapping[str, Any], repeats: frozenset[str]) -> Instance:
    instance = Instance(0, form_id=_str(row.get("_xform_id_string")))
    system: dict[str, str] = {}
    for key, value in row.items():
        if key.startswith("_"):
            system[key] = _str(value) or ""
            if key == "_attachments" and isinstance(value, list):
                instance.attachments += [
                    posixpath.basename(str(a.get("filename", ""))) for a in value if isinstance(a, dict)
                ]
            elif key == "__system" and isinstance(value, dict):
                instance.version = _str(value.get("formVersion"))
            continue
        _flatten(key, value, instance.values, instance.repeats, repeats)
    instance.instance_id = instance.values.get("meta/instanceID") or system.get("__id") or _uuid(system.get("_uuid"))
    return instance


def _flatten(
    key: str, value: Any, into: dict[str, str], repeats_into: dict[str, list[dict[str, str]]], repeats: frozenset[str]
) -> None:
    last = key.rsplit("/", 1)[-1]
    if isinstance(value, list) and (last in repeats or all(isinstance(v, dict) for v in value)):
        items = repeats_into.setdefault(last, [])
        for element in value:
            item: dict[str, str] = {}
            for k, v in (element or {}).items():
                relative = k[len(key) + 1 :] if k.startswith(f"{key}/") else k
                if not relative.startswith("_"):
                    _flatten(relative, v, item, {}, repeats)
            items.append(item)
    elif isinstance(value, dict) and "coordinates" in value and "type" in value:
        into[key] = _geojson_to_odk(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            if not k.startswith("@") and not k.endswith("@odata.navigationLink"):
                _flatten(f"{key}/{k}", v, into, repeats_into, repeats)
    elif value is not None:
        into[key] = _str(value) or ""


def _geojson_to_odk(geo: Mapping[str, Any]) -> str:
    """ODK Central's OData gives geometry as GeoJSON (lon lat alt); the forms' answers are "lat lon alt acc"."""

    def point(c: Any) -> str:
        return " ".join(str(v) for v in [c[1], c[0], *c[2:3]]) if isinstance(c, list) and len(c) >= 2 else str(c)

    coords = geo.get("coordinates")
    match geo.get("type"):
        case "Point":
            return point(coords)
        case "LineString" if isinstance(coords, list):
            return "; ".join(point(c) for c in coords)
        case "Polygon" if isinstance(coords, list) and coords:
            return "; ".join(point(c) for c in coords[0])
    return json.dumps(geo)


def _str(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _uuid(value: str | None) -> str | None:
    return None if not value else value if value.startswith("uuid:") else f"uuid:{value}"


# --- CSV and zips -----------------------------------------------------------------------------------------


def _csv_rows(text: str) -> list[dict[str, str]]:
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    central = reader.fieldnames is not None and ("KEY" in reader.fieldnames or "meta-instanceID" in reader.fieldnames)
    rows = []
    for raw in reader:
        row: dict[str, str] = {}
        for key, value in raw.items():
            if key is None:
                continue
            name = key.replace("-", "/") if central else key
            row[name] = (value or "").strip()
        rows.append(_join_geopoints(row))
    return rows


def _join_geopoints(row: dict[str, str]) -> dict[str, str]:
    """ODK Central splits a geopoint into four columns; put the answer back together."""
    for key in [k for k in row if k.endswith("/Latitude")]:
        base = key[: -len("/Latitude")]
        parts = [row.pop(f"{base}/{p}", "") for p in _GEO_PARTS]
        row[base] = " ".join(p for p in parts if p) if parts[0] and parts[1] else ""
    return row


def _from_csv(text: str, repeat_tables: Mapping[str, list[dict[str, str]]], name: str) -> list[Instance]:
    rows = _csv_rows(text)
    if not rows:
        raise UnreadableFile(f"{name} holds no submissions")
    by_key: dict[str, Instance] = {}
    instances = []
    for row in rows:
        instance = Instance(0)
        for key, value in row.items():
            if key in ("KEY", "FormVersion", "SubmissionDate", "SubmitterID", "SubmitterName", "DeviceID"):
                continue
            if key.startswith("_") or key[:1].isupper():
                continue  # KoboToolbox's and ODK Central's own columns (_id, _uuid, Status, ReviewState...)
            instance.values[key] = value
        instance.version = row.get("form_version") or row.get("FormVersion") or None
        instance.instance_id = row.get("meta/instanceID") or row.get("KEY") or _uuid(row.get("_uuid")) or None
        parent_key = row.get("KEY") or instance.instance_id
        if parent_key:
            by_key[parent_key] = instance
        instances.append(instance)
    for repeat, table in repeat_tables.items():
        for item in table:
            parent = by_key.get(item.get("PARENT_KEY", ""))
            if parent is None:
                continue
            answers = {
                (k[len(repeat) + 1 :] if k.startswith(f"{repeat}/") else k): v
                for k, v in item.items()
                if k not in ("PARENT_KEY", "KEY") and not k[:1].isupper()
            }
            parent.repeats.setdefault(repeat, []).append(answers)
    return instances


def _read_zip(path: Path, data: bytes, repeats: frozenset[str]) -> list[Instance]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise UnreadableFile(f"{path.name} is not a readable zip") from None
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) > MAX_MEMBERS or sum(m.file_size for m in members) > 4 * MAX_EXPORT_BYTES:
            raise UnsafeFile(f"{path.name} holds too many or too large files for a submissions export")

        def read(member: zipfile.ZipInfo) -> bytes:
            return archive.read(member)

        csvs = [m for m in members if m.filename.lower().endswith(".csv")]
        xmls = [m for m in members if m.filename.lower().endswith(".xml")]
        media = [posixpath.basename(m.filename) for m in members if m not in csvs and m not in xmls]
        if csvs:
            # ODK Central: the main table is the one whose name is a prefix of every repeat table's.
            main = min(csvs, key=lambda m: len(m.filename))
            stem = posixpath.splitext(posixpath.basename(main.filename))[0]
            tables: dict[str, list[dict[str, str]]] = {}
            for member in csvs:
                if member is main:
                    continue
                repeat = posixpath.splitext(posixpath.basename(member.filename))[0].removeprefix(f"{stem}-")
                tables[repeat.rsplit("-", 1)[-1]] = _csv_rows(_text(read(member), member.filename))
            instances = _from_csv(_text(read(main), main.filename), tables, main.filename)
            for instance in instances:
                named = set(_answer_files(instance))
                instance.attachments = [m for m in media if m in named]
            return instances
        if xmls:
            instances = []
            for member in sorted(xmls, key=lambda m: m.filename):
                instance = _from_xml(read(member), repeats, member.filename)
                folder = posixpath.dirname(member.filename)
                instance.attachments = [
                    posixpath.basename(m.filename)
                    for m in members
                    if m not in xmls and posixpath.dirname(m.filename) == folder
                ]
                instances.append(instance)
            return instances
    raise UnreadableFile(f"{path.name} holds no CSV or XML submissions")


def _answer_files(instance: Instance) -> Iterable[str]:
    yield from instance.values.values()
    for items in instance.repeats.values():
        for item in items:
            yield from item.values()


# --- geometry answers -------------------------------------------------------------------------------------


def _points(text: str, question: str) -> list[tuple[float, float]]:
    points = []
    for n, part in enumerate((p for p in text.strip().strip(";").split(";") if p.strip()), start=1):
        numbers = part.split()
        if len(numbers) < 2 or len(numbers) > 4:
            raise InvalidInput(f"{question}: point {n} {part.strip()!r} is not 'lat lon [alt accuracy]'")
        try:
            lat, lon = float(numbers[0]), float(numbers[1])
            for extra in numbers[2:]:
                float(extra)
        except ValueError:
            raise InvalidInput(f"{question}: point {n} {part.strip()!r} has something that is not a number") from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise InvalidInput(f"{question}: point {n} has latitude {lat} / longitude {lon}, outside the Earth")
        points.append((lon, lat))
    return points


def geometry(kind: str, text: str, question: str) -> BaseGeometry:
    """An ODK geopoint, geotrace or geoshape answer as a shape (x = longitude), or ``InvalidInput``."""
    points = _points(text, question)
    if kind == "geopoint":
        if len(points) != 1:
            raise InvalidInput(f"{question}: a location is one point, not {len(points)}")
        return Point(points[0])
    if kind == "geotrace":
        if len(points) < 2:
            raise InvalidInput(f"{question}: a line needs at least 2 points, not {len(points)}")
        return LineString(points)
    if points and points[0] != points[-1]:
        points.append(points[0])  # ODK closes the ring itself; a hand-made export may not
    if len(points) < 4:
        raise InvalidInput(f"{question}: an area needs at least 3 distinct corners")
    return Polygon(points)
