"""referral: who made the last change (updated_by_id), for the stale-edit message

Revision ID: 3c7e2a91d4b5
Revises: 1f9f0df22642
Create Date: 2026-11-25 06:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3c7e2a91d4b5'
down_revision = '1f9f0df22642'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.add_column(sa.Column('updated_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_referral_updated_by_id_user_account'), 'user_account', ['updated_by_id'], ['id'])
    # Existing referrals: the actor of their latest timeline event is the best known editor.
    op.execute(
        "UPDATE referral SET updated_by_id = ("
        " SELECT e.actor_id FROM referral_event e WHERE e.referral_id = referral.id"
        " ORDER BY e.at DESC, e.id DESC LIMIT 1)"
    )


def downgrade():
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_referral_updated_by_id_user_account'), type_='foreignkey')
        batch_op.drop_column('updated_by_id')
