"""Finding clients and changing them, each change written to the audit log (who may see a client: clinic.access)."""

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask_sqlalchemy.pagination import Pagination

from clinic import audit
from clinic.access import contains_text, name_has_words, visible_clients
from clinic.concurrency import check_version, editing
from clinic.db_types import utcnow
from clinic.extensions import db
from clinic.models import AuditAction, Client, Role, User
from clinic.models.client import notes_contraindications
from clinic.precautions import known

NULLABLE_FIELDS = {"consent_date"}


# Dates of birth as people type them: as the app shows them (12 Apr 1988), ISO, and the month spelled out.
DATE_FORMATS = ("%Y-%m-%d", "%d %b %Y", "%d %B %Y", "%b %d %Y", "%B %d %Y")
MIN_PHONE_DIGITS = 4  # fewer digits than this are more likely part of a name or a date than of a phone number


def search_clients(user: User, text: str = "", archived: bool = False) -> sa.Select:
    """The user's clients, active or archived, matching what was typed: every word of a name in any order,
    a date of birth (ISO or as the app shows it), part of a phone number (spaces, dashes and brackets ignored)
    or of an email address."""
    query = visible_clients(user).where(Client.archived_at.is_not(None) if archived else Client.archived_at.is_(None))
    condition = search_condition(text)
    if condition is not None:
        query = query.where(condition)
    return query.order_by(sa.func.lower(Client.full_name), Client.id)


@dataclass(frozen=True, slots=True)
class ListedClient:
    """A client as the client list shows them: the list reads these columns, not whole client rows with their
    health history and notes."""

    id: int
    full_name: str
    date_of_birth: date
    therapist_id: int
    therapist_name: str
    is_archived: bool
    contraindications_noted: bool  # contraindications written, or precautions ticked


def listed_clients(query: sa.Select, limit: int, offset: int = 0) -> list[ListedClient]:
    """One page of a `search_clients` query, each client with their therapist's name, in one statement."""
    rows = db.session.execute(
        query.with_only_columns(
            Client.id,
            Client.full_name,
            Client.date_of_birth,
            Client.therapist_id,
            User.name,
            Client.archived_at.is_not(None),
            Client.contraindications,
            Client.precautions,
            maintain_column_froms=False,
        )
        .join_from(Client, User, Client.therapist_id == User.id)
        .limit(limit)
        .offset(offset)
    )
    return [
        ListedClient(
            id,
            name,
            born,
            therapist_id,
            therapist,
            bool(archived),
            notes_contraindications(written) or bool(known(ticked)),
        )
        for id, name, born, therapist_id, therapist, archived, written, ticked in rows
    ]


class ClientListPage(Pagination):
    """A page of the client list (`query`: from `search_clients`), counted with a plain count of the matches."""

    def _query_items(self) -> list[ListedClient]:
        return listed_clients(self._query_args["query"], self.per_page, self._query_offset)

    def _query_count(self) -> int:
        query = self._query_args["query"]
        return db.session.scalar(query.with_only_columns(sa.func.count()).select_from(Client).order_by(None)) or 0


def search_condition(text: str):
    """What `search_clients` matches, as one SQL condition (None for an empty search)."""
    text = " ".join(text.split())
    if not text:
        return None
    conditions = []
    born = parse_birth_date(text)
    if born is not None:
        conditions.append(Client.date_of_birth == born)
    conditions.append(name_has_words(text.replace(",", " ").split()))
    if "@" in text or "." in text:
        conditions.append(contains_text(Client.email, text))
    digits = re.sub(r"\D", "", text)
    if len(digits) >= MIN_PHONE_DIGITS and re.fullmatch(r"[\d\s()+./-]+", text):
        conditions.append(_phone_digits(Client.phone).like(f"%{digits}%"))
    return sa.or_(*conditions)


def _phone_digits(column):
    """The phone column without the separators people type, so '555 0142' finds '(555) 01-42'."""
    for separator in (" ", "-", "(", ")", ".", "+", "/"):
        column = sa.func.replace(column, separator, "")
    return column


def parse_birth_date(text: str) -> date | None:
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def possible_duplicates(user: User, full_name: str, born: date | None, exclude_id: int | None = None) -> list[Client]:
    """Clients this user can see (archived too) with the same name, ignoring case and spacing, and the same
    date of birth. Only those the user may see: a warning must not reveal another therapist's client."""
    if not full_name or born is None:
        return []
    name = " ".join(full_name.split()).lower()
    query = visible_clients(user).where(
        Client.date_of_birth == born,
        sa.func.lower(sa.func.trim(Client.full_name)) == name,
    )
    if exclude_id is not None:
        query = query.where(Client.id != exclude_id)
    return list(db.session.scalars(query.order_by(Client.id)))


def therapists() -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User).where(User.role == Role.THERAPIST, User.active.is_(True)).order_by(User.name)
        )
    )


def create_client(data: dict[str, Any], therapist: User) -> Client:
    client = Client(therapist=therapist, **_editable(data))
    db.session.add(client)
    db.session.flush()
    audit.record(AuditAction.CREATE, client=client, details={"full_name": client.full_name})
    return client


def update_client(client: Client, data: dict[str, Any], version: str | None) -> dict[str, list]:
    """Apply the edit and audit each changed field as [old, new]. Raises StaleRecordError for a stale form."""
    check_version(client, version)
    with editing():
        changes = audit.apply_changes(client, _editable(data))
        if changes:
            audit.record(AuditAction.UPDATE, client=client, details={"changes": changes})
    return changes


def set_sharing(client: Client, therapist: User, shared_with: list[User]) -> dict[str, list]:
    changes = {}
    if client.therapist_id != therapist.id:
        changes["therapist"] = [client.therapist.email, therapist.email]
        client.therapist = therapist
    old_shared = sorted(user.email for user in client.shared_with)
    new_shared = sorted(user.email for user in shared_with if user.id != therapist.id)
    if old_shared != new_shared:
        changes["shared_with"] = [old_shared, new_shared]
        client.shared_with = [user for user in shared_with if user.id != therapist.id]
    if changes:
        audit.record(AuditAction.UPDATE, client=client, details={"changes": changes})
    db.session.flush()
    return changes


def archive_client(client: Client) -> None:
    if client.is_archived:
        return
    client.archived_at = utcnow()
    audit.record(AuditAction.ARCHIVE, client=client)
    db.session.flush()


def unarchive_client(client: Client) -> None:
    if not client.is_archived:
        return
    client.archived_at = None
    audit.record(AuditAction.UNARCHIVE, client=client)
    db.session.flush()


def record_view(client: Client, page: str = "") -> None:
    """Committed at once in a transaction of its own (audit.record_read): call only from a view that reads."""
    audit.record_read(AuditAction.VIEW, client=client, details={"page": page} if page else None)


def record_list_view(search: str, archived: bool, page: int, listed: list[int]) -> None:
    """One entry per list or search page served (names and dates of birth are on it), not per keystroke."""
    details: dict[str, Any] = {"clients": listed, "page": page}
    if search.strip():
        details["search"] = search[:200]
    if archived:
        details["archived"] = True
    audit.record_read(AuditAction.VIEW, entity_type="client list", details=details)


def _editable(data: dict[str, Any]) -> dict[str, Any]:
    values = {field: data[field] for field in Client.EDITABLE_FIELDS if field in data}
    if "precautions" in values:
        values["precautions"] = known(values["precautions"])  # the fixed list's order, so an edit compares equal
    # Optional text fields are stored as "" rather than NULL: one empty value, not two.
    return {field: ("" if value is None and field not in NULLABLE_FIELDS else value) for field, value in values.items()}
