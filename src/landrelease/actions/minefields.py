"""Minefield records handed over for clearance (CCW Amended Protocol II, Technical Annex), from a template.

The template (``landrelease forms minefield-template OUT.csv|OUT.xlsx``) has one row per record, with
these columns (coordinates are WGS84 decimal degrees, "lat lon", points separated by ";"):

==================== ==========================================================================
record_ref           the record's number in the register of the party handing it over
name                 a name for the hazard
perimeter            the corner points of the perimeter, in order (3 or more)
reference_points     two or more reference points the field was measured from
dimensions           e.g. "200 m x 50 m"
mine_types           mine models, separated by ";" (e.g. "PMN-2; TM-62M")
mines_emplaced       the number of mines laid
emplacement_method   hand_laid, mechanically_laid, remotely_delivered or unknown
fuse_type            e.g. pressure, tripwire, tilt rod, magnetic
self_destruct_days   self-destruct period in days (remotely delivered mines), else empty
self_deactivation    yes or no
laid_on              date laid (yyyy-mm-dd)
laid_time            time laid (hh:mm, 24 h)
anti_handling        yes or no: anti-handling devices fitted
handed_over_by       the party that laid or recorded the field
==================== ==========================================================================

Each valid record becomes a confirmed hazard (CHA, polygon = perimeter) and a ``minefields`` record with
its details and ``hazard_id``; each rejected row is reported with its reason. Every row is checked before
anything is written.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from shapely.geometry.base import BaseGeometry

from landrelease.actions.linking import admin_area_of, programme_extent
from landrelease.actions.release import keep_current_after, new_hazard_figures
from landrelease.domain.attributes import coerce_attributes
from landrelease.domain.records import Change, NewFeature, Scalar
from landrelease.domain.schema import HAZARDS, MINEFIELDS, GeometryKind
from landrelease.errors import InvalidInput, UnreadableFile
from landrelease.fieldforms.submissions import geometry
from landrelease.geo.validation import Verdict, check_geometry
from landrelease.store.protocol import Store

COLUMNS = (
    "record_ref",
    "name",
    "perimeter",
    "reference_points",
    "dimensions",
    "mine_types",
    "mines_emplaced",
    "emplacement_method",
    "fuse_type",
    "self_destruct_days",
    "self_deactivation",
    "laid_on",
    "laid_time",
    "anti_handling",
    "handed_over_by",
)
#: A filled-in example row (a fictitious hand-laid field south of Kharkiv), the template's second row.
EXAMPLE = {
    "record_ref": "EXAMPLE-1 (delete this row)",
    "name": "Field north of the pumping station",
    "perimeter": "49.8512 36.3011; 49.8520 36.3042; 49.8501 36.3050; 49.8495 36.3018",
    "reference_points": "49.8490 36.3000; 49.8530 36.3060",
    "dimensions": "230 m x 190 m",
    "mine_types": "PMN-2; TM-62M",
    "mines_emplaced": "180",
    "emplacement_method": "hand_laid",
    "fuse_type": "pressure",
    "self_destruct_days": "",
    "self_deactivation": "no",
    "laid_on": "2022-03-14",
    "laid_time": "05:40",
    "anti_handling": "yes",
    "handed_over_by": "",
}
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_DESCRIPTIONS = {
    line[:21].strip(): line[21:].strip()
    for line in (__doc__ or "").splitlines()
    if line[:21].strip() in COLUMNS and len(line) > 21
}


def write_template(path: Path) -> None:
    """The template with its header and the example row (.xlsx also gets a sheet describing each column)."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise InvalidInput(f"{path.name}: the template is written as .csv or .xlsx")
    if not path.parent.is_dir():
        raise InvalidInput(f"{path.parent} is not a folder")
    if suffix == ".csv":
        with path.open("w", encoding="utf-8", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerow(EXAMPLE)
        return
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "minefields"
    sheet.append(list(COLUMNS))
    sheet.append([EXAMPLE[c] for c in COLUMNS])
    about = book.create_sheet("columns")
    about.append(["column", "what it holds"])
    for column in COLUMNS:
        about.append([column, _DESCRIPTIONS.get(column, "")])
    book.save(path)


def read_rows(path: Path) -> list[dict[str, str]]:
    """The template's rows as text (the header names the columns; order does not matter)."""
    if not path.is_file():
        raise UnreadableFile(f"{path.name}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise UnreadableFile(f"{path.name} is not UTF-8 text; save the template as CSV UTF-8") from None
        delimiter = max(",;\t", key=text.split("\n", 1)[0].count)
        rows = [
            {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
            for row in csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
        ]
    elif suffix == ".xlsx":
        rows = _xlsx_rows(path)
    else:
        raise UnreadableFile(f"{path.name}: minefield records come in the template, as .csv or .xlsx")
    missing = [c for c in ("perimeter", "reference_points", "mine_types") if rows and c not in rows[0]]
    if not rows:
        raise UnreadableFile(f"{path.name} holds no records")
    if missing:
        raise InvalidInput(
            f"{path.name} lacks the template's columns {', '.join(missing)}; see forms minefield-template"
        )
    return rows


def _xlsx_rows(path: Path) -> list[dict[str, str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise UnreadableFile(f"{path.name} is not a readable Excel workbook ({type(exc).__name__})") from None
    try:
        sheet = book["minefields"] if "minefields" in book.sheetnames else book.worksheets[0]
        values = list(sheet.iter_rows(values_only=True))
    finally:
        book.close()
    if not values:
        return []
    header = [str(h or "").strip().lower() for h in values[0]]
    rows = []
    for row in values[1:]:
        cells = ["" if v is None else v.isoformat()[:10] if isinstance(v, date) else str(v).strip() for v in row]
        if any(cells):
            rows.append(dict(zip(header, cells, strict=False)))
    return rows


@dataclass(frozen=True)
class Rejection:
    index: int
    reason: str


@dataclass
class MinefieldSummary:
    """What an import of minefield records did; ``as_dict`` is the CLI's ``--json`` (as the core import's)."""

    file: str
    imported: int = 0
    rejected: int = 0
    errors: list[Rejection] = field(default_factory=list)
    hazard_ids: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "imported": self.imported,
            "rejected": self.rejected,
            "errors": [{"index": e.index, "reason": e.reason} for e in self.errors],
            "hazards": self.hazard_ids,
            "minefields": self.ids,
            "file": self.file,
        }


@dataclass
class _Record:
    index: int
    hazard: dict[str, Scalar]
    minefield: dict[str, Scalar]
    shape: BaseGeometry
    extra: dict[str, str] = field(default_factory=dict)


def import_minefields(store: Store, path: Path, author: str, *, today: date | None = None) -> MinefieldSummary:
    """Every valid record of the template as a CHA hazard with its minefield details; see the module."""
    rows = read_rows(path)
    summary = MinefieldSummary(file=str(path))
    extent = programme_extent(store)
    good: list[_Record] = []
    for index, row in enumerate(rows, start=1):
        try:
            good.append(_check(index, row, extent, today or date.today()))
        except InvalidInput as exc:
            summary.errors.append(Rejection(index, exc.message))
    summary.rejected = len(summary.errors)
    if not good:
        return summary
    areas = admin_area_of(store, [r.shape for r in good])
    for record, area in zip(good, areas, strict=True):
        record.hazard["admin_area"] = area
    change = Change(author, f"minefield records from {path.name} (CCW Amended Protocol II)")
    before = store.ledger_state()
    figures = new_hazard_figures([r.shape for r in good])
    hazard_ids = store.add(
        "hazards", [NewFeature(r.hazard, r.shape, f) for r, f in zip(good, figures, strict=True)], change
    )
    keep_current_after(store, before, len(good))
    summary.hazard_ids = hazard_ids
    for record, hazard_id in zip(good, hazard_ids, strict=True):
        record.minefield["hazard_id"] = hazard_id
    summary.ids = store.add("minefields", [NewFeature(r.minefield, r.shape) for r in good], change)
    summary.imported = len(good)
    return summary


def _check(index: int, row: dict[str, str], extent: tuple[float, float, float, float] | None, today: date) -> _Record:
    shape = geometry("geoshape", row.get("perimeter", ""), "perimeter")
    checked = check_geometry(index, shape, GeometryKind.POLYGON, repair=False, extent=extent)
    if checked.verdict is Verdict.REJECTED or checked.geometry is None:
        raise InvalidInput(f"perimeter: {checked.reason}")
    points = row.get("reference_points", "")
    if len([p for p in points.split(";") if p.strip()]) < 2:
        raise InvalidInput("reference_points: the Protocol requires two or more reference points")
    geometry("geotrace", points, "reference_points")  # each a valid "lat lon"
    laid_time = row.get("laid_time", "")
    if laid_time and not _TIME.match(laid_time):
        raise InvalidInput(f"laid_time: {laid_time!r} is not a time hh:mm (24 h)")
    values = {c: row.get(c, "") for c in COLUMNS if c in MINEFIELDS.field_names}
    values["hazard_id"] = "(the new hazard)"
    values["source"] = "minefield record"
    values["source_ref"] = row.get("record_ref", "")
    minefield = coerce_attributes(MINEFIELDS, values)
    laid_on = minefield.get("laid_on")
    if isinstance(laid_on, str) and date.fromisoformat(laid_on) > today:
        raise InvalidInput(f"laid_on {laid_on} is in the future")
    for name in ("mines_emplaced", "self_destruct_days"):
        value = minefield.get(name)
        if isinstance(value, int) and value < 0:
            raise InvalidInput(f"{name}: {value} is negative")
    count = minefield.get("mines_emplaced")
    hazard = coerce_attributes(
        HAZARDS,
        {
            "name": row.get("name") or row.get("record_ref") or None,
            "hazard_class": "CHA",
            "status": "active",
            "contamination": f"mines: {minefield['mine_types']}" + (f" ({count} laid)" if count is not None else ""),
            "source": "minefield record",
            "source_ref": row.get("record_ref") or None,
        },
    )
    return _Record(index, hazard, minefield, checked.geometry)
