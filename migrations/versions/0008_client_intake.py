"""client intake (DESIGN 11): one-time intake links (token hashes only), intakes, misses for the throttle

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 01:07:55.368945

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
# Chained after this branch's head (0005); the integrator renumbers and rechains it after the parallel
# branches' migrations (a branch point at 0003 would leave two heads and `flask db upgrade` would refuse).
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('intake_misses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=45), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intake_misses'))
    )
    with op.batch_alter_table('intake_misses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intake_misses_address'), ['address'], unique=False)
        batch_op.create_index(batch_op.f('ix_intake_misses_at'), ['at'], unique=False)

    op.create_table('intake_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('emailed_to', sa.String(length=254), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_intake_links_client_id_clients')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_intake_links_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intake_links')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_intake_links_token_hash'))
    )
    with op.batch_alter_table('intake_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intake_links_client_id'), ['client_id'], unique=False)

    op.create_table('intakes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('link_id', sa.Integer(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('regions', sa.JSON(), nullable=False),
    sa.Column('pain_now', sa.Integer(), nullable=False),
    sa.Column('pain_usual', sa.Integer(), nullable=False),
    sa.Column('pain_worst', sa.Integer(), nullable=False),
    sa.Column('psfs', sa.JSON(), nullable=False),
    sa.Column('stress', sa.Integer(), nullable=True),
    sa.Column('health_changes', sa.Text(), nullable=False),
    sa.Column('medications', sa.Text(), nullable=False),
    sa.Column('precautions', sa.JSON(), nullable=False),
    sa.Column('consent_name', sa.String(length=120), nullable=False),
    sa.Column('consent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('pain_now BETWEEN 0 AND 10', name=op.f('ck_intakes_pain_now_range')),
    sa.CheckConstraint('pain_usual BETWEEN 0 AND 10', name=op.f('ck_intakes_pain_usual_range')),
    sa.CheckConstraint('pain_worst BETWEEN 0 AND 10', name=op.f('ck_intakes_pain_worst_range')),
    sa.CheckConstraint('stress IS NULL OR stress BETWEEN 0 AND 10', name=op.f('ck_intakes_stress_range')),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_intakes_client_id_clients')),
    sa.ForeignKeyConstraint(['link_id'], ['intake_links.id'], name=op.f('fk_intakes_link_id_intake_links')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_intakes_reviewed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intakes')),
    sa.UniqueConstraint('link_id', name=op.f('uq_intakes_link_id'))
    )
    with op.batch_alter_table('intakes', schema=None) as batch_op:
        batch_op.create_index('ix_intakes_client_submitted', ['client_id', 'submitted_at'], unique=False)



def downgrade():
    with op.batch_alter_table('intakes', schema=None) as batch_op:
        batch_op.drop_index('ix_intakes_client_submitted')

    op.drop_table('intakes')
    with op.batch_alter_table('intake_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intake_links_client_id'))

    op.drop_table('intake_links')
    with op.batch_alter_table('intake_misses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intake_misses_at'))
        batch_op.drop_index(batch_op.f('ix_intake_misses_address'))

    op.drop_table('intake_misses')
