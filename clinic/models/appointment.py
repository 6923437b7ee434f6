"""An appointment in a therapist's book; the session logged from it is linked back to it."""

from datetime import datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clinic.db_types import UTCDateTime, one_of, utcnow
from clinic.extensions import db
from clinic.models.client import Client
from clinic.models.treatment import TreatmentSession
from clinic.models.user import User
from clinic.rules import APPOINTMENT_LENGTH_RANGE, APPOINTMENT_NOTE_MAX


class AppointmentStatus(StrEnum):
    BOOKED = "booked"
    ARRIVED = "arrived"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no-show"


# An appointment in one of these holds its time: it counts for double bookings and as a next visit.
HOLDS_TIME = (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED, AppointmentStatus.COMPLETED)
# A session can be logged from an appointment in one of these.
OPEN = (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED)


class Appointment(db.Model):
    __tablename__ = "appointments"
    __table_args__ = (
        sa.CheckConstraint(one_of("status", AppointmentStatus), name="status_valid"),
        sa.CheckConstraint(
            f"length_minutes BETWEEN {APPOINTMENT_LENGTH_RANGE[0]} AND {APPOINTMENT_LENGTH_RANGE[1]}",
            name="length_range",
        ),
        # A completed appointment is the one a session was logged from; only a completed one links a session.
        sa.CheckConstraint("session_id IS NULL OR status = 'completed'", name="session_only_when_completed"),
        sa.Index("ix_appointments_therapist_starts", "therapist_id", "starts_at"),
        sa.Index("ix_appointments_client_starts", "client_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id"))
    therapist_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    length_minutes: Mapped[int]
    status: Mapped[str] = mapped_column(sa.String(20), default=AppointmentStatus.BOOKED)
    note: Mapped[str] = mapped_column(sa.String(APPOINTMENT_NOTE_MAX), default="")
    session_id: Mapped[int | None] = mapped_column(sa.ForeignKey("treatment_sessions.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(server_default="1")
    __mapper_args__ = {"version_id_col": version}

    client: Mapped[Client] = relationship()
    therapist: Mapped[User] = relationship()
    session: Mapped[TreatmentSession | None] = relationship()

    EDITABLE_FIELDS = ("client_id", "therapist_id", "starts_at", "length_minutes", "status", "note")

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.length_minutes)

    @property
    def holds_time(self) -> bool:
        return self.status in HOLDS_TIME

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    def __repr__(self) -> str:
        return f"<Appointment {self.id} client={self.client_id} {self.starts_at:%Y-%m-%d %H:%M} {self.status}>"
