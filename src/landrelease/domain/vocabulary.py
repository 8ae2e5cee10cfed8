"""The field's controlled vocabularies (IMAS / IMSMA Minimum Data Requirements terms).

Values are stored as these lower-case codes; reports and forms show the labels.
"""

from __future__ import annotations

from enum import StrEnum


class HazardClass(StrEnum):
    """SHA: suspected (indirect evidence); CHA: confirmed (direct evidence)."""

    SHA = "SHA"
    CHA = "CHA"
    EOD = "EOD"  # EOD spot task: a single item or a small cluster
    STOCKPILE = "stockpile"


class HazardStatus(StrEnum):
    ACTIVE = "active"
    WORKED_ON = "worked_on"
    CLOSED = "closed"
    HANDED_OVER = "handed_over"


class ActivityType(StrEnum):
    NTS = "nts"  # non-technical survey
    TS = "ts"  # technical survey
    CLEARANCE = "clearance"
    COMPLETION_SURVEY = "completion_survey"
    EOD_SPOT_TASK = "eod_spot_task"
    QA_VISIT = "qa_visit"


class ActivityStatus(StrEnum):
    PLANNED = "planned"
    ONGOING = "ongoing"
    COMPLETED = "completed"
    SUSPENDED = "suspended"
    ABORTED = "aborted"


class ReleaseKind(StrEnum):
    """How land was released. The order of the members is the ledger's precedence (see ledger.py)."""

    CLEARED = "cleared"
    REDUCED = "reduced"
    CANCELLED = "cancelled"


class AccidentClass(StrEnum):
    MINE = "mine"
    UXO = "uxo"
    CLUSTER = "cluster"
    IED = "ied"
    STORED_AMMUNITION = "stored_ammunition"
    DEMINING = "demining"


class ContextKind(StrEnum):
    """What a context feature is: the places and land use that make a hazard urgent (prioritisation)."""

    SETTLEMENT = "settlement"
    ROAD = "road"
    FARMLAND = "farmland"
    PASTURE = "pasture"
    FOREST = "forest"
    SCHOOL = "school"
    HEALTH_FACILITY = "health_facility"
    WATER_POINT = "water_point"
    BRIDGE = "bridge"
    MARKET = "market"
    PLACE_OF_WORSHIP = "place_of_worship"
    POWER = "power"
    OTHER = "other"


class ReportStatus(StrEnum):
    """A data entry form (an operator's report) on its way into the national record."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"


#: Which release kind each activity type produces.
RELEASE_BY_ACTIVITY: dict[ActivityType, ReleaseKind] = {
    ActivityType.NTS: ReleaseKind.CANCELLED,
    ActivityType.TS: ReleaseKind.REDUCED,
    ActivityType.CLEARANCE: ReleaseKind.CLEARED,
}
