"""Field data commands: forms (XLSForm), minefield record templates, submissions waiting for correction."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from landrelease.cli_common import app, err, friendly, out, print_json, settings_of
from landrelease.fieldforms.xlsform import FormContext

if TYPE_CHECKING:
    from landrelease.fieldforms.central import CentralForm

forms_app = typer.Typer(no_args_is_help=True, help="Field forms for ODK Collect and KoboToolbox, from the schema.")
app.add_typer(forms_app, name="forms")
submissions_app = typer.Typer(no_args_is_help=True, help="Field form submissions imported from ODK and KoboToolbox.")
app.add_typer(submissions_app, name="submissions")


@forms_app.command("xlsform")
@friendly
def forms_xlsform(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help="nts, ts, clearance, eod, eore, accident or qa.")],
    out_file: Annotated[Path, typer.Argument(metavar="OUT.xlsx", help="The XLSForm to write.")],
    lang: Annotated[str, typer.Option("--lang", help="Languages of the labels, comma-separated: en, uk.")] = "en,uk",
    overwrite: Annotated[bool, typer.Option(help="Replace the file if it exists.")] = False,
) -> None:
    """Write an XLSForm for ODK Central or KoboToolbox, generated from the database schema."""
    from landrelease.errors import InvalidInput
    from landrelease.fieldforms.kinds import form_kind
    from landrelease.fieldforms.xlsform import build_xlsform, parse_languages, write_xlsform

    form = form_kind(kind)
    languages = parse_languages(lang)
    if out_file.exists() and not overwrite:
        raise InvalidInput(f"{out_file} exists; use --overwrite to replace it")
    context = _context(settings_of(ctx).db)
    write_xlsform(build_xlsform(form, languages, context), out_file)
    sources = ", ".join(
        f"{len(v)} {k}" for k, v in (("organisations", context.organisations), ("admin areas", context.admin_areas))
    )
    err.print(f"wrote {out_file}: form {form.form_id} version {form.version} ({', '.join(languages)}; {sources})")


def _context(location: str) -> FormContext:
    """Organisations and admin areas from the database when there is one (a form is made without too)."""
    from landrelease.store import open_store

    if not location.startswith(("postgresql://", "postgres://")) and not Path(location).exists():
        return FormContext()
    with open_store(location) as store:
        orgs = [(f.id, str(f.attributes["name"])) for f in store.features("organisations") if f.attributes.get("name")]
        areas = [(f.id, str(f.attributes["name"])) for f in store.features("admin_areas") if f.attributes.get("name")]
    return FormContext(organisations=orgs, admin_areas=areas)


@forms_app.command("minefield-template")
@friendly
def forms_minefield_template(
    out_file: Annotated[Path, typer.Argument(metavar="OUT.csv|OUT.xlsx", help="The template to write.")],
    overwrite: Annotated[bool, typer.Option(help="Replace the file if it exists.")] = False,
) -> None:
    """Write the minefield record template (CCW Amended Protocol II) that `import minefields` reads."""
    from landrelease.actions.minefields import write_template
    from landrelease.errors import InvalidInput

    if out_file.exists() and not overwrite:
        raise InvalidInput(f"{out_file} exists; use --overwrite to replace it")
    write_template(out_file)
    err.print(f"wrote {out_file}: one row per minefield record; the second row is a filled-in example")


def central_form(url: str | None, project: int | None, form_id: str | None, file: Path | None) -> CentralForm | None:
    """The Central form of ``--from-central URL --project N --form-id ID``, or None without ``--from-central``."""
    from landrelease.errors import InvalidInput
    from landrelease.fieldforms.central import CentralForm

    if url is None:
        if project is not None or form_id is not None:
            raise InvalidInput("--project and --form-id go with --from-central URL")
        return None
    if file is not None:
        raise InvalidInput(f"give either a FILE or --from-central, not both ({file.name} and {url})")
    if project is None or form_id is None:
        raise InvalidInput("--from-central needs --project N and --form-id ID (the form's id on Central)")
    return CentralForm(url, project, form_id)


def needs_file(file: Path | None) -> Path:
    """The FILE argument, required by every import but one of submissions pulled from Central."""
    from landrelease.errors import InvalidInput

    if file is None:
        raise InvalidInput("import needs a FILE to read")
    return file


def import_submissions_command(
    ctx: typer.Context, file: Path | None, form: str | None, as_json: bool, central: CentralForm | None = None
) -> None:
    """``landrelease import submissions FILE --form KIND`` (or ``--from-central``): called by ``import``."""
    from landrelease.accounts import open_accounts
    from landrelease.actions.field_submissions import import_instances, import_submissions, repeat_groups
    from landrelease.cli_common import cli_store
    from landrelease.errors import InvalidInput
    from landrelease.fieldforms.kinds import form_kind

    if not form:
        raise InvalidInput("import submissions needs --form: nts, ts, clearance, eod, eore, accident or qa")
    kind = form_kind(form)
    settings = settings_of(ctx)
    instances = None
    if central is not None:  # pulled before the database is opened: a refused login changes nothing
        from landrelease.fieldforms.central import credentials_for, pull_submissions

        with err.status(f"pulling submissions from {central.server}", spinner="dots"):
            instances = pull_submissions(central, credentials_for(central), repeat_groups(kind))
    accounts = open_accounts(settings.db)
    try:
        with cli_store(ctx) as store:
            if instances is not None and central is not None:
                source = f"{central.server} project {central.project} form {central.form_id}"
                summary = import_instances(store, accounts, settings.db, instances, kind, source, settings.author)
            else:
                file = needs_file(file)
                summary = import_submissions(store, accounts, settings.db, file, form, settings.author)
    finally:
        accounts.close()
    if as_json:
        print_json(summary.as_dict())
        return
    err.print(
        f"{summary.imported} submissions into the review queue ({len(summary.reports)} reports), "
        f"{summary.rejected} kept for correction, {summary.duplicates} duplicates"
    )
    for e in summary.errors[:50]:
        err.print(f"  submission {e.index} ({e.instance_id}): {e.reason}", markup=False)


def import_minefields_command(ctx: typer.Context, file: Path | None, as_json: bool) -> None:
    """``landrelease import minefields FILE``: called by the ``import`` command."""
    from landrelease.actions.minefields import import_minefields
    from landrelease.cli_common import cli_store

    file = needs_file(file)
    with cli_store(ctx) as store:
        summary = import_minefields(store, file, settings_of(ctx).author)
    if as_json:
        print_json(summary.as_dict())
        return
    err.print(f"{summary.imported} minefield records imported as hazards (CHA), {summary.rejected} rejected")
    for e in summary.errors[:50]:
        err.print(f"  rejected row {e.index}: {e.reason}", markup=False)


@submissions_app.command("corrections")
@friendly
def submissions_corrections(
    ctx: typer.Context,
    form: Annotated[
        str | None, typer.Option(help="Only this form: nts, ts, clearance, eod, eore, accident or qa.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print them as JSON, answers included.")] = False,
) -> None:
    """List the imported submissions that failed their checks, with the reason: correct them, export again."""
    from landrelease.fieldforms.instances import open_form_instances
    from landrelease.fieldforms.kinds import form_kind

    name = None if form is None else form_kind(form).name
    location = settings_of(ctx).db
    _existing(location)
    ledger = open_form_instances(location)
    try:
        waiting = ledger.needing_correction(name)
    finally:
        ledger.close()
    if as_json:
        print_json({"form": name, "count": len(waiting), "submissions": [w.as_dict() for w in waiting]})
        return
    if not waiting:
        err.print(f"no {name + ' ' if name else ''}submissions waiting for correction")
        return
    for w in waiting:
        when = "" if w.updated_at is None else w.updated_at.strftime("%Y-%m-%d %H:%M")
        out.print(f"{w.instance_id}\t{w.form}\t{when}\t{w.reason}", markup=False, highlight=False, soft_wrap=True)
    err.print(
        f"{len(waiting)} submissions waiting for correction: fix them on the server, then import the export again"
    )


def _existing(location: str) -> None:
    """A GeoPackage that is not there is a typo, not an empty queue."""
    from landrelease.errors import NotFound

    if not location.startswith(("postgresql://", "postgres://")) and not Path(location).exists():
        raise NotFound(f"no database at {location}; create it with `landrelease init`")
