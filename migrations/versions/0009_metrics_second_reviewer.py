"""the reviewers' rollups credit the second reviewer of a four-eyes decision

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

`metrics_reviewers` and `metrics_handling` gain a `role` ("decision": taken or proposed;
"confirmation": the second reviewer's), and a decision is dated when it became final. The
two tables are made anew (rollups, nothing of their own) and the bookkeeping row is
forgotten, so the next refresh (the per-minute `metrics refresh`, or the first view of the
metrics page) rebuilds every day from the events, as `metrics refresh --full` does.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _create(with_role: bool) -> None:
    def role() -> list[sa.Column]:
        return [sa.Column("role", sa.String(length=12), nullable=False)] if with_role else []

    role_key = ["role"] if with_role else []
    op.create_table(
        "metrics_reviewers",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("specialty", sa.String(length=120), nullable=False),
        *role(),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("hundredths", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day",
            "decided_on",
            "specialty",
            *role_key,
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
        *role(),
        sa.Column("histogram", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint(
            "decided_on", "specialty", *role_key, name=op.f("pk_metrics_handling")
        ),
    )


def _drop() -> None:
    op.drop_table("metrics_handling")
    op.drop_index(op.f("ix_metrics_reviewers_decided_on"), table_name="metrics_reviewers")
    op.drop_table("metrics_reviewers")


def upgrade() -> None:
    _drop()
    _create(with_role=True)
    op.execute("DELETE FROM metrics_refresh")  # never built: the next refresh is a full one


def downgrade() -> None:
    _drop()
    _create(with_role=False)
    op.execute("DELETE FROM metrics_refresh")
