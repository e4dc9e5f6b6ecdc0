"""daily rollups of the managers' metrics (docs/performance.md §5)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26

The tables start empty: the first refresh (`python -m dashboard metrics refresh`, or the
first view of the metrics page) builds them from the enrolments.
"""

import sqlalchemy as sa
from alembic import op

import dashboard.enrolment.model

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _day_and_specialty() -> list[sa.Column]:
    return [
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("specialty", sa.String(length=120), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "metrics_daily",
        *_day_and_specialty(),
        sa.Column("outcome", sa.String(length=24), nullable=False),
        sa.Column("declared", sa.Integer(), nullable=False),
        sa.Column("link_opened", sa.Integer(), nullable=False),
        sa.Column("cgu_accepted", sa.Integer(), nullable=False),
        sa.Column("matricule_verified", sa.Integer(), nullable=False),
        sa.Column("luxtrust_done", sa.Integer(), nullable=False),
        sa.Column("device_confirmed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "specialty", "outcome", name=op.f("pk_metrics_daily")),
    )
    op.create_table(
        "metrics_durations",
        *_day_and_specialty(),
        sa.Column("histogram", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("day", "specialty", name=op.f("pk_metrics_durations")),
    )
    op.create_table(
        "metrics_mismatches",
        *_day_and_specialty(),
        sa.Column("field", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day", "specialty", "field", "kind", name=op.f("pk_metrics_mismatches")
        ),
    )
    op.create_table(
        "metrics_reviewers",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("specialty", sa.String(length=120), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("hundredths", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day",
            "decided_on",
            "specialty",
            "reviewer_id",
            "hundredths",
            name=op.f("pk_metrics_reviewers"),
        ),
    )
    op.create_index(op.f("ix_metrics_reviewers_decided_on"), "metrics_reviewers", ["decided_on"])
    op.create_table(
        "metrics_handling",
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("specialty", sa.String(length=120), nullable=False),
        sa.Column("histogram", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("decided_on", "specialty", name=op.f("pk_metrics_handling")),
    )
    op.create_table(
        "metrics_refresh",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_event_id", sa.BigInteger(), nullable=False),
        sa.Column("pending", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "refreshed_at", dashboard.enrolment.model.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metrics_refresh")),
    )


def downgrade() -> None:
    op.drop_table("metrics_refresh")
    op.drop_table("metrics_handling")
    op.drop_index(op.f("ix_metrics_reviewers_decided_on"), table_name="metrics_reviewers")
    op.drop_table("metrics_reviewers")
    op.drop_table("metrics_mismatches")
    op.drop_table("metrics_durations")
    op.drop_table("metrics_daily")
