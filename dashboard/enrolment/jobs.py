"""The background jobs' bookkeeping: who may run a periodic job now, and how each last ran.

A periodic job (expiry, reminders, purge, metrics refresh) runs at most once at a time
across every worker: on PostgreSQL its worker holds a session-level advisory lock on a
connection of its own for the whole run; a worker that dies loses its connection, and the
server releases the lock with it. SQLite has no such lock: there one worker runs
(dashboard/worker.py refuses a second). Queue work (mail, provisioning) needs no lock: its
rows are leased one by one.

`job_runs` keeps each job's last start, end, outcome and count (no personal data: an error
is its kind only); `job_status` reads them for the operator's view (/metrics).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Engine, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from dashboard.enrolment.model import JobRun
from dashboard.enrolment.uow import UnitOfWork

log = logging.getLogger(__name__)

RUNNING, OK, FAILED = "running", "ok", "failed"


# --- at most one at a time ----------------------------------------------------------------


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory lock key for the job (the same in every worker)."""
    digest = hashlib.sha256(f"esante-job:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextlib.contextmanager
def exclusive(engine: Engine, name: str) -> Iterator[bool]:
    """Yield True when this process may run `name` now (and holds it until the end), False
    when another worker is running it. On SQLite, always True (a single worker)."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    key = lock_key(name)
    conn = engine.connect()
    held = False
    try:
        held = bool(conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}))
        conn.commit()  # the lock is the session's, not the transaction's: no transaction open
        yield held
    finally:
        try:
            if held:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                conn.commit()
        except Exception:
            # Unlock failed (the server went away?): never give the pool a connection that
            # may still hold the lock; closing it releases the lock on the server.
            conn.invalidate()
        finally:
            conn.close()


# --- how each job last ran ------------------------------------------------------------------


def _row(session: Session, name: str) -> None:
    """Make sure the job's row exists (two workers may create it at once)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(JobRun)
        .values(name=name, runs=0, failures=0)
        .on_conflict_do_nothing(index_elements=[JobRun.name])
    )


def record_start(
    session_factory: sessionmaker[Session], name: str, now: dt.datetime, worker: str
) -> None:
    with session_factory() as session:
        _row(session, name)
        session.execute(
            update(JobRun)
            .where(JobRun.name == name)
            .values(
                last_started_at=now,
                last_outcome=RUNNING,
                worker=worker[:120],
                runs=JobRun.runs + 1,
            )
        )
        session.commit()


def record_end(
    session_factory: sessionmaker[Session],
    name: str,
    now: dt.datetime,
    *,
    count: int | None = None,
    error: str | None = None,
) -> None:
    """The run's end: its count, or the kind of error that stopped it (never a value)."""
    values = {"last_finished_at": now, "last_count": count}
    if error is None:
        values.update(last_outcome=OK, last_error=None, last_success_at=now)
    else:
        values.update(last_outcome=FAILED, last_error=error[:200], failures=JobRun.failures + 1)
    with session_factory() as session:
        _row(session, name)
        session.execute(update(JobRun).where(JobRun.name == name).values(**values))
        session.commit()


def last_success(session_factory: sessionmaker[Session], name: str) -> dt.datetime | None:
    with session_factory() as session:
        return session.scalar(select(JobRun.last_success_at).where(JobRun.name == name))


@dataclass(frozen=True)
class JobStatus:
    """One job's last run, as the operator's view shows it (times are UTC)."""

    name: str
    last_started_at: dt.datetime | None
    last_finished_at: dt.datetime | None
    last_outcome: str | None  # running, ok or failed
    last_count: int | None  # what the run handled (mails, enrolments, days…)
    last_error: str | None  # the kind of failure (e.g. "database unreachable")
    last_success_at: dt.datetime | None
    runs: int
    failures: int
    worker: str | None  # host:pid of the worker that ran it last


def job_status(uow: UnitOfWork) -> list[JobStatus]:
    """Every job that ever ran, by name."""
    return [
        JobStatus(
            r.name,
            r.last_started_at,
            r.last_finished_at,
            r.last_outcome,
            r.last_count,
            r.last_error,
            r.last_success_at,
            r.runs or 0,
            r.failures or 0,
            r.worker,
        )
        for r in uow.session.scalars(select(JobRun).order_by(JobRun.name))
    ]
