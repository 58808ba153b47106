"""referral: queue indexes (the open queue in its default order; counts per state)

ix_referral_open_queue: the open states only, urgent first then oldest first, so a page of
the default queue is read in order instead of sorting every open referral of the clinic.
ix_referral_clinic_state: a narrow index for the counts per state.

Revision ID: 7b1d5e0c2f48
Revises: 3c7e2a91d4b5
Create Date: 2026-11-25 06:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7b1d5e0c2f48'
down_revision = '3c7e2a91d4b5'
branch_labels = None
depends_on = None

# As the queue writes it (portal/referrals/models.py), so the planner matches it.
OPEN_STATES = (
    "state IN ('submitted', 'in_review', 'needs_info', 'accepted', 'scheduled', 'in_treatment')"
)


def upgrade():
    op.create_index(
        'ix_referral_open_queue',
        'referral',
        ['clinic_id', sa.text('urgency DESC'), 'submitted_at', 'id'],
        unique=False,
        postgresql_where=sa.text(OPEN_STATES),
        sqlite_where=sa.text(OPEN_STATES),
    )
    op.create_index('ix_referral_clinic_state', 'referral', ['clinic_id', 'state'], unique=False)


def downgrade():
    op.drop_index('ix_referral_clinic_state', table_name='referral')
    op.drop_index('ix_referral_open_queue', table_name='referral')
