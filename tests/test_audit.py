import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from clinic import audit
from clinic.models import AuditAction, AuditEvent
from clinic.models.audit import AppendOnlyError
from tests.factories import make_client


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
