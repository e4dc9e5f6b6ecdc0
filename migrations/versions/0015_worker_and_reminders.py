"""the background worker's job runs; reminders sent per enrolment and their indexes

Revision ID: 0015
Revises: 0012
Create Date: 2026-12-03

- `enrolments.reminders_sent` (0, 1 or 2): the reminder pass never sends a third.
- two partial indexes over live links not yet reminded: the pass reads only those rows,
  however many enrolments there are (benchmarks: `reminders`).
- `metrics_daily.reminded` / `.reminders`: the metrics' reminder figures.
- `job_runs`: each background job's last start, end, outcome and count.
"""

import sqlalchemy as sa
from alembic import op

from dashboard.enrolment.model import UTCDateTime

revision = "0015"
down_revision = "0012"
branch_labels = None
depends_on = None

REMINDABLE = "state IN ('declared', 'cgu_accepted', 'matricule_verified', 'identity_mismatch')"
FIRST = sa.text(REMINDABLE + " AND reminders_sent = 0")
LAST = sa.text(REMINDABLE + " AND reminders_sent < 2")


def upgrade() -> None:
    # A constant default: PostgreSQL adds the column without rewriting the table.
    op.add_column(
        "enrolments",
        sa.Column("reminders_sent", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )
    op.create_index(
        "ix_enrolments_reminder_first",
        "enrolments",
        ["created_at"],
        postgresql_where=FIRST,
        sqlite_where=FIRST,
    )
    op.create_index(
        "ix_enrolments_reminder_last",
        "enrolments",
        ["expires_at"],
        postgresql_where=LAST,
        sqlite_where=LAST,
    )
    # The metrics' reminder figures; no reminder was ever sent before this revision.
    for column in ("reminded", "reminders"):
        op.add_column(
            "metrics_daily",
            sa.Column(column, sa.Integer(), nullable=False, server_default=sa.text("0")),
        )
    op.create_table(
        "job_runs",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("last_started_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_finished_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_outcome", sa.String(length=12), nullable=True),
        sa.Column("last_count", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("last_success_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=120), nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_job_runs"),
    )


def downgrade() -> None:
    op.drop_table("job_runs")
    for column in ("reminders", "reminded"):
        op.execute(f"ALTER TABLE metrics_daily DROP COLUMN {column}")
    op.drop_index("ix_enrolments_reminder_last", table_name="enrolments")
    op.drop_index("ix_enrolments_reminder_first", table_name="enrolments")
    # A plain DROP COLUMN (SQLite ≥ 3.35): a batch rebuild of a referenced table would fail.
    op.execute("ALTER TABLE enrolments DROP COLUMN reminders_sent")
