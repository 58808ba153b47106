"""treatment_session.infusion_started_at: when an IV infusion began (its lot number goes in the
existing lot_number column)

Revision ID: i17c3e0c0ffee
Revises: i17b2d0c0ffee
Create Date: 2026-12-07 17:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i17c3e0c0ffee'
down_revision = 'i17b2d0c0ffee'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('treatment_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('infusion_started_at', sa.Time(), nullable=True))


def downgrade():
    with op.batch_alter_table('treatment_session', schema=None) as batch_op:
        batch_op.drop_column('infusion_started_at')
