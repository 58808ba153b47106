"""referral_milestone: one row per submitted referral with its milestones (received, first
decision, acceptance, first session, sessions done, end of induction, summary letter signed
and first opened, the latest decline or cancellation with its reason), kept in step by portal/measures/milestones.py after each flush; the
measures page reads a date range of it. Backfilled here from the timeline's events, the
courses, the sessions and the summary letters.

Revision ID: measures1a2b3c4d
Revises: i20s1a2b3c4d5
Create Date: 2026-12-07 20:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'measures1a2b3c4d'
down_revision = 'i20s1a2b3c4d5'
branch_labels = None
depends_on = None

# The same rows as portal.measures.milestones.source_query(), in SQL both databases run
# (written out so that the migration does not change when the application does).
BACKFILL = """
INSERT INTO referral_milestone (
    referral_id, clinic_id, patient_id, practice_id, referrer_id, state, urgency,
    requested_modality, modality, course_id, planned, received_at, decided_at, accepted_at,
    first_session_on, sessions_done, induction_end_on, summary_signed_at, opened_at, lost_at,
    lost_reason)
SELECT r.id, r.clinic_id, r.patient_id, r.practice_id, r.referrer_id, r.state, r.urgency,
    r.requested_modality, COALESCE(c.modality, r.requested_modality), c.id, c.planned_sessions,
    r.submitted_at, e.decided_at, e.accepted_at, s.first_session_on,
    COALESCE(s.sessions_done, 0), s.induction_end_on, l.summary_signed_at, l.opened_at,
    x.at, x.reason
FROM referral r
LEFT OUTER JOIN treatment_course c ON c.referral_id = r.id
LEFT OUTER JOIN (
    SELECT referral_id,
        MIN(CASE WHEN to_state IN ('needs_info', 'accepted', 'declined') THEN at END)
            AS decided_at,
        MIN(CASE WHEN to_state = 'accepted' THEN at END) AS accepted_at
    FROM referral_event WHERE kind = 'state_change' GROUP BY referral_id
) e ON e.referral_id = r.id
LEFT OUTER JOIN (
    SELECT course_id, MIN(session_date) AS first_session_on, COUNT(*) AS sessions_done,
        MAX(CASE WHEN k = planned THEN session_date END) AS induction_end_on
    FROM (
        SELECT ts.course_id, ts.session_date, tc.planned_sessions AS planned,
            ROW_NUMBER() OVER (PARTITION BY ts.course_id ORDER BY ts.session_date, ts.id) AS k
        FROM treatment_session ts JOIN treatment_course tc ON tc.id = ts.course_id
    ) numbered GROUP BY course_id
) s ON s.course_id = c.id
LEFT OUTER JOIN (
    SELECT referral_id, MIN(created_at) AS summary_signed_at,
        MIN(first_downloaded_at) AS opened_at
    FROM letter WHERE kind = 'treatment_summary' AND status IN ('final', 'superseded')
    GROUP BY referral_id
) l ON l.referral_id = r.id
LEFT OUTER JOIN (
    SELECT referral_id, at, reason,
        ROW_NUMBER() OVER (PARTITION BY referral_id ORDER BY at DESC, id DESC) AS rn
    FROM referral_event
    WHERE kind = 'state_change' AND to_state IN ('declined', 'cancelled')
) x ON x.referral_id = r.id AND x.rn = 1
WHERE r.submitted_at IS NOT NULL
"""


def upgrade():
    op.create_table(
        'referral_milestone',
        sa.Column('referral_id', sa.Integer(), nullable=False),
        sa.Column('clinic_id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=True),
        sa.Column('practice_id', sa.Integer(), nullable=True),
        sa.Column('referrer_id', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('urgency', sa.String(length=10), nullable=False),
        sa.Column('requested_modality', sa.String(length=20), nullable=False),
        sa.Column('modality', sa.String(length=20), nullable=False),
        sa.Column('course_id', sa.Integer(), nullable=True),
        sa.Column('planned', sa.Integer(), nullable=True),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('first_session_on', sa.Date(), nullable=True),
        sa.Column('sessions_done', sa.Integer(), nullable=False),
        sa.Column('induction_end_on', sa.Date(), nullable=True),
        sa.Column('summary_signed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('opened_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('lost_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('lost_reason', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ['referral_id'], ['referral.id'],
            name=op.f('fk_referral_milestone_referral_id_referral'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('referral_id', name=op.f('pk_referral_milestone')),
    )
    op.create_index(
        'ix_referral_milestone_received', 'referral_milestone', ['clinic_id', 'received_at'],
        unique=False,
    )
    op.execute(BACKFILL)


def downgrade():
    op.drop_index('ix_referral_milestone_received', table_name='referral_milestone')
    op.drop_table('referral_milestone')
