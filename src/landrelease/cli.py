"""The ``landrelease`` command. Thin: parse, call an action, print. No traceback ever reaches a user."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from landrelease.cli_common import (
    app,
    cli_store,
    err,
    friendly,
    out,
    print_json,
    report_app,
    settings_of,
)
from landrelease.domain.records import Action
from landrelease.errors import ImportAborted

# --- init -------------------------------------------------------------------------------------------


@app.command()
@friendly
def init(ctx: typer.Context) -> None:
    """Create an empty national database (a GeoPackage file QGIS opens as it is)."""
    location = settings_of(ctx).db
    if not location.startswith(("postgresql://", "postgres://")) and Path(location).exists():
        with cli_store(ctx) as store:
            err.print(f"{store.location} already exists (schema {store.schema_version()}); nothing changed")
        return
    with cli_store(ctx, create=True) as store:
        err.print(f"created {store.location} (schema {store.schema_version()})")


# --- import -----------------------------------------------------------------------------------------

LAYER_HELP = (
    "hazards, outcomes, finds, accidents, eore, admin-areas, activities, victims, organisations, context, "
    "minefields or submissions (with --form)"
)


@app.command("import")
@friendly
def import_(
    ctx: typer.Context,
    layer: Annotated[str, typer.Argument(help=f"Layer to import into: {LAYER_HELP}.")],
    file: Annotated[
        Path | None, typer.Argument(help="GeoJSON, GeoPackage, KML/KMZ, zipped Shapefile, CSV, FlatGeobuf, XLSX.")
    ] = None,
    hazard_class: Annotated[str | None, typer.Option("--class", help="Hazards: SHA or CHA for every feature.")] = None,
    on_invalid: Annotated[str, typer.Option(help="reject (default) or repair invalid geometry.")] = "reject",
    all_or_nothing: Annotated[
        bool, typer.Option("--all-or-nothing", help="Import nothing if any feature is rejected.")
    ] = False,
    kind: Annotated[
        str | None,
        typer.Option(help="Outcomes: cancelled, reduced or cleared. Context: settlement, road, farmland, school..."),
    ] = None,
    level: Annotated[int | None, typer.Option(help="Admin areas: their level (1 = first-level unit).")] = None,
    name_field: Annotated[str | None, typer.Option(help="Admin areas: the column holding the name.")] = None,
    field_map: Annotated[
        str | None,
        typer.Option("--map", help="Field mapping: field=Column,... for files that name things their own way."),
    ] = None,
    source_layer: Annotated[str | None, typer.Option("--layer", help="Which layer of a multi-layer file.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    form: Annotated[
        str | None, typer.Option(help="Submissions: the field form (nts, ts, clearance, eod, eore, accident, qa).")
    ] = None,
    from_central: Annotated[
        str | None, typer.Option(help="Submissions: pull them from this ODK Central server instead of a FILE.")
    ] = None,
    project: Annotated[int | None, typer.Option(help="Submissions from Central: the project number.")] = None,
    form_id: Annotated[str | None, typer.Option(help="Submissions from Central: the form's id there.")] = None,
) -> None:
    """Import a file into a layer: valid features go in, every rejected one is reported with its reason."""
    from landrelease.actions.imports import ImportOptions, ImportSummary, import_file

    if layer in ("submissions", "minefields"):  # field data: see cli_forms.py
        if layer == "submissions":
            central = cli_forms.central_form(from_central, project, form_id, file)
            cli_forms.import_submissions_command(ctx, file, form, as_json, central)
        else:
            cli_forms.import_minefields_command(ctx, file, as_json)
        return
    file = cli_forms.needs_file(file)

    options = ImportOptions(
        on_invalid=on_invalid,  # type: ignore[arg-type]  # checked by the action
        all_or_nothing=all_or_nothing,
        field_map=field_map,
        hazard_class=hazard_class,
        kind=kind,
        level=level,
        name_field=name_field,
        source_layer=source_layer,
        author=settings_of(ctx).author,
    )
    try:
        with cli_store(ctx) as store, err.status("importing", spinner="dots") as status:
            summary = import_file(store, layer, file, options, progress=lambda msg: status.update(msg))
    except ImportAborted as exc:
        if as_json and isinstance(exc.summary, ImportSummary):
            print_json(exc.summary.as_dict() | {"aborted": True})
        raise
    if as_json:
        print_json(summary.as_dict())
        return
    err.print(
        f"{summary.imported} imported into {summary.layer} ({summary.repaired} repaired), {summary.rejected} rejected"
    )
    for r in summary.repairs[:50]:
        err.print(f"  repaired feature {r.index}: {r.reason}")
    for e in summary.errors[:50]:
        err.print(f"  rejected feature {e.index}: {e.reason}")
    more = max(len(summary.errors) - 50, 0) + max(len(summary.repairs) - 50, 0)
    if more:
        err.print(f"  ... and {more} more (use --json for the whole list)")


# --- export -----------------------------------------------------------------------------------------


@app.command()
@friendly
def export(
    ctx: typer.Context,
    layer: Annotated[str, typer.Argument(help=f"Layer to export: {LAYER_HELP}.")],
    file: Annotated[Path, typer.Argument(help="Output file; the format comes from the extension.")],
    overwrite: Annotated[bool, typer.Option(help="Replace the file if it exists.")] = False,
    include_personal: Annotated[
        bool, typer.Option("--include-personal", help="Include victims' personal data (restricted).")
    ] = False,
) -> None:
    """Export a layer to GeoPackage, GeoJSON, KML/KMZ, zipped Shapefile, CSV, FlatGeobuf or XLSX."""
    from landrelease.actions.exports import export_layer

    with cli_store(ctx) as store:
        n = export_layer(store, layer, file, overwrite=overwrite, include_personal=include_personal)
    err.print(f"exported {n} features to {file}")


# --- report -----------------------------------------------------------------------------------------


@report_app.command("land-release")
@friendly
def report_land_release(
    ctx: typer.Context,
    by: Annotated[str | None, typer.Option(help="Group by admin, operator, month, quarter, year or donor.")] = None,
    period: Annotated[
        str | None, typer.Option(help="Only land released in 2024, 2024-Q3, 2024-05 or 2023-01-01..2024-06-30.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (with the records behind every figure).")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV.")] = False,
    pdf: Annotated[Path | None, typer.Option("--pdf", help="Write the PDF report to this file.")] = None,
    lang: Annotated[str, typer.Option(help="Language of the PDF: en or uk.")] = "en",
    recompute: Annotated[
        bool, typer.Option("--recompute", help="Compute from the polygons instead of the stored (current) ledger.")
    ] = False,
) -> None:
    """Land release: estimated = cancelled + reduced + cleared + remaining, geodesic, no double counting."""
    from landrelease.actions.reports import land_release, write_pdf
    from landrelease.errors import InvalidInput

    if sum((as_json, as_csv, pdf is not None)) > 1:
        raise InvalidInput("choose one of --json, --csv and --pdf")
    with cli_store(ctx) as store:
        if pdf is not None:
            pages = write_pdf(store, pdf, by=by, period=period, lang=lang, recompute=recompute)
            err.print(f"wrote {pdf} ({pages} pages)")
            return
        report = land_release(store, by=by, period=period, recompute=recompute)
    if as_json:
        print_json(report.as_dict())
    elif as_csv:
        sys.stdout.write(_report_csv(report.as_dict()))
    else:
        from landrelease.cli_render import render_land_release

        render_land_release(out, report)


def _report_csv(data: dict[str, Any]) -> str:
    from landrelease.reporting.tables import land_release_csv

    return land_release_csv(data)


# --- check, history, status -------------------------------------------------------------------------


@app.command()
@friendly
def check(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Run every validation over the whole database (geometry, duplicates, links, the ledger)."""
    from landrelease.actions.checks import check_database

    with cli_store(ctx) as store, err.status("checking", spinner="dots"):
        findings = check_database(store)
    if as_json:
        print_json({"problems": len(findings), "findings": [f.as_dict() for f in findings]})
    else:
        for f in findings:
            out.print(f"{f.record_id or '-'}\t{f.check}\t{f.message}", markup=False)
        err.print(f"{len(findings)} problems found" if findings else "no problems found")
    if findings:
        raise typer.Exit(1)


@app.command()
@friendly
def history(
    ctx: typer.Context,
    record_id: Annotated[str, typer.Argument(metavar="ID", help="A record id, e.g. HZ-000042.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every version of a record: who changed it, when and why."""
    with cli_store(ctx) as store:
        versions = store.history(record_id.strip().upper())
    if as_json:
        print_json(
            [
                {
                    "version": v.version,
                    "action": v.action.value,
                    "at": v.change.at.isoformat(timespec="seconds"),
                    "author": v.change.author,
                    "reason": v.change.reason,
                    "attributes": dict(v.attributes),
                    "geometry": v.geometry.wkt if v.geometry is not None else None,
                }
                for v in versions
            ]
        )
        return
    previous: dict[str, object] = {}
    for v in versions:
        out.print(
            f"v{v.version}  {v.change.at.isoformat(timespec='seconds')}  {v.action.value:<7} "
            f"by {v.change.author}: {v.change.reason}",
            markup=False,
        )
        for name, value in v.attributes.items():
            if previous.get(name) != value and value is not None:
                out.print(f"      {name} = {value}", markup=False)
        for name, was in previous.items():
            # A value cleared (by landrelease, or in QGIS) is a change too: without this line it is invisible.
            if was is not None and v.attributes.get(name) is None and v.action is not Action.RETIRE:
                out.print(f"      {name} cleared (was {was})", markup=False)
        previous = dict(v.attributes)


@app.command()
@friendly
def status(
    ctx: typer.Context,
    record_id: Annotated[str, typer.Argument(metavar="ID", help="A hazard or activity id.")],
    new_status: Annotated[str, typer.Argument(metavar="STATUS", help="The new status.")],
    reason: Annotated[str, typer.Option(help="Why (required): it is kept in the history.")] = "",
) -> None:
    """Change the status of a hazard or activity (the workflow refuses illegal changes)."""
    from landrelease.actions.workflow import change_status

    with cli_store(ctx) as store:
        feature = change_status(store, record_id.strip().upper(), new_status, reason, settings_of(ctx).author)
    err.print(f"{feature.id} is now {feature.attributes.get('status')} (version {feature.version})")


# --- demo -------------------------------------------------------------------------------------------


@app.command()
@friendly
def demo(
    ctx: typer.Context,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Build and report only; do not serve.")] = False,
    hazards: Annotated[int, typer.Option(help="How many hazards to generate.")] = 3000,
    seed: Annotated[int, typer.Option(help="Random seed (the same seed gives the same programme).")] = 20261124,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Build a synthetic but realistic demo programme (every record marked synthetic) and report on it."""
    from landrelease.actions.demo import build_demo
    from landrelease.analysis.land_release import land_release_report
    from landrelease.cli_render import render_land_release

    location = settings_of(ctx).db
    with err.status("building the demo programme", spinner="dots") as status:
        counts = build_demo(location, hazards=hazards, seed=seed, progress=lambda m: status.update(m))
    with cli_store(ctx) as store:
        report = land_release_report(store, "admin")
    if as_json:
        print_json({"database": location, "records": counts, "report": report.as_dict()})
    else:
        err.print(
            f"demo programme in {location}: "
            + ", ".join(f"{n} {layer.replace('_', ' ')}" for layer, n in counts.items())
            + " (synthetic data)"
        )
        render_land_release(out, report)
    if not no_serve:
        from landrelease.actions.demo import OPERATORS

        _print_demo_users(location, OPERATORS[0])
        _serve(location, "127.0.0.1", 8000)


# --- users and the service ---------------------------------------------------------------------------------

user_app = typer.Typer(no_args_is_help=True, help="Users of the web service and API: roles and organisations.")
app.add_typer(user_app, name="user")


@user_app.command("add")
@friendly
def user_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The user's sign-in name.")],
    role: Annotated[str, typer.Option(help="viewer, operator, reviewer or admin.")],
    org: Annotated[str | None, typer.Option("--org", help="Organisation (operators see only its reports).")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read a password for web sign-in from stdin.")
    ] = False,
) -> None:
    """Add a user; their API token is printed on the last line (shown once: only its hash is kept)."""
    from landrelease.accounts import open_accounts
    from landrelease.accounts.users import create_user, parse_role

    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    accounts = open_accounts(settings_of(ctx).db)
    try:
        user, token = create_user(accounts, name, parse_role(role), org, password)
    finally:
        accounts.close()
    where = f" of {user.organisation}" if user.organisation else ""
    sign_in = "password set" if password is not None else "API token only (no password: use --password-stdin)"
    err.print(f"added {user.name}, {user.role.value}{where}; {sign_in}; their API token:")
    sys.stdout.write(token + "\n")


@user_app.command("list")
@friendly
def user_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every user with their role and organisation."""
    from landrelease.accounts import open_accounts

    accounts = open_accounts(settings_of(ctx).db)
    try:
        users = accounts.users()
    finally:
        accounts.close()
    if as_json:
        print_json(
            [
                {"name": u.name, "role": u.role.value, "organisation": u.organisation, "created_at": u.created_at}
                for u in users
            ]
        )
        return
    for u in users:
        out.print(f"{u.name}\t{u.role.value}\t{u.organisation or '-'}", markup=False)
    err.print(f"{len(users)} users")


@app.command()
@friendly
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on (loopback unless you mean otherwise).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the JSON API (and later the web map) over the database, in one process."""
    settings = settings_of(ctx)
    _serve(settings.db, host, port, settings.read_db, settings.max_lag)


def _serve(location: str, host: str, port: int, read_db: str | None = None, max_lag: float | None = None) -> None:
    import uvicorn

    from landrelease.service.app import create_app

    if not 0 < port < 65536:
        from landrelease.errors import InvalidInput

        raise InvalidInput(f"--port takes 1 to 65535, not {port}")
    if host not in ("127.0.0.1", "localhost", "::1"):
        err.print(f"warning: listening on {host}, beyond this machine: put it behind HTTPS before real use")
    service = create_app(location, read_db=read_db, max_lag=max_lag)
    where = service.state.store.location  # a server's URL without its password
    if read_db:
        store = service.state.store
        later = " once it is available" if getattr(store, "bypassed", False) else ""
        where += f" (reads from {store.reads_from}{later})"
    err.print(f"serving {where} on http://{host}:{port} (API documents at /docs); Ctrl-C stops")
    uvicorn.run(service, host=host, port=port, log_level="warning")


def _print_demo_users(location: str, organisation: str) -> None:
    """One demo user per role, with a fresh password each (the demo file is rebuilt on every run)."""
    import secrets

    from landrelease.accounts import open_accounts
    from landrelease.accounts.users import create_user
    from landrelease.service.context import Role

    accounts = open_accounts(location)
    try:
        err.print("demo users (synthetic data; sign in at the printed address):")
        for role in Role:
            password = secrets.token_urlsafe(9)
            org = organisation if role is Role.OPERATOR else None
            _, token = create_user(accounts, role.value, role, org, password)
            err.print(f"  {role.value:<9} password {password}  token {token}", markup=False)
    finally:
        accounts.close()


def main() -> None:
    """Entry point of the ``landrelease`` console script."""
    app()


# Command modules register on the same app; importing them is what adds their commands.
from landrelease import (  # noqa: E402, F401
    cli_analysis,
    cli_forms,
    cli_locate,
    cli_priority,
    cli_reports,
    cli_risk,
    cli_transfer,
)
