"""Analysis commands: forecast, prioritise, classify, residual."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from landrelease.cli_common import app, cli_store, err, friendly, out, print_json
from landrelease.errors import InvalidInput

if TYPE_CHECKING:
    from landrelease.analysis.forecast import Forecast
    from landrelease.domain.records import Scalar
    from landrelease.store.protocol import Store

# --- classify ---------------------------------------------------------------------------------------


@app.command()
@friendly
def classify(
    ctx: typer.Context,
    weights: Annotated[
        Path | None, typer.Option(help="TOML or JSON file of evidence weights and thresholds (over the defaults).")
    ] = None,
    disagreements: Annotated[
        bool, typer.Option("--disagreements", help="List only hazards whose recorded class disagrees.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Suggest SHA or CHA for each hazard from weighted evidence and flag those whose recorded class disagrees."""
    from landrelease.analysis.classification import classify as classify_hazards
    from landrelease.analysis.classification import load_classification

    config = load_classification(weights)
    with cli_store(ctx) as store:
        report = classify_hazards(store, config)
    shown = [s for s in report.suggestions if s.disagrees or not disagreements]
    if as_json:
        data = report.as_dict()
        data["suggestions"] = [s.as_dict() for s in shown]
        print_json(data)
        return
    for s in shown:
        parts = ", ".join(f"{name} {value:g}" for name, value in s.components.items()) or "no evidence"
        flag = "DISAGREES" if s.disagrees else "agrees"
        out.print(
            f"{s.hazard_id}\trecorded {s.recorded}\tsuggested {s.suggested}\t{flag}\tscore {s.score:g}: {parts}",
            markup=False,
        )
    data = report.as_dict()
    err.print(
        f"{data['hazards']} hazards classified ({config.source}): {data['disagreements']} disagree with their "
        f"recorded class, {data['no_recorded_evidence']} have no recorded evidence; "
        f"{report.not_classified} EOD spot tasks or stockpiles left as they are"
    )


# --- forecast ---------------------------------------------------------------------------------------


@app.command()
@friendly
def forecast(
    ctx: typer.Context,
    by: Annotated[str | None, typer.Option(help="admin: a forecast per admin area too.")] = None,
    teams: Annotated[
        int | None, typer.Option(help="Scenario: this many teams instead of those working in the window.")
    ] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Forecast as of this date (default today).")] = None,
    window: Annotated[int, typer.Option(help="Months of recent release that set the pace.")] = 12,
    samples: Annotated[int, typer.Option(help="Bootstrap samples.")] = 2000,
    seed: Annotated[int, typer.Option(help="Bootstrap seed (the same seed gives the same dates).")] = 20261124,
    chart: Annotated[Path | None, typer.Option(help="Write a burn-down chart (PNG) of the national forecast.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Completion forecast: remaining land, the recent release pace and when the known hazards are released."""
    from landrelease.actions.release import ensure_current_ledger
    from landrelease.analysis.forecast import forecast_of

    when = _parse_date(as_of, "--as-of") if as_of else date.today()
    with cli_store(ctx) as store:
        ensure_current_ledger(store)
        report = forecast_of(store, as_of=when, by=by, teams=teams, window=window, samples=samples, seed=seed)
    if chart is not None:
        from landrelease.analysis.burn_down import write_burn_down

        write_burn_down(report.national, chart)
        err.print(f"burn-down chart written to {chart}")
    if as_json:
        print_json(report.as_dict())
        return
    for f in [report.national, *report.groups]:
        out.print(_forecast_line(f), markup=False)
    if report.undated_outcomes:
        err.print(f"{report.undated_outcomes} outcomes have no release date: they count as released, not in the pace")


def _forecast_line(f: Forecast) -> str:
    c = f.completion
    pace = f"{f.pace.mean / 1e4:,.1f} ha/month (sd {f.pace.sd / 1e4:,.1f}) over {len(f.pace.months)} months"
    when = (
        f"done {c.date} ({f.level:.0%} interval {c.interval[0] or '?'} to {c.interval[1] or 'never at this pace'})"
        if c.date and c.interval and not c.reason
        else str(c.reason)
    )
    line = f"{f.name}: {f.remaining_m2 / 1e4:,.1f} ha remaining; {pace}; {f.teams_now} teams; {when}"
    if f.scenario is not None and f.scenario_teams is not None:
        s = f.scenario
        line += f"; with {f.scenario_teams} teams: " + (f"done {s.date}" if s.date and not s.reason else str(s.reason))
    return line


# --- residual ---------------------------------------------------------------------------------------


@app.command()
@friendly
def residual(
    ctx: typer.Context,
    emplaced: Annotated[int | None, typer.Option(help="Mines emplaced (laid) in the minefield.")] = None,
    days: Annotated[float | None, typer.Option(help="Days since they were laid.")] = None,
    inspected: Annotated[int | None, typer.Option(help="Evidence: mines inspected in the field.")] = None,
    functional: Annotated[int | None, typer.Option(help="Evidence: how many of those still functioned.")] = None,
    self_destruct_days: Annotated[
        float | None, typer.Option(help="Design self-destruct time in days (default: the 30-day CCW limit).")
    ] = None,
    no_self_deactivation: Annotated[
        bool, typer.Option("--no-self-deactivation", help="The mines have no self-deactivation back-up.")
    ] = False,
    prior_weight: Annotated[
        float, typer.Option(help="How many inspected mines the design figure is worth (low: an honest tail).")
    ] = 20.0,
    level: Annotated[float, typer.Option(help="Interval level, e.g. 0.95.")] = 0.95,
    minefields: Annotated[
        bool, typer.Option("--minefields", help="Every minefield recorded in the database (the minefields layer).")
    ] = False,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="With --minefields: the date of the estimate (default today).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Residual hazard of self-destructing mines: how many may still function, with an interval.

    Informs survey priorities and risk education; it never releases land by itself."""
    from landrelease.analysis.residual import Evidence, Minefield, residual_hazard, residual_of_minefields

    if minefields:
        if emplaced is not None or days is not None:
            raise InvalidInput("give either --minefields or --emplaced and --days, not both")
        when = _parse_date(as_of, "--as-of") if as_of else date.today()
        with cli_store(ctx) as store:
            records = _minefield_records(store)
        results = residual_of_minefields(records, when, prior_weight=prior_weight, level=level)
        if as_json:
            print_json({"as_of": when.isoformat(), "minefields": [r.as_dict() for r in results]})
            return
        for r in results:
            e = r.estimate
            what = (
                f"{e.expected_functional:.1f} expected functional of {e.emplaced} "
                f"({e.level:.0%} interval {e.interval[0]}-{e.interval[1]}; {e.phase.value})"
                if e is not None
                else f"no estimate: {r.problem}"
            )
            out.print(f"{r.record_id or '-'}\t{r.hazard_id or '-'}\t{what}", markup=False)
        err.print(f"{len(results)} minefields as of {when.isoformat()}")
        return
    if as_of is not None:
        raise InvalidInput("--as-of goes with --minefields; for one minefield give --days")
    if emplaced is None or days is None:
        raise InvalidInput("give --emplaced N and --days D (or --minefields for the recorded minefields)")
    if (inspected is None) != (functional is None):
        raise InvalidInput("evidence needs both --inspected and --functional")
    evidence = Evidence(inspected, functional) if inspected is not None and functional is not None else None
    estimate = residual_hazard(
        Minefield(emplaced, days, self_destruct_days, not no_self_deactivation),
        evidence,
        prior_weight=prior_weight,
        level=level,
    )
    if as_json:
        print_json(estimate.as_dict())
        return
    lo, hi = estimate.interval
    out.print(
        f"{estimate.expected_functional:.1f} of {estimate.emplaced} mines expected still functional at day "
        f"{estimate.days:g} ({estimate.phase.value}); {estimate.level:.0%} interval {lo} to {hi}; "
        f"probability at least one is functional {_percent(estimate.probability_any_functional)}",
        markup=False,
    )
    for note in estimate.assumptions:
        err.print(f"  assumption: {note}", markup=False)


def _minefield_records(store: Store) -> list[dict[str, Scalar]]:
    """The minefields layer's records as mappings (id included); a clear line if the layer does not exist."""
    from landrelease.domain.schema import LAYERS

    if "minefields" not in LAYERS:
        raise InvalidInput(
            "this version of landrelease has no minefields layer yet: use --emplaced and --days for one minefield"
        )
    return [{"id": f.id, **f.attributes} for f in store.features("minefields")]


def _parse_date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{option} takes a date as yyyy-mm-dd, not {value!r}") from None


def _percent(p: float) -> str:
    """A probability for people: never "100.0%" or "0.0%" unless it is exactly that."""
    if 0 < p < 0.001:
        return "under 0.1%"
    if 0.999 < p < 1:
        return "over 99.9%"
    return f"{p:.1%}"
