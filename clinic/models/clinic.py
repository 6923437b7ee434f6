"""The clinic's own details: a single row, edited by the owner."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from clinic.db_types import UTCDateTime, utcnow
from clinic.extensions import db


class ClinicSettings(db.Model):
    """The clinic itself: one row (id 1), edited by the owner, printed at the head of the physician summary."""

    __tablename__ = "clinic_settings"
    __table_args__ = (sa.CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False, default=1)
    name: Mapped[str] = mapped_column(sa.String(120), default="")
    address: Mapped[str] = mapped_column(sa.String(255), default="")
    phone: Mapped[str] = mapped_column(sa.String(40), default="")
    # Everyone must log in with a second factor; one without it is sent to set it up and reaches nothing else.
    require_two_factor: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    EDITABLE_FIELDS = ("name", "address", "phone")
