"""login failures by device: a browser that has logged in to an account before is slowed only by its own failures

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28 04:55:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("device", sa.String(length=32), server_default="", nullable=False))
        batch_op.create_index(batch_op.f("ix_login_failures_device"), ["device"], unique=False)


def downgrade():
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_failures_device"))
        batch_op.drop_column("device")
