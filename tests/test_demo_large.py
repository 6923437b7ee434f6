"""`flask demo large`: a generated clinic for benchmarks (DESIGN 13), checked on a small run."""

import random
import re

import pytest
import sqlalchemy as sa

from clinic.audit import verify_chain
from clinic.demo_large import HEAVY_RANGE, session_counts
from clinic.kb import knowledge_base
from clinic.models import (
    Appointment,
    AuditAction,
    AuditEvent,
    Client,
    Intake,
    PointTreatment,
    Role,
    Side,
    TreatmentSession,
    User,
)
from tests.factories import make_client
from tests.helpers import login_fast

SMALL = ["demo", "large", "--therapists", "2", "--clients", "20", "--sessions", "300"]


def count(db, model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def printed(output: str, name: str) -> tuple[int, int, str]:
    found = re.search(rf"^{name}=(\d+) sessions=(\d+) therapist=(\S+)$", output, re.MULTILINE)
    assert found, output
    return int(found.group(1)), int(found.group(2)), found.group(3)


@pytest.fixture
def generated(runner, db):
    result = runner.invoke(args=SMALL)
    assert result.exit_code == 0, result.output + str(result.exception)
    return result.output


def test_small_run_makes_the_counts_asked_for(generated, db):
    assert count(db, Client) == 20
    assert count(db, TreatmentSession) == 300
    roles = db.session.execute(sa.select(User.role, sa.func.count()).group_by(User.role)).all()
    assert dict(roles) == {Role.ADMIN.value: 1, Role.THERAPIST.value: 2}
    points = count(db, PointTreatment)
    assert 3 * 300 <= points <= 9 * 300
    assert count(db, Appointment) > 0 and count(db, Intake) > 0
    assert "300 sessions" in generated and f"{points} treated points" in generated


def test_points_are_real_trigger_points_with_sides(generated, db):
    known = {point.point.id for point in knowledge_base().points()}
    rows = db.session.execute(sa.select(PointTreatment.trigger_point_id, PointTreatment.side)).all()
    assert {point_id for point_id, _ in rows} <= known
    assert {side for _, side in rows} <= {side.value for side in Side}
    assert len({point_id for point_id, _ in rows}) > 5


def test_session_counts_are_skewed_with_a_heavy_and_a_10_session_client(generated, db):
    per_client = dict(
        db.session.execute(
            sa.select(TreatmentSession.client_id, sa.func.count()).group_by(TreatmentSession.client_id)
        ).all()
    )
    heavy_id, heavy_sessions, heavy_email = printed(generated, "client_large")
    small_id, small_sessions, small_email = printed(generated, "client_10")
    assert per_client[heavy_id] == heavy_sessions == max(per_client.values()) >= 30
    assert per_client[small_id] == small_sessions == 10
    for client_id, email in ((heavy_id, heavy_email), (small_id, small_email)):
        assert db.session.get(Client, client_id).therapist.email == email


def test_large_run_sizes_three_clients_at_1000_to_1200_sessions():
    counts = session_counts(random.Random(1), 4000, 200_000)
    assert sum(counts) == 200_000 and len(counts) == 4000
    heavy = sorted(counts)[-3:]
    assert all(HEAVY_RANGE[0] <= sessions <= HEAVY_RANGE[1] for sessions in heavy)
    assert sorted(counts)[-4] < HEAVY_RANGE[0]
    assert 10 in counts
    assert counts == session_counts(random.Random(1), 4000, 200_000)  # deterministic for a seed


def test_audit_rows_have_the_shape_the_app_writes(generated, db):
    events = count(db, AuditEvent)
    assert events >= 3 * 300
    creates = db.session.execute(
        sa.select(AuditEvent.entity_id, AuditEvent.details, AuditEvent.client_id, AuditEvent.user_id).where(
            AuditEvent.action == AuditAction.CREATE, AuditEvent.entity_type == "session"
        )
    ).all()
    assert len(creates) == 300
    stored = dict(
        db.session.execute(
            sa.select(PointTreatment.session_id, sa.func.count()).group_by(PointTreatment.session_id)
        ).all()
    )
    sessions = {row.id: row for row in db.session.execute(sa.select(TreatmentSession.id, TreatmentSession.client_id))}
    for session_id, details, client_id, user_id in creates:
        assert details == {"points": stored[session_id]}
        assert client_id == sessions[session_id].client_id and user_id is not None
    # Numbered in time order, as the app's own inserts are.
    times = db.session.scalars(sa.select(AuditEvent.at).order_by(AuditEvent.id)).all()
    assert times == sorted(times)
    # Hash-chained as the app chains them: the generated log verifies end to end.
    report = verify_chain()
    assert report.ok and report.checked == events, report.reason


def test_completed_appointments_link_their_sessions(generated, db):
    linked = db.session.execute(
        sa.select(Appointment.client_id, TreatmentSession.client_id, Appointment.status).join(
            TreatmentSession, Appointment.session_id == TreatmentSession.id
        )
    ).all()
    assert linked and all(left == right and status == "completed" for left, right, status in linked)


def test_printed_logins_work_and_the_pages_read_the_data(generated, db, client):
    heavy_id, heavy_sessions, email = printed(generated, "client_large")
    password = re.search(rf"^{re.escape(email)} / (\S+)$", generated, re.MULTILINE).group(1)
    therapist = db.session.scalar(sa.select(User).where(User.email == email))
    assert therapist.check_password(password)
    login_fast(client, therapist)
    assert client.get(f"/clients/{heavy_id}").status_code == 200
    assert client.get(f"/clients/{heavy_id}/pain-history.json").status_code == 200
    assert client.get(f"/clients/{heavy_id}/summary").status_code == 200


def test_the_app_adds_records_after_a_generated_clinic(generated, db):
    """On PostgreSQL the sequences must have moved past the ids written explicitly."""
    therapist = db.session.scalar(sa.select(User).where(User.role == Role.THERAPIST).order_by(User.id))
    added = make_client(therapist)
    db.session.commit()
    assert added.id == 21


def test_refuses_a_database_that_is_not_empty(runner, db, therapist):
    result = runner.invoke(args=SMALL)
    assert result.exit_code == 1 and "not empty" in result.output
    assert count(db, User) == 1 and count(db, Client) == 0 and count(db, TreatmentSession) == 0


def test_refuses_in_production(runner, app, db):
    app.config["DEMO_DATA_ALLOWED"] = False
    result = runner.invoke(args=SMALL)
    assert result.exit_code == 1 and "not allowed in production" in result.output
    assert count(db, User) == 0
