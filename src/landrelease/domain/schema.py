"""The national database's layers and fields, declared once as data.

Storage backends create their tables from this, importers map files onto it, exporters and (later) the
OGC API and the field forms are generated from it. Field names are lower-case ASCII so that every GIS
format (Shapefile's 10 characters excepted) keeps them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from landrelease.domain import vocabulary as v
from landrelease.errors import NotFound


class FieldType(StrEnum):
    TEXT = "TEXT"
    INTEGER = "INTEGER"
    REAL = "REAL"
    DATE = "DATE"  # ISO 8601 yyyy-mm-dd, stored as text
    BOOLEAN = "BOOLEAN"


class GeometryKind(StrEnum):
    """What a layer holds. Polygonal layers store MultiPolygon so one record may have several parts."""

    POLYGON = "MULTIPOLYGON"
    POINT = "POINT"
    NONE = "NONE"


@dataclass(frozen=True)
class Field:
    name: str
    type: FieldType
    label: str
    required: bool = False
    choices: tuple[str, ...] | None = None
    #: Personal data (victims): never exported or served without explicit permission.
    personal: bool = False
    #: Derived by the system (ledger figures): not imported, not versioned.
    derived: bool = False


@dataclass(frozen=True)
class Layer:
    name: str
    title: str
    #: Prefix of the human-readable record id, e.g. HZ-000042.
    id_prefix: str
    geometry: GeometryKind
    fields: tuple[Field, ...] = field(default_factory=tuple)
    #: Rows hold personal data (restricted).
    personal: bool = False

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


def _choices(enum: type[StrEnum]) -> tuple[str, ...]:
    return tuple(m.value for m in enum)


def _text(name: str, label: str, **kw: object) -> Field:
    return Field(name, FieldType.TEXT, label, **kw)  # type: ignore[arg-type]


def _int(name: str, label: str, **kw: object) -> Field:
    return Field(name, FieldType.INTEGER, label, **kw)  # type: ignore[arg-type]


def _real(name: str, label: str, **kw: object) -> Field:
    return Field(name, FieldType.REAL, label, **kw)  # type: ignore[arg-type]


def _date(name: str, label: str, **kw: object) -> Field:
    return Field(name, FieldType.DATE, label, **kw)  # type: ignore[arg-type]


_PROVENANCE = (
    _text("source", "Source (file, report or register the record came from)"),
    _text("source_ref", "Identifier in the source"),
    # The source's own columns that map to no field, as JSON: nothing a file brings in is lost.
    _text("extra", "Other attributes from the source (JSON)"),
    Field("synthetic", FieldType.BOOLEAN, "Synthetic demo data"),
)

HAZARDS = Layer(
    "hazards",
    "Hazardous areas",
    "HZ",
    GeometryKind.POLYGON,
    (
        _text("name", "Name"),
        _text("hazard_class", "Class", required=True, choices=_choices(v.HazardClass)),
        _text("status", "Status", required=True, choices=_choices(v.HazardStatus)),
        _text("contamination", "Contamination (e.g. AP mines, AT mines, cluster munitions, UXO)"),
        _text("operator", "Operator"),
        _text("admin_area", "Admin area id"),
        _date("reported_date", "Date reported"),
        _text("marking", "Warning measures (e.g. signs, fenced, none): Ottawa Convention Article 7"),
        _real("estimated_m2", "Estimated area (m2)", derived=True),
        _real("cancelled_m2", "Cancelled (m2)", derived=True),
        _real("reduced_m2", "Reduced (m2)", derived=True),
        _real("cleared_m2", "Cleared (m2)", derived=True),
        _real("remaining_m2", "Remaining (m2)", derived=True),
        *_PROVENANCE,
    ),
)

ACTIVITIES = Layer(
    "activities",
    "Activities (survey, clearance, EOD, QA)",
    "AC",
    GeometryKind.POLYGON,
    (
        _text("hazard_id", "Hazard id"),
        _text("activity_type", "Type", required=True, choices=_choices(v.ActivityType)),
        _text("status", "Status", required=True, choices=_choices(v.ActivityStatus)),
        _text("organisation", "Organisation"),
        _text("team", "Team"),
        _text("donor", "Donor (who funded the work)"),
        _date("start_date", "Start date"),
        _date("end_date", "End date"),
        *_PROVENANCE,
    ),
)

OUTCOMES = Layer(
    "outcomes",
    "Land release outcomes",
    "OC",
    GeometryKind.POLYGON,
    (
        _text("hazard_id", "Hazard id", required=True),
        _text("activity_id", "Activity id"),
        _text("kind", "Released by", required=True, choices=_choices(v.ReleaseKind)),
        _real("depth_cm", "Clearance depth (cm)"),
        _date("release_date", "Release date"),
        _text("operator", "Operator"),
        _real("released_m2", "Land this outcome released, net of overlaps (m2)", derived=True),
        *_PROVENANCE,
    ),
)

FINDS = Layer(
    "finds",
    "Explosive ordnance finds",
    "FD",
    GeometryKind.POINT,
    (
        _text("hazard_id", "Hazard id"),
        _text("activity_id", "Activity id"),
        _text("ordnance_category", "Category (e.g. Landmine)"),
        _text("ordnance_subcategory", "Subcategory (e.g. Anti-personnel)"),
        _text("ordnance_model", "Model (e.g. PMN-2)"),
        _int("quantity", "Quantity"),
        _text("condition", "Condition"),
        _real("depth_cm", "Depth (cm)"),
        _text("disposal", "Disposal"),
        _date("found_date", "Date found"),
        *_PROVENANCE,
    ),
)

ACCIDENTS = Layer(
    "accidents",
    "Accidents",
    "AX",
    GeometryKind.POINT,
    (
        _text("hazard_id", "Hazard id"),
        _text("accident_class", "Class", choices=_choices(v.AccidentClass)),
        _date("accident_date", "Date"),
        _text("device", "Device (ordnance model)"),
        _text("activity", "What the people were doing"),
        _int("killed", "Killed"),
        _int("injured", "Injured"),
        *_PROVENANCE,
    ),
)

VICTIMS = Layer(
    "victims",
    "Victims (personal data, restricted)",
    "VC",
    GeometryKind.NONE,
    (
        _text("accident_id", "Accident id", required=True),
        _text("full_name", "Name", personal=True),
        _text("sex", "Sex", choices=("female", "male", "unknown")),
        _date("date_of_birth", "Date of birth", personal=True),
        _text("address", "Address", personal=True),
        _text("outcome", "Killed or injured", choices=("killed", "injured")),
        _text("injuries", "Injuries", personal=True),
        _text("assistance", "Assistance received", personal=True),
        *_PROVENANCE,
    ),
    personal=True,
)

#: How a minefield was laid (CCW Amended Protocol II, Technical Annex: "emplacement method").
EMPLACEMENT_METHODS = ("hand_laid", "mechanically_laid", "remotely_delivered", "unknown")

#: A minefield record handed over for clearance (CCW Amended Protocol II, Technical Annex), linked to the
#: confirmed hazard (CHA) it became. The residual-hazard analysis reads ``hazard_id``, ``mines_emplaced``,
#: ``laid_on``, ``self_destruct_days``, ``self_deactivation`` and ``mine_types``: keep those names.
MINEFIELDS = Layer(
    "minefields",
    "Minefield records (CCW Amended Protocol II)",
    "MF",
    GeometryKind.POLYGON,
    (
        _text("hazard_id", "Hazard id", required=True),
        _text("reference_points", 'Reference points (two or more "lat lon", separated by ";")', required=True),
        _text("dimensions", "Dimensions (e.g. 200 m x 50 m)"),
        _text("mine_types", "Mine types (models, separated by ;)", required=True),
        _int("mines_emplaced", "Number of mines emplaced"),
        _text("emplacement_method", "Emplacement method", choices=EMPLACEMENT_METHODS),
        _text("fuse_type", "Fuse type (e.g. pressure, tripwire, tilt rod, magnetic)"),
        _int("self_destruct_days", "Self-destruct period (days)"),
        Field("self_deactivation", FieldType.BOOLEAN, "Self-deactivating"),
        _date("laid_on", "Date laid"),
        _text("laid_time", "Time laid (hh:mm)"),
        Field("anti_handling", FieldType.BOOLEAN, "Anti-handling devices"),
        _text("handed_over_by", "Handed over by (party that laid or recorded it)"),
        *_PROVENANCE,
    ),
)

#: EORE beneficiaries are counted by sex and age band (0-9, 10-17, 18-45, 46+).
AGE_BANDS = ("0_9", "10_17", "18_45", "46_plus")
BENEFICIARY_FIELDS = tuple(f"{sex}_{band}" for band in AGE_BANDS for sex in ("female", "male"))

EORE = Layer(
    "eore",
    "Explosive ordnance risk education sessions",
    "ER",
    GeometryKind.POINT,
    (
        _date("session_date", "Date"),
        _text("organisation", "Organisation"),
        _text("method", "Method (e.g. interpersonal, digital, mass media)"),
        *(_int(name, f"Beneficiaries {name.replace('_', ' ')}") for name in BENEFICIARY_FIELDS),
        _int("indirect_beneficiaries", "Indirect beneficiaries"),
        *_PROVENANCE,
    ),
)

ORGANISATIONS = Layer(
    "organisations",
    "Organisations and teams",
    "OR",
    GeometryKind.NONE,
    (
        _text("name", "Name", required=True),
        _text("kind", "Kind", choices=("authority", "operator", "team")),
        _text("parent_id", "Parent organisation id"),
        _text("accreditation", "Accreditation"),
        *_PROVENANCE,
    ),
)

ADMIN_AREAS = Layer(
    "admin_areas",
    "Administrative areas",
    "AD",
    GeometryKind.POLYGON,
    (
        _text("name", "Name", required=True),
        _text("name_en", "Name (English)"),
        _int("level", "Level (1 = first-level unit)"),
        _text("code", "Official code"),
        _text("parent_id", "Parent area id"),
        *_PROVENANCE,
    ),
)

#: Places and land use people depend on (settlements, roads, farmland, schools...), imported from gazetteers
#: or OpenStreetMap extracts; prioritisation measures hazards against them. Points: a line or an area is
#: imported as its representative point with ``--on-invalid repair``.
CONTEXT = Layer(
    "context",
    "Context: settlements, infrastructure and land use",
    "CX",
    GeometryKind.POINT,
    (
        _text("kind", "Kind", required=True, choices=_choices(v.ContextKind)),
        _text("name", "Name"),
        _int("population", "Population"),
        *_PROVENANCE,
    ),
)

#: Where mines are likely: the cells of a grid (a point at each centre) and what ``landrelease risk predict
#: --store`` last predicted for them, for the web map and prioritisation. The prediction is derived (rewritten
#: by every ``--store``, not versioned): a model's output that guides survey, never land release. A cell the
#: latest prediction did not cover has no risk.
RISK_CELLS = Layer(
    "risk_cells",
    "Risk cells (predicted, to target survey)",
    "RC",
    GeometryKind.POINT,
    (
        _real("cell_size_m", "Cell side (m)"),
        _text("admin_area", "Admin area id"),
        _real("risk", "Predicted chance that survey finds mines (0-1)", derived=True),
        _text("model", "Model file", derived=True),
        _text(
            "top_covariates", "Covariates that drive the risk (JSON: [[name, effect on log-odds], ...])", derived=True
        ),
        _date("predicted_on", "Date predicted", derived=True),
    ),
)

LAYERS: dict[str, Layer] = {
    layer.name: layer
    for layer in (
        HAZARDS,
        ACTIVITIES,
        OUTCOMES,
        FINDS,
        ACCIDENTS,
        VICTIMS,
        EORE,
        ORGANISATIONS,
        ADMIN_AREAS,
        CONTEXT,
        MINEFIELDS,
        RISK_CELLS,
    )
}


#: Fields that name a record of another layer: (layer, field) -> the layer the record must be in. Parent
#: ids (organisations, admin areas) are left out: a file may bring a parent in the same batch.
LINKS: dict[tuple[str, str], str] = {
    (layer.name, field.name): target
    for layer in LAYERS.values()
    for field in layer.fields
    for name, target in (("hazard_id", "hazards"), ("activity_id", "activities"), ("accident_id", "accidents"))
    if field.name == name and not field.derived
}


def layer_named(name: str) -> Layer:
    """The layer called ``name`` (``admin-areas`` and ``admin_areas`` both work)."""
    key = name.replace("-", "_").lower()
    if key not in LAYERS:
        raise NotFound(f"no layer called {name!r}; layers are: {', '.join(n.replace('_', '-') for n in LAYERS)}")
    return LAYERS[key]
