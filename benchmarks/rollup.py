"""Feasibility probe of pre-aggregated daily counters for the metrics page (PostgreSQL).

    python -m benchmarks rollup --database postgresql://…/bench_…  [--keep]

Builds, in bench tables of the benchmark database only, the daily rollups proposed in
docs/performance.md, then times (a) the full build, (b) the refresh of the declaration days
touched by one day of activity (what a periodic job or the first metrics request after new
events would do), (c) reading everything the page shows for the last 90 days and for all
time from the rollups. The app's own metrics.compute is timed beside it for comparison, and
the rollups' totals are checked against it (declarations, outcomes, funnel).

Days are declaration days in Europe/Luxembourg, like the page's weeks.
"""

from __future__ import annotations

import argparse
import time

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from benchmarks import runner
from benchmarks.generate import log
from dashboard.config import Settings
from dashboard.enrolment import metrics
from dashboard.enrolment.bootstrap import Backend
from dashboard.enrolment.db import normalise_url

OUTCOME = """CASE WHEN e.decision = 'auto_match' THEN 'auto'
     WHEN e.decision = 'reviewer_approved' THEN 'approved'
     WHEN e.state = 'rejected' THEN 'rejected'
     WHEN e.state = 'pending_review' THEN 'pending_review'
     WHEN e.state IN ('expired', 'locked', 'cancelled') THEN e.state
     ELSE 'in_progress' END"""
DAY = "(e.created_at AT TIME ZONE 'Europe/Luxembourg')::date"

BUILD = {
    # Counts by declaration day, specialty and outcome, with the funnel: one row per
    # (day, specialty, outcome) — about 730 × 15 × 8 at most.
    "bench_metrics_daily": f"""
        SELECT {DAY} AS day, coalesce(p.specialty, '') AS specialty, {OUTCOME} AS outcome,
               count(*) AS declared,
               count(*) FILTER (WHERE EXISTS (SELECT 1 FROM events v WHERE v.enrolment_id = e.id
                                              AND v.action = 'link_opened')) AS link_opened,
               count(e.cgu_accepted_at) AS cgu_accepted,
               count(e.matricule_verified_at) AS matricule_verified,
               count(*) FILTER (WHERE EXISTS (SELECT 1 FROM luxtrust_identities i
                                              WHERE i.enrolment_id = e.id)) AS luxtrust_done,
               count(e.device_confirmed_at) AS device_confirmed
        FROM enrolments e JOIN professionals p ON p.id = e.professional_id
        WHERE {{days}}
        GROUP BY 1, 2, 3""",
    # Declaration → account times, as an hourly histogram (median and p90 within an hour).
    "bench_metrics_durations": f"""
        SELECT {DAY} AS day, coalesce(p.specialty, '') AS specialty, e.decision AS decision,
               floor(extract(epoch FROM e.decided_at - e.created_at) / 3600)::int AS hours,
               count(*) AS n
        FROM enrolments e JOIN professionals p ON p.id = e.professional_id
        WHERE e.state = 'account_created' AND {{days}}
        GROUP BY 1, 2, 3, 4""",
    # Mismatch reasons: field × kind of the non-matching LuxTrust identities.
    "bench_metrics_mismatches": f"""
        SELECT {DAY} AS day, coalesce(p.specialty, '') AS specialty, k.field, k.kind,
               count(*) AS n
        FROM luxtrust_identities i
        JOIN enrolments e ON e.id = i.enrolment_id
        JOIN professionals p ON p.id = e.professional_id
        CROSS JOIN LATERAL (VALUES ('last_name', i.last_name_kind),
                                   ('first_names', i.first_names_kind),
                                   ('birth_date', i.birth_date_kind),
                                   ('matricule', i.matricule_kind)) AS k(field, kind)
        WHERE NOT i.matches AND k.kind IS NOT NULL AND k.kind <> 'identical' AND {{days}}
        GROUP BY 1, 2, 3, 4""",
}

READ = {
    "outcomes": "SELECT outcome, sum(declared) FROM bench_metrics_daily WHERE {period} "
    "GROUP BY outcome",
    "funnel": "SELECT sum(declared), sum(link_opened), sum(cgu_accepted), "
    "sum(matricule_verified), sum(luxtrust_done), sum(device_confirmed) "
    "FROM bench_metrics_daily WHERE {period}",
    "trend": "SELECT date_trunc('week', day)::date AS week, outcome, sum(declared) "
    "FROM bench_metrics_daily WHERE {period} GROUP BY 1, 2 ORDER BY 1",
    "durations": "SELECT decision, hours, sum(n) FROM bench_metrics_durations "
    "WHERE {period} GROUP BY 1, 2 ORDER BY 1, 2",
    "mismatches": "SELECT field, kind, sum(n) FROM bench_metrics_mismatches WHERE {period} "
    "GROUP BY 1, 2 ORDER BY 1, 2",
    "backlog_and_ageing": "SELECT count(*), count(*) FILTER (WHERE device_confirmed_at < "
    "now() - interval '2 days') FROM enrolments WHERE state = 'pending_review'",
}


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks rollup")
    p.add_argument("--database", required=True)
    p.add_argument("--keep", action="store_true", help="keep the bench_metrics_* tables")
    args = p.parse_args(argv)
    engine = create_engine(normalise_url(args.database), poolclass=NullPool)
    if engine.dialect.name != "postgresql" or not engine.url.database.startswith("bench"):
        raise SystemExit("the rollup probe runs on bench* PostgreSQL databases only")
    with engine.begin() as conn:
        for table, select in BUILD.items():
            conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
            t0 = time.perf_counter()
            conn.execute(text(f"CREATE TABLE {table} AS {select.format(days='true')}"))
            conn.execute(text(f"CREATE INDEX ON {table} (day)"))
            conn.execute(text(f"ANALYZE {table}"))
            rows = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()
            log(f"built {table}: {rows:,} rows in {time.perf_counter() - t0:.1f} s")
    # (b) refresh: the days touched by the last 24 hours of events, recomputed in place.
    with engine.begin() as conn:
        t0 = time.perf_counter()
        touched = (
            conn.execute(
                text(
                    f"SELECT DISTINCT {DAY} FROM events v "
                    "JOIN enrolments e ON e.id = v.enrolment_id "
                    "WHERE v.created_at >= now() - interval '1 day'"
                )
            )
            .scalars()
            .all()
        )
        # Each touched day's rows are deleted and rebuilt (range on created_at uses its index).
        ranges = (
            " OR ".join(
                f"(e.created_at >= (DATE '{d}')::timestamp AT TIME ZONE 'Europe/Luxembourg' AND "
                f"e.created_at < (DATE '{d}' + 1)::timestamp AT TIME ZONE 'Europe/Luxembourg')"
                for d in touched
            )
            or "false"
        )
        for table, select in BUILD.items():
            conn.execute(text(f"DELETE FROM {table} WHERE day = ANY(:d)"), {"d": list(touched)})
            conn.execute(text(f"INSERT INTO {table} {select.format(days='(' + ranges + ')')}"))
        log(
            f"refreshed {len(touched)} touched days in {time.perf_counter() - t0:.2f} s "
            f"(days {min(touched) if touched else '-'} … {max(touched) if touched else '-'})"
        )
    # (c) reads, against the app's own compute.
    f = runner.metrics_filter()
    periods = {
        "90 days": f"day BETWEEN DATE '{f.start}' AND DATE '{f.end}'",
        "all time": "true",
    }
    backend = Backend.from_settings(Settings(env="test", database_url=args.database))
    for label, period in periods.items():
        with engine.connect() as conn:
            timings = []
            for _ in range(5):
                t0 = time.perf_counter()
                out = {
                    k: conn.execute(text(sql.format(period=period))).all()
                    for k, sql in READ.items()
                }
                timings.append((time.perf_counter() - t0) * 1000)
        flt = f if label == "90 days" else metrics.MetricsFilter()
        t0 = time.perf_counter()
        with backend.uow() as uow:
            m = metrics.compute(uow, flt)
        app_ms = (time.perf_counter() - t0) * 1000
        funnel = dict(m.funnel)
        rolled = out["funnel"][0]
        same = (
            int(rolled[0]) == funnel["declared"]
            and int(rolled[1]) == funnel["link_opened"]
            and int(rolled[2]) == funnel["cgu_accepted"]
            and int(rolled[3]) == funnel["matricule_verified"]
            and int(rolled[4]) == funnel["luxtrust_done"]
            and int(rolled[5]) == funnel["manual"]
        )
        log(
            f"{label}: rollup reads {sorted(timings)[2]:.1f} ms (median of 5) vs "
            f"metrics.compute {app_ms:.0f} ms; funnel equal: {same} "
            f"(rollup {tuple(int(x) for x in rolled)}, app {funnel})"
        )
    backend.dispose()
    if not args.keep:
        with engine.begin() as conn:
            for table in BUILD:
                conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
    engine.dispose()
    return 0
