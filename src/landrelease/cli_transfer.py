"""Commands that move a whole database: ``migrate`` between stores, ``backup`` and ``restore``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from landrelease.cli_common import app, err, friendly, print_json, settings_of


def safe_location(location: str) -> str:
    """A location for messages: a URL without its password."""
    if not location.startswith(("postgresql://", "postgres://")):
        return location
    from landrelease.store.postgis.connection import safe_location as without_password

    return without_password(location)


@contextmanager
def _progress_bar(label: str) -> Iterator[Callable[[int], Callable[[int], None]]]:
    """A progress bar on stderr counting the versions written (drawn on a terminal, gone when done)."""
    with Progress(
        TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=err, transient=True
    ) as bar:

        def start(total: int) -> Callable[[int], None]:
            task = bar.add_task(label, total=total)
            return lambda done: bar.advance(task, done)

        yield start


@app.command()
@friendly
def migrate(
    source: Annotated[str, typer.Option("--from", help="The database to copy: a .gpkg file or postgresql:// URL.")],
    target: Annotated[
        str, typer.Option("--to", help="Where to copy it: a new or empty .gpkg file or postgresql:// database.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print what was copied as JSON.")] = False,
) -> None:
    """Copy a whole database to another store, losslessly: every record with every version of its history
    (who, when, why; retired ones too), the ledger figures and state, the id counters, and the service's users,
    tokens, sessions, access log and submissions. One transaction on the target: a failure leaves it as it was."""
    from landrelease.actions.transfer import migrate as run

    with _progress_bar("copying versions") as progress:
        moved = run(source, target, progress)
    if as_json:
        print_json({"from": safe_location(source), "to": safe_location(target), **moved.__dict__})
        return
    records, versions = sum(moved.records.values()), sum(moved.versions.values())
    err.print(f"copied {records} current records and {versions} versions")
    err.print(f"  from {safe_location(source)} to {safe_location(target)}")
    for layer, count in moved.records.items():
        if moved.versions[layer]:
            err.print(f"  {layer}: {count} records, {moved.versions[layer]} versions")
    err.print("  service: " + ", ".join(f"{count} {table.replace('_', ' ')}" for table, count in moved.service.items()))


@app.command()
@friendly
def backup(
    ctx: typer.Context,
    out: Annotated[Path, typer.Argument(help="The backup file to write.")],
    force: Annotated[bool, typer.Option("--force", help="Replace OUT if it exists.")] = False,
) -> None:
    """A consistent copy of the database (--db), safe while the service runs: a GeoPackage is copied with
    SQLite's online backup; PostGIS with pg_dump (custom format), or as a GeoPackage when pg_dump is absent."""
    from landrelease.actions.transfer import backup as run

    location = settings_of(ctx).db
    with _progress_bar("copying versions") as progress:
        made = run(location, out, force=force, progress=progress)
    how = {
        "sqlite-backup": "SQLite online backup",
        "pg_dump": "pg_dump, custom format: restore with `landrelease restore` or pg_restore",
        "geopackage": "as a GeoPackage: pg_dump is not installed",
    }[made.method]
    err.print(f"backed up {safe_location(location)} to {made.path} ({made.size:,} bytes; {how})")


@app.command()
@friendly
def restore(
    ctx: typer.Context,
    backup_file: Annotated[Path, typer.Argument(metavar="IN", help="A backup made by `landrelease backup`.")],
    force: Annotated[bool, typer.Option("--force", help="Replace a database that holds records.")] = False,
) -> None:
    """Bring a backup back into the database (--db). A database that holds records is refused unless --force."""
    from landrelease.actions.transfer import restore as run

    location = settings_of(ctx).db
    with _progress_bar("copying versions") as progress:
        how = run(backup_file, location, force=force, progress=progress)
    err.print(f"restored {backup_file} into {safe_location(location)} ({how})")
