"""`flask backup` and `flask restore` (clinic/backups.py): a copy made during a burst of saves holds every save
acknowledged before it began, whole, with a valid audit chain; a restore goes only into an empty database."""

import os
import threading
import time
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from clinic import audit
from clinic.backups import BackupError, backup, restore
from clinic.extensions import db as _db
from clinic.models import AuditEvent, Client, PointTreatment, TreatmentSession, User
from tests.conftest import build_app, throwaway_postgres_database
from tests.factories import make_client

THREADS = 3
BURST_SECONDS_MAX = 60  # a hang fails the test instead of stalling CI


@pytest.fixture
def empty_database(app, db, tmp_path):
    """A new, empty database on the same server as the test's: its URL. Dropped afterwards."""
    if db.engine.dialect.name == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    with throwaway_postgres_database("knotwork_restore", migrated=False) as url:
        yield url


def save_sessions(app, client_id: int, therapist_id: int, acknowledged: list, stop: threading.Event, errors: list):
    """A therapist saving sessions as fast as the database lets them, through the same service as the form."""
    from clinic.treatments.services import create_session

    try:
        with app.app_context():
            n = 0
            while not stop.is_set():
                client = _db.session.get(Client, client_id)
                therapist = _db.session.get(User, therapist_id)
                points = [
                    {"trigger_point_id": "upper-trapezius/1", "side": "right", "pressure_seconds": 60, "pain": 6},
                    {"trigger_point_id": "levator-scapulae/1", "side": "left", "pressure_seconds": 45, "pain": 5},
                ]
                values = {
                    "started_at": datetime(2026, 3, 1, 10, tzinfo=UTC),
                    "length_minutes": 60,
                    "pain_before": 6,
                    "pain_after": 3,
                    "pain_regions": ["temple"],
                    "points": points,
                }
                saved = create_session(client, therapist, f"burst-{threading.get_ident()}-{n}", values)
                _db.session.commit()
                acknowledged.append(saved.id)  # only once the commit has returned
                n += 1
            _db.session.remove()
    except BaseException as error:
        errors.append(error)


def test_backup_during_a_burst_of_saves_restores_every_acknowledged_record(
    app, db, therapist, runner, tmp_path, empty_database
):
    record = make_client(therapist)
    client_id, therapist_id = record.id, therapist.id
    acknowledged: list[int] = []
    errors: list[BaseException] = []
    stop = threading.Event()
    threads = [
        threading.Thread(
            target=save_sessions, args=(app, client_id, therapist_id, acknowledged, stop, errors), daemon=True
        )
        for _ in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + BURST_SECONDS_MAX
        while len(acknowledged) < 20 and time.monotonic() < deadline and not errors:
            time.sleep(0.01)
        assert not errors and len(acknowledged) >= 20, errors or "the burst did not get going"
        before = list(acknowledged)  # acknowledged before the backup began: the copy must hold each of them
        copy = tmp_path / "knotwork.backup"
        result = runner.invoke(args=["backup", str(copy)])
        during = len(acknowledged) - len(before)
        assert result.exit_code == 0, result.output
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=BURST_SECONDS_MAX)
    assert not any(thread.is_alive() for thread in threads), "a saving thread hung"
    assert errors == []
    assert oct(copy.stat().st_mode & 0o777) == "0o600"

    restored_app = build_app(empty_database)
    with restored_app.app_context():  # the command runs in the app context it finds
        result = restored_app.test_cli_runner().invoke(args=["restore", str(copy)])
        assert result.exit_code == 0, result.output
        stored = dict(
            _db.session.execute(
                sa.select(TreatmentSession.id, sa.func.count(PointTreatment.id))
                .join(PointTreatment)
                .group_by(TreatmentSession.id)
            )
            .tuples()
            .all()
        )
        created = set(
            _db.session.scalars(
                sa.select(AuditEvent.entity_id).where(
                    AuditEvent.action == "create", AuditEvent.entity_type == "session"
                )
            )
        )
        report = audit.verify_chain()
        _db.session.remove()
        _db.engine.dispose()
    missing = set(before) - set(stored)
    assert missing == set(), f"{len(missing)} acknowledged sessions missing from the copy"
    assert set(stored) <= set(acknowledged), "nothing in the copy that was not saved"
    assert set(stored.values()) == {2}, "every session whole, with both its points"
    assert created == set(stored), "each session with its audit entry, and no entry without its session"
    assert report.ok and report.checked == len(stored), report
    print(f"saved before the backup: {len(before)}, during it: {during}, in the copy: {len(stored)}")


def test_restore_refuses_a_database_that_is_not_empty(app, db, therapist, runner, tmp_path):
    make_client(therapist, full_name="Kept Keller")
    copy = tmp_path / "knotwork.backup"
    assert runner.invoke(args=["backup", str(copy)]).exit_code == 0
    result = runner.invoke(args=["restore", str(copy)])
    assert result.exit_code == 1 and "the database is not empty" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1
    with pytest.raises(BackupError, match="already exists"):
        backup(db.engine.url, copy)  # a backup never overwrites


def test_restore_refuses_what_is_not_a_backup(db, tmp_path, empty_database):
    junk = tmp_path / "junk.backup"
    junk.write_bytes(os.urandom(4096))
    with pytest.raises(BackupError):
        restore(empty_database, junk)


def test_copies_are_private_from_their_first_byte_whatever_the_umask(app, db, therapist, tmp_path, monkeypatch):
    """The copy is 0600 while it is being written (not only chmod-ed once finished), whatever the caller's umask."""
    from clinic import backups

    modes = []

    def watched(original):
        def run(*args, **kwargs):
            result = original(*args, **kwargs)
            modes.append(oct(target.stat().st_mode & 0o777))  # as written, before any chmod afterwards
            return result

        return run

    monkeypatch.setattr(backups, "_sqlite_backup", watched(backups._sqlite_backup))
    monkeypatch.setattr(backups, "_run", watched(backups._run))
    make_client(therapist)
    target = tmp_path / "private.backup"
    previous = os.umask(0o022)  # a shell that makes new files readable by everyone
    try:
        backup(db.engine.url, target)
    finally:
        assert os.umask(previous) == 0o022, "the caller's umask is given back"
    assert modes == ["0o600"]
