"""What an operator reads from the running app: /readyz, /metrics, request ids and the
request log.

Route names. Every request is named by what it reached, never by what it carried: a Flask
route by its rule ("/enrolment/invitation/<token>"), a Dash page by its path template
("/backoffice/dossier/<case_id>"), a Dash callback by its registered function
("staff_admin.act") or, for the page router, by the page it renders. Anything else is
"unmatched". The set of names is therefore fixed by the code: the metrics' labels stay
bounded and hold no id, token or personal value.

Several processes. gunicorn runs several workers; each keeps its own request counters. When
PROMETHEUS_MULTIPROC_DIR is set (production: an empty directory, set before gunicorn starts),
prometheus-client's multiprocess mode sums them across workers at every scrape (gunicorn.conf.py
removes a dead worker's files). Without it the counters are the answering process's only
(the development server: one process). The database-derived gauges (outboxes, review queue,
jobs) are computed at scrape time from the database, so every worker answers the same.
"""

from __future__ import annotations

import hmac
import logging
import os
import re
import time
import uuid

import dash
import flask
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily

from dashboard import logs
from dashboard.enrolment import operations, schema

log = logging.getLogger("dashboard.access")

REQUESTS = CollectorRegistry(auto_describe=True)
REQUEST_COUNT = Counter(
    "esante_http_requests",
    "Requests served, by route name, method and status class.",
    ("route", "method", "status"),
    registry=REQUESTS,
)
REQUEST_SECONDS = Histogram(
    "esante_http_request_duration_seconds",
    "Time to answer a request, by route name.",
    ("route",),
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REQUESTS,
)

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
UNMATCHED = "unmatched"


# --- route names -----------------------------------------------------------------------------


class RouteNames:
    """Names for requests to one app, read from its page registry and callback map."""

    def __init__(self, app: dash.Dash):
        self.app = app
        self.prefix = app.config.requests_pathname_prefix
        self._pages: dict[str, str] | None = None
        self._templates: list[tuple[re.Pattern, str]] = []
        self._callbacks: dict[str, str] = {}

    def _load_pages(self) -> None:
        pages, templates = {}, []
        for page in dash.page_registry.values():
            template = page.get("path_template")
            if template:
                pattern = re.sub(r"<[^>/]+>", "[^/]+", re.escape(template))
                templates.append((re.compile(pattern + "/?"), template))
            pages[page["path"]] = page["path"]
        self._pages, self._templates = pages, templates

    def page(self, path) -> str:
        if self._pages is None:
            self._load_pages()
        if not isinstance(path, str):
            return UNMATCHED
        if path in self._pages:
            return "page:" + self._pages[path]
        for pattern, template in self._templates:
            if pattern.fullmatch(path):
                return "page:" + template
        return "page:" + UNMATCHED

    def callback(self, body) -> str:
        key = body.get("output") if isinstance(body, dict) else None
        if not isinstance(key, str):
            return "callback:" + UNMATCHED
        if "_pages_content" in key:  # Dash's page router: name it by the page it renders
            for item in body.get("inputs") or []:
                if isinstance(item, dict) and item.get("property") == "pathname":
                    return self.page(item.get("value")).replace("page:", "layout:", 1)
            return "layout:" + UNMATCHED
        name = self._callbacks.get(key)
        if name is None:
            spec = self.app.callback_map.get(key)
            fn = spec.get("callback") if spec else None
            if fn is None:
                return "callback:" + UNMATCHED  # never cached: keys are the browser's
            while hasattr(fn, "__wrapped__"):
                fn = fn.__wrapped__
            module = getattr(fn, "__module__", "") or ""
            name = self._callbacks[key] = (
                f"callback:{module.rsplit('.', 1)[-1]}.{getattr(fn, '__name__', '?')}"
            )
        return name

    def of(self, request: flask.Request) -> str:
        if request.path == self.prefix + "_dash-update-component" and request.method == "POST":
            return self.callback(request.get_json(silent=True))
        rule = request.url_rule.rule if request.url_rule is not None else None
        if rule is None:
            return UNMATCHED
        if rule in ("/", "/<path:path>") or rule == self.prefix:
            return self.page(request.path)
        return rule


# --- per request -----------------------------------------------------------------------------


def _start() -> None:
    given = flask.request.headers.get("X-Request-ID", "")
    request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
    names: RouteNames = flask.current_app.extensions["esante_routes"]
    try:
        route = names.of(flask.request)
    except Exception:  # noqa: BLE001 - naming must never fail a request
        route = UNMATCHED
    flask.g.esante_request = {
        "request_id": request_id,
        "route": route,
        "method": flask.request.method,
        "started": time.perf_counter(),
    }
    flask.g.esante_log_token = logs.REQUEST.set({"request_id": request_id, "route": route})


def _finish(response: flask.Response) -> flask.Response:
    info = flask.g.get("esante_request")
    if info is None:
        return response
    elapsed = time.perf_counter() - info["started"]
    status = response.status_code
    REQUEST_COUNT.labels(info["route"], _method(info["method"]), f"{status // 100}xx").inc()
    REQUEST_SECONDS.labels(info["route"]).observe(elapsed)
    response.headers["X-Request-ID"] = info["request_id"]
    if flask.current_app.extensions["esante"].settings.log_format == "json":
        log.info(
            "request",
            extra={
                "method": info["method"],
                "status": status,
                "duration_ms": round(elapsed * 1000, 1),
            },
        )
    return response


def _teardown(_exc) -> None:
    token = flask.g.pop("esante_log_token", None)
    if token is not None:
        try:
            logs.REQUEST.reset(token)
        except ValueError:  # set in another context (a server's own threading): drop it
            logs.REQUEST.set(None)


def _method(method: str) -> str:
    return method if method in ("GET", "POST", "HEAD", "OPTIONS") else "other"


# --- /readyz and /metrics ---------------------------------------------------------------------


def _bearer_ok(settings) -> bool:
    token = settings.metrics_token
    given = flask.request.headers.get("Authorization", "")
    scheme, _, value = given.partition(" ")
    if not token or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(value.strip().encode(), token.encode())


def _plain(status: int, body: str) -> flask.Response:
    response = flask.make_response(body, status)
    response.headers["Content-Type"] = "text/plain; charset=utf-8"
    response.headers["Cache-Control"] = "no-store"
    return response


def readyz():
    """200 when the database answers and its schema is the newest; 503 otherwise. Why, only
    to a caller holding METRICS_TOKEN."""
    app = flask.current_app
    backend = app.extensions["esante"]
    problem = operations.readiness(backend.engine, app.extensions["esante_head"])
    if problem is None:
        return _plain(200, "ready\n")
    detail = f"not ready: {problem}\n" if _bearer_ok(backend.settings) else "not ready\n"
    return _plain(503, detail)


class DatabaseGauges:
    """The gauges read from the database at each scrape (the same from any worker)."""

    def __init__(self, backend):
        self.backend = backend

    def collect(self):
        up = GaugeMetricFamily("esante_database_up", "1 when the scrape could read the database.")
        try:
            with self.backend.uow() as uow:
                outboxes = operations.outbox_gauges(uow)
                review = operations.review_gauge(uow)
                jobs = operations.job_last_success(uow)
        except Exception:  # noqa: BLE001 - an unreadable database is itself the figure
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        families = {
            "depth": GaugeMetricFamily(
                "esante_outbox_depth", "Items waiting in the outbox, by kind.", labels=["kind"]
            ),
            "due": GaugeMetricFamily(
                "esante_outbox_due", "Items due now in the outbox, by kind.", labels=["kind"]
            ),
            "age": GaugeMetricFamily(
                "esante_outbox_oldest_due_age_seconds",
                "Age of the oldest due item, by kind (0 when none is due).",
                labels=["kind"],
            ),
            "failed": GaugeMetricFamily(
                "esante_outbox_failed",
                "Items given up after their attempts: delivery failures (mail), "
                "provisioning failures (provisioning).",
                labels=["kind"],
            ),
            "retrying": GaugeMetricFamily(
                "esante_outbox_retrying",
                "Waiting items that already failed at least once, by kind.",
                labels=["kind"],
            ),
        }
        for gauge in outboxes:
            families["depth"].add_metric([gauge.kind], gauge.pending)
            families["due"].add_metric([gauge.kind], gauge.due)
            families["age"].add_metric([gauge.kind], gauge.oldest_due_seconds)
            families["failed"].add_metric([gauge.kind], gauge.failed)
            families["retrying"].add_metric([gauge.kind], gauge.retrying)
        yield from families.values()
        queue = GaugeMetricFamily("esante_review_queue_size", "Cases awaiting a reviewer.")
        queue.add_metric([], review.waiting)
        yield queue
        overdue = GaugeMetricFamily(
            "esante_review_overdue", "Cases past REVIEW_SLA_WORKING_DAYS in the queue."
        )
        overdue.add_metric([], review.overdue)
        yield overdue
        last = GaugeMetricFamily(
            "esante_job_last_success_timestamp_seconds",
            "End of each background job's last successful run (Unix time).",
            labels=["job"],
        )
        for job, when in sorted(jobs.items()):
            last.add_metric([job], when.timestamp())
        yield last


class _Requests:
    """This process's request metrics, or every worker's in multiprocess mode."""

    def collect(self):
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            yield from registry.collect()
        else:
            yield from REQUESTS.collect()


def metrics():
    """The Prometheus exposition: 404 without METRICS_TOKEN, 401 without its bearer."""
    settings = flask.current_app.extensions["esante"].settings
    if not settings.metrics_token:
        flask.abort(404)
    if not _bearer_ok(settings):
        response = _plain(401, "unauthorised\n")
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Requests())
    registry.register(DatabaseGauges(flask.current_app.extensions["esante"]))
    response = flask.make_response(generate_latest(registry), 200)
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: dash.Dash) -> None:
    server = app.server
    backend = server.extensions["esante"]
    # The migrations' newest revision, read once: the files do not change while running.
    server.extensions["esante_head"] = schema.head_revision(backend.settings.database_url)
    server.extensions["esante_routes"] = RouteNames(app)
    # First of the before_request functions: every later one (and every refusal) is timed.
    server.before_request_funcs.setdefault(None, []).insert(0, _start)
    server.after_request(_finish)
    server.teardown_request(_teardown)
    server.add_url_rule("/readyz", view_func=readyz)
    server.add_url_rule("/metrics", view_func=metrics)
