"""The background worker: how fast its mail job drains the outbox, and what one reminder pass
costs over a large table (with its query plans).

    python -m benchmarks worker [--messages N] [--workers 1,4] [--database URL]
                                [--due K] [--json]

* `worker_mail_drain`: N mails queued, then W workers (dashboard.worker.Worker with its
  mail job, each in a thread, as W `python -m dashboard worker` would be) send them to an
  SMTP server on loopback (aiosmtpd); ops_per_s = mails/s, once per W. More than one worker
  needs PostgreSQL (on SQLite a single worker runs: the others are skipped);
* `reminder_pass`: housekeeping.send_reminders over the database as it is (generate it first
  with `python -m benchmarks generate`), once with K secretaries due (K open invitations
  declared REMINDER_AFTER_DAYS ago are added) and then as the steady state, nothing due
  (p50 of 5 passes); extra.plans = the plan of each query the pass sent,
  extra.index_scan = every one of them reads a reminder index.

Without --database, a SQLite file under benchmarks/results/ is made afresh; a PostgreSQL
URL must name a bench* database (its outbox is emptied, reminders are sent in it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import socket
import threading
import time

from sqlalchemy import event, func, select

from benchmarks import mail as mail_bench
from benchmarks import runner
from benchmarks.generate import add_open_invitations, log
from dashboard import worker as wk
from dashboard.enrolment import housekeeping, mail
from dashboard.enrolment.model import Enrolment

PASSES = 5  # steady-state reminder passes measured
DRAIN_TIMEOUT = 600.0  # seconds: a drain slower than this is a failure, not a figure


def _drain_with_workers(backend, transport, count: int, relay, workers: int) -> float:
    table = tuple(job for job in wk.JOBS if job.name == "mail")
    pool = [
        wk.Worker(backend, transport=transport, jobs_table=table, name=f"bench-{i}")
        for i in range(workers)
    ]
    threads = [threading.Thread(target=w.run_forever, daemon=True) for w in pool]
    start, t0 = relay.accepted, time.perf_counter()
    for t in threads:
        t.start()
    try:
        while relay.accepted - start < count:
            if time.perf_counter() - t0 > DRAIN_TIMEOUT:
                raise SystemExit(f"{relay.accepted - start}/{count} mails after {DRAIN_TIMEOUT} s")
            time.sleep(0.005)
        return time.perf_counter() - t0
    finally:
        for w in pool:
            w.stop.set()
        for t in threads:
            t.join()


def _mail(backend, report, messages: int, workers: list[int]) -> None:
    from aiosmtpd.controller import Controller

    relay = mail_bench._Relay()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(relay, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        smtp = mail.SmtpTransport("127.0.0.1", port)
        for count in workers:
            if count > 1 and backend.engine.dialect.name != "postgresql":
                log(f"{count} workers: PostgreSQL only (one worker on SQLite), skipped")
                continue
            mail_bench._empty_outbox(backend)
            mail_bench._queue(backend, messages)
            log(f"worker mail job: {messages} mails, {count} worker(s)…")
            elapsed = _drain_with_workers(backend, smtp, messages, relay, count)
            report.emit(
                "worker_mail_drain",
                runner.Sample([elapsed / messages] * messages, elapsed, clients=count),
                kind="throughput",
                extra={
                    "workers": count,
                    "drain_s": round(elapsed, 2),
                    "relay": "aiosmtpd on loopback, no TLS",
                },
            )
    finally:
        controller.stop()


def _plans(backend, statements: list[tuple[str, object]]) -> list[str]:
    postgresql = backend.engine.dialect.name == "postgresql"
    prefix = "EXPLAIN " if postgresql else "EXPLAIN QUERY PLAN "
    plans = []
    with backend.engine.connect() as conn:
        for sql, params in statements:
            rows = conn.exec_driver_sql(prefix + sql, params).all()
            plans.append("\n".join(str(r[0] if postgresql else r[-1]) for r in rows))
        conn.rollback()
    return plans


def _reminders(backend, report, due: int, url: str) -> None:
    settings = backend.settings
    now = backend.clock()
    declared = now - dt.timedelta(days=settings.reminder_after_days, minutes=30)
    add_open_invitations(url, due, seed=11, now=declared)
    with backend.uow() as uow:
        total = uow.session.scalar(select(func.count()).select_from(Enrolment))
    seen: list[tuple[str, object]] = []

    @event.listens_for(backend.engine, "before_cursor_execute")
    def _before(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and "reminders_sent" in statement:
            seen.append((statement, parameters))

    try:
        t0 = time.perf_counter()
        with backend.uow() as uow:
            sent = housekeeping.send_reminders(uow)
        first = time.perf_counter() - t0
        if sent < due:
            raise SystemExit(f"{sent} reminders sent, expected at least {due}")
        seen.clear()
        steady = []
        for _ in range(PASSES):
            t0 = time.perf_counter()
            with backend.uow() as uow:
                again = housekeeping.send_reminders(uow)
            steady.append(time.perf_counter() - t0)
            if again:
                raise SystemExit(f"a second pass sent {again} reminders: never twice")
        queries = list({sql: (sql, params) for sql, params in seen}.values())  # two each pass
    finally:
        event.remove(backend.engine, "before_cursor_execute", _before)
    plans = _plans(backend, queries)
    index_scan = bool(plans) and all("ix_enrolments_reminder" in p for p in plans)
    report.emit(
        "reminder_pass",
        runner.Sample(steady, sum(steady)),
        kind="latency",
        extra={
            "enrolments": total,
            "due": sent,
            "first_pass_ms": round(first * 1000, 1),
            "index_scan": index_scan,
            "plans": plans,
        },
    )
    if not index_scan:
        log("the reminder pass does not read its index:\n" + "\n---\n".join(plans))


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks worker")
    p.add_argument("--messages", "-n", type=int, default=1000)
    p.add_argument("--workers", default="1,4", help="worker counts, comma-separated")
    p.add_argument("--due", type=int, default=200, help="secretaries due for a reminder")
    p.add_argument("--database", help="SQLAlchemy URL (default: a fresh SQLite file)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    workers = [int(w) for w in args.workers.split(",") if w.strip()]
    backend, url = mail_bench._backend(args.database)
    backend.settings = backend.settings.replace(worker_mail_seconds=1)
    report = runner.Report(args.messages, backend.engine.dialect.name, args.json)
    try:
        _mail(backend, report, args.messages, workers)
        _reminders(backend, report, args.due, url)
    finally:
        backend.dispose()
    return 0
