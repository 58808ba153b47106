"""measures: referrals received by a clinic in a date range, sessions by date

ix_referral_clinic_submitted: the measures' cohort (a clinic's referrals received between two
moments) read from the index instead of every referral of the clinic.
ix_treatment_session_date: sessions documented in a date range (no-shows, REMS, adverse
events).
ix_referral_event_milestones: each referral's first decision and acceptance read from the
index alone.

Revision ID: i19a1c3e5f701
Revises: 7b1d5e0c2f48
Create Date: 2026-12-07 17:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'i19a1c3e5f701'
down_revision = '7b1d5e0c2f48'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        'ix_referral_clinic_submitted', 'referral', ['clinic_id', 'submitted_at'], unique=False
    )
    op.create_index(
        'ix_treatment_session_date', 'treatment_session', ['session_date', 'course_id'],
        unique=False,
    )
    op.create_index(
        'ix_referral_event_milestones', 'referral_event', ['referral_id', 'kind', 'to_state', 'at'],
        unique=False,
    )


def downgrade():
    op.drop_index('ix_referral_event_milestones', table_name='referral_event')
    op.drop_index('ix_treatment_session_date', table_name='treatment_session')
    op.drop_index('ix_referral_clinic_submitted', table_name='referral')
