import sqlalchemy as sa

from clinic.demo import DEMO_USERS
from clinic.models import Client, User


def counts(db):
    return (db.session.scalar(sa.select(sa.func.count()).select_from(User)),
            db.session.scalar(sa.select(sa.func.count()).select_from(Client)))


def test_create_user_with_options(runner, db):
    result = runner.invoke(args=["create-user", "--email", "Kim@Clinic.example", "--name", "Kim",
                                 "--role", "admin", "--password", "long-enough-pw"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User))
    assert (user.email, user.role) == ("kim@clinic.example", "admin")
    assert user.check_password("long-enough-pw")


def test_create_user_prompts_for_password(runner, db):
    result = runner.invoke(args=["create-user", "--email", "kim@clinic.example", "--name", "Kim"],
                           input="long-enough-pw\nlong-enough-pw\n")
    assert result.exit_code == 0, result.output
    assert db.session.scalar(sa.select(User)).role == "therapist"


def test_create_user_refuses_duplicates_and_short_passwords(runner, therapist):
    duplicate = runner.invoke(args=["create-user", "--email", therapist.email.upper(), "--name", "X",
                                    "--password", "long-enough-pw"])
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


def test_demo_clients_belong_to_both_therapists(runner, db):
    runner.invoke(args=["seed-demo"])
    owners = set(db.session.scalars(sa.select(Client.therapist_id)))
    assert len(owners) == 2
