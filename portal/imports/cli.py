"""Import commands: the same planners and all-or-nothing commit as the Référentiels pages.

    flask --app wsgi import-certifinfo PATH
    flask --app wsgi import-succession PATH
    flask --app wsgi import-formacode PATH --version V14
    flask --app wsgi import-region PATH... [--commit]

The register, succession and Formacode commands apply the file unless ``--dry-run`` is given;
the Region file is only previewed unless ``--commit`` is given (it creates organisations).
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask

from .common import ACTION_LABELS, ENTITY_LABELS, Plan
from .formacode import normalise_version
from .runner import KINDS, commit_import, plan_import

ERRORS_SHOWN = 50


def register(app: Flask) -> None:
    """Add the import commands to the app's CLI."""
    app.cli.add_command(import_certifinfo)
    app.cli.add_command(import_succession)
    app.cli.add_command(import_formacode)
    app.cli.add_command(import_region)


def _echo_plan(plan: Plan) -> None:
    for entity, counts in plan.counts().items():
        parts = ", ".join(f"{ACTION_LABELS[a].lower()} : {n}" for a, n in counts.items())
        click.echo(f"{ENTITY_LABELS.get(entity, entity)} — {parts}")
    for warning in plan.warnings[:ERRORS_SHOWN]:
        click.echo(f"Avertissement : {warning}")
    for error in plan.errors[:ERRORS_SHOWN]:
        click.echo(f"Erreur : {error}", err=True)
    if len(plan.errors) > ERRORS_SHOWN:
        click.echo(f"… et {len(plan.errors) - ERRORS_SHOWN} autres erreurs.", err=True)


def _run(slug: str, paths: list[Path], options: dict, commit: bool) -> None:
    kind = KINDS[slug]
    if not commit:
        plan = plan_import(kind, paths, options)
        _echo_plan(plan)
        if not plan.ok:
            raise click.ClickException("Fichier refusé : corrigez les erreurs ci-dessus.")
        click.echo(f"Aperçu seulement, rien n'a été enregistré ({plan.summary()}).")
        return
    result = commit_import(kind, paths, options)
    _echo_plan(result.plan)
    if result.status != "committed":
        raise click.ClickException(result.message or "Import refusé.")
    click.echo(f"Import enregistré (n° {result.run.id}) : {result.plan.summary()}.")


_path = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.command("import-certifinfo")
@click.argument("path", type=_path)
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
def import_certifinfo(path: Path, dry_run: bool) -> None:
    """Import the Certif Info register (JSON tree): create, update, archive codes."""
    _run("certifinfo", [path], {}, not dry_run)


@click.command("import-succession")
@click.argument("path", type=_path)
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
def import_succession(path: Path, dry_run: bool) -> None:
    """Apply a Certif Info succession file: archive old codes, move formations to new ones."""
    _run("succession", [path], {}, not dry_run)


@click.command("import-formacode")
@click.argument("path", type=_path)
@click.option("--version", "version", required=True, help="Thesaurus version, e.g. V14.")
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
def import_formacode(path: Path, version: str, dry_run: bool) -> None:
    """Import Formacode from the Centre Inffo CSV export."""
    try:
        version = normalise_version(version)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--version") from None
    _run("formacode", [path], {"version": version}, not dry_run)


@click.command("import-region")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--commit", is_flag=True, help="Write the changes (default: preview only).")
def import_region(paths: tuple[Path, ...], commit: bool) -> None:
    """Import the Region's extraction file: one XLSX, its four CSV files, or their directory."""
    _run("region", list(paths), {}, commit)
