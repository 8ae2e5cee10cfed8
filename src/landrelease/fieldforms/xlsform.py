"""XLSForms (the spreadsheet form definition ODK Central and KoboToolbox read) built from the schema.

``build_xlsform`` is pure: it returns the three sheets as rows. ``write_xlsform`` writes them with
openpyxl. Choice lists come from the schema's vocabularies, the ordnance catalogue and, when the database
has them, its organisations and admin areas (otherwise those are text questions).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from landrelease.domain.records import ID_NUMBER_PATTERN
from landrelease.domain.schema import Field, FieldType, GeometryKind, layer_named
from landrelease.errors import InvalidInput
from landrelease.fieldforms import labels
from landrelease.fieldforms.kinds import (
    LINKS,
    ORDNANCE_FIELDS,
    PHOTO,
    ROUTE,
    VERSION_QUESTION,
    FormKind,
    Section,
    asked_fields,
    is_required,
    ordnance_choices,
)

Row = dict[str, str]
#: The largest area a single polygon may have in the field (m2): bigger is almost surely a slip of a finger.
MAX_AREA_M2 = 1_000_000_000
#: Fields that name an organisation (by its name) or an admin area (by its id).
ORGANISATION_FIELDS = ("organisation", "operator")
ADMIN_AREA_FIELDS = ("admin_area",)


@dataclass(frozen=True)
class FormContext:
    """What the database knows that forms offer as choices: ``(id, name)`` pairs."""

    organisations: Sequence[tuple[str, str]] = ()
    admin_areas: Sequence[tuple[str, str]] = ()


@dataclass
class XLSForm:
    survey: list[Row] = field(default_factory=list)
    choices: list[Row] = field(default_factory=list)
    settings: Row = field(default_factory=dict)
    languages: tuple[str, ...] = ("en",)


def parse_languages(text: str) -> tuple[str, ...]:
    """``en,uk`` as language codes; ``InvalidInput`` naming the ones there are for anything else."""
    codes = tuple(dict.fromkeys(c.strip().lower() for c in text.split(",") if c.strip()))
    unknown = [c for c in codes if c not in labels.LANGUAGES]
    if unknown or not codes:
        raise InvalidInput(f"--lang takes {', '.join(labels.LANGUAGES)} (comma-separated), not {text!r}")
    return codes


def build_xlsform(
    kind: FormKind, languages: Sequence[str] = ("en", "uk"), context: FormContext | None = None
) -> XLSForm:
    ctx = context or FormContext()
    form = XLSForm(languages=tuple(languages))
    builder = _Builder(form, kind, ctx)
    builder.add(
        {"type": "calculate", "name": VERSION_QUESTION, "calculation": f"'{kind.version}'"},
    )
    for section in kind.sections:
        builder.section(section)
    builder.choice_lists()
    form.settings = {
        "form_title": labels.phrase(f"form.{kind.name}")[languages[0]],
        "form_id": kind.form_id,
        "version": kind.version,
        "default_language": labels.LANGUAGES[languages[0]],
        "allow_choice_duplicates": "yes",
    }
    return form


class _Builder:
    def __init__(self, form: XLSForm, kind: FormKind, ctx: FormContext) -> None:
        self.form, self.kind, self.ctx = form, kind, ctx
        self.lists: dict[str, list[Row]] = {}

    def text(self, row: Row, column: str, texts: dict[str, str]) -> None:
        for lang in self.form.languages:
            row[f"{column}::{labels.LANGUAGES[lang]}"] = texts[lang]

    def add(self, row: Row, label: dict[str, str] | None = None, hint: dict[str, str] | None = None) -> Row:
        if label is not None:
            self.text(row, "label", label)
        if hint is not None:
            self.text(row, "hint", hint)
        self.form.survey.append(row)
        return row

    def section(self, section: Section) -> None:
        layer = layer_named(section.layer)
        begin, end = ("begin_repeat", "end_repeat") if section.repeat else ("begin_group", "end_group")
        group = self.add({"type": begin, "name": section.name}, labels.phrase(f"section.{section.name}"))
        if section.relevant:
            group["relevant"] = section.relevant
        for f in asked_fields(self.kind, section):
            self.question(section, f)
        if layer.geometry is GeometryKind.POLYGON:
            self.add(
                {
                    "type": "geoshape",
                    "name": "boundary",
                    "required": "yes",
                    "constraint": f"area(.) >= 1 and area(.) <= {MAX_AREA_M2}",
                },
                labels.phrase("geo.shape"),
            )
            self.messages(self.form.survey[-1], required=True, constraint="msg.area")
        elif layer.geometry is GeometryKind.POINT:
            row = self.add({"type": "geopoint", "name": "location", "required": "yes"}, labels.phrase("geo.point"))
            self.messages(row, required=True)
        if section == self.kind.main:
            if section.layer == "activities":
                self.add({"type": "geotrace", "name": ROUTE}, labels.phrase("geo.route"))
            # Phones take 12-megapixel photos; a report needs a few hundred KB, sent over poor networks.
            self.add({"type": "image", "name": PHOTO, "parameters": "max-pixels=1600"}, labels.phrase("photo"))
        self.add({"type": end, "name": ""})

    def messages(self, row: Row, *, required: bool, constraint: str | None = None, **values: str) -> None:
        if required:
            self.text(row, "required_message", labels.phrase("msg.required"))
        if constraint is not None:
            self.text(row, "constraint_message", labels.phrase(constraint, **values))

    def question(self, section: Section, f: Field) -> None:
        row: Row = {"type": self.question_type(section, f), "name": f.name}
        required = is_required(section, f)
        hint = labels.phrase("hint.personal") if f.personal else None
        constraint: str | None = None
        values: dict[str, str] = {}
        if f.name == "hazard_id":
            example = f"{layer_named(LINKS['hazard_id']).id_prefix}-000042"
            hint = labels.phrase("hint.hazard_id_required" if required else "hint.hazard_id", example=example)
            row["constraint"] = f"regex(., '^{example[:3]}{ID_NUMBER_PATTERN}$')"  # HZ-1000000 too
            constraint, values = "msg.id", {"example": example}
        elif f.type is FieldType.DATE:
            row["constraint"] = ". <= today()"
            constraint = "msg.future"
            if f.name == "end_date":
                row["constraint"] = ". <= today() and (${start_date} = '' or . >= ${start_date})"
                constraint = "msg.end_after_start"
        elif f.type in (FieldType.INTEGER, FieldType.REAL):
            row["constraint"] = ". >= 0"
            constraint = "msg.not_negative"
        if f.name == "ordnance_subcategory":
            row["choice_filter"] = "parent = ${ordnance_category}"
        elif f.name == "ordnance_model":
            row["choice_filter"] = "parent = ${ordnance_subcategory}"
        if required:
            row["required"] = "yes"
        self.add(row, labels.field_label(section.layer, f.name, f.label), hint)
        self.messages(row, required=required, constraint=constraint, **values)

    def question_type(self, section: Section, f: Field) -> str:
        if section.layer == "finds" and f.name in ORDNANCE_FIELDS:
            return self.select(f.name, [(n, labels.ordnance_label(t), p) for n, t, p in ordnance_choices()[f.name]])
        if f.name == "device":
            models = [(n, labels.ordnance_label(t), None) for n, t, _ in ordnance_choices()["ordnance_model"]]
            return self.select("device", [*models, ("unknown", labels.choice_label("unknown"), None)])
        if f.name in ORGANISATION_FIELDS and self.ctx.organisations:
            orgs = [(i, {lang: n for lang in labels.LANGUAGES}, None) for i, n in self.ctx.organisations]
            return self.select("organisations", orgs)
        if f.name in ADMIN_AREA_FIELDS and self.ctx.admin_areas:
            areas = [(i, {lang: n for lang in labels.LANGUAGES}, None) for i, n in self.ctx.admin_areas]
            return self.select("admin_areas", areas)
        if f.choices is not None:
            return self.select(f"{section.layer}_{f.name}", [(c, labels.choice_label(c), None) for c in f.choices])
        match f.type:
            case FieldType.BOOLEAN:
                return self.select("yes_no", [(c, labels.choice_label(c), None) for c in ("yes", "no")])
            case FieldType.INTEGER:
                return "integer"
            case FieldType.REAL:
                return "decimal"
            case FieldType.DATE:
                return "date"
        return "text"

    def select(self, list_name: str, choices: Sequence[tuple[str, dict[str, str], str | None]]) -> str:
        if list_name not in self.lists:
            rows: list[Row] = []
            for name, label, parent in choices:
                row: Row = {"list_name": list_name, "name": name}
                self.text(row, "label", label)
                if parent is not None:
                    row["parent"] = parent
                rows.append(row)
            self.lists[list_name] = rows
        return f"select_one {list_name}"

    def choice_lists(self) -> None:
        for rows in self.lists.values():
            self.form.choices.extend(rows)


def _columns(rows: Sequence[Row], first: Sequence[str]) -> list[str]:
    columns = list(first)
    for row in rows:
        columns.extend(c for c in row if c not in columns)
    return columns


def write_xlsform(form: XLSForm, path: Path) -> None:
    """Write the form as an .xlsx workbook (survey, choices, settings sheets)."""
    from openpyxl import Workbook

    if path.suffix.lower() != ".xlsx":
        raise InvalidInput(f"{path.name}: an XLSForm is written as .xlsx")
    if not path.parent.is_dir():
        raise InvalidInput(f"{path.parent} is not a folder")
    book = Workbook()
    sheets = (
        ("survey", form.survey, ["type", "name"]),
        ("choices", form.choices, ["list_name", "name"]),
        ("settings", [form.settings], list(form.settings)),
    )
    for i, (title, rows, first) in enumerate(sheets):
        sheet = book.active if i == 0 else book.create_sheet()
        assert sheet is not None
        sheet.title = title
        columns = _columns(rows, first)
        sheet.append(columns)
        for row in rows:
            sheet.append([row.get(c, "") for c in columns])
    try:
        book.save(path)
    except OSError as exc:
        raise InvalidInput(f"cannot write {path}: {exc.strerror or exc}") from None
