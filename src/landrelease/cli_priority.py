"""The prioritise command: which hazard to send the next team to, and why."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from landrelease.analysis.prioritisation import Ranking
from landrelease.analysis.priority_weights import CRITERIA
from landrelease.cli_common import app, cli_store, err, friendly, out
from landrelease.errors import InvalidInput

_HEADINGS = {
    "settlements": "Settle-\nments",
    "infrastructure": "Infra-\nstructure",
    "accidents": "Acci-\ndents",
    "finds": "Finds",
    "evidence": "Evi-\ndence",
    "area": "Area",
    "land_use": "Land\nuse",
    "risk": "Risk",
}


@app.command()
@friendly
def prioritise(
    ctx: typer.Context,
    weights: Annotated[
        Path | None,
        typer.Option("--weights", help="A TOML file of weights and settings laid over the shipped defaults."),
    ] = None,
    top: Annotated[int, typer.Option("--top", help="How many hazards the table shows (--json lists all).")] = 20,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="The date ages are counted to (yyyy-mm-dd; default today).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole ranking as JSON.")] = False,
) -> None:
    """Rank open hazards by urgency; each score is the sum of its criteria's components (weight x value)."""
    from landrelease.actions.prioritise import prioritise_store

    if top < 1:
        raise InvalidInput(f"--top takes a number from 1, not {top}")
    day = _date(as_of)
    with cli_store(ctx) as store:
        ranking = prioritise_store(store, weights, day)
    if as_json:
        sys.stdout.write(ranking_json(ranking))
    else:
        _render(ranking, top)
    for reason, n in ranking.not_ranked.items():
        err.print(f"{n} hazards not ranked: {reason}")
    for note in ranking.notes:
        err.print(f"note: {note}")


def ranking_json(ranking: Ranking) -> str:
    """The ranking as a JSON list with one hazard per line: as readable as indented JSON for a ranking,
    grep-able, and written by the C encoder (indented JSON is not: 100,000 hazards took seconds)."""
    rows = [json.dumps(row, ensure_ascii=False) for row in ranking.as_list()]
    return "[\n" + ",\n".join(rows) + "\n]\n" if rows else "[]\n"


def _date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"--as-of takes a date as yyyy-mm-dd, not {text!r}") from None


def _render(ranking: Ranking, top: int) -> None:
    shown = ranking.top(top)
    table = Table(
        title=f"Priorities on {ranking.as_of.isoformat()}: top {len(shown)} of {len(ranking)} open hazards "
        "(score = sum of components = weight x value)",
        title_justify="left",
    )
    for heading in ("Rank", "Hazard", "Name", "Score"):
        table.add_column(heading, justify="right" if heading in ("Rank", "Score") else "left")
    for c in CRITERIA:
        table.add_column(f"{_HEADINGS[c]}\n({ranking.weights[c]:g})", justify="right")
    for rank, r in enumerate(shown, start=1):
        table.add_row(
            str(rank),
            r.id,
            r.name or "",
            f"{r.score:.1f}",
            *(f"{r.components[c]:.1f}" for c in CRITERIA),
        )
    out.print(table)
