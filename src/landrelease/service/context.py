"""What every route needs: who is asking (a ``Principal`` with a ``Role``) and the store.

Routers depend on ``require(Role.X)``; the auth module provides how a principal is found (bearer token or
session cookie). Roles are ordered: each one can do what the ones before it can.
"""

from __future__ import annotations

from dataclasses import dataclass

from landrelease.domain.roles import Role

__all__ = ["Principal", "Role"]


@dataclass(frozen=True)
class Principal:
    """An authenticated user."""

    name: str
    role: Role
    organisation: str | None = None

    @property
    def sees_personal_data(self) -> bool:
        return self.role.can(Role.REVIEWER)
