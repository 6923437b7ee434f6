import re

import pytest
import sqlalchemy as sa

from clinic.demo import DEMO_USERS
from clinic.models import AuditAction, AuditEvent, Client, LoginFailure, User
from clinic.throttle import locked_emails
from tests.factories import PASSWORD

NEW_PASSWORD = "a-new-long-password"


def counts(db):
    return (
        db.session.scalar(sa.select(sa.func.count()).select_from(User)),
        db.session.scalar(sa.select(sa.func.count()).select_from(Client)),
    )


def account_changes(db, user):
    """

    import reThe audit entries about an account, oldest first."""
    query = sa.select(AuditEvent).where(AuditEvent.entity_type == "user", AuditEvent.entity_id == user.id)
    return [(event.action, event.details) for event in db.session.scalars(query.order_by(AuditEvent.id))]


def fail_logins(db, email, times):
    for _ in range(times):
        db.session.add(LoginFailure(email=email, address="192.0.2.1"))
    db.session.commit()


def committed(db, user):
    """The account as the database has it: anything not committed is thrown away first."""
    db.session.rollback()
    db.session.expire_all()
    return db.session.get(User, user.id)


# --- flask users create ---


def test_users_create_with_options(runner, db):
    result = runner.invoke(
        args=[
            "users",
            "create",
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
    assert result.stdout == "Created admin kim@clinic.example; they must choose their own password at first login.\n"
    db.session.rollback()
    user = db.session.scalar(sa.select(User))
    assert (user.email, user.role) == ("kim@clinic.example", "admin")
    assert user.check_password("long-enough-pw")
    assert account_changes(db, user) == [
        (AuditAction.CREATE, {"email": "kim@clinic.example", "role": "admin"}),
    ]


def test_users_create_prompts_for_password(runner, db):
    result = runner.invoke(
        args=["users", "create", "--email", "kim@clinic.example", "--name", "Kim"],
        input="long-enough-pw\nlong-enough-pw\n",
    )
    assert result.exit_code == 0, result.output
    assert db.session.scalar(sa.select(User)).role == "therapist"


def test_users_create_refuses_duplicates_and_short_passwords(runner, therapist, db):
    duplicate = runner.invoke(
        args=["users", "create", "--email", therapist.email.upper(), "--name", "X", "--password", "long-enough-pw"]
    )
    assert duplicate.exit_code == 1 and "already exists" in duplicate.stderr
    short = runner.invoke(args=["users", "create", "--email", "x@clinic.example", "--name", "X", "--password", "short"])
    assert short.exit_code == 1 and "at least 10 characters" in short.stderr
    assert counts(db) == (1, 0)


# --- flask users reset-password ---


def test_reset_password_ends_sessions_unlocks_and_audits(runner, db, therapist):
    fail_logins(db, therapist.email, 6)
    assert therapist.email in locked_emails()
    old_token = therapist.session_token
    result = runner.invoke(
        args=["users", "reset-password", "--email", "Maya@Clinic.example", "--password", NEW_PASSWORD]
    )
    assert result.exit_code == 0, result.output
    assert "New password set for maya@clinic.example" in result.stdout
    user = committed(db, therapist)
    assert user.check_password(NEW_PASSWORD) and not user.check_password(PASSWORD)
    assert user.session_token != old_token
    assert therapist.email not in locked_emails()
    assert account_changes(db, user) == [(AuditAction.UPDATE, {"changes": {"password": "reset"}})]


def test_reset_password_prompts_with_confirmation(runner, db, therapist):
    result = runner.invoke(
        args=["users", "reset-password", "--email", therapist.email], input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert "Repeat for confirmation" in result.output and NEW_PASSWORD not in result.output
    assert committed(db, therapist).check_password(NEW_PASSWORD)


def test_reset_password_refuses_a_short_password(runner, db, therapist):
    result = runner.invoke(args=["users", "reset-password", "--email", therapist.email, "--password", "short"])
    assert result.exit_code == 1 and "at least 10 characters" in result.stderr
    user = committed(db, therapist)
    assert user.check_password(PASSWORD) and account_changes(db, user) == []


# --- flask users unlock ---


def test_unlock_clears_failed_logins_and_audits(runner, db, therapist, other_therapist):
    fail_logins(db, therapist.email, 6)
    fail_logins(db, other_therapist.email, 6)
    result = runner.invoke(args=["users", "unlock", "--email", therapist.email])
    assert result.exit_code == 0, result.output
    assert result.stdout == "Unlocked maya@clinic.example: 6 failed login(s) cleared.\n"
    db.session.rollback()
    assert locked_emails() == {other_therapist.email}
    assert account_changes(db, therapist) == [(AuditAction.UPDATE, {"changes": {"failed_logins": [6, 0]}})]
    assert committed(db, therapist).check_password(PASSWORD)


def test_unlock_without_failures_changes_nothing(runner, db, therapist):
    result = runner.invoke(args=["users", "unlock", "--email", therapist.email])
    assert result.exit_code == 0 and "nothing to clear" in result.stdout
    assert account_changes(db, therapist) == []


# --- flask users deactivate / activate ---


def test_deactivate_ends_sessions_and_audits(runner, db, therapist):
    old_token = therapist.session_token
    result = runner.invoke(args=["users", "deactivate", "--email", therapist.email])
    assert result.exit_code == 0, result.output
    user = committed(db, therapist)
    assert user.active is False and user.session_token != old_token
    assert account_changes(db, user) == [(AuditAction.UPDATE, {"changes": {"active": [True, False]}})]

    again = runner.invoke(args=["users", "deactivate", "--email", therapist.email])
    assert again.exit_code == 0 and "already deactivated" in again.stdout
    assert len(account_changes(db, user)) == 1

    back = runner.invoke(args=["users", "activate", "--email", therapist.email])
    assert back.exit_code == 0, back.output
    assert committed(db, therapist).active is True
    assert account_changes(db, user)[-1] == (AuditAction.UPDATE, {"changes": {"active": [False, True]}})


@pytest.mark.parametrize(
    "command",
    [
        ["users", "reset-password", "--password", NEW_PASSWORD],
        ["users", "unlock"],
        ["users", "deactivate"],
        ["users", "activate"],
    ],
)
def test_unknown_email_is_an_error(runner, db, therapist, command):
    result = runner.invoke(args=[*command, "--email", "nobody@clinic.example"])
    assert result.exit_code == 1
    assert result.stderr == "Error: no account with the email nobody@clinic.example\n"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 0


def test_email_is_required(runner, db):
    result = runner.invoke(args=["users", "unlock"])
    assert result.exit_code == 2 and "Missing option '--email'" in result.stderr


# --- the old names, kept for one release ---


def test_create_user_alias_still_works_with_a_deprecation_note(runner, db):
    result = runner.invoke(
        args=["create-user", "--email", "kim@clinic.example", "--name", "Kim", "--password", "long-enough-pw"]
    )
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        "Note: `flask create-user` is deprecated and will be removed in the next release; use `flask users create`.\n"
    )
    assert result.stdout == (
        "Created therapist kim@clinic.example; they must choose their own password at first login.\n"
    )
    assert db.session.scalar(sa.select(User)).check_password("long-enough-pw")


def test_create_user_alias_keeps_its_checks(runner, db):
    short = runner.invoke(args=["create-user", "--email", "x@clinic.example", "--name", "X", "--password", "short"])
    assert short.exit_code == 1 and "at least 10 characters" in short.stderr
    assert counts(db) == (0, 0)


def test_seed_demo_alias_still_works_with_a_deprecation_note(runner, db):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "Note: `flask seed-demo` is deprecated and will be removed in the next release; use `flask demo seed`."
    ]
    assert counts(db) == (3, 12)


def test_help_lists_the_groups_not_the_old_names(runner):
    result = runner.invoke(args=["--help"])
    assert result.exit_code == 0
    commands = {line.split()[0] for line in result.stdout.split("Commands:")[1].splitlines() if line.strip()}
    assert {"users", "kb", "demo"} <= commands
    assert not commands & {"create-user", "seed-demo"}


# --- flask kb check and flask demo seed ---


def test_kb_check_passes_on_the_shipped_knowledge_base(runner):
    result = runner.invoke(args=["kb", "check"])
    assert result.exit_code == 0, result.output
    muscles, relations = re.match(
        r"Knowledge base OK: (\d+) muscles, \d+ trigger points, 60 regions, (\d+) key/satellite relations",
        result.stdout,
    ).groups()
    assert int(muscles) >= 100 and int(relations) >= 20


def test_kb_check_names_a_region_without_a_primary_referrer_with_file_and_line(app, runner, tmp_path):
    import shutil

    from clinic.kb import load_for_app

    shutil.copytree(app.config["KNOWLEDGE_DIR"], tmp_path / "kb")
    path = tmp_path / "kb" / "muscles" / "leg-foot.yaml"
    text = path.read_text()
    # abductor hallucis is the inner ankle's only primary referrer: move the region to its spillover zone
    text = text.replace(
        "primary: [heel, ankle-inner]\n      secondary: [sole]", "primary: [heel]\n      secondary: [sole, ankle-inner]"
    )
    path.write_text(text)
    app.extensions["knowledge_base"] = load_for_app(tmp_path / "kb")
    app.config["KNOWLEDGE_DIR"] = str(tmp_path / "kb")
    result = runner.invoke(args=["kb", "check"])
    assert result.exit_code == 1
    regions = tmp_path / "kb" / "regions.yaml"
    line = next(n for n, row in enumerate(regions.read_text().splitlines(), 1) if row == "  - id: ankle-inner")
    assert f"{regions}:{line}: ankle-inner: no muscle has this region in its primary (essential) zone" in result.output


def test_demo_seed_is_idempotent_and_prints_logins(runner, db):
    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output
    users, clients = counts(db)
    assert users == 3 and clients == 12
    for account in DEMO_USERS:
        assert f"{account['email']} / {account['password']}" in first.output.splitlines()
    second = runner.invoke(args=["demo", "seed"])
    assert second.exit_code == 0 and "0 new records" in second.output
    assert counts(db) == (users, clients)


def test_demo_seed_is_refused_in_production(runner, app, db):
    app.config["DEMO_DATA_ALLOWED"] = False
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 1 and "not allowed in production" in result.stderr
    assert counts(db) == (0, 0)


def test_demo_clients_belong_to_both_therapists(runner, db):
    runner.invoke(args=["demo", "seed"])
    owners = set(db.session.scalars(sa.select(Client.therapist_id)))
    assert len(owners) == 2


def test_demo_clients_have_5_to_30_plausible_sessions(runner, db):
    from clinic.demo import DEMO_CLIENTS
    from clinic.kb import knowledge_base
    from clinic.models import TreatmentSession

    runner.invoke(args=["demo", "seed"])
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


def test_demo_seed_books_a_week_around_today(runner, db):
    from clinic.clock import clinic_today, to_local
    from clinic.models import Appointment, Role, User

    runner.invoke(args=["demo", "seed"])
    therapists = list(db.session.scalars(sa.select(User).where(User.role == Role.THERAPIST)))
    for therapist in therapists:
        book = list(db.session.scalars(sa.select(Appointment).where(Appointment.therapist_id == therapist.id)))
        completed = [a for a in book if a.status == "completed"]
        assert completed and all(a.session is not None and a.session.started_at == a.starts_at for a in completed)
        today = [a for a in book if to_local(a.starts_at).date() == clinic_today()]
        assert len([a for a in today if a.status == "booked"]) == 3, therapist.name
        ahead = [a for a in book if to_local(a.starts_at).date() > clinic_today()]
        assert ahead and all(a.status == "booked" for a in ahead)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Appointment))
    second = runner.invoke(args=["demo", "seed"])
    assert "0 new records" in second.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Appointment)) == total


# --- passwords someone else chose must be changed; the demo accounts are exempt ---


def test_users_create_and_reset_password_force_a_change_at_login(runner, db, therapist):
    runner.invoke(
        args=["users", "create", "--email", "kim@clinic.example", "--name", "Kim", "--password", NEW_PASSWORD]
    )
    assert db.session.scalar(sa.select(User).where(User.email == "kim@clinic.example")).must_change_password
    assert not committed(db, therapist).must_change_password
    runner.invoke(args=["users", "reset-password", "--email", therapist.email, "--password", NEW_PASSWORD])
    assert committed(db, therapist).must_change_password


@pytest.mark.parametrize(
    "command",
    [
        ["users", "create", "--email", "x@clinic.example", "--name", "X"],
        ["users", "reset-password", "--email", "maya@clinic.example"],
    ],
)
def test_users_commands_refuse_a_common_password(runner, db, therapist, command):
    result = runner.invoke(args=[*command, "--password", "Password123"])
    assert result.exit_code == 1
    assert "on a list of commonly used passwords" in result.stderr
    assert committed(db, therapist).check_password(PASSWORD)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_demo_accounts_need_no_password_change(runner, app, db):
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    db.session.rollback()
    users = db.session.scalars(sa.select(User)).all()
    assert len(users) == len(DEMO_USERS) and not any(user.must_change_password for user in users)
    browser = app.test_client()
    account = DEMO_USERS[1]
    from tests.helpers import login_via_form

    response = login_via_form(browser, account["email"], account["password"])
    assert response.status_code == 302 and browser.get("/clients/").status_code == 200
