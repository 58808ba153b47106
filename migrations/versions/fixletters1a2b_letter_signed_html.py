"""letter.signed_html: the HTML built at signing, which the job worker renders to the PDF

Revision ID: fixletters1a2b
Revises: letters1a2b3c4d
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "fixletters1a2b"
down_revision = "letters1a2b3c4d"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("letter") as batch:
        batch.add_column(sa.Column("signed_html", sa.LargeBinary(), nullable=True))


def downgrade():
    with op.batch_alter_table("letter") as batch:
        batch.drop_column("signed_html")
