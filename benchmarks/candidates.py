"""Candidate indexes, created by hand in a benchmark database to measure before/after.

    python -m benchmarks candidates --database URL [--drop]

These are proposals for a migration (the app's schema belongs to migrations/); here they are
only applied to bench* databases. Partial indexes work the same on PostgreSQL and SQLite.
"""

from __future__ import annotations

import argparse
import time

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from benchmarks.generate import log
from dashboard.enrolment.db import normalise_url

CANDIDATES = [
    (
        "ix_enrolments_review_queue",
        # The review queue in its default order (and backwards for "shortest wait first"):
        # the first page reads 100 index entries instead of every pending case, and the
        # count is an index-only scan of the pending cases alone.
        "CREATE INDEX ix_enrolments_review_queue ON enrolments (device_confirmed_at, id) "
        "WHERE state = 'pending_review'",
    ),
    (
        "ix_decisions_awaiting_second",
        # The queue's "awaiting a second reviewer" EXISTS, per row, and its quick filter:
        # without it every page scans the whole decisions table (one row per decided case).
        "CREATE INDEX ix_decisions_awaiting_second ON decisions (enrolment_id) "
        "WHERE status = 'awaiting_second'",
    ),
]


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks candidates")
    p.add_argument("--database", required=True)
    p.add_argument("--drop", action="store_true")
    p.add_argument("--only", default="", help="comma-separated index names")
    args = p.parse_args(argv)
    from sqlalchemy.engine import make_url

    url = make_url(normalise_url(args.database))
    if url.get_backend_name() == "postgresql" and not (url.database or "").startswith("bench"):
        raise SystemExit("candidates are only applied to bench* databases")
    wanted = {w for w in args.only.split(",") if w}
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as conn:
        for name, sql in CANDIDATES:
            if wanted and name not in wanted:
                continue
            t0 = time.perf_counter()
            if args.drop:
                conn.execute(text(f"DROP INDEX IF EXISTS {name}"))
            else:
                conn.execute(text(sql.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS")))
            log(
                f"{'dropped' if args.drop else 'created'} {name} ({time.perf_counter() - t0:.1f} s)"
            )
        if not args.drop:
            conn.execute(text("ANALYZE"))
    engine.dispose()
    return 0
