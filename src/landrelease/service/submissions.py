"""``/api/submissions``: operators report, reviewers approve (reconciling as new or existing) or reject.

The rules live in ``landrelease.actions.review``; these routes only check the role and translate.
Personal data in a victims report follows the same rule as the record: reviewers and admins only, logged.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

from landrelease.accounts.protocol import Submission
from landrelease.actions import review
from landrelease.domain.schema import layer_named
from landrelease.domain.vocabulary import ReportStatus
from landrelease.service.auth import require
from landrelease.service.context import Principal, Role
from landrelease.service.models import (
    ERRORS,
    Approval,
    ApproveExisting,
    DiffOut,
    ErrorOut,
    Rejection,
    SubmissionIn,
    SubmissionList,
    SubmissionOut,
    SubmissionRevision,
)
from landrelease.service.privacy import log_if_shown, visible
from landrelease.service.resources import resources

router = APIRouter(
    prefix="/api/submissions",
    tags=["Submissions (submit, review, approve)"],
    responses={**ERRORS, 404: {"model": ErrorOut, "description": "No such submission (or not yours to see)"}},
)
Operator = Annotated[Principal, Depends(require(Role.OPERATOR))]
Reviewer = Annotated[Principal, Depends(require(Role.REVIEWER))]
SubmissionId = Annotated[str, Path(min_length=1, max_length=40)]
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorOut, "description": "Already decided, or the record changed since (stale version)"}
}


def _out(submission: Submission, principal: Principal, diff: dict[str, Any] | None = None) -> SubmissionOut:
    layer = layer_named(submission.layer)
    payload = submission.payload
    if diff is not None and not principal.sees_personal_data:
        personal = {f.name for f in layer.fields if f.personal}
        diff = {**diff, "fields": [c for c in diff["fields"] if c["field"] not in personal]}
    return SubmissionOut(
        id=submission.id,
        layer=submission.layer,
        status=submission.status,
        organisation=submission.organisation,
        author=submission.author,
        reason=submission.reason,
        created_at=submission.created_at,
        decided_at=submission.decided_at,
        decided_by=submission.decided_by,
        record_id=submission.record_id,
        record_version=submission.record_version,
        attributes=visible(layer, payload.get("attributes") or {}, principal),
        geometry=payload.get("geometry"),
        target_id=payload.get("target_id"),
        target_version=payload.get("target_version"),
        diff=None if diff is None else DiffOut.model_validate(diff),
    )


def _logged(request: Request, principal: Principal, submissions: list[Submission], purpose: str) -> None:
    accounts = resources(request).accounts
    for layer_name in {s.layer for s in submissions}:
        ids = [s.id for s in submissions if s.layer == layer_name]
        log_if_shown(accounts, layer_named(layer_name), principal, ids, purpose)


@router.post(
    "", status_code=201, operation_id="submit_report", summary="Submit a report, or keep it as a draft (operators)"
)
def submit(request: Request, body: SubmissionIn, principal: Operator) -> SubmissionOut:
    res = resources(request)
    created = review.submit(
        res.store,
        res.accounts,
        layer_name=body.layer,
        attributes=body.attributes,
        geometry=body.geometry,
        author=principal.name,
        organisation=principal.organisation,
        target_id=body.target_id,
        target_version=body.target_version,
        draft=body.draft,
    )
    _logged(request, principal, [created], "POST /api/submissions")
    return _out(created, principal)


@router.put(
    "/{submission_id}",
    operation_id="revise_submission",
    summary="Correct a draft or a sent-back report (its organisation), keep it as a draft or submit it",
    responses={409: {"model": ErrorOut, "description": "Not a draft nor sent back (submitted or decided)"}},
)
def revise(
    request: Request, submission_id: SubmissionId, body: SubmissionRevision, principal: Operator
) -> SubmissionOut:
    res = resources(request)
    revised = review.revise(
        res.store,
        res.accounts,
        submission_id,
        editor=principal.name,
        organisation=principal.organisation,
        attributes=body.attributes,
        geometry=body.geometry,
        target_id=body.target_id,
        target_version=body.target_version,
        submit_now=body.submit,
    )
    _logged(request, principal, [revised], f"PUT /api/submissions/{submission_id}")
    return _out(revised, principal)


@router.get("", operation_id="list_submissions", summary="Reports you may see (operators: your organisation's)")
def list_submissions(
    request: Request,
    principal: Operator,
    status: ReportStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> SubmissionList:
    found = review.visible_submissions(
        resources(request).accounts,
        sees_all=principal.role.can(Role.REVIEWER),
        organisation=principal.organisation,
        author=principal.name,
        status=None if status is None else status.value,
        limit=limit,
        offset=offset,
    )
    _logged(request, principal, found, "GET /api/submissions")
    return SubmissionList(submissions=[_out(s, principal) for s in found], limit=limit, offset=offset)


@router.get("/{submission_id}", operation_id="get_submission", summary="One report, with its diff for an update")
def get_submission(request: Request, submission_id: SubmissionId, principal: Operator) -> SubmissionOut:
    res = resources(request)
    found = review.visible_submission(
        res.accounts,
        submission_id,
        sees_all=principal.role.can(Role.REVIEWER),
        organisation=principal.organisation,
        author=principal.name,
    )
    _logged(request, principal, [found], f"GET /api/submissions/{submission_id}")
    return _out(found, principal, review.diff(res.store, found))


@router.post(
    "/{submission_id}/approve",
    operation_id="approve_submission",
    summary="Approve (reviewers): reconcile as a new record or as an update of an existing one",
    responses=CONFLICT,
)
def approve(request: Request, submission_id: SubmissionId, body: Approval, principal: Reviewer) -> SubmissionOut:
    res = resources(request)
    if isinstance(body, ApproveExisting):
        decision = review.Reconcile("existing", body.target_id, body.target_version)
    else:
        decision = review.Reconcile("new")
    done = review.approve(res.store, res.accounts, submission_id, principal.name, decision, body.reason)
    return _out(done, principal)


@router.post(
    "/{submission_id}/reject",
    operation_id="reject_submission",
    summary="Reject with a reason (reviewers)",
    responses=CONFLICT,
)
def reject(request: Request, submission_id: SubmissionId, body: Rejection, principal: Reviewer) -> SubmissionOut:
    done = review.reject(resources(request).accounts, submission_id, principal.name, body.reason)
    return _out(done, principal)
