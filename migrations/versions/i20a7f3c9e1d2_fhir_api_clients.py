"""fhir: API clients (SMART Backend Services), access tokens, used assertion ids

Revision ID: i20a7f3c9e1d2
Revises: i19a1c3e5f701
Create Date: 2026-12-07 16:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i20a7f3c9e1d2'
down_revision = 'i19a1c3e5f701'
branch_labels = None
depends_on = None


def _utc():
    return sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        'fhir_client',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('practice_id', sa.Integer(), nullable=False),
        sa.Column('jwks', sa.JSON(), nullable=False),
        sa.Column('scopes', sa.String(length=1000), nullable=False),
        sa.Column('is_active', sa.Boolean(), nullable=False),
        sa.Column('created_at', _utc(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['practice_id'], ['practice.id'],
                                name='fk_fhir_client_practice_id_practice'),
        sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'],
                                name='fk_fhir_client_created_by_id_user_account'),
        sa.PrimaryKeyConstraint('id', name='pk_fhir_client'),
        sa.UniqueConstraint('client_id', name='uq_fhir_client_client_id'),
    )
    op.create_index('ix_fhir_client_practice_id', 'fhir_client', ['practice_id'], unique=False)
    op.create_table(
        'fhir_access_token',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_sha256', sa.String(length=64), nullable=False),
        sa.Column('client_pk', sa.Integer(), nullable=False),
        sa.Column('scopes', sa.String(length=1000), nullable=False),
        sa.Column('expires_at', _utc(), nullable=False),
        sa.ForeignKeyConstraint(['client_pk'], ['fhir_client.id'],
                                name='fk_fhir_access_token_client_pk_fhir_client'),
        sa.PrimaryKeyConstraint('id', name='pk_fhir_access_token'),
        sa.UniqueConstraint('token_sha256', name='uq_fhir_access_token_token_sha256'),
    )
    op.create_index('ix_fhir_access_token_client_pk', 'fhir_access_token', ['client_pk'],
                    unique=False)
    op.create_table(
        'fhir_assertion_id',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('client_pk', sa.Integer(), nullable=False),
        sa.Column('jti', sa.String(length=255), nullable=False),
        sa.Column('expires_at', _utc(), nullable=False),
        sa.ForeignKeyConstraint(['client_pk'], ['fhir_client.id'],
                                name='fk_fhir_assertion_id_client_pk_fhir_client'),
        sa.PrimaryKeyConstraint('id', name='pk_fhir_assertion_id'),
        sa.UniqueConstraint('client_pk', 'jti', name='uq_fhir_assertion_id_jti'),
    )
    op.create_index('ix_fhir_assertion_id_expires_at', 'fhir_assertion_id', ['expires_at'],
                    unique=False)


def downgrade():
    op.drop_index('ix_fhir_assertion_id_expires_at', table_name='fhir_assertion_id')
    op.drop_table('fhir_assertion_id')
    op.drop_index('ix_fhir_access_token_client_pk', table_name='fhir_access_token')
    op.drop_table('fhir_access_token')
    op.drop_index('ix_fhir_client_practice_id', table_name='fhir_client')
    op.drop_table('fhir_client')
