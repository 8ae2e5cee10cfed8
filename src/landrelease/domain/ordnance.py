"""The ordnance catalogue: category -> subcategory -> model, with the facts survey and clearance need.

A seed list of items common in current contamination (from public ordnance references); a programme adds
its own. ``self_destruct_days`` is the design self-destruct time of remotely delivered "non-persistent"
mines, which CCW Amended Protocol II requires to be recorded, and which field experience shows is not
always met: such records still need survey and clearance.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OrdnanceType:
    category: str
    subcategory: str
    model: str
    anti_personnel: bool = False
    remotely_delivered: bool = False
    #: Design self-destruct / self-deactivation time, where the type has one.
    self_destruct_days: float | None = None


LANDMINE, UXO, SUBMUNITION = "Landmine", "Unexploded ordnance", "Submunition"
AP, AT = "Anti-personnel", "Anti-tank"

CATALOGUE: tuple[OrdnanceType, ...] = (
    OrdnanceType(LANDMINE, AP, "PMN-2", anti_personnel=True),
    OrdnanceType(LANDMINE, AP, "PMN-4", anti_personnel=True),
    OrdnanceType(LANDMINE, AP, "PFM-1", anti_personnel=True, remotely_delivered=True),
    OrdnanceType(LANDMINE, AP, "PFM-1S", anti_personnel=True, remotely_delivered=True, self_destruct_days=1.0),
    OrdnanceType(LANDMINE, AP, "POM-2", anti_personnel=True, remotely_delivered=True, self_destruct_days=1.0),
    OrdnanceType(LANDMINE, AP, "POM-3", anti_personnel=True, remotely_delivered=True, self_destruct_days=1.0),
    OrdnanceType(LANDMINE, AP, "OZM-72", anti_personnel=True),
    OrdnanceType(LANDMINE, AP, "MON-50", anti_personnel=True),
    OrdnanceType(LANDMINE, AP, "MON-90", anti_personnel=True),
    OrdnanceType(LANDMINE, AT, "TM-62M"),
    OrdnanceType(LANDMINE, AT, "TM-72"),
    OrdnanceType(LANDMINE, AT, "PTM-1S", remotely_delivered=True, self_destruct_days=1.0),
    OrdnanceType(LANDMINE, AT, "PTM-3", remotely_delivered=True, self_destruct_days=1.0),
    OrdnanceType(SUBMUNITION, "Dual-purpose", "9N235"),
    OrdnanceType(SUBMUNITION, "Dual-purpose", "9N210"),
    OrdnanceType(UXO, "Projectile", "122 mm HE projectile"),
    OrdnanceType(UXO, "Projectile", "152 mm HE projectile"),
    OrdnanceType(UXO, "Mortar", "120 mm mortar bomb"),
    OrdnanceType(UXO, "Mortar", "82 mm mortar bomb"),
    OrdnanceType(UXO, "Grenade", "VOG-17"),
    OrdnanceType(UXO, "Rocket", "122 mm 9M22 rocket"),
)


def by_model(model: str) -> OrdnanceType | None:
    """The catalogue entry of a model name (case and spaces ignored), if known."""
    key = model.replace(" ", "").lower()
    for item in CATALOGUE:
        if item.model.replace(" ", "").lower() == key:
            return item
    return None
