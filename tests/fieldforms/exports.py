"""Exports as ODK Central and KoboToolbox write them, made from answers, for the ingestion tests.

Layouts follow the servers' documented exports: Central's ``submissions.csv.zip`` (groups joined with "-",
geopoints split in four columns, one table per repeat with PARENT_KEY/KEY, ``media/``), Central's OData
JSON (nested groups, GeoJSON geometry, ``__system``), KoboToolbox's API JSON (``group/question`` keys,
repeats as lists, ``_attachments``) and the ODK submission XML ODK Collect sends.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from landrelease.fieldforms.kinds import FormKind


@dataclass
class Answers:
    instance_id: str
    values: dict[str, str]
    repeats: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    photo: str | None = None


GEOPOINT_QUESTIONS = ("location",)


def kobo_json(kind: FormKind, submissions: list[Answers]) -> bytes:
    results = []
    for n, s in enumerate(submissions, start=1):
        row: dict[str, object] = {
            "_id": 1000 + n,
            "formhub/uuid": "9f3c2b7a51e04c7d8a6b",
            "start": "2025-05-02T08:01:12.000+03:00",
            "end": "2025-05-02T08:40:55.000+03:00",
            "form_version": kind.version,
            **s.values,
            "__version__": "vQxzN7YkE5WqXb3KpR",
            "meta/instanceID": s.instance_id,
            "_xform_id_string": kind.form_id,
            "_uuid": s.instance_id.removeprefix("uuid:"),
            "_attachments": (
                [{"download_url": "https://kf.example/x", "filename": f"field/attachments/abc/{s.photo}"}]
                if s.photo
                else []
            ),
            "_status": "submitted_via_web",
            "_geolocation": [None, None],
            "_submission_time": "2025-05-02T05:41:03",
            "_tags": [],
            "_notes": [],
            "_validation_status": {},
            "_submitted_by": "team7",
        }
        for repeat, items in s.repeats.items():
            row[repeat] = [{f"{repeat}/{k}": v for k, v in item.items()} for item in items]
        results.append(row)
    return json.dumps({"count": len(results), "next": None, "previous": None, "results": results}).encode()


def _geojson(answer: str, shape: bool) -> dict[str, object]:
    points = [
        [float(p.split()[1]), float(p.split()[0]), *(float(v) for v in p.split()[2:3])] for p in answer.split(";")
    ]
    if shape:
        return {"type": "Polygon", "coordinates": [points]}
    return {"type": "Point", "coordinates": points[0], "properties": {"accuracy": 4.0}}


def central_odata(kind: FormKind, submissions: list[Answers]) -> bytes:
    def nest(flat: dict[str, str]) -> dict[str, object]:
        out: dict[str, object] = {}
        for path, value in flat.items():
            *groups, leaf = path.split("/")
            node = out
            for g in groups:
                node = node.setdefault(g, {})  # type: ignore[assignment]
            geo = leaf in ("boundary", "location") and value
            node[leaf] = _geojson(value, leaf == "boundary") if geo else (value or None)  # type: ignore[index]
        return out

    value = []
    for s in submissions:
        row = {"__id": s.instance_id, "form_version": kind.version, **nest(s.values)}
        for repeat, items in s.repeats.items():
            row[repeat] = [{"__id": f"{s.instance_id}-{i}", **nest(item)} for i, item in enumerate(items)]
            row[f"{repeat}@odata.navigationLink"] = f"Submissions('{s.instance_id}')/{repeat}"
        row["meta"] = {"instanceID": s.instance_id}
        row["__system"] = {
            "submissionDate": "2025-05-02T05:41:03.120Z",
            "submitterId": "17",
            "submitterName": "team7",
            "attachmentsPresent": 1 if s.photo else 0,
            "attachmentsExpected": 1 if s.photo else 0,
            "status": None,
            "reviewState": None,
            "deviceId": "collect:Xb2m",
            "edits": 0,
            "formVersion": kind.version,
        }
        value.append(row)
    return json.dumps({"@odata.context": "https://central.example/v1/$metadata#Submissions", "value": value}).encode()


def odk_xml(kind: FormKind, s: Answers, version: str | None = None) -> bytes:
    version = version or kind.version
    parts = [
        f'<data xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms" '
        f'id="{kind.form_id}" version="{version}">',
        f"<form_version>{version}</form_version>",
    ]
    groups: dict[str, list[str]] = {}
    for path, value in s.values.items():
        group, leaf = path.split("/", 1)
        groups.setdefault(group, []).append(f"<{leaf}>{escape(value)}</{leaf}>")
    for section in kind.sections:
        if section.name in groups:
            parts.append(f"<{section.name}>{''.join(groups[section.name])}</{section.name}>")
        for item in s.repeats.get(section.name, []):
            inner = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in item.items())
            parts.append(f"<{section.name}>{inner}</{section.name}>")
    parts.append(f"<meta><instanceID>{s.instance_id}</instanceID></meta></data>")
    return "".join(parts).encode()


def central_csv_zip(kind: FormKind, submissions: list[Answers]) -> bytes:
    def columns(flat: dict[str, str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for path, value in flat.items():
            name = path.replace("/", "-")
            if path.rsplit("/", 1)[-1] in GEOPOINT_QUESTIONS:
                numbers = value.split() + [""] * 4
                for part, number in zip(("Latitude", "Longitude", "Altitude", "Accuracy"), numbers, strict=False):
                    out[f"{name}-{part}"] = number
            else:
                out[name] = value
        return out

    def table(rows: list[dict[str, str]]) -> str:
        header: list[str] = []
        for r in rows:
            header += [c for c in r if c not in header]
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)
        return buffer.getvalue()

    main: list[dict[str, str]] = []
    repeats: dict[str, list[dict[str, str]]] = {}
    for s in submissions:
        main.append(
            {
                "SubmissionDate": "2025-05-02T05:41:03.120Z",
                "form_version": kind.version,
                **columns(s.values),
                "meta-instanceID": s.instance_id,
                "KEY": s.instance_id,
                "SubmitterID": "17",
                "SubmitterName": "team7",
                "AttachmentsPresent": "1" if s.photo else "0",
                "AttachmentsExpected": "1" if s.photo else "0",
                "Status": "",
                "ReviewState": "",
                "DeviceID": "collect:Xb2m",
                "Edits": "0",
                "FormVersion": kind.version,
            }
        )
        for repeat, items in s.repeats.items():
            for i, item in enumerate(items, start=1):
                repeats.setdefault(repeat, []).append(
                    {**columns(item), "PARENT_KEY": s.instance_id, "KEY": f"{s.instance_id}/{repeat}[{i}]"}
                )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"{kind.form_id}.csv", table(main))
        for repeat, rows in repeats.items():
            archive.writestr(f"{kind.form_id}-{repeat}.csv", table(rows))
        for s in submissions:
            if s.photo:
                archive.writestr(f"media/{s.photo}", b"\xff\xd8\xff\xe0 not really a jpeg")
    return buffer.getvalue()
