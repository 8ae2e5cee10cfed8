"""The JSON the API speaks, declared once: the OpenAPI document is generated from these."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from landrelease.service.context import Role

#: An attribute value as the store keeps it.
Value = str | int | float | bool | None
#: A GeoJSON geometry object (checked by the validation at the door, not here).
GeoJSONGeometry = dict[str, Any]
Name = Annotated[str, Field(min_length=1, max_length=64)]
Reason = Annotated[str, Field(min_length=1, max_length=2000)]
RecordId = Annotated[str, Field(min_length=1, max_length=40)]


class LayerPath(StrEnum):
    """The layers as they appear in URLs."""

    HAZARDS = "hazards"
    ACTIVITIES = "activities"
    OUTCOMES = "outcomes"
    FINDS = "finds"
    ACCIDENTS = "accidents"
    VICTIMS = "victims"
    EORE = "eore"
    ORGANISATIONS = "organisations"
    ADMIN_AREAS = "admin-areas"


class Strict(BaseModel):
    """Input models refuse fields they do not know (a typo must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid")


class ErrorOut(BaseModel):
    error: str


class ProblemOut(BaseModel):
    where: str
    problem: str


class InvalidOut(ErrorOut):
    """A request the declared types refuse: the first problem in ``error``, each one in ``problems``."""

    problems: list[ProblemOut] = Field(default_factory=list)


class OgcExceptionOut(BaseModel):
    """The OGC API exception document."""

    code: str
    description: str


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class FeatureOut(BaseModel):
    """A record as a GeoJSON Feature, with its version (also sent as the ``ETag``)."""

    type: Literal["Feature"] = "Feature"
    id: str
    layer: str
    version: int
    properties: dict[str, Value]
    geometry: GeoJSONGeometry | None


class FeatureCollectionOut(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[FeatureOut]
    number_matched: int
    number_returned: int
    limit: int
    offset: int


class VersionOut(BaseModel):
    version: int
    action: str
    at: datetime
    author: str
    reason: str
    properties: dict[str, Value]
    geometry: GeoJSONGeometry | None


class RecordEdit(Strict):
    """A direct edit (reviewers and admins), sent with ``If-Match: <version>``."""

    attributes: dict[str, Value] = Field(default_factory=dict, max_length=200)
    geometry: GeoJSONGeometry | None = None
    reason: Reason


class SubmissionIn(Strict):
    """An operator's report: a new record, or (with ``target_id`` and ``target_version``) an update."""

    layer: Annotated[str, Field(min_length=1, max_length=40)]
    attributes: dict[str, Value] = Field(default_factory=dict, max_length=200)
    geometry: GeoJSONGeometry | None = None
    target_id: RecordId | None = None
    target_version: Annotated[int, Field(ge=1, le=2**31)] | None = None
    draft: bool = Field(default=False, description="Keep it as a draft for your organisation to finish and submit")


class SubmissionRevision(Strict):
    """A draft or a sent-back report, corrected (the whole report again), kept as a draft or submitted.
    Without ``attributes`` the content stays as it is (submit a draft unchanged)."""

    attributes: dict[str, Value] | None = Field(default=None, max_length=200)
    geometry: GeoJSONGeometry | None = None
    target_id: RecordId | None = None
    target_version: Annotated[int, Field(ge=1, le=2**31)] | None = None
    submit: bool = Field(default=False, description="Submit it for review now (else it stays a draft)")


class ApproveNew(Strict):
    reconcile: Literal["new"]
    reason: Annotated[str, Field(max_length=2000)] = ""


class ApproveExisting(Strict):
    reconcile: Literal["existing"]
    target_id: RecordId
    target_version: Annotated[int, Field(ge=1, le=2**31)]
    reason: Annotated[str, Field(max_length=2000)] = ""


Approval = Annotated[ApproveNew | ApproveExisting, Field(discriminator="reconcile")]


class Rejection(Strict):
    reason: Reason


class FieldChange(BaseModel):
    field: str
    current: Value
    proposed: Value


class DiffOut(BaseModel):
    """What an update would change in the current record."""

    target_id: str
    missing: bool
    target_version: int | None = None
    current_version: int | None = None
    stale: bool = False
    fields: list[FieldChange]
    geometry_changed: bool


class SubmissionOut(BaseModel):
    id: str
    layer: str
    status: str
    organisation: str | None
    author: str
    reason: str | None
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    record_id: str | None
    record_version: int | None
    attributes: dict[str, Value]
    geometry: GeoJSONGeometry | None
    target_id: str | None
    target_version: int | None
    diff: DiffOut | None = None


class SubmissionList(BaseModel):
    submissions: list[SubmissionOut]
    limit: int
    offset: int


class LoginIn(Strict):
    name: Name
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class UserOut(BaseModel):
    name: str
    role: Role
    organisation: str | None


class UserIn(Strict):
    name: Name
    role: Role
    organisation: Annotated[str, Field(max_length=200)] | None = None
    password: Annotated[str, Field(min_length=8, max_length=1024)] | None = None


class NewUserOut(UserOut):
    token: str


class PeriodOut(BaseModel):
    label: str
    start: str
    end: str


class LandReleaseOut(BaseModel):
    """estimated = cancelled + reduced + cleared + remaining, nationally and per group (m2); with a period,
    estimated = released before + cancelled + reduced + cleared + remaining at its end. The same JSON as
    ``landrelease report land-release --json``: each group lists the records behind its figures."""

    totals: dict[str, float | int]
    by: Literal["admin", "operator", "month", "quarter", "year", "donor"] | None
    groups: list[dict[str, Any]]
    unlinked_outcomes: int
    generated_at: str
    period: PeriodOut | None = None
    totals_ha: dict[str, float] = Field(default_factory=dict)
    totals_km2: dict[str, float] = Field(default_factory=dict)
    remaining_basis: str | None = None
    undated: dict[str, int] | None = None
    items: dict[str, dict[str, int]] = Field(default_factory=dict)
    eore: dict[str, int] = Field(default_factory=dict)
    records: dict[str, list[str]] = Field(default_factory=dict)
    items_found: int = 0
    items_destroyed: int = 0
    data_version: dict[str, Any] = Field(default_factory=dict)


class TreatySectionOut(BaseModel):
    name: str
    columns: list[str]
    rows: list[dict[str, Value]]


class TreatyTableOut(BaseModel):
    """A treaty table for a calendar year: its sections (columns and rows), notes and the data's version."""

    table: Literal["article7", "article5", "ccw"]
    year: int
    sections: list[TreatySectionOut]
    notes: list[str]
    data_version: dict[str, Any]


#: Error responses every protected route may give, for the OpenAPI document.
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "Bad input (a value the rules refuse, text that is not Unicode)"},
    401: {"model": ErrorOut, "description": "Not signed in"},
    403: {"model": ErrorOut, "description": "The role does not allow this"},
    413: {"model": ErrorOut, "description": "Body over 10 MB"},
    422: {"model": InvalidOut, "description": "Invalid input"},
}
