"""Who may do what in a programme: the roles of its users, ordered so that each can do what those before it can."""

from __future__ import annotations

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
