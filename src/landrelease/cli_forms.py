"""Field data commands: forms (XLSForm) and minefield record templates."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from landrelease.cli_common import app, err, friendly, print_json, settings_of
from landrelease.fieldforms.xlsform import FormContext

forms_app = typer.Typer(no_args_is_help=True, help="Field forms for ODK Collect and KoboToolbox, from the schema.")
app.add_typer(forms_app, name="forms")


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


def import_submissions_command(ctx: typer.Context, file: Path, form: str | None, as_json: bool) -> None:
    """``landrelease import submissions FILE --form KIND``: called by the ``import`` command."""
    from landrelease.accounts import open_accounts
    from landrelease.actions.field_submissions import import_submissions
    from landrelease.cli_common import cli_store
    from landrelease.errors import InvalidInput

    if not form:
        raise InvalidInput("import submissions needs --form: nts, ts, clearance, eod, eore, accident or qa")
    settings = settings_of(ctx)
    accounts = open_accounts(settings.db)
    try:
        with cli_store(ctx) as store:
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


def import_minefields_command(ctx: typer.Context, file: Path, as_json: bool) -> None:
    """``landrelease import minefields FILE``: called by the ``import`` command."""
    from landrelease.actions.minefields import import_minefields
    from landrelease.cli_common import cli_store

    with cli_store(ctx) as store:
        summary = import_minefields(store, file, settings_of(ctx).author)
    if as_json:
        print_json(summary.as_dict())
        return
    err.print(f"{summary.imported} minefield records imported as hazards (CHA), {summary.rejected} rejected")
    for e in summary.errors[:50]:
        err.print(f"  rejected row {e.index}: {e.reason}", markup=False)
