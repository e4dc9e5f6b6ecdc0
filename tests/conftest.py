"""Shared fixtures: real databases (SQLite always, PostgreSQL when TEST_DATABASE_URL is set),
a controllable clock, and a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import threading
import uuid
from email import message_from_bytes, policy

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from dashboard.config import Settings
from dashboard.enrolment import schema
from dashboard.enrolment.bootstrap import Backend
from dashboard.enrolment.db import make_engine, normalise_url
from dashboard.enrolment.model import Base
from tests.scim_server import scim_proxy, scim_server  # noqa: F401 - fixtures (a SCIM server)

PG_URL = os.environ.get("TEST_DATABASE_URL")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI a skipped test is a failure: nothing may silently not run there."""
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, which is not allowed: {reason}"


class Clock:
    """A clock the test moves by hand: expiry is tested without sleeping."""

    def __init__(self, start: dt.datetime | None = None):
        self.now = start or dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> str:
    """One SQLite file migrated with Alembic; each test gets a copy of it."""
    path = tmp_path_factory.mktemp("db") / "template.sqlite3"
    schema.upgrade(f"sqlite:///{path}")
    return str(path)


@pytest.fixture(scope="session")
def pg_migrated() -> str | None:
    """A database of its own for this test run, created beside TEST_DATABASE_URL's, so that
    parallel runs never see each other's rows; dropped at the end. None without
    TEST_DATABASE_URL (a generator fixture must still yield, or pytest reports an error)."""
    if not PG_URL:
        yield None
        return
    name = f"esante_test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(normalise_url(PG_URL)).set(database=name).render_as_string(hide_password=False)
    schema.upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_pg(url: str) -> None:
    engine = make_engine(url)
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


def _database_params():
    params = ["sqlite"]
    params.append(
        pytest.param(
            "postgresql",
            marks=pytest.mark.skipif(
                not PG_URL, reason="TEST_DATABASE_URL not set (PostgreSQL tests run in CI)"
            ),
        )
    )
    return params


@pytest.fixture(params=_database_params())
def database_url(request, tmp_path, sqlite_template) -> str:
    if request.param == "sqlite":
        path = tmp_path / "test.sqlite3"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("pg_migrated")
    _truncate_pg(url)
    return url


@pytest.fixture
def settings(database_url) -> Settings:
    return Settings(
        env="test",
        database_url=database_url,
        base_url="http://testserver",
        secret_key="test-secret-key-" + "x" * 32,
    )


@pytest.fixture
def backend(settings, clock):
    be = Backend(settings, make_engine(settings.database_url), clock)
    yield be
    be.dispose()


@pytest.fixture
def sqlite_backend(tmp_path, sqlite_template, clock):
    """SQLite only: for tests whose subject is not the database."""
    path = tmp_path / "test.sqlite3"
    shutil.copy(sqlite_template, path)
    settings = Settings(
        env="test",
        database_url=f"sqlite:///{path}",
        base_url="http://testserver",
        secret_key="test-secret-key-" + "x" * 32,
    )
    be = Backend(settings, make_engine(settings.database_url), clock)
    yield be
    be.dispose()


# --- a real SMTP server -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """Messages received by the aiosmtpd server, parsed."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler API
        msg = message_from_bytes(envelope.content, policy=policy.default)
        with self.arrived:
            self.messages.append((envelope.rcpt_tos, msg))
            self.arrived.notify_all()
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 10.0):
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.messages) >= count, timeout)
            return list(self.messages)

    def to(self, address: str):
        with self.lock:
            return [m for rcpt, m in self.messages if address in rcpt]


class SmtpServer:
    def __init__(self, port: int | None = None):
        from aiosmtpd.controller import Controller

        self.port = port or free_port()
        self.inbox = Inbox()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


@pytest.fixture
def smtp_server():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


# --- the app served over real HTTP ------------------------------------------------------------


class LiveServer:
    """A WSGI app served on loopback in a thread (what a browser or an OIDC provider calls)."""

    def __init__(self, wsgi_app, port: int):
        import werkzeug.serving

        self.port = port
        self.url = f"http://localhost:{port}"
        self.server = werkzeug.serving.make_server("localhost", port, wsgi_app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def serve_with_issuer(backend, issuer: str) -> LiveServer:
    """A fresh app on loopback whose OIDC client talks to `issuer` (authlib caches the
    provider's metadata per app, so each test gets its own)."""
    from dashboard.app import create_app

    port = free_port()
    settings = backend.settings.replace(
        base_url=f"http://localhost:{port}",
        oidc_issuer=issuer,
        oidc_client_id="esante-test",
        oidc_client_secret="esante-test-secret",
    )
    backend.settings = settings
    return LiveServer(create_app(settings, backend=backend).server, port)
