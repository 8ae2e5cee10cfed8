"""``/api/reports``: the figures a national authority sends (every role may read them)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request

from landrelease.actions.release import ensure_current_ledger
from landrelease.analysis.land_release import land_release_report
from landrelease.service.auth import require
from landrelease.service.context import Principal, Role
from landrelease.service.models import ERRORS, LandReleaseOut
from landrelease.service.resources import resources

router = APIRouter(prefix="/api/reports", tags=["Reports"], responses=ERRORS)


@router.get("/land-release", operation_id="land_release_report", summary="Land release: the national ledger")
def land_release(
    request: Request,
    _principal: Annotated[Principal, Depends(require(Role.VIEWER))],
    by: Literal["admin", "operator", "month"] | None = None,
) -> LandReleaseOut:
    """estimated = cancelled + reduced + cleared + remaining (m2, geodesic), nationally and per group."""
    store = resources(request).store
    ensure_current_ledger(store)
    return LandReleaseOut.model_validate(land_release_report(store, by).as_dict())
