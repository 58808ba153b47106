"""referral.patient_reminders_opt_out: the patient asked for no appointment reminder emails

Revision ID: i18r1a2b3c4d5
Revises: audita1b2c3d4
Create Date: 2026-12-07 18:05:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i18r1a2b3c4d5'
down_revision = 'audita1b2c3d4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'patient_reminders_opt_out',
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
            )
        )


def downgrade():
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.drop_column('patient_reminders_opt_out')
