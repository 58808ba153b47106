"""coordinators' queue: ix_referral_queue covers the counts and the page's ids

The queue's counts per state (with how many need action) and its default page (needs action,
urgent first) read a clinic's referrals by clinic and state and test each one's urgency,
submission, first decision and coordinator. With the first decision and the coordinator
INCLUDEd in ix_referral_queue (PostgreSQL), both statements read the index alone (an
index-only scan) instead of every referral row of the clinic: 10,000 referrals, the counts
10 -> 4 ms, the page's ids 6 -> 4 ms (bench/load/request_costs.py's database). SQLite has no
INCLUDE: the index there stays as it was.

On PostgreSQL the new index is built CONCURRENTLY under another name, then swapped in, so a
running clinic's referrals stay writable while it builds and the queue never goes without an
index (CONCURRENTLY runs outside a transaction: the migrations before it are committed first).

Revision ID: capacity1a2b3c
Revises: fixletters1a2b
Create Date: 2026-12-07 23:20:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'capacity1a2b3c'
down_revision = 'fixletters1a2b'
branch_labels = None
depends_on = None

COLUMNS = ['clinic_id', 'state', 'urgency', 'submitted_at', 'id']


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return  # no INCLUDE on SQLite: the index stays as it was
    built = op.get_bind().execute(
        sa.text("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(:i)"),
        {'i': 'ix_referral_queue_new'},
    ).scalar()
    with op.get_context().autocommit_block():
        if not built:  # none yet, or a build cut short (left invalid): build it (again)
            op.execute('DROP INDEX CONCURRENTLY IF EXISTS ix_referral_queue_new')
            op.create_index(
                'ix_referral_queue_new', 'referral', COLUMNS, unique=False,
                postgresql_include=['first_decided_at', 'assigned_coordinator_id'],
                postgresql_concurrently=True,
            )
        op.execute('DROP INDEX CONCURRENTLY IF EXISTS ix_referral_queue')
        op.execute('ALTER INDEX ix_referral_queue_new RENAME TO ix_referral_queue')


def downgrade():
    op.drop_index('ix_referral_queue', table_name='referral')
    op.create_index('ix_referral_queue', 'referral', COLUMNS, unique=False)
