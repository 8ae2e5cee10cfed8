"""A synthetic but realistic demo programme, built deterministically from a seed.

Hazards cluster along a fictional former front line, as contamination does; most are suspected (SHA),
some confirmed (CHA) and a few EOD spot tasks. Over 2022-2026 operators survey and clear them: non-technical
survey cancels outer parts, technical survey reduces, clearance clears, finds are recorded where items
were found, and some hazards are closed and handed over. Accidents, victims (invented people) and risk
education sessions complete the picture. Every record carries ``synthetic = true``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from landrelease.actions.release import refresh_ledger
from landrelease.domain.ordnance import CATALOGUE
from landrelease.domain.records import Change, NewFeature, Scalar
from landrelease.domain.schema import BENEFICIARY_FIELDS
from landrelease.errors import InvalidInput
from landrelease.store import open_store
from landrelease.store.protocol import Store

Progress = Callable[[str], None]
Floats = npt.NDArray[np.float64]
DEMO = Change("landrelease demo", "synthetic demo programme")
#: The demo region (a box in eastern Ukraine): districts are a 3 x 2 grid of it.
REGION = (35.6, 48.9, 38.6, 50.2)
DISTRICTS = (
    ("Північний район (демо)", "Northern district (demo)"),
    ("Річковий район (демо)", "River district (demo)"),
    ("Східний район (демо)", "Eastern district (demo)"),
    ("Західний район (демо)", "Western district (demo)"),
    ("Центральний район (демо)", "Central district (demo)"),
    ("Степовий район (демо)", "Steppe district (demo)"),
)
OPERATORS = (
    "Demo Demining Group",
    "Demo Mine Action Foundation",
    "Demo State Emergency Service",
    "Demo EOD Ltd",
)
CONTAMINATION = ("AP mines", "AT mines", "mixed mines", "cluster munitions", "UXO")
#: Who funds the work (reports group released land by donor); assigned in turn, not drawn, so the demo's
#: other random draws stay as they were.
DONORS = ("Demo Donor A", "Demo Donor B", "Demo Donor C")
MARKING = ("warning signs", "fenced and signed", "none")


def build_demo(
    location: str, *, hazards: int = 3000, seed: int = 20261124, progress: Progress | None = None
) -> dict[str, int]:
    """Build the demo programme into a fresh database at ``location``; return record counts per layer."""
    if hazards < 1 or hazards > 200_000:
        raise InvalidInput("--hazards takes a number from 1 to 200,000")
    say = progress or (lambda _m: None)
    _replace_demo_file(location)
    rng = np.random.default_rng(seed)
    store = open_store(location, create=True)
    try:
        counts = _build(store, rng, hazards, say)
        say("computing the land release ledger")
        refresh_ledger(store)
    finally:
        store.close()
    return counts


def _replace_demo_file(location: str) -> None:
    """An old demo file is replaced; anything else is never overwritten. A PostGIS database is never
    emptied (nothing there is ever deleted): the demo goes into an empty one."""
    if location.startswith(("postgresql://", "postgres://")):
        with open_store(location, create=True) as store:
            held = store.count("hazards")
        if held:
            raise InvalidInput(
                f"the demo is built in an empty database, and this one holds {held} hazards: "
                "use a new PostGIS database (or schema), or a .gpkg file"
            )
        return
    path = Path(location)
    if not path.exists():
        return
    store = open_store(location)
    try:
        _, _, cols = store.columns("hazards", ["synthetic"], geometry=False)
        real = sum(1 for v in cols["synthetic"] if not v)
    finally:
        store.close()
    if real:
        raise InvalidInput(f"{location} holds {real} real (non-demo) hazards: choose another --db for the demo")
    os.remove(path)


def _build(store: Store, rng: np.random.Generator, n: int, say: Progress) -> dict[str, int]:
    say("admin areas and organisations")
    area_ids = store.add("admin_areas", _districts(), DEMO)
    store.add(
        "organisations",
        [
            NewFeature({"name": name, "kind": "operator", "accreditation": "demo", "synthetic": True})
            for name in OPERATORS
        ],
        DEMO,
    )
    say(f"{n} hazards")
    polygons, centres = _hazard_polygons(rng, n)
    classes = rng.choice(["SHA", "CHA", "EOD"], size=n, p=[0.6, 0.35, 0.05])
    reported = [date(2022, 3, 1) + timedelta(days=int(d)) for d in rng.integers(0, 900, size=n)]
    operators = rng.choice(OPERATORS, size=n)
    # How far work on each hazard has gone by now: 0 none, 1 surveyed, 2 reduced, 3 cleared, 4 closed.
    stage = rng.choice([0, 1, 2, 3, 4], size=n, p=[0.35, 0.2, 0.15, 0.15, 0.15])
    statuses = np.where(stage == 0, "active", np.where(stage == 4, "closed", "worked_on"))
    handed = (stage == 4) & (rng.random(n) < 0.5)
    statuses = np.where(handed, "handed_over", statuses)
    area_of = _district_of(centres)
    hazard_features = [
        NewFeature(
            {
                "name": f"Demo hazard {i + 1}",
                "hazard_class": str(classes[i]) if stage[i] < 2 else "CHA",
                "status": str(statuses[i]),
                "contamination": str(rng.choice(CONTAMINATION)),
                "operator": str(operators[i]),
                "admin_area": area_ids[area_of[i]],
                "reported_date": reported[i].isoformat(),
                "marking": MARKING[i % len(MARKING)],
                "source": "demo",
                "synthetic": True,
            },
            polygons[i],
        )
        for i in range(n)
    ]
    hazard_ids = store.add("hazards", hazard_features, DEMO)

    say("activities, outcomes and finds")
    activities: list[NewFeature] = []
    outcomes: list[NewFeature] = []
    finds: list[NewFeature] = []
    find_activity: list[int] = []  # the activity (index) each find was made in
    for i in np.flatnonzero(stage > 0).tolist():
        day = reported[i] + timedelta(days=int(rng.integers(20, 200)))
        shares = _release_shares(rng, int(stage[i]))
        for kind, activity, (start, stop) in zip(
            ("cancelled", "reduced", "cleared"), ("nts", "ts", "clearance"), shares, strict=True
        ):
            if stop <= start:
                continue
            piece = _slice(polygons[i], start, stop)
            if piece is None:
                continue
            end = day + timedelta(days=int(rng.integers(5, 90)))
            common: dict[str, Scalar] = {"hazard_id": hazard_ids[i], "source": "demo", "synthetic": True}
            activities.append(
                NewFeature(
                    common
                    | {
                        "activity_type": activity,
                        "status": "completed",
                        "organisation": str(operators[i]),
                        "team": f"Team {int(rng.integers(1, 40))}",
                        "donor": DONORS[len(activities) % len(DONORS)],
                        "start_date": day.isoformat(),
                        "end_date": end.isoformat(),
                    },
                    piece,
                )
            )
            outcomes.append(
                NewFeature(
                    common
                    | {
                        "kind": kind,
                        "release_date": end.isoformat(),
                        "operator": str(operators[i]),
                        "depth_cm": 13.0 if kind == "cleared" else None,
                    },
                    piece,
                )
            )
            if kind != "cancelled":
                found = _finds(rng, piece, common, end, classes[i])
                finds.extend(found)
                find_activity.extend([len(activities) - 1] * len(found))
            day = end + timedelta(days=int(rng.integers(10, 120)))
    activity_ids = store.add("activities", activities, DEMO)
    # Each outcome is the product of the activity built with it; each find was made in one.
    outcomes = [
        NewFeature(dict(o.attributes) | {"activity_id": activity_ids[k]}, o.geometry) for k, o in enumerate(outcomes)
    ]
    finds = [
        NewFeature(dict(f.attributes) | {"activity_id": activity_ids[find_activity[k]]}, f.geometry)
        for k, f in enumerate(finds)
    ]
    store.add("outcomes", outcomes, DEMO)
    store.add("finds", finds, DEMO)

    say("accidents, victims and risk education")
    accidents, victims = _accidents(rng, polygons, hazard_ids)
    accident_ids = store.add("accidents", accidents, DEMO)
    store.add(
        "victims",
        [NewFeature(dict(v) | {"accident_id": accident_ids[a]}) for a, v in victims],
        DEMO,
    )
    eore = _eore(rng, centres)
    store.add("eore", eore, DEMO)
    say("context: settlements, roads, schools, farmland")
    context = _context(rng, centres)  # drawn last, so every draw above stays as it was
    store.add("context", context, DEMO)
    return {
        "admin_areas": len(area_ids),
        "organisations": len(OPERATORS),
        "hazards": n,
        "activities": len(activities),
        "outcomes": len(outcomes),
        "finds": len(finds),
        "accidents": len(accidents),
        "victims": len(victims),
        "eore": len(eore),
        "context": len(context),
    }


def _districts() -> list[NewFeature]:
    x0, y0, x1, y1 = REGION
    w, h = (x1 - x0) / 3, (y1 - y0) / 2
    out = []
    for k, (name, name_en) in enumerate(DISTRICTS):
        col, row = k % 3, k // 3
        box = shapely.box(x0 + col * w, y1 - (row + 1) * h, x0 + (col + 1) * w, y1 - row * h)
        out.append(
            NewFeature(
                {"name": name, "name_en": name_en, "level": 2, "code": f"DEMO-{k + 1}", "synthetic": True},
                shapely.MultiPolygon([box]),
            )
        )
    return out


def _district_of(centres: Floats) -> npt.NDArray[np.int64]:
    x0, y0, x1, y1 = REGION
    col = np.clip(((centres[:, 0] - x0) / ((x1 - x0) / 3)).astype(int), 0, 2)
    row = np.clip(((y1 - centres[:, 1]) / ((y1 - y0) / 2)).astype(int), 0, 1)
    return np.asarray(row * 3 + col, dtype=np.int64)


def _front_line(t: Floats) -> Floats:
    """A sinuous fictional line across the region, t in [0, 1]."""
    x0, y0, x1, y1 = REGION
    x = x0 + 0.1 + t * (x1 - x0 - 0.2)
    y = (y0 + y1) / 2 + 0.35 * np.sin(t * 5.0) + 0.12 * np.sin(t * 17.0)
    return np.column_stack((x, y))


def _hazard_polygons(rng: np.random.Generator, n: int) -> tuple[list[BaseGeometry], Floats]:
    """Irregular polygons of 0.1-60 ha near the line, none overlapping another."""
    polygons: list[BaseGeometry] = []
    centres = []
    tree_items: list[BaseGeometry] = []
    attempts = 0
    while len(polygons) < n and attempts < n * 20:
        attempts += 1
        base = _front_line(rng.random(1))[0]
        c = base + rng.normal(0, [0.12, 0.06])
        x0, y0, x1, y1 = REGION
        if not (x0 < c[0] < x1 and y0 < c[1] < y1):
            continue
        area_ha = float(np.clip(rng.lognormal(np.log(4), 1.1), 0.1, 60))
        radius_m = np.sqrt(area_ha * 10_000 / np.pi)
        k = int(rng.integers(6, 13))
        angles = np.sort(rng.uniform(0, 2 * np.pi, k))
        radii = radius_m * rng.uniform(0.6, 1.3, k)
        dx = radii * np.cos(angles) / (111_320 * np.cos(np.radians(c[1])))
        dy = radii * np.sin(angles) / 110_574
        poly = shapely.Polygon(np.column_stack((c[0] + dx, c[1] + dy)))
        if not poly.is_valid:
            continue
        if tree_items and _overlaps_any(poly, tree_items):
            continue
        polygons.append(shapely.MultiPolygon([poly]))
        tree_items.append(poly)
        centres.append(c)
    return polygons, np.array(centres)


def _overlaps_any(poly: BaseGeometry, others: list[BaseGeometry]) -> bool:
    # A coarse grid check is enough at demo scale: compare with recent neighbours by bounding box.
    minx, miny, maxx, maxy = poly.bounds
    for other in others[-400:]:
        ox0, oy0, ox1, oy1 = other.bounds
        if ox0 <= maxx and minx <= ox1 and oy0 <= maxy and miny <= oy1 and poly.intersects(other):
            return True
    return False


def _release_shares(rng: np.random.Generator, stage: int) -> list[tuple[float, float]]:
    """Strips (as shares of the hazard's width) cancelled, reduced and cleared at a given stage."""
    a = float(rng.uniform(0.1, 0.4))
    b = a + float(rng.uniform(0.1, 0.4))
    if stage >= 4:
        return [(0.0, a), (a, b), (b, 1.0)]
    c = b + float(rng.uniform(0.05, 1.0 - b)) if stage >= 3 else b
    return [(0.0, a), (a, b if stage >= 2 else a), (b, c)]


def _slice(polygon: BaseGeometry, start: float, stop: float) -> BaseGeometry | None:
    minx, miny, maxx, maxy = polygon.bounds
    w = maxx - minx
    strip = shapely.box(
        minx + start * w - (1e-9 if start == 0 else 0),
        miny - 1e-9,
        minx + stop * w + (1e-9 if stop == 1 else 0),
        maxy + 1e-9,
    )
    piece = shapely.intersection(polygon, strip)
    parts = [p for p in shapely.get_parts(piece) if p.geom_type == "Polygon" and not p.is_empty]
    return shapely.MultiPolygon(parts) if parts else None


def _finds(
    rng: np.random.Generator, piece: BaseGeometry, common: dict[str, Scalar], when: date, hazard_class: str
) -> list[NewFeature]:
    count = int(rng.poisson(1.5))
    out = []
    minx, miny, maxx, maxy = piece.bounds
    for _ in range(count):
        for _try in range(20):
            p = shapely.Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
            if piece.contains(p):
                item = CATALOGUE[int(rng.integers(0, len(CATALOGUE)))]
                out.append(
                    NewFeature(
                        common
                        | {
                            "ordnance_category": item.category,
                            "ordnance_subcategory": item.subcategory,
                            "ordnance_model": item.model,
                            "quantity": int(rng.integers(1, 6)),
                            "condition": str(rng.choice(["armed", "unknown", "damaged"])),
                            "depth_cm": float(rng.integers(0, 20)),
                            "disposal": str(rng.choice(["destroyed in situ", "removed and destroyed"])),
                            "found_date": when.isoformat(),
                        },
                        p,
                    )
                )
                break
    return out


def _accidents(
    rng: np.random.Generator, polygons: list[BaseGeometry], hazard_ids: list[str]
) -> tuple[list[NewFeature], list[tuple[int, dict[str, Scalar]]]]:
    n = max(1, len(polygons) // 20)
    accidents: list[NewFeature] = []
    victims: list[tuple[int, dict[str, Scalar]]] = []
    for k in range(n):
        i = int(rng.integers(0, len(polygons)))
        point = polygons[i].representative_point()
        killed = int(rng.random() < 0.3)
        injured = int(rng.integers(0 if killed else 1, 3))
        accidents.append(
            NewFeature(
                {
                    "hazard_id": hazard_ids[i],
                    "accident_class": str(rng.choice(["mine", "uxo", "cluster"], p=[0.6, 0.3, 0.1])),
                    "accident_date": (date(2022, 4, 1) + timedelta(days=int(rng.integers(0, 1600)))).isoformat(),
                    "device": str(rng.choice(["PMN-2", "TM-62M", "PFM-1S", "VOG-17", "unknown"])),
                    "activity": str(rng.choice(["farming", "collecting firewood", "travelling", "herding"])),
                    "killed": killed,
                    "injured": injured,
                    "source": "demo",
                    "synthetic": True,
                },
                point,
            )
        )
        for v in range(killed + injured):
            victims.append(
                (
                    k,
                    {
                        "full_name": f"Demo Person {k + 1}-{v + 1}",
                        "sex": str(rng.choice(["female", "male"])),
                        "outcome": "killed" if v < killed else "injured",
                        "synthetic": True,
                    },
                )
            )
    return accidents, victims


def _eore(rng: np.random.Generator, centres: Floats) -> list[NewFeature]:
    n = max(1, len(centres) // 6)
    out = []
    for _ in range(n):
        c = centres[int(rng.integers(0, len(centres)))] + rng.normal(0, 0.03, 2)
        counts = {name: int(rng.poisson(8)) for name in BENEFICIARY_FIELDS}
        out.append(
            NewFeature(
                {
                    "session_date": (date(2022, 5, 1) + timedelta(days=int(rng.integers(0, 1600)))).isoformat(),
                    "organisation": str(rng.choice(OPERATORS)),
                    "method": str(rng.choice(["interpersonal", "school session", "digital", "mass media"])),
                    **counts,
                    "indirect_beneficiaries": int(rng.poisson(60)),
                    "synthetic": True,
                },
                shapely.Point(float(c[0]), float(c[1])),
            )
        )
    return out


def _context(rng: np.random.Generator, centres: Floats) -> list[NewFeature]:
    """Villages near the hazards (people live where the fighting was), a road through them, and schools,
    health posts, water points, farmland and forest around them: what prioritisation measures against."""
    n = max(4, len(centres) // 30)
    villages = centres[rng.integers(0, len(centres), n)] + rng.normal(0, 0.04, (n, 2))
    villages = villages[np.argsort(villages[:, 0])]
    out: list[NewFeature] = []

    def add(kind: str, xy: Floats, name: str | None = None, population: int | None = None) -> None:
        attributes: dict[str, Scalar] = {"kind": kind, "name": name, "population": population, "synthetic": True}
        out.append(NewFeature(attributes, shapely.Point(float(xy[0]), float(xy[1]))))

    for k, xy in enumerate(villages):
        add("settlement", xy, f"Demo village {k + 1}", int(rng.lognormal(6.5, 1.0)))
        if rng.random() < 0.4:
            add("school", xy + rng.normal(0, 0.002, 2), f"Demo village {k + 1} school")
        if rng.random() < 0.2:
            add("health_facility", xy + rng.normal(0, 0.002, 2), f"Demo village {k + 1} health post")
        if rng.random() < 0.4:
            add("water_point", xy + rng.normal(0, 0.005, 2))
        for _ in range(int(rng.integers(3, 9))):
            add("farmland", xy + rng.normal(0, 0.02, 2))
        for _ in range(int(rng.integers(0, 4))):
            add("forest", xy + rng.normal(0, 0.03, 2))
    # The road joins the villages west to east; it is recorded as a point every 500 m or so.
    for k in range(len(villages) - 1):
        a, b = villages[k], villages[k + 1]
        steps = max(1, int(np.hypot(*((b - a) * [70_000, 111_000])) // 500))
        for t in np.linspace(0, 1, steps, endpoint=False):
            add("road", a + t * (b - a))
    return out
