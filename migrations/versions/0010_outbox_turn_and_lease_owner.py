"""outbox: rows served in turn, leased by one dispatcher at a time

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27

`outbox.turn_at`: the row's place in the queue (when it is due; later by mail.RETRY_YIELD
for a retry), read through the partial index `ix_outbox_turn` on the pending rows.
`outbox.lease_owner`: the dispatcher run that holds the row's (short) lease; only that one
may record the row sent or retried. Existing rows take their turn when they are due.
"""

import sqlalchemy as sa
from alembic import op

from dashboard.enrolment.model import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("lease_owner", sa.String(length=32)))
    op.add_column("outbox", sa.Column("turn_at", UTCDateTime()))
    op.execute("UPDATE outbox SET turn_at = next_attempt_at")
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("turn_at", existing_type=UTCDateTime(), nullable=False)
    pending = sa.text("status = 'pending'")
    op.create_index(
        "ix_outbox_turn",
        "outbox",
        ["turn_at", "id"],
        postgresql_where=pending,
        sqlite_where=pending,
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_turn", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("turn_at")
        batch.drop_column("lease_owner")
