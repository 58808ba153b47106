"""audit: a keyed chain made by a sequencer (seq, key id, head MAC), TRUNCATE refused

Audit rows are inserted without a lock and linked afterwards by the sequencer
(portal/audit/chain.py): `seq` is the event's place in the chain, `key_id` the HMAC key it was
linked with. The append-only trigger lets exactly that one UPDATE through (seq from NULL to a
value, content unchanged); PostgreSQL also refuses TRUNCATE. Events written before this
revision have no seq yet: the sequencer links them, in id order, on its first run.

Revision ID: audita1b2c3d4
Revises: i16a1b2c3d4e5
Create Date: 2026-12-07 17:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'audita1b2c3d4'
down_revision = 'i16a1b2c3d4e5'
branch_labels = None
depends_on = None

CONTENT = (
    "id", "at", "actor_id", "actor_role", "action", "object_type", "object_id", "ip",
    "outcome", "detail",
)

SQLITE_NO_UPDATE = (
    "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
    "WHEN OLD.seq IS NOT NULL OR NEW.seq IS NULL OR "
    + " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in CONTENT)
    + " BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END"
)
SQLITE_NO_DELETE = """CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
    BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END"""
SQLITE_NO_UPDATE_BEFORE = """CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
    BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END"""

PG_FUNCTION = f"""CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND NEW.seq IS NOT NULL
       AND ({", ".join("NEW." + c for c in CONTENT)})
           IS NOT DISTINCT FROM ({", ".join("OLD." + c for c in CONTENT)}) THEN
        RETURN NEW;  -- the sequencer linking the event, once
    END IF;
    RAISE EXCEPTION 'audit_event is append-only';
END;
$$ LANGUAGE plpgsql"""
PG_FUNCTION_BEFORE = """CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_event is append-only';
END;
$$ LANGUAGE plpgsql"""
PG_NO_TRUNCATE = [
    """CREATE OR REPLACE FUNCTION audit_event_no_truncate() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_event is append-only: TRUNCATE refused';
END;
$$ LANGUAGE plpgsql""",
    """CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
FOR EACH STATEMENT EXECUTE FUNCTION audit_event_no_truncate()""",
]


def upgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('key_id', sa.String(length=16), server_default='', nullable=False))
    op.create_index('uq_audit_event_seq', 'audit_event', ['seq'], unique=True)
    op.create_index(
        'ix_audit_event_unchained', 'audit_event', ['id'],
        postgresql_where=sa.text('seq IS NULL'), sqlite_where=sa.text('seq IS NULL'),
    )
    with op.batch_alter_table('audit_chain_head', schema=None) as batch_op:
        batch_op.add_column(sa.Column('head_mac', sa.String(length=64), server_default='', nullable=False))
    # Nothing is linked in the keyed chain yet (the old counter counted lock takings).
    op.execute("UPDATE audit_chain_head SET appended = 0, head_mac = ''")
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
        op.execute(SQLITE_NO_UPDATE)
    elif dialect == "postgresql":
        op.execute(PG_FUNCTION)
        for statement in PG_NO_TRUNCATE:
            op.execute(statement)
    else:
        raise NotImplementedError(f"append-only audit trigger for {dialect}")


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        # Dropping a column rebuilds the table on SQLite, which drops its triggers: both are
        # put back afterwards, as the revision before this one made them.
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS audit_event_no_truncate()")
        op.execute(PG_FUNCTION_BEFORE)
    with op.batch_alter_table('audit_chain_head', schema=None) as batch_op:
        batch_op.drop_column('head_mac')
    op.drop_index('ix_audit_event_unchained', table_name='audit_event')
    op.drop_index('uq_audit_event_seq', table_name='audit_event')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_column('key_id')
        batch_op.drop_column('seq')
    if dialect == "sqlite":
        op.execute(SQLITE_NO_UPDATE_BEFORE)
        op.execute(SQLITE_NO_DELETE)
