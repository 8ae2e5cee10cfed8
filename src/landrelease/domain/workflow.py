"""Status workflows: which status may follow which, and the rule that every change has a reason.

The default transitions follow the domain notes; a programme may declare its own ``Workflow`` (national
standards differ) without touching code that enforces it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from landrelease.domain.vocabulary import ActivityStatus, HazardStatus, ReportStatus
from landrelease.errors import IllegalTransition


@dataclass(frozen=True)
class Workflow:
    """A named status machine: ``transitions[a]`` are the statuses that may follow ``a``."""

    subject: str
    initial: str
    transitions: Mapping[str, frozenset[str]]

    @property
    def statuses(self) -> frozenset[str]:
        return frozenset(self.transitions)

    def check(self, current: str, target: str, reason: str) -> None:
        """Refuse an illegal change with a message that says what is allowed instead."""
        if target not in self.transitions:
            allowed = ", ".join(sorted(self.transitions))
            raise IllegalTransition(f"{target!r} is not a {self.subject} status; statuses are: {allowed}")
        if current not in self.transitions:
            raise IllegalTransition(f"the {self.subject} has an unknown status {current!r}")
        if not reason.strip():
            raise IllegalTransition(f"a {self.subject} status change needs a reason")
        if target == current:
            raise IllegalTransition(f"the {self.subject} is already {current}")
        allowed_next = self.transitions[current]
        if target not in allowed_next:
            options = ", ".join(sorted(allowed_next)) or "nothing (it is final)"
            raise IllegalTransition(f"a {current} {self.subject} cannot become {target}; it can become: {options}")


def _t(pairs: Mapping[str, tuple[str, ...]]) -> dict[str, frozenset[str]]:
    return {k: frozenset(v) for k, v in pairs.items()}


H = HazardStatus
HAZARD_WORKFLOW = Workflow(
    subject="hazard",
    initial=H.ACTIVE,
    transitions=_t(
        {
            H.ACTIVE: (H.WORKED_ON, H.CLOSED),
            H.WORKED_ON: (H.ACTIVE, H.CLOSED),
            H.CLOSED: (H.HANDED_OVER, H.ACTIVE),
            H.HANDED_OVER: (H.ACTIVE,),
        }
    ),
)

A = ActivityStatus
ACTIVITY_WORKFLOW = Workflow(
    subject="activity",
    initial=A.PLANNED,
    transitions=_t(
        {
            A.PLANNED: (A.ONGOING, A.SUSPENDED, A.ABORTED),
            A.ONGOING: (A.COMPLETED, A.SUSPENDED, A.ABORTED),
            A.SUSPENDED: (A.ONGOING, A.ABORTED),
            A.COMPLETED: (),
            A.ABORTED: (),
        }
    ),
)

R = ReportStatus
REPORT_WORKFLOW = Workflow(
    subject="report",
    initial=R.DRAFT,
    transitions=_t(
        {
            R.DRAFT: (R.SUBMITTED,),
            R.SUBMITTED: (R.APPROVED, R.REJECTED),
            R.REJECTED: (R.DRAFT, R.SUBMITTED),
            R.APPROVED: (),
        }
    ),
)

WORKFLOWS: dict[str, Workflow] = {"hazards": HAZARD_WORKFLOW, "activities": ACTIVITY_WORKFLOW}
