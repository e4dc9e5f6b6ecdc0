"""Faults, each injected for real (issue #7, point 6).

* The identity provider answering garbage (HTML discovery, 500s, non-JSON token answers,
  unusable JWKS), or going down between the login and the callback: a French message, the
  enrolment unchanged, and a retry that works once the provider is back.
  (Provider unreachable from the start: tests/integration/test_luxtrust_oidc.py::
  test_unreachable_provider_gives_a_clear_message. Bad ID tokens: same file.)
* The rate-limit store (Redis) unreachable.
* PostgreSQL connections killed by the server (pg_terminate_backend) between two requests
  and in the middle of one: the pool recovers (pool_pre_ping), nothing is half-written.
* The process killed with SIGKILL between a transition and its email, and a dispatcher
  killed while sending: every committed enrolment gets its invitation, none is lost.
  (SMTP down for a while: tests/integration/test_mail.py::
  test_server_down_backs_off_then_every_mail_arrives_exactly_once.)
* The database going away under `mail send --loop` (its tables renamed away, or the
  PostgreSQL database dropped and created again): the loop says so, backs off, goes on.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections import Counter

import flask
import pytest
import requests
from sqlalchemy import event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from dashboard.app import create_app
from dashboard.config import PROJECT_ROOT, Settings
from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment import mail, matricule, schema
from dashboard.enrolment.bootstrap import Backend
from dashboard.enrolment.db import make_engine, normalise_url
from dashboard.enrolment.model import Base, Enrolment, OutboxEmail
from dashboard.luxtrust.client import error_message
from tests import dashclient as dc
from tests import factories as f
from tests.conftest import (
    PG_URL,
    LiveServer,
    SmtpServer,
    _truncate_pg,
    free_port,
    serve_with_issuer,
)
from tests.integration.test_luxtrust_oidc import MARIE_CLAIMS, up_to_luxtrust
from tests.oidc_rogue import RogueProvider


def _state(backend, enrolment_id) -> str:
    with backend.uow() as uow:
        return uow.session.get(Enrolment, enrolment_id).state


def _table_counts(backend) -> dict[str, int]:
    with backend.uow() as uow:
        return {
            t.name: uow.session.scalar(select(func.count()).select_from(t))
            for t in Base.metadata.sorted_tables
        }


# --- 1. the identity provider answering garbage -------------------------------------------------


class GarbageProvider(RogueProvider):
    """The faulty test provider (tests/oidc_rogue.py), which can also answer garbage at
    one of its endpoints (`fault`); with fault None it behaves correctly."""

    def __init__(self, claims: dict):
        super().__init__(claims)
        self.fault: str | None = None
        self.app.before_request(self._garbage)

    def _garbage(self):
        path, fault = flask.request.path, self.fault
        html = ("<html><body>Maintenance</body></html>", 200, {"Content-Type": "text/html"})
        if path.endswith("/openid-configuration"):
            if fault == "discovery-html":
                return html
            if fault == "discovery-500":
                return "<h1>Internal Server Error</h1>", 500
            if fault == "discovery-503-json":
                return {"error": "temporarily_unavailable"}, 503
            if fault == "discovery-empty-object":
                return {}
            if fault == "discovery-array":
                return flask.Response("[1, 2]", mimetype="application/json")
        if path == "/token":
            if fault == "token-500":
                return "<h1>Internal Server Error</h1>", 500
            if fault == "token-500-json":
                return {"error": "server_error"}, 500
            if fault == "token-html":
                return html
            if fault == "token-array":
                return flask.Response("[]", mimetype="application/json")
            if fault == "token-id-token-garbage":
                return {"access_token": "x", "token_type": "Bearer", "id_token": "garbage"}
            if fault == "token-id-token-number":
                return {"access_token": "x", "token_type": "Bearer", "id_token": 5}
        if path == "/jwks":
            if fault == "jwks-html":
                return html
            if fault == "jwks-empty":
                return {"keys": []}
            if fault == "jwks-garbage-key":
                return {
                    "keys": [{"kty": "EC", "crv": "P-256", "x": "AA", "y": "BB", "kid": "rogue-1"}]
                }
        return None


@pytest.fixture
def provider():
    p = GarbageProvider(dict(MARIE_CLAIMS, sub="lt-marie"))
    port = free_port()
    p.issuer = f"http://127.0.0.1:{port}"
    with LiveServer(p.app, port):
        yield p


def _served(sqlite_backend, issuer: str):
    return serve_with_issuer(sqlite_backend, issuer)


def _login(browser, live) -> str:
    """Start the login, follow the provider's redirect back; the app's final Location."""
    start = browser.get(f"{live.url}/auth/luxtrust/login?for=enrolment", allow_redirects=False)
    if start.status_code != 302:
        return start.headers.get("Location", f"HTTP {start.status_code}")
    at_provider = browser.get(start.headers["Location"], allow_redirects=False)
    back = browser.get(at_provider.headers["Location"], allow_redirects=False)
    return back.headers.get("Location", f"HTTP {back.status_code}")


def _page_says(browser, live, location: str) -> str:
    """The French message the luxtrust page shows for ?erreur=<code> (rendered by Dash)."""
    code = location.split("erreur=", 1)[1]
    body = {
        "output": ".._pages_content.children..._pages_store.data..",
        "outputs": [
            {"id": "_pages_content", "property": "children"},
            {"id": "_pages_store", "property": "data"},
        ],
        "inputs": [
            {"id": "_pages_location", "property": "pathname", "value": "/enrolment/luxtrust"},
            {"id": "_pages_location", "property": "search", "value": f"?erreur={code}"},
        ],
        "changedPropIds": ["_pages_location.pathname"],
        "state": [],
    }
    response = browser.post(
        f"{live.url}/_dash-update-component",
        data=json.dumps(body),
        headers={
            "Content-Type": "application/json",
            "X-CSRFToken": browser.cookies.get("_csrf_token", ""),
        },
    )
    assert response.status_code == 200
    return json.dumps(response.json(), ensure_ascii=False)


GARBAGE = [
    "discovery-html",
    "discovery-500",
    "discovery-503-json",
    "token-500",
    "token-500-json",
    "token-html",
    "token-array",
    "token-id-token-garbage",
    "token-id-token-number",
    "jwks-html",
    "jwks-empty",
    "jwks-garbage-key",
]


@pytest.mark.parametrize("fault", GARBAGE)
def test_a_provider_answering_garbage_gives_a_french_message_and_changes_nothing(
    sqlite_backend, provider, fault
):
    prof = f.professional(sqlite_backend)
    declared = f.declare(sqlite_backend, prof)
    with _served(sqlite_backend, provider.issuer) as live:
        browser = requests.Session()
        up_to_luxtrust(browser, live.url, declared.token)
        before = _table_counts(sqlite_backend)
        provider.fault = fault
        location = _login(browser, live)
        assert location in (
            "/enrolment/luxtrust?erreur=indisponible",
            "/enrolment/luxtrust?erreur=jeton",
            "/enrolment/luxtrust?erreur=fournisseur",
        ), location
        message = error_message(location.split("erreur=", 1)[1])
        assert message in _page_says(browser, live, location)
        assert _state(sqlite_backend, declared.enrolment_id) == lc.MATRICULE_VERIFIED
        assert _table_counts(sqlite_backend) == before
        # The provider is repaired: the same secretary, the same app, goes through.
        provider.fault = None
        assert _login(browser, live) == "/enrolment/resultat"
    assert _state(sqlite_backend, declared.enrolment_id) == lc.ACCOUNT_CREATED


JWKS_CACHED = ("jwks-empty", "jwks-garbage-key")


@pytest.mark.parametrize("fault", JWKS_CACHED)
def test_the_app_recovers_once_the_jwks_is_repaired(sqlite_backend, provider, fault):
    prof = f.professional(sqlite_backend)
    declared = f.declare(sqlite_backend, prof)
    with _served(sqlite_backend, provider.issuer) as live:
        browser = requests.Session()
        up_to_luxtrust(browser, live.url, declared.token)
        provider.fault = fault
        assert _login(browser, live) == "/enrolment/luxtrust?erreur=jeton"
        provider.fault = None
        assert _login(browser, live) == "/enrolment/resultat"


@pytest.mark.parametrize("fault", ["discovery-empty-object", "discovery-array"])
def test_a_discovery_document_without_endpoints_is_a_clear_message(sqlite_backend, provider, fault):
    prof = f.professional(sqlite_backend)
    declared = f.declare(sqlite_backend, prof)
    with _served(sqlite_backend, provider.issuer) as live:
        browser = requests.Session()
        up_to_luxtrust(browser, live.url, declared.token)
        provider.fault = fault
        assert _login(browser, live) == "/enrolment/luxtrust?erreur=indisponible"
        provider.fault = None
        assert _login(browser, live) == "/enrolment/resultat"
    assert _state(sqlite_backend, declared.enrolment_id) == lc.ACCOUNT_CREATED


def test_a_provider_going_down_between_login_and_callback(sqlite_backend):
    """The secretary is at LuxTrust when the provider goes down: the callback cannot
    redeem its code. French message, nothing moves; back up, she retries and succeeds."""
    prof = f.professional(sqlite_backend)
    declared = f.declare(sqlite_backend, prof)
    provider = GarbageProvider(dict(MARIE_CLAIMS, sub="lt-marie"))
    port = free_port()
    provider.issuer = f"http://127.0.0.1:{port}"
    with _served(sqlite_backend, provider.issuer) as live:
        browser = requests.Session()
        up_to_luxtrust(browser, live.url, declared.token)
        with LiveServer(provider.app, port):
            start = browser.get(
                f"{live.url}/auth/luxtrust/login?for=enrolment", allow_redirects=False
            )
            at_provider = browser.get(start.headers["Location"], allow_redirects=False)
        # The provider is gone now; her browser comes back with the code.
        back = browser.get(at_provider.headers["Location"], allow_redirects=False)
        assert back.headers["Location"] == "/enrolment/luxtrust?erreur=indisponible"
        assert error_message("indisponible") in _page_says(browser, live, back.headers["Location"])
        assert _state(sqlite_backend, declared.enrolment_id) == lc.MATRICULE_VERIFIED
        with LiveServer(provider.app, port):
            assert _login(browser, live) == "/enrolment/resultat"
    assert _state(sqlite_backend, declared.enrolment_id) == lc.ACCOUNT_CREATED


# --- 2. the rate-limit store unreachable ------------------------------------------------------


def test_an_unreachable_rate_limit_store_does_not_take_logins_down(sqlite_backend):
    settings = sqlite_backend.settings.replace(
        ratelimit_storage_uri=f"redis://127.0.0.1:{free_port()}/0"  # nothing listens
    )
    app = create_app(settings, backend=sqlite_backend)
    client = app.server.test_client()
    login = client.post(
        "/backoffice/login",
        data={"email": "x@esante.lu", "password": "x", "csrf_token": dc.csrf_token(client)},
    )
    luxtrust = client.get("/auth/luxtrust/login?for=enrolment")
    prof = f.professional(sqlite_backend)
    _, token_hash = f.walk_to(sqlite_backend, prof, lc.CGU_ACCEPTED)
    f.signed_in(client, "enrolment", token_hash=token_hash)
    check = dc.call(
        client,
        [
            ("matricule-nav", "href"),
            ("matricule-input-error", "children"),
            ("matricule-input", "invalid"),
        ],
        [("matricule-submit", "n_clicks", 1), ("matricule-input", "n_submit", None)],
        [("matricule-input", "value", f.MARIE["matricule"])],
    )
    assert [login.status_code, luxtrust.status_code, check.status_code] == [303, 303, 200]


# --- 3. PostgreSQL connections killed ---------------------------------------------------------


@pytest.fixture
def pg_backend(request, clock):
    if not PG_URL:
        pytest.skip("TEST_DATABASE_URL not set (PostgreSQL tests run in CI, where skips fail)")
    url = request.getfixturevalue("pg_migrated")
    _truncate_pg(url)
    settings = Settings(
        env="test", database_url=url, base_url="http://testserver", secret_key="t" * 48
    )
    be = Backend(settings, make_engine(url), clock)
    killer = make_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    be.killer = killer
    yield be
    be.dispose()
    killer.dispose()


def _terminate_all(backend) -> int:
    """What a database restart or a network cut does to the app's pooled connections."""
    with backend.killer.connect() as conn:
        return conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar()


def _backend_pids(backend) -> set[int]:
    with backend.killer.connect() as conn:
        return set(
            conn.execute(
                text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid()"
                )
            ).scalars()
        )


def _professional_client(app, prof_id):
    return f.signed_in(app.server.test_client(), "professional", prof_id)


DECL_FIELDS = ("last_name", "first_names", "matricule", "email", "email_confirm", "phone")
DECL_IDS = {n: "decl-" + n.replace("_", "-") for n in DECL_FIELDS}
DECL_OUTPUTS = (
    [("decl-summary", "children"), ("decl-result", "children")]
    + [(f"{DECL_IDS[n]}-error", "children") for n in DECL_FIELDS]
    + [(DECL_IDS[n], "invalid") for n in DECL_FIELDS]
)


def _declare(client):
    data = {
        "last_name": "Weber",
        "first_names": "Laura",
        "matricule": matricule.make("19900203", "456"),
        "email": "laura.weber@example.lu",
        "email_confirm": "laura.weber@example.lu",
        "phone": "",
    }
    return dc.call(
        client,
        DECL_OUTPUTS,
        [("decl-submit", "n_clicks", 1)],
        [(DECL_IDS[n], "value", data[n]) for n in DECL_FIELDS]
        + [("decl-correcting", "data", None)],
    )


def _load(client):
    return dc.call(
        client, [("declarations-grid", "rowData")], [("declarations-loaded", "data", True)]
    )


def test_connections_killed_between_requests_are_replaced(pg_backend):
    be = pg_backend
    prof = f.professional(be)
    f.declare(be, prof)
    app = create_app(be.settings, backend=be)
    client = _professional_client(app, prof)
    assert _load(client).status_code == 200
    pooled = _backend_pids(be)
    assert pooled, "the pool keeps a connection open between requests"
    for _round in range(3):  # several restarts in a row
        assert _terminate_all(be) >= 1
        response = _load(client)
        assert response.status_code == 200, response.data[:300]
        assert len(dc.values(response)[("declarations-grid", "rowData")]) == 1
        now = _backend_pids(be)
        assert now and not (now & pooled), "pool_pre_ping replaced the dead connection"
        pooled = now
    # Writes work as well on the new connection.
    assert "enregistrée" in dc.values(_declare(client))[("decl-result", "children")]


class KillDuring:
    """Terminate the connection of the request that runs the first statement matching
    `starts` (as a database failover would), from another connection."""

    def __init__(self, backend, starts: str):
        self.backend, self.starts, self.fired = backend, starts.upper(), False
        event.listen(backend.engine, "before_cursor_execute", self)

    def __call__(self, conn, cursor, statement, params, context, executemany):
        if self.fired or not statement.lstrip().upper().startswith(self.starts):
            return
        self.fired = True
        pid = conn.connection.dbapi_connection.info.backend_pid
        with self.backend.killer.connect() as killer:
            killer.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})

    def remove(self):
        event.remove(self.backend.engine, "before_cursor_execute", self)


@pytest.mark.parametrize("statement", ["INSERT INTO enrolments", "INSERT INTO outbox"])
def test_a_connection_killed_mid_request_leaves_nothing_half_written_and_the_app_recovers(
    pg_backend, statement
):
    be = pg_backend
    prof = f.professional(be)
    app = create_app(be.settings, backend=be)
    app.server.config["PROPAGATE_EXCEPTIONS"] = False  # answer as in production
    client = _professional_client(app, prof)
    before = _table_counts(be)
    kill = KillDuring(be, statement)
    try:
        failed = _declare(client)
    finally:
        kill.remove()
    assert kill.fired
    assert failed.status_code in (200, 500, 503)
    # Nothing half-written: no enrolment without its event and invitation, or the reverse.
    assert _table_counts(be) == before
    # The app recovers at once, and the same submission now goes through, once.
    retried = _declare(client)
    assert retried.status_code == 200
    assert "enregistrée" in dc.values(retried)[("decl-result", "children")]
    after = _table_counts(be)
    assert after["enrolments"] == before["enrolments"] + 1
    assert after["outbox"] == before["outbox"] + 1
    assert _load(client).status_code == 200


def test_a_connection_killed_mid_request_gets_a_clean_answer(pg_backend):
    be = pg_backend
    prof = f.professional(be)
    app = create_app(be.settings, backend=be)
    app.server.config["PROPAGATE_EXCEPTIONS"] = False
    client = _professional_client(app, prof)
    kill = KillDuring(be, "INSERT INTO enrolments")
    try:
        failed = _declare(client)
    finally:
        kill.remove()
    assert failed.status_code != 500


# --- 4. the process killed between a transition and its email -----------------------------------

DECLARE_LOOP = textwrap.dedent(
    """
    import datetime as dt, sys
    from dashboard.__main__ import main
    from dashboard.enrolment import matricule

    professional = sys.argv[1]
    for i in range(400):
        birth = (dt.date(1960, 1, 1) + dt.timedelta(days=i)).strftime("%Y%m%d")
        main([
            "declare", "--professional", professional,
            "--last-name", "Weber", "--first-names", f"Laura {i}",
            "--matricule", matricule.make(birth, "123"),
            "--email", f"secretary{i}@example.lu",
        ])
        sys.stdout.flush()
    """
)


def _env(settings: Settings, **extra) -> dict:
    env = dict(os.environ)
    env.pop("SMTP_URL", None)
    env.update(
        DASHBOARD_ENV="test",
        DATABASE_URL=settings.database_url,
        SECRET_KEY=settings.secret_key,  # the sealed links must open in the dispatcher
        BASE_URL=settings.base_url,
        PYTHONPATH=str(PROJECT_ROOT),
        DEMO_ON_FIRST_START="0",
        **extra,
    )
    return env


def _kill_after(proc: subprocess.Popen, lines: int, timeout: float = 60) -> list[str]:
    """Read stdout until `lines` lines came, then SIGKILL the process (no clean-up runs)."""
    seen = []
    deadline = time.monotonic() + timeout
    while len(seen) < lines and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    return seen


def test_a_process_killed_between_its_transitions_and_their_emails(
    backend, smtp_server, database_url
):
    """A CLI process declares secretaries one after the other (each declaration commits
    the enrolment and its invitation together, SMTP not configured) and is killed with
    SIGKILL in the middle. The dispatcher, run afterwards against a real SMTP server,
    delivers exactly one invitation for every committed enrolment."""
    backend.clock = lambda: dt.datetime.now(dt.UTC)  # the rows are the process's, real time
    prof = f.professional(backend)
    proc = subprocess.Popen(
        [sys.executable, "-c", DECLARE_LOOP, str(prof)],
        cwd=PROJECT_ROOT,
        env=_env(backend.settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    printed = _kill_after(proc, lines=12)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read()[-2000:]
    assert len(printed) >= 12, printed
    printed_ids = {int(line.split()[1]) for line in printed}

    with backend.uow() as uow:
        enrolments = uow.session.scalars(select(Enrolment)).all()
        outbox = uow.session.scalars(select(OutboxEmail)).all()
    committed = {e.id: e.email for e in enrolments}
    assert printed_ids <= set(committed)  # what was announced is there
    assert len(committed) < 400  # killed in the middle
    assert all(e.state == lc.DECLARED for e in enrolments)
    invitations = Counter(o.enrolment_id for o in outbox if o.template == "invitation")
    assert invitations == Counter(set(committed))  # exactly one queued per committed one
    assert all(o.status == "pending" for o in outbox)

    transport = mail.SmtpTransport.from_url(smtp_server.url)
    report = backend.deliver_mail(transport)
    assert (report.sent, report.retried, report.failed) == (len(committed), 0, 0)
    messages = smtp_server.inbox.wait_for(len(committed))
    per_recipient = Counter(rcpt for rcpts, _msg in messages for rcpt in rcpts)
    assert per_recipient == Counter(committed.values())  # none lost, none twice
    assert len({str(m["Message-ID"]).strip() for _r, m in messages}) == len(committed)
    assert backend.deliver_mail(transport).sent == 0  # and nothing is sent again


class SlowInbox:
    """An SMTP server that takes its time before accepting each message (a busy relay)."""

    def __init__(self, inbox, delay: float):
        self.inbox, self.delay = inbox, delay

    async def handle_DATA(self, server, session, envelope):
        import asyncio

        await asyncio.sleep(self.delay)
        return await self.inbox.handle_DATA(server, session, envelope)


def test_a_dispatcher_killed_while_sending_loses_nothing(sqlite_backend):
    """`mail send --loop` killed with SIGKILL in the middle of a batch: it held only the row
    it was sending, so a new dispatcher sends the others at once, and that one once its
    short lease (mail.LEASE, under a minute) has expired.
    Every mail arrives; a mail the relay accepted just before the kill, but whose 'sent' was
    not yet committed, may arrive a second time — with the same Message-ID, so mail clients
    show it once (at-least-once delivery: SMTP offers no exactly-once)."""
    from aiosmtpd.controller import Controller

    be = sqlite_backend
    be.clock = lambda: dt.datetime.now(dt.UTC)  # the dispatcher process runs on real time
    prof = f.professional(be)
    for i in range(10):
        birth = (dt.date(1970, 1, 1) + dt.timedelta(days=i)).strftime("%Y%m%d")
        f.declare(be, prof, matricule=matricule.make(birth, "321"), email=f"sec{i}@example.lu")
    server = SmtpServer()
    slow = SlowInbox(server.inbox, delay=0.3)
    server.controller = Controller(slow, hostname="127.0.0.1", port=server.port)
    server.start()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dashboard", "mail", "send", "--loop", "--interval", "0.2"],
            cwd=PROJECT_ROOT,
            env=_env(be.settings, SMTP_URL=server.url),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while len(server.inbox.messages) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        delivered_before = len(server.inbox.messages)
        assert 3 <= delivered_before < 10, delivered_before
        with be.uow() as uow:
            rows = uow.session.scalars(select(OutboxEmail)).all()
        unsent = [r for r in rows if r.status != "sent"]
        held = [r for r in unsent if r.lease_until is not None]
        assert unsent and len(held) <= 1  # only the row in flight at the kill is held
        # A new dispatcher sends every other row at once, never the held one...
        transport = mail.SmtpTransport.from_url(server.url)
        assert be.deliver_mail(transport).sent == len(unsent) - len(held)
        # ...and that one after its lease.
        later = dt.datetime.now(dt.UTC) + mail.LEASE + dt.timedelta(seconds=1)
        report = mail.deliver_due(be.session_factory, be.settings, transport, clock=lambda: later)
        assert report.failed == 0 and report.sent == len(held)
        messages = server.inbox.wait_for(10 + 1, timeout=2)  # wait a little for a duplicate
    finally:
        server.stop()
    with be.uow() as uow:
        rows = uow.session.scalars(select(OutboxEmail)).all()
    assert all(r.status == "sent" for r in rows)
    ids = Counter(str(m["Message-ID"]).strip() for _r, m in messages)
    assert set(ids) == {r.message_id for r in rows}  # none lost
    assert sum(ids.values()) - len(ids) <= 1  # at most the one in flight at the kill
    per_recipient = Counter(rcpt for rcpts, _m in messages for rcpt in rcpts)
    assert set(per_recipient) == {f"sec{i}@example.lu" for i in range(10)}


# --- 5. the dispatcher's database goes away ------------------------------------------------------


class Running:
    """A command run in a subprocess whose output lines are collected as they come."""

    def __init__(self, argv: list[str], env: dict):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dashboard", *argv],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.out: list[str] = []
        self.err: list[str] = []
        for stream, lines in ((self.proc.stdout, self.out), (self.proc.stderr, self.err)):
            threading.Thread(target=self._collect, args=(stream, lines), daemon=True).start()

    @staticmethod
    def _collect(stream, lines: list[str]) -> None:
        for line in stream:
            lines.append(line)

    def wait_for(self, predicate, timeout: float = 60) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            if self.proc.poll() is not None:
                return predicate()
            time.sleep(0.05)
        return False

    def stop(self, sig=signal.SIGTERM, timeout: float = 20) -> int:
        self.proc.send_signal(sig)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def _declare_one(backend, n: int) -> str:
    email = f"sec{n}@example.lu"
    prof = f.professional(backend, n)
    birth = (dt.date(1971, 1, 1) + dt.timedelta(days=n)).strftime("%Y%m%d")
    f.declare(backend, prof, matricule=matricule.make(birth, "321"), email=email)
    return email


def test_mail_send_loop_survives_its_tables_going_away_and_stops_on_sigterm(backend, smtp_server):
    """The outbox disappears under a running `mail send --loop` (a restore, a botched
    migration): it says so, backs off, delivers again once the table is back, and stops
    cleanly on SIGTERM."""
    backend.clock = lambda: dt.datetime.now(dt.UTC)  # the dispatcher process runs on real time
    loop = Running(
        ["mail", "send", "--loop", "--interval", "0.2"],
        _env(backend.settings, SMTP_URL=smtp_server.url),
    )
    try:
        first = _declare_one(backend, 1)
        assert loop.wait_for(lambda: smtp_server.inbox.to(first)), loop.err
        with backend.engine.begin() as conn:
            conn.execute(text("ALTER TABLE outbox RENAME TO outbox_away"))
        assert loop.wait_for(lambda: any("nouvel essai" in line for line in loop.err)), loop.err
        assert loop.proc.poll() is None  # still running
        with backend.engine.begin() as conn:
            conn.execute(text("ALTER TABLE outbox_away RENAME TO outbox"))
        second = _declare_one(backend, 2)
        assert loop.wait_for(lambda: smtp_server.inbox.to(second)), loop.err
        assert loop.stop(signal.SIGTERM) == 0
    finally:
        loop.kill()
    err = "".join(loop.err)
    assert "Traceback" not in err, err
    assert "schéma" in err  # the table is missing: says what is wrong, in French
    assert "Arrêt de l'envoi du courrier." in "".join(loop.out)
    assert len(smtp_server.inbox.messages) == 2


def test_mail_send_loop_survives_its_database_dropped_and_recreated(smtp_server):
    """PostgreSQL: the database is dropped under a running `mail send --loop` (every
    connection killed) and created again: the loop goes on; Ctrl-C stops it cleanly."""
    if not PG_URL:
        pytest.skip("TEST_DATABASE_URL not set (PostgreSQL tests run in CI, where skips fail)")
    name = f"esante_test_loop_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    url = make_url(normalise_url(PG_URL)).set(database=name).render_as_string(hide_password=False)
    settings = Settings(env="test", database_url=url, base_url="http://testserver")

    def create() -> Backend:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        schema.upgrade(url)
        be = Backend(settings, make_engine(url, poolclass=NullPool))
        be.clock = lambda: dt.datetime.now(dt.UTC)
        return be

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    be = create()
    loop = Running(
        ["mail", "send", "--loop", "--interval", "0.2"], _env(settings, SMTP_URL=smtp_server.url)
    )
    try:
        first = _declare_one(be, 1)
        assert loop.wait_for(lambda: smtp_server.inbox.to(first)), loop.err
        be.dispose()
        drop()
        assert loop.wait_for(lambda: any("injoignable" in line for line in loop.err)), loop.err
        assert loop.proc.poll() is None
        be = create()
        second = _declare_one(be, 2)
        assert loop.wait_for(lambda: smtp_server.inbox.to(second)), loop.err
        assert loop.stop(signal.SIGINT) == 0
    finally:
        loop.kill()
        be.dispose()
        drop()
        admin.dispose()
    err = "".join(loop.err)
    assert "Traceback" not in err, err
    assert "Arrêt de l'envoi du courrier." in "".join(loop.out)
