"""Records as the store keeps them: a feature (current version), a change (who, when, why), a version."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from operator import itemgetter

import numpy as np
import numpy.typing as npt
from shapely.geometry.base import BaseGeometry

#: What an attribute may hold once validated: stored as is by every backend.
Scalar = str | int | float | bool | None


@dataclass(frozen=True)
class Change:
    """Who made a change, when and why. Every write carries one; nothing is written anonymously."""

    author: str
    reason: str
    at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        if not self.author.strip():
            raise ValueError("a change needs an author")


@dataclass(frozen=True)
class NewFeature:
    """A feature about to be added: the store gives it its id.

    ``derived`` are system-computed fields known at creation (a new hazard's ledger figures): written
    with the record, not part of its versioned attributes.
    """

    attributes: Mapping[str, Scalar]
    geometry: BaseGeometry | None = None
    derived: Mapping[str, Scalar] = field(default_factory=dict)


@dataclass(frozen=True)
class NewFeatures:
    """A batch of features about to be added, held as columns: what an import of a national file builds
    (a dict per feature costs more than checking it). Every column has one value per geometry; a field
    left out is None throughout; ``derived`` columns as in ``NewFeature``."""

    columns: Mapping[str, Sequence[Scalar]]
    geometries: Sequence[BaseGeometry | None]
    derived: Mapping[str, Sequence[Scalar]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.geometries)

    def problem(self) -> str | None:
        """Why the columns do not make a batch (a column of another length), else None."""
        count = len(self.geometries)
        for name, column in (*self.columns.items(), *self.derived.items()):
            if len(column) != count:
                return f"column {name} holds {len(column)} values for {count} features"
        return None

    @classmethod
    def of(cls, features: Sequence[NewFeature]) -> NewFeatures:
        """The batch of ``features`` (a field some of them lack is None for those)."""
        return cls(
            columns=columns_of([f.attributes for f in features]),
            geometries=[f.geometry for f in features],
            derived=columns_of([f.derived for f in features]),
        )


def transpose(records: Sequence[Mapping[str, Scalar]]) -> dict[str, list[Scalar]] | None:
    """The records as columns when every record has the same fields (in any order), else None.

    Records of the same size all holding the first record's keys have exactly its keys; one
    ``itemgetter`` per record then does the work in C (a missing key stops it at once).
    """
    if not records:
        return {}
    first = list(records[0].keys())
    size = len(first)
    if any(len(r) != size for r in records):
        return None
    if size == 0:
        return {}
    get = itemgetter(*first)
    try:
        rows = list(map(get, records))
    except KeyError:
        return None
    if size == 1:
        return {first[0]: rows}
    return dict(zip(first, map(list, zip(*rows, strict=True)), strict=True))


def columns_of(records: Sequence[Mapping[str, Scalar]]) -> dict[str, list[Scalar]]:
    """The records as columns over every field any of them has (None where a record lacks one)."""
    columns = transpose(records)
    if columns is not None:
        return columns
    names = dict.fromkeys(name for record in records for name in record)
    return {name: [record.get(name) for record in records] for name in names}


@dataclass(frozen=True)
class Feature:
    """The current version of a record."""

    id: str
    layer: str
    attributes: Mapping[str, Scalar]
    geometry: BaseGeometry | None
    version: int


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    STATUS = "status"
    RETIRE = "retire"  # withdrawn from the current record; its history stays


@dataclass(frozen=True)
class Version:
    """One entry of a record's history: the record as it was after the change."""

    record_id: str
    version: int
    action: Action
    change: Change
    attributes: Mapping[str, Scalar]
    geometry: BaseGeometry | None


# --- record ids -----------------------------------------------------------------------------------------------

#: Record numbers are zero-padded to this many digits (HZ-000042); past 999,999 they simply grow (FD-1000000).
#: Existing databases and other tools rely on this form: it never changes.
ID_DIGITS = 6


#: The number part of an id as a regular expression (XPath's for ODK forms too): six digits, or more without
#: a leading zero (what ``format_id`` writes).
ID_NUMBER_PATTERN = "([0-9]{6}|[1-9][0-9]{6,})"


def format_id(prefix: str, number: int) -> str:
    """The id of record ``number`` of the layer whose ids start with ``prefix`` (``HZ``, 42 -> ``HZ-000042``)."""
    return f"{prefix}-{number:0{ID_DIGITS}d}"


def id_number(text: str) -> int | None:
    """The number of an id of the form ``PREFIX-digits`` (letters, a dash, ASCII digits), else None."""
    head, dash, digits = text.rpartition("-")
    if dash and head.isalpha() and digits.isascii() and digits.isdigit():
        return int(digits)
    return None


def id_order(text: str) -> tuple[str, int, int, str]:
    """A sort key: ids of one prefix in creation order (by number: FD-999999 before FD-1000000, which text
    order puts before FD-200000), anything else as text would order it (a prefix sorts as its text does)."""
    head, dash, digits = text.rpartition("-")
    if dash and head.isalpha() and digits.isascii() and digits.isdigit():
        return head + dash, int(digits), len(digits), text
    return text, -1, 0, text


#: Longer digit runs do not fit an int64.
MAX_DIGITS = 18


def creation_ranks(ids: Sequence[str]) -> npt.NDArray[np.int64]:
    """Each id's place among ``ids`` in ``id_order`` (0 first), as numbers for numpy's sorts: a layer's ids
    by their numbers in numpy (``id_numbers``), anything else by ``id_order`` itself."""
    n = len(ids)
    ranks = np.empty(n, dtype=np.int64)
    if not n:
        return ranks
    parsed = id_numbers(ids)
    if parsed is not None:
        order = np.argsort(parsed[0], kind="stable")
    else:
        order = np.array(sorted(range(n), key=lambda k: id_order(ids[k])), dtype=np.intp)
    ranks[order] = np.arange(n, dtype=np.int64)
    return ranks


def id_numbers(
    ids: Sequence[object], head: str | None = None, pad: int | None = None
) -> tuple[npt.NDArray[np.int64], str, int] | None:
    """The numbers of a layer's ids, in numpy (no Python step per id beyond a length): when every id is one
    ASCII-letter prefix (``head``, with its dash), a dash and digits padded to one width (``pad``; by default
    the narrowest), numbers past it growing without a leading zero (``HZ-000001``, ``HZ-1000000``), so that
    each number is one id and number order is creation order. Returns (numbers, head, pad), else None."""
    if not ids:
        return None
    try:
        lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))  # type: ignore[arg-type]
    except TypeError:  # not text
        return None
    if head is None:
        first = ids[0]
        if not isinstance(first, str):
            return None
        start, dash, _ = first.rpartition("-")
        if not (dash and start.isascii() and start.isalpha()):
            return None
        head = start + dash
    lead = len(head)
    widths = lengths - lead
    if pad is None:
        pad = int(widths.min())
    if pad < 1 or int(widths.min()) < pad or int(widths.max()) > MAX_DIGITS:
        return None
    if not all(isinstance(i, str) for i in ids):
        return None
    longest = int(lengths.max())
    codes = np.array(ids, dtype=f"U{longest}").view(np.uint32).reshape(len(ids), longest)
    if not (codes[:, :lead] == np.array([ord(c) for c in head], dtype=np.uint32)).all():
        return None
    number = np.zeros(len(ids), dtype=np.int64)
    for column in range(lead, longest):  # digit by digit: ids shorter than the longest stop early
        inside = widths > column - lead
        digit = codes[:, column].astype(np.int64) - ord("0")
        if ((digit < 0) | (digit > 9))[inside].any():
            return None
        number = np.where(inside, number * 10 + digit, number)
    if (codes[widths > pad, lead] == ord("0")).any():  # HZ-0000001 is not what HZ-000001 grows into
        return None
    return number, head, pad


def id_spans(prefix: str, first: int, last: int) -> list[tuple[str, str, int]]:
    """The ids ``first``..``last`` of ``prefix`` as spans of one length each: (lowest id, highest id, length).

    Within one length text order is number order, so each span is one range of an index on the id column
    (filtered by length: shorter and longer ids interleave with it as text)."""
    spans = []
    low = first
    while low <= last:
        width = max(ID_DIGITS, len(str(low)))
        high = min(last, 10**width - 1)
        spans.append((format_id(prefix, low), format_id(prefix, high), len(prefix) + 1 + width))
        low = high + 1
    return spans
