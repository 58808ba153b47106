"""notifications: the bell's notifications, the email outbox, preferences; password resets

Revision ID: i16a1b2c3d4e5
Revises: i15a1b2c3d4e5
Create Date: 2026-12-07 16:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


revision = 'i16a1b2c3d4e5'
down_revision = 'i15a1b2c3d4e5'
branch_labels = None
depends_on = None


def _utc():
    return sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        'notification',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('referral_id', sa.Integer(), nullable=True),
        sa.Column('text', sa.String(length=300), nullable=False),
        sa.Column('link', sa.String(length=300), nullable=False),
        sa.Column('created_at', _utc(), nullable=False),
        sa.Column('read_at', _utc(), nullable=True),
        sa.Column('digest_due', sa.Boolean(), nullable=False),
        sa.Column('digested_at', _utc(), nullable=True),
        sa.ForeignKeyConstraint(['referral_id'], ['referral.id'], name=op.f('fk_notification_referral_id_referral')),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_notification_user_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notification')),
    )
    op.create_index(op.f('ix_notification_user_id'), 'notification', ['user_id'], unique=False)
    op.create_table(
        'outbox_message',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('idempotency_key', sa.String(length=80), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('to_email', sa.String(length=254), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('secret', sa.Boolean(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('tries', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.String(length=300), nullable=False),
        sa.Column('created_at', _utc(), nullable=False),
        sa.Column('next_attempt_at', _utc(), nullable=False),
        sa.Column('claimed_at', _utc(), nullable=True),
        sa.Column('claimed_by', sa.String(length=80), nullable=False),
        sa.Column('sent_at', _utc(), nullable=True),
        sa.Column('transport', sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_outbox_message_user_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_message')),
        sa.UniqueConstraint('idempotency_key', name=op.f('uq_outbox_message_idempotency_key')),
    )
    op.create_index(op.f('ix_outbox_message_status'), 'outbox_message', ['status'], unique=False)
    op.create_index(op.f('ix_outbox_message_user_id'), 'outbox_message', ['user_id'], unique=False)
    op.create_table(
        'notification_preference',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('mode', sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_notification_preference_user_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_preference')),
        sa.UniqueConstraint('user_id', 'kind', name=op.f('uq_notification_preference_user_id')),
    )
    op.create_table(
        'password_reset',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('password_fingerprint', sa.String(length=64), nullable=False),
        sa.Column('created_at', _utc(), nullable=False),
        sa.Column('expires_at', _utc(), nullable=False),
        sa.Column('used_at', _utc(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_password_reset_user_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_password_reset')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_password_reset_token_hash')),
    )
    op.create_index(op.f('ix_password_reset_user_id'), 'password_reset', ['user_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_password_reset_user_id'), table_name='password_reset')
    op.drop_table('password_reset')
    op.drop_table('notification_preference')
    op.drop_index(op.f('ix_outbox_message_user_id'), table_name='outbox_message')
    op.drop_index(op.f('ix_outbox_message_status'), table_name='outbox_message')
    op.drop_table('outbox_message')
    op.drop_index(op.f('ix_notification_user_id'), table_name='notification')
    op.drop_table('notification')
