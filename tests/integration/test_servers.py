"""The app as it is really served: gunicorn with the shipped gunicorn.conf.py (README's
production notes) and the development server (`python -m dashboard run`), each in its own
process on a free port (issues #18 and #17).

* No invitation token in any log: a secretary's journey is walked over HTTP (the emailed
  link, "Commencer", the CGU, the matricule, the way to LuxTrust), then the servers' access
  and error logs are searched for the token: it is not there, its masked form is.
* A wrong configuration refuses to start, before serving anything, with a French message
  naming each bad variable: gunicorn, the development server and the WSGI module alike.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
import requests
from sqlalchemy import select

from dashboard.config import PROJECT_ROOT, Settings
from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment.bootstrap import Backend
from dashboard.enrolment.db import make_engine
from dashboard.enrolment.model import Enrolment
from dashboard.request_logs import MASKED_PATH
from tests import dashclient as dc
from tests import factories as f
from tests.conftest import Clock, free_port

SECRET_KEY = "served-secret-key-" + "s" * 32
# Inherited variables of the README's table would change what is served: none leak in.
CONFIGURATION_PREFIXES = ("DASHBOARD_", "DATABASE_", "SECRET_", "BASE_", "SMTP_", "MAIL_", "OIDC_")
CONFIGURATION_NAMES = {
    "INVITATION_DAYS",
    "MAX_MATRICULE_ATTEMPTS",
    "RESENDS_PER_DAY",
    "CGU_VERSION",
    "IDENTITY_BLOCKING_KINDS",
    "FOUR_EYES",
    "REVIEW_SLA_WORKING_DAYS",
    "RETENTION_DAYS",
    "RATELIMIT_STORAGE_URI",
    "TRUSTED_PROXIES",
    "DEMO_ON_FIRST_START",
    "METRICS_TOKEN",
    "LOG_FORMAT",
    "OUTBOX_STUCK_MINUTES",
    "PROMETHEUS_MULTIPROC_DIR",
}


def _environment(**variables) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(CONFIGURATION_PREFIXES) and k not in CONFIGURATION_NAMES
    }
    return {**env, **variables}


class Served:
    """A server process whose stdout and stderr are files (what an operator's logs hold)."""

    def __init__(self, argv: list[str], env: dict, log_dir, port: int):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.stdout_path = log_dir / "stdout.log"
        self.stderr_path = log_dir / "stderr.log"
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.process = subprocess.Popen(  # noqa: S603 - our own command line
                argv, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=err
            )

    def wait_until_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the server stopped (status {self.process.returncode}):\n{self.logs}")
            try:
                if requests.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        pytest.fail(f"the server did not answer within {timeout} s:\n{self.logs}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    @property
    def logs(self) -> str:
        return self.stdout_path.read_text(errors="replace") + self.stderr_path.read_text(
            errors="replace"
        )


@pytest.fixture
def database(tmp_path, sqlite_template):
    """A migrated SQLite file shared by the test (which declares) and the served app."""
    path = tmp_path / "served.sqlite3"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    settings = Settings(env="test", database_url=url, secret_key=SECRET_KEY)
    # The served app reads the real time: the declaration must be made at the same time.
    backend = Backend(settings, make_engine(url), Clock(dt.datetime.now(dt.UTC)))
    yield backend
    backend.dispose()


def _served(argv, env, tmp_path, port) -> Served:
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    return Served(argv, env, log_dir, port)


@pytest.fixture
def gunicorn_server(database, tmp_path):
    """README's production command with the shipped configuration. Two workers: the login
    fetches the built-in simulator's discovery document from the same server."""
    port = free_port()
    env = _environment(
        DASHBOARD_ENV="test",
        DATABASE_URL=database.settings.database_url,
        SECRET_KEY=SECRET_KEY,
        BASE_URL=f"http://127.0.0.1:{port}",
    )
    argv = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"]
    argv += ["-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "debug"]
    server = _served(argv, env, tmp_path, port)
    try:
        server.wait_until_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture
def dev_server(database, tmp_path):
    """`python -m dashboard run` as `make run` starts it (BASE_URL follows --host/--port)."""
    port = free_port()
    env = _environment(
        DATABASE_URL=database.settings.database_url,
        SECRET_KEY=SECRET_KEY,
        DEMO_ON_FIRST_START="0",
    )
    argv = [sys.executable, "-m", "dashboard", "run", "--host", "127.0.0.1", "--port", str(port)]
    server = _served(argv, env, tmp_path, port)
    try:
        server.wait_until_ready()
        yield server
    finally:
        server.stop()


def _call(client, input_id, inputs, state=()):
    response = dc.call_by_input(client, input_id, inputs, state)
    assert response.status_code == 200, response.data[:300]
    return dc.values(response)


def walk_secretary_journey(base_url: str, token: str) -> None:
    """What her browser sends, over plain HTTP, up to LuxTrust's page."""
    client = dc.HttpClient(base_url)
    # A mail scanner opens the link first; then she does (the link is the same both times).
    assert requests.get(f"{base_url}/enrolment/invitation/{token}", timeout=30).ok
    opened = client.get(f"/enrolment/invitation/{token}")
    assert opened.status_code == 200 and opened.raw.url.endswith("/enrolment/debut")
    assert dc.render_page(client, "/enrolment/debut").status_code == 200
    started = _call(client, "start-button", [("start-button", "n_clicks", 1)])
    assert started[("start-nav", "href")] == "/enrolment/conditions"
    assert dc.render_page(client, "/enrolment/conditions").status_code == 200
    accepted = _call(
        client,
        "cgu-submit",
        [("cgu-submit", "n_clicks", 1)],
        [("cgu-accepted", "value", True), ("cgu-version", "data", "2024-01")],
    )
    assert accepted[("cgu-nav", "href")] == "/enrolment/matricule"
    verified = _call(
        client,
        "matricule-submit",
        [("matricule-submit", "n_clicks", 1), ("matricule-input", "n_submit", None)],
        [("matricule-input", "value", f.MARIE["matricule"])],
    )
    assert verified[("matricule-nav", "href")] == "/enrolment/luxtrust"
    assert dc.render_page(client, "/enrolment/luxtrust").status_code == 200
    # On to the LuxTrust simulator's page (where plain HTTP stops: she would log in there).
    to_luxtrust = client.get("/auth/luxtrust/login?for=enrolment")
    assert to_luxtrust.status_code == 200, to_luxtrust.data[:300]
    # A browser that ignores the Referrer-Policy would send the link along; that is logged.
    client.get("/enrolment/debut", headers={"Referer": f"{base_url}/enrolment/invitation/{token}"})


def _declared(database) -> tuple[int, str]:
    declared = f.declare(database, f.professional(database))
    return declared.enrolment_id, declared.token


def _state(database, enrolment_id) -> str:
    with database.uow() as uow:
        return uow.session.scalar(select(Enrolment.state).where(Enrolment.id == enrolment_id))


def test_gunicorn_logs_hold_no_invitation_token(gunicorn_server, database):
    enrolment_id, token = _declared(database)
    walk_secretary_journey(gunicorn_server.url, token)
    assert _state(database, enrolment_id) == lc.MATRICULE_VERIFIED
    gunicorn_server.stop()  # flushed and closed: everything it would log is there
    access = gunicorn_server.stdout_path.read_text()
    errors = gunicorn_server.stderr_path.read_text()
    assert "POST /_dash-update-component" in access  # the journey is in the access log
    assert "Booting worker" in errors  # and the error log is the debug-level one
    assert token not in access + errors
    assert access.count(f"GET {MASKED_PATH}") == 2  # the scanner's GET and hers
    assert f'"http://127.0.0.1:{gunicorn_server.port}{MASKED_PATH}"' in access  # the Referer


def test_dev_server_logs_hold_no_invitation_token(dev_server, database):
    enrolment_id, token = _declared(database)
    walk_secretary_journey(dev_server.url, token)
    assert _state(database, enrolment_id) == lc.MATRICULE_VERIFIED
    dev_server.stop()
    logs = dev_server.logs
    assert "POST /_dash-update-component" in logs  # werkzeug's request log
    assert token not in logs
    assert logs.count(f"GET {MASKED_PATH}") == 2


# --- a wrong configuration refuses to start -------------------------------------------------

BAD = {"INVITATION_DAYS": "0", "DEMO_ON_FIRST_START": "ture", "MAIL_FROM": "esante.lu"}


def test_the_dev_server_refuses_a_bad_configuration(tmp_path):
    database = tmp_path / "never.sqlite3"
    port = free_port()
    argv = [sys.executable, "-m", "dashboard", "run", "--host", "127.0.0.1", "--port", str(port)]
    done = subprocess.run(  # noqa: S603
        argv,
        cwd=PROJECT_ROOT,
        env=_environment(DATABASE_URL=f"sqlite:///{database}", **BAD),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("Erreur : ")
    for name in BAD:
        assert name in done.stderr
    assert "Traceback" not in done.stderr
    assert not database.exists()  # refused before anything was written


def test_gunicorn_refuses_a_bad_configuration_before_starting_workers(tmp_path):
    port = free_port()
    argv = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "-b", f"127.0.0.1:{port}"]
    done = subprocess.run(  # noqa: S603
        argv,
        cwd=PROJECT_ROOT,
        env=_environment(DATABASE_URL=f"sqlite:///{tmp_path / 'never.sqlite3'}", **BAD),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    for name in BAD:
        assert name in done.stderr
    assert "Booting worker" not in done.stderr
    assert "Erreur : " in done.stderr


def test_the_wsgi_module_refuses_a_bad_configuration(tmp_path):
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", "import dashboard.wsgi"],
        cwd=PROJECT_ROOT,
        env=_environment(DATABASE_URL=f"sqlite:///{tmp_path / 'never.sqlite3'}", **BAD),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "ConfigurationError" in done.stderr
    for name in BAD:
        assert name in done.stderr
