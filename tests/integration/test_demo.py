"""The demo data on a real database (SQLite, and PostgreSQL when TEST_DATABASE_URL is set):
nothing it writes is dated after the moment it was loaded, and the summary that
`python -m dashboard demo` and the first start of `run` print is what the database holds.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from dashboard.__main__ import main
from dashboard.config import PROJECT_ROOT
from dashboard.enrolment import demo
from dashboard.enrolment.db import make_engine
from dashboard.enrolment.model import Base, Enrolment, Professional, StaffUser, UTCDateTime
from tests.conftest import free_port

# Moments that lie ahead by design: when a link expires, a lockout ends, a lease runs out.
AHEAD_BY_DESIGN = {
    "enrolments.expires_at",
    "staff_users.locked_until",
    "outbox.lease_until",
    "provisioning_outbox.lease_until",  # a lease ends in the future by design
}
SUMMARY = re.compile(r"(\d+) professionnels, (\d+) déclarations dont (\d+) corrections?\.")


def _latest_moments(connection) -> dict[str, dt.datetime]:
    """The latest value of every timestamp column that records something that happened."""
    latest = {}
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            name = f"{table.name}.{column.name}"
            if isinstance(column.type, UTCDateTime) and name not in AHEAD_BY_DESIGN:
                value = connection.execute(select(func.max(column))).scalar()
                if value is not None:
                    latest[name] = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return latest


def _database_counts(connection) -> tuple[int, int, int, int]:
    """(professionals, declarations, corrections, staff accounts) as the database has them:
    a correction is a declaration that superseded an earlier one."""
    return (
        connection.scalar(select(func.count()).select_from(Professional)),
        connection.scalar(select(func.count()).select_from(Enrolment)),
        connection.scalar(select(func.count(func.distinct(Enrolment.superseded_by_id)))),
        connection.scalar(select(func.count()).select_from(StaffUser)),
    )


def _summary(out: str) -> tuple[int, int, int, int]:
    match = SUMMARY.search(out)
    assert match, out
    staff = re.findall(r"^\s+\S+@esante\.lu\s+\S+\s+\(.+\)$", out, re.M)
    return (*(int(n) for n in match.groups()), len(staff))


def test_the_demo_writes_nothing_after_the_moment_it_was_loaded(sqlite_backend, clock):
    # SQLite only: the moments come from the demo's clock, not the database (the command's
    # test below checks them on PostgreSQL too).
    result = demo.load(sqlite_backend)
    with sqlite_backend.engine.connect() as connection:
        latest = _latest_moments(connection)
    # The data set is the whole story: events, states, decisions, mail, accounts.
    for name in (
        "events.created_at",
        "enrolments.updated_at",
        "enrolments.device_confirmed_at",
        "enrolments.decided_at",
        "decisions.created_at",
        "decisions.confirmed_at",
        "outbox.created_at",
        "outbox.next_attempt_at",
        "secretary_accounts.created_at",
    ):
        assert name in latest, name
    later = {name: value for name, value in latest.items() if value > clock.now}
    assert later == {}, f"dated after {clock.now}: {later}"
    assert result.enrolments > 150  # the personas' open invitations besides


def test_the_demo_command_prints_what_it_created(settings, capsys):
    assert main(["demo", "--enrolments", "40"], settings=settings) == 0
    out, err = capsys.readouterr()
    loaded = dt.datetime.now(dt.UTC)
    assert err == ""
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            counts = _database_counts(connection)
            latest = _latest_moments(connection)
    finally:
        engine.dispose()
    professionals, declarations, corrections, staff = _summary(out)
    assert (professionals, declarations, corrections, staff) == counts
    assert corrections >= 1  # the re-declarations are counted, and said
    assert max(latest.values()) <= loaded
    # The line the command always printed is still there, as it was.
    assert f"{professionals} professionnels, {declarations} déclarations" in out


def test_the_first_start_prints_what_it_created(tmp_path):
    """`python -m dashboard run` on an empty database loads the demo and says what it made."""
    url = f"sqlite:///{tmp_path}/first.sqlite3"
    env = {**os.environ, "DATABASE_URL": url, "DASHBOARD_ENV": "development"}
    for name in ("SMTP_URL", "BASE_URL", "DEMO_ON_FIRST_START"):
        env.pop(name, None)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "dashboard", "run", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
    )
    lines = []
    try:
        for line in server.stdout:
            lines.append(line)
            if "L'application est prête" in line:
                break
    finally:
        server.terminate()
        server.wait(timeout=30)
        server.stdout.close()
    out = "".join(lines)
    assert "Première utilisation : chargement des données de démonstration" in out, out
    loaded = dt.datetime.now(dt.UTC)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            counts = _database_counts(connection)
            latest = _latest_moments(connection)
    finally:
        engine.dispose()
    assert _summary(out) == counts
    assert max(latest.values()) <= loaded


@pytest.mark.parametrize("enrolments", [0, 1])
def test_a_small_demo_counts_right_too(settings, capsys, enrolments):
    assert main(["demo", "--enrolments", str(enrolments)], settings=settings) == 0
    out, _ = capsys.readouterr()
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            assert _summary(out) == _database_counts(connection)
    finally:
        engine.dispose()
