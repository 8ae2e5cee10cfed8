"""Reporting periods: a year, a quarter, a month or a date range, and the keys outcomes are grouped by.

Dates are ISO 8601 text (``yyyy-mm-dd``), as the database stores them, so comparing them as text is
comparing them as dates.
"""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import date

from landrelease.errors import InvalidInput

PERIOD_HELP = "2024, 2024-Q3, 2024-05 or 2023-01-01..2024-06-30"


@dataclass(frozen=True)
class Period:
    start: str  # first day, yyyy-mm-dd
    end: str  # last day, yyyy-mm-dd (inclusive)
    label: str

    def holds(self, day: str | None) -> bool:
        return day is not None and self.start <= day[:10] <= self.end

    def as_dict(self) -> dict[str, str]:
        return {"label": self.label, "start": self.start, "end": self.end}


def parse_period(text: str) -> Period:
    """``2024``, ``2024-Q3``, ``2024-05`` or ``2023-01-01..2024-06-30``; anything else is refused in one line."""
    t = text.strip().upper()
    try:
        if m := re.fullmatch(r"(\d{4})", t):
            y = int(m[1])
            return Period(f"{y:04d}-01-01", f"{y:04d}-12-31", t)
        if m := re.fullmatch(r"(\d{4})-Q([1-4])", t):
            y, q = int(m[1]), int(m[2])
            last = 3 * q
            return Period(f"{y:04d}-{last - 2:02d}-01", date(y, last, monthrange(y, last)[1]).isoformat(), t)
        if m := re.fullmatch(r"(\d{4})-(\d{2})", t):
            y, mo = int(m[1]), int(m[2])
            return Period(date(y, mo, 1).isoformat(), date(y, mo, monthrange(y, mo)[1]).isoformat(), t)
        if m := re.fullmatch(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})", t):
            start, end = date.fromisoformat(m[1]), date.fromisoformat(m[2])
            if end < start:
                raise InvalidInput(f"--period {text!r} ends before it starts")
            return Period(start.isoformat(), end.isoformat(), f"{start.isoformat()}..{end.isoformat()}")
    except ValueError:
        pass
    raise InvalidInput(f"--period takes {PERIOD_HELP}, not {text!r}")


def year_period(year: int) -> Period:
    if not 1900 <= year <= 2200:
        raise InvalidInput(f"--year takes a year such as 2024, not {year}")
    return parse_period(str(year))


def period_key(day: str | None, unit: str) -> str | None:
    """The month (``2024-05``), quarter (``2024-Q2``) or year (``2024``) a date falls in."""
    if not day or len(day) < 7:
        return None
    if unit == "month":
        return day[:7]
    if unit == "quarter":
        return f"{day[:4]}-Q{(int(day[5:7]) - 1) // 3 + 1}"
    return day[:4]
