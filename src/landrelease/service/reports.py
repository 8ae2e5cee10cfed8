"""``/api/reports``: the figures a national authority sends (every role may read them): the land release
report (by admin area, operator, month, quarter, year or donor, for all time or a period) and the treaty
tables (Ottawa Convention Articles 7 and 5, CCW Amended Protocol II) as JSON."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request

from landrelease.actions.release import ensure_current_ledger
from landrelease.analysis.land_release import land_release_report
from landrelease.analysis.periods import PERIOD_HELP, Period, parse_period
from landrelease.analysis.programme import read_programme
from landrelease.analysis.treaty import TableName, default_year, treaty_columns, treaty_table
from landrelease.errors import InvalidInput
from landrelease.service.auth import require
from landrelease.service.context import Principal, Role
from landrelease.service.models import ERRORS, ErrorOut, LandReleaseOut, TreatyTableOut
from landrelease.service.resources import resources
from landrelease.store.protocol import Store

#: Reports read the whole database at once: a concurrent writer can make a read inconsistent (409: retry).
RESPONSES = {**ERRORS, 409: {"model": ErrorOut, "description": "The database changed while it was read; retry"}}
router = APIRouter(prefix="/api/reports", tags=["Reports"], responses=RESPONSES)

#: The forms ``parse_period`` takes (it checks the dates themselves: 2024-13 passes this and is refused with 400).
PERIOD_PATTERN = r"^[0-9]{4}(-[Qq][1-4]|-[0-9]{2}|-[0-9]{2}-[0-9]{2}\.\.[0-9]{4}-[0-9]{2}-[0-9]{2})?$"
PeriodQuery = Annotated[
    str | None, Query(pattern=PERIOD_PATTERN, max_length=22, description=f"The reporting period: {PERIOD_HELP}.")
]
YearQuery = Annotated[
    int | None,
    Query(ge=1900, le=2200, description="Calendar year (default: the latest year with a release date)."),
]


def _period(text: str | None) -> Period | None:
    if text is None:
        return None
    try:
        return parse_period(text)
    except InvalidInput as exc:
        raise InvalidInput(exc.message.replace("--period", "period", 1)) from None


@router.get(
    "/land-release",
    operation_id="land_release_report",
    summary="Land release: the national ledger",
    response_model_exclude_unset=True,  # period fields only with a period: the CLI's JSON, key for key
)
def land_release(
    request: Request,
    _principal: Annotated[Principal, Depends(require(Role.VIEWER))],
    by: Literal["admin", "operator", "month", "quarter", "year", "donor"] | None = None,
    period: PeriodQuery = None,
) -> LandReleaseOut:
    """estimated = cancelled + reduced + cleared + remaining (m2, geodesic), nationally and per group; with a
    period, land released before it, in it by kind, and remaining at its end. Items found and destroyed by
    category, risk education beneficiaries by sex and age band, and the records behind every figure."""
    span = _period(period)
    store = resources(request).store
    ensure_current_ledger(store)
    return LandReleaseOut.model_validate(land_release_report(store, by, period=span).as_dict())


def _treaty(store: Store, table: TableName, year: int | None) -> TreatyTableOut:
    ensure_current_ledger(store)
    p = read_programme(store, **treaty_columns(table))
    return TreatyTableOut.model_validate(
        treaty_table(p, table, year if year is not None else default_year(p)).as_dict()
    )


@router.get("/article7", operation_id="article7_report", summary="Ottawa Convention Article 7: mined areas")
def article7(
    request: Request, _principal: Annotated[Principal, Depends(require(Role.VIEWER))], year: YearQuery = None
) -> TreatyTableOut:
    """Areas known or suspected to contain anti-personnel mines in the year (location, type, quantity where
    known, dates, land released and remaining), and warning measures per admin area."""
    return _treaty(resources(request).store, "article7", year)


@router.get("/article5", operation_id="article5_report", summary="Ottawa Convention Article 5: progress")
def article5(
    request: Request, _principal: Annotated[Principal, Depends(require(Role.VIEWER))], year: YearQuery = None
) -> TreatyTableOut:
    """Per admin area: remaining at the start of the year + new - cancelled - reduced - cleared = remaining at
    its end (m2), areas completed, anti-personnel mines destroyed."""
    return _treaty(resources(request).store, "article5", year)


@router.get("/ccw", operation_id="ccw_report", summary="CCW Amended Protocol II: clearance summary")
def ccw(
    request: Request, _principal: Annotated[Principal, Depends(require(Role.VIEWER))], year: YearQuery = None
) -> TreatyTableOut:
    """Per admin area: mined areas, areas cleared, land released and remaining, mines and other items
    destroyed in the year."""
    return _treaty(resources(request).store, "ccw", year)
