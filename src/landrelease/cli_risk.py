"""Risk model commands: risk train, evaluate, predict. The model guides survey; it never releases land."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from landrelease import __version__
from landrelease.cli_common import app, cli_store, err, friendly, out, print_json, settings_of
from landrelease.errors import InvalidInput, UnreadableFile

risk_app = typer.Typer(
    no_args_is_help=True,
    help="Where mines are likely: rank grid cells to target non-technical survey (never to release land).",
)
app.add_typer(risk_app, name="risk")

CELLS_HELP = "CSV of cells: latitude/longitude (or WKT) columns, the label column, covariates."
#: The columns `risk cells` writes for the label and the group.
LABEL_COLUMN, GROUP_COLUMN = "mined", "admin_area"
MAX_GROUP_FOLDS = 30  # more groups than this are dealt into this many folds (each group whole)


def _cells(path: Path, label: str | None, group: str | None) -> Any:
    from landrelease.formats.cells import read_cells

    return read_cells(path, label, group)


def _covariates(cells: Any, chosen: str | None) -> list[str]:
    available = list(cells.numeric) + list(cells.categorical)
    if chosen is None:
        return available
    names = [c.strip() for c in chosen.split(",") if c.strip()]
    missing = [n for n in names if n not in available]
    if missing:
        raise InvalidInput(f"no covariate column {missing[0]!r} in the cells (--covariates)")
    return names


def _groups(cells: Any, group: str | None) -> tuple[Any, str]:
    from landrelease.analysis.risk.cells import spatial_blocks

    if cells.groups is not None:
        return cells.groups, f"column {group}"
    return spatial_blocks(cells.lat, cells.lon), "spatial blocks of 0.1 degree (no --group given)"


def _load(path: Path) -> Any:
    from landrelease.analysis.risk.model import RiskModel

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UnreadableFile(f"{path}: no such model file") from None
    except (OSError, UnicodeError, json.JSONDecodeError) as exc:
        raise UnreadableFile(f"{path.name}: not a risk model file ({exc})") from None
    try:
        return RiskModel.from_json(data)
    except ValueError as exc:
        raise UnreadableFile(f"{path.name}: {exc}") from None


def _check_labels(cells: Any, label: str) -> None:
    known = cells.label[cells.labelled]
    if known.size == 0 or np.unique(known).size < 2:
        raise InvalidInput(
            f"{label}: the cells need both mined (1) and clean (0) cells; unknown ones (-1) do not count"
        )


@risk_app.command("train")
@friendly
def train_cmd(
    cells_file: Annotated[Path, typer.Argument(help=CELLS_HELP)],
    label: Annotated[str, typer.Option("--label", help="Column: 1 mines found, 0 surveyed clean, -1/empty unknown.")],
    model_file: Annotated[Path, typer.Option("--model", help="Where to write the model (JSON).")],
    group: Annotated[
        str | None, typer.Option("--group", help="Column of places to validate on (e.g. municipality).")
    ] = None,
    covariates: Annotated[
        str | None, typer.Option("--covariates", help="Only these columns: name,name,... (default: all).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Train a risk model, tuned and calibrated by leaving whole groups out (never random rows).

    With --group, covariates that have one value per group are left out (unless named in --covariates)."""
    from landrelease.analysis.risk.validation import place_covariates, train

    cells = _cells(cells_file, label, group)
    _check_labels(cells, label)
    names = _covariates(cells, covariates)
    groups, grouping = _groups(cells, group)
    dropped = place_covariates(cells, names, groups) if group is not None and covariates is None else []
    names = [n for n in names if n not in dropped]
    if len(set(groups[cells.labelled].tolist())) < 3:
        raise InvalidInput("validation needs labelled cells in at least 3 groups (--group)")
    try:
        model = train(cells, names, groups, max_folds=MAX_GROUP_FOLDS)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    model.label_column, model.group_column = label, group
    model.about |= {
        "trained_on": cells_file.name,
        "trained": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "landrelease": __version__,
        "n_cells": len(cells),
        "n_labelled": int(cells.labelled.sum()),
        "n_positives": int((cells.label == 1).sum()),
        "grouping": grouping,
        "left_out": {"covariates": dropped, "why": "one value per group: they name the place, not the cell"},
    }
    try:
        model_file.write_text(json.dumps(model.to_json(), ensure_ascii=False, indent=1), encoding="utf-8")
    except OSError as exc:
        raise UnreadableFile(f"{model_file}: cannot be written ({exc.strerror or exc})") from None
    summary = {
        "model": str(model_file),
        "covariates": len(model.terms),
        **{k: model.about[k] for k in ("n_cells", "n_labelled", "n_positives", "grouping")},
        "tuning": model.about["tuning"],
    }
    if as_json:
        print_json(summary)
        return
    tuning = model.about["tuning"]
    out.print(
        f"model written to {model_file}: {len(model.terms)} covariates, {summary['n_labelled']} labelled cells "
        f"({summary['n_positives']} mined) of {summary['n_cells']}; grouping: {grouping}"
    )
    chosen = tuning["chosen"]
    recipe = (
        f"boosted trees of depth {chosen['depth']}"
        if chosen["family"] == "trees"
        else f"additive curves, penalty {chosen['penalty']}, {chosen['segments']} segments"
    )
    out.print(
        f"chosen by leaving groups out: {recipe} "
        f"(out-of-group ROC-AUC {tuning['out_of_group_roc_auc']} while tuning; "
        "`risk evaluate --group` gives untuned figures)"
    )


@risk_app.command("evaluate")
@friendly
def evaluate_cmd(
    cells_file: Annotated[Path, typer.Argument(help=CELLS_HELP)],
    model_file: Annotated[Path, typer.Option("--model", help="The model file (JSON) from `risk train`.")],
    label: Annotated[str, typer.Option("--label", help="Column of known outcomes (1, 0, -1/empty).")],
    group: Annotated[
        str | None,
        typer.Option("--group", help="Refit the model's recipe leaving each group out (nested) and score that."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Score a model on cells with known outcomes: ROC-AUC, PR-AUC, share of mined cells in the top 10/20 %,
    calibration. With --group the figures are leave-group-out (the saved model as is under `as_saved`)."""
    from landrelease.analysis.risk.validation import figures, leave_group_out

    model = _load(model_file)
    cells = _cells(cells_file, label, group)
    _check_labels(cells, label)
    missing = [n for n in model.covariates if n not in cells.numeric and n not in cells.categorical]
    if missing:
        raise InvalidInput(f"{cells_file.name}: no column {missing[0]!r}, which the model needs")
    known = cells.subset(cells.labelled)
    as_saved = figures(known.label == 1, model.probabilities(known), known.groups)
    result: dict[str, Any]
    if group is None:
        result = {"validation": "the saved model applied to these cells", **as_saved}
    else:
        tuning = model.about.get("tuning", {})
        try:
            nested = leave_group_out(
                cells,
                model.covariates,
                cells.groups,
                penalties=tuning.get("penalties") or [model.penalty],
                segments=tuning.get("segments") or [model.segments],
                tree_depths=tuning.get("tree_depths", [model.depth] if model.family == "trees" else []),
            )
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        result = {"validation": f"leave one {group} out (nested tuning and calibration)", **nested}
        result["as_saved"] = {k: v for k, v in as_saved.items() if k not in ("per_group", "reliability")}
    result["n_cells"] = len(cells)
    result["n_labelled"] = int(cells.labelled.sum())
    if as_json:
        print_json(result)
        return
    out.print(f"{result['validation']}: {result['n_labelled']} labelled cells, {result['n_positives']} mined")
    for key in ("roc_auc", "pr_auc", "mean_group_roc_auc", "top10_share", "top20_share", "brier", "calibration_error"):
        out.print(f"  {key:<20} {result[key]}")


@risk_app.command("cells")
@friendly
def cells_cmd(
    ctx: typer.Context,
    out_file: Annotated[Path, typer.Argument(help="Where to write the cells (CSV).")],
    size_m: Annotated[float, typer.Option("--size-m", help="Cell side in metres (equal-area grid).")] = 1000.0,
    admin_area: Annotated[
        str | None, typer.Option("--admin-area", help="Only this admin area (id) and the areas inside it.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Grid cells from the database, to train on the programme's own survey history: covariates from its
    layers (distances to accidents, finds, hazards, context by kind; counts nearby), label column `mined`
    (1 mines found, 0 cancelled/reduced with nothing found, -1 unknown), group column `admin_area`.

    Then: landrelease risk train CELLS.csv --label mined --group admin_area --model risk.json"""
    from landrelease.actions.risk_cells import cells_from_store
    from landrelease.formats.cells import write_cells

    with cli_store(ctx) as store:
        built = cells_from_store(store, size_m, admin_area)
    write_cells(out_file, built.table, LABEL_COLUMN, GROUP_COLUMN)
    table = built.table
    summary = {
        "cells": str(out_file),
        "n_cells": len(table),
        "size_m": size_m,
        "mined": int((table.label == 1).sum()),
        "clean": int((table.label == 0).sum()),
        "unknown": int((table.label == -1).sum()),
        "groups": 0 if table.groups is None else len(set(table.groups.tolist())),
        "covariates": list(table.numeric),
        "notes": built.notes,
    }
    if as_json:
        print_json(summary)
        return
    out.print(
        f"{summary['n_cells']} cells of {size_m:g} m written to {out_file}: {summary['mined']} mined, "
        f"{summary['clean']} clean, {summary['unknown']} unknown; {summary['groups']} admin areas; "
        f"covariates: {', '.join(table.numeric) or 'none'}"
    )
    for note in built.notes:
        err.print(f"note: {note}")


@risk_app.command("predict")
@friendly
def predict_cmd(
    ctx: typer.Context,
    model_file: Annotated[Path, typer.Option("--model", help="The model file (JSON) from `risk train`.")],
    cells_file: Annotated[
        Path | None, typer.Argument(help=CELLS_HELP + " Without it, cells are built from the database (--db).")
    ] = None,
    out_file: Annotated[Path | None, typer.Option("--out", help="Where to write: .gpkg (points) or .csv.")] = None,
    store_cells: Annotated[
        bool,
        typer.Option("--store", help="Store the cells in the database's risk-cells layer (map, prioritisation)."),
    ] = False,
    group: Annotated[str | None, typer.Option("--group", help="Column of places, copied to the output.")] = None,
    size_m: Annotated[float, typer.Option("--size-m", help="Cells built from the database: side in metres.")] = 1000.0,
    admin_area: Annotated[
        str | None, typer.Option("--admin-area", help="Cells built from the database: only this admin area.")
    ] = None,
    top: Annotated[int, typer.Option("--top", min=1, max=10, help="Covariates to name per cell.")] = 3,
) -> None:
    """Risk of every cell with the covariates that drive it, for survey planning."""
    from landrelease.analysis.risk.model import explain
    from landrelease.formats.cells import write_risk

    if out_file is None and not store_cells:
        raise InvalidInput("say where the cells go: --out FILE (.gpkg or .csv), --store (the database), or both")
    if store_cells and cells_file is not None:
        raise InvalidInput("--store keeps cells built from the database: leave out the cells file")
    if out_file is not None and out_file.suffix.lower() not in (".csv", ".gpkg"):
        raise InvalidInput(f"{out_file.name}: write risk to a .gpkg (GeoPackage) or .csv file")
    model = _load(model_file)
    if cells_file is None:
        from landrelease.actions.risk_cells import cells_from_store

        with cli_store(ctx) as store:
            cells = cells_from_store(store, size_m, admin_area).table
        source = settings_of(ctx).db
    else:
        cells = _cells(cells_file, None, group)
        source = cells_file.name
    missing = [n for n in model.covariates if n not in cells.numeric and n not in cells.categorical]
    if missing:
        raise InvalidInput(
            f"{source}: no covariate {missing[0]!r}, which the model needs"
            + (" (the database lacks the layer or context kind it comes from)" if cells_file is None else "")
        )
    risk = model.probabilities(cells)
    drivers = explain(model, cells, top)
    if out_file is not None:
        write_risk(out_file, cells, risk, drivers, top)
    stored = ""
    if store_cells:
        from landrelease.actions.risk_cells import store_risk
        from landrelease.domain.records import Change

        change = Change(settings_of(ctx).author, f"risk predict --model {model_file.name}")
        with cli_store(ctx) as store:
            result = store_risk(store, cells, risk, drivers, model_file.name, size_m, change)
        stored = f"stored in the risk-cells layer ({result.added} new, {result.updated} updated"
        stored += f", {result.cleared} older cells without risk now)" if result.cleared else ")"
    where = " and ".join(w for w in (f"written to {out_file}" if out_file else "", stored) if w)
    err.print(
        f"{len(cells)} cells {where}: risk from {risk.min():.3f} to {risk.max():.3f} "
        f"(median {float(np.median(risk)):.3f}). It ranks cells for survey; it never releases land."
    )
