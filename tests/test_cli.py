import sqlalchemy as sa

from clinic.demo import DEMO_USERS
from clinic.models import Client, User


def counts(db):
    return (
        db.session.scalar(sa.select(sa.func.count()).select_from(User)),
        db.session.scalar(sa.select(sa.func.count()).select_from(Client)),
    )


def test_create_user_with_options(runner, db):
    result = runner.invoke(
        args=[
            "create-user",
            "--email",
            "Kim@Clinic.example",
            "--name",
            "Kim",
            "--role",
            "admin",
            "--password",
            "long-enough-pw",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User))
    assert (user.email, user.role) == ("kim@clinic.example", "admin")
    assert user.check_password("long-enough-pw")


def test_create_user_prompts_for_password(runner, db):
    result = runner.invoke(
        args=["create-user", "--email", "kim@clinic.example", "--name", "Kim"], input="long-enough-pw\nlong-enough-pw\n"
    )
    assert result.exit_code == 0, result.output
    assert db.session.scalar(sa.select(User)).role == "therapist"


def test_create_user_refuses_duplicates_and_short_passwords(runner, therapist):
    duplicate = runner.invoke(
        args=["create-user", "--email", therapist.email.upper(), "--name", "X", "--password", "long-enough-pw"]
    )
    assert duplicate.exit_code != 0 and "already exists" in duplicate.output
    short = runner.invoke(args=["create-user", "--email", "x@clinic.example", "--name", "X", "--password", "short"])
    assert short.exit_code != 0 and "at least" in short.output


def test_seed_demo_is_idempotent_and_prints_logins(runner, db):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    users, clients = counts(db)
    assert users == 3 and clients == 12
    for account in DEMO_USERS:
        assert f"{account['email']} / {account['password']}" in first.output.splitlines()
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0 and "0 new records" in second.output
    assert counts(db) == (users, clients)


def test_seed_demo_is_refused_in_production(runner, app, db):
    app.config["DEMO_DATA_ALLOWED"] = False
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code != 0 and "not allowed in production" in result.output
    assert counts(db) == (0, 0)


def test_demo_clients_belong_to_both_therapists(runner, db):
    runner.invoke(args=["seed-demo"])
    owners = set(db.session.scalars(sa.select(Client.therapist_id)))
    assert len(owners) == 2


def test_demo_clients_have_5_to_30_plausible_sessions(runner, db):
    from clinic.demo import DEMO_CLIENTS
    from clinic.kb import knowledge_base
    from clinic.models import TreatmentSession

    runner.invoke(args=["seed-demo"])
    kb = knowledge_base()
    complaints = {record["full_name"]: set(record["pain_regions"]) for record in DEMO_CLIENTS}
    for client in db.session.scalars(sa.select(Client)):
        history = list(db.session.scalars(sa.select(TreatmentSession).where(TreatmentSession.client_id == client.id)))
        assert 5 <= len(history) <= 30, client.full_name
        for session in history:
            assert session.points
            for point in session.points:
                muscle = kb.muscle_of(point.trigger_point_id)
                referral = set(muscle.refers_to.primary + muscle.refers_to.secondary)
                assert referral & complaints[client.full_name], (client.full_name, muscle.slug)
