"""A submission's answers as the records it reports, checked against its form.

Pure: no database. Each record is one layer's attributes and shape, with the links to other records of
the same submission (an outcome's activity, a victim's accident, a new hazard) named by section, for the
ingestion to turn into links between reports.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

from shapely.geometry.base import BaseGeometry

from landrelease.domain.schema import FieldType, GeometryKind, layer_named
from landrelease.errors import InvalidInput
from landrelease.fieldforms.kinds import (
    LINKS,
    ORDNANCE_FIELDS,
    PHOTO,
    ROUTE,
    VERSION_QUESTION,
    FormKind,
    Section,
    asked_fields,
    decode_ordnance,
    is_required,
)
from landrelease.fieldforms.submissions import Instance, geometry


@dataclass
class FormRecord:
    section: str
    layer: str
    #: 0 for a group, 1.. for the items of a repeat: with ``section``, where a message points.
    position: int
    attributes: dict[str, str | None]
    shape: BaseGeometry | None
    #: link field -> the section whose record it names (made by this same submission).
    links: dict[str, str] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f"{self.section} {self.position}" if self.position else self.section


def records_of(kind: FormKind, instance: Instance, today: date) -> list[FormRecord]:
    """The records of a submission, hazards first, then the main record, then the rest; ``InvalidInput``
    (naming the question) for an answer the form could not have produced or the national record refuses."""
    _check_form(kind, instance)
    records: list[FormRecord] = []
    for section in kind.sections:
        if section.repeat:
            for n, answers in enumerate(instance.repeats.get(section.name, []), start=1):
                records.append(_record(kind, section, n, answers, today))
        else:
            prefix = f"{section.name}/"
            answers = {k[len(prefix) :]: v for k, v in instance.values.items() if k.startswith(prefix)}
            if section.relevant is not None and not any(v.strip() for v in answers.values()):
                continue  # a section the form did not show (an NTS of an existing hazard has no new hazard)
            records.append(_record(kind, section, 0, answers, today))
    main = next((r for r in records if r.section == kind.main.name), None)
    if main is None:
        raise InvalidInput(f"the {kind.main.name} section is not answered")
    main.attributes["extra"] = json.dumps(
        {
            "form": kind.form_id,
            "form_version": kind.version,
            "instance_id": instance.instance_id,
            "attachments": instance.attachments,
            **{k: v for k, v in main.attributes.items() if k in (PHOTO, ROUTE) and v},
        },
        ensure_ascii=False,
    )
    for extra in (PHOTO, ROUTE):
        main.attributes.pop(extra, None)
    _link(records, main)
    order = {"hazards": 0}
    return sorted(records, key=lambda r: order.get(r.layer, 1 if r is main else 2))


def _check_form(kind: FormKind, instance: Instance) -> None:
    if instance.form_id and instance.form_id not in (kind.form_id, "data"):
        raise InvalidInput(f"this is a submission of form {instance.form_id!r}, not of {kind.form_id}")
    sections = {s.name for s in kind.sections}
    if not instance.repeats.keys() & sections and not any(k.split("/", 1)[0] in sections for k in instance.values):
        raise InvalidInput(f"none of the {kind.name} form's questions are answered: is this an export of another form?")
    version = instance.values.get(VERSION_QUESTION) or instance.version
    if version and version != kind.version:
        raise InvalidInput(
            f"made with version {version} of the {kind.name} form; the current one is {kind.version}: "
            "send the team the current form (the submission is kept for correction)"
        )


def _record(kind: FormKind, section: Section, position: int, answers: dict[str, str], today: date) -> FormRecord:
    layer = layer_named(section.layer)
    where = f"{section.name} {position}" if position else section.name
    attributes: dict[str, str | None] = {}
    for f in asked_fields(kind, section):
        raw = (answers.get(f.name) or "").strip()
        if not raw:
            if is_required(section, f):
                raise InvalidInput(f"{where}: {f.name} is required but not answered")
            attributes[f.name] = None
            continue
        if (section.layer == "finds" and f.name in ORDNANCE_FIELDS) or f.name == "device":
            raw = decode_ordnance("ordnance_model" if f.name == "device" else f.name, raw)
        if f.type is FieldType.DATE:
            raw = raw[:10]  # a dateTime answer keeps its date
            try:
                day = date.fromisoformat(raw)
            except ValueError:
                raise InvalidInput(f"{where}: {f.name}: {raw!r} is not a date (yyyy-mm-dd)") from None
            if day > today:
                raise InvalidInput(f"{where}: {f.name} {raw} is in the future")
        attributes[f.name] = raw
    attributes.update(section.fixed)
    shape = None
    question = {GeometryKind.POLYGON: "boundary", GeometryKind.POINT: "location"}.get(layer.geometry)
    if question is not None:
        answer = (answers.get(question) or "").strip()
        if not answer:
            raise InvalidInput(f"{where}: {question} is not answered")
        shape = geometry("geoshape" if question == "boundary" else "geopoint", answer, f"{where}: {question}")
    if section == kind.main:
        attributes[PHOTO] = (answers.get(PHOTO) or "").strip() or None
        route = (answers.get(ROUTE) or "").strip()
        attributes[ROUTE] = geometry("geotrace", route, f"{where}: {ROUTE}").wkt if route else None
    return FormRecord(section.name, section.layer, position, attributes, shape)


def _link(records: list[FormRecord], main: FormRecord) -> None:
    """Fill each record's links: from the main record's answer (hazard_id), else to the record of the
    same submission that the link names (a new hazard, the activity, the accident)."""
    by_layer: dict[str, FormRecord] = {}
    for r in records:
        by_layer.setdefault(r.layer, r)
    for r in records:
        fields = layer_named(r.layer).field_names
        for name, target_layer in LINKS.items():
            if name not in fields or r.attributes.get(name):
                continue
            if r is not main and main.attributes.get(name):
                r.attributes[name] = main.attributes[name]
                continue
            target = by_layer.get(target_layer)
            if target is not None and target is not r:
                r.links[name] = target.section
