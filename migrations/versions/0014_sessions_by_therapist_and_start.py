"""sessions by therapist and start: the session form's "after the last session" time reads the therapist's latest
session today; by therapist alone that sorted all of their sessions (about 10,000 in a large clinic, ~2 ms a
form). The new index also serves every look-up by therapist alone, so it replaces that one.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-28 06:20:00

"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_treatment_sessions_therapist_started", "treatment_sessions", ["therapist_id", "started_at"], unique=False
    )
    op.drop_index("ix_treatment_sessions_therapist_id", table_name="treatment_sessions")


def downgrade():
    op.create_index("ix_treatment_sessions_therapist_id", "treatment_sessions", ["therapist_id"], unique=False)
    op.drop_index("ix_treatment_sessions_therapist_started", table_name="treatment_sessions")
