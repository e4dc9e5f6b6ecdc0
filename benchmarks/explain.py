"""Where the time goes: every SQL statement of one service call, timed, and the query plans
of the slow ones (EXPLAIN ANALYZE on PostgreSQL, EXPLAIN QUERY PLAN on SQLite).

    python -m benchmarks explain --database URL [queue|queue_search|queue_sorted|
                                                 case|metrics|metrics_all_time] [--plans MS]
"""

from __future__ import annotations

import argparse
import time

from sqlalchemy import event

from benchmarks import runner
from dashboard.config import Settings
from dashboard.enrolment import case_file, metrics, review
from dashboard.enrolment.bootstrap import Backend

WHAT = ("queue", "queue_search", "queue_sorted", "case", "metrics", "metrics_all_time")


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks explain")
    p.add_argument("--database", required=True)
    p.add_argument("what", nargs="*", default=list(WHAT), choices=WHAT)
    p.add_argument("--plans", type=float, default=5.0, help="plans of statements over MS ms")
    args = p.parse_args(argv)
    from dashboard.callbacks.review import queue_query

    fx = runner.fixture(args.database, 1)
    backend = Backend.from_settings(Settings(env="test", database_url=args.database))
    statements: list[list] = []

    @event.listens_for(backend.engine, "before_cursor_execute")
    def _before(conn, cursor, statement, parameters, context, executemany):
        statements.append([statement, parameters, time.perf_counter()])

    @event.listens_for(backend.engine, "after_cursor_execute")
    def _after(conn, cursor, statement, parameters, context, executemany):
        statements[-1][2] = (time.perf_counter() - statements[-1][2]) * 1000

    request = runner.DEFAULT_GRID_REQUEST
    calls = {
        "queue": lambda uow: review.queue_page(uow, queue_query(request, [], ""), fx.staff_id),
        "queue_search": lambda uow: review.queue_page(
            uow, queue_query(request, [], runner.SEARCH), fx.staff_id
        ),
        "queue_sorted": lambda uow: review.queue_page(
            uow,
            queue_query(
                dict(request, sortModel=[{"colId": "waiting_days", "sort": "asc"}]), [], ""
            ),
            fx.staff_id,
        ),
        "case": lambda uow: case_file.case_view(uow, fx.pending_ids[0], fx.staff_id),
        "metrics": lambda uow: metrics.compute(uow, runner.metrics_filter()),
        "metrics_all_time": lambda uow: metrics.compute(uow, metrics.MetricsFilter()),
    }
    postgresql = backend.engine.dialect.name == "postgresql"
    for what in args.what:
        with backend.uow() as uow:  # once to warm the caches, then measured
            calls[what](uow)
        statements.clear()
        t0 = time.perf_counter()
        with backend.uow() as uow:
            calls[what](uow)
        total = (time.perf_counter() - t0) * 1000
        in_sql = sum(s[2] for s in statements)
        print(f"=== {what}: {total:.1f} ms, {len(statements)} statements, {in_sql:.1f} ms in SQL")
        slow = []
        for sql, params, ms in statements:
            print(f"  {ms:8.2f} ms  {' '.join(sql.split())[:150]}")
            if ms >= args.plans:
                slow.append((sql, params, ms))
        with backend.engine.connect() as conn:
            for sql, params, ms in slow:
                prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgresql else "EXPLAIN QUERY PLAN "
                plan = conn.exec_driver_sql(prefix + sql, params).all()
                print(f"  --- plan of the {ms:.1f} ms statement: {' '.join(sql.split())[:100]}")
                for row in plan:
                    print("      " + str(row[-1]))
    backend.dispose()
    return 0
