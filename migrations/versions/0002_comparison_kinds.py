"""comparison kinds as columns (for metrics by field and kind)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

FIELDS = ("last_name", "first_names", "birth_date", "matricule")


def upgrade() -> None:
    with op.batch_alter_table("luxtrust_identities") as batch_op:
        for field in FIELDS:
            batch_op.add_column(sa.Column(f"{field}_kind", sa.String(length=12), nullable=True))
    # Fill the new columns from the stored comparisons.
    table = sa.table(
        "luxtrust_identities",
        sa.column("id", sa.Integer),
        sa.column("comparison", sa.JSON),
        *[sa.column(f"{f}_kind", sa.String) for f in FIELDS],
    )
    bind = op.get_bind()
    for row_id, comparison in bind.execute(sa.select(table.c.id, table.c.comparison)).all():
        data = json.loads(comparison) if isinstance(comparison, str) else (comparison or {})
        kinds = {f.get("field"): f.get("kind") for f in data.get("fields", [])}
        values = {f"{f}_kind": kinds.get(f) for f in FIELDS}
        bind.execute(table.update().where(table.c.id == row_id).values(**values))


def downgrade() -> None:
    with op.batch_alter_table("luxtrust_identities") as batch_op:
        for field in FIELDS:
            batch_op.drop_column(f"{field}_kind")
