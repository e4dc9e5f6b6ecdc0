"""fold(): case- and accent-insensitive search on PostgreSQL

SQLite gets the same function from the application at connection time
(dashboard.enrolment.db); PostgreSQL gets it here, as an immutable SQL function that does
not depend on the database's locale (upper-case accented letters are mapped explicitly).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ACCENTED = "àáâãäåçèéêëìíîïñòóôõöùúûüýÿÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝŸ"
PLAIN = "aaaaaaceeeeiiiinooooouuuuyyaaaaaaceeeeiiiinooooouuuuyy"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION fold(value text) RETURNS text "
            "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS "
            f"$$ SELECT lower(translate(value, '{ACCENTED}', '{PLAIN}')) $$"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS fold(text)")
