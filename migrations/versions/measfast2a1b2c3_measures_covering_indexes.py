"""measures: the sessions', visits' and scores' indexes cover the page's figures; each
milestone row knows its course's latest session

The clinic measures page at 100,000 referrals spent most of its time on the range's sessions and
visits (read row by row from the heap after a bitmap index scan) and on joining the sessions to
every course the clinic ever had; the outcomes read every score of every referral (a merge join
over the whole assessment table). With INCLUDEd columns (PostgreSQL; SQLite has no INCLUDE
and keeps the indexes' keys) each reads its index alone, the scores one short probe per
referral of the range, and referral_milestone's new
last_session_on (kept by portal/measures/milestones.py, backfilled here) with its index narrows
the join to the courses with a session on or after the range's first day.

Revision ID: measfast2a1b2c3
Revises: capacity1a2b3c
Create Date: 2026-12-08 02:00:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'measfast2a1b2c3'
down_revision = 'capacity1a2b3c'
branch_labels = None
depends_on = None

SESSION_INCLUDE = ['modality', 'adverse_events', 'serious_adverse_events', 'rems_submitted_on']
APPOINTMENT_INCLUDE = ['modality', 'referral_id', 'status', 'updated_at']
ASSESSMENT_INCLUDE = ['is_baseline', 'taken_on', 'id', 'total']
MILESTONE_INCLUDE = ['course_id', 'patient_id', 'modality', 'practice_id', 'referrer_id']

BACKFILL = """
UPDATE referral_milestone SET last_session_on = (
    SELECT MAX(session_date) FROM treatment_session
    WHERE treatment_session.course_id = referral_milestone.course_id
)
WHERE course_id IS NOT NULL
"""


def _build(name, table, columns, include, *, replace):
    """On PostgreSQL: built CONCURRENTLY (the table stays writable while it builds) under a
    temporary name, then swapped in for the old index (`replace`), so the table is never
    without one."""
    temporary = f'{name}_new'
    op.execute(f'DROP INDEX CONCURRENTLY IF EXISTS {temporary}')  # a build cut short
    op.create_index(
        temporary, table, columns, unique=False, postgresql_include=include,
        postgresql_concurrently=True,
    )
    if replace:
        op.drop_index(name, table_name=table, postgresql_concurrently=True)
    op.execute(f'ALTER INDEX {temporary} RENAME TO {name}')


def upgrade():
    with op.batch_alter_table('referral_milestone') as batch:
        batch.add_column(sa.Column('last_session_on', sa.Date(), nullable=True))
    op.execute(BACKFILL)
    if op.get_bind().dialect.name != 'postgresql':
        # No INCLUDE on SQLite: the sessions' and visits' indexes stay as they are.
        op.create_index('ix_assessment_referral_scale', 'assessment', ['referral_id', 'scale'])
        op.create_index(
            'ix_referral_milestone_sessions', 'referral_milestone',
            ['clinic_id', 'last_session_on'],
        )
        return
    # CONCURRENTLY runs outside a transaction: what came before is committed first.
    with op.get_context().autocommit_block():
        _build('ix_treatment_session_date', 'treatment_session', ['session_date', 'course_id'],
               SESSION_INCLUDE, replace=True)
        _build('ix_appointment_clinic_day', 'appointment', ['clinic_id', 'day'],
               APPOINTMENT_INCLUDE, replace=True)
        _build('ix_assessment_referral_scale', 'assessment', ['referral_id', 'scale'],
               ASSESSMENT_INCLUDE, replace=False)
        _build('ix_referral_milestone_sessions', 'referral_milestone',
               ['clinic_id', 'last_session_on'], MILESTONE_INCLUDE, replace=False)
        # The backfill rewrote every milestone row: until VACUUM marks the pages all-visible
        # again, the index-only reads the measures rely on go back to the table.
        op.execute('VACUUM ANALYZE referral_milestone')


def downgrade():
    op.drop_index('ix_referral_milestone_sessions', table_name='referral_milestone')
    with op.batch_alter_table('referral_milestone') as batch:
        batch.drop_column('last_session_on')
    op.drop_index('ix_assessment_referral_scale', table_name='assessment')
    op.drop_index('ix_appointment_clinic_day', table_name='appointment')
    op.create_index('ix_appointment_clinic_day', 'appointment', ['clinic_id', 'day'], unique=False)
    op.drop_index('ix_treatment_session_date', table_name='treatment_session')
    op.create_index(
        'ix_treatment_session_date', 'treatment_session', ['session_date', 'course_id'],
        unique=False,
    )
