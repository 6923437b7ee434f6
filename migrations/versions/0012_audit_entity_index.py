"""audit index for one record's history: the History card reads a record's events by entity type and id, oldest
first (without it every session page scanned the audit log)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28 03:55:00

"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_audit_events_entity_at", "audit_events", ["entity_type", "entity_id", "at", "id"], unique=False)


def downgrade():
    op.drop_index("ix_audit_events_entity_at", table_name="audit_events")
