"""The operator's view of the app as served in production: gunicorn with two workers,
LOG_FORMAT=json and PROMETHEUS_MULTIPROC_DIR (issue 21)."""

from __future__ import annotations

import json
import re
import sys

import requests

from tests import factories as f
from tests.conftest import free_port
from tests.integration.test_servers import (  # noqa: F401 - database: a fixture
    SECRET_KEY,
    _environment,
    _served,
    database,
    walk_secretary_journey,
)

TOKEN = "served-metrics-token-" + "m" * 32


def _requests_to(exposition: str, route: str) -> float:
    pattern = r'^esante_http_requests_total\{[^}]*route="' + re.escape(route) + r'"[^}]*\} (\S+)$'
    return sum(float(v) for v in re.findall(pattern, exposition, re.M))


def test_gunicorn_json_logs_and_metrics_summed_over_workers(database, tmp_path):  # noqa: F811
    multiproc = tmp_path / "prometheus"
    multiproc.mkdir()
    port = free_port()
    env = _environment(
        DASHBOARD_ENV="test",
        DATABASE_URL=database.settings.database_url,
        SECRET_KEY=SECRET_KEY,
        BASE_URL=f"http://127.0.0.1:{port}",
        LOG_FORMAT="json",
        METRICS_TOKEN=TOKEN,
        PROMETHEUS_MULTIPROC_DIR=str(multiproc),
    )
    argv = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"]
    argv += ["-w", "2", "-b", f"127.0.0.1:{port}"]
    server = _served(argv, env, tmp_path, port)
    try:
        server.wait_until_ready()
        prof = f.professional(database)
        declared = f.declare(database, prof)
        walk_secretary_journey(server.url, declared.token)
        for _ in range(12):
            assert requests.get(server.url + "/readyz", timeout=10).status_code == 200
        auth = {"Authorization": f"Bearer {TOKEN}"}
        assert requests.get(server.url + "/metrics", timeout=10).status_code == 401
        # Whichever worker answers, the counters are every worker's.
        scrapes = [
            requests.get(server.url + "/metrics", headers=auth, timeout=10) for _ in range(4)
        ]
        assert all(s.status_code == 200 for s in scrapes)
        counts = {_requests_to(s.text, "/readyz") for s in scrapes}
        assert counts == {12.0}
        assert _requests_to(scrapes[0].text, "/enrolment/invitation/<token>") >= 2
        for scrape in scrapes:
            for value in (declared.token, f.MARIE["email"], f.MARIE["matricule"], "Schmit"):
                assert value not in scrape.text
    finally:
        server.stop()
    logs = server.logs
    lines = [line for line in logs.splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    routes = {e.get("route") for e in entries if e.get("logger") == "dashboard.access"}
    assert "/enrolment/invitation/<token>" in routes and "/readyz" in routes
    for value in (declared.token, f.MARIE["email"], f.MARIE["matricule"], f.MARIE["last_name"]):
        assert value not in logs
