"""``/api/imports``: upload a file in any format the importer reads, see what its checks say, then submit.

Without ``confirm`` nothing is written: the answer is the validation report (features that pass, each
refused or repaired one with its position and reason). With ``confirm`` each feature that passes becomes a
submitted report for review, as if an operator had sent it through ``/api/submissions``. National files go
in with the command line (``landrelease import``), which writes the record itself.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from pydantic import BaseModel

from landrelease.actions.imports import ImportOptions, plan_import
from landrelease.actions.review import SUBMITTABLE
from landrelease.actions.upload import submit_plan
from landrelease.errors import InvalidInput
from landrelease.service.auth import require
from landrelease.service.context import Principal, Role
from landrelease.service.models import ERRORS
from landrelease.service.resources import resources

router = APIRouter(prefix="/api/imports", tags=["Imports (check a file, then submit it as reports)"], responses=ERRORS)
Operator = Annotated[Principal, Depends(require(Role.OPERATOR))]
#: Keeps the name's extension (it tells the format) and nothing that could reach outside the folder.
_UNSAFE = re.compile(r"[^\w.\-]+")
_EXTENSIONS = ".geojson, .json, .gpkg, .kml, .kmz, .zip (Shapefile), .csv, .fgb, .xlsx"


class FeatureNote(BaseModel):
    index: int
    reason: str


class SubmittedReport(BaseModel):
    index: int
    id: str


class ImportReport(BaseModel):
    """The validation report of an uploaded file and, with ``confirm``, the reports it became."""

    file: str
    layer: str
    features: int
    valid: int
    repaired: int
    rejected: int
    errors: list[FeatureNote]
    repairs: list[FeatureNote]
    confirmed: bool
    submitted: list[SubmittedReport]


def _safe_name(name: str | None) -> str:
    base = _UNSAFE.sub("_", Path(name or "").name).strip("._")
    if "." not in base:
        raise InvalidInput(f"the file needs its name with the format's extension ({_EXTENSIONS})")
    return base


@router.post(
    "",
    operation_id="check_or_submit_file",
    summary="Check a file with the importer's rules; with confirm, submit its valid features as reports",
)
def upload(
    request: Request,
    principal: Operator,
    file: Annotated[UploadFile, File(description=f"The file ({_EXTENSIONS})")],
    layer: Annotated[str, Form(min_length=1, max_length=40, description="The layer its features are for")],
    kind: Annotated[
        Literal["cancelled", "reduced", "cleared"] | None, Form(description="Outcomes: how the land was released")
    ] = None,
    on_invalid: Annotated[Literal["reject", "repair"], Form(description="Refuse or repair bad geometry")] = "reject",
    confirm: Annotated[bool, Form(description="Submit the valid features as reports (else only check)")] = False,
) -> ImportReport:
    key = layer.replace("-", "_").lower()
    if key not in SUBMITTABLE:
        raise InvalidInput(f"reports cover {', '.join(SUBMITTABLE)}, not {layer!r}")
    res = resources(request)
    name = _safe_name(file.filename)
    options = ImportOptions(on_invalid=on_invalid, kind=kind, author=principal.name)
    with tempfile.TemporaryDirectory(prefix="landrelease-upload-") as folder:
        path = Path(folder) / name
        with path.open("wb") as out:
            while chunk := file.file.read(1024 * 1024):
                out.write(chunk)
        plan = plan_import(res.store, key, path, options)
    summary = plan.summary
    errors = [FeatureNote(index=e.index, reason=e.reason) for e in summary.errors]
    submitted: list[SubmittedReport] = []
    if confirm:
        done = submit_plan(res.store, res.accounts, plan, author=principal.name, organisation=principal.organisation)
        submitted = [SubmittedReport(index=i, id=report.id) for i, report in done.reports]
        errors = sorted(
            errors + [FeatureNote(index=r.index, reason=r.reason) for r in done.refused], key=lambda e: e.index
        )
    return ImportReport(
        file=name,
        layer=key,
        features=len(plan) + len(summary.errors),
        valid=len(plan),
        repaired=len(summary.repairs),
        rejected=len(summary.errors),
        errors=errors,
        repairs=[FeatureNote(index=r.index, reason=r.reason) for r in summary.repairs],
        confirmed=confirm,
        submitted=submitted,
    )
