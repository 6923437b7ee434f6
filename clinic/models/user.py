"""Accounts: therapists and admins, and the per-address login failure log used for throttling."""

import contextlib
import secrets
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, validates

from clinic.db_types import UTCDateTime, one_of, utcnow
from clinic.extensions import db

_hasher = PasswordHasher()


class Role(StrEnum):
    ADMIN = "admin"
    THERAPIST = "therapist"


def new_session_token() -> str:
    return secrets.token_hex(16)


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (sa.CheckConstraint(one_of("role", Role), name="role_valid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased, which makes the unique constraint case-insensitive.
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    role: Mapped[str] = mapped_column(sa.String(20), default=Role.THERAPIST)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    active: Mapped[bool] = mapped_column(default=True)
    # Part of the login id: rotating it ends every session of this user (password reset, deactivation).
    session_token: Mapped[str] = mapped_column(sa.String(32), default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The private calendar feed: only the SHA-256 of its random token is kept (clinic.booking makes it).
    calendar_token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    calendar_token_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The therapist's professional profile, printed on the physician summary and in the FHIR Practitioner.
    credentials: Mapped[str] = mapped_column(sa.String(120), default="", server_default="")
    registration_number: Mapped[str] = mapped_column(sa.String(60), default="", server_default="")
    phone: Mapped[str] = mapped_column(sa.String(40), default="", server_default="")
    # Set when someone else chose the password (a new account, a reset by the owner or `flask users`): after
    # logging in, the person can reach only the page that changes it.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Two-factor login (clinic.two_factor): the TOTP secret once confirmed, and the last time step a code was
    # accepted for, so no code works twice.
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64))
    totp_last_counter: Mapped[int | None] = mapped_column(sa.BigInteger)
    two_factor_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # What a person edits on their own profile (and the owner on anyone's); audited as [old, new].
    PROFILE_FIELDS = ("name", "credentials", "registration_number", "phone")

    @validates("email")
    def _normalise_email(self, _key: str, value: str) -> str:
        return normalise_email(value)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def two_factor_enabled(self) -> bool:
        return self.totp_secret is not None

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def set_password(self, password: str) -> None:
        self.password_hash = _hasher.hash(password)
        self.session_token = new_session_token()

    def check_password(self, password: str) -> bool:
        try:
            return _hasher.verify(self.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


def normalise_email(value: str) -> str:
    return value.strip().lower()


def verify_dummy_password(password: str) -> None:
    """Spend the time a real check takes, so response times don't reveal which emails exist."""
    with contextlib.suppress(VerificationError):
        _hasher.verify(_DUMMY_HASH, password)


_DUMMY_HASH = _hasher.hash("not-a-real-password")


class LoginFailure(db.Model):
    """One failed login: counted over a window per typed email (whether or not an account has it, so
    the lock reveals nothing) and per address. Kept in the database so every worker sees the same count."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), index=True, server_default="")
    address: Mapped[str] = mapped_column(sa.String(45), index=True)
    # The browser's id when it had logged in to this account before (clinic.logins.known_device), else "".
    device: Mapped[str] = mapped_column(sa.String(32), index=True, default="", server_default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class RecoveryCode(db.Model):
    """A one-time code that stands in for the authenticator app; only a salted SHA-256 of it is kept."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    salt: Mapped[str] = mapped_column(sa.String(32))
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginSession(db.Model):
    """One login on one device (clinic.logins): its random key is in the signed session cookie, and a request
    whose key names no live row here is logged out. The person sees these at /account and can end any."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user_agent: Mapped[str] = mapped_column(sa.String(255), default="")
    address: Mapped[str] = mapped_column(sa.String(45), default="")
