"""Column types shared by the models, and the one way to hold a lock until the transaction ends."""

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


def lock_until_commit(connection: sa.Connection, key: int, sqlite_table: str) -> None:
    """Serialize the transactions that take this lock, until each commits or rolls back. PostgreSQL: an advisory
    lock on `key` (a signed 64-bit number). SQLite has one writer at a time, but a SELECT alone does not start
    the write transaction: a write that touches no row of `sqlite_table` does, so what is read next is read
    under the write lock."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    else:
        connection.execute(sa.text(f"UPDATE {sqlite_table} SET id = id WHERE 0 = 1"))  # a table name of ours


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the zone, so we restore it)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def render_migration_item(type_: str, obj, _autogen_context):
    """Write UTCDateTime into migrations as a plain DateTime, so migrations never import app code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def one_of(column: str, enum) -> str:
    """SQL for a CHECK that a text column holds one of an enum's values."""
    return f"{column} IN ({', '.join(repr(member.value) for member in enum)})"
