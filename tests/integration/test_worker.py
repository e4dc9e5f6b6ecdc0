"""The background worker: every job on its interval, at most one at a time across workers,
never stopped by a failing job, stopped cleanly by SIGTERM, each run recorded."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select, text

from dashboard import worker as wk
from dashboard.config import Settings
from dashboard.enrolment import jobs, mail, operations
from dashboard.enrolment.bootstrap import Backend
from dashboard.enrolment.db import make_engine
from dashboard.enrolment.model import Enrolment, OutboxEmail
from tests import factories as f
from tests.conftest import SmtpServer, free_port

ROOT = Path(__file__).resolve().parents[2]


def outbox(backend) -> list[OutboxEmail]:
    with backend.uow() as uow:
        return uow.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)).all()


def status(backend) -> dict[str, jobs.JobStatus]:
    with backend.uow() as uow:
        return {s.name: s for s in jobs.job_status(uow)}


def only(name: str, run, interval: int = 60, exclusive: bool = True) -> tuple[wk.Job, ...]:
    return (wk.Job(name, run, lambda _s: interval, exclusive=exclusive),)


def test_every_job_runs_on_its_interval_and_each_run_is_recorded(backend, clock, smtp_server):
    backend.settings = backend.settings.replace(smtp_url=smtp_server.url)
    prof = f.professional(backend)
    f.declare(backend, prof)
    w = wk.Worker(backend, transport=mail.transport_from_settings(backend.settings))
    everything = ["mail", "provisioning", "expire", "reminders", "purge", "metrics"]
    assert w.run_due() == dict.fromkeys(everything, "ok")
    assert len(smtp_server.inbox.wait_for(1)) == 1  # the invitation went out
    seen = status(backend)
    assert set(seen) == set(everything)
    assert seen["mail"].last_outcome == "ok" and seen["mail"].last_count == 1
    assert seen["mail"].last_started_at == clock() and seen["mail"].last_success_at == clock()
    assert all(s.runs == 1 and s.failures == 0 and s.last_error is None for s in seen.values())

    # Nothing is due before its interval: mail every 10 s, metrics 1 min, expiry 5 min…
    clock.advance(seconds=10)
    assert w.run_due() == {"mail": "ok", "provisioning": "ok"}
    clock.advance(seconds=290)
    # not the reminders (10 min)
    assert set(w.run_due()) == {"mail", "provisioning", "expire", "metrics"}
    # Day 7: the reminders job sends the reminder, the mail job delivers it.
    clock.advance(days=7)
    assert w.run_due()["reminders"] == "ok"
    assert status(backend)["reminders"].last_count == 1
    w.run_due()
    clock.advance(seconds=10)
    w.run_due()
    assert [m["Subject"] for _r, m in smtp_server.inbox.wait_for(2)][1].startswith("Rappel")


def test_the_operator_reads_each_jobs_last_success(backend, clock):
    """operations.job_last_success feeds /metrics (esante_job_last_success_timestamp_seconds)."""

    def broken(_w):
        raise RuntimeError("boom")

    with backend.uow() as uow:
        assert operations.job_last_success(uow) == {}
    wk.Worker(backend, jobs_table=only("expire", lambda _w: 0) + only("purge", broken)).run_due()
    with backend.uow() as uow:
        assert operations.job_last_success(uow) == {"expire": clock()}  # purge never succeeded


def test_a_second_worker_does_not_run_a_job_another_one_just_ran(backend, clock):
    calls = []
    table = only("tally", lambda _w: calls.append(1) or 1, interval=300)
    first, second = wk.Worker(backend, jobs_table=table), wk.Worker(backend, jobs_table=table)
    assert first.run_due() == {"tally": "ok"}
    assert second.run_due() == {"tally": "done"}  # within its interval: not again
    assert second.next_due["tally"] == clock() + dt.timedelta(seconds=300)
    clock.advance(seconds=300)
    assert second.run_due() == {"tally": "ok"}
    assert len(calls) == 2


def test_a_failing_job_is_recorded_backs_off_and_the_others_go_on(backend, clock):
    broken = {"yes": True}

    def flaky(_w):
        if broken["yes"]:
            raise ConnectionError("relay at 10.0.0.1 refused marie.schmit@example.lu")
        return 3

    table = (
        wk.Job("flaky", flaky, lambda _s: 10),
        wk.Job("steady", lambda _w: 1, lambda _s: 10),
    )
    w = wk.Worker(backend, jobs_table=table)
    assert w.run_due() == {"flaky": "failed", "steady": "ok"}
    seen = status(backend)["flaky"]
    assert seen.last_outcome == "failed" and seen.failures == 1
    assert seen.last_error == "ConnectionError"  # the kind, never the message (an address)
    clock.advance(seconds=10)
    assert w.run_due() == {"steady": "ok"}  # flaky waits 20 s after its first failure
    clock.advance(seconds=10)
    assert w.run_due() == {"flaky": "failed", "steady": "ok"}
    clock.advance(seconds=30)
    assert "flaky" not in w.run_due()  # then 40 s…
    clock.advance(seconds=10)
    assert w.run_due()["flaky"] == "failed"  # …then 80 s
    broken["yes"] = False
    clock.advance(seconds=80)
    assert w.run_due()["flaky"] == "ok"
    seen = status(backend)["flaky"]
    assert seen.last_outcome == "ok" and seen.last_count == 3 and seen.failures == 3
    assert seen.last_error is None


def test_the_worker_survives_a_database_that_goes_away(sqlite_backend, clock):
    backend = sqlite_backend
    path = Path(backend.engine.url.database)
    w = wk.Worker(backend)
    assert set(w.run_due().values()) == {"ok"}
    backend.engine.dispose()
    path.rename(path.with_suffix(".away"))  # the next connection finds an empty database
    try:
        clock.advance(hours=2)
        outcomes = w.run_due()
        assert set(outcomes.values()) == {"failed"}, outcomes
    finally:
        backend.engine.dispose()
        for extra in path.parent.glob(path.name + "*"):
            extra.unlink()
        path.with_suffix(".away").rename(path)
    clock.advance(hours=2)
    assert set(w.run_due().values()) == {"ok"}
    assert all(s.last_outcome == "ok" for s in status(backend).values())


def test_an_unreachable_database_fails_every_job_without_stopping_the_worker(clock):
    settings = Settings(env="test", database_url=f"postgresql://nobody@127.0.0.1:{free_port()}/x")
    backend = Backend(settings, make_engine(settings.database_url), clock)
    w = wk.Worker(backend)
    outcomes = w.run_due()
    assert set(outcomes.values()) == {"failed"}
    assert w.failures["expire"] == 1 and w.next_due["expire"] > clock()
    backend.dispose()


def test_mail_waits_out_an_smtp_outage(backend, clock):
    port = free_port()
    backend.settings = backend.settings.replace(smtp_url=f"smtp://127.0.0.1:{port}")
    prof = f.professional(backend)
    f.declare(backend, prof)
    mail_only = tuple(j for j in wk.JOBS if j.name == "mail")
    w = wk.Worker(backend, transport=mail.transport_from_settings(backend.settings),
                  jobs_table=mail_only)  # fmt: skip
    assert w.run_due() == {"mail": "ok"}  # the relay is down: the mail is kept for later
    [row] = outbox(backend)
    assert row.status == "pending" and row.attempts == 1
    server = SmtpServer(port)
    server.start()
    try:
        clock.advance(seconds=30)  # its back-off
        assert w.run_due() == {"mail": "ok"}
        assert len(server.inbox.wait_for(1)) == 1
    finally:
        server.stop()
    assert outbox(backend)[0].status == "sent"


def test_a_mail_left_leased_by_a_dead_worker_is_sent_after_its_lease(backend, clock, smtp_server):
    backend.settings = backend.settings.replace(smtp_url=smtp_server.url)
    prof = f.professional(backend)
    f.declare(backend, prof)
    with backend.session_factory() as session:  # a worker killed during its send
        assert session.scalars(mail.lease_statement(clock(), "dead-worker")).one()
        session.commit()
    mail_only = tuple(j for j in wk.JOBS if j.name == "mail")
    w = wk.Worker(backend, transport=mail.transport_from_settings(backend.settings),
                  jobs_table=mail_only)  # fmt: skip
    w.run_due()
    assert outbox(backend)[0].status == "pending"
    clock.advance(seconds=mail.LEASE.total_seconds() + 1)
    w.run_due()
    assert outbox(backend)[0].status == "sent"
    assert len(smtp_server.inbox.wait_for(1)) == 1


# --- at most one at a time ---------------------------------------------------------------


@pytest.fixture
def pg_backend(pg_migrated, clock):
    """PostgreSQL only: advisory locks (SQLite runs a single worker, refused below)."""
    from tests.conftest import _truncate_pg

    if pg_migrated is None:
        pytest.skip("TEST_DATABASE_URL not set (PostgreSQL tests run in CI)")
    _truncate_pg(pg_migrated)
    settings = Settings(
        env="test",
        database_url=pg_migrated,
        base_url="http://testserver",
        secret_key="test-secret-key-" + "x" * 32,
    )
    backend = Backend(settings, make_engine(pg_migrated), clock)
    yield backend
    backend.dispose()


def test_two_workers_never_run_the_same_periodic_job_at_once(pg_backend, clock):
    backend = pg_backend
    inside, peak, runs = [0], [0], [0]
    guard = threading.Lock()

    def job(_w):
        with guard:
            inside[0] += 1
            peak[0] = max(peak[0], inside[0])
            runs[0] += 1
        time.sleep(0.002)  # long enough for the others to try meanwhile
        with guard:
            inside[0] -= 1
        return 1

    table = only("exclusive", job, interval=0)
    backends = [
        Backend(backend.settings, make_engine(backend.settings.database_url), clock)
        for _ in range(4)
    ]
    outcomes: list[str] = []

    def hammer(b):
        w = wk.Worker(b, jobs_table=table)
        for _ in range(25):
            outcomes.append(w.run_job(table[0]))

    threads = [threading.Thread(target=hammer, args=(b,)) for b in backends]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for b in backends:
        b.dispose()
    assert peak[0] == 1
    assert "failed" not in outcomes
    assert outcomes.count("ok") == runs[0] >= 1
    assert outcomes.count("busy") >= 1  # they did meet


def test_a_worker_waits_its_turn_while_another_holds_the_job(pg_backend, clock):
    backend = pg_backend
    started, release = threading.Event(), threading.Event()

    def slow(_w):
        started.set()
        release.wait(10)
        return 1

    table = only("slow", slow, interval=0)
    other = Backend(backend.settings, make_engine(backend.settings.database_url), clock)
    first = threading.Thread(target=wk.Worker(backend, jobs_table=table).run_due)
    first.start()
    assert started.wait(10)
    assert wk.Worker(other, jobs_table=table).run_due() == {"slow": "busy"}
    assert status(backend)["slow"].last_outcome == "running"
    release.set()
    first.join(10)
    assert wk.Worker(other, jobs_table=table).run_due() == {"slow": "ok"}
    other.dispose()


HOLD_LOCK = """
import sys, time
from dashboard.enrolment import jobs
from dashboard.enrolment.db import make_engine
with jobs.exclusive(make_engine(sys.argv[1]), "expire") as held:
    print("held" if held else "busy", flush=True)
    time.sleep(60)
"""


def test_a_worker_killed_mid_job_releases_its_lock(pg_backend, clock):
    backend = pg_backend
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, backend.settings.database_url],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline().strip() == "held"
        with jobs.exclusive(backend.engine, "expire") as held:
            assert not held  # another worker is in the middle of it
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    # Killed: its connection closed, the server released the lock; nothing else to clean.
    deadline = time.monotonic() + 10
    while True:
        with jobs.exclusive(backend.engine, "expire") as held:
            if held or time.monotonic() > deadline:
                break
        time.sleep(0.05)
    assert held
    assert wk.Worker(backend).run_job(next(j for j in wk.JOBS if j.name == "expire")) == "ok"


def test_sqlite_refuses_a_second_worker(sqlite_backend):
    first, second = (wk.single_worker_guard(sqlite_backend.settings) for _ in range(2))
    with first, pytest.raises(wk.AnotherWorker, match="SQLite"), second:
        pass
    with wk.single_worker_guard(sqlite_backend.settings):
        pass  # released with the first


def test_make_run_starts_the_worker_beside_the_app_once(sqlite_backend):
    embedded = wk.start_embedded(sqlite_backend)
    try:
        assert embedded is not None and embedded.thread.is_alive()
        assert wk.start_embedded(sqlite_backend) is None  # a second one is refused
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            seen = status(sqlite_backend).get("metrics")
            if seen is not None and seen.last_outcome == "ok":
                break
            time.sleep(0.05)
        assert seen.last_outcome == "ok"
    finally:
        embedded.stop.set()
        embedded.thread.join(10)
    assert not embedded.thread.is_alive()


# --- the command ----------------------------------------------------------------------------


def _env(settings: Settings, **extra) -> dict:
    return {
        **os.environ,
        "DASHBOARD_ENV": "test",
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": settings.secret_key,
        "BASE_URL": settings.base_url,
        **extra,
    }


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_stops_the_worker_cleanly(backend, clock, smtp_server, sig):
    clock.now = dt.datetime.now(dt.UTC)  # the child reads the real clock
    prof = f.professional(backend)
    for n in range(3):
        f.declare(backend, prof, email=f"s{n}@example.lu", matricule=f.wrong_matricule(n))
    child = subprocess.Popen(
        [sys.executable, "-m", "dashboard", "worker"],
        cwd=ROOT,
        env=_env(backend.settings, SMTP_URL=smtp_server.url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert len(smtp_server.inbox.wait_for(3, timeout=30)) == 3
        deadline = time.monotonic() + 30
        while "metrics" not in status(backend) and time.monotonic() < deadline:
            time.sleep(0.05)
        child.send_signal(sig)
        out, err = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, err
    assert "Arrêt du worker." in out
    assert "stopped" in err
    seen = status(backend)
    assert all(s.last_outcome != "running" for s in seen.values()), seen
    assert all(r.status == "sent" for r in outbox(backend))
    assert all(r.lease_owner is None for r in outbox(backend))  # nothing left held


def test_worker_once_runs_what_is_due_and_says_so(backend, capsys):
    from dashboard.__main__ import main

    assert main(["worker", "--once"], settings=backend.settings) == 0
    out = capsys.readouterr().out
    assert "expire : ok" in out and "reminders : ok" in out
    with backend.uow() as uow:
        assert uow.session.scalar(text("SELECT count(*) FROM job_runs")) == len(wk.JOBS)
        assert uow.session.scalar(select(Enrolment.id)) is None
