"""accounts in the identity platform: directory ids, links with an end, provisioning outbox

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-02

- `secretary_accounts.directory_id`: a random, stable, non-personal name for the account in
  the agency's identity platform (the SCIM User's externalId); existing accounts get one.
- `account_links` gets a surrogate id and an end (`ended_at`, reason, note, who): a link that
  ended stays as history and a later declaration opens a new row, at most one open row per
  account and professional (partial unique index). Existing links are copied, all open.
- `provisioning_outbox`: the accounts whose state must be brought to the identity platform.
"""

import sqlalchemy as sa
from alembic import op

from dashboard.enrolment.model import UTCDateTime

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None

OPEN = sa.text("ended_at IS NULL")
PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    conn = op.get_bind()
    # One statement, whatever the number of accounts: a random UUID each. SQLite cannot add
    # a NOT NULL column without a default, nor alter it later without rebuilding a table
    # that others reference: there the column gets an empty default, never used.
    if conn.dialect.name == "postgresql":
        op.add_column("secretary_accounts", sa.Column("directory_id", sa.String(36)))
        op.execute("UPDATE secretary_accounts SET directory_id = gen_random_uuid()::text")
        op.alter_column("secretary_accounts", "directory_id", nullable=False)
    else:
        op.add_column(
            "secretary_accounts",
            sa.Column("directory_id", sa.String(36), nullable=False, server_default=""),
        )
        op.execute(
            "UPDATE secretary_accounts SET directory_id = lower(hex(randomblob(4)) || '-' || "
            "hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' || "
            "substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || "
            "'-' || hex(randomblob(6)))"
        )
    op.create_index(
        "ix_secretary_accounts_directory_id", "secretary_accounts", ["directory_id"], unique=True
    )

    # A new table with the new key, the rows copied: the same on SQLite and PostgreSQL.
    if conn.dialect.name == "postgresql":
        # Key constraints share the index namespace: free the name for the new table.
        op.execute(
            "ALTER TABLE account_links RENAME CONSTRAINT pk_account_links TO pk_account_links_v1"
        )
    op.create_table(
        "account_links_v2",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("professional_id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=True),
        sa.Column("linked_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=40), nullable=True),
        sa.Column("end_note", sa.Text(), nullable=True),
        sa.Column("ended_by_type", sa.String(length=20), nullable=True),
        sa.Column("ended_by_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["secretary_accounts.id"],
            name="fk_account_links_account_id_secretary_accounts",
        ),
        sa.ForeignKeyConstraint(
            ["enrolment_id"], ["enrolments.id"], name="fk_account_links_enrolment_id_enrolments"
        ),
        sa.ForeignKeyConstraint(
            ["professional_id"],
            ["professionals.id"],
            name="fk_account_links_professional_id_professionals",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_account_links"),
    )
    op.execute(
        "INSERT INTO account_links_v2 (account_id, professional_id, enrolment_id, linked_at) "
        "SELECT account_id, professional_id, enrolment_id, linked_at FROM account_links "
        "ORDER BY linked_at, account_id, professional_id"
    )
    op.drop_table("account_links")
    op.rename_table("account_links_v2", "account_links")
    if conn.dialect.name == "postgresql":
        # The serial's sequence keeps its first name; the key constraint is named already.
        op.execute("ALTER SEQUENCE account_links_v2_id_seq RENAME TO account_links_id_seq")
    op.create_index("ix_account_links_account_id", "account_links", ["account_id"])
    op.create_index("ix_account_links_professional_id", "account_links", ["professional_id"])
    op.create_index(
        "ix_account_links_open",
        "account_links",
        ["account_id", "professional_id"],
        unique=True,
        postgresql_where=OPEN,
        sqlite_where=OPEN,
    )

    op.create_table(
        "provisioning_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("done_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["secretary_accounts.id"],
            name="fk_provisioning_outbox_account_id_secretary_accounts",
        ),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["enrolments.id"],
            name="fk_provisioning_outbox_enrolment_id_enrolments",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_provisioning_outbox"),
    )
    op.create_index(
        "ix_provisioning_outbox_account_id", "provisioning_outbox", ["account_id"]
    )
    op.create_index(
        "ix_provisioning_outbox_due",
        "provisioning_outbox",
        ["next_attempt_at", "id"],
        postgresql_where=PENDING,
        sqlite_where=PENDING,
    )


def downgrade() -> None:
    op.drop_table("provisioning_outbox")
    op.drop_index("ix_account_links_open", table_name="account_links")
    op.drop_index("ix_account_links_professional_id", table_name="account_links")
    op.drop_index("ix_account_links_account_id", table_name="account_links")
    op.create_table(
        "account_links_v1",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("professional_id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=True),
        sa.Column("linked_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["secretary_accounts.id"],
            name="fk_account_links_account_id_secretary_accounts",
        ),
        sa.ForeignKeyConstraint(
            ["enrolment_id"], ["enrolments.id"], name="fk_account_links_enrolment_id_enrolments"
        ),
        sa.ForeignKeyConstraint(
            ["professional_id"],
            ["professionals.id"],
            name="fk_account_links_professional_id_professionals",
        ),
        sa.PrimaryKeyConstraint("account_id", "professional_id", name="pk_account_links_v1"),
    )
    # Only the open links fit the old key: history is lost on the way down.
    op.execute(
        "INSERT INTO account_links_v1 (account_id, professional_id, enrolment_id, linked_at) "
        "SELECT account_id, professional_id, enrolment_id, linked_at FROM account_links "
        "WHERE ended_at IS NULL"
    )
    op.drop_table("account_links")
    op.rename_table("account_links_v1", "account_links")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE account_links RENAME CONSTRAINT pk_account_links_v1 TO pk_account_links"
        )
    op.drop_index("ix_secretary_accounts_directory_id", table_name="secretary_accounts")
    # A plain DROP COLUMN (SQLite ≥ 3.35): a batch rebuild of a referenced table would fail.
    op.execute("ALTER TABLE secretary_accounts DROP COLUMN directory_id")
