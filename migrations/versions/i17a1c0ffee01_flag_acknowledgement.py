"""flag_acknowledgement: a clinician's acknowledged judgement on a screening flag (outside
the SPRAVATO label; psychosis or mania) before acceptance

Revision ID: i17a1c0ffee01
Revises: i20a7f3c9e1d2
Create Date: 2026-12-07 16:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i17a1c0ffee01'
down_revision = 'i20a7f3c9e1d2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'flag_acknowledgement',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('referral_id', sa.Integer(), nullable=False),
        sa.Column('flag_code', sa.String(length=40), nullable=False),
        sa.Column('flag_text', sa.Text(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('acknowledged_by_id', sa.Integer(), nullable=False),
        sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['acknowledged_by_id'], ['user_account.id'],
            name=op.f('fk_flag_acknowledgement_acknowledged_by_id_user_account'),
        ),
        sa.ForeignKeyConstraint(
            ['referral_id'], ['referral.id'],
            name=op.f('fk_flag_acknowledgement_referral_id_referral'),
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_flag_acknowledgement')),
        sa.UniqueConstraint(
            'referral_id', 'flag_code', name=op.f('uq_flag_acknowledgement_referral_id')
        ),
    )
    with op.batch_alter_table('flag_acknowledgement', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_flag_acknowledgement_referral_id'), ['referral_id'], unique=False
        )


def downgrade():
    with op.batch_alter_table('flag_acknowledgement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flag_acknowledgement_referral_id'))
    op.drop_table('flag_acknowledgement')
