"""Clients, their assigned therapist and the therapists they are shared with."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clinic.db_types import UTCDateTime, utcnow
from clinic.extensions import db
from clinic.models.user import User
from clinic.precautions import labels

client_shares = sa.Table(
    "client_shares",
    db.metadata,
    sa.Column("client_id", sa.ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)


# What people type in the contraindications field to say there are none.
NOTHING_KNOWN = {"none", "none known", "none known.", "none.", "n/a", "no", "nil"}


def notes_contraindications(text: str) -> bool:
    """Whether the contraindications field says something other than "none"."""
    return bool(text) and text.strip().lower() not in NOTHING_KNOWN


class Client(db.Model):
    __tablename__ = "clients"
    # The client list is ordered by the lower-cased name (clients.services.search_clients).
    __table_args__ = (sa.Index("ix_clients_lower_full_name", sa.func.lower(sa.text("full_name"))),)

    id: Mapped[int] = mapped_column(primary_key=True)
    full_name: Mapped[str] = mapped_column(sa.String(120), index=True)
    date_of_birth: Mapped[date] = mapped_column(sa.Date)
    phone: Mapped[str] = mapped_column(sa.String(40), default="")
    email: Mapped[str] = mapped_column(sa.String(254), default="")
    address: Mapped[str] = mapped_column(sa.String(255), default="")
    physician_name: Mapped[str] = mapped_column(sa.String(120), default="")
    physician_contact: Mapped[str] = mapped_column(sa.String(255), default="")
    health_history: Mapped[str] = mapped_column(sa.Text, default="")
    medications: Mapped[str] = mapped_column(sa.Text, default="")
    contraindications: Mapped[str] = mapped_column(sa.Text, default="")
    # Structured precautions (DESIGN 6a): ids from clinic.precautions, validated by the form. A JSON list rather
    # than a join table: a short fixed vocabulary, always read and written with the client, audited as one field.
    precautions: Mapped[list[str]] = mapped_column(sa.JSON, default=list, server_default="[]")
    consent_date: Mapped[date | None] = mapped_column(sa.Date)
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    therapist_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Optimistic locking: every UPDATE says "WHERE version = <what I read>", so two saves can't both win.
    version: Mapped[int] = mapped_column(server_default="1")
    __mapper_args__ = {"version_id_col": version}

    therapist: Mapped[User] = relationship(foreign_keys=[therapist_id])
    shared_with: Mapped[list[User]] = relationship(secondary=client_shares, order_by=User.name)

    # The fields a person edits; the audit log records old and new values of these.
    EDITABLE_FIELDS = (
        "full_name",
        "date_of_birth",
        "phone",
        "email",
        "address",
        "physician_name",
        "physician_contact",
        "health_history",
        "medications",
        "contraindications",
        "precautions",
        "consent_date",
        "notes",
    )

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @property
    def precaution_labels(self) -> list[str]:
        return labels(self.precautions)

    @property
    def has_contraindications(self) -> bool:
        return notes_contraindications(self.contraindications)

    def __repr__(self) -> str:
        return f"<Client {self.id} {self.full_name}>"
