"""prior_authorization: a referral's payer authorization (status, number, approved S0013 units
and observation visits, covered dates, documents sent) or, for IV ketamine, its self-pay
agreement

Revision ID: i17b2d0c0ffee
Revises: i17a1c0ffee01
Create Date: 2026-12-07 16:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i17b2d0c0ffee'
down_revision = 'i17a1c0ffee01'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'prior_authorization',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('referral_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('payer', sa.String(length=120), nullable=False),
        sa.Column('number', sa.String(length=60), nullable=False),
        sa.Column('approved_units', sa.Integer(), nullable=True),
        sa.Column('approved_visits', sa.Integer(), nullable=True),
        sa.Column('dose_mg', sa.Integer(), nullable=False),
        sa.Column('starts_on', sa.Date(), nullable=True),
        sa.Column('ends_on', sa.Date(), nullable=True),
        sa.Column('submitted_on', sa.Date(), nullable=True),
        sa.Column('documents_sent', sa.Text(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('self_pay_agreed_on', sa.Date(), nullable=True),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['referral_id'], ['referral.id'],
            name=op.f('fk_prior_authorization_referral_id_referral'),
        ),
        sa.ForeignKeyConstraint(
            ['updated_by_id'], ['user_account.id'],
            name=op.f('fk_prior_authorization_updated_by_id_user_account'),
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_prior_authorization')),
        sa.UniqueConstraint('referral_id', name=op.f('uq_prior_authorization_referral_id')),
    )
    with op.batch_alter_table('prior_authorization', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_prior_authorization_ends_on'), ['ends_on'], unique=False
        )


def downgrade():
    with op.batch_alter_table('prior_authorization', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_prior_authorization_ends_on'))
    op.drop_table('prior_authorization')
