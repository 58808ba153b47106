"""letter.include_all_sessions: a long course's letter lists every session in an appendix

Revision ID: letters1a2b3c4d
Revises: growth1a2b3c4d
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "letters1a2b3c4d"
down_revision = "growth1a2b3c4d"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("letter") as batch:
        batch.add_column(
            sa.Column(
                "include_all_sessions", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )


def downgrade():
    with op.batch_alter_table("letter") as batch:
        batch.drop_column("include_all_sessions")
