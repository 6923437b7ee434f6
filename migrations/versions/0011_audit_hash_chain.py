"""audit log hash chain: prev_hash and hash on every event (existing events chained in id order), action 'denied'

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 03:20:00

"""
import hashlib
import json
from datetime import UTC

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

OLD_ACTIONS = ('login', 'failed_login', 'logout', 'view', 'create', 'update', 'archive', 'unarchive', 'export')
NEW_ACTIONS = OLD_ACTIONS + ('denied',)
GENESIS_HASH = "0" * 64
# A copy of clinic.models.audit.event_hash as it is at this revision (migrations never import app code);
# tests/test_audit.py checks that `flask audit verify` accepts a chain made here.
HASHED_FIELDS = ("id", "at", "user_id", "attempted_email", "action", "entity_type", "entity_id", "client_id", "details", "address")


def _event_hash(fields, prev_hash):
    values = {name: fields[name] for name in HASHED_FIELDS}
    at = values["at"]
    if isinstance(at, str):  # SQLite, read without the column type
        from datetime import datetime
        at = datetime.fromisoformat(at)
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    values["at"] = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(values["details"], str):
        values["details"] = json.loads(values["details"])
    values["prev_hash"] = prev_hash
    text = json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _check(actions):
    return "action IN (" + ", ".join(f"'{action}'" for action in actions) + ")"


def upgrade():
    op.create_table('audit_chain_start',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('legacy_until_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain_start'))
    )
    drop_audit_append_only_guard()
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))
        batch_op.drop_constraint(batch_op.f('ck_audit_events_action_valid'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_audit_events_action_valid'), _check(NEW_ACTIONS))

    # Chain the events already there, oldest id first. Their times were taken without a lock and may be out of
    # order by a few seconds: audit_chain_start says up to which id, so that verify checks times only after it.
    connection = op.get_bind()
    table = sa.table(
        'audit_events',
        *(sa.column(name) for name in HASHED_FIELDS),
        sa.column('prev_hash'),
        sa.column('hash'),
    )
    prev = GENESIS_HASH
    rows = connection.execute(sa.select(*(table.c[name] for name in HASHED_FIELDS)).order_by(table.c.id)).mappings().all()
    for row in rows:
        digest = _event_hash(dict(row), prev)
        connection.execute(
            table.update().where(table.c.id == row["id"]).values(prev_hash=prev, hash=digest)
        )
        prev = digest
    if rows:
        connection.execute(sa.text("INSERT INTO audit_chain_start (id, legacy_until_id) VALUES (1, :id)"), {"id": rows[-1]["id"]})

    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=False)
    create_audit_append_only_guard()


def downgrade():
    drop_audit_append_only_guard()
    # Entries of 'denied' are never deleted: when there are any, the check keeps allowing them.
    denied = op.get_bind().execute(sa.text("SELECT count(*) FROM audit_events WHERE action = 'denied'")).scalar()
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_audit_events_action_valid'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_audit_events_action_valid'), _check(NEW_ACTIONS if denied else OLD_ACTIONS))
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
    create_audit_append_only_guard()
    op.drop_table('audit_chain_start')


# As in 0001: the audit log is append-only in the database itself. Dropped while the chain is filled in (and on
# SQLite while the table is rebuilt, which would drop them anyway), then made again.
def create_audit_append_only_guard():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'audit_events is append-only';
            END;
            $$ LANGUAGE plpgsql
        """)
        op.execute("""
            CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
            FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()
        """)
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(f"""
                CREATE TRIGGER audit_events_no_{event.lower()} BEFORE {event} ON audit_events
                BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END
            """)


def drop_audit_append_only_guard():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
    else:
        for event in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS audit_events_no_{event}")
