"""review queue: one folded search text, a trigram index on it (PostgreSQL), and the
pending cases by professional

The queue's name search matches one expression holding every order it accepts (first
names + last name, last name + first names, email). On PostgreSQL a pg_trgm GIN index over
it, restricted to pending cases, answers `LIKE '%…%'` without reading every pending case;
where the extension cannot be created (no privilege), the search still works, unindexed.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

import logging

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

# Must stay identical to dashboard.enrolment.review.SEARCH_TEXT_SQL (the planner matches
# the index by its expression).
SEARCH_TEXT = (
    "fold(coalesce(declared_first_names, '') || ' ' || coalesce(declared_last_name, '') "
    "|| ' | ' || coalesce(declared_last_name, '') || ' ' || coalesce(declared_first_names, '') "
    "|| ' | ' || coalesce(email, ''))"
)


def upgrade() -> None:
    pending = sa.text("state = 'pending_review'")
    op.create_index(
        "ix_enrolments_review_by_professional",
        "enrolments",
        ["professional_id", "device_confirmed_at", "id"],
        postgresql_where=pending,
        sqlite_where=pending,
    )
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    try:
        with bind.begin_nested():
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except sa.exc.DBAPIError as exc:
        log.warning("pg_trgm unavailable (%s): the queue search stays unindexed", exc.orig)
        return
    bind.exec_driver_sql(
        "CREATE INDEX IF NOT EXISTS ix_enrolments_review_search ON enrolments "
        f"USING gin ({SEARCH_TEXT} gin_trgm_ops) WHERE state = 'pending_review'"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_enrolments_review_search")
    op.drop_index("ix_enrolments_review_by_professional", table_name="enrolments")
