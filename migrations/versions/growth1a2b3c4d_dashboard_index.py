"""referrer's dashboard: a provider's referrals, latest change first

ix_referral_referrer_updated: the dashboard's page (a provider's referrals ordered by their
latest change, 50 at a time) read in order from the index, without sorting them all.

Revision ID: growth1a2b3c4d
Revises: fhir1c2d3e4f5a6
Create Date: 2026-12-07 20:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'growth1a2b3c4d'
down_revision = 'fhir1c2d3e4f5a6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        'ix_referral_referrer_updated', 'referral', ['referrer_id', 'updated_at', 'id'],
        unique=False,
    )


def downgrade():
    op.drop_index('ix_referral_referrer_updated', table_name='referral')
