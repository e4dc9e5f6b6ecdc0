"""How fast accounts reach the identity platform, and what the outbox adds to a decision.

    python -m benchmarks provisioning [--accounts N] [--dispatchers D] [--database URL] [--json]

Starts a real SCIM 2.0 server (`scim2-server`, the test extras) on loopback, writes N
accounts (each linked to one of 20 professionals) with their provisioning requests, then
lets D dispatchers (threads running provisioning.deliver_due, as `provisioning send --loop`
does) bring the directory up to date. One JSON object per measurement (with --json):

* `provisioning_drain`: every account delivered; ops_per_s = accounts per second; p50/p95 =
  one delivery (reading the state, the SCIM calls: User lookup, create, Group membership);
* `provisioning_request_cost`: what the outbox row adds to the transaction of an account
  decision: p50/p95 of a transaction writing one account with its link, with and without
  `provisioning.request` (extra.added_ms_p50 = the difference of the medians).

Without --database, a SQLite file under benchmarks/results/ is made afresh; a PostgreSQL
URL must name a bench* database (its accounts and outbox are emptied first).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.engine import make_url

from benchmarks import runner
from benchmarks.generate import ensure_database, log
from dashboard.config import Settings
from dashboard.enrolment import provisioning, schema
from dashboard.enrolment.bootstrap import Backend
from dashboard.enrolment.model import (
    AccountLink,
    Professional,
    ProvisioningRequest,
    SecretaryAccount,
)
from dashboard.enrolment.scim import ScimDirectory

TOKEN = "benchmark-scim-token"  # noqa: S105  # nosec B105 - a local server's
PROFESSIONALS = 20


class _Server:
    """`scim2-server` in its own process, in memory, on a free loopback port."""

    def __init__(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        binary = shutil.which("scim2-server") or str(Path(sys.executable).with_name("scim2-server"))
        self.process = subprocess.Popen(  # noqa: S603  # nosec B603 - the test extras' binary
            [binary, "--hostname", "127.0.0.1", "--port", str(self.port), "--bearer-token", TOKEN],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        self.stop()
        raise SystemExit("scim2-server did not start (pip install -e '.[test]')")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v2"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def _empty(backend: Backend) -> None:
    with backend.uow() as uow:
        for table in (ProvisioningRequest, AccountLink, SecretaryAccount):
            uow.session.execute(delete(table))
        uow.session.execute(delete(Professional).where(Professional.code.like("BENCH%")))
        uow.commit()


def _professionals(backend: Backend) -> list[int]:
    with backend.uow() as uow:
        rows = [
            Professional(
                code=f"BENCH{n:04d}",
                last_name="Bench",
                first_names="Pro",
                email=f"pro{n}@example.lu",
                language="fr",
                active=True,
                created_at=uow.now(),
            )
            for n in range(PROFESSIONALS)
        ]
        uow.session.add_all(rows)
        uow.commit()
        return [r.id for r in rows]


def _write_account(uow, n: int, professional_id: int, *, with_request: bool) -> None:
    now = uow.now()
    account = SecretaryAccount(
        directory_id=str(uuid.uuid4()),
        matricule=f"{1_980_000_000_000 + n:013d}",
        last_name="Schmit",
        first_names="Marie",
        email=f"bench{n}@example.lu",
        status="active",
        created_at=now,
    )
    uow.session.add(account)
    uow.session.flush()
    uow.session.add(
        AccountLink(account_id=account.id, professional_id=professional_id, linked_at=now)
    )
    if with_request:
        provisioning.request(uow, account, "account_opened")


def _drain(backend: Backend, directory_for, dispatchers: int) -> tuple[float, list[float]]:
    seconds: list[float] = []
    lock = threading.Lock()

    class _Timed:
        def __init__(self, inner):
            self.inner = inner

        def apply(self, state):
            t0 = time.perf_counter()
            self.inner.apply(state)
            with lock:
                seconds.append(time.perf_counter() - t0)

        def __getattr__(self, name):
            return getattr(self.inner, name)

    def dispatcher():
        directory = _Timed(directory_for())  # one HTTP client per dispatcher, as in production
        while backend.deliver_provisioning(directory).handled:
            pass

    threads = [threading.Thread(target=dispatcher) for _ in range(dispatchers)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0, seconds


def _backend(url: str | None) -> Backend:
    if url is None:
        path = Path(__file__).resolve().parent / "results" / "provisioning-bench.sqlite3"
        url = f"sqlite:///{path}"
        ensure_database(url, fresh=True)
    else:
        name = (make_url(url).database or "").rsplit("/", 1)[-1]
        if not name.startswith("bench"):
            raise SystemExit(
                "the provisioning benchmark empties the accounts: bench* databases only"
            )
        ensure_database(url)
    schema.upgrade(url)
    settings = Settings(env="test", database_url=url, secret_key=runner.SECRET_KEY)
    return Backend.from_settings(settings)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks provisioning")
    p.add_argument("--accounts", "-n", type=int, default=500)
    p.add_argument("--dispatchers", type=int, default=1)
    p.add_argument("--database", help="SQLAlchemy URL (default: a fresh SQLite file)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    n = args.accounts

    backend = _backend(args.database)
    report = runner.Report(n, backend.engine.dialect.name, args.json)
    server = _Server()
    try:
        _empty(backend)
        professionals = _professionals(backend)

        # 1. What the outbox row adds to an account decision's transaction.
        timings = {True: [], False: []}
        for i in range(2 * min(n, 200)):
            with_request = i % 2 == 0
            t0 = time.perf_counter()
            with backend.uow() as uow:
                _write_account(uow, i, professionals[i % PROFESSIONALS], with_request=with_request)
                uow.commit()
            timings[with_request].append(time.perf_counter() - t0)
        with_p50 = runner.Sample(timings[True], sum(timings[True])).p50
        without_p50 = runner.Sample(timings[False], sum(timings[False])).p50
        report.emit(
            "provisioning_request_cost",
            runner.Sample(timings[True], sum(timings[True])),
            kind="latency",
            extra={
                "without_request_p50_ms": round(without_p50, 3),
                "added_ms_p50": round(with_p50 - without_p50, 3),
            },
        )

        # 2. Drain N accounts into the directory.
        _empty(backend)
        professionals = _professionals(backend)
        with backend.uow() as uow:
            for i in range(n):
                _write_account(uow, i, professionals[i % PROFESSIONALS], with_request=True)
            uow.commit()
        log(f"provisioning {n} accounts with {args.dispatchers} dispatcher(s)…")
        elapsed, seconds = _drain(
            backend, lambda: ScimDirectory.over_http(server.url, TOKEN), args.dispatchers
        )
        with backend.uow() as uow:
            done = uow.session.scalar(
                select(func.count())
                .select_from(ProvisioningRequest)
                .where(ProvisioningRequest.status == "done")
            )
        if done != n:
            raise SystemExit(f"{done} requests delivered: expected {n}")
        report.emit(
            "provisioning_drain",
            runner.Sample(seconds, elapsed, clients=args.dispatchers),
            kind="throughput",
            extra={
                "dispatchers": args.dispatchers,
                "drain_s": round(elapsed, 2),
                "directory": "scim2-server on loopback, in memory, no TLS",
            },
        )
    finally:
        server.stop()
        backend.dispose()
    return 0
