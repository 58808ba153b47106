"""fhir: rest-hook Subscriptions and their deliveries (the rest-hook outbox)

Revision ID: i20s1a2b3c4d5
Revises: i18r1a2b3c4d5
Create Date: 2026-12-07 18:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i20s1a2b3c4d5'
down_revision = 'i18r1a2b3c4d5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'fhir_subscription',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('client_pk', sa.Integer(), nullable=False),
        sa.Column('criteria', sa.String(length=300), nullable=False),
        sa.Column('focus_referral_id', sa.Integer(), nullable=True),
        sa.Column('task_status', sa.String(length=20), nullable=False),
        sa.Column('reason', sa.String(length=300), nullable=False),
        sa.Column('endpoint', sa.String(length=500), nullable=False),
        sa.Column('headers', sa.String(length=1000), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('error', sa.String(length=300), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['client_pk'], ['fhir_client.id'],
                                name=op.f('fk_fhir_subscription_client_pk_fhir_client')),
        sa.ForeignKeyConstraint(['focus_referral_id'], ['referral.id'],
                                name=op.f('fk_fhir_subscription_focus_referral_id_referral')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_fhir_subscription')),
    )
    with op.batch_alter_table('fhir_subscription', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fhir_subscription_client_pk'), ['client_pk'],
                              unique=False)
    op.create_table(
        'fhir_hook_delivery',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('idempotency_key', sa.String(length=80), nullable=False),
        sa.Column('subscription_id', sa.Integer(), nullable=False),
        sa.Column('referral_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('tries', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.String(length=300), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['referral_id'], ['referral.id'],
                                name=op.f('fk_fhir_hook_delivery_referral_id_referral')),
        sa.ForeignKeyConstraint(['subscription_id'], ['fhir_subscription.id'],
                                name=op.f('fk_fhir_hook_delivery_subscription_id_fhir_subscription')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_fhir_hook_delivery')),
        sa.UniqueConstraint('idempotency_key', name=op.f('uq_fhir_hook_delivery_idempotency_key')),
    )
    with op.batch_alter_table('fhir_hook_delivery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fhir_hook_delivery_status'), ['status'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_fhir_hook_delivery_subscription_id'),
                              ['subscription_id'], unique=False)


def downgrade():
    with op.batch_alter_table('fhir_hook_delivery', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fhir_hook_delivery_subscription_id'))
        batch_op.drop_index(batch_op.f('ix_fhir_hook_delivery_status'))
    op.drop_table('fhir_hook_delivery')
    with op.batch_alter_table('fhir_subscription', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fhir_subscription_client_pk'))
    op.drop_table('fhir_subscription')
