from sqlalchemy import func, select

from portal.auth.passwords import verify_password
from portal.extensions import db
from portal.models import (
    Action,
    Certification,
    Establishment,
    Lot,
    Programme,
    Session,
    SessionFunding,
    User,
)
from portal.search.filters import dashboard_counts


def _counts():
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in (
            User,
            Establishment,
            Programme,
            Lot,
            Certification,
            Action,
            Session,
            SessionFunding,
        )
    }


def test_demo_data_is_idempotent(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output
    assert "Demo data loaded" in result.output
    first = _counts()
    result = runner.invoke(args=["demo-data"])
    assert "nothing changed" in result.output
    assert _counts() == first
    result = runner.invoke(args=["demo-data", "--if-empty"])
    assert "not loaded" in result.output
    assert _counts() == first


def test_demo_data_matches_the_design(app):
    from datetime import date

    app.test_cli_runner().invoke(args=["demo-data"])
    session = db.session.get(Session, 143842)
    assert session.fas_code == "19482-89393-143842"
    assert session.action.formation.title == "Titre professionnel assistant ressources humaines"
    assert session.site.commune == "Nantes"
    assert session.action.formation.programme.dispositif_code == 8
    assert session.is_current(date.today())
    nantes = db.session.scalar(select(Establishment).where(Establishment.siret == "13000511900032"))
    assert nantes.sofi_number == 36364
    assert session.establishment_id == nantes.id
    counts = dashboard_counts(nantes.id, date.today())
    assert all(counts["sessions"].values()), counts
    assert all(counts["actions"].values()), counts
    lot = db.session.scalar(select(Lot).where(Lot.code == "PE2024_2"))
    assert (lot.region_action_id, lot.region_mandataire_id) == ("2872", "75")
    assert (
        db.session.scalar(select(Certification).where(Certification.code == "93561")).type_label
        == "Autre certification sans niveau spécifique"
    )
    assert db.session.scalar(select(func.count()).select_from(Certification)) >= 300
    users = {u.email: u for u in db.session.scalars(select(User))}
    assert {e.siret for e in users["of.demo@example.org"].establishments} == {
        "13000511900032",
        "13000511900040",
    }
    assert users["offre@example.org"].role == "carif"
    assert verify_password(users["autre.of@example.org"].password_hash, "Demo-2024!")


def test_create_user_prompts_for_the_password(app, make_establishment):
    establishment = make_establishment()
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["create-user", "Chef.Offre@Example.org", "--role", "carif", "--first-name", "Chef"],
        input="Un-mot-de-passe-long\nUn-mot-de-passe-long\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "chef.offre@example.org"))
    assert user.role == "carif"
    assert verify_password(user.password_hash, "Un-mot-de-passe-long")
    result = runner.invoke(
        args=["create-user", "of@example.org", "--role", "of", "--siret", establishment.siret],
        input="Un-mot-de-passe-long\nUn-mot-de-passe-long\n",
    )
    assert result.exit_code == 0, result.output


def test_create_user_refuses_bad_input(app):
    runner = app.test_cli_runner()
    pw = "Un-mot-de-passe-long\nUn-mot-de-passe-long\n"
    assert (
        runner.invoke(args=["create-user", "x@example.org"], input="court\ncourt\n").exit_code != 0
    )
    assert runner.invoke(args=["create-user", "not-an-email"], input=pw).exit_code != 0
    result = runner.invoke(args=["create-user", "of@example.org", "--role", "of"], input=pw)
    assert "au moins un SIRET" in result.output
    result = runner.invoke(
        args=["create-user", "of@example.org", "--role", "of", "--siret", "123"], input=pw
    )
    assert "SIRET inconnu" in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0
    assert runner.invoke(args=["create-user", "a@example.org"], input=pw).exit_code == 0
    result = runner.invoke(args=["create-user", "A@example.org"], input=pw)
    assert "existe déjà" in result.output
