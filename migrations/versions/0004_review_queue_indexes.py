"""partial indexes for the review queue (measured in docs/performance.md)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pending = sa.text("state = 'pending_review'")
    awaiting = sa.text("status = 'awaiting_second'")
    op.create_index(
        "ix_enrolments_review_queue",
        "enrolments",
        ["device_confirmed_at", "id"],
        postgresql_where=pending,
        sqlite_where=pending,
    )
    op.create_index(
        "ix_decisions_awaiting_second",
        "decisions",
        ["enrolment_id"],
        postgresql_where=awaiting,
        sqlite_where=awaiting,
    )


def downgrade() -> None:
    op.drop_index("ix_decisions_awaiting_second", table_name="decisions")
    op.drop_index("ix_enrolments_review_queue", table_name="enrolments")
