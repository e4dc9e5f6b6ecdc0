"""a repeated wrong matricule costs one attempt only

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26

`enrolments.last_wrong_matricule`: a keyed digest (HMAC-SHA256 with SECRET_KEY) of the
last wrong matricule typed, so that the same value sent again (a double click, a replayed
request) is answered the same way without costing another of her five attempts. Erased
with the rest of the personal data.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("enrolments", sa.Column("last_wrong_matricule", sa.String(length=64)))


def downgrade() -> None:
    with op.batch_alter_table("enrolments") as batch:
        batch.drop_column("last_wrong_matricule")
