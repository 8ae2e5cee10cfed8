"""A file brought in through the service: checked with the importer's own rules, then its valid features
submitted as reports for review (never written to the national record directly)."""

from __future__ import annotations

from dataclasses import dataclass, field

import shapely.geometry

from landrelease.accounts.protocol import Submission, SubmissionStore
from landrelease.actions import review
from landrelease.actions.imports import ImportPlan, Rejection
from landrelease.errors import InvalidInput
from landrelease.store.protocol import Store


@dataclass
class Submitted:
    """What became of a plan's features: the reports made, and the features the report checks refused."""

    reports: list[tuple[int, Submission]] = field(default_factory=list)
    refused: list[Rejection] = field(default_factory=list)


def submit_plan(
    store: Store, submissions: SubmissionStore, plan: ImportPlan, *, author: str, organisation: str | None
) -> Submitted:
    """One submitted report per feature that passed ``plan_import``.

    Each report is its own record in the review queue (a reviewer approves or rejects each), so one refused
    by the report checks (a link that changed since the check, say) is listed and the others still go in.
    """
    done = Submitted()
    for index, attributes, geometry in plan.candidates:
        try:
            report = review.submit(
                store,
                submissions,
                layer_name=plan.layer.name,
                attributes=attributes,
                geometry=None if geometry is None else shapely.geometry.mapping(geometry),
                author=author,
                organisation=organisation,
            )
        except InvalidInput as exc:
            done.refused.append(Rejection(index, exc.message))
        else:
            done.reports.append((index, report))
    return done
