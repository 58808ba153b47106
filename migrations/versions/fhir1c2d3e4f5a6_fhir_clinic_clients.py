"""fhir_client.clinic_id: a clinic-wide client (it sees every referral of its clinic); a
client acts for exactly one practice or one clinic

Revision ID: fhir1c2d3e4f5a6
Revises: measures1a2b3c4d
Create Date: 2026-12-07 19:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'fhir1c2d3e4f5a6'
down_revision = 'measures1a2b3c4d'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('fhir_client', schema=None) as batch_op:
        batch_op.add_column(sa.Column('clinic_id', sa.Integer(), nullable=True))
        batch_op.alter_column('practice_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key(
            batch_op.f('fk_fhir_client_clinic_id_clinic'), 'clinic', ['clinic_id'], ['id']
        )
        batch_op.create_index(batch_op.f('ix_fhir_client_clinic_id'), ['clinic_id'], unique=False)
        batch_op.create_check_constraint(
            'acts_for_one',
            '(practice_id IS NULL) <> (clinic_id IS NULL)',
        )


def downgrade():
    # A clinic-wide client cannot exist without clinic_id: it goes, and first everything that
    # references it (its subscriptions' deliveries, its subscriptions, tokens, assertion ids).
    clinic_wide = 'SELECT id FROM fhir_client WHERE practice_id IS NULL'
    op.execute(
        'DELETE FROM fhir_hook_delivery WHERE subscription_id IN '
        f'(SELECT id FROM fhir_subscription WHERE client_pk IN ({clinic_wide}))'
    )
    for child in ('fhir_subscription', 'fhir_access_token', 'fhir_assertion_id'):
        op.execute(f'DELETE FROM {child} WHERE client_pk IN ({clinic_wide})')
    op.execute('DELETE FROM fhir_client WHERE practice_id IS NULL')
    with op.batch_alter_table('fhir_client', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_fhir_client_acts_for_one'), type_='check')
        batch_op.drop_index(batch_op.f('ix_fhir_client_clinic_id'))
        batch_op.drop_constraint(batch_op.f('fk_fhir_client_clinic_id_clinic'), type_='foreignkey')
        batch_op.drop_column('clinic_id')
        batch_op.alter_column('practice_id', existing_type=sa.Integer(), nullable=False)
