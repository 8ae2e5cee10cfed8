"""Records as the store keeps them: a feature (current version), a change (who, when, why), a version."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from operator import itemgetter

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
