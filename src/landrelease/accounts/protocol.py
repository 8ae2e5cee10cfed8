"""The service's own records, behind typed protocols: who may sign in (users, tokens, sessions), who read
personal data (the access log), and operators' reports waiting for review (submissions).

They live beside the national record (the GeoPackage backend keeps them in private ``lr_`` tables of the
same file) but are not part of it: nothing here is versioned or exported as a layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from landrelease.domain.roles import Role


@dataclass(frozen=True)
class User:
    """Someone who may use the service; ``organisation`` draws an operator's boundary."""

    name: str
    role: Role
    organisation: str | None
    created_at: datetime


@dataclass(frozen=True)
class AccessEntry:
    """One read of personal data: who saw which record, when and through what."""

    at: datetime
    user: str
    record_id: str
    purpose: str


@dataclass(frozen=True)
class Submission:
    """An operator's report on its way into the national record (``domain.workflow.REPORT_WORKFLOW``).

    ``payload`` is what was submitted, as checked at the door: ``layer``, ``attributes``, ``geometry``
    (GeoJSON or None) and, for an update, ``target_id`` and ``target_version``.
    """

    id: str
    layer: str
    payload: dict[str, Any]
    organisation: str | None
    author: str
    status: str
    reason: str | None
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    record_id: str | None
    record_version: int | None


class AccountStore(Protocol):
    """Users, their credentials (only ever stored hashed) and the personal data access log."""

    def add_user(self, name: str, role: Role, organisation: str | None, password_hash: str | None) -> User:
        """A new user; ``InvalidInput`` if the name is taken."""
        ...

    def user(self, name: str) -> User:
        """The user called ``name``; ``NotFound`` if there is none."""
        ...

    def users(self) -> list[User]: ...

    def password_hash(self, name: str) -> str | None:
        """The stored password hash (None: no such user, or a token-only user)."""
        ...

    def add_token(self, name: str, token_hash: str, label: str) -> None: ...

    def user_by_token(self, token_hash: str) -> User | None: ...

    def add_session(self, session_hash: str, name: str, expires_at: datetime) -> None: ...

    def user_by_session(self, session_hash: str, now: datetime) -> User | None:
        """The user of a session that has not expired at ``now``."""
        ...

    def end_session(self, session_hash: str) -> None: ...

    def log_access(self, user: str, record_ids: Sequence[str], purpose: str) -> None:
        """Record, in one transaction, that ``user`` was shown the personal data of ``record_ids``."""
        ...

    def access_log(self, record_id: str | None = None) -> list[AccessEntry]: ...

    def close(self) -> None: ...


class SubmissionStore(Protocol):
    """Submitted reports. Decisions are compare-and-set on the status, so a report is decided once; an
    approval also holds the report (``deciding``) while it writes the record, so that is written once."""

    def add_submission(
        self, layer: str, payload: dict[str, Any], organisation: str | None, author: str, status: str
    ) -> Submission: ...

    def submission(self, submission_id: str) -> Submission:
        """``NotFound`` if there is none."""
        ...

    def submissions(
        self,
        *,
        organisation: str | None = None,
        author: str | None = None,
        status: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Submission]:
        """Newest first; ``organisation``/``author`` restrict to one organisation's or one person's reports."""
        ...

    def decide(
        self,
        submission_id: str,
        expected_status: str,
        status: str,
        decided_by: str,
        reason: str | None,
        record_id: str | None = None,
        record_version: int | None = None,
    ) -> Submission:
        """Move a report from ``expected_status`` to ``status``; ``Conflict`` if it is no longer there."""
        ...

    def revise(self, submission_id: str, expected_status: str, payload: dict[str, Any], status: str) -> Submission:
        """Replace a report's payload and move it from ``expected_status`` to ``status`` (a draft edited, or a
        rejected report corrected); ``Conflict`` if it is no longer in ``expected_status``. The last
        decision (``reason``, ``decided_*``) stays until the next one."""
        ...

    def deciding(self, submission_id: str) -> AbstractContextManager[None]:
        """Hold a report while one decision on it is written (the record, then ``decide``): another
        ``deciding`` of it meanwhile, in this process or another server's, is a ``Conflict``."""
        ...

    def close(self) -> None: ...
