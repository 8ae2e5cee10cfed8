"""What every route needs: who is asking (a ``Principal`` with a ``Role``) and the store.

Routers depend on ``require(Role.X)``; the auth module provides how a principal is found (bearer token or
session cookie). Roles are ordered: each one can do what the ones before it can.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"  # reads hazards, outcomes and reports
    OPERATOR = "operator"  # submits reports; sees its own organisation's drafts
    REVIEWER = "reviewer"  # approves, rejects, reconciles; sees victims' personal data
    ADMIN = "admin"  # manages users

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def can(self, needed: Role) -> bool:
        return self.rank >= needed.rank


@dataclass(frozen=True)
class Principal:
    """An authenticated user."""

    name: str
    role: Role
    organisation: str | None = None

    @property
    def sees_personal_data(self) -> bool:
        return self.role.can(Role.REVIEWER)
