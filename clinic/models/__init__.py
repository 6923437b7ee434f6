"""All models, imported here so Alembic and the app see the whole schema."""

from clinic.models.appointment import Appointment, AppointmentStatus
from clinic.models.audit import AuditAction, AuditEvent
from clinic.models.client import Client, client_shares
from clinic.models.clinic import ClinicSettings
from clinic.models.draft import SessionDraft
from clinic.models.intake import Intake, IntakeLink, IntakeMiss
from clinic.models.treatment import OverloadCause, PointTreatment, Side, TreatmentSession
from clinic.models.user import LoginFailure, LoginSession, RecoveryCode, Role, User

__all__ = [
    "Appointment",
    "AppointmentStatus",
    "AuditAction",
    "AuditEvent",
    "Client",
    "ClinicSettings",
    "Intake",
    "IntakeLink",
    "IntakeMiss",
    "LoginFailure",
    "LoginSession",
    "OverloadCause",
    "PointTreatment",
    "RecoveryCode",
    "Role",
    "SessionDraft",
    "Side",
    "TreatmentSession",
    "User",
    "client_shares",
]
