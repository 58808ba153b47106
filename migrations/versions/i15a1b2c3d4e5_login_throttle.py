"""login_throttle: failed sign-in attempts per account and address; pending_sign_in: a
sign-in half-way (password right, second step to come) kept on the server

The address is blocked for the account after LOCKOUT_THRESHOLD attempts in a row
(portal/auth/lockout.py); user_account.failed_logins and locked_until now count attempts
from anywhere and mark the account as under attack (a soft lock).

Revision ID: i15a1b2c3d4e5
Revises: i18a1b2c3d4e5
Create Date: 2026-12-07 16:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i15a1b2c3d4e5'
down_revision = 'i18a1b2c3d4e5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'login_throttle',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('ip', sa.String(length=64), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['user_id'], ['user_account.id'],
            name=op.f('fk_login_throttle_user_id_user_account'),
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_login_throttle')),
        sa.UniqueConstraint('user_id', 'ip', name=op.f('uq_login_throttle_user_id')),
    )
    with op.batch_alter_table('login_throttle', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_login_throttle_last_failure_at'), ['last_failure_at'], unique=False
        )
    op.create_table(
        'pending_sign_in',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('target', sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ['user_id'], ['user_account.id'],
            name=op.f('fk_pending_sign_in_user_id_user_account'),
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pending_sign_in')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_pending_sign_in_token_hash')),
    )
    with op.batch_alter_table('pending_sign_in', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_pending_sign_in_user_id'), ['user_id'], unique=False
        )


def downgrade():
    with op.batch_alter_table('pending_sign_in', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pending_sign_in_user_id'))
    op.drop_table('pending_sign_in')
    with op.batch_alter_table('login_throttle', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_throttle_last_failure_at'))
    op.drop_table('login_throttle')
