"""Flask CLI commands: demo data, the first accounts, backup and restore."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy import func, select

from .auth.passwords import hash_password
from .extensions import db
from .models import Establishment, User

MIN_PASSWORD_LENGTH = 12


def register(app: Flask) -> None:
    from .imports import cli as import_commands

    app.cli.add_command(demo_data)
    app.cli.add_command(create_user)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    import_commands.register(app)


@click.command("demo-data")
@click.option("--if-empty", is_flag=True, help="Load only into a database without any account.")
def demo_data(if_empty: bool) -> None:
    """Load the demo data of DESIGN §8 (idempotent: a second run changes nothing)."""
    from .demo import database_is_empty, load_demo_data

    if if_empty and not database_is_empty():
        click.echo("Database already has accounts: demo data not loaded.")
        return
    if load_demo_data():
        click.echo(
            "Demo data loaded. Accounts: of.demo@example.org, autre.of@example.org, "
            "offre@example.org (password Demo-2024!)."
        )
    else:
        click.echo("Demo data already present: nothing changed.")


@click.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice(User.ROLES), default=User.ROLE_CARIF, show_default=True)
@click.option("--first-name", default="")
@click.option("--last-name", default="")
@click.option("--siret", "sirets", multiple=True, help="Attach an OF account to this SIRET.")
@click.password_option(prompt="Mot de passe", confirmation_prompt="Confirmez le mot de passe")
def create_user(
    email: str, role: str, first_name: str, last_name: str, sirets: tuple[str, ...], password: str
) -> None:
    """Create an account; the password is prompted so it never lands in shell history."""
    email = email.strip().lower()
    if "@" not in email:
        raise click.BadParameter("adresse e-mail invalide", param_hint="EMAIL")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise click.BadParameter(
            f"le mot de passe doit faire au moins {MIN_PASSWORD_LENGTH} caractères",
            param_hint="--password",
        )
    if db.session.scalar(select(User.id).where(func.lower(User.email) == email)):
        raise click.ClickException(f"Un compte existe déjà pour {email}.")
    establishments = []
    for siret in sirets:
        establishment = db.session.scalar(select(Establishment).where(Establishment.siret == siret))
        if establishment is None:
            raise click.ClickException(f"SIRET inconnu : {siret}")
        establishments.append(establishment)
    if role == User.ROLE_OF and not establishments:
        raise click.ClickException("Un compte OF doit être rattaché à au moins un SIRET (--siret).")
    user = User(
        email=email,
        first_name=first_name,
        last_name=last_name,
        role=role,
        password_hash=hash_password(password),
    )
    user.establishments = establishments
    db.session.add(user)
    db.session.commit()
    click.echo(f"Compte {role} créé : {email}")


def _echo_database(info) -> None:
    from .backup import size_label

    click.echo(f"  size: {size_label(info.size)}, schema revision: {info.revision or 'none'}")
    width = max((len(name) for name in info.counts), default=0)
    for name, rows in info.counts.items():
        click.echo(f"  {name:<{width}}  {rows:>9} rows")


@click.command("backup")
@click.argument("path", type=click.Path(path_type=Path))
def backup_command(path: Path) -> None:
    """Back up the SQLite database to PATH (a new file, or a directory) while the portal runs.

    PostgreSQL: use pg_dump (docs/operations.md).
    """
    from .backup import BackupError, backup

    try:
        info = backup(db.engine, path)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Backup written to {info.path} (integrity check: ok).")
    _echo_database(info)


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore_command(path: Path, yes: bool) -> None:
    """Replace the SQLite database with the backup at PATH; the replaced one is kept beside it.

    Stop the application first: changes saved after the backup are lost. PostgreSQL: use
    pg_restore (docs/operations.md).
    """
    from .backup import BackupError, inspect_backup, live_path, restore

    migrations = current_app.extensions["migrate"].directory
    try:
        target = live_path(db.engine, "restore")
        info, needs_upgrade = inspect_backup(path, migrations)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Backup {info.path} (integrity check: ok):")
    _echo_database(info)
    if needs_upgrade:
        click.echo("Its schema is older than this version of the application's.")
    if not yes:
        click.confirm(
            f"Replace the database {target} with this backup? Changes saved since the backup "
            "will be lost (a copy of the current database is kept)",
            abort=True,
        )
    db.session.remove()  # this command's own session must not hold the old database open
    try:
        result = restore(db.engine, path, migrations)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    if result.previous_copy:
        click.echo(f"Previous database kept as {result.previous_copy}.")
    click.echo(f"Database {target} restored from {info.path} (integrity check: ok).")
    if result.needs_upgrade:
        click.echo(
            f"The backup's schema ({info.revision}) is older than this version of the "
            "application: run `flask --app wsgi db upgrade` before starting it."
        )
