"""Alembic migrations: the schema they build is the model's, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from dashboard.enrolment import schema
from dashboard.enrolment.db import make_engine
from dashboard.enrolment.model import Base

# Expression indexes that exist on PostgreSQL only and that autogenerate cannot compare
# (it sees them as unknown): checked by name and definition below instead.
POSTGRESQL_ONLY_INDEXES = {"ix_enrolments_review_search"}


def _not_postgresql_only(obj, name, type_, _reflected, _compare_to) -> bool:
    return not (type_ == "index" and name in POSTGRESQL_ONLY_INDEXES)


def test_migrations_match_the_model(database_url):
    engine = make_engine(database_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": _not_postgresql_only})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == []


def test_the_queue_search_has_its_trigram_index_on_postgresql(pg_migrated):
    """The index's expression is the one the queue's search uses, or the planner ignores it.
    (pg_trgm is a PostgreSQL extension: SQLite searches the same expression unindexed.)"""
    from dashboard.enrolment.review import SEARCH_TEXT_SQL

    if pg_migrated is None:
        pytest.skip("TEST_DATABASE_URL not set (PostgreSQL tests run in CI)")
    engine = make_engine(pg_migrated)
    with engine.connect() as conn:
        definition = conn.scalar(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_enrolments_review_search'")
        )
        # An empty table has no statistics to choose by: inside a transaction rolled back
        # below, take away the other partial indexes and the sequential scan, so the plan
        # shows whether the trigram index can serve this very expression at all.
        conn.execute(text("DROP INDEX ix_enrolments_review_queue"))
        conn.execute(text("DROP INDEX ix_enrolments_review_by_professional"))
        conn.execute(text("DROP INDEX ix_enrolments_state"))
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(
            conn.scalars(
                text(
                    "EXPLAIN SELECT id FROM enrolments WHERE state = 'pending_review' AND "
                    f"{SEARCH_TEXT_SQL} LIKE '%schmit%'"
                )
            )
        )
        conn.rollback()
    engine.dispose()
    assert definition is not None and "gin_trgm_ops" in definition
    assert "ix_enrolments_review_search" in plan


def test_upgrade_is_idempotent_and_at_head(database_url):
    schema.upgrade(database_url)
    engine = make_engine(database_url)
    assert schema.is_up_to_date(engine)
    engine.dispose()


def test_upgrade_from_0001_fills_the_comparison_kinds(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    schema.upgrade(url, "0001")
    engine = make_engine(url)
    comparison = {
        "matches": False,
        "fields": [
            {"field": "last_name", "kind": "typo"},
            {"field": "birth_date", "kind": "identical"},
        ],
    }
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO professionals (id, last_name, first_names, email, language, active,"
                " created_at) VALUES (1, 'Weber', 'Paul', 'p@cabinet.lu', 'fr', 1,"
                " '2026-01-01 00:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO enrolments (id, professional_id, state, wrong_matricule_count,"
                " expires_at, created_at, updated_at, version, language) VALUES (1, 1,"
                " 'identity_mismatch', 0, '2026-02-01', '2026-01-01', '2026-01-01', 1, 'fr')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO luxtrust_identities (id, enrolment_id, matches, comparison,"
                " received_at) VALUES (1, 1, 0, :c, '2026-01-01')"
            ),
            {"c": json.dumps(comparison)},
        )
    engine.dispose()
    schema.upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT last_name_kind, first_names_kind, birth_date_kind FROM luxtrust_identities"
            )
        ).one()
    engine.dispose()
    assert tuple(row) == ("typo", None, "identical")


def test_the_command_line_upgrades_an_empty_database(tmp_path):
    from dashboard.__main__ import main
    from dashboard.config import Settings

    url = f"sqlite:///{tmp_path / 'sub' / 'new.sqlite3'}"
    assert main(["db", "upgrade"], settings=Settings(env="test", database_url=url)) == 0
    engine = make_engine(url)
    assert schema.is_up_to_date(engine)
    engine.dispose()


@pytest.mark.parametrize("statement", ["UPDATE events SET action = 'x'", "DELETE FROM events"])
def test_the_audit_trail_refuses_changes_in_sql(database_url, statement):
    engine = make_engine(database_url)
    with engine.connect() as conn:
        conn.execute(
            text(
                "INSERT INTO events (action, actor_type, created_at) VALUES ('t', 'system',"
                " '2026-01-01 00:00:00+00:00')"
            )
        )
        conn.commit()
        with pytest.raises(Exception, match="append-only"):
            conn.execute(text(statement))
        conn.rollback()
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path):
    """A database of its own with no schema yet (to migrate step by step)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'steps.sqlite3'}"
        return
    from tests.conftest import PG_URL

    if not PG_URL:
        pytest.skip("TEST_DATABASE_URL not set (PostgreSQL tests run in CI)")
    import uuid

    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    from dashboard.enrolment.db import normalise_url

    name = f"esante_steps_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(normalise_url(PG_URL)).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_upgrade_keeps_every_link_open_and_names_every_account(empty_database):
    """0012: links get an id and an end, accounts a directory id; nothing is lost."""
    url = empty_database
    schema.upgrade(url, "0007")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO professionals (id, last_name, first_names, email, language, active,"
                " created_at) VALUES (1, 'Weber', 'Paul', 'p@cabinet.lu', 'fr', true,"
                " '2026-01-01 00:00:00+00'), (2, 'Muller', 'Anne', 'a@cabinet.lu', 'fr', true,"
                " '2026-01-01 00:00:00+00')"
            )
        )
        for account in (1, 2, 3):
            conn.execute(
                text(
                    "INSERT INTO secretary_accounts (id, matricule, status, created_at)"
                    " VALUES (:id, :m, 'active', '2026-01-02 00:00:00+00')"
                ),
                {"id": account, "m": f"198504121234{account}"},
            )
        for account, prof in ((1, 1), (1, 2), (2, 1), (3, 2)):
            conn.execute(
                text(
                    "INSERT INTO account_links (account_id, professional_id, linked_at)"
                    " VALUES (:a, :p, '2026-01-03 00:00:00+00')"
                ),
                {"a": account, "p": prof},
            )
    engine.dispose()
    schema.upgrade(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        links = conn.execute(
            text("SELECT id, account_id, professional_id, ended_at FROM account_links ORDER BY id")
        ).all()
        ids = conn.scalars(text("SELECT directory_id FROM secretary_accounts")).all()
        # The serial goes on after the copied rows, and an open duplicate is refused.
        conn.execute(
            text(
                "INSERT INTO account_links (account_id, professional_id, linked_at, ended_at)"
                " VALUES (2, 1, '2026-02-01 00:00:00+00', '2026-02-02 00:00:00+00')"
            )
        )
        new_id = conn.scalar(text("SELECT max(id) FROM account_links"))
    with pytest.raises(Exception, match="(?i)unique"), engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO account_links (account_id, professional_id, linked_at)"
                " VALUES (2, 1, '2026-02-03 00:00:00+00')"
            )
        )
    engine.dispose()
    assert [(a, p, e) for _, a, p, e in links] == [
        (1, 1, None),
        (1, 2, None),
        (2, 1, None),
        (3, 2, None),
    ]
    assert new_id == len(links) + 1
    assert len(set(ids)) == 3 and all(len(i) == 36 for i in ids)


def test_the_provisioning_migration_goes_down_and_up_again(empty_database):
    """0012 downgrades to the old links (open ones) and upgrades again to the same schema."""
    schema.upgrade(empty_database)
    head = schema.head_revision(empty_database)
    from alembic import command

    command.downgrade(schema.alembic_config(empty_database), "0010")
    schema.upgrade(empty_database)
    engine = make_engine(empty_database)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": _not_postgresql_only})
        assert context.get_current_revision() == head
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


def test_upgrade_to_0008_keeps_staff_that_cases_refer_to(tmp_path):
    """The lockout columns go while enrolments, decisions and notes point at staff_users
    (SQLite refuses to drop and rebuild a table other rows refer to)."""
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    schema.upgrade(url, "0007")
    engine = make_engine(url)
    at = "'2026-01-01 00:00:00+00:00'"
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO staff_users (email, display_name, password_hash, active,"
                f" failed_logins, locked_until, language, created_at) VALUES ('r@esante.lu',"
                f" 'R', 'x', 1, 4, {at}, 'fr', {at})"
            )
        )
        conn.execute(text("INSERT INTO staff_roles (user_id, role) VALUES (1, 'reviewer')"))
        conn.execute(
            text(
                "INSERT INTO professionals (last_name, first_names, email, language, active,"
                f" created_at) VALUES ('H', 'J', 'h@cabinet.lu', 'fr', 1, {at})"
            )
        )
        conn.execute(
            text(
                "INSERT INTO enrolments (professional_id, language, state,"
                " wrong_matricule_count, expires_at, created_at, updated_at, version,"
                f" assignee_id) VALUES (1, 'fr', 'pending_review', 0, {at}, {at}, {at}, 1, 1)"
            )
        )
    engine.dispose()
    schema.upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        columns = {c["name"] for c in inspect(conn).get_columns("staff_users")}
        assert conn.execute(text("SELECT id, email FROM staff_users")).all() == [(1, "r@esante.lu")]
        assert conn.execute(text("SELECT assignee_id FROM enrolments")).scalar() == 1
        assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
    engine.dispose()
    assert not {"failed_logins", "locked_until"} & columns
