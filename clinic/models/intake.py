"""A client's intake before a visit: the one-time link the therapist makes and what the client sends through it."""

from datetime import datetime
from statistics import fmean
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clinic.db_types import UTCDateTime, utcnow
from clinic.extensions import db
from clinic.models.client import Client
from clinic.models.user import User
from clinic.rules import PAIN_RANGE


def _pain_check(column: str, nullable: bool = False) -> str:
    check = f"{column} BETWEEN {PAIN_RANGE[0]} AND {PAIN_RANGE[1]}"
    return f"{column} IS NULL OR {check}" if nullable else check


class IntakeLink(db.Model):
    """A one-time link. Only the SHA-256 of its token is stored: the token itself is shown once, to the
    therapist who made it, and is never written anywhere."""

    __tablename__ = "intake_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    emailed_to: Mapped[str] = mapped_column(sa.String(254), default="")

    client: Mapped[Client] = relationship()
    created_by: Mapped[User] = relationship()

    def usable(self, now: datetime) -> bool:
        return self.used_at is None and now < self.expires_at


class Intake(db.Model):
    """What the client sent. Read-only once stored; the therapist accepts parts of it into the client record."""

    __tablename__ = "intakes"
    __table_args__ = (
        sa.CheckConstraint(_pain_check("pain_now"), name="pain_now_range"),
        sa.CheckConstraint(_pain_check("pain_usual"), name="pain_usual_range"),
        sa.CheckConstraint(_pain_check("pain_worst"), name="pain_worst_range"),
        sa.CheckConstraint(_pain_check("stress", nullable=True), name="stress_range"),
        sa.Index("ix_intakes_client_submitted", "client_id", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id"))
    link_id: Mapped[int] = mapped_column(sa.ForeignKey("intake_links.id"), unique=True)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # [{"region": "<region id>", "side": "left|right|both", "intensity": 0-10}], in the order of the region list
    regions: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    pain_now: Mapped[int]
    pain_usual: Mapped[int]
    pain_worst: Mapped[int]
    # [{"activity": "...", "score": 0-10}]: up to three, 10 = able to do it as before
    psfs: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    stress: Mapped[int | None]
    health_changes: Mapped[str] = mapped_column(sa.Text, default="")
    medications: Mapped[str] = mapped_column(sa.Text, default="")
    # Precaution ids (clinic.precautions) the client says are new since the last visit.
    precautions: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    consent_name: Mapped[str] = mapped_column(sa.String(120))
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The therapist's review of the changes the client reported (accepted into the record or not).
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    client: Mapped[Client] = relationship()
    link: Mapped[IntakeLink] = relationship()
    reviewed_by: Mapped[User | None] = relationship()

    @property
    def psfs_scores(self) -> list[int]:
        return [item["score"] for item in self.psfs]

    @property
    def psfs_mean(self) -> float | None:
        scores = self.psfs_scores
        return round(fmean(scores), 1) if scores else None

    @property
    def has_changes(self) -> bool:
        return bool(self.health_changes.strip() or self.medications.strip() or self.precautions)


class IntakeMiss(db.Model):
    """An intake URL with a token that names no usable link, per address: counted over a window so token
    guessing is refused. In the database so every worker sees the same count."""

    __tablename__ = "intake_misses"

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(sa.String(45), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
