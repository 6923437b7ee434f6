"""client precautions (DESIGN 6a): a JSON list of precaution ids

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 00:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    # Existing clients get an empty list: nothing is assumed about them until a therapist ticks a precaution.
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('precautions', sa.JSON(), server_default='[]', nullable=False))


def downgrade():
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_column('precautions')
