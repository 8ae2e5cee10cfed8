"""Submit, review, approve: how an operator's report becomes (part of) the national record.

Operators never write to the national record. Their report is checked at the door with the importer's own
rules (``coerce_attributes``, ``check_geometry``) and kept as *submitted*; a reviewer reconciles it as a
new record or as an update of an existing one (optimistic locking: a stale version is a ``Conflict``, and
the report stays submitted, nothing lost), or rejects it with a reason. Every write carries who approved
it and which report it came from, so the record's history tells the whole story.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import shapely.geometry
from shapely.geometry.base import BaseGeometry

from landrelease.accounts.protocol import Submission, SubmissionStore
from landrelease.actions.linking import admin_area_of, programme_extent
from landrelease.actions.release import refresh_ledger
from landrelease.domain.attributes import coerce_attributes
from landrelease.domain.ledger import LEDGER_INPUTS
from landrelease.domain.records import Change, Feature, NewFeature, Scalar, id_order
from landrelease.domain.schema import GeometryKind, Layer, layer_named
from landrelease.domain.vocabulary import ActivityStatus, HazardStatus, ReportStatus
from landrelease.domain.workflow import REPORT_WORKFLOW, WORKFLOWS
from landrelease.errors import Conflict, InvalidInput, NotFound
from landrelease.geo.validation import Verdict, check_geometry
from landrelease.store.protocol import KEEP, Keep, Store

#: What operators report from the field (admin areas and organisations are the authority's own).
SUBMITTABLE = ("hazards", "activities", "outcomes", "finds", "accidents", "victims", "eore")
#: Link fields and the layer their ids must be current records of.
LINKS = {"hazard_id": "hazards", "activity_id": "activities", "accident_id": "accidents"}
#: Status a new record starts in when the report gives none.
INITIAL_STATUS = {"hazards": HazardStatus.ACTIVE.value, "activities": ActivityStatus.PLANNED.value}

GeoJSON = Mapping[str, Any]

# Approvals in this process run one at a time; across processes (servers sharing a PostGIS database) the
# submission store holds the report while it is decided (``deciding``), so a report is written to the
# national record once even when two reviewers press "approve" together; its status is compare-and-set too.
_APPROVING = threading.Lock()


class InvalidReport(InvalidInput):
    """A report refused at the door: nothing was written."""

    http_status = 422


@dataclass(frozen=True)
class Reconcile:
    """The reviewer's decision: a new record, or an update of ``target_id`` as it was at ``target_version``."""

    as_: Literal["new", "existing"]
    target_id: str | None = None
    target_version: int | None = None


# --- submit ------------------------------------------------------------------------------------------------


def submit(
    store: Store,
    submissions: SubmissionStore,
    *,
    layer_name: str,
    attributes: Mapping[str, object],
    geometry: GeoJSON | None,
    author: str,
    organisation: str | None,
    target_id: str | None = None,
    target_version: int | None = None,
    draft: bool = False,
) -> Submission:
    """Check a report as the importer would and keep it as *submitted* (or as a *draft* its organisation
    finishes and submits later); ``InvalidReport`` (nothing kept) if not."""
    payload = prepare(
        store,
        layer_name=layer_name,
        attributes=attributes,
        geometry=geometry,
        target_id=target_id,
        target_version=target_version,
    )
    status = ReportStatus.DRAFT if draft else ReportStatus.SUBMITTED
    return submissions.add_submission(payload["layer"], payload, organisation, author, status.value)


#: Reports their organisation may still change: its drafts, and reports a reviewer sent back.
REVISABLE = (ReportStatus.DRAFT.value, ReportStatus.REJECTED.value)


def revise(
    store: Store,
    submissions: SubmissionStore,
    submission_id: str,
    *,
    editor: str,
    organisation: str | None,
    attributes: Mapping[str, object] | None = None,
    geometry: GeoJSON | None = None,
    target_id: str | None = None,
    target_version: int | None = None,
    submit_now: bool = False,
) -> Submission:
    """Change a draft or a rejected report (its organisation only) and keep it as a draft or submit it.

    ``attributes`` None keeps the report's content as it is (a draft submitted unchanged); otherwise the
    whole report is replaced and checked at the door again, as when it was first sent.
    """
    report = submissions.submission(submission_id)
    own = report.organisation == organisation if organisation is not None else report.author == editor
    if not own:
        raise NotFound(f"no submission {submission_id!r}")  # another organisation's: not revealed
    if report.status not in REVISABLE:
        raise Conflict(f"{submission_id} is {report.status}: only a draft or a report sent back can be changed")
    status = ReportStatus.SUBMITTED.value if submit_now else ReportStatus.DRAFT.value
    if status != report.status:
        REPORT_WORKFLOW.check(report.status, status, "revised by its organisation")
    if attributes is None:
        payload = dict(report.payload)
    else:
        payload = prepare(
            store,
            layer_name=report.layer,
            attributes=attributes,
            geometry=geometry,
            target_id=target_id,
            target_version=target_version,
        )
    return submissions.revise(submission_id, report.status, payload, status)


def prepare(
    store: Store,
    *,
    layer_name: str,
    attributes: Mapping[str, object],
    geometry: GeoJSON | None,
    target_id: str | None = None,
    target_version: int | None = None,
    linked_reports: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A report checked at the door, as the payload ``submit`` keeps; ``InvalidReport`` if it is refused.

    ``linked_reports`` names link fields (``accident_id``...) whose record is made by another report still
    in the queue (a field form's victim and its accident): approval fills them in once that report is.
    """
    try:
        layer = layer_named(layer_name)
    except NotFound as exc:
        raise InvalidReport(exc.message) from None
    if layer.name not in SUBMITTABLE:
        raise InvalidReport(f"{layer.name} are kept by the authority; reports cover: {', '.join(SUBMITTABLE)}")
    if (target_id is None) != (target_version is None):
        raise InvalidReport("an update names both target_id and target_version (the version you saw)")
    update = target_id is not None
    if target_id is not None:
        current = _linked(store, target_id, layer.name, "target_id")
        if target_version is not None and not 1 <= target_version <= current.version:
            raise InvalidReport(f"{target_id} has no version {target_version} (it is at {current.version})")
    values = dict(attributes)
    if not update and layer.name in INITIAL_STATUS and values.get("status") in (None, ""):
        values["status"] = INITIAL_STATUS[layer.name]
    pending = dict(linked_reports or {})
    checked = _attributes(layer, {**values, **pending}, partial=update)
    _check_links(store, {k: v for k, v in checked.items() if k not in pending})
    shape = _geometry(store, layer, geometry, required=not update)
    payload: dict[str, Any] = {
        "layer": layer.name,
        "attributes": checked,
        "geometry": None if shape is None else shapely.geometry.mapping(shape),
        "target_id": target_id,
        "target_version": target_version,
    }
    if pending:
        payload["linked_reports"] = pending
    return payload


def _attributes(layer: Layer, values: Mapping[str, object], *, partial: bool) -> dict[str, Scalar]:
    for name, value in values.items():
        if not isinstance(value, str | int | float | bool | type(None)):
            raise InvalidReport(f"{name}: a single value is expected, not {type(value).__name__}")
        if isinstance(value, float) and not math.isfinite(value):
            # Python's JSON reader takes NaN and Infinity; they are not JSON, and not figures anyone meant.
            raise InvalidReport(f"{name}: {value} is not a number (send null to leave it empty)")
    try:
        checked = coerce_attributes(layer, values, partial=partial)
    except InvalidInput as exc:
        raise InvalidReport(exc.message) from None
    for name, value in checked.items():
        # SQLite (and PostgreSQL's bigint) hold 64-bit integers; coerce_attributes does not bound them.
        if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
            raise InvalidReport(f"{name}: {value} is too large a number")
    return checked


def _check_links(store: Store, attributes: Mapping[str, Scalar]) -> None:
    for name, layer in LINKS.items():
        value = attributes.get(name)
        if value is not None:
            _linked(store, str(value), layer, name)


def _linked(store: Store, record_id: str, layer: str, field: str) -> Feature:
    try:
        feature = store.get(record_id)
    except NotFound:
        raise InvalidReport(f"{field}: {record_id} is not a current record") from None
    if feature.layer != layer:
        raise InvalidReport(f"{field}: {record_id} is in {feature.layer}, not {layer}")
    return feature


def _geometry(store: Store, layer: Layer, geometry: GeoJSON | None, *, required: bool) -> BaseGeometry | None:
    if layer.geometry is GeometryKind.NONE:
        if geometry is not None:
            raise InvalidReport(f"{layer.name} have no location: leave geometry out")
        return None
    if geometry is None and not required:
        return None
    shape = None if geometry is None else geometry_from_geojson(geometry)
    checked = check_geometry(0, shape, layer.geometry, repair=False, extent=programme_extent(store))
    if checked.verdict is Verdict.REJECTED:
        raise InvalidReport(f"geometry: {checked.reason}")
    return checked.geometry


def geometry_from_geojson(geometry: GeoJSON) -> BaseGeometry:
    """A shapely geometry from a GeoJSON geometry object, or ``InvalidReport`` saying what is wrong."""
    try:
        shape = shapely.geometry.shape(geometry)
    except Exception as exc:  # shapely raises many kinds for malformed input
        raise InvalidReport(f"geometry is not a GeoJSON geometry ({type(exc).__name__}: {exc})"[:300]) from None
    assert isinstance(shape, BaseGeometry)
    return shape


# --- review ------------------------------------------------------------------------------------------------


def visible_submissions(
    submissions: SubmissionStore,
    *,
    sees_all: bool,
    organisation: str | None,
    author: str,
    status: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Submission]:
    """Reviewers see every report; an operator only their organisation's (or, without one, their own)."""
    if sees_all:
        return submissions.submissions(status=status, limit=limit, offset=offset)
    if organisation is not None:
        return submissions.submissions(organisation=organisation, status=status, limit=limit, offset=offset)
    return submissions.submissions(author=author, status=status, limit=limit, offset=offset)


def visible_submission(
    submissions: SubmissionStore, submission_id: str, *, sees_all: bool, organisation: str | None, author: str
) -> Submission:
    """One report, or ``NotFound`` when it is another organisation's (its existence is not revealed)."""
    found = submissions.submission(submission_id)
    if sees_all or (found.organisation == organisation if organisation is not None else found.author == author):
        return found
    raise NotFound(f"no submission {submission_id!r}")


def diff(store: Store, submission: Submission) -> dict[str, Any] | None:
    """For an update: each field the report changes (current and proposed), whether the location changes,
    and whether the record moved on since the version the report was based on."""
    target = submission.payload.get("target_id")
    if not isinstance(target, str):
        return None
    try:
        current = store.get(target)
    except NotFound:
        return {"target_id": target, "missing": True, "fields": [], "geometry_changed": False}
    proposed: Mapping[str, Scalar] = submission.payload.get("attributes") or {}
    fields = [
        {"field": name, "current": current.attributes.get(name), "proposed": value}
        for name, value in proposed.items()
        if current.attributes.get(name) != value
    ]
    geometry = submission.payload.get("geometry")
    moved = geometry is not None and (
        current.geometry is None or not geometry_from_geojson(geometry).equals(current.geometry)
    )
    return {
        "target_id": target,
        "missing": False,
        "target_version": submission.payload.get("target_version"),
        "current_version": current.version,
        "stale": current.version != submission.payload.get("target_version"),
        "fields": fields,
        "geometry_changed": moved,
    }


def approve(
    store: Store, submissions: SubmissionStore, submission_id: str, reviewer: str, decision: Reconcile, reason: str = ""
) -> Submission:
    """Write the report into the national record as the reviewer reconciled it, then mark it approved."""
    with _APPROVING, submissions.deciding(submission_id):
        report = submissions.submission(submission_id)
        why = reason.strip() or "approved"
        REPORT_WORKFLOW.check(report.status, ReportStatus.APPROVED.value, why)
        layer = layer_named(report.layer)
        attributes: dict[str, Scalar] = dict(report.payload.get("attributes") or {})
        geojson = report.payload.get("geometry")
        shape = None if geojson is None else geometry_from_geojson(geojson)
        for name, linked in (report.payload.get("linked_reports") or {}).items():
            attributes[name] = _record_of(submissions, str(linked), name)
        _check_links(store, attributes)
        change = Change(
            reviewer, f"{report.id} from {report.author} ({report.organisation or 'no organisation'}): {why}"
        )
        if decision.as_ == "new":
            record = _add(store, layer, attributes, shape, change, report.id)
        else:
            if decision.target_id is None or decision.target_version is None:
                raise InvalidReport("reconciling as an existing record needs target_id and target_version")
            _linked(store, decision.target_id, layer.name, "target_id")
            record = apply_update(
                store, decision.target_id, attributes, KEEP if shape is None else shape, decision.target_version, change
            )
        return submissions.decide(
            report.id,
            ReportStatus.SUBMITTED.value,
            ReportStatus.APPROVED.value,
            reviewer,
            why,
            record.id,
            record.version,
        )


def _record_of(submissions: SubmissionStore, report_id: str, field: str) -> str:
    """The record an approved report made, for a report that links to it."""
    linked = submissions.submission(report_id)
    if linked.status != ReportStatus.APPROVED.value or linked.record_id is None:
        raise InvalidReport(f"{field} is the record of report {report_id} ({linked.status}): approve that one first")
    return linked.record_id


def reject(submissions: SubmissionStore, submission_id: str, reviewer: str, reason: str) -> Submission:
    """Send a report back with a reason (required): nothing reaches the national record."""
    with submissions.deciding(submission_id):  # not while an approval of it is writing the record
        report = submissions.submission(submission_id)
        REPORT_WORKFLOW.check(report.status, ReportStatus.REJECTED.value, reason)
        return submissions.decide(
            report.id, ReportStatus.SUBMITTED.value, ReportStatus.REJECTED.value, reviewer, reason.strip()
        )


# --- writing ----------------------------------------------------------------------------------------------


def edit_record(
    store: Store,
    record_id: str,
    layer_name: str,
    attributes: Mapping[str, object],
    geometry: GeoJSON | None,
    expected_version: int,
    author: str,
    reason: str,
) -> Feature:
    """A reviewer's direct edit, checked like a report and refused with ``Conflict`` if the record moved on."""
    layer = layer_named(layer_name)
    if store.get(record_id).layer != layer.name:
        raise NotFound(f"no record {record_id} in {layer.name}")
    if not reason.strip():
        raise InvalidReport("an edit needs a reason: it is kept in the record's history")
    checked = _attributes(layer, attributes, partial=True)
    _check_links(store, checked)
    shape = _geometry(store, layer, geometry, required=False)
    return apply_update(
        store, record_id, checked, KEEP if shape is None else shape, expected_version, Change(author, reason)
    )


def apply_update(
    store: Store,
    record_id: str,
    attributes: Mapping[str, Scalar],
    geometry: BaseGeometry | Keep,
    expected_version: int,
    change: Change,
) -> Feature:
    """Update with optimistic locking; a status change goes through the layer's workflow; the ledger follows."""
    current = store.get(record_id)
    workflow = WORKFLOWS.get(current.layer)
    new_status = attributes.get("status")
    moves = workflow is not None and new_status is not None and new_status != current.attributes.get("status")
    if workflow is not None and moves:
        workflow.check(str(current.attributes.get("status") or workflow.initial), str(new_status), change.reason)
    before = store.ledger_state()
    updated = store.update(
        record_id, change, attributes, geometry, status_change=moves, expected_version=expected_version
    )
    inputs = LEDGER_INPUTS.get(current.layer)
    # The store's update trigger counts a change whenever the geometry or a ledger input column is written
    # (an update writes every column of ``inputs``), whether or not its value changed.
    if inputs is not None and (geometry is not KEEP or inputs):
        hazards = {record_id} if current.layer == "hazards" else set()
        for feature in (current, updated):
            if feature.attributes.get("hazard_id"):
                hazards.add(str(feature.attributes["hazard_id"]))
        refresh_ledger(store, sorted(hazards, key=id_order), before=before, changes=1)
    return updated


def _add(
    store: Store,
    layer: Layer,
    attributes: dict[str, Scalar],
    shape: BaseGeometry | None,
    change: Change,
    report_id: str,
) -> Feature:
    attributes.setdefault("source", "submission")
    attributes["source_ref"] = report_id
    if layer.name == "hazards" and not attributes.get("admin_area"):
        attributes["admin_area"] = admin_area_of(store, [shape])[0]
    before = store.ledger_state()
    record_id = store.add(layer.name, [NewFeature(attributes, shape)], change)[0]
    if layer.name in LEDGER_INPUTS:
        hazard = record_id if layer.name == "hazards" else attributes.get("hazard_id")
        if hazard:
            refresh_ledger(store, [str(hazard)], before=before, changes=1)
    return store.get(record_id)
