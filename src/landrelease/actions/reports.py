"""Reports as users ask for them: check the options, bring the stored ledger up to date, build, render."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from landrelease.actions.release import ensure_current_ledger
from landrelease.analysis.land_release import GROUPINGS, GroupBy, LandReleaseReport, build_report, report_columns
from landrelease.analysis.periods import Period, parse_period
from landrelease.analysis.programme import Programme, read_programme
from landrelease.analysis.treaty import TABLES, TableName, TreatyTable, default_year, treaty_columns, treaty_table
from landrelease.errors import InvalidInput
from landrelease.store.protocol import Store

LANGUAGES = ("en", "uk")


def _checked(by: str | None, period: str | None) -> tuple[GroupBy | None, Period | None]:
    if by is not None and by not in GROUPINGS:
        raise InvalidInput(f"--by takes admin, operator, month, quarter, year or donor, not {by!r}")
    return by, parse_period(period) if period else None  # type: ignore[return-value]


def _programme(store: Store, *, recompute: bool, **read: Any) -> Programme:
    """The programme as a report reads it (``read``: ``read_programme``'s keywords, for what it needs)."""
    if not recompute:
        ensure_current_ledger(store)
    return read_programme(store, recompute=recompute, **read)


def land_release(
    store: Store, *, by: str | None = None, period: str | None = None, recompute: bool = False
) -> LandReleaseReport:
    group_by, span = _checked(by, period)
    read = report_columns(group_by, span)
    return build_report(_programme(store, recompute=recompute, spatial=group_by == "admin", **read), group_by, span)


def treaty(store: Store, table: TableName, year: int | None = None, *, recompute: bool = False) -> TreatyTable:
    if table not in TABLES:
        raise InvalidInput(f"the treaty tables are {', '.join(TABLES)}, not {table!r}")
    p = _programme(store, recompute=recompute, **treaty_columns(table))
    return treaty_table(p, table, year if year is not None else default_year(p))


def write_pdf(
    store: Store,
    path: Path,
    *,
    by: str | None = None,
    period: str | None = None,
    lang: str = "en",
    recompute: bool = False,
) -> int:
    """Write the PDF report (land release, charts, map, treaty tables); return its page count."""
    if lang not in LANGUAGES:
        raise InvalidInput(f"--lang takes en or uk, not {lang!r}")
    group_by, span = _checked(by, period)
    if path.parent and not path.parent.exists():
        raise InvalidInput(f"cannot write {path}: the folder {path.parent} does not exist")
    from landrelease.reporting.pdf import render_pdf

    p = _programme(store, recompute=recompute, spatial=True, geometry=True)
    report = build_report(p, group_by or "admin", span)
    year = int(span.end[:4]) if span else default_year(p)
    names: tuple[TableName, ...] = ("article7", "article5", "ccw")
    tables = [treaty_table(p, name, year) for name in names]
    return render_pdf(p, report, tables, path, lang=lang)
