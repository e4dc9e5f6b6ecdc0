"""the managers' access figures: indexes, the counts kept by the refresh, one rebuild

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04

- a partial index over the ended links, by end date: "links ended per month" reads the
  period's rows only; one over the failed provisioning requests.
- `metrics_refresh.access`: the accounts' and links' counts as of the last refresh.
- the rollups' bookkeeping version back to 0: the next refresh rebuilds every day, so
  metrics_durations gains the decision → account usable delays (rollup.USABLE) of the
  enrolments decided before this version.
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

ENDED = sa.text("ended_at IS NOT NULL")
FAILED = sa.text("status = 'failed'")


def upgrade() -> None:
    op.create_index(
        "ix_account_links_ended_at",
        "account_links",
        ["ended_at"],
        postgresql_where=ENDED,
        sqlite_where=ENDED,
    )
    op.create_index(
        "ix_provisioning_outbox_failed",
        "provisioning_outbox",
        ["id"],
        postgresql_where=FAILED,
        sqlite_where=FAILED,
    )
    op.add_column("metrics_refresh", sa.Column("access", sa.JSON(), nullable=True))
    op.execute("UPDATE metrics_refresh SET version = 0")


def downgrade() -> None:
    op.execute("ALTER TABLE metrics_refresh DROP COLUMN access")  # SQLite ≥ 3.35
    op.drop_index("ix_provisioning_outbox_failed", table_name="provisioning_outbox")
    op.drop_index("ix_account_links_ended_at", table_name="account_links")
