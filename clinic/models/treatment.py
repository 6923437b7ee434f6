"""A treatment session and the trigger points treated in it."""

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clinic.db_types import UTCDateTime, one_of, utcnow
from clinic.extensions import db
from clinic.models.client import Client
from clinic.models.user import User
from clinic.rules import (
    LENGTH_RANGE,
    PAIN_RANGE,
    PRESSURE_RANGE,
    VITAL_RANGES,
    pain_above_target,
    pressure_outside_advice,
)


class OverloadCause(StrEnum):
    ACUTE = "acute"
    SUSTAINED = "sustained"
    REPETITIVE = "repetitive"
    UNKNOWN = "unknown"


class Side(StrEnum):
    LEFT = "left"
    RIGHT = "right"
    BOTH = "both"


def _between(column: str, low: int, high: int, nullable: bool = False) -> str:
    check = f"{column} BETWEEN {low} AND {high}"
    return f"{column} IS NULL OR {check}" if nullable else check


VITALS = ("stress", "heart_rate", "systolic", "diastolic")


class TreatmentSession(db.Model):
    __tablename__ = "treatment_sessions"
    __table_args__ = (
        sa.CheckConstraint(_between("pain_before", *PAIN_RANGE), name="pain_before_range"),
        sa.CheckConstraint(_between("pain_after", *PAIN_RANGE), name="pain_after_range"),
        sa.CheckConstraint(_between("length_minutes", *LENGTH_RANGE), name="length_range"),
        sa.CheckConstraint(one_of("overload_cause", OverloadCause), name="overload_cause_valid"),
        *(
            sa.CheckConstraint(
                _between(f"{vital}_{when}", *VITAL_RANGES[vital], nullable=True), name=f"{vital}_{when}_range"
            )
            for vital in VITALS
            for when in ("before", "after")
        ),
        sa.Index("ix_treatment_sessions_client_started", "client_id", "started_at"),
        # a therapist's sessions by start (their latest today); serves a look-up by therapist alone too
        sa.Index("ix_treatment_sessions_therapist_started", "therapist_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id"))
    therapist_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    length_minutes: Mapped[int]
    pain_before: Mapped[int]
    pain_after: Mapped[int]
    pain_regions: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    stress_before: Mapped[int | None]
    stress_after: Mapped[int | None]
    heart_rate_before: Mapped[int | None]
    heart_rate_after: Mapped[int | None]
    systolic_before: Mapped[int | None]
    systolic_after: Mapped[int | None]
    diastolic_before: Mapped[int | None]
    diastolic_after: Mapped[int | None]
    overload_cause: Mapped[str] = mapped_column(sa.String(20), default=OverloadCause.UNKNOWN)
    subjective: Mapped[str] = mapped_column(sa.Text, default="")
    objective: Mapped[str] = mapped_column(sa.Text, default="")
    assessment: Mapped[str] = mapped_column(sa.Text, default="")
    plan: Mapped[str] = mapped_column(sa.Text, default="")
    # One per rendered form: a second submit of the same form finds the first session instead of adding one.
    submission_token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(server_default="1")
    __mapper_args__ = {"version_id_col": version}

    client: Mapped[Client] = relationship()
    therapist: Mapped[User] = relationship()
    points: Mapped[list["PointTreatment"]] = relationship(
        back_populates="session",
        cascade="all, delete-orphan",
        order_by="PointTreatment.position",
    )

    # What the audit log compares when a session is edited.
    EDITABLE_FIELDS = (
        "started_at",
        "length_minutes",
        "pain_before",
        "pain_after",
        "pain_regions",
        *(f"{vital}_{when}" for vital in VITALS for when in ("before", "after")),
        "overload_cause",
        "subjective",
        "objective",
        "assessment",
        "plan",
    )

    @property
    def pain_change(self) -> int:
        return self.pain_after - self.pain_before


class PointTreatment(db.Model):
    __tablename__ = "point_treatments"
    __table_args__ = (
        sa.CheckConstraint(_between("pressure_seconds", *PRESSURE_RANGE), name="pressure_range"),
        sa.CheckConstraint(_between("pain", *PAIN_RANGE), name="pain_range"),
        sa.CheckConstraint(one_of("side", Side), name="side_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("treatment_sessions.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    trigger_point_id: Mapped[str] = mapped_column(sa.String(80), index=True)
    side: Mapped[str] = mapped_column(sa.String(10))
    pressure_seconds: Mapped[int]
    pain: Mapped[int]
    release_felt: Mapped[bool] = mapped_column(default=False)
    local_twitch: Mapped[bool] = mapped_column(default=False)
    referral_reproduced: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str] = mapped_column(sa.Text, default="")

    session: Mapped[TreatmentSession] = relationship(back_populates="points")

    # What the tissue did, in the words records and exports use.
    RESPONSES = (
        ("release_felt", "release felt"),
        ("local_twitch", "local twitch"),
        ("referral_reproduced", "referral reproduced"),
    )

    @property
    def pressure_warning(self) -> bool:
        return pressure_outside_advice(self.pressure_seconds)

    @property
    def pain_warning(self) -> bool:
        return pain_above_target(self.pain)

    @property
    def responses(self) -> list[str]:
        return [label for field, label in self.RESPONSES if getattr(self, field)]

    def as_record(self) -> dict[str, Any]:
        """The point's values, as the audit log stores them."""
        return {
            "trigger_point": self.trigger_point_id,
            "side": self.side,
            "pressure_seconds": self.pressure_seconds,
            "pain": self.pain,
            "release_felt": self.release_felt,
            "local_twitch": self.local_twitch,
            "referral_reproduced": self.referral_reproduced,
            "note": self.note,
        }
