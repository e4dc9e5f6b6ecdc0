"""How fast the outbox drains, and where fresh mail stands behind a backlog.

    python -m benchmarks mail [--messages N] [--dispatchers D] [--database URL] [--json]

Queues N mails, then lets D dispatchers (threads running mail.deliver_due, as
`mail send --loop` does) send them to an SMTP server on loopback (aiosmtpd, in process),
and prints one JSON object per measurement (with --json; the runner's keys):

* `mail_drain`: every mail sent; ops_per_s = N / the time to drain; p50/p95 = one send
  alone (connection, SMTP dialogue); extra.other_ms_per_mail = the rest (taking the row,
  rendering the message, recording it: two commits), with one dispatcher;
* `mail_fresh_behind_backlog`: N mails due again after a failed first attempt (an outage
  just ended), then one fresh approval: where it went out (extra.position, 1 = first) and
  how long after it was queued (p50_ms).

A real relay adds its own time per message (TLS, its queue): the drain time of N is about
N × (that time + other_ms_per_mail) / D.

Without --database, a SQLite file under benchmarks/results/ is made afresh; a PostgreSQL
URL must name a bench* database (its outbox is emptied first).
"""

from __future__ import annotations

import argparse
import socket
import threading
import time
from pathlib import Path

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import make_url

from benchmarks import runner
from benchmarks.generate import ensure_database, log
from dashboard.config import Settings
from dashboard.enrolment import mail, schema
from dashboard.enrolment.bootstrap import Backend
from dashboard.enrolment.model import OutboxEmail


class _Relay:
    """aiosmtpd handler: counts what it accepts."""

    def __init__(self):
        self.accepted = 0

    async def handle_DATA(self, server, session, envelope):
        self.accepted += 1
        return "250 OK"


class _Timed:
    """The SMTP transport, timing each send."""

    def __init__(self, inner: mail.Transport):
        self.inner, self.seconds, self.lock = inner, [], threading.Lock()
        self.order: list[str] = []

    def send(self, message) -> None:
        t0 = time.perf_counter()
        self.inner.send(message)
        with self.lock:
            self.seconds.append(time.perf_counter() - t0)
            self.order.append(str(message["Message-ID"]))


def _queue(backend: Backend, count: int, template: str = "approved") -> list[str]:
    with backend.uow() as uow:
        rows = [
            mail.queue(
                uow,
                template,
                f"bench{n}@example.lu",
                {"first_names": "Marie", "last_name": "Schmit"},
            )
            for n in range(count)
        ]
        uow.commit()
    return [r.message_id for r in rows]


def _drain(backend: Backend, transport: mail.Transport, dispatchers: int) -> float:
    def dispatcher():
        while backend.deliver_mail(transport).sent:
            pass

    threads = [threading.Thread(target=dispatcher) for _ in range(dispatchers)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0


def _empty_outbox(backend: Backend) -> None:
    with backend.uow() as uow:
        uow.session.execute(delete(OutboxEmail))
        uow.commit()


def _backend(url: str | None) -> tuple[Backend, str]:
    if url is None:
        url = f"sqlite:///{Path(__file__).resolve().parent / 'results' / 'mail-bench.sqlite3'}"
        ensure_database(url, fresh=True)
    else:
        name = (make_url(url).database or "").rsplit("/", 1)[-1]
        if not name.startswith("bench"):
            raise SystemExit("the mail benchmark empties the outbox: bench* databases only")
        ensure_database(url)
    schema.upgrade(url)
    settings = Settings(env="test", database_url=url, secret_key=runner.SECRET_KEY)
    return Backend.from_settings(settings), url


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks mail")
    p.add_argument("--messages", "-n", type=int, default=1000)
    p.add_argument("--dispatchers", type=int, default=1)
    p.add_argument("--database", help="SQLAlchemy URL (default: a fresh SQLite file)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    try:
        from aiosmtpd.controller import Controller
    except ImportError:
        raise SystemExit("the mail benchmark needs aiosmtpd (pip install -e '.[test]')") from None

    backend, _url = _backend(args.database)
    report = runner.Report(args.messages, backend.engine.dialect.name, args.json)
    relay = _Relay()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(relay, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        smtp = mail.SmtpTransport("127.0.0.1", port)
        n = args.messages
        _empty_outbox(backend)

        # 1. Drain a backlog of N.
        _queue(backend, n)
        timed = _Timed(smtp)
        log(f"draining {n} mails with {args.dispatchers} dispatcher(s)…")
        elapsed = _drain(backend, timed, args.dispatchers)
        with backend.uow() as uow:
            sent = uow.session.scalar(
                select(func.count()).select_from(OutboxEmail).where(OutboxEmail.status == "sent")
            )
        if sent != n or relay.accepted != n:
            raise SystemExit(f"{sent} rows sent, {relay.accepted} accepted: expected {n}")
        send_total = sum(timed.seconds)
        report.emit(
            "mail_drain",
            runner.Sample(timed.seconds, elapsed, clients=args.dispatchers),
            kind="throughput",
            extra={
                "dispatchers": args.dispatchers,
                "drain_s": round(elapsed, 2),
                "other_ms_per_mail": round((elapsed - send_total) * 1000 / n, 3)
                if args.dispatchers == 1
                else None,
                "relay": "aiosmtpd on loopback, no TLS",
            },
        )

        # 2. A fresh approval queued just after an outage left N mails due again.
        _empty_outbox(backend)
        _queue(backend, n, template="pending_review")
        with backend.uow() as uow:
            due = uow.now()
            uow.session.execute(
                update(OutboxEmail).values(
                    attempts=1,
                    last_error="OSError: connexion refusée",
                    next_attempt_at=due,
                    turn_at=due + mail.RETRY_YIELD,
                )
            )
            uow.commit()
        [fresh] = _queue(backend, 1)
        queued_at = time.perf_counter()
        waited: list[float] = []

        class _Watch(_Timed):
            def send(self, message):
                super().send(message)
                if str(message["Message-ID"]) == fresh:
                    waited.append(time.perf_counter() - queued_at)

        watch = _Watch(smtp)
        _drain(backend, watch, args.dispatchers)
        position = watch.order.index(fresh) + 1
        report.emit(
            "mail_fresh_behind_backlog",
            runner.Sample(waited, waited[0]),
            kind="latency",
            extra={"position": position, "backlog": n, "dispatchers": args.dispatchers},
        )
    finally:
        controller.stop()
        backend.dispose()
    return 0
