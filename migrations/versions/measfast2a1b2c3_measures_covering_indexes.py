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


def _build(name, table, columns, include):
    """On PostgreSQL: built CONCURRENTLY (the table stays writable while it builds) under a
    temporary name, then swapped in for the index of that name if there is one, so the table
    is never without one. Can be run again after a failure at any step: an index whose build
    was cut short (left invalid) is built again, a finished one is swapped in."""
    temporary = f'{name}_new'
    if not _valid(temporary):
        op.execute(f'DROP INDEX CONCURRENTLY IF EXISTS {temporary}')
        op.create_index(
            temporary, table, columns, unique=False, postgresql_include=include,
            postgresql_concurrently=True,
        )
    op.execute(f'DROP INDEX CONCURRENTLY IF EXISTS {name}')
    op.execute(f'ALTER INDEX {temporary} RENAME TO {name}')


def _valid(index):
    """True for a usable index, False for one left by a cut-short build, None if none."""
    return op.get_bind().execute(
        sa.text('SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(:i)'),
        {'i': index},
    ).scalar()


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        # No INCLUDE on SQLite: the sessions' and visits' indexes stay as they are.
        with op.batch_alter_table('referral_milestone') as batch:
            batch.add_column(sa.Column('last_session_on', sa.Date(), nullable=True))
        op.execute(BACKFILL)
        op.create_index('ix_assessment_referral_scale', 'assessment', ['referral_id', 'scale'])
        op.create_index(
            'ix_referral_milestone_sessions', 'referral_milestone',
            ['clinic_id', 'last_session_on'],
        )
        return
    # Outside a transaction (CONCURRENTLY needs it; what came before is committed first), each
    # statement commits on its own: adding the nullable column locks the table for a moment
    # only, and the fill takes row locks, not the table's. Run it with the previous version
    # stopped (scripts/serve migrates before it starts the portal): the old code would write
    # milestone rows without last_session_on.
    with op.get_context().autocommit_block():
        op.execute('ALTER TABLE referral_milestone ADD COLUMN IF NOT EXISTS last_session_on DATE')
        op.execute(BACKFILL)
        _build('ix_treatment_session_date', 'treatment_session', ['session_date', 'course_id'],
               SESSION_INCLUDE)
        _build('ix_appointment_clinic_day', 'appointment', ['clinic_id', 'day'],
               APPOINTMENT_INCLUDE)
        _build('ix_assessment_referral_scale', 'assessment', ['referral_id', 'scale'],
               ASSESSMENT_INCLUDE)
        _build('ix_referral_milestone_sessions', 'referral_milestone',
               ['clinic_id', 'last_session_on'], MILESTONE_INCLUDE)
        # The fill rewrote every milestone row: until VACUUM marks the pages all-visible
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
