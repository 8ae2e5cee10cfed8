"""Records as the store keeps them: a feature (current version), a change (who, when, why), a version."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

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
