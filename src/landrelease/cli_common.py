"""What every ``landrelease`` command module shares: the app, the consoles, the settings, error handling.

Command modules (``cli.py``, ``cli_analysis.py``, ...) register on ``app``; ``cli.py`` imports them all.
"""

from __future__ import annotations

import functools
import getpass
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from landrelease import __version__
from landrelease.errors import ImportAborted, LandreleaseError
from landrelease.store import Store, open_store

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="landrelease: the national mine action database in one file (or a PostGIS server).",
)
report_app = typer.Typer(no_args_is_help=True, help="Reports a national authority can send.")
app.add_typer(report_app, name="report")

err = Console(stderr=True, highlight=False, soft_wrap=True)
# Piped or redirected output is read in files and e-mails: tables get room rather than 80 columns.
out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 132)

F = TypeVar("F", bound=Callable[..., Any])

EXIT_USER_ERROR = 2
EXIT_ABORTED = 3
EXIT_INTERNAL = 70


@dataclass
class Settings:
    db: str
    author: str
    #: A streaming replica for reads (``--read-db``); writes always go to ``db``.
    read_db: str | None = None
    #: Seconds behind the primary past which the replica is bypassed (``--max-replica-lag``; None: default).
    max_lag: float | None = None


def friendly(fn: F) -> F:
    """Turn every error into one readable line on stderr and an exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except typer.Exit:
            raise
        except LandreleaseError as exc:
            err.print(f"[bold red]error:[/] {exc.message}", markup=True)
            raise typer.Exit(EXIT_ABORTED if isinstance(exc, ImportAborted) else EXIT_USER_ERROR) from None
        except KeyboardInterrupt:
            err.print("interrupted: nothing half-written (each write is one transaction)")
            raise typer.Exit(130) from None
        except Exception as exc:  # the last line of defence: never a traceback
            err.print(
                f"[bold red]internal error:[/] {type(exc).__name__}: {exc} "
                "(please report it, with the command you ran; set LANDRELEASE_DEBUG=1 for details)",
                markup=True,
            )
            if os.environ.get("LANDRELEASE_DEBUG"):
                raise
            raise typer.Exit(EXIT_INTERNAL) from None

    return wrapper  # type: ignore[return-value]


def settings_of(ctx: typer.Context) -> Settings:
    obj = ctx.find_root().obj
    assert isinstance(obj, Settings)
    return obj


@contextmanager
def cli_store(ctx: typer.Context, *, create: bool = False) -> Iterator[Store]:
    settings = settings_of(ctx)
    store = open_store(settings.db, create=create, read=settings.read_db, max_lag=settings.max_lag)
    try:
        yield store
    finally:
        store.close()


def _version(value: bool) -> None:
    if value:
        out.print(f"landrelease {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Database: a GeoPackage file or postgresql:// URL. Default $LANDRELEASE_DB or ./landrelease.gpkg.",
        ),
    ] = None,
    read_db: Annotated[
        str | None,
        typer.Option(
            "--read-db",
            help="A PostgreSQL streaming replica of --db for reads (reports, listings, maps); writes go to --db. "
            "Default $LANDRELEASE_READ_DB.",
        ),
    ] = None,
    max_lag: Annotated[
        float | None,
        typer.Option(
            "--max-replica-lag",
            min=0,
            help="Seconds the --read-db replica may be behind --db before reads go to --db instead "
            "(checked every few seconds; an unreachable replica is bypassed too). Default "
            "$LANDRELEASE_MAX_REPLICA_LAG or 30.",
        ),
    ] = None,
    author: Annotated[
        str | None,
        typer.Option("--author", help="Who makes the changes (history). Default $LANDRELEASE_USER or your login."),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    location = db or os.environ.get("LANDRELEASE_DB") or "landrelease.gpkg"
    who = author or os.environ.get("LANDRELEASE_USER") or login_name()
    read_from = read_db or os.environ.get("LANDRELEASE_READ_DB") or None
    ctx.obj = Settings(location, who, read_from, max_lag if max_lag is not None else _max_lag_from_environment())
    show_store_warnings()


def _max_lag_from_environment() -> float | None:
    text = os.environ.get("LANDRELEASE_MAX_REPLICA_LAG", "").strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:  # also refuses nan
        raise typer.BadParameter(f"LANDRELEASE_MAX_REPLICA_LAG takes seconds (a number from 0), not {text!r}")
    return seconds


class _WarningLine(logging.Handler):
    """The store's warnings (a read replica bypassed) and notes (it is back) as one line each on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        prefix = "warning: " if record.levelno >= logging.WARNING else ""
        err.print(f"{prefix}{record.getMessage()}", markup=False)


def show_store_warnings() -> None:
    """Print ``landrelease.store``'s warnings and notes (one handler per process, however many commands
    run in it)."""
    store_log = logging.getLogger("landrelease.store")
    if not any(isinstance(handler, _WarningLine) for handler in store_log.handlers):
        store_log.addHandler(_WarningLine(logging.INFO))
        if store_log.level == logging.NOTSET:
            store_log.setLevel(logging.INFO)


def login_name() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"


def print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
