"""The email outbox on a real database and a real SMTP server (aiosmtpd).

SQLite always; PostgreSQL as well when TEST_DATABASE_URL is set (the `database_url` fixture
parametrises both). Time is moved with the `clock` fixture, never slept.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy import func, select, text

from dashboard.enrolment import (
    decisions,
    declarations,
    housekeeping,
    links,
    mail,
    matricule,
    secretary,
)
from dashboard.enrolment.errors import DuplicateDeclaration
from dashboard.enrolment.kernel import Actor
from dashboard.enrolment.model import AccountLink, Base, Enrolment, OutboxEmail
from tests import factories as f
from tests.conftest import Inbox, SmtpServer, free_port

SECRETARY = f.MARIE["email"]

# The first line of each French template, as the reader must see it.
FRENCH_SUBJECTS = {
    "invitation": "Créez votre compte eSanté",
    "account_created": "Votre compte eSanté a été créé",
    "pending_review": "Votre demande de compte eSanté est en cours de vérification",
    "approved": "Votre identité a été vérifiée : votre compte eSanté est créé",
    "rejected": "Votre demande de compte eSanté n'a pas pu être acceptée",
    "locked": "Votre demande de compte eSanté est bloquée",
    "professional_account_created": "Le compte eSanté de votre secrétaire a été créé",
    "professional_rejected": (
        "La demande de compte eSanté de votre secrétaire n'a pas été acceptée"
    ),
    "professional_locked": "La demande de compte eSanté de votre secrétaire est bloquée",
    # --- the worker's (issue 21) ---
    "reminder": "Rappel\u00a0: créez votre compte eSanté",
    "professional_expired": "L'invitation de votre secrétaire a expiré",
    # --- the end of access (issue 20) ---
    "link_ended": "Votre accès eSanté auprès de Dr Jean Hoffmann1 a pris fin",
    "professional_link_ended": ("L'accès eSanté de Marie Schmit à votre espace a pris fin"),
}


# --- helpers -----------------------------------------------------------------------------------


def _rows(backend, template: str | None = None) -> list[OutboxEmail]:
    with backend.uow() as uow:
        q = select(OutboxEmail).order_by(OutboxEmail.id)
        if template:
            q = q.where(OutboxEmail.template == template)
        return uow.session.scalars(q).all()


def _row(backend, row_id: int) -> OutboxEmail:
    with backend.uow() as uow:
        return uow.session.get(OutboxEmail, row_id)


def _outbox_count(backend) -> int:
    with backend.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(OutboxEmail))


def _deliver(backend, transport, **kw) -> mail.DeliveryReport:
    return mail.deliver_due(
        backend.session_factory, backend.settings, transport, clock=backend.clock, **kw
    )


def _nothing(report: mail.DeliveryReport) -> bool:
    return (report.sent, report.retried, report.failed) == (0, 0, 0)


def _parts(msg: EmailMessage) -> tuple[str, str]:
    plain = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    return plain.get_content(), html.get_content()


def _mid(msg: EmailMessage) -> str:
    # A Message-ID near 78 characters is folded onto its own line (valid RFC 5322 FWS);
    # the stdlib parser then keeps the leading space of the continuation line.
    return str(msg["Message-ID"]).strip()


def _message_ids(messages) -> list[str]:
    return [_mid(m) for _rcpt, m in messages]


def _lock(backend, prof_id: int, **declare_overrides) -> int:
    """Declare, accept the CGU, then type a wrong matricule until the enrolment locks."""
    eid, th = f.walk_to(backend, prof_id, "cgu_accepted", **declare_overrides)
    for attempt in range(backend.settings.max_matricule_attempts):
        with backend.uow() as uow:
            result = secretary.verify_matricule(uow, th, f.wrong_matricule(attempt))
    assert result.locked
    return eid


def _every_template(backend) -> None:
    """Drive real enrolments so that every template of mail.TEMPLATES is queued."""
    reviewer = f.reviewer(backend)
    # invitation, account_created, professional_account_created
    first_professional = f.professional(backend, 1)
    f.walk_to(backend, first_professional, "account_created")
    # pending_review, then approved (+ professional_account_created)
    approved, _ = f.walk_to(backend, f.professional(backend, 2), "pending_review")
    with backend.uow() as uow:
        decisions.approve(uow, approved, reviewer)
    f.provision(backend)  # the accounts' emails wait for the identity platform
    # rejected, professional_rejected
    rejected, _ = f.walk_to(backend, f.professional(backend, 3), "pending_review")
    with backend.uow() as uow:
        decisions.reject(uow, rejected, reviewer, reason_code="declaration_error")
    # locked, professional_locked
    _lock(backend, f.professional(backend, 4))
    # reminder (REMINDER_AFTER_DAYS later), then professional_expired (the link died unused)
    f.declare(backend, f.professional(backend, 5))
    backend.clock.advance(days=backend.settings.reminder_after_days)
    with backend.uow() as uow:
        assert housekeeping.send_reminders(uow) == 1
    backend.clock.advance(days=backend.settings.invitation_days)
    with backend.uow() as uow:
        assert housekeeping.expire_stale(uow) == 1
    # link_ended, professional_link_ended: the first professional ends her access
    first = backend_link(backend, professional_id=first_professional)
    with backend.uow() as uow:
        links.end_link(uow, first, Actor("professional", str(first_professional)), "left_practice")
        uow.commit()


def backend_link(backend, professional_id: int) -> int:
    with backend.uow() as uow:
        return uow.session.scalar(
            select(AccountLink.id).where(AccountLink.professional_id == professional_id)
        )


class Recorder:
    """A transport that records every Message-ID handed to it (thread-safe), then sends."""

    def __init__(self, inner: mail.Transport | None = None, fail_for: str | None = None):
        self.inner = inner
        self.fail_for = fail_for
        self.calls: list[str] = []
        self.lock = threading.Lock()

    def send(self, message: EmailMessage) -> None:
        with self.lock:
            self.calls.append(str(message["Message-ID"]))
        if self.fail_for and self.fail_for in str(message["To"]):
            raise ConnectionError("boîte de réception indisponible")
        if self.inner is not None:
            self.inner.send(message)


class Broken:
    """A transport whose server never answers."""

    def __init__(self):
        self.calls = 0

    def send(self, message: EmailMessage) -> None:
        self.calls += 1
        raise OSError("connexion refusée")


# --- 1. templates ----------------------------------------------------------------------------


def test_every_template_is_delivered_in_french_with_text_and_html(backend, smtp_server):
    _every_template(backend)
    rows = _rows(backend)
    assert {r.template for r in rows} == set(mail.TEMPLATES)

    report = backend.deliver_mail(mail.SmtpTransport.from_url(smtp_server.url))
    assert report.sent == len(rows) and report.retried == report.failed == 0
    received = {_mid(m): m for _rcpt, m in smtp_server.inbox.wait_for(len(rows))}
    assert set(received) == {r.message_id for r in rows}

    for row in rows:
        msg = received[row.message_id]
        assert msg["Subject"] == FRENCH_SUBJECTS[row.template], row.template
        assert msg.get_content_type() == "multipart/alternative"
        assert msg["From"].addresses[0].display_name == "Agence eSanté"
        assert msg["From"].addresses[0].addr_spec == "no-reply@esante.lu"
        assert msg["To"].addresses[0].addr_spec == row.recipient
        assert msg["Auto-Submitted"] == "auto-generated"
        assert parsedate_to_datetime(msg["Date"]) == row.created_at.replace(microsecond=0)
        plain, html = _parts(msg)
        assert plain.startswith("Bonjour "), row.template
        assert not plain.startswith("Subject:")
        assert "L'Agence eSanté" in plain
        assert html.lstrip().lower().startswith("<!doctype html>")
        assert '<html lang="fr">' in html
        for part in (plain, html):
            assert "None" not in part, row.template
            assert "{{" not in part and "{%" not in part
    by_template = {r.template: received[r.message_id] for r in rows}
    rejected_plain, _ = _parts(by_template["rejected"])
    assert "la déclaration contient une erreur" in rejected_plain
    prof_rejected_plain, prof_rejected_html = _parts(by_template["professional_rejected"])
    assert "Merci d'effectuer une nouvelle déclaration" in prof_rejected_plain
    assert "<strong>Merci d'effectuer une nouvelle déclaration</strong>" in prof_rejected_html
    locked_plain, _ = _parts(by_template["locked"])
    assert f"et ce {backend.settings.max_matricule_attempts} fois" in locked_plain
    created_plain, created_html = _parts(by_template["account_created"])
    assert "https://www.esante.lu" in created_plain
    assert 'href="https://www.esante.lu"' in created_html
    assert by_template["professional_locked"]["To"].addresses[0].addr_spec == "dr4@cabinet.lu"


def test_unknown_language_falls_back_to_french(backend):
    with backend.uow() as uow:
        row = mail.queue(
            uow,
            "pending_review",
            SECRETARY,
            {"first_names": "Marie", "last_name": "Schmit"},
            language="lb",  # Luxembourgish: no templates (yet)
        )
        rendered = mail.render(row, uow.settings)
    assert rendered.subject == FRENCH_SUBJECTS["pending_review"]
    assert rendered.text.startswith("Bonjour Marie Schmit,")


def test_unknown_template_is_refused(backend):
    with pytest.raises(ValueError, match="unknown email template"), backend.uow() as uow:
        mail.queue(uow, "newsletter", SECRETARY, {})


def test_invitation_link_is_delivered_but_kept_only_sealed_then_wiped(backend, smtp_server):
    prof = f.professional(backend)
    declared = f.declare(backend, prof)
    link = f"{backend.settings.base_url}/enrolment/invitation/{declared.token}"
    assert link == "http://testserver/enrolment/invitation/" + declared.token

    def database_dump() -> str:
        with backend.uow() as uow:
            return repr(
                [
                    uow.session.execute(text(f"SELECT * FROM {t.name}")).all()
                    for t in Base.metadata.sorted_tables
                ]
            )

    # Before delivery: the row holds the link sealed (decryptable with the key only).
    [row] = _rows(backend, "invitation")
    assert row.status == "pending" and row.enrolment_id == declared.enrolment_id
    sealed = row.context["sealed_link"]
    assert declared.token not in sealed
    assert mail.unseal(backend.settings.secret_key, sealed) == link
    assert mail.unseal("another-secret-key-" + "y" * 32, sealed) is None
    assert declared.token not in database_dump()

    backend.deliver_mail(mail.SmtpTransport.from_url(smtp_server.url))
    [(rcpt, msg)] = smtp_server.inbox.wait_for(1)
    assert rcpt == [SECRETARY]
    plain, html = _parts(msg)
    assert link in plain.splitlines()
    assert f'href="{link}"' in html
    assert declared.token in plain and declared.token in html

    # After delivery: the sealed link is gone from the row; the rest of the context stays.
    [row] = _rows(backend, "invitation")
    assert row.status == "sent"
    assert "sealed_link" not in row.context
    assert row.context["first_names"] == "Marie" and row.context["last_name"] == "Schmit"
    dump = database_dump()
    assert declared.token not in dump and sealed not in dump


def test_declared_names_are_escaped_in_the_html_part(backend, smtp_server):
    last_name = "<script>alert(1)</script>"
    first_names = 'Anne & "Zoé" O\'Neil'
    # The service accepts such text (no control characters, it has letters)...
    cleaned = declarations.validate_declaration(
        last_name, first_names, f.MARIE["matricule"], SECRETARY
    )
    assert cleaned["last_name"] == last_name
    prof = f.professional(backend, last_name="<b>Gras</b>")
    f.declare(backend, prof, last_name=last_name, first_names=first_names)

    backend.deliver_mail(mail.SmtpTransport.from_url(smtp_server.url))
    [(_rcpt, msg)] = smtp_server.inbox.wait_for(1)
    plain, html = _parts(msg)
    # ... and the HTML part shows it as text, never as markup.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html
    assert "Anne &amp; &#34;Zoé&#34; O&#39;Neil" in html
    assert "&lt;b&gt;Gras&lt;/b&gt;" in html and "<b>" not in html
    # The plain-text part is not HTML: it shows the name as typed.
    assert f"Bonjour {first_names} {last_name}," in plain
    assert "Dr Jean <b>Gras</b> a déclaré" in plain


# --- 2. delivery to a real SMTP server --------------------------------------------------------


def test_declaration_is_delivered_once_to_the_secretary(backend, smtp_server, clock):
    prof = f.professional(backend)
    f.declare(backend, prof)
    [row] = _rows(backend)
    assert row.status == "pending" and row.attempts == 0 and row.sent_at is None

    clock.advance(seconds=7)
    report = mail.deliver_due(
        backend.session_factory,
        backend.settings,
        mail.SmtpTransport.from_url(smtp_server.url),
        clock=clock,
    )
    assert (report.sent, report.retried, report.failed) == (1, 0, 0)
    [(rcpt, msg)] = smtp_server.inbox.wait_for(1)
    assert rcpt == [SECRETARY]
    assert msg["To"] == SECRETARY
    assert _mid(msg) == row.message_id
    assert row.message_id.endswith("@testserver>")
    assert smtp_server.inbox.to(SECRETARY) == [msg]

    sent = _row(backend, row.id)
    assert sent.status == "sent"
    assert sent.sent_at == clock()
    assert sent.attempts == 1
    assert sent.lease_until is None and sent.last_error is None

    # A second run (now or much later) sends nothing.
    assert _nothing(backend.deliver_mail(mail.SmtpTransport.from_url(smtp_server.url)))
    clock.advance(days=2)
    assert _nothing(backend.deliver_mail(mail.SmtpTransport.from_url(smtp_server.url)))
    assert len(smtp_server.inbox.messages) == 1
    assert _row(backend, row.id).sent_at == sent.sent_at


def test_mail_queued_later_is_not_due_before_its_time(backend, smtp_server, clock):
    """A row is due from its creation time: a dispatcher with a late clock leaves it."""
    f.declare(backend, f.professional(backend))
    transport = Recorder(mail.SmtpTransport.from_url(smtp_server.url))
    report = mail.deliver_due(
        backend.session_factory,
        backend.settings,
        transport,
        clock=lambda: clock() - dt.timedelta(seconds=1),
    )
    assert _nothing(report) and transport.calls == []
    assert _deliver(backend, transport).sent == 1


# --- 3. server down, then up -------------------------------------------------------------------


def test_server_down_backs_off_then_every_mail_arrives_exactly_once(backend, clock):
    for n in (1, 2, 3):
        f.declare(backend, f.professional(backend, n), email=f"sec{n}@example.lu")
    _lock(backend, f.professional(backend, 4))  # queues an invitation and two lock mails
    rows = _rows(backend)
    assert len(rows) == 6
    assert sorted(r.template for r in rows).count("invitation") == 4

    port = free_port()  # nothing listens there yet
    transport = mail.SmtpTransport.from_url(f"smtp://127.0.0.1:{port}")
    report = backend.deliver_mail(transport)
    assert (report.sent, report.retried, report.failed) == (0, 6, 0)
    first_failure = clock()
    for row in _rows(backend):
        assert row.status == "pending"
        assert row.attempts == 1
        assert row.last_error and "ConnectionRefusedError" in row.last_error
        assert row.next_attempt_at == first_failure + mail.backoff(1)
        assert row.next_attempt_at > clock()
        assert row.lease_until is None and row.sent_at is None

    server = SmtpServer(port=port)
    server.start()
    try:
        # Before the back-off time: not even an attempt (the server is up but not asked).
        clock.advance(seconds=29)
        assert _nothing(backend.deliver_mail(transport))
        assert [r.attempts for r in _rows(backend)] == [1] * 6
        assert server.inbox.messages == []

        clock.advance(seconds=2)
        report = backend.deliver_mail(transport)
        assert (report.sent, report.retried, report.failed) == (6, 0, 0)
        received = _message_ids(server.inbox.wait_for(6))
        assert len(received) == 6
        assert Counter(received) == Counter(r.message_id for r in rows)
        for row in _rows(backend):
            assert row.status == "sent" and row.attempts == 2
            assert row.last_error is None and row.sent_at == clock()

        clock.advance(hours=3)
        assert _nothing(backend.deliver_mail(transport))
        assert _nothing(backend.deliver_mail(transport))
        assert len(server.inbox.messages) == 6
    finally:
        server.stop()


class TemporarilyRefusing(Inbox):
    """An SMTP server that answers 451 (try later) to the first `refuse` messages."""

    def __init__(self, refuse: int):
        super().__init__()
        self.refuse = refuse

    async def handle_DATA(self, server, session, envelope):
        if self.refuse > 0:
            self.refuse -= 1
            return "451 4.3.0 Try again later"
        return await super().handle_DATA(server, session, envelope)


def test_smtp_temporary_refusal_is_retried_after_back_off(backend, clock):
    from aiosmtpd.controller import Controller

    server = SmtpServer()
    server.inbox = TemporarilyRefusing(refuse=1)
    server.controller = Controller(server.inbox, hostname="127.0.0.1", port=server.port)
    server.start()
    try:
        f.declare(backend, f.professional(backend))
        transport = mail.SmtpTransport.from_url(server.url)
        assert backend.deliver_mail(transport).retried == 1
        [row] = _rows(backend)
        assert row.status == "pending" and row.attempts == 1
        assert "SMTPDataError" in row.last_error and "451" in row.last_error
        assert server.inbox.messages == []

        clock.advance(seconds=30)
        assert backend.deliver_mail(transport).sent == 1
        assert _message_ids(server.inbox.wait_for(1)) == [row.message_id]
        assert _row(backend, row.id).status == "sent"
    finally:
        server.stop()


def test_one_failing_recipient_does_not_hold_back_the_others(backend, smtp_server, clock):
    for n in (1, 2, 3):
        f.declare(backend, f.professional(backend, n), email=f"sec{n}@example.lu")
    transport = Recorder(mail.SmtpTransport.from_url(smtp_server.url), fail_for="sec2@")
    report = backend.deliver_mail(transport)
    assert (report.sent, report.retried, report.failed) == (2, 1, 0)
    assert {str(m["To"]) for _r, m in smtp_server.inbox.wait_for(2)} == {
        "sec1@example.lu",
        "sec3@example.lu",
    }
    status = {r.recipient: (r.status, r.attempts) for r in _rows(backend)}
    assert status == {
        "sec1@example.lu": ("sent", 1),
        "sec2@example.lu": ("pending", 1),
        "sec3@example.lu": ("sent", 1),
    }
    [failing] = [r for r in _rows(backend) if r.status == "pending"]
    assert failing.last_error == "ConnectionError: boîte de réception indisponible"


# --- 4. back-off and giving up -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("attempts", "seconds"),
    [
        (0, 30),
        (1, 30),
        (2, 60),
        (3, 120),
        (4, 240),
        (5, 480),
        (6, 960),
        (7, 1920),
        (8, 3600),
        (9, 3600),
        (12, 3600),
        (100, 3600),
    ],
)
def test_backoff_doubles_and_is_capped_at_one_hour(attempts, seconds):
    assert mail.backoff(attempts) == dt.timedelta(seconds=seconds)


def test_backoff_never_decreases():
    delays = [mail.backoff(n) for n in range(1, 40)]
    assert delays == sorted(delays)
    assert max(delays) == dt.timedelta(hours=1)


def test_row_fails_after_max_attempts_and_is_never_tried_again(backend, clock):
    f.declare(backend, f.professional(backend))
    [row] = _rows(backend)
    transport = Broken()
    waits = []
    for attempt in range(1, mail.MAX_ATTEMPTS):
        report = backend.deliver_mail(transport)
        assert (report.sent, report.retried, report.failed) == (0, 1, 0)
        current = _row(backend, row.id)
        assert current.status == "pending" and current.attempts == attempt
        assert current.last_error == "OSError: connexion refusée"
        wait = current.next_attempt_at - clock()
        assert wait == mail.backoff(attempt)
        waits.append(int(wait.total_seconds()))
        # One second early: not due, no attempt.
        clock.advance(seconds=wait.total_seconds() - 1)
        assert _nothing(backend.deliver_mail(transport))
        assert transport.calls == attempt
        clock.advance(seconds=1)
    assert waits == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600, 3600]

    report = backend.deliver_mail(transport)
    assert (report.sent, report.retried, report.failed) == (0, 0, 1)
    failed = _row(backend, row.id)
    assert failed.status == "failed"
    assert failed.attempts == mail.MAX_ATTEMPTS == transport.calls
    assert failed.last_error == "OSError: connexion refusée"
    assert failed.sent_at is None and failed.lease_until is None

    clock.advance(days=30)
    assert _nothing(backend.deliver_mail(transport))
    assert transport.calls == mail.MAX_ATTEMPTS
    assert _row(backend, row.id).status == "failed"


# --- 5. several dispatchers at once ------------------------------------------------------------


def test_concurrent_dispatchers_send_each_mail_exactly_once(backend, smtp_server):
    prof = f.professional(backend)
    for n in range(20):
        f.declare(
            backend,
            prof,
            matricule=matricule.make("19850412", f"{n:03d}"),
            email=f"sec{n}@example.lu",
        )
    rows = _rows(backend)
    assert len(rows) == 20 and {r.status for r in rows} == {"pending"}

    transport = Recorder(mail.SmtpTransport.from_url(smtp_server.url))
    start = threading.Barrier(4)

    def dispatcher(batch: int) -> int:
        start.wait(timeout=10)
        sent = 0
        while True:
            report = mail.deliver_due(
                backend.session_factory,
                backend.settings,
                transport,
                clock=backend.clock,
                batch=batch,
            )
            assert report.retried == report.failed == 0
            if _nothing(report):
                return sent
            sent += report.sent

    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(dispatcher, batch) for batch in (1, 2, 3, 50)]
        per_dispatcher = [fut.result(timeout=60) for fut in futures]

    expected = Counter(r.message_id for r in rows)
    assert sum(per_dispatcher) == 20
    assert Counter(transport.calls) == expected
    assert Counter(_message_ids(smtp_server.inbox.wait_for(20))) == expected
    for row in _rows(backend):
        assert row.status == "sent" and row.attempts == 1 and row.lease_until is None


# --- 6. a dispatcher that dies, or outlives its lease ------------------------------------------


class Killed(BaseException):
    """The dispatcher's process dies (SIGKILL) in the middle of a send."""


class DiesMidSend:
    def __init__(self):
        self.calls: list[str] = []

    def send(self, message: EmailMessage) -> None:
        self.calls.append(str(message["Message-ID"]))
        raise Killed


def test_a_killed_dispatchers_mail_goes_out_within_a_minute(backend, smtp_server, clock):
    for n in (1, 2, 3):
        f.declare(backend, f.professional(backend, n), email=f"sec{n}@example.lu")
    rows = _rows(backend)
    dying = DiesMidSend()
    with pytest.raises(Killed):
        _deliver(backend, dying)
    [in_flight] = dying.calls

    # Another dispatcher at once: everything but the row the dead one was sending.
    transport = Recorder(mail.SmtpTransport.from_url(smtp_server.url))
    assert _deliver(backend, transport).sent == 2
    assert in_flight not in transport.calls

    # The dead one's row waits for its lease only, which is short.
    assert dt.timedelta(seconds=30) <= mail.LEASE <= dt.timedelta(minutes=1)
    clock.advance(seconds=mail.LEASE.total_seconds())
    assert _nothing(_deliver(backend, transport))
    clock.advance(seconds=1)
    assert _deliver(backend, transport).sent == 1
    assert transport.calls[-1] == in_flight
    assert Counter(_message_ids(smtp_server.inbox.wait_for(3))) == Counter(
        r.message_id for r in rows
    )
    for row in _rows(backend):
        assert row.status == "sent" and row.attempts == 1 and row.lease_until is None


class SlowRelay:
    """An SMTP server that takes `seconds` of the test clock to accept each message (a busy
    relay), and a little real time, so that two dispatchers' sends really interleave."""

    def __init__(self, inbox: Inbox, clock, seconds: float, real_seconds: float = 0.02):
        self.inbox, self.clock = inbox, clock
        self.seconds, self.real_seconds = seconds, real_seconds
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        import asyncio

        await asyncio.sleep(self.real_seconds)
        with self.lock:
            self.clock.advance(seconds=self.seconds)
        return await self.inbox.handle_DATA(server, session, envelope)


def _pending(backend) -> int:
    with backend.uow() as uow:
        return uow.session.scalar(
            select(func.count()).select_from(OutboxEmail).where(OutboxEmail.status == "pending")
        )


def test_two_dispatchers_and_a_slow_relay_send_each_mail_once(backend, clock):
    """A relay taking 10 s a message makes a batch of 50 outlive a 5-minute lease: the
    second dispatcher must not take rows the first one is still working through."""
    from aiosmtpd.controller import Controller

    with backend.uow() as uow:
        for n in range(60):
            mail.queue(
                uow, "pending_review", f"sec{n}@example.lu", {"first_names": "A", "last_name": "B"}
            )
        uow.commit()
    rows = _rows(backend)
    server = SmtpServer()
    server.controller = Controller(
        SlowRelay(server.inbox, clock, seconds=10), hostname="127.0.0.1", port=server.port
    )
    server.start()
    try:
        transport = mail.SmtpTransport.from_url(server.url)
        start = threading.Barrier(2)

        def dispatcher() -> None:
            start.wait(timeout=10)
            deadline = time.monotonic() + 60
            while _pending(backend) and time.monotonic() < deadline:
                if _nothing(_deliver(backend, transport)):
                    time.sleep(0.01)  # rows leased by the other one: poll again

        with ThreadPoolExecutor(max_workers=2) as pool:
            for fut in [pool.submit(dispatcher) for _ in range(2)]:
                fut.result(timeout=90)
        received = Counter(_message_ids(server.inbox.wait_for(60)))
    finally:
        server.stop()
    assert clock() - rows[0].created_at >= dt.timedelta(minutes=10)  # the relay was slow
    assert received == Counter(r.message_id for r in rows)  # each exactly once
    for row in _rows(backend):
        assert row.status == "sent" and row.attempts == 1 and row.lease_until is None


def test_a_dispatcher_that_lost_its_lease_leaves_the_row_to_the_one_holding_it(
    backend, smtp_server, clock
):
    """A send that outlives its lease (a stalled process): another dispatcher has taken
    the row meanwhile. The first one must neither mark it sent nor release the other's
    lease (a third dispatcher would then send it again)."""
    f.declare(backend, f.professional(backend))
    [row] = _rows(backend)
    second_sending, first_done = threading.Event(), threading.Event()
    second_report: list[mail.DeliveryReport] = []
    relay = mail.SmtpTransport.from_url(smtp_server.url)

    class HoldsOn:  # the second dispatcher: sends once the first one has given up the row
        def send(self, message):
            second_sending.set()
            assert first_done.wait(10)
            relay.send(message)

    second = threading.Thread(
        target=lambda: second_report.append(_deliver(backend, HoldsOn())), daemon=True
    )

    class Stalls:  # the first dispatcher: stalls past its lease while the second takes over
        def send(self, message):
            clock.advance(seconds=mail.LEASE.total_seconds() + 1)
            second.start()
            assert second_sending.wait(10)

    first = _deliver(backend, Stalls())
    during = _row(backend, row.id)
    assert during.status == "pending" and during.sent_at is None and during.attempts == 0
    assert during.lease_until is not None and during.lease_until > clock()  # still leased
    assert (first.sent, first.retried, first.failed) == (0, 0, 0)
    assert first.lost == 1

    first_done.set()
    second.join(10)
    [report] = second_report
    assert report.sent == 1
    assert _message_ids(smtp_server.inbox.wait_for(1)) == [row.message_id]
    done = _row(backend, row.id)
    assert done.status == "sent" and done.attempts == 1 and done.lease_until is None


def test_a_dispatcher_that_lost_its_lease_does_not_record_its_failure_either(backend, clock):
    f.declare(backend, f.professional(backend))
    [row] = _rows(backend)

    class StallsThenFails:
        def send(self, message):
            clock.advance(seconds=mail.LEASE.total_seconds() + 1)
            # Meanwhile another dispatcher takes the row, and dies holding it.
            with pytest.raises(Killed):
                _deliver(backend, DiesMidSend())
            raise ConnectionError("relais injoignable")

    report = _deliver(backend, StallsThenFails())
    assert (report.sent, report.retried, report.failed, report.lost) == (0, 0, 0, 1)
    held = _row(backend, row.id)
    assert held.attempts == 0 and held.last_error is None
    assert held.lease_until is not None and held.lease_until > clock()  # the other one's


# --- 6b. who goes first: mail people wait for now, and no retry starved ------------------------


def _queue_many(backend, count: int, template: str = "pending_review", prefix: str = "old"):
    with backend.uow() as uow:
        rows = [
            mail.queue(
                uow, template, f"{prefix}{n}@example.lu", {"first_names": "A", "last_name": "B"}
            )
            for n in range(count)
        ]
        uow.commit()
    return [r.message_id for r in rows]


def test_a_fresh_approval_goes_before_a_backlog_of_retries(backend, smtp_server, clock):
    """After an SMTP outage, 300 old mails are due again; the reviewer's approval queued
    now goes in the first batch, first, not behind them."""
    reviewer = f.reviewer(backend)
    eid, _ = f.walk_to(backend, f.professional(backend), "pending_review")
    _queue_many(backend, 300)
    outage = Broken()
    report = _deliver(backend, outage, batch=1000)
    assert report.retried == 302 and outage.calls == 302  # her two mails and the 300
    clock.advance(minutes=2)  # the relay is back; every one of them is due again

    with backend.uow() as uow:
        decisions.approve(uow, eid, reviewer)
    f.provision(backend)
    fresh = {r.message_id for r in _rows(backend) if r.attempts == 0}
    assert {r.template for r in _rows(backend) if r.attempts == 0} == {
        "approved",
        "professional_account_created",
    }
    transport = Recorder(mail.SmtpTransport.from_url(smtp_server.url))
    report = _deliver(backend, transport, batch=50)
    assert report.sent == 50
    assert set(transport.calls[:2]) == fresh
    # The retries follow in the order they became due (fair among themselves).
    retried = [r for r in _rows(backend) if r.attempts == 2]
    assert [r.message_id for r in retried] == transport.calls[2:]
    assert [r.id for r in retried] == sorted(r.id for r in retried)


def test_a_stream_of_fresh_mail_does_not_starve_a_retry(backend, smtp_server, clock):
    """More fresh mail arrives than the relay takes: the old retry still goes, within a
    bounded time (RETRY_YIELD), instead of waiting for the stream to dry up."""
    [old] = _queue_many(backend, 1)
    assert _deliver(backend, Broken()).retried == 1
    clock.advance(seconds=30)  # due again
    transport = Recorder(mail.SmtpTransport.from_url(smtp_server.url))
    for minute in range(120):
        _queue_many(backend, 2, template="approved", prefix=f"m{minute}-")
        _deliver(backend, transport, batch=1)
        if old in transport.calls:
            break
        clock.advance(minutes=1)
    assert old in transport.calls
    # Served once the fresh mail queued before its turn was sent: 2 a minute for
    # RETRY_YIELD, at 1 a minute.
    bound = 2 * mail.RETRY_YIELD / dt.timedelta(minutes=1) + 2
    assert transport.calls.index(old) <= bound
    assert minute >= 1  # and fresh mail did go first meanwhile


def _plan(conn, statement) -> str:
    compiled = statement.compile(dialect=conn.dialect)
    if conn.dialect.name == "postgresql":
        rows = conn.exec_driver_sql("EXPLAIN " + str(compiled), compiled.params)
        return "\n".join(row[0] for row in rows)
    # SQLite: the plan does not depend on the values (nor, without ANALYZE, on the rows).
    params = tuple(str(compiled.params[name]) for name in compiled.positiontup)
    rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled), params)
    return "\n".join(row[-1] for row in rows)


def test_the_leasing_query_uses_the_turn_index(backend, clock):
    """With many sent rows and a few due ones, the next row is found by the partial index
    on the pending rows, in turn order, with no sort of every due row."""
    now = clock()
    with backend.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(
                text(
                    "INSERT INTO outbox (template, recipient, language, context, message_id, "
                    "status, attempts, next_attempt_at, turn_at, created_at, sent_at) "
                    "SELECT 'approved', 'x' || g || '@example.lu', 'fr', '{}', "
                    "'<' || g || '@t>', CASE WHEN g % 100 = 0 THEN 'pending' ELSE 'sent' END, "
                    "1, :now - g * interval '1 second', :now - g * interval '1 second', "
                    ":now - g * interval '1 second', :now FROM generate_series(1, 50000) g"
                ),
                {"now": now},
            )
            conn.execute(text("ANALYZE outbox"))
        plan = _plan(conn, mail.lease_statement(now, "probe"))
    assert "ix_outbox_turn" in plan, plan
    assert "Seq Scan" not in plan and "TEMP B-TREE" not in plan, plan


class StallingRelay:
    """An SMTP server that never answers the end of the message within reason."""

    def __init__(self, inbox: Inbox, seconds: float):
        self.inbox, self.seconds = inbox, seconds

    async def handle_DATA(self, server, session, envelope):
        import asyncio

        await asyncio.sleep(self.seconds)
        return await self.inbox.handle_DATA(server, session, envelope)


def test_a_send_never_outlives_its_deadline(backend, clock):
    """A relay that trickles or stalls cannot keep a row past its lease: the send gives up
    at its deadline (the row is retried) instead of waiting socket timeout after timeout."""
    from aiosmtpd.controller import Controller

    assert mail.LEASE.total_seconds() / 2 > mail.SEND_DEADLINE
    f.declare(backend, f.professional(backend))
    server = SmtpServer()
    server.controller = Controller(
        StallingRelay(server.inbox, seconds=5), hostname="127.0.0.1", port=server.port
    )
    server.start()
    try:
        transport = mail.SmtpTransport("127.0.0.1", server.port, timeout=30, deadline=0.5)
        report = _deliver(backend, transport)
    finally:
        server.stop()
    assert report.retried == 1
    [row] = _rows(backend)
    assert row.status == "pending" and row.attempts == 1 and row.lease_until is None
    assert "délai" in row.last_error


# --- 7. SMTP URL -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.lu:2525", dict(host="mail.example.lu", port=2525)),
        ("smtp://mail.example.lu", dict(host="mail.example.lu", port=25, implicit_tls=False)),
        ("smtps://mail.example.lu", dict(port=465, implicit_tls=True, starttls=False)),
        ("smtps://mail.example.lu:1465", dict(port=1465, implicit_tls=True)),
        ("smtp://mail.example.lu:587?starttls=1", dict(port=587, starttls=True)),
        ("smtp://mail.example.lu:587?starttls=true", dict(starttls=True)),
        ("smtp://mail.example.lu:587?starttls=0", dict(starttls=False)),
        ("smtp://mail.example.lu:587", dict(starttls=False, username=None, password=None)),
        (
            "smtp://no-reply%40esante.lu:p%40ss%3Aw%2Frd%20%25@mail.example.lu:587?starttls=1",
            dict(username="no-reply@esante.lu", password="p@ss:w/rd %", starttls=True),
        ),
        ("smtp://relay@mail.example.lu", dict(username="relay", password=None)),
    ],
)
def test_smtp_url_is_parsed(url, expected):
    transport = mail.SmtpTransport.from_url(url)
    for name, value in expected.items():
        assert getattr(transport, name) == value, name


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://mail.example.lu", "doit commencer par smtp:// ou smtps://"),
        ("mail.example.lu:25", "doit commencer par smtp:// ou smtps://"),
        ("", "doit commencer par smtp:// ou smtps://"),
        ("smtp://", "doit indiquer un serveur"),
        ("smtps:///path", "doit indiquer un serveur"),
        ("smtp://user:pw@:25", "doit indiquer un serveur"),
    ],
)
def test_bad_smtp_url_is_refused_in_french(url, message):
    with pytest.raises(ValueError, match=message):
        mail.SmtpTransport.from_url(url)


@pytest.mark.parametrize("url", ["smtp://mail.example.lu:abc", "smtp://mail.example.lu:70000"])
def test_bad_smtp_port_is_refused_in_french(url):
    with pytest.raises(ValueError, match="SMTP_URL"):
        mail.SmtpTransport.from_url(url)


def test_smtp_url_from_settings(backend, smtp_server):
    assert mail.transport_from_settings(backend.settings) is None
    assert _nothing(backend.deliver_mail())  # no SMTP_URL: the development mailbox keeps it
    settings = backend.settings.replace(smtp_url=smtp_server.url)
    transport = mail.transport_from_settings(settings)
    assert transport == mail.SmtpTransport("127.0.0.1", smtp_server.port)


# --- 8. development mailbox --------------------------------------------------------------------


def test_mailbox_shows_latest_mail_with_the_link_of_pending_invitations(
    backend, smtp_server, clock
):
    first = f.declare(backend, f.professional(backend, 1), email="sec1@example.lu")
    clock.advance(minutes=3)
    second = f.declare(backend, f.professional(backend, 2), email="sec2@example.lu")
    clock.advance(minutes=1)
    f.walk_to(backend, f.professional(backend, 3), "pending_review", email="sec3@example.lu")

    with backend.uow() as uow:
        box = mail.mailbox(uow)
    assert [m.id for m in box] == sorted((r.id for r in _rows(backend)), reverse=True)
    assert [m.recipient for m in box] == [
        "sec3@example.lu",
        "sec3@example.lu",
        "sec2@example.lu",
        "sec1@example.lu",
    ]
    review, invitation3, invitation2, invitation1 = box
    assert review.subject == FRENCH_SUBJECTS["pending_review"] and review.link is None
    assert invitation2.subject == FRENCH_SUBJECTS["invitation"]
    assert invitation2.link == f"http://testserver/enrolment/invitation/{second.token}"
    assert invitation2.link in invitation2.text
    assert invitation1.link == f"http://testserver/enrolment/invitation/{first.token}"
    assert invitation3.link and invitation3.link.startswith("http://testserver/enrolment/")
    # In the reader's language and in Luxembourg time (09:00 UTC is 10:00 in March).
    assert invitation1.created_at == "2 mars 2026, 10:00"
    assert invitation2.created_at == "2 mars 2026, 10:03"
    assert {m.status for m in box} == {"pending"}
    assert not any(m.text.startswith("Subject:") for m in box)

    with backend.uow() as uow:
        assert [m.id for m in mail.mailbox(uow, limit=2)] == [review.id, invitation3.id]

    # Once sent, the link is wiped: the mailbox no longer has it either.
    backend.deliver_mail(mail.SmtpTransport.from_url(smtp_server.url))
    with backend.uow() as uow:
        box = mail.mailbox(uow)
    assert {m.status for m in box} == {"sent"}
    assert all(m.link is None for m in box)


# --- 9. the transactional outbox ---------------------------------------------------------------


def test_refused_duplicate_declaration_queues_no_mail(backend):
    prof = f.professional(backend)
    f.declare(backend, prof)
    assert _outbox_count(backend) == 1
    with pytest.raises(DuplicateDeclaration), backend.uow() as uow:
        declarations.declare(uow, prof, **f.MARIE, if_open="refuse")
    assert _outbox_count(backend) == 1


def test_declaration_refused_after_writing_leaves_no_mail(backend):
    """A supersede that meets a case under review raises after rows were flushed."""
    prof = f.professional(backend)
    f.walk_to(backend, prof, "pending_review")
    before = [(r.id, r.template) for r in _rows(backend)]
    with backend.uow() as uow:
        enrolments = uow.session.scalar(select(func.count()).select_from(Enrolment))
    with pytest.raises(DuplicateDeclaration), backend.uow() as uow:
        declarations.declare(uow, prof, **f.MARIE)
    assert [(r.id, r.template) for r in _rows(backend)] == before
    with backend.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Enrolment)) == enrolments


def test_error_after_queueing_rolls_the_mail_back(backend, monkeypatch, smtp_server):
    prof = f.professional(backend)
    real_queue = mail.queue
    queued = []

    def queue_then_fail(uow, *args, **kwargs):
        row = real_queue(uow, *args, **kwargs)
        uow.session.flush()  # the row really reached the database, inside the transaction
        queued.append(row.id)
        raise RuntimeError("panne après la mise en file")

    monkeypatch.setattr(mail, "queue", queue_then_fail)
    with pytest.raises(RuntimeError, match="panne"), backend.uow() as uow:
        declarations.declare(uow, prof, **f.MARIE)
    assert queued  # the mail was written...
    assert _outbox_count(backend) == 0  # ...and rolled back with the declaration
    with backend.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Enrolment)) == 0
    monkeypatch.undo()

    # Same with mail.queue used directly: no commit, no mail, nothing delivered.
    with backend.uow() as uow:
        mail.queue(uow, "pending_review", SECRETARY, {"first_names": "M", "last_name": "S"})
        uow.session.flush()
    assert _outbox_count(backend) == 0
    assert _nothing(backend.deliver_mail(mail.SmtpTransport.from_url(smtp_server.url)))
    assert smtp_server.inbox.messages == []


def test_invitation_is_not_sent_without_its_link(backend, smtp_server):
    f.declare(backend, f.professional(backend))
    other_key = backend.settings.replace(secret_key="another-secret-key-" + "y" * 32)
    report = mail.deliver_due(
        backend.session_factory,
        other_key,
        mail.SmtpTransport.from_url(smtp_server.url),
        clock=backend.clock,
    )
    for _rcpt, msg in smtp_server.inbox.messages:
        plain, html = _parts(msg)
        assert "None" not in plain and 'href="None"' not in html
    assert report.sent == 0 and report.retried == 1
    [row] = _rows(backend)
    assert row.status == "pending" and row.last_error
    assert "sealed_link" in row.context
