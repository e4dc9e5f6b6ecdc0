"""The staff login reveals nothing and cannot be used to lock someone out (issue #18).

An unknown address, a wrong password, a disabled account and a throttled attempt get the
same answer after the same work (argon2 runs every time, the same statements run); the
throttle counts per (account, client address) with growing delays, plus a limit per client
address, in the database so that every worker and machine shares it; failures are events
without personal data, shown to administrators.

Through the real app (Flask's test client, REMOTE_ADDR set per request) and, for the
throttle's arithmetic, through `staff.login` itself, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from argon2 import PasswordHasher
from sqlalchemy import event, select

from dashboard.app import create_app
from dashboard.enrolment import staff
from dashboard.enrolment.model import Base, Event
from tests import dashclient as dc
from tests import factories as f

PASSWORD = "correct horse battery staple"  # what factories.reviewer() sets
WRONG = "Adresse email ou mot de passe incorrect."
RITA = "rita@esante.lu"
ADMIN = "admin@esante.lu"
HOME = "198.51.100.7"  # Rita's office
ELSEWHERE = "203.0.113.66"  # someone else, anywhere


@pytest.fixture
def app(backend):
    return create_app(backend.settings, backend=backend)


@pytest.fixture
def people(backend):
    made = {
        "rita": f.reviewer(backend, email=RITA),
        "admin": f.reviewer(backend, email=ADMIN, roles=("admin",)),
        "gone": f.reviewer(backend, email="gone@esante.lu"),
    }
    with backend.uow() as uow:
        staff.set_active(uow, made["admin"], made["gone"], False)
    return made


def _post(client, email, password, address=HOME):
    return client.post(
        "/backoffice/login",
        data={"email": email, "password": password, "csrf_token": dc.csrf_token(client)},
        environ_base={"REMOTE_ADDR": address},
    )


def _answer(app, email, password, address=HOME, client=None):
    """What the person sees: the POST's response and the login page it leads to."""
    client = client or app.server.test_client()
    response = _post(client, email, password, address)
    page = dc.render_page(client, "/backoffice/connexion").get_json()
    error = next(
        (c for c in dc.components(page) if c["props"].get("id") == "staff-login-error"), None
    )
    return (
        response.status_code,
        response.headers["Location"],
        response.headers.get("Cache-Control"),
        error,
    )


def _fail(uow_factory, email, password="not the password", address=ELSEWHERE):
    with uow_factory() as uow:
        return staff.login(uow, email, password, address)


def _logs_in(backend, email=RITA, address=HOME) -> bool:
    with backend.uow() as uow:
        return staff.login(uow, email, PASSWORD, address).user_id is not None


def _reset_flood_limit(app):
    # The per-address flood limit (10 a minute, flask-limiter) is not what these tests are
    # about: emptied between rounds, so that the database's throttle is what answers.
    app.server.extensions["esante_limiter"].reset()


# --- one answer for all ------------------------------------------------------------------------


def test_unknown_wrong_disabled_and_throttled_get_the_same_answer(app, people):
    answers = {
        "unknown address": _answer(app, "nobody@esante.lu", PASSWORD),
        "wrong password": _answer(app, RITA, "not the password"),
        "disabled account": _answer(app, "gone@esante.lu", PASSWORD),
        "malformed address": _answer(app, "rita@esante.lu\x00", PASSWORD),
    }
    for _attempt in range(3):
        _post(app.server.test_client(), RITA, "still not it", ELSEWHERE)
    # Throttled: even the right password, from where the wrong ones came.
    answers["throttled"] = _answer(app, RITA, PASSWORD, ELSEWHERE)
    expected = (303, "/backoffice/connexion", "no-store", answers["wrong password"][3])
    assert answers["wrong password"][3]["props"]["children"] == WRONG
    for case, answer in answers.items():
        assert answer == expected, case
    # The same right password from her own office: in at once.
    assert _answer(app, RITA, PASSWORD, HOME)[1] == "/backoffice"


class _Work:
    """Counts, per login attempt, the argon2 verifications and the SQL statements."""

    def __init__(self, backend, monkeypatch):
        self.verifications = 0
        self.statements = 0
        real = PasswordHasher.verify

        def counting(*args, **kwargs):
            self.verifications += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(PasswordHasher, "verify", counting)
        event.listen(backend.engine, "before_cursor_execute", self._count)
        self.engine = backend.engine

    def _count(self, *_args):
        self.statements += 1

    def of(self, fn) -> tuple[int, int]:
        self.verifications = self.statements = 0
        fn()
        return self.verifications, self.statements

    def close(self):
        event.remove(self.engine, "before_cursor_execute", self._count)


def test_every_failure_costs_the_same_work(app, backend, people, monkeypatch):
    """Similar timing without a timed test: each kind of failure does the same work —
    one argon2 verification (the dummy hash for an unknown address) and the same SQL
    statements — so nothing tells them apart but noise."""
    for _attempt in range(3):
        _post(app.server.test_client(), RITA, "still not it", ELSEWHERE)
    work = _Work(backend, monkeypatch)
    try:
        costs = {
            "unknown address": work.of(lambda: _post(app.server.test_client(), "x@y.lu", "pw")),
            "wrong password": work.of(lambda: _post(app.server.test_client(), RITA, "pw")),
            "disabled account": work.of(
                lambda: _post(app.server.test_client(), "gone@esante.lu", PASSWORD)
            ),
            "throttled": work.of(
                lambda: _post(app.server.test_client(), RITA, PASSWORD, ELSEWHERE)
            ),
        }
    finally:
        work.close()
    assert {verifications for verifications, _ in costs.values()} == {1}, costs
    assert len({statements for _, statements in costs.values()}) == 1, costs


# --- the throttle: per (account, address), growing delays -------------------------------------


def test_an_attacker_elsewhere_cannot_lock_a_colleague_out(app, people):
    for round_ in range(4):
        _reset_flood_limit(app)
        for attempt in range(9):
            answer = _answer(app, RITA, f"guess {round_}-{attempt}", ELSEWHERE)
            assert answer[1] == "/backoffice/connexion"
            assert answer[3]["props"]["children"] == WRONG
    _reset_flood_limit(app)
    # 36 wrong passwords later, Rita at her desk logs in at the first try …
    browser = app.server.test_client()
    assert _post(browser, RITA, PASSWORD, HOME).headers["Location"] == "/backoffice"
    assert not any(
        c["props"].get("id") == "access-denied"
        for c in dc.components(dc.render_page(browser, "/backoffice").get_json())
    )
    # … while the attacker, even holding the right password now, is still held back.
    assert _answer(app, RITA, PASSWORD, ELSEWHERE)[1] == "/backoffice/connexion"


def test_delays_grow_with_each_wrong_password_and_stop_at_fifteen_minutes(backend, people, clock):
    for _attempt in range(staff.FREE_FAILURES):
        assert _fail(backend.uow, RITA).user_id is None
    previous = dt.timedelta(0)
    for failures in range(staff.FREE_FAILURES, 16):
        delay = staff.delay_after(failures)
        assert delay > previous or delay == staff.MAX_DELAY
        assert delay <= staff.MAX_DELAY
        previous = delay
        clock.advance(seconds=delay.total_seconds() - 1)
        # Too early: refused, and it does not make the wait longer.
        assert not _logs_in(backend, address=ELSEWHERE)
        clock.advance(seconds=1)
        if failures == 15:
            break
        assert _fail(backend.uow, RITA).user_id is None  # looked at, and wrong
    assert [staff.delay_after(n).total_seconds() for n in range(staff.FREE_FAILURES, 8)] == [
        1,
        2,
        4,
        8,
        16,
    ]
    assert staff.delay_after(30) == dt.timedelta(minutes=15)
    # The wait is over: the right password from there works, and clears the count.
    assert _logs_in(backend, address=ELSEWHERE)
    assert _fail(backend.uow, RITA).user_id is None
    assert _logs_in(backend, address=ELSEWHERE)


def test_a_quiet_day_forgets_the_failures(backend, people, clock):
    for _attempt in range(8):
        _fail(backend.uow, RITA)
        clock.advance(minutes=16)
    for _attempt in range(staff.FREE_FAILURES - 1):
        _fail(backend.uow, RITA)
    assert not _logs_in(backend, address=ELSEWHERE)
    clock.advance(hours=24, seconds=1)
    for _attempt in range(staff.FREE_FAILURES - 1):
        _fail(backend.uow, RITA)
    assert _logs_in(backend, address=ELSEWHERE)


def test_one_address_has_a_limit_over_all_accounts(backend, people, clock):
    for n in range(staff.SOURCE_LIMIT):
        _fail(backend.uow, f"guess{n}@esante.lu")  # a different address each time
    # That client is held back for every account, even with the right password …
    assert not _logs_in(backend, RITA, ELSEWHERE)
    assert not _logs_in(backend, ADMIN, ELSEWHERE)
    # … others are not, and the hour over, it may try again.
    assert _logs_in(backend, RITA, HOME)
    clock.advance(minutes=59)
    assert not _logs_in(backend, ADMIN, ELSEWHERE)
    clock.advance(minutes=1, seconds=1)
    assert _logs_in(backend, ADMIN, ELSEWHERE)


def test_the_throttle_is_shared_by_every_worker(backend, people):
    one = create_app(backend.settings, backend=backend)
    two = create_app(backend.settings, backend=backend)
    for _attempt in range(staff.FREE_FAILURES):
        _post(one.server.test_client(), RITA, "not the password", ELSEWHERE)
    assert _answer(two, RITA, PASSWORD, ELSEWHERE)[1] == "/backoffice/connexion"
    assert _answer(two, RITA, PASSWORD, HOME)[1] == "/backoffice"


def test_behind_a_trusted_proxy_the_forwarded_address_is_throttled(backend, people):
    settings = backend.settings.replace(trusted_proxies=1)
    app = create_app(settings, backend=backend)
    client = app.server.test_client()

    def attempt(password, forwarded_for):
        return client.post(
            "/backoffice/login",
            data={"email": RITA, "password": password, "csrf_token": dc.csrf_token(client)},
            headers={"X-Forwarded-For": forwarded_for},
        ).headers["Location"]

    for _attempt in range(staff.FREE_FAILURES):
        attempt("not the password", ELSEWHERE)
    assert attempt(PASSWORD, ELSEWHERE) == "/backoffice/connexion"
    client = app.server.test_client()
    assert attempt(PASSWORD, HOME) == "/backoffice"


# --- failures recorded, without personal data, and shown to administrators --------------------


def _failures(backend) -> list[Event]:
    with backend.uow() as uow:
        return uow.session.scalars(
            select(Event).where(Event.action == "staff_login_failed").order_by(Event.id)
        ).all()


def _dump(backend) -> str:
    with backend.uow() as uow:
        return "\n".join(
            repr(tuple(row))
            for table in Base.metadata.sorted_tables
            for row in uow.session.execute(table.select())
        )


def test_failures_are_events_without_personal_data(app, backend, people):
    _post(app.server.test_client(), "stranger.typed@example.com", "typed secret", ELSEWHERE)
    _post(app.server.test_client(), RITA, "another typed secret", ELSEWHERE)
    _post(app.server.test_client(), "gone@esante.lu", PASSWORD, HOME)
    for _attempt in range(2):
        _post(app.server.test_client(), RITA, "x", ELSEWHERE)
    _post(app.server.test_client(), RITA, PASSWORD, ELSEWHERE)  # throttled
    events = _failures(backend)
    assert [(e.actor_type, e.actor_id, e.data["reason"]) for e in events] == [
        ("anonymous", None, "unknown"),
        ("staff", str(people["rita"]), "password"),
        ("staff", str(people["gone"]), "disabled"),
        ("staff", str(people["rita"]), "password"),
        ("staff", str(people["rita"]), "password"),
        ("staff", str(people["rita"]), "throttled"),
    ]
    sources = [e.data["source"] for e in events]
    assert len(set(sources)) == 2  # one fingerprint per client address
    assert sources[0] == sources[1] != sources[2]
    assert all(set(e.data) == {"reason", "source"} for e in events)
    dump = _dump(backend)
    for personal in (
        ELSEWHERE,
        HOME,
        "stranger.typed",
        "typed secret",
        "another typed secret",
        PASSWORD,
    ):
        assert personal not in dump, personal


def test_the_admin_page_shows_recent_failures(app, backend, people):
    for _attempt in range(3):
        _post(app.server.test_client(), RITA, "not it", ELSEWHERE)
    _post(app.server.test_client(), "nobody@esante.lu", "x", ELSEWHERE)
    admin = app.server.test_client()
    assert _post(admin, ADMIN, PASSWORD, HOME).headers["Location"] == "/backoffice/accueil"
    page = dc.render_page(admin, "/backoffice/personnel").get_json()
    grid = next(c for c in dc.components(page) if c["props"].get("id") == "staff-failures")
    rows = {r["account"]: r for r in grid["props"]["rowData"]}
    source = _failures(backend)[0].data["source"]
    assert rows[RITA]["count"] == 3
    assert rows[RITA]["source"] == source
    assert rows[RITA]["when"] == "2026-03-02 10:00"  # Luxembourg time of the latest
    assert rows["—"]["count"] == 1 and rows["—"]["source"] == source
    assert "nobody@esante.lu" not in json.dumps(page)
    assert ELSEWHERE not in json.dumps(page)
    # A reviewer sees neither the page nor the failures.
    reviewer = app.server.test_client()
    _post(reviewer, RITA, PASSWORD, HOME)
    text = json.dumps(dc.render_page(reviewer, "/backoffice/personnel").get_json())
    assert "access-denied" in text and "staff-failures" not in text and source not in text


def test_a_successful_login_is_recorded_and_clears_that_address(app, backend, people, clock):
    for _attempt in range(staff.FREE_FAILURES - 1):
        _post(app.server.test_client(), RITA, "not it", ELSEWHERE)
    assert _answer(app, RITA, PASSWORD, ELSEWHERE)[1] == "/backoffice"
    # Counted from zero again: as many free attempts as before.
    for _attempt in range(staff.FREE_FAILURES - 1):
        _post(app.server.test_client(), RITA, "not it", ELSEWHERE)
    assert _answer(app, RITA, PASSWORD, ELSEWHERE)[1] == "/backoffice"
    with backend.uow() as uow:
        logins = uow.session.scalars(select(Event).where(Event.action == "staff_login")).all()
    assert [(e.actor_id, e.data) for e in logins] == [(str(people["rita"]), None)] * 2
