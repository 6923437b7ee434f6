"""Making intake links, storing what a client sends, and taking the changes a client reported into the
record. Each flushes and writes the audit log; the view commits."""

import smtplib
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import sqlalchemy as sa
from flask import current_app

from clinic.audit import apply_changes, record, record_read
from clinic.clock import clinic_today
from clinic.db_types import utcnow
from clinic.extensions import db
from clinic.intakes import first_name, new_token, token_hash
from clinic.models import AuditAction, Client, Intake, IntakeLink, User
from clinic.precautions import PRECAUTIONS, known
from clinic.rules import INTAKE_LINK_HOURS, INTAKE_TOKEN_BYTES


class LinkAlreadyUsed(Exception):
    """Another request used the link first (two submits at once)."""


def make_link(client: Client, user: User) -> tuple[IntakeLink, str]:
    """A new one-time link; the token is returned once and only its hash is kept."""
    token = new_token(INTAKE_TOKEN_BYTES)
    now = utcnow()
    link = IntakeLink(
        client=client,
        created_by=user,
        token_hash=token_hash(token),
        created_at=now,
        expires_at=now + timedelta(hours=INTAKE_LINK_HOURS),
    )
    db.session.add(link)
    db.session.flush()
    record(
        AuditAction.CREATE,
        client=client,
        entity_type="intake_link",
        entity_id=link.id,
        details={"expires_at": link.expires_at.isoformat()},
    )
    return link, token


def mail_configured() -> bool:
    return bool(current_app.config.get("MAIL_SERVER"))


def email_link(link: IntakeLink, to: str, url: str) -> None:
    """Send the link by SMTP (only when MAIL_SERVER is set). The message carries the first name and the link:
    no health data. Raises OSError/SMTPException when the server refuses; the view says so."""
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = "Your form before your next massage therapy visit"
    hours = INTAKE_LINK_HOURS
    message.set_content(
        f"Hello {first_name(link.client)},\n\n"
        "Before your next visit, please tell us where it hurts and how you are doing:\n\n"
        f"{url}\n\n"
        f"The link works once and for {hours} hours. If you did not expect this message, ignore it.\n"
    )
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10) as smtp:
        if config["MAIL_USE_TLS"]:
            smtp.starttls()
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(message)
    link.emailed_to = to
    record(
        AuditAction.EXPORT,
        client=link.client,
        entity_type="intake_link",
        entity_id=link.id,
        details={"emailed_to": to},
    )


def record_link_opened(link: IntakeLink) -> None:
    """The client opened the form (no user: the link is the only credential)."""
    record(
        AuditAction.VIEW,
        client=link.client,
        entity_type="intake_link",
        entity_id=link.id,
        details={"by": "client"},
    )


def store_intake(link: IntakeLink, values: dict[str, Any]) -> Intake:
    """Store the client's answers and spend the link, at most once however many submits race."""
    now = utcnow()
    spent = db.session.execute(
        sa.update(IntakeLink)
        .where(IntakeLink.id == link.id, IntakeLink.used_at.is_(None), IntakeLink.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:
        raise LinkAlreadyUsed()
    intake = Intake(client_id=link.client_id, link_id=link.id, submitted_at=now, consent_at=now, **values)
    db.session.add(intake)
    db.session.flush()
    record(
        AuditAction.CREATE,
        client=link.client,
        entity_type="intake",
        entity_id=intake.id,
        details={"link_id": link.id, "by": "client", "consent_name": intake.consent_name},
    )
    return intake


def record_intake_view(intake: Intake) -> None:
    """Committed at once in a transaction of its own (audit.record_read): call only from a view that reads."""
    record_read(AuditAction.VIEW, client=intake.client, entity_type="intake", entity_id=intake.id)


def change_choices(intake: Intake) -> list[tuple[str, str]]:
    """What of the intake could go into the client record, as (value, label) for the review form."""
    choices = []
    if intake.health_changes.strip():
        choices.append(("health", "Add the health changes to the health history"))
    if intake.medications.strip():
        choices.append(("medications", "Add the medication changes to the medications"))
    for precaution in known(intake.precautions):
        choices.append((f"precaution:{precaution}", f"Add the precaution: {PRECAUTIONS[precaution]}"))
    return choices


def _appended(existing: str, addition: str) -> str:
    note = f"{clinic_today().isoformat()} (from the client's intake): {addition.strip()}"
    return f"{existing.rstrip()}\n\n{note}" if existing.strip() else note


def review_intake(intake: Intake, accepted: list[str], user: User) -> dict[str, list]:
    """Take the accepted changes into the client record (appended, never overwriting) and mark the intake
    reviewed. Returns the changes made, as the audit log records them."""
    client = intake.client
    offered = {value for value, _ in change_choices(intake)}
    accepted = [value for value in accepted if value in offered]
    values: dict[str, Any] = {}
    if "health" in accepted:
        values["health_history"] = _appended(client.health_history, intake.health_changes)
    if "medications" in accepted:
        values["medications"] = _appended(client.medications, intake.medications)
    added = [value.split(":", 1)[1] for value in accepted if value.startswith("precaution:")]
    if added:
        values["precautions"] = known([*client.precautions, *added])
    changes = apply_changes(client, values)
    intake.reviewed_at = utcnow()
    intake.reviewed_by = user
    db.session.flush()
    record(
        AuditAction.UPDATE,
        client=client,
        details={
            "changes": changes,
            "from_intake": intake.id,
            "accepted": accepted,
            "declined": sorted(offered - set(accepted)),
        },
    )
    return changes
