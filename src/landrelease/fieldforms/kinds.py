"""The field forms teams fill in, as sections of the schema's own layers.

A form is a main section (the activity, EORE session or accident) and the records reported with it
(outcome polygons, finds, victims, a new hazard), each section one layer of ``domain.schema``: the
questions are that layer's fields, so a field added to the schema appears in every form that reports the
layer. Links between the records of one submission (an outcome's activity, a victim's accident) are not
asked: they are made when the submission is ingested.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from landrelease.domain.ordnance import CATALOGUE
from landrelease.domain.schema import Field, FieldType, layer_named
from landrelease.errors import InvalidInput

#: Bump when the way forms are generated changes the data they produce (not for new labels).
FORM_REVISION = 1
#: Provenance fields are filled by the system, never asked in the field.
NOT_ASKED = frozenset({"source", "source_ref", "extra", "synthetic"})
#: Link fields and the layer of the record they name.
LINKS = {"hazard_id": "hazards", "activity_id": "activities", "accident_id": "accidents"}
#: Questions the forms add beyond the schema; their answers are kept in the record's ``extra``.
PHOTO, ROUTE, VERSION_QUESTION = "photo", "route", "form_version"
ORDNANCE_FIELDS = ("ordnance_category", "ordnance_subcategory", "ordnance_model")


@dataclass(frozen=True)
class Section:
    """One layer's record(s) in a form: a group (one record) or a repeat (any number)."""

    name: str
    layer: str
    repeat: bool = False
    #: Fields the form kind decides (an NTS activity is of type nts): not asked.
    fixed: Mapping[str, str] = field(default_factory=dict)
    #: Fields this form requires beyond the schema's own required fields.
    require: tuple[str, ...] = ()
    #: XLSForm relevance: the section is only shown when this holds.
    relevant: str | None = None


@dataclass(frozen=True)
class FormKind:
    name: str
    sections: tuple[Section, ...]

    @property
    def form_id(self) -> str:
        return f"landrelease_{self.name}"

    @property
    def main(self) -> Section:
        """The section every other record of a submission hangs from (asked first, carries hazard_id)."""
        return next(s for s in self.sections if s.relevant is None and not s.repeat)

    def section(self, name: str) -> Section:
        return next(s for s in self.sections if s.name == name)

    @property
    def version(self) -> str:
        """Changes whenever the data the form produces would: fields, types, choices, sections."""
        shape = [
            [s.name, s.layer, s.repeat, sorted(s.fixed.items()), list(s.require)]
            + [[f.name, f.type.value, f.required, list(f.choices or ())] for f in asked_fields(self, s)]
            for s in self.sections
        ]
        digest = hashlib.sha256(json.dumps([FORM_REVISION, shape]).encode()).hexdigest()[:10]
        return f"{FORM_REVISION}-{digest}"


def _activity(activity_type: str, *, hazard_required: bool = True) -> Section:
    return Section(
        "activity",
        "activities",
        fixed={"activity_type": activity_type},
        require=("hazard_id",) if hazard_required else (),
    )


_FIND = Section("find", "finds", repeat=True)

KINDS: dict[str, FormKind] = {
    k.name: k
    for k in (
        FormKind(
            "nts",
            (
                _activity("nts", hazard_required=False),
                Section("hazard", "hazards", fixed={"status": "active"}, relevant="${hazard_id} = ''"),
                Section("cancelled", "outcomes", repeat=True, fixed={"kind": "cancelled"}),
            ),
        ),
        FormKind(
            "ts", (_activity("ts"), Section("reduced", "outcomes", repeat=True, fixed={"kind": "reduced"}), _FIND)
        ),
        FormKind(
            "clearance",
            (_activity("clearance"), Section("cleared", "outcomes", repeat=True, fixed={"kind": "cleared"}), _FIND),
        ),
        FormKind("eod", (_activity("eod_spot_task", hazard_required=False), _FIND)),
        FormKind("eore", (Section("session", "eore"),)),
        FormKind("accident", (Section("accident", "accidents"), Section("victim", "victims", repeat=True))),
        FormKind("qa", (_activity("qa_visit"), _FIND)),
    )
}


def form_kind(name: str) -> FormKind:
    """The form called ``name``, or ``InvalidInput`` listing the forms there are."""
    key = name.strip().lower()
    if key not in KINDS:
        raise InvalidInput(f"no form called {name!r}; forms are: {', '.join(KINDS)}")
    return KINDS[key]


def asked_fields(kind: FormKind, section: Section) -> list[Field]:
    """The schema fields a section asks, in schema order: not derived, not provenance, not fixed by the
    form, and links only in the main section (the others are linked when the submission is ingested)."""
    layer = layer_named(section.layer)
    main = section == kind.main
    return [
        f
        for f in layer.fields
        if not f.derived
        and f.name not in NOT_ASKED
        and f.name not in section.fixed
        and (f.name not in LINKS or (main and f.name == "hazard_id"))
    ]


def is_required(section: Section, f: Field) -> bool:
    return f.required or f.name in section.require


def slug(text: str) -> str:
    """A choice name for free text (XLSForm choice names are codes, not sentences)."""
    return re.sub(r"[^0-9a-z]+", "_", text.lower()).strip("_")


def ordnance_choices() -> dict[str, list[tuple[str, str, str | None]]]:
    """The catalogue as cascading choice lists: list -> [(choice name, its text, parent choice name)]."""
    categories: dict[str, tuple[str, str, str | None]] = {}
    subcategories: dict[str, tuple[str, str, str | None]] = {}
    models: dict[str, tuple[str, str, str | None]] = {}
    for item in CATALOGUE:
        cat = slug(item.category)
        sub = slug(f"{item.category} {item.subcategory}")
        categories.setdefault(cat, (cat, item.category, None))
        subcategories.setdefault(sub, (sub, item.subcategory, cat))
        models.setdefault(slug(item.model), (slug(item.model), item.model, sub))
    return {
        "ordnance_category": list(categories.values()),
        "ordnance_subcategory": list(subcategories.values()),
        "ordnance_model": list(models.values()),
    }


def decode_ordnance(name: str, answer: str) -> str:
    """The catalogue's text for an ordnance choice name (an unknown answer is kept as it was given)."""
    for choice, text, _ in ordnance_choices().get(name, []):
        if choice == answer:
            return text
    return answer


def is_boolean(f: Field) -> bool:
    return f.type is FieldType.BOOLEAN
