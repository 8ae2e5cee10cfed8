"""Status changes through the workflow: refused with a clear message when the workflow does not allow them."""

from __future__ import annotations

from landrelease.domain.records import Change, Feature
from landrelease.domain.workflow import WORKFLOWS
from landrelease.errors import IllegalTransition
from landrelease.store.protocol import Store


def change_status(store: Store, record_id: str, new_status: str, reason: str, author: str) -> Feature:
    """Move a hazard or activity to ``new_status``, with a reason kept in its history."""
    feature = store.get(record_id)
    workflow = WORKFLOWS.get(feature.layer)
    if workflow is None:
        raise IllegalTransition(f"{record_id} is in {feature.layer}, which has no status workflow")
    current = str(feature.attributes.get("status") or workflow.initial)
    workflow.check(current, new_status, reason)
    return store.update(record_id, Change(author, reason), {"status": new_status}, status_change=True)
