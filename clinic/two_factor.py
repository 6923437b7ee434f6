"""Two-factor login with TOTP (RFC 6238, pyotp): enrolment with a QR code, codes that work once, recovery codes
kept only as salted SHA-256 hashes, and the owner's setting that requires it of everyone. The account feature
enrols and disables; the auth feature asks for the code at login."""

import hashlib
import hmac
import secrets
from functools import lru_cache

import pyotp
import segno
import sqlalchemy as sa

from clinic import audit, db_types
from clinic.extensions import db
from clinic.models import AuditAction, ClinicSettings, RecoveryCode, User
from clinic.rules import RECOVERY_CODES, TOTP_DIGITS, TOTP_VALID_WINDOW

ISSUER = "Knotwork"
# Recovery codes: 10 characters from an alphabet without look-alikes (0/o, 1/l/i), about 49 bits each.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_LENGTH = 10
QR_KEPT = 32  # enrolment QR codes kept per process (see qr_data_uri)


def new_secret() -> str:
    return pyotp.random_base32()  # 160 bits, as RFC 4226 recommends


def provisioning_uri(secret: str, user: User) -> str:
    return pyotp.TOTP(secret, digits=TOTP_DIGITS).provisioning_uri(name=user.email, issuer_name=ISSUER)


@lru_cache(maxsize=QR_KEPT)
def qr_data_uri(uri: str) -> str:
    """The enrolment QR code as an SVG data URI (CSP img-src allows data:, so no inline script or style). Kept for
    the last QR_KEPT addresses in this process: the page shows the same secret again until it is confirmed (a
    reload, a mistyped code), and making the code costs ~10 ms (segno scores eight masks). Only secrets being set up
    are kept: `enable` empties the cache once one becomes a live second factor."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, dark="#000", light="#fff", border=4)


def grouped(secret: str) -> str:
    """The secret in groups of four, easier to type into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _clean(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def looks_like_totp(code: str) -> bool:
    cleaned = _clean(code)
    return len(cleaned) == TOTP_DIGITS and cleaned.isdigit()


def matching_counter(secret: str, code: str, after: int | None = None) -> int | None:
    """The time step whose code this is (now, or one step either side), if later than `after`; else None."""
    cleaned = _clean(code)
    if len(cleaned) != TOTP_DIGITS or not cleaned.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=TOTP_DIGITS)
    current = totp.timecode(db_types.utcnow())
    for counter in range(current - TOTP_VALID_WINDOW, current + TOTP_VALID_WINDOW + 1):
        if after is not None and counter <= after:
            continue
        if hmac.compare_digest(totp.generate_otp(counter), cleaned):
            return counter
    return None


def check_code(user: User, code: str) -> bool:
    """A code from the person's app, accepted once: the step is claimed with a conditional update, so the same
    code sent twice (even at the same moment, to two workers) works only the first time."""
    if user.totp_secret is None:
        return False
    counter = matching_counter(user.totp_secret, code, after=user.totp_last_counter)
    if counter is None:
        return False
    claimed = db.session.execute(
        sa.update(User)
        .where(
            User.id == user.id,
            sa.or_(User.totp_last_counter.is_(None), User.totp_last_counter < counter),
        )
        .values(totp_last_counter=counter)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        return False
    user.totp_last_counter = counter
    return True


def _hash(salt: str, code: str) -> str:
    return hashlib.sha256(f"{salt}:{_clean(code)}".encode()).hexdigest()


def new_recovery_codes(user: User) -> list[str]:
    """Ten fresh codes (the old ones stop working), returned once to be shown once; only hashes are stored."""
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
        salt = secrets.token_hex(16)
        db.session.add(RecoveryCode(user_id=user.id, salt=salt, code_hash=_hash(salt, raw)))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    db.session.flush()
    return codes


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )


def redeem_recovery_code(user: User, code: str) -> bool:
    """True once for each recovery code: it is marked used with a conditional update, and audited."""
    cleaned = _clean(code)
    if len(cleaned) != RECOVERY_LENGTH:
        return False
    unused = db.session.scalars(
        sa.select(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )
    for stored in unused:
        if hmac.compare_digest(stored.code_hash, _hash(stored.salt, cleaned)):
            claimed = db.session.execute(
                sa.update(RecoveryCode)
                .where(RecoveryCode.id == stored.id, RecoveryCode.used_at.is_(None))
                .values(used_at=db_types.utcnow())
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount != 1:
                return False
            db.session.expire(stored)
            audit.record(
                AuditAction.UPDATE,
                user=user,
                entity_type="user",
                entity_id=user.id,
                details={"changes": {"recovery_code": "used"}, "recovery_codes_left": recovery_codes_left(user)},
            )
            return True
    return False


def enable(user: User, secret: str, code: str) -> list[str] | None:
    """Turn two-factor login on once the person proves their app has the secret; returns the recovery codes."""
    counter = matching_counter(secret, code)
    if counter is None:
        return None
    user.totp_secret = secret
    qr_data_uri.cache_clear()  # the cache keys hold secrets: none may stay in memory once it is a live factor
    user.totp_last_counter = counter  # the confirming code does not work again at login
    user.two_factor_enabled_at = db_types.utcnow()
    codes = new_recovery_codes(user)
    audit.record(
        AuditAction.UPDATE, entity_type="user", entity_id=user.id, details={"changes": {"two_factor": ["off", "on"]}}
    )
    db.session.flush()
    return codes


def disable(user: User) -> None:
    user.totp_secret = None
    user.totp_last_counter = None
    user.two_factor_enabled_at = None
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    audit.record(
        AuditAction.UPDATE, entity_type="user", entity_id=user.id, details={"changes": {"two_factor": ["on", "off"]}}
    )
    db.session.flush()


def required() -> bool:
    """The owner's clinic-wide setting: everyone must log in with a second factor."""
    settings = db.session.get(ClinicSettings, 1)
    return bool(settings and settings.require_two_factor)


def set_required(value: bool) -> bool:
    """Change the clinic-wide setting (audited); False when it already had this value."""
    settings = db.session.get(ClinicSettings, 1)
    if settings is None:
        settings = ClinicSettings(id=1, name="", address="", phone="")
        db.session.add(settings)
    if bool(settings.require_two_factor) == value:
        return False
    settings.require_two_factor = value
    db.session.flush()
    audit.record(
        AuditAction.UPDATE,
        entity_type="clinic",
        entity_id=1,
        details={"changes": {"require_two_factor": [not value, value]}},
    )
    return True


def audit_new_codes(user: User) -> None:
    audit.record(
        AuditAction.UPDATE, entity_type="user", entity_id=user.id, details={"changes": {"recovery_codes": "renewed"}}
    )
