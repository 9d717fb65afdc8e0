"""Flask CLI commands: demo data and the first accounts."""

from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import func, select

from .auth.passwords import hash_password
from .extensions import db
from .models import Establishment, User

MIN_PASSWORD_LENGTH = 12


def register(app: Flask) -> None:
    from .imports import cli as import_commands

    app.cli.add_command(demo_data)
    app.cli.add_command(create_user)
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
