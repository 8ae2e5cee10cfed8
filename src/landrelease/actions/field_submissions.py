"""Field form exports (ODK Central, KoboToolbox) into the review queue: never into the national record.

Each submission becomes the submitted reports of its records (the activity, its outcome polygons and
finds; the accident and its victims...), checked at the door exactly as ``POST /api/submissions`` checks a
report. Records of one submission that link to each other (a victim to its accident) are linked report to
report, and approval fills in the record id once the report it names is approved.

A submission is all or nothing: every record is checked before any report is kept. One that fails is kept
whole in the instance ledger (``fieldforms.instances``) with status ``needs_correction`` and its reason,
and listed in the summary (and by ``landrelease submissions corrections``); a corrected export with the
same instance id is taken in on the next import. An instance id already in the queue is a duplicate:
re-importing an export adds nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import shapely.geometry

from landrelease.accounts.protocol import SubmissionStore
from landrelease.actions import review
from landrelease.domain.records import ID_NUMBER_PATTERN
from landrelease.errors import InvalidInput, NotFound
from landrelease.fieldforms.instances import NEEDS_CORRECTION, SUBMITTED, SeenInstance, open_form_instances
from landrelease.fieldforms.kinds import FormKind, form_kind
from landrelease.fieldforms.records import FormRecord, records_of
from landrelease.fieldforms.submissions import Instance, read_export
from landrelease.fieldforms.xlsform import ORGANISATION_FIELDS
from landrelease.store.protocol import Store

_RECORD_ID = re.compile(rf"^[A-Z]{{2}}-{ID_NUMBER_PATTERN}$")  # OR-000001 ... OR-1000000 and on


@dataclass(frozen=True)
class Problem:
    index: int
    instance_id: str | None
    reason: str

    def as_dict(self) -> dict[str, object]:
        return {"index": self.index, "instance_id": self.instance_id, "reason": self.reason}


@dataclass
class SubmissionsSummary:
    """What an import of submissions did; ``as_dict`` is the CLI's ``--json`` contract."""

    form: str
    file: str
    imported: int = 0
    rejected: int = 0
    duplicates: int = 0
    errors: list[Problem] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)
    reports: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "imported": self.imported,
            "rejected": self.rejected,
            "duplicates": self.duplicates,
            "errors": [e.as_dict() for e in self.errors],
            "duplicate_list": [d.as_dict() for d in self.skipped],
            "reports": self.reports,
            "form": self.form,
            "file": self.file,
        }


def import_submissions(
    store: Store,
    submissions: SubmissionStore,
    location: str,
    path: Path,
    form: str,
    author: str,
    *,
    today: date | None = None,
) -> SubmissionsSummary:
    """Put every submission of an export into the review queue; see the module docstring."""
    kind = form_kind(form)
    instances = read_export(path, repeat_groups(kind))
    return import_instances(store, submissions, location, instances, kind, str(path), author, today=today)


def repeat_groups(kind: FormKind) -> list[str]:
    return [s.name for s in kind.sections if s.repeat]


def import_instances(
    store: Store,
    submissions: SubmissionStore,
    location: str,
    instances: list[Instance],
    kind: FormKind,
    source: str,
    author: str,
    *,
    today: date | None = None,
) -> SubmissionsSummary:
    """Put submissions already read (from a file, or pulled from a server) into the review queue."""
    summary = SubmissionsSummary(form=kind.name, file=source)
    ledger = open_form_instances(location)
    try:
        seen = ledger.seen([i.instance_id for i in instances if i.instance_id])
        in_this_file: set[str] = set()
        for instance in instances:
            iid = instance.instance_id
            if not iid:
                summary.rejected += 1
                summary.errors.append(Problem(instance.index, None, "no instance id (meta/instanceID): not an export"))
                continue
            if iid in in_this_file:
                summary.duplicates += 1
                summary.skipped.append(Problem(instance.index, iid, "the same instance id is earlier in this export"))
                continue
            in_this_file.add(iid)
            before = seen.get(iid)
            if before is not None and before.status == SUBMITTED:
                summary.duplicates += 1
                why = f"already in the review queue as {', '.join(before.reports)}"
                summary.skipped.append(Problem(instance.index, iid, why))
                continue
            try:
                reports = _submit(store, submissions, kind, instance, author, today or date.today())
            except InvalidInput as exc:
                summary.rejected += 1
                summary.errors.append(Problem(instance.index, iid, exc.message))
                ledger.keep(_seen(kind, instance, NEEDS_CORRECTION, exc.message, []))
                continue
            summary.imported += 1
            summary.reports += reports
            ledger.keep(_seen(kind, instance, SUBMITTED, None, reports))
    finally:
        ledger.close()
    return summary


def _seen(kind: FormKind, instance: Instance, status: str, reason: str | None, reports: list[str]) -> SeenInstance:
    assert instance.instance_id is not None
    version = instance.values.get("form_version") or instance.version
    return SeenInstance(instance.instance_id, kind.name, version, status, reason, reports, instance.as_dict())


def _submit(
    store: Store, submissions: SubmissionStore, kind: FormKind, instance: Instance, author: str, today: date
) -> list[str]:
    """Check every record of a submission, then keep each as a submitted report; their ids."""
    records = records_of(kind, instance, today)
    payloads: list[tuple[FormRecord, dict[str, Any]]] = []
    for record in records:
        _organisation_names(store, record)
        try:
            payload = review.prepare(
                store,
                layer_name=record.layer,
                attributes=record.attributes,
                geometry=None if record.shape is None else shapely.geometry.mapping(record.shape),
                linked_reports={name: "(this submission)" for name in record.links},
            )
        except InvalidInput as exc:
            raise InvalidInput(f"{record.where}: {exc.message}") from None
        payloads.append((record, payload))
    main = next(r for r in records if r.section == kind.main.name)
    organisation = next((str(main.attributes[f]) for f in ORGANISATION_FIELDS if main.attributes.get(f)), None)
    made: dict[str, str] = {}
    ids = []
    for record, payload in payloads:
        for name, section in record.links.items():
            payload["attributes"][name] = payload["linked_reports"][name] = made[section]
        report = submissions.add_submission(record.layer, payload, organisation, author, "submitted")
        made.setdefault(record.section, report.id)
        ids.append(report.id)
    return ids


def _organisation_names(store: Store, record: FormRecord) -> None:
    """Forms offer the database's organisations by id; the records name them, as every import does."""
    for name in ORGANISATION_FIELDS:
        value = record.attributes.get(name)
        if value and _RECORD_ID.match(value):
            try:
                found = store.get(value)
            except NotFound:
                continue
            if found.layer == "organisations" and found.attributes.get("name"):
                record.attributes[name] = str(found.attributes["name"])
