import json
import shutil
import subprocess
import threading
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade
from sqlalchemy.exc import DBAPIError

from clinic import audit
from clinic.models import AuditAction, AuditEvent, User
from clinic.models.audit import GENESIS_HASH, HASHED_FIELDS, AppendOnlyError, event_hash
from tests.conftest import MIGRATIONS, build_app
from tests.factories import make_audit_event, make_client


def test_record_stores_who_what_and_which_client(app, db, therapist):
    client = make_client(therapist)
    event = audit.record(AuditAction.VIEW, client=client, user=therapist)
    db.session.commit()
    stored = db.session.get(AuditEvent, event.id)
    assert (stored.action, stored.user_id, stored.client_id, stored.entity_type, stored.entity_id) == (
        "view",
        therapist.id,
        client.id,
        "client",
        client.id,
    )
    assert stored.at.tzinfo is not None


def test_orm_refuses_update_and_delete(db, therapist):
    event = audit.record(AuditAction.LOGIN, user=therapist)
    db.session.commit()
    event.action = "logout"
    with pytest.raises(AppendOnlyError):
        db.session.commit()
    db.session.rollback()
    db.session.delete(event)
    with pytest.raises(AppendOnlyError):
        db.session.commit()
    db.session.rollback()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET action = 'logout'",
        "DELETE FROM audit_events",
    ],
)
def test_database_refuses_update_and_delete(db, therapist, statement):
    audit.record(AuditAction.LOGIN, user=therapist)
    db.session.commit()
    with pytest.raises(DBAPIError):
        db.session.execute(sa.text(statement))
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(sa.select(AuditEvent.action)) == "login"


def test_unknown_action_is_refused_by_the_database(db):
    with pytest.raises(DBAPIError):
        db.session.execute(
            sa.text(
                "INSERT INTO audit_events (at, action, attempted_email, entity_type, details, address) "
                "VALUES (CURRENT_TIMESTAMP, 'erase', '', '', '{}', '')"
            )
        )
        db.session.commit()
    db.session.rollback()


def test_point_differences_pair_points_by_trigger_point_and_side(app):
    from clinic.changes import point_differences
    from clinic.kb import knowledge_base

    def point(tp, side="right", **values):
        return {"trigger_point": tp, "side": side, "pressure_seconds": 60, "pain": 6, "note": "", **values}

    kb = knowledge_base()
    old = [point("upper-trapezius/1"), point("masseter/1", "left"), point("soleus/1")]
    assert point_differences(old, list(reversed(old)), kb) == [], "reordering alone is no change"
    moved = point_differences(old, [point("upper-trapezius/1"), point("masseter/1", "both"), point("soleus/1")], kb)
    assert [(d.kind, d.label, [(p.label, p.old, p.new) for p in d.parts]) for d in moved] == [
        ("changed", "Masseter, point 1 (left)", [("side", "left", "both")])
    ]
    gone = point_differences(old, old[:2], kb)
    assert [(d.kind, d.label, d.old) for d in gone] == [("removed", "Soleus, point 1 (right)", "60 s, pain 6/10")]
    unknown = point_differences([], [point("no-such-muscle/9")], kb)
    assert [(d.kind, d.label) for d in unknown] == [("added", "no-such-muscle/9 (right)")]


# --- the hash chain ---------------------------------------------------------------------------------------------


def chain_of(db, count: int, user) -> list[int]:
    """`count` events written the app's way (audit.record, one commit each); their ids, oldest first."""
    ids = []
    for n in range(count):
        ids.append(audit.record(AuditAction.VIEW, user=user, entity_type="session", entity_id=n, details={"n": n}).id)
        db.session.commit()
    return ids


def verify(runner) -> tuple[int, str]:
    result = runner.invoke(args=["audit", "verify"])
    return result.exit_code, result.output


@contextmanager
def guard_lifted(db):
    """What an attacker with the app's old rights could do: switch the append-only triggers off (and back on,
    so the PostgreSQL database the suite shares keeps them)."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
        db.session.commit()
        try:
            yield
        finally:
            db.session.rollback()
            db.session.execute(sa.text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only"))
            db.session.commit()
    else:
        for event in ("update", "delete"):
            db.session.execute(sa.text(f"DROP TRIGGER audit_events_no_{event}"))
        db.session.commit()
        yield


def test_each_event_carries_the_hash_of_the_one_before(db, therapist, runner):
    ids = chain_of(db, 4, therapist)
    events = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [event.id for event in events] == ids
    assert events[0].prev_hash == GENESIS_HASH
    assert [event.prev_hash for event in events[1:]] == [event.hash for event in events[:-1]]
    for event in events:
        assert event.hash == event_hash({name: getattr(event, name) for name in HASHED_FIELDS}, event.prev_hash)
    assert len({event.hash for event in events}) == 4
    code, output = verify(runner)
    assert code == 0 and f"4 entries chained; last entry {ids[-1]}, hash {events[-1].hash}" in output


def test_verify_names_an_edited_entry(db, therapist, runner):
    ids = chain_of(db, 5, therapist)
    with guard_lifted(db):
        db.session.execute(sa.text("UPDATE audit_events SET entity_id = 99 WHERE id = :id"), {"id": ids[2]})
        db.session.commit()
        code, output = verify(runner)
    assert code == 1
    assert (
        f"broken at entry {ids[2]}: its contents do not match its hash" in output and "The 2 entries before" in output
    )


def test_verify_names_the_entry_after_a_removed_one(db, therapist, runner):
    ids = chain_of(db, 5, therapist)
    with guard_lifted(db):
        db.session.execute(sa.text("DELETE FROM audit_events WHERE id = :id"), {"id": ids[1]})
        db.session.commit()
        code, output = verify(runner)
    assert code == 1 and f"broken at entry {ids[2]}: it does not follow the entry before it" in output


def test_verify_names_an_edit_whose_hash_was_made_again(db, therapist, runner):
    """A forger who knows the recipe re-hashes the row they changed: the next entry no longer follows it."""
    ids = chain_of(db, 4, therapist)
    row = db.session.get(AuditEvent, ids[1])
    fields = {name: getattr(row, name) for name in HASHED_FIELDS} | {"details": {"n": "forged"}}
    with guard_lifted(db):
        db.session.execute(
            sa.text("UPDATE audit_events SET details = :details, hash = :hash WHERE id = :id"),
            {"details": json.dumps({"n": "forged"}), "hash": event_hash(fields, row.prev_hash), "id": ids[1]},
        )
        db.session.commit()
        code, output = verify(runner)
    assert code == 1 and f"broken at entry {ids[2]}: it does not follow" in output


@pytest.mark.parametrize("well_hashed", [False, True])
def test_verify_names_a_back_dated_forged_entry(db, therapist, runner, well_hashed):
    """Inserting needs no lifted guard: a forged entry dated last year, with a made-up hash or with one made by
    the recipe on the real head, is named."""
    chain_of(db, 3, therapist)
    head = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    forged = {
        "id": head.id + 1,
        "at": datetime(2025, 6, 1, 9, tzinfo=UTC),
        "user_id": therapist.id,
        "attempted_email": "",
        "action": "login",
        "entity_type": "",
        "entity_id": None,
        "client_id": None,
        "details": {},
        "address": "10.0.0.9",
    }
    digest = event_hash(forged, head.hash) if well_hashed else "f" * 64
    db.session.execute(sa.insert(AuditEvent.__table__).values(**forged, prev_hash=head.hash, hash=digest))
    db.session.commit()
    code, output = verify(runner)
    assert code == 1 and f"broken at entry {head.id + 1}" in output
    reason = "dated 2025-06-01T09:00:00.000000Z, before the entry before it" if well_hashed else "do not match its hash"
    assert reason in output


def test_an_event_is_never_dated_before_the_one_before_it(db, therapist, runner):
    """A clock that steps back (NTP) must not look like a back-dated entry: the time is taken under the lock,
    never earlier than the last event's."""
    make_audit_event(action="login", user_id=therapist.id, at=datetime.now(UTC) + timedelta(minutes=5))
    later = audit.record(AuditAction.LOGOUT, user=therapist)
    db.session.commit()
    db.session.refresh(later)
    first = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).first()
    assert later.at >= first.at
    assert verify(runner)[0] == 0


def test_concurrent_appends_keep_one_chain(app, db, therapist, runner):
    """Eight threads, each its own session and connection, appending at once, half through the ORM (record) and
    half with Core inserts (record_read): one chain, no fork."""
    errors: list[BaseException] = []
    user_id = therapist.id  # read here: the test's session is not for the threads

    def append(n: int) -> None:
        try:
            with app.app_context():
                for i in range(5):
                    user = db.session.get(User, user_id)
                    if n % 2:
                        audit.record_read(AuditAction.VIEW, user=user, details={"t": n, "i": i})
                    else:
                        audit.record(AuditAction.VIEW, user=user, details={"t": n, "i": i})
                        db.session.commit()
                db.session.remove()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=append, args=(n,), daemon=True) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "an append hung"
    assert errors == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 40
    code, output = verify(runner)
    assert code == 0 and "40 entries chained" in output


def test_a_read_appended_without_the_orm_joins_the_same_chain(db, therapist, runner):
    """record_read writes with a Core insert: the same defaults, id, time and hashes as an event written through
    the ORM, between two of them."""
    first = chain_of(db, 1, therapist)[0]
    audit.record_read(AuditAction.VIEW, user=therapist, entity_type="session", entity_id=7)
    last = chain_of(db, 1, therapist)[0]
    events = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [event.id for event in events] == [first, first + 1, last] and last == first + 2
    read = events[1]
    assert (read.action, read.user_id, read.entity_type, read.entity_id) == ("view", therapist.id, "session", 7)
    assert (read.details, read.attempted_email, read.address, read.client_id) == ({}, "", "", None)
    assert read.prev_hash == events[0].hash and events[2].prev_hash == read.hash
    assert read.hash == event_hash({name: getattr(read, name) for name in HASHED_FIELDS}, read.prev_hash)
    assert events[0].at <= read.at <= events[2].at
    code, output = verify(runner)
    assert code == 0 and "3 entries chained" in output


def test_migration_chains_the_events_already_there(app, db, therapist, runner):
    downgrade(directory=MIGRATIONS, revision="0010")
    with db.engine.begin() as connection:
        for n, at in enumerate(["2026-01-05 10:00:00.250000", "2026-01-05 10:00:00", "2026-02-01 08:30:00"]):
            connection.execute(
                sa.text(
                    "INSERT INTO audit_events (at, user_id, attempted_email, action, entity_type, entity_id, details, address) "
                    "VALUES (:at, :user, '', 'view', 'session', :n, :details, '127.0.0.1')"
                ),
                {"at": at, "user": therapist.id, "n": n, "details": json.dumps({"n": n, "name": "Zoë"})},
            )
    upgrade(directory=MIGRATIONS)
    db.session.remove()
    code, output = verify(runner)
    assert code == 0 and "3 entries chained" in output, output
    audit.record(AuditAction.LOGOUT, user=db.session.get(User, therapist.id))  # the app goes on from there
    db.session.commit()
    assert "4 entries chained" in verify(runner)[1]


def test_chain_verification_reads_in_batches(db, therapist):
    chain_of(db, 7, therapist)
    report = audit.verify_chain(batch=3)
    assert report.ok and report.checked == 7


# --- PostgreSQL: the app's role may read and append to the audit log, nothing more -----------------------------

ROLES_SQL = Path(__file__).resolve().parent.parent / "deploy" / "postgres_roles.sql"


@pytest.fixture
def app_role(app, db, database_url):
    """The production role made by deploy/postgres_roles.sql on this test database (through psql, as the README
    says); its URL. Dropped afterwards, with every right it was given."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL roles")
    if shutil.which("psql") is None:
        pytest.skip("psql is not installed")
    role = f"knotwork_app_{uuid.uuid4().hex[:8]}"
    url = sa.engine.make_url(database_url)
    libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
    owner = url.username or "postgres"
    command = ["psql", "-X", "-q", "-v", f"owner={owner}", "-v", f"app={role}", "-v", "app_password=not-used-here"]
    result = subprocess.run([*command, "-d", libpq, "-f", str(ROLES_SQL)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    try:
        yield url.set(username=role)
    finally:
        with db.engine.begin() as connection:
            connection.execute(sa.text(f'DROP OWNED BY "{role}"'))
            connection.execute(sa.text(f'DROP ROLE "{role}"'))


def test_the_app_role_appends_and_reads_but_cannot_alter_the_log(app, db, therapist, app_role, runner):
    audit.record(AuditAction.LOGIN, user=therapist)
    db.session.commit()
    role_app = build_app(app_role.render_as_string(hide_password=False))
    with role_app.app_context():
        # The app works as this role: records are written, events appended to the chain and read back.
        user = db.session.get(User, therapist.id)
        make_client(user, full_name="Role Reed")
        audit.record(AuditAction.VIEW, user=user, details={"as": "app role"})
        db.session.commit()
        audit.record_read(AuditAction.VIEW, user=user, details={"as": "app role, without the ORM"})
        assert audit.verify_chain().checked == 3
        engine = db.engine
        refused = {}
        for statement in (
            "UPDATE audit_events SET action = 'logout'",
            "DELETE FROM audit_events",
            "TRUNCATE audit_events",
            "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only",
            "ALTER TABLE audit_events DISABLE TRIGGER ALL",
            "DROP TRIGGER audit_events_append_only ON audit_events",
            "DELETE FROM audit_chain_start",
            "INSERT INTO audit_chain_start (id, legacy_until_id) VALUES (2, 1000000)",
            "UPDATE alembic_version SET version_num = '0001'",
        ):
            with engine.connect() as connection:
                with pytest.raises(DBAPIError) as error:
                    connection.execute(sa.text(statement))
                refused[statement] = error.value.orig.sqlstate
        db.session.remove()
        engine.dispose()
    assert set(refused.values()) == {"42501"}, refused  # insufficient_privilege (or "must be owner")
    db.session.remove()
    assert [e.action for e in db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id))] == [
        "login",
        "view",
        "view",
    ]
    assert verify(runner)[0] == 0
