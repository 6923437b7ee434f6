"""A session form's unsaved state, kept on the server while a therapist works (not in the browser: clinic
tablets are shared). One per user, client and form: "new" for a session being logged, the session id when one
is being edited. Only its owner ever reads it."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from clinic.db_types import UTCDateTime, utcnow
from clinic.extensions import db

NEW_SESSION = "new"


class SessionDraft(db.Model):
    __tablename__ = "session_drafts"
    __table_args__ = (sa.UniqueConstraint("user_id", "client_id", "scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    scope: Mapped[str] = mapped_column(sa.String(20))  # "new" or the edited session's id
    # The form's fields as sent: {"name": ["value", ...]}.
    fields: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
