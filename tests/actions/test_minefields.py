"""Minefield records (CCW Amended Protocol II) from the template become CHA hazards with their details."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from landrelease.actions.minefields import COLUMNS, EXAMPLE, import_minefields, write_template
from landrelease.errors import InvalidInput
from landrelease.store import Store

TODAY = date(2025, 6, 1)


def write_rows(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def test_the_template_round_trips_and_becomes_a_hazard_with_its_record(gpkg: Store, tmp_path: Path) -> None:
    for suffix in ("csv", "xlsx"):
        template = tmp_path / f"template.{suffix}"
        write_template(template)
        summary = import_minefields(gpkg, template, "anna", today=TODAY)
        assert (summary.imported, summary.rejected) == (1, 0), summary.errors
        hazard = gpkg.get(summary.hazard_ids[0])
        assert hazard.attributes["hazard_class"] == "CHA" and hazard.attributes["status"] == "active"
        assert hazard.attributes["contamination"] == "mines: PMN-2; TM-62M (180 laid)"
        record = gpkg.get(summary.ids[0])
        assert record.attributes["hazard_id"] == hazard.id
        assert record.attributes["mines_emplaced"] == 180 and record.attributes["laid_on"] == "2022-03-14"
        assert record.attributes["anti_handling"] is True and record.attributes["self_deactivation"] is False
        assert record.attributes["self_destruct_days"] is None and record.geometry is not None
        assert record.geometry.equals(hazard.geometry)
        assert 4.0e4 < float(hazard.attributes["estimated_m2"] or 0) < 6.0e4  # about 230 m x 190 m
    about = load_workbook(tmp_path / "template.xlsx")["columns"]
    described = {r[0]: r[1] for r in about.iter_rows(min_row=2, values_only=True)}
    assert set(described) == set(COLUMNS) and all(described.values())


def test_bad_rows_are_reported_and_nothing_of_them_written(gpkg: Store, tmp_path: Path) -> None:
    path = tmp_path / "records.csv"
    write_rows(
        path,
        [
            EXAMPLE,
            {**EXAMPLE, "reference_points": "49.8490 36.3000"},
            {**EXAMPLE, "perimeter": "49.85 36.30; 49.86 x; 49.86 36.31"},
            {**EXAMPLE, "laid_on": "2030-01-01"},
            {**EXAMPLE, "laid_time": "25:10"},
            {**EXAMPLE, "emplacement_method": "by drone"},
            {**EXAMPLE, "mines_emplaced": "-3"},
        ],
    )
    summary = import_minefields(gpkg, path, "anna", today=TODAY)
    assert summary.imported == 1 and summary.rejected == 6
    assert [e.reason for e in summary.errors] == [
        "reference_points: the Protocol requires two or more reference points",
        "perimeter: point 2 '49.86 x' has something that is not a number",
        "laid_on 2030-01-01 is in the future",
        "laid_time: '25:10' is not a time hh:mm (24 h)",
        "emplacement_method: 'by drone' is not one of hand_laid, mechanically_laid, remotely_delivered, unknown",
        "mines_emplaced: -3 is negative",
    ]
    assert gpkg.count("hazards") == gpkg.count("minefields") == 1


def test_a_file_that_is_not_the_template(gpkg: Store, tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("id,name\n1,x\n")
    with pytest.raises(InvalidInput, match="lacks the template's columns perimeter, reference_points, mine_types"):
        import_minefields(gpkg, path, "anna")
