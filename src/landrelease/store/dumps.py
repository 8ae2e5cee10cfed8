"""Whole layers on their way between stores (``Store.dump`` then ``Store.load``).

A dump is everything that makes a layer what it is: every version of every record (retired ones too) with
its id, number, author, time and reason; the derived ledger figures of the current records, which are not
versioned; and the last record number given out, since ids are never reused. Loading it into another
backend gives the same records, the same histories and the same report figures.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from landrelease.domain.records import Action, Scalar, Version, id_order

#: Records read (and written) per step: a few thousand versions, a bounded amount of memory.
RECORDS_PER_STEP = 1000


@dataclass(frozen=True)
class LayerDump:
    """A layer as ``Store.dump`` reads it, lazily: ``versions`` is read as it is iterated."""

    layer: str
    #: Current records (those whose last version is not a retirement).
    count: int
    #: Versions in the history, all records together (for progress).
    version_count: int
    #: The highest record number given out in this layer.
    last_number: int
    #: Derived (unversioned) fields of the current records: ``{record_id: {field: value}}``.
    derived: Mapping[str, Mapping[str, Scalar]]
    #: Every version of every record: record by record in creation order, each oldest version first.
    versions: Iterable[Version]


@dataclass(frozen=True)
class Step:
    """Whole records of a dump: their versions, and which of those are current (a record's last version,
    unless it retired the record)."""

    versions: list[Version]
    current: list[int]


def creation_order(record_ids: Iterable[str]) -> list[str]:
    """Ids in the order their records were made: HZ-999999 before HZ-1000000 (numbers are zero-padded to
    six digits, then grow; ``domain.records.id_order``)."""
    return sorted(record_ids, key=id_order)


def chunks(record_ids: list[str], size: int = RECORDS_PER_STEP) -> Iterator[list[str]]:
    for start in range(0, len(record_ids), size):
        yield record_ids[start : start + size]


def steps(versions: Iterable[Version], records: int = RECORDS_PER_STEP) -> Iterator[Step]:
    """Group a dump's versions into steps of about ``records`` whole records."""
    batch: list[Version] = []
    current: list[int] = []
    done = 0

    def close_record() -> None:
        nonlocal done
        if batch[-1].action is not Action.RETIRE:
            current.append(len(batch) - 1)
        done += 1

    for version in versions:
        if batch and version.record_id != batch[-1].record_id:
            close_record()
            if done >= records:
                yield Step(batch, current)
                batch, current, done = [], [], 0
        batch.append(version)
    if batch:
        close_record()
        yield Step(batch, current)


#: The service's own tables (``landrelease.accounts``), the same in both backends: their columns as a dump
#: carries them. Times are aware datetimes, a submission's payload its JSON text. Submissions keep their
#: ``fid`` (their ids are numbered from it); the access log keeps its order.
SERVICE_TABLES: dict[str, tuple[str, ...]] = {
    "lr_users": ("name", "role", "organisation", "password_hash", "created_at"),
    "lr_tokens": ("token_hash", "user_name", "label", "created_at"),
    "lr_sessions": ("session_hash", "user_name", "created_at", "expires_at"),
    "lr_access_log": ("at", "user_name", "record_id", "purpose"),
    "lr_submissions": (
        "fid",
        "id",
        "layer",
        "payload",
        "organisation",
        "author",
        "status",
        "reason",
        "created_at",
        "decided_at",
        "decided_by",
        "record_id",
        "record_version",
    ),
}
SERVICE_ORDER = {"lr_users": "name", "lr_tokens": "token_hash", "lr_sessions": "session_hash"}  # else fid
TIME_COLUMNS = frozenset({"created_at", "expires_at", "at", "decided_at"})


@dataclass(frozen=True)
class ServiceDump:
    """Users (with their password hashes), API tokens, sessions, the personal data access log and submitted
    reports: ``{table: rows}``, each row in ``SERVICE_TABLES`` column order."""

    rows: Mapping[str, list[tuple[object, ...]]]

    def count(self) -> int:
        return sum(len(rows) for rows in self.rows.values())
