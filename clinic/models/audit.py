"""The append-only audit log."""

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clinic.db_types import UTCDateTime, one_of, utcnow
from clinic.extensions import db
from clinic.models.client import Client
from clinic.models.user import User


class AuditAction(StrEnum):
    LOGIN = "login"
    FAILED_LOGIN = "failed_login"
    LOGOUT = "logout"
    VIEW = "view"
    CREATE = "create"
    UPDATE = "update"
    ARCHIVE = "archive"
    UNARCHIVE = "unarchive"
    EXPORT = "export"


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (
        sa.CheckConstraint(one_of("action", AuditAction), name="action_valid"),
        # The log is read newest first, a page at a time (keyset on time and id), alone or per user or client.
        sa.Index("ix_audit_events_at_id", "at", "id"),
        sa.Index("ix_audit_events_user_at", "user_id", "at", "id"),
        sa.Index("ix_audit_events_client_at", "client_id", "at", "id"),
        # One record's history (the History card of a session, client or appointment page), oldest first.
        sa.Index("ix_audit_events_entity_at", "entity_type", "entity_id", "at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    # What was typed at a failed login, when it matches no account.
    attempted_email: Mapped[str] = mapped_column(sa.String(254), default="")
    action: Mapped[str] = mapped_column(sa.String(20), index=True)
    entity_type: Mapped[str] = mapped_column(sa.String(40), default="")
    entity_id: Mapped[int | None]
    client_id: Mapped[int | None] = mapped_column(sa.ForeignKey("clients.id"), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    address: Mapped[str] = mapped_column(sa.String(45), default="")

    user: Mapped[User | None] = relationship()
    client: Mapped[Client | None] = relationship()


class AppendOnlyError(RuntimeError):
    pass


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_change(_mapper, _connection, target: AuditEvent) -> None:
    raise AppendOnlyError(f"audit event {target.id} is append-only")
