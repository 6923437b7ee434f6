"""indexes for a large clinic: the audit log read newest first (by time and id, alone or per user or client)
and the client list ordered by the lower-cased name (a functional index, on SQLite and PostgreSQL)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 03:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_at_id', ['at', 'id'], unique=False)
        batch_op.create_index('ix_audit_events_user_at', ['user_id', 'at', 'id'], unique=False)
        batch_op.create_index('ix_audit_events_client_at', ['client_id', 'at', 'id'], unique=False)
    op.create_index('ix_clients_lower_full_name', 'clients', [sa.text('lower(full_name)')], unique=False)


def downgrade():
    op.drop_index('ix_clients_lower_full_name', table_name='clients')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_client_at')
        batch_op.drop_index('ix_audit_events_user_at')
        batch_op.drop_index('ix_audit_events_at_id')
