"""Query parameters of OGC API Features (Part 1 core, Part 3 queryables as query parameters), parsed from
plain strings into typed values. Pure: no HTTP, no store; every refusal is an ``InvalidInput`` (400) whose
message says what was wrong and what is accepted.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from landrelease.domain.records import Scalar
from landrelease.domain.schema import FieldType, Layer
from landrelease.errors import InvalidInput

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
#: Output formats asked for with ``f=``: all are the one JSON encoding we serve.
JSON_FORMATS = frozenset({"json", "geojson", "application/json", "application/geo+json"})
#: Parameters of the items request other than the layer's fields.
ITEMS_PARAMETERS = frozenset({"bbox", "bbox-crs", "crs", "limit", "offset", "datetime", "f"})
#: The field of each layer that ``datetime`` selects on (the date the record is about).
DATE_FIELDS: dict[str, str] = {
    "hazards": "reported_date",
    "outcomes": "release_date",
    "finds": "found_date",
    "accidents": "accident_date",
    "eore": "session_date",
    "activities": "end_date",
}
#: Layers whose records span a period: ``datetime`` selects those whose period meets it (Part 1 leaves
#: the choice to the server). Also why GDAL, which sends any date comparison as ``datetime``, reads
#: ``start_date >= X`` on activities as "still going on at X or later".
PERIOD_FIELDS: dict[str, tuple[str, str]] = {"activities": ("start_date", "end_date")}

BBox = tuple[float, float, float, float]


@dataclass(frozen=True)
class DateRange:
    """Inclusive day range; ``None`` ends are open. A record's date matches if it falls inside."""

    start: str | None
    end: str | None

    def matches(self, value: Scalar) -> bool:
        if not isinstance(value, str) or len(value) < 10:
            return False
        day = value[:10]
        return (self.start is None or day >= self.start) and (self.end is None or day <= self.end)

    def meets(self, first: Scalar, last: Scalar) -> bool:
        """Whether a period from ``first`` to ``last`` (either may be unknown: a one-day period then)
        overlaps the range."""
        begin = first[:10] if isinstance(first, str) and len(first) >= 10 else None
        end = last[:10] if isinstance(last, str) and len(last) >= 10 else None
        begin, end = begin or end, end or begin
        if begin is None or end is None:
            return False
        return (self.start is None or end >= self.start) and (self.end is None or begin <= self.end)


@dataclass(frozen=True)
class ItemsQuery:
    """A validated items request."""

    limit: int = DEFAULT_LIMIT
    offset: int = 0
    #: One box, or two when the request crosses the antimeridian (minx > maxx).
    bboxes: tuple[BBox, ...] = ()
    dates: DateRange | None = None
    #: Field name -> the value it must equal.
    equals: Mapping[str, Scalar] = field(default_factory=dict)


def parse_bbox(text: str) -> tuple[BBox, ...]:
    """``minx,miny,maxx,maxy`` (or 6 numbers with heights, which are ignored) in CRS84 longitude/latitude.

    A box whose minx is greater than its maxx crosses the antimeridian and becomes two boxes.
    """
    parts = text.split(",")
    if len(parts) not in (4, 6):
        raise InvalidInput(f"bbox needs 4 numbers (minx,miny,maxx,maxy in longitude/latitude), got {text!r}")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        raise InvalidInput(f"bbox must be numbers separated by commas, got {text!r}") from None
    if not all(math.isfinite(n) for n in numbers):
        raise InvalidInput(f"bbox must be finite numbers, got {text!r}")
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    minx, miny, maxx, maxy = numbers
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180):
        raise InvalidInput(f"bbox longitudes must be between -180 and 180, got {text!r}")
    if not (-90 <= miny <= 90 and -90 <= maxy <= 90):
        raise InvalidInput(f"bbox latitudes must be between -90 and 90, got {text!r}")
    if miny > maxy:
        raise InvalidInput(f"bbox miny ({miny}) is above maxy ({maxy}); the order is minx,miny,maxx,maxy")
    if minx > maxx:
        return ((minx, miny, 180.0, maxy), (-180.0, miny, maxx, maxy))
    return ((minx, miny, maxx, maxy),)


def parse_count(name: str, text: str, low: int, high: int | None = None) -> int:
    """An integer parameter within ``low..high``."""
    try:
        number = int(text.strip())
    except ValueError:
        raise InvalidInput(f"{name} must be a whole number, got {text!r}") from None
    if number < low or (high is not None and number > high):
        allowed = f"{low}..{high}" if high is not None else f"at least {low}"
        raise InvalidInput(f"{name} must be {allowed}, got {number}")
    return number


_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2})([Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?)?$")


def _day(text: str) -> str:
    """The day of an RFC 3339 date or date-time, as yyyy-mm-dd."""
    # GDAL's OAPIF client turns ``field >= '2024-01-01'`` into ``datetime=2024-01-01T/..``: a bare T is a day.
    text = text.strip().removesuffix("T").removesuffix("t")
    match = _DATETIME.match(text)
    if match is None:
        raise InvalidInput(
            f"datetime values must be RFC 3339 dates or date-times (2024-05-01 or 2024-05-01T00:00:00Z), got {text!r}"
        )
    try:
        day = date.fromisoformat(match.group(1))
        if match.group(2):
            datetime.fromisoformat(text.strip().replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{text!r} is not a real date") from None
    return day.isoformat()


def parse_datetime(text: str) -> DateRange:
    """An instant (``2024-05-01``) or an interval (``2024-01-01/2024-06-30``, ``../2024-06-30``,
    ``2024-01-01/..``); dates match by day, ends included."""
    if "/" not in text:
        day = _day(text)
        return DateRange(day, day)
    if text.count("/") != 1:
        raise InvalidInput(f"a datetime interval has one '/', got {text!r}")
    start_text, end_text = (part.strip() for part in text.split("/"))
    start = None if start_text in ("", "..") else _day(start_text)
    end = None if end_text in ("", "..") else _day(end_text)
    if start is None and end is None:
        raise InvalidInput("a datetime interval needs at least one end (e.g. 2024-01-01/..)")
    if start is not None and end is not None and start > end:
        raise InvalidInput(f"the datetime interval ends ({end}) before it starts ({start})")
    return DateRange(start, end)


def queryable_fields(layer: Layer) -> list[str]:
    """Fields that may be served and filtered on: everything but personal data."""
    return [f.name for f in layer.fields if not f.personal]


def parse_value(layer: Layer, name: str, text: str) -> Scalar:
    """The typed value a property filter compares with."""
    spec = layer.field(name)
    if spec.type is FieldType.INTEGER:
        try:
            return int(text)
        except ValueError:
            raise InvalidInput(f"{name} is a whole number, got {text!r}") from None
    if spec.type is FieldType.REAL:
        try:
            number = float(text)
        except ValueError:
            raise InvalidInput(f"{name} is a number, got {text!r}") from None
        if not math.isfinite(number):
            raise InvalidInput(f"{name} must be a finite number, got {text!r}")
        return number
    if spec.type is FieldType.BOOLEAN:
        lowered = text.lower()
        if lowered not in ("true", "false", "1", "0"):
            raise InvalidInput(f"{name} is true or false, got {text!r}")
        return lowered in ("true", "1")
    if spec.type is FieldType.DATE:
        return _day(text)
    if spec.choices is not None and text not in spec.choices:
        raise InvalidInput(f"{name} is one of {', '.join(spec.choices)}; got {text!r}")
    return text


def parse_items_query(layer: Layer, parameters: Sequence[tuple[str, str]]) -> ItemsQuery:
    """Validate an items request's query parameters (as (name, value) pairs, repeats kept).

    Unknown parameters are refused (OGC API Features Part 1, /req/core/query-param-unknown), and so are
    repeated ones; any field of the layer except personal ones is an equality filter (Part 3).
    """
    fields = queryable_fields(layer)
    seen: dict[str, str] = {}
    for name, value in parameters:
        if name not in ITEMS_PARAMETERS and name not in fields:
            known = ", ".join(sorted(ITEMS_PARAMETERS - {"bbox-crs", "crs"}) + fields)
            raise InvalidInput(f"unknown query parameter {name!r}; this collection accepts: {known}")
        if name in seen:
            raise InvalidInput(f"give the query parameter {name!r} once")
        seen[name] = value
    check_format(seen.get("f"))
    for crs_name in ("bbox-crs", "crs"):
        if crs_name in seen and seen[crs_name].strip("<>") != CRS84:
            raise InvalidInput(f"{crs_name} must be {CRS84} (the only coordinate reference system served)")
    limit = parse_count("limit", seen["limit"], 1, MAX_LIMIT) if "limit" in seen else DEFAULT_LIMIT
    offset = parse_count("offset", seen["offset"], 0) if "offset" in seen else 0
    bboxes = parse_bbox(seen["bbox"]) if "bbox" in seen else ()
    dates = None
    if "datetime" in seen:
        if layer.name not in DATE_FIELDS:
            raise InvalidInput(f"{layer.name.replace('_', '-')} has no date, so it cannot be filtered by datetime")
        dates = parse_datetime(seen["datetime"])
    equals = {name: parse_value(layer, name, value) for name, value in seen.items() if name in fields}
    return ItemsQuery(limit=limit, offset=offset, bboxes=bboxes, dates=dates, equals=equals)


def check_format(value: str | None) -> None:
    """``f`` may ask for JSON (or GeoJSON), the one encoding served."""
    if value is not None and value.lower() not in JSON_FORMATS:
        raise InvalidInput(f"f={value!r} is not available; use f=json")


def check_only(parameters: Sequence[tuple[str, str]], allowed: frozenset[str] = frozenset({"f"})) -> None:
    """Refuse parameters other than ``allowed`` on the metadata resources."""
    for name, value in parameters:
        if name not in allowed:
            raise InvalidInput(f"unknown query parameter {name!r}; accepted: {', '.join(sorted(allowed))}")
        if name == "f":
            check_format(value)
