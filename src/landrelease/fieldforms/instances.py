"""The field form instances already met, behind one typed protocol: what makes re-importing an export
idempotent (one row per ODK ``meta/instanceID``) and where a submission that failed its checks is kept,
whole, with its reason, until a corrected one comes (status ``needs_correction``).

Both backends keep them in a private ``lr_form_instances`` table beside the national record (never a
layer, never exported): ``store.geopackage.form_instances`` and ``store.postgis.form_instances``;
``open_form_instances`` picks one from the database location, as ``open_store`` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

SUBMITTED, NEEDS_CORRECTION = "submitted", "needs_correction"
STATUSES = (SUBMITTED, NEEDS_CORRECTION)


@dataclass(frozen=True)
class SeenInstance:
    """What became of one submission: its reports in the review queue, or the reason it needs correcting."""

    instance_id: str
    form: str
    version: str | None
    status: str
    reason: str | None
    reports: list[str]
    answers: dict[str, Any]
    #: When it was last kept (set by the backend; ignored by ``keep``).
    updated_at: datetime | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "instance_id": self.instance_id,
            "form": self.form,
            "version": self.version,
            "status": self.status,
            "reason": self.reason,
            "reports": self.reports,
            "updated_at": None if self.updated_at is None else self.updated_at.isoformat(),
            "answers": self.answers,
        }


class FormInstanceStore(Protocol):
    """The instance ledger of one landrelease database."""

    location: str

    def seen(self, instance_ids: Sequence[str]) -> dict[str, SeenInstance]:
        """The instances among ``instance_ids`` met before, by id."""
        ...

    def needing_correction(self, form: str | None = None) -> list[SeenInstance]:
        """Instances kept for correction (of one form, or all), the longest waiting first."""
        ...

    def keep(self, instance: SeenInstance) -> None:
        """Record (or replace) what became of an instance."""
        ...

    def close(self) -> None: ...


def open_form_instances(location: str) -> FormInstanceStore:
    """The instance ledger of the (existing) database at ``location``."""
    if location.startswith(("postgresql://", "postgres://")):
        try:
            from landrelease.store.postgis.form_instances import PostGISFormInstances
        except ImportError as error:  # psycopg is an optional dependency (the ``postgis`` extra)
            from landrelease.errors import StoreError

            raise StoreError(
                f"the PostGIS backend needs psycopg 3 ({error}); install it with: pip install 'landrelease[postgis]'"
            ) from None
        return PostGISFormInstances.open(location)
    from landrelease.store.geopackage.form_instances import FormInstances

    return FormInstances(location)
