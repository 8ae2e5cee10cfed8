"""``landrelease locate FILE``: is each place of a file in a hazardous area? (``actions.locate``)"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated

import typer

from landrelease.cli_common import app, cli_store, err, friendly, out, print_json
from landrelease.errors import InvalidInput

#: Places listed on the terminal; the rest are counted (``--out`` writes them all).
SHOWN = 20


@app.command()
@friendly
def locate(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Places (points) in any format import reads: CSV, GeoJSON, KML, ...")],
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help="Write every place with hazard_id, hazard_status, released_hazard_id (CSV)."),
    ] = None,
    layer: Annotated[str | None, typer.Option(help="Layer, sheet or zip member of FILE to read.")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace --out if it exists.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Mark each place of a file (citizen reports, finds, survey points) with the hazard it lies in."""
    from landrelease.actions.locate import locate_geometries
    from landrelease.formats import read_features

    if out_file is not None and out_file.suffix.lower() != ".csv":
        raise InvalidInput(f"--out must be a .csv file, not {out_file.name}")
    if out_file is not None and out_file.exists() and not overwrite:
        raise InvalidInput(f"{out_file} exists; use --overwrite to replace it")
    read = read_features(file, layer=layer)
    features = read.features
    with cli_store(ctx) as store:
        found = locate_geometries(store, [f.geometry for f in features])
    marked = [
        (f, h, s, r)
        for f, h, s, r in zip(features, found.hazard_id, found.hazard_status, found.released_id, strict=True)
        if h is not None or r is not None
    ]
    if out_file is not None:
        names = [n for n in read.field_names if n not in {"longitude", "latitude", "hazard_id", "hazard_status"}]
        with out_file.open("w", newline="", encoding="utf-8") as stream:
            writer = csv.writer(stream)
            writer.writerow([*names, "longitude", "latitude", "hazard_id", "hazard_status", "released_hazard_id"])
            for f, h, s, r in zip(features, found.hazard_id, found.hazard_status, found.released_id, strict=True):
                x, y = (
                    (f.geometry.x, f.geometry.y)
                    if f.geometry is not None and f.geometry.geom_type == "Point"
                    else ("", "")
                )
                writer.writerow([*(f.properties.get(n, "") for n in names), x, y, h or "", s or "", r or ""])
    summary = found.summary()
    if as_json:
        print_json(
            {
                **summary,
                "marked": [
                    {"feature": f.index + 1, "hazard_id": h, "hazard_status": s, "released_hazard_id": r}
                    for f, h, s, r in marked
                ],
            }
        )
        return
    for f, h, s, r in marked[:SHOWN]:
        where = f"in {h} ({s})" if h is not None else f"in released land ({r})"
        out.print(f"feature {f.index + 1}: {where}", markup=False)
    if len(marked) > SHOWN:
        out.print(f"... and {len(marked) - SHOWN} more" + (f" (all in {out_file})" if out_file else ""), markup=False)
    err.print(
        f"{summary['places']:,} places: {summary['in_open_hazard']:,} in an open hazard, "
        f"{summary['in_released_land_only']:,} only in released land, "
        f"{summary['outside_recorded_hazards']:,} outside recorded hazards"
        + (f", {summary['skipped']:,} skipped (no point geometry)" if summary["skipped"] else "")
    )
