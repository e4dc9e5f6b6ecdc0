"""The metrics' daily rollups (dashboard.enrolment.rollup) on a benchmark database.

    python -m benchmarks rollup --database postgresql://…/bench_…  [--days 1,7,30]

Times (a) the build from scratch (`metrics refresh --full`), (b) incremental refreshes after
one event on an enrolment of each of the last N declaration days (what the per-minute timer
does after that much activity), (c) metrics.compute from the rollups for the page's 90 days
and for all time, against metrics.compute_from_rows, the raw computation, whose result it
must equal exactly.

Days are declaration days in Europe/Luxembourg, like the page's weeks. Only bench*
databases: (b) adds events.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

from sqlalchemy import func, select, text

from benchmarks import runner
from benchmarks.generate import log
from dashboard.config import Settings
from dashboard.enrolment import metrics, rollup, schema
from dashboard.enrolment.bootstrap import Backend
from dashboard.enrolment.model import Enrolment, Event


def _touch_last_days(backend: Backend, days: int) -> None:
    """An event (a resent invitation) on one enrolment of each of the last `days` days."""
    dialect = backend.engine.dialect.name
    day = rollup.local_day(dialect, Enrolment.created_at)
    with backend.uow() as uow:
        now = uow.now()
        newest = uow.session.scalar(select(func.max(Enrolment.created_at)))
        firsts = uow.session.scalars(
            select(func.min(Enrolment.id))
            .where(Enrolment.created_at >= newest - dt.timedelta(days=days))
            .group_by(day)
        ).all()
        uow.session.add_all(
            Event(enrolment_id=i, action="invitation_resent", actor_type="system", created_at=now)
            for i in firsts
        )
        uow.commit()


def _timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, (time.perf_counter() - t0) * 1000


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks rollup")
    p.add_argument("--database", required=True)
    p.add_argument("--days", default="1,7,30", help="incremental refreshes to time")
    args = p.parse_args(argv)
    backend = Backend.from_settings(Settings(env="test", database_url=args.database))
    if not (backend.engine.url.database or "").rsplit("/", 1)[-1].startswith("bench"):
        raise SystemExit("the rollup benchmark adds events: bench* databases only")
    schema.upgrade(args.database)

    def refresh(full=False):
        with backend.uow() as uow:
            return rollup.refresh(uow, full=full)

    done, ms = _timed(refresh, full=True)
    log(f"built from scratch in {ms / 1000:.1f} s (up to event {done.last_event_id})")
    if backend.engine.dialect.name == "postgresql":
        with backend.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in rollup.TABLES:
                conn.execute(text(f"VACUUM ANALYZE {table.__tablename__}"))
    for days in (int(d) for d in args.days.split(",") if d):
        _touch_last_days(backend, days)
        done, ms = _timed(refresh)
        log(f"refreshed {done.days} declaration day(s) in {ms:.0f} ms")

    for label, flt in (("90 days", runner.metrics_filter()), ("all time", metrics.MetricsFilter())):
        timings = []
        for _ in range(5):
            with backend.uow() as uow:
                fast, ms = _timed(metrics.compute, uow, flt)
            timings.append(ms)
        with backend.uow() as uow:
            slow, raw_ms = _timed(metrics.compute_from_rows, uow, flt)
        log(
            f"{label}: compute from the rollups {sorted(timings)[2]:.1f} ms (median of 5), "
            f"from the rows {raw_ms:.0f} ms; equal: {fast == slow}"
        )
        if fast != slow:
            return 1
    backend.dispose()
    return 0
