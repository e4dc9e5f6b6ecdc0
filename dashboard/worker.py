"""The background worker (`python -m dashboard worker`): every job nobody clicks for, each on
its own interval (WORKER_*_SECONDS), in one loop.

Why a plain loop and not APScheduler: the jobs are few and short, one at a time per worker
is what SIGTERM needs (finish the current job, then stop), and the loop reads the
injectable clock, so tests drive it through days without sleeping. The state that matters
lives in the database anyway: the mail queue's leases, the advisory locks
(enrolment/jobs.py) and `job_runs`.

Several workers are safe on PostgreSQL: queue jobs lease their rows, periodic jobs run at
most once at a time across workers (advisory lock) and not again before their interval
(`job_runs.last_success_at`). On SQLite one worker runs: a second one refuses to start.
A job that raises (database or SMTP down, a bug) is logged by kind, recorded, and tried
again after a pause that doubles up to MAX_PAUSE; the worker itself goes on.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from dashboard.config import Settings
from dashboard.enrolment import housekeeping, jobs, mail, provisioning, rollup
from dashboard.enrolment.bootstrap import Backend
from dashboard.enrolment.db import failure_kind

log = logging.getLogger("dashboard.worker")

MAX_PAUSE = 300.0  # seconds: the longest wait before a failing job is tried again
TICK = 1.0  # seconds: the longest the loop sleeps without looking at the clock


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[Worker], int]  # returns what it handled (mails, enrolments, days…)
    interval: Callable[[Settings], int]  # seconds between two runs
    exclusive: bool = True  # periodic: at most once at a time across all workers
    full: int | None = None  # a run that handled this many goes again at once (a backlog)


def _in_uow(work: Callable) -> Callable[[Worker], int]:
    def run(worker: Worker) -> int:
        with worker.backend.uow() as uow:
            return work(uow, worker)

    return run


def _mail(worker: Worker) -> int:
    return worker.backend.deliver_mail(worker.transport, stop=worker.stop).handled


def _provisioning(worker: Worker) -> int:
    return worker.backend.deliver_provisioning(stop=worker.stop).handled


def _metrics(uow, _worker) -> int:
    return rollup.refresh(uow).days or 0


# The jobs, each calling exactly what its command does (`mail send`, `expire`, `purge`,
# `metrics refresh`), plus the reminders.
JOBS: tuple[Job, ...] = (
    Job("mail", _mail, lambda s: s.worker_mail_seconds, exclusive=False, full=mail.BATCH),
    # The identity platform (SCIM outbox): leased per row like the mail.
    Job(
        "provisioning",
        _provisioning,
        lambda s: s.worker_provisioning_seconds,
        exclusive=False,
        full=provisioning.BATCH,
    ),
    Job(
        "expire",
        _in_uow(lambda uow, _w: housekeeping.expire_stale(uow)),
        lambda s: s.worker_expire_seconds,
    ),
    Job(
        "reminders",
        _in_uow(lambda uow, w: housekeeping.send_reminders(uow, stop=w.stop)),
        lambda s: s.worker_reminders_seconds,
    ),
    Job(
        "purge",
        _in_uow(lambda uow, _w: housekeeping.purge_personal_data(uow)),
        lambda s: s.worker_purge_seconds,
    ),
    Job("metrics", _in_uow(_metrics), lambda s: s.worker_metrics_seconds),
)


def error_kind(exc: BaseException) -> str:
    """What failed, without a value (SQL parameters and relay answers may hold personal
    data): "database unreachable", "database schema", … or the exception's class."""
    if isinstance(exc, SQLAlchemyError):
        return f"database {failure_kind(exc)} ({type(exc).__name__})"
    return type(exc).__name__


class AnotherWorker(RuntimeError):
    """SQLite: a worker already runs on this database."""


class _SQLiteSingleWorker:
    """SQLite has no advisory locks: an exclusive lock on a file beside the database keeps
    a second worker out (released by the system when the process ends, however)."""

    def __init__(self, database_url: str):
        url = make_url(database_url)
        db = url.database
        self.path = Path(f"{db}.worker-lock") if db and db != ":memory:" else None
        self.file = None

    def __enter__(self):
        if self.path is None:
            return self
        import fcntl

        self.file = open(self.path, "a+")  # noqa: SIM115 - held for the worker's life
        try:
            fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.file.close()
            self.file = None
            raise AnotherWorker(
                f"un autre worker tourne déjà sur cette base SQLite ({self.path.name}) : "
                "SQLite n'accepte qu'un worker (plusieurs workers : PostgreSQL)"
            ) from None
        return self

    def __exit__(self, *exc):
        if self.file is not None:
            self.file.close()  # releases the lock
            self.file = None


class Worker:
    """Runs the due jobs of `jobs`, one at a time, until `stop` is set."""

    def __init__(
        self,
        backend: Backend,
        *,
        transport: mail.Transport | None = None,
        jobs_table: tuple[Job, ...] = JOBS,
        stop: threading.Event | None = None,
        name: str | None = None,
    ):
        self.backend = backend
        self.transport = transport
        self.jobs = jobs_table
        self.stop = stop or threading.Event()
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        now = self.clock()
        self.next_due = {job.name: now for job in self.jobs}
        self.failures = dict.fromkeys(self.next_due, 0)

    def clock(self) -> dt.datetime:
        return self.backend.clock()

    @property
    def settings(self) -> Settings:
        return self.backend.settings

    # --- one pass ---------------------------------------------------------------------------

    def run_due(self) -> dict[str, str]:
        """Run every job that is due now; returns each one's outcome (tests, logs)."""
        outcomes = {}
        for job in self.jobs:
            if self.stop.is_set():
                break
            if self.next_due[job.name] <= self.clock():
                outcomes[job.name] = self.run_job(job)
        return outcomes

    def run_job(self, job: Job) -> str:
        """ "ok", "failed", "busy" (another worker runs it) or "done" (another worker ran it
        within its interval). Never raises."""
        interval = dt.timedelta(seconds=job.interval(self.settings))
        engine = self.backend.engine
        try:
            lock = (
                jobs.exclusive(engine, job.name) if job.exclusive else contextlib.nullcontext(True)
            )
            with lock as held:
                if not held:
                    self.next_due[job.name] = self.clock() + interval
                    return "busy"
                if job.exclusive:
                    last = jobs.last_success(self.backend.session_factory, job.name)
                    if last is not None and last + interval > self.clock():
                        self.next_due[job.name] = last + interval
                        return "done"
                return self._run_holding(job, interval)
        except Exception as exc:  # taking or releasing the lock: the database is down
            return self._failed(job, exc, record=False)

    def _run_holding(self, job: Job, interval: dt.timedelta) -> str:
        factory = self.backend.session_factory
        jobs.record_start(factory, job.name, self.clock(), self.name)
        try:
            count = job.run(self)
        except Exception as exc:
            return self._failed(job, exc)
        self.failures[job.name] = 0
        with contextlib.suppress(Exception):  # the work is done; its record may wait
            jobs.record_end(factory, job.name, self.clock(), count=count)
        again = job.full is not None and count >= job.full and not self.stop.is_set()
        self.next_due[job.name] = self.clock() if again else self.clock() + interval
        if count:
            log.info("job %s: %s handled", job.name, count)
        return "ok"

    def _failed(self, job: Job, exc: Exception, *, record: bool = True) -> str:
        self.failures[job.name] += 1
        interval = job.interval(self.settings)
        pause = min(interval * 2 ** self.failures[job.name], max(interval, MAX_PAUSE))
        self.next_due[job.name] = self.clock() + dt.timedelta(seconds=pause)
        kind = error_kind(exc)
        log.warning("job %s failed (%s); next try in %g s", job.name, kind, pause)
        if record:
            try:
                jobs.record_end(self.backend.session_factory, job.name, self.clock(), error=kind)
            except Exception as again:
                log.warning("job %s: its failure not recorded (%s)", job.name, error_kind(again))
        return "failed"

    # --- the loop ---------------------------------------------------------------------------

    def pause(self) -> float:
        """Seconds until the next job is due (at most TICK: the clock may be moved)."""
        wait = (min(self.next_due.values()) - self.clock()).total_seconds()
        return max(0.0, min(wait, TICK))

    def run_forever(self) -> None:
        log.info("worker %s started: %s", self.name, ", ".join(j.name for j in self.jobs))
        while not self.stop.is_set():
            self.run_due()
            self.stop.wait(self.pause())
        log.info("worker %s stopped", self.name)


def single_worker_guard(settings: Settings):
    """On SQLite, the lock that keeps a second worker out; elsewhere nothing."""
    if make_url(settings.database_url).get_backend_name() == "sqlite":
        return _SQLiteSingleWorker(settings.database_url)
    return contextlib.nullcontext()


class StopOnSignals:
    """SIGTERM and Ctrl-C set `stop`: the job under way finishes (a mail send within
    mail.SEND_DEADLINE, a pass at its next batch), what it holds is released, the loop ends."""

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self, stop: threading.Event):
        self.stop, self.previous = stop, {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in self.SIGNALS:
                self.previous[sig] = signal.signal(sig, lambda _sig, _frame: self.stop.set())
        return self

    def __exit__(self, *exc):
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)


def start_embedded(backend: Backend) -> Worker | None:
    """The worker in a thread beside the development server (`make run`): returned running
    (`.stop` ends it, `.thread` is its thread); None when another worker already holds this
    SQLite database."""
    guard = single_worker_guard(backend.settings)
    try:
        guard.__enter__()
    except AnotherWorker as exc:
        log.warning("embedded worker not started: %s", exc)
        return None
    worker = Worker(backend, transport=mail.transport_from_settings(backend.settings))

    def run() -> None:
        try:
            worker.run_forever()
        finally:
            guard.__exit__(None, None, None)

    worker.thread = threading.Thread(target=run, name="worker", daemon=True)
    worker.thread.start()
    return worker
