"""The measurements of issue #8, printed as one JSON object per line.

Two parts, both against the same database:

* in-process (`inproc.*`): the service functions the callbacks call (review.queue_page,
  case_file.open_case, metrics.compute), timed directly over a Backend. This isolates the
  database work from Dash and HTTP.
* HTTP (the names without prefix): the real app (`benchmarks.wsgi`, built by
  `create_app`) under gunicorn with 2 sync workers, every request a POST to
  /_dash-update-component as the browser sends it, from 20 concurrent clients in a closed
  loop. The FLOOR is a Dash callback that does nothing, served by the same server in the
  same run. A short floor run precedes every measurement and that measurement's
  `ratio_to_floor` uses it, so that load from other processes on the machine (shared) moves
  both alike.

ratio_to_floor: for latencies, the measurement's p50 over the floor's p50 at the same
concurrency (20 clients; a single client for the cold metrics, served after a restart);
for throughput (matricule step, declaration), the floor's ops/s over the measurement's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from benchmarks import generate as gen
from benchmarks import httpload as hl
from dashboard.callbacks.review import QUEUE_CACHE_SIZE
from dashboard.config import Settings
from dashboard.enrolment import access_metrics, case_file, metrics, review
from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment import matricule as matricule_mod
from dashboard.enrolment.bootstrap import Backend
from dashboard.enrolment.db import normalise_url
from dashboard.enrolment.model import Enrolment, Professional, StaffUser

SECRET_KEY = "benchmark-secret-key-not-for-production-0123456789"  # noqa: S105
SEARCH = "schmit"  # the most frequent surname of the generated population (name filter)
DEFAULT_GRID_REQUEST = {
    "startRow": 0,
    "endRow": 100,
    # The queue grid's column "waiting_days" is declared with sort "desc": the grid's first
    # request carries that sort model (longest waiting first).
    "sortModel": [{"colId": "waiting_days", "sort": "desc"}],
    "filterModel": {},
}
TARGETS = {  # issue #8, at 1,000,000 enrolments on PostgreSQL: ratio_to_floor at most
    "queue_first_page": 5,
    "queue_filtered_name": 10,
    "queue_filtered_professional": 10,
    "queue_sorted_waiting": 10,
    "queue_page_uncached": 5,  # as the first page, but never answered from the page cache
    "case_open": 5,
    "metrics_warm": 5,
    "metrics_cold": 100,
    "matricule_step": 2,  # throughput ≥ 50 % of the floor's
    "declaration": 2,
}
RSS_TARGET_MB = 400


def log(message: str) -> None:
    gen.log(message)


# --- statistics and output -------------------------------------------------------------------


def percentile(sorted_values: list[float], q: float) -> float | None:
    """Nearest-rank percentile."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass
class Sample:
    latencies: list[float]  # seconds
    elapsed: float  # wall seconds of the measured window
    errors: int = 0
    first_error: str = ""
    clients: int = 1
    warm: int = 0

    @property
    def p50(self) -> float | None:
        v = percentile(sorted(self.latencies), 0.5)
        return None if v is None else v * 1000

    @property
    def p95(self) -> float | None:
        v = percentile(sorted(self.latencies), 0.95)
        return None if v is None else v * 1000

    @property
    def ops(self) -> float | None:
        return len(self.latencies) / self.elapsed if self.elapsed > 0 else None

    @classmethod
    def of(cls, r: hl.LoadResult) -> Sample:
        return cls(r.latencies, r.elapsed, r.errors, r.first_error, r.clients, r.warm)

    def merged(self, other: Sample) -> Sample:
        return Sample(
            self.latencies + other.latencies,
            self.elapsed + other.elapsed,
            self.errors + other.errors,
            self.first_error or other.first_error,
            self.clients,
            self.warm + other.warm,
        )


def _round(value, digits=3):
    return None if value is None else round(value, digits)


@dataclass
class Report:
    n: int
    database: str
    as_json: bool
    lines: list[dict] = field(default_factory=list)

    def emit(
        self,
        name: str,
        sample: Sample | None,
        *,
        kind: str = "latency",
        floor: Sample | None = None,
        extra: dict | None = None,
        value: float | None = None,
    ) -> dict:
        ratio = None
        if sample is not None and floor is not None:
            if kind == "throughput" and sample.ops and floor.ops:
                ratio = floor.ops / sample.ops
            elif kind == "latency" and sample.p50 and floor.p50:
                ratio = sample.p50 / floor.p50
        info = {"kind": kind}
        if sample is not None:
            info.update(requests=len(sample.latencies), clients=sample.clients)
            if sample.errors:
                info.update(errors=sample.errors, first_error=sample.first_error[:300])
        if floor is not None:
            info.update(floor_p50_ms=_round(floor.p50), floor_ops_per_s=_round(floor.ops, 1))
        target = TARGETS.get(name)
        if target is not None and ratio is not None:
            info.update(target_ratio=target, target_met=ratio <= target)
        info["loadavg_1m"] = round(os.getloadavg()[0], 2)
        info.update(extra or {})
        line = {
            "name": name,
            "n": self.n,
            "p50_ms": _round(sample.p50) if sample else None,
            "p95_ms": _round(sample.p95) if sample else None,
            "ops_per_s": _round(sample.ops, 1) if sample else None,
            "ratio_to_floor": _round(ratio, 2),
            "database": self.database,
            "extra": info,
        }
        if value is not None:
            line["value"] = value
        self.lines.append(line)
        if self.as_json:
            print(json.dumps(line, ensure_ascii=False), flush=True)
        else:
            print(_human(line), flush=True)
        return line


def _human(line: dict) -> str:
    def f(v, fmt):
        return "—" if v is None else format(v, fmt)

    if line.get("value") is not None:
        return f"{line['name']:<34} {line['value']:>10} MB  {line['extra']}"
    return (
        f"{line['name']:<34} p50 {f(line['p50_ms'], '9.2f')} ms  p95 {f(line['p95_ms'], '9.2f')}"
        f" ms  {f(line['ops_per_s'], '8.1f')} ops/s  ×{f(line['ratio_to_floor'], '.2f')}"
    )


# --- in-process measurements -----------------------------------------------------------------


def timed(
    fn: Callable[[int], object],
    *,
    iterations: int,
    warmup: int,
    max_seconds: float,
    min_iterations: int = 3,
) -> Sample:
    for i in range(warmup):
        fn(i)
    latencies = []
    start = time.perf_counter()
    for i in range(iterations):
        t0 = time.perf_counter()
        fn(warmup + i)
        latencies.append(time.perf_counter() - t0)
        if time.perf_counter() - start > max_seconds and len(latencies) >= min_iterations:
            break
    return Sample(latencies, time.perf_counter() - start)


@dataclass
class Fixture:
    """What the measurements need from the database."""

    staff_id: int
    pending_ids: list[int]
    professional_filter: str
    professional_ids: list[int]
    enrolments: int
    pending: int


def fixture(url: str, seed: int) -> Fixture:
    backend = Backend.from_settings(Settings(env="test", database_url=url))
    with backend.uow() as uow:
        s = uow.session
        staff_id = s.scalar(select(StaffUser.id).where(StaffUser.email == gen.BENCH_STAFF_EMAIL))
        if staff_id is None:
            raise SystemExit(f"{url}: no {gen.BENCH_STAFF_EMAIL}; generate the database first")
        pending = list(
            s.scalars(
                select(Enrolment.id)
                .where(Enrolment.state == lc.PENDING_REVIEW)
                .order_by(Enrolment.id)
            )
        )
        busiest = s.execute(
            select(Professional.last_name)
            .join(Enrolment, Enrolment.professional_id == Professional.id)
            .where(Enrolment.state == lc.PENDING_REVIEW)
            .group_by(Professional.last_name)
            .order_by(text("count(*) DESC"), Professional.last_name)
            .limit(1)
        ).scalar()
        profs = list(
            s.scalars(
                select(Professional.id)
                .where(Professional.active.is_(True))
                .order_by(Professional.id)
            )
        )
        total = s.scalar(text("SELECT count(*) FROM enrolments"))
    backend.dispose()
    rng = random.Random(seed)
    sample = rng.sample(pending, min(len(pending), 2000))
    return Fixture(staff_id, sample, (busiest or "").lower(), profs[:200], total, len(pending))


def opened_sessions(url: str, kind: str, subject_ids, token_hashes=None) -> list[dict]:
    """What the cookies of sessions the benchmark opens itself hold — for the professional
    and the secretary, whose real logins go through LuxTrust or an emailed link: each
    session's handle is written to the database, as their login or « Commencer » does."""
    from dashboard import auth
    from dashboard.enrolment import sessions

    backend = Backend.from_settings(Settings(env="test", database_url=url, secret_key=SECRET_KEY))
    held = []
    with backend.uow() as uow:
        for k, subject_id in enumerate(subject_ids):
            data = {}
            token = sessions.open_session(uow, kind, subject_id)
            auth.hold_session(data, kind, subject_id, token, token_hashes and token_hashes[k])
            held.append(data)
    backend.dispose()
    return held


def metrics_filter() -> metrics.MetricsFilter:
    """What the metrics page asks for when it opens: the last 90 days, every specialty."""
    today = dt.date.today()
    return metrics.MetricsFilter(today - dt.timedelta(days=90), today, None)


def run_inproc(url: str, report: Report, fx: Fixture, args) -> None:
    from dashboard.callbacks.review import queue_query

    settings = Settings(env="test", database_url=url, secret_key=SECRET_KEY)
    backend = Backend.from_settings(settings)
    opts = dict(iterations=args.iterations, warmup=2, max_seconds=args.max_seconds / 4)

    def queue(request: dict, search: str = ""):
        query = queue_query(request, [], search)

        def call(_i):
            with backend.uow() as uow:
                rows, total = review.queue_page(uow, query, fx.staff_id)
            return rows, total

        return call

    professional_request = dict(
        DEFAULT_GRID_REQUEST,
        filterModel={
            "professional": {
                "filterType": "text",
                "type": "contains",
                "filter": fx.professional_filter,
            }
        },
    )
    sorted_request = dict(
        DEFAULT_GRID_REQUEST, sortModel=[{"colId": "waiting_days", "sort": "asc"}]
    )
    cases = [
        ("inproc.queue_first_page", queue(DEFAULT_GRID_REQUEST)),
        ("inproc.queue_filtered_name", queue(DEFAULT_GRID_REQUEST, SEARCH)),
        ("inproc.queue_filtered_professional", queue(professional_request)),
        ("inproc.queue_sorted_waiting", queue(sorted_request)),
    ]
    for name, fn in cases:
        if not args.selected(name):
            continue
        _rows, total = fn(0)
        sample = timed(fn, **opts)
        report.emit(name, sample, extra={"matching_cases": total})

    if args.selected("inproc.case_open") and fx.pending_ids:

        def open_case(i):
            case_id = fx.pending_ids[i % len(fx.pending_ids)]
            with backend.uow() as uow:
                return case_file.open_case(uow, case_id, fx.staff_id)  # with the colleagues

        report.emit("inproc.case_open", timed(open_case, **opts))

    f = metrics_filter()
    if args.selected("inproc.metrics_cold"):
        cold = []
        for _ in range(args.cold_rounds):
            fresh = Backend.from_settings(settings)  # a new process's engine: no cache at all
            t0 = time.perf_counter()
            with fresh.uow() as uow:
                metrics.compute(uow, f)
            cold.append(time.perf_counter() - t0)
            fresh.dispose()
        report.emit("inproc.metrics_cold", Sample(cold, sum(cold)))

    def compute(flt):
        def call(_i):
            with backend.uow() as uow:
                return metrics.compute(uow, flt)

        return call

    if args.selected("inproc.metrics_warm"):
        report.emit("inproc.metrics_warm", timed(compute(f), **opts))
    if args.selected("inproc.metrics_all_time"):
        report.emit(
            "inproc.metrics_all_time",
            timed(compute(metrics.MetricsFilter()), **opts),
            extra={"filter": "no dates (every enrolment)"},
        )
    if args.selected("inproc.access_metrics"):
        # The accounts-and-access part of the page alone (issue 20): live counts, links
        # ended per month, the median delay from decision to account usable.
        def access(_i):
            with backend.uow() as uow:
                return access_metrics.compute(uow, f.start, f.end, f.specialty)

        report.emit("inproc.access_metrics", timed(access, **opts))
    backend.dispose()


# --- HTTP measurements -----------------------------------------------------------------------


class Callbacks:
    """Request bodies built from the app's own /_dash-dependencies (robust to reordering)."""

    def __init__(self, port: int):
        status, body, _ = hl.request(port, "GET", "/_dash-dependencies")
        if status != 200:
            raise RuntimeError(f"/_dash-dependencies: HTTP {status}")
        self.deps = json.loads(body)

    def body(self, output_part: str, values: dict, triggered: str | None = None) -> bytes:
        spec = next((d for d in self.deps if output_part in d["output"]), None)
        if spec is None:
            raise KeyError(f"no callback with output {output_part!r}")
        key = spec["output"]
        parts = key.strip(".").split("...") if key.startswith("..") else [key]
        outputs = [tuple(p.rsplit(".", 1)) for p in parts]

        def items(deps):
            return [
                (d["id"], d["property"], values.get(f"{d['id']}.{d['property']}")) for d in deps
            ]

        return hl.callback_body(outputs, items(spec["inputs"]), items(spec["state"]), triggered)


class HttpBench:
    def __init__(self, url: str, report: Report, fx: Fixture, args):
        self.url = url
        self.report = report
        self.fx = fx
        self.args = args
        env = {
            "DATABASE_URL": url,
            "SECRET_KEY": SECRET_KEY,
            "DASHBOARD_ENV": "test",
            "DEMO_ON_FIRST_START": "0",
            "BASE_URL": "http://127.0.0.1:8050",
        }
        self.server = hl.Server(env, workers=args.workers, log=log)
        self.pg_database = make_url(normalise_url(url)).database if gen.is_postgresql(url) else None
        self.floor_c: Sample | None = None  # every floor run at `clients`, pooled
        self.floor_1: Sample | None = None  # every single-client floor run, pooled
        self.logins = 0

    # helpers ----------------------------------------------------------------------------
    def staff_session(self) -> tuple[str, str]:
        self.logins += 1
        return hl.login_staff(
            self.server.port,
            gen.BENCH_STAFF_EMAIL,
            gen.BENCH_STAFF_PASSWORD,
            source=hl.loopback_address(self.logins, block=5),
        )

    def run(
        self,
        make,
        *,
        clients=None,
        duration=None,
        min_requests=None,
        max_requests=None,
        check=None,
        warmup=None,
        path=hl.DASH,
    ) -> Sample:
        a = self.args
        clients = clients or a.clients
        return Sample.of(
            hl.load(
                self.server.port,
                make,
                clients=clients,
                duration=a.duration if duration is None else duration,
                min_requests=a.min_requests if min_requests is None else min_requests,
                max_requests=max_requests,
                max_seconds=a.max_seconds,
                warmup=clients if warmup is None else warmup,
                check=check,
                path=path,
            )
        )

    def floor(self, clients: int | None = None, duration: float | None = None) -> Sample:
        clients = clients or self.args.clients
        sample = self.run(
            lambda i: (self.floor_body, self.floor_headers),
            clients=clients,
            duration=duration if duration is not None else self.args.floor_duration,
            min_requests=50,
            check=lambda s, d: b"bench-out" in d,
        )
        if clients == 1:
            self.floor_1 = sample if self.floor_1 is None else self.floor_1.merged(sample)
        else:
            self.floor_c = sample if self.floor_c is None else self.floor_c.merged(sample)
        return sample

    def metered(self, fn):
        """fn() → Sample, with the CPU milliseconds per answered request it cost the app's
        workers and (PostgreSQL) the database's backends: less sensitive than latencies to
        other load on a shared machine."""
        meter = hl.CpuMeter(self.server, self.pg_database)
        before = meter.snapshot()
        sample = fn()
        used = meter.delta(before, meter.snapshot())
        count = max(1, len(sample.latencies) + sample.warm)
        cpu = {f"{k}_cpu_ms_per_request": round(v * 1000 / count, 3) for k, v in used.items()}
        return sample, cpu

    def measure(self, name: str, make, check, *, kind="latency", extra=None, **kw) -> None:
        if not self.args.selected(name):
            return
        log(f"HTTP {name}")
        floor, floor_cpu = self.metered(self.floor)
        sample, cpu = self.metered(lambda: self.run(make, check=check, **kw))
        info = dict(cpu, **{f"floor_{k}": v for k, v in floor_cpu.items()})
        self.report.emit(name, sample, kind=kind, floor=floor, extra=dict(info, **(extra or {})))

    # the measurements -------------------------------------------------------------------
    def all(self) -> None:
        a, fx = self.args, self.fx
        self.server.start()
        try:
            port = self.server.port
            cb = Callbacks(port)
            self.floor_headers = hl.json_headers(*hl.signed_session(SECRET_KEY, {}))
            self.floor_body = cb.body("bench-out.children", {"bench-in.n_clicks": 1})
            self.floor(duration=2)  # warm-up of both workers
            self.floor(clients=1, duration=a.floor_duration)

            staff = hl.json_headers(*self.staff_session())

            def queue(request, search=""):
                body = cb.body(
                    "queue-grid.getRowsResponse",
                    {
                        "queue-grid.getRowsRequest": request,
                        "queue-quick.value": [],
                        "queue-search.value": search,
                    },
                )
                return lambda i: (body, staff)

            def rows(s, d):
                return b'"rowData"' in d

            self.measure("queue_first_page", queue(DEFAULT_GRID_REQUEST), rows)
            self.measure(
                "queue_filtered_name",
                queue(DEFAULT_GRID_REQUEST, SEARCH),
                rows,
                extra={"search": SEARCH},
            )
            prof_request = dict(
                DEFAULT_GRID_REQUEST,
                filterModel={
                    "professional": {
                        "filterType": "text",
                        "type": "contains",
                        "filter": fx.professional_filter,
                    }
                },
            )
            self.measure(
                "queue_filtered_professional",
                queue(prof_request),
                rows,
                extra={"professional_filter": fx.professional_filter},
            )
            sorted_request = dict(
                DEFAULT_GRID_REQUEST, sortModel=[{"colId": "waiting_days", "sort": "asc"}]
            )
            self.measure(
                "queue_sorted_waiting",
                queue(sorted_request),
                rows,
                extra={"sort": "waiting_days asc"},
            )
            # The lines above repeat one request, answered from the app's page cache after
            # the first time (as when reviewers refresh between two events). Here each
            # request is a block near the top of the queue at another offset (0–999), more
            # blocks than the cache holds: every one is built from the database.
            starts = range(0, max(1, min(fx.pending - 100, 1000)))
            blocks = [
                queue(dict(DEFAULT_GRID_REQUEST, startRow=s, endRow=s + 100))(0)[0] for s in starts
            ]
            self.measure(
                "queue_page_uncached",
                lambda i: (blocks[i % len(blocks)], staff),
                rows,
                extra={"distinct_pages": len(blocks), "cache_size": QUEUE_CACHE_SIZE},
            )

            if fx.pending_ids:
                pages = [
                    cb.body(
                        "_pages_content.children",
                        {
                            "_pages_location.pathname": f"/backoffice/dossier/{cid}",
                            "_pages_location.search": "",
                        },
                    )
                    for cid in fx.pending_ids
                ]
                self.measure(
                    "case_open",
                    lambda i: (pages[i % len(pages)], staff),
                    lambda s, d: b"diff-last_name" in d,
                    extra={
                        "what": "the case page's layout: open_case (audited), diff, "
                        "timeline, related, notes"
                    },
                )

            f = metrics_filter()
            metrics_body = cb.body(
                "metrics-kpis.children",
                {
                    "metrics-dates.start_date": f.start.isoformat(),
                    "metrics-dates.end_date": f.end.isoformat(),
                    "metrics-specialty.value": "",
                },
            )
            staff = hl.json_headers(*self.staff_session())  # fresh: last_seen is 30 min max
            self.measure(
                "metrics_warm",
                lambda i: (metrics_body, staff),
                lambda s, d: b"metrics-kpis" in d,
                min_requests=max(a.clients * 2, 20),
                warmup=2,
                extra={"filter": f"{f.start}..{f.end}"},
            )
            self.declarations(cb)
            self.matricule_step(cb)
            if a.selected("metrics_cold"):
                self.metrics_cold(metrics_body)
            self.report.emit(
                "floor_dash_noop",
                self.floor_c,
                extra={"what": "do-nothing Dash callback, pooled over the run"},
            )
            self.report.emit(
                "floor_dash_noop_serial", self.floor_1, extra={"what": "the same, one client"}
            )
        finally:
            self.server.stop()
        rss = self.server.rss_mb()
        self.report.emit(
            "server_peak_rss_mb",
            None,
            kind="memory",
            value=rss["worker_peak_mb"],
            extra=dict(
                rss,
                target_mb=RSS_TARGET_MB,
                target_met=(rss["worker_peak_mb"] or 0) <= RSS_TARGET_MB,
                what="VmHWM of the largest gunicorn worker (value); master and "
                "server total in extra",
            ),
        )

    def declarations(self, cb: Callbacks) -> None:
        if not self.args.selected("declaration"):
            return
        fx = self.fx
        salt = int(time.time()) % 997
        sessions = [
            hl.json_headers(*hl.signed_session(SECRET_KEY, data))
            for data in opened_sessions(self.url, "professional", fx.professional_ids[:100])
        ]

        def make(i):
            birth = dt.date(1960, 1, 1) + dt.timedelta(days=(i * 7 + salt) % 16000)
            value = matricule_mod.make(birth.strftime("%Y%m%d"), f"{(i // 2300 + salt) % 1000:03d}")
            email = f"bench.{salt}.{i}@example.lu"
            body = cb.body(
                "decl-summary.children",
                {
                    "decl-submit.n_clicks": 1,
                    "decl-last-name.value": "Benchmark",
                    "decl-first-names.value": "Anne",
                    "decl-matricule.value": value,
                    "decl-email.value": email,
                    "decl-email-confirm.value": email,
                    "decl-phone.value": "",
                    "decl-correcting.data": None,
                },
            )
            # Each doctor from his own address (per-address rate limits, as in production).
            return body, sessions[i % len(sessions)], hl.loopback_address(i % 5000, block=40)

        self.measure(
            "declaration",
            make,
            lambda s, d: b'"decl-summary":{"children":""}' in d,
            kind="throughput",
            extra={"what": "submit_declaration: a new enrolment, its event and its email"},
        )

    def matricule_step(self, cb: Callbacks) -> None:
        if not self.args.selected("matricule_step"):
            return
        a = self.args
        log(f"adding {a.reserve} open invitations (cgu_accepted) for the matricule step")
        invitations = gen.add_open_invitations(self.url, a.reserve, seed=a.seed)
        held = opened_sessions(
            self.url,
            "enrolment",
            [inv.enrolment_id for inv in invitations],
            [inv.token_hash for inv in invitations],
        )
        prepared = []
        for k, inv in enumerate(invitations):
            body = cb.body(
                "matricule-nav.href",
                {
                    "matricule-submit.n_clicks": 1,
                    "matricule-input.n_submit": None,
                    "matricule-input.value": matricule_mod.format_display(inv.matricule),
                },
                triggered="matricule-submit.n_clicks",
            )
            headers = hl.json_headers(*hl.signed_session(SECRET_KEY, held[k]))
            # Each secretary from her own address, as in production.
            prepared.append((body, headers, hl.loopback_address(k, block=20)))
        self.measure(
            "matricule_step",
            lambda i: prepared[i],
            lambda s, d: b"luxtrust" in d and b"matricule-nav" in d,
            kind="throughput",
            max_requests=len(prepared) - a.clients,
            extra={
                "what": "check_matricule with the right matricule: cgu_accepted → "
                "matricule_verified, each request a different secretary"
            },
        )

    def metrics_cold(self, metrics_body: bytes) -> None:
        """After each restart of the server: the first metrics request of a worker."""
        cold, floors = [], []
        for r in range(self.args.cold_rounds):
            log(f"HTTP metrics_cold, round {r + 1}/{self.args.cold_rounds} (restart)")
            self.server.restart()
            staff = hl.json_headers(*self.staff_session())
            # Dash's own first-request set-up, on both workers, is not the metrics' cost.
            self.run(
                lambda i: (self.floor_body, self.floor_headers),
                duration=1,
                min_requests=40,
                check=None,
            )
            floors.append(self.floor(clients=1, duration=1))
            t0 = time.perf_counter()
            status, data, _ = hl.request(self.server.port, "POST", hl.DASH, metrics_body, staff)
            cold.append(time.perf_counter() - t0)
            if status != 200 or b"metrics-kpis" not in data:
                raise RuntimeError(f"metrics_cold: HTTP {status} {data[:200]!r}")
        floor = floors[0]
        for f in floors[1:]:
            floor = floor.merged(f)
        sample = Sample(cold, sum(cold))
        extra = {
            "rounds": len(cold),
            "what": "first metrics request after a server restart, "
            "one client; ratio against the one-client floor",
        }
        if self.floor_c and self.floor_c.p50 and sample.p50:
            extra["ratio_vs_20_client_floor"] = round(sample.p50 / self.floor_c.p50, 2)
        self.report.emit("metrics_cold", sample, floor=floor, extra=extra)


# --- entry point -------------------------------------------------------------------------------


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--enrolments",
        "-n",
        type=int,
        default=None,
        help="N (generated first when the database is empty; default 10,000)",
    )
    p.add_argument("--database", help="SQLAlchemy URL; default benchmarks/results/bench-N.sqlite3")
    p.add_argument("--json", action="store_true", help="one JSON object per line on stdout")
    p.add_argument("--seed", type=int, default=gen.DEFAULT_SEED)
    p.add_argument("--fresh", action="store_true", help="regenerate the database first")
    p.add_argument("--iterations", type=int, default=30, help="in-process iterations")
    p.add_argument("--duration", type=float, default=5.0, help="seconds per HTTP measurement")
    p.add_argument("--floor-duration", type=float, default=2.0)
    p.add_argument("--min-requests", type=int, default=40)
    p.add_argument("--max-seconds", type=float, default=120.0, help="cap per measurement")
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--cold-rounds", type=int, default=3)
    p.add_argument(
        "--reserve",
        type=int,
        default=4000,
        help="open invitations added for the matricule step (each used once)",
    )
    p.add_argument("--skip-http", action="store_true")
    p.add_argument("--skip-inproc", action="store_true")
    p.add_argument("--only", default="", help="comma-separated names to run (default: all)")


def _checkpoint(url: str) -> None:
    """Flush PostgreSQL's dirty pages (e.g. a load just before) before measuring writes."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    engine = create_engine(normalise_url(url), poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("CHECKPOINT"))
    except Exception as exc:  # not a superuser
        log(f"no CHECKPOINT before measuring ({exc.__class__.__name__})")
    finally:
        engine.dispose()


def main(args: argparse.Namespace) -> int:
    from benchmarks.__main__ import default_url

    wanted = {w.strip() for w in args.only.split(",") if w.strip()}
    args.selected = lambda name: not wanted or name in wanted
    n_wanted = args.enrolments or 10_000
    url = args.database or default_url(n_wanted)
    existing = None if args.fresh else gen.count_enrolments(url)
    if not existing:
        log(f"generating {n_wanted:,} enrolments into {url}")
        gen.generate(url, n_wanted, seed=args.seed, fresh=True)
    from dashboard.enrolment import schema

    schema.upgrade(url)  # the app's migrations may have moved on since the generation
    fx = fixture(url, args.seed)
    n = args.enrolments or fx.enrolments
    database = "postgresql" if gen.is_postgresql(url) else "sqlite"
    log(f"{database}: {fx.enrolments:,} enrolments, {fx.pending:,} in the review queue")
    if database == "postgresql":
        _checkpoint(url)
    report = Report(n, database, args.json)
    if not args.skip_inproc:
        run_inproc(url, report, fx, args)
    if not args.skip_http:
        HttpBench(url, report, fx, args).all()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(argparse.ArgumentParser().parse_args()))
