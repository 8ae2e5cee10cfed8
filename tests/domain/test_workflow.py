"""Status workflows refuse illegal changes with a message that says what is allowed."""

from __future__ import annotations

import pytest

from landrelease.domain.workflow import ACTIVITY_WORKFLOW, HAZARD_WORKFLOW, REPORT_WORKFLOW
from landrelease.errors import IllegalTransition


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("active", "worked_on"),
        ("worked_on", "closed"),
        ("closed", "handed_over"),
        ("closed", "active"),
        ("active", "closed"),
    ],
)
def test_hazard_transitions_of_a_typical_minefield(current: str, target: str) -> None:
    HAZARD_WORKFLOW.check(current, target, "field report 2024/17")


def test_illegal_change_says_what_is_allowed() -> None:
    with pytest.raises(IllegalTransition, match=r"a handed_over hazard cannot become closed; it can become: active"):
        HAZARD_WORKFLOW.check("handed_over", "closed", "typo")


def test_every_change_needs_a_reason() -> None:
    with pytest.raises(IllegalTransition, match="needs a reason"):
        HAZARD_WORKFLOW.check("active", "worked_on", "  ")


def test_unknown_status_lists_the_statuses() -> None:
    with pytest.raises(IllegalTransition, match="statuses are: active, closed, handed_over, worked_on"):
        HAZARD_WORKFLOW.check("active", "cleared", "x")


def test_completed_activity_is_final() -> None:
    with pytest.raises(IllegalTransition, match=r"nothing \(it is final\)"):
        ACTIVITY_WORKFLOW.check("completed", "ongoing", "reopen")


def test_suspended_activity_can_resume_or_abort() -> None:
    ACTIVITY_WORKFLOW.check("suspended", "ongoing", "security improved")
    ACTIVITY_WORKFLOW.check("planned", "aborted", "access denied")


def test_report_review_cycle() -> None:
    REPORT_WORKFLOW.check("draft", "submitted", "sent")
    REPORT_WORKFLOW.check("submitted", "rejected", "no location")
    REPORT_WORKFLOW.check("rejected", "submitted", "location added")
    with pytest.raises(IllegalTransition):
        REPORT_WORKFLOW.check("draft", "approved", "skip review")


def test_same_status_is_refused() -> None:
    with pytest.raises(IllegalTransition, match="already active"):
        HAZARD_WORKFLOW.check("active", "active", "x")
