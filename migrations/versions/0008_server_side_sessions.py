"""server-side sessions, and a staff login throttle that locks nobody out

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

`login_sessions`: one row per live session (staff, professional, the secretary's enrolment
and "Mon compte" sessions), keyed by the SHA-256 of the random token the cookie holds;
logout, an administrator's decision, new roles or a new password delete the rows.

`staff_login_throttle`: failed staff logins counted per (client address, typed account),
both as keyed digests, and per client address; it replaces the per-account lockout, whose
columns `staff_users.failed_logins` and `locked_until` go. Sessions opened before this
revision had no handle: everyone logs in again once.
"""

import sqlalchemy as sa
from alembic import op

import dashboard.enrolment.model

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column(
            "created_at", dashboard.enrolment.model.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_sessions")),
    )
    op.create_index(
        op.f("ix_login_sessions_created_at"), "login_sessions", ["created_at"], unique=False
    )
    op.create_index(
        "ix_login_sessions_kind_subject_id", "login_sessions", ["kind", "subject_id"], unique=False
    )
    op.create_table(
        "staff_login_throttle",
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("account", sa.String(length=32), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column(
            "first_failure_at",
            dashboard.enrolment.model.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.Column(
            "last_failure_at", dashboard.enrolment.model.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("source", "account", name=op.f("pk_staff_login_throttle")),
    )
    op.create_index(
        op.f("ix_staff_login_throttle_last_failure_at"),
        "staff_login_throttle",
        ["last_failure_at"],
        unique=False,
    )
    # A plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35 too): batch mode would copy and drop
    # staff_users, which SQLite refuses while enrolments, decisions or notes refer to it.
    op.drop_column("staff_users", "failed_logins")
    op.drop_column("staff_users", "locked_until")


def downgrade() -> None:
    op.add_column(
        "staff_users",
        sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"),
    )
    op.add_column(
        "staff_users",
        sa.Column(
            "locked_until", dashboard.enrolment.model.UTCDateTime(timezone=True), nullable=True
        ),
    )
    op.drop_index(
        op.f("ix_staff_login_throttle_last_failure_at"), table_name="staff_login_throttle"
    )
    op.drop_table("staff_login_throttle")
    op.drop_index("ix_login_sessions_kind_subject_id", table_name="login_sessions")
    op.drop_index(op.f("ix_login_sessions_created_at"), table_name="login_sessions")
    op.drop_table("login_sessions")
