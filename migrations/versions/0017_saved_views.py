"""a reviewer's saved queue views

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04

- `saved_views`: a name and the view (quick filters, search, sort) per reviewer; the
  queue page lists them beside the built-in ones (issue 22).
"""

import sqlalchemy as sa
from alembic import op

from dashboard.enrolment.model import UTCDateTime

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "saved_views",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("view", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_users.id"], name="fk_saved_views_staff_id_staff_users"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_saved_views"),
        sa.UniqueConstraint("staff_id", "name", name="uq_saved_views_staff_name"),
    )


def downgrade() -> None:
    op.drop_table("saved_views")
