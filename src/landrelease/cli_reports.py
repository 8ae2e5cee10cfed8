"""``landrelease report article7|article5|ccw``: the treaty tables, as a table, CSV or JSON."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from landrelease.cli_common import cli_store, friendly, out, print_json, report_app

YEAR_HELP = "Calendar year (default: the latest year with a release date)."


def _treaty(ctx: typer.Context, table: str, year: int | None, as_json: bool, as_csv: bool, section: str | None) -> None:
    from landrelease.actions.reports import treaty
    from landrelease.errors import InvalidInput
    from landrelease.reporting.tables import treaty_csv

    if as_json and as_csv:
        raise InvalidInput("choose one of --json and --csv")
    with cli_store(ctx) as store:
        result = treaty(store, table, year)  # type: ignore[arg-type]
    data = result.as_dict()
    if as_json:
        print_json(data)
        return
    if as_csv:
        sys.stdout.write(treaty_csv(data, section))
        return
    for s in result.sections:
        if section is not None and s.name != section:
            continue
        t = Table(title=f"{table} {result.year}: {s.name}", title_justify="left")
        for c in s.columns:
            t.add_column(c, justify="left" if c in ("id", "name", "admin_area") else "right")
        for row in s.rows:
            t.add_row(*(_cell(row.get(c)) for c in s.columns))
        out.print(t)
    for note in result.notes:
        out.print(f"- {note}", markup=False)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}"
    return "" if value is None else str(value)


Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]
Csv = Annotated[bool, typer.Option("--csv", help="Print CSV (one section).")]
Year = Annotated[int | None, typer.Option(help=YEAR_HELP)]
SectionOpt = Annotated[str | None, typer.Option(help="Which section to print (article7: areas or warnings).")]


@report_app.command("article7")
@friendly
def report_article7(
    ctx: typer.Context, year: Year = None, as_json: Json = False, as_csv: Csv = False, section: SectionOpt = None
) -> None:
    """Ottawa Convention Article 7: mined areas (location, type, quantity, dates), progress, warning measures."""
    _treaty(ctx, "article7", year, as_json, as_csv, section)


@report_app.command("article5")
@friendly
def report_article5(
    ctx: typer.Context, year: Year = None, as_json: Json = False, as_csv: Csv = False, section: SectionOpt = None
) -> None:
    """Ottawa Convention Article 5 progress: remaining at the start, released, remaining at the end of the year."""
    _treaty(ctx, "article5", year, as_json, as_csv, section)


@report_app.command("ccw")
@friendly
def report_ccw(
    ctx: typer.Context, year: Year = None, as_json: Json = False, as_csv: Csv = False, section: SectionOpt = None
) -> None:
    """CCW Amended Protocol II clearance summary: mined areas cleared and mines destroyed in the year."""
    _treaty(ctx, "ccw", year, as_json, as_csv, section)
