"""Email: the transactional outbox, its templates, and delivery over SMTP.

`queue()` writes an outbox row inside the caller's unit of work, so a mail exists if and
only if its state change committed. `deliver_due()` sends due rows one at a time, each in
its turn (`turn_at`: mail people wait for now before retries of old failures, and no retry
starves). A row is leased just before its send, for a short LEASE, to one dispatcher run
(`lease_owner`; one statement with `FOR UPDATE SKIP LOCKED` on PostgreSQL), and only that
run may record the outcome: several dispatchers never send the same row, and one that dies
holds back only the row it was sending, for LEASE. Failures back off and retry.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import functools
import hashlib
import logging
import smtplib
import socket
import ssl
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import Update, literal_column, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from dashboard.config import DATA_DIR, Settings
from dashboard.enrolment.model import OutboxEmail
from dashboard.enrolment.uow import UnitOfWork, utcnow
from dashboard.i18n import long_date_time

log = logging.getLogger(__name__)

TEMPLATE_DIR = DATA_DIR / "emails"
TEMPLATES = (
    "invitation",
    "account_created",
    "pending_review",
    "approved",
    "rejected",
    "locked",
    "professional_account_created",
    "professional_rejected",
    "professional_locked",
    "link_ended",
    "professional_link_ended",
    # the background worker's (issue 21)
    "reminder",
    "professional_expired",
)
MAX_ATTEMPTS = 12
BATCH = 50  # rows one deliver_due run sends at most
# A row is leased just before its send: a dispatcher that dies holds back that row only,
# and only this long.
LEASE = dt.timedelta(seconds=45)
# One send (connection, TLS, the message) gives up after this many seconds, well within
# its lease, so that no lease runs out while its holder is still sending.
SEND_DEADLINE = 20.0
# A retry takes its turn this long after it became due: mail queued in the meantime goes
# first, mail queued later waits behind it (so no retry waits for ever).
RETRY_YIELD = dt.timedelta(minutes=10)

_env = Environment(
    loader=FileSystemLoader(TEMPLATE_DIR),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


# --- secrets inside the outbox ------------------------------------------------------------


def _fernet(secret_key: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(secret_key.encode()).digest()))


def seal(secret_key: str, value: str) -> str:
    """Encrypt a value (the invitation link) so the database never holds it in clear."""
    return _fernet(secret_key).encrypt(value.encode()).decode()


def unseal(secret_key: str, value: str, fallbacks: Sequence[str] = ()) -> str | None:
    """The sealed value, opened with the current key or, during a key rotation, with one of
    the previous ones (SECRET_KEY_FALLBACKS); None if none of them sealed it."""
    keys = MultiFernet([_fernet(key) for key in (secret_key, *fallbacks)])
    try:
        return keys.decrypt(value.encode()).decode()
    except InvalidToken:
        return None


# --- queueing --------------------------------------------------------------------------------


def queue(
    uow: UnitOfWork,
    template: str,
    recipient: str | None,
    context: dict,
    *,
    enrolment_id: int | None = None,
    language: str = "fr",
    link: str | None = None,
) -> OutboxEmail:
    """Add an email to the outbox in the current transaction; `link` is stored sealed."""
    if template not in TEMPLATES:
        raise ValueError(f"unknown email template {template!r}")
    now = uow.now()
    ctx = dict(context)
    if link is not None:
        ctx["sealed_link"] = seal(uow.settings.secret_key, link)
    domain = urlsplit(uow.settings.base_url).hostname or "esante.local"
    row = OutboxEmail(
        enrolment_id=enrolment_id,
        template=template,
        recipient=recipient,
        language=language,
        context=ctx,
        message_id=make_msgid(idstring=template.replace("_", "-"), domain=domain),
        status="pending",
        attempts=0,
        next_attempt_at=now,
        turn_at=now,
        created_at=now,
    )
    uow.session.add(row)
    return row


# --- rendering -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def render(row: OutboxEmail, settings: Settings) -> RenderedEmail:
    ctx = dict(row.context or {})
    sealed = ctx.pop("sealed_link", None)
    ctx["link"] = (
        unseal(settings.secret_key, sealed, settings.secret_key_fallbacks) if sealed else None
    )
    if sealed and ctx["link"] is None:
        # Another SECRET_KEY sealed it: never send an invitation without its link.
        raise ValueError("the sealed link cannot be opened with SECRET_KEY or its fallbacks")
    ctx.setdefault("portal_url", "https://www.esante.lu")
    ctx.setdefault("base_url", settings.base_url)  # pages a reader may open (his list)
    lang = row.language if (TEMPLATE_DIR / f"{row.template}.{row.language}.txt").exists() else "fr"
    text = _env.get_template(f"{row.template}.{lang}.txt").render(**ctx)
    subject_line, _, body = text.partition("\n")
    if not subject_line.startswith("Subject: "):
        raise ValueError(f"template {row.template} must start with a 'Subject: ' line")
    html = _env.get_template(f"{row.template}.{lang}.html").render(**ctx)
    return RenderedEmail(
        subject=subject_line[len("Subject: ") :], text=body.lstrip("\n"), html=html
    )


def build_message(row: OutboxEmail, settings: Settings) -> EmailMessage:
    rendered = render(row, settings)
    msg = EmailMessage()
    msg["Subject"] = rendered.subject
    msg["From"] = settings.mail_from
    msg["To"] = formataddr(("", row.recipient)) if row.recipient else ""
    msg["Message-ID"] = row.message_id
    msg["Date"] = row.created_at.strftime("%a, %d %b %Y %H:%M:%S +0000")
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(rendered.text)
    msg.add_alternative(rendered.html, subtype="html")
    return msg


# --- transport -------------------------------------------------------------------------------


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None: ...


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # Built once: loading the system's certificates took 60–100 ms, longer than a send.
    return ssl.create_default_context()


@dataclass(frozen=True)
class SmtpTransport:
    """SMTP from a URL: smtp://[user:password@]host[:port][?starttls=1], or smtps://.

    `timeout` bounds each network operation; `deadline` the whole send, however slowly a
    relay trickles its answers."""

    host: str
    port: int
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    implicit_tls: bool = False
    timeout: float = 10.0
    deadline: float = SEND_DEADLINE

    @classmethod
    def from_url(cls, url: str) -> SmtpTransport:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError("SMTP_URL doit commencer par smtp:// ou smtps://")
        if not parts.hostname:
            raise ValueError("SMTP_URL doit indiquer un serveur (smtp://hôte:port)")
        query = parse_qs(parts.query)
        implicit = parts.scheme == "smtps"
        try:
            port = parts.port
        except ValueError:
            raise ValueError("SMTP_URL : le port doit être un nombre entre 1 et 65535") from None
        return cls(
            host=parts.hostname,
            port=port or (465 if implicit else 25),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            starttls=query.get("starttls", ["0"])[0] in ("1", "true", "yes"),
            implicit_tls=implicit,
        )

    def send(self, message: EmailMessage) -> None:
        if self.implicit_tls:
            client = smtplib.SMTP_SSL(timeout=self.timeout, context=_tls_context())
        else:
            client = smtplib.SMTP(timeout=self.timeout)
        expired = threading.Event()

        def give_up() -> None:
            # Wakes the blocked read or write at once (closing alone would not).
            expired.set()
            sock = client.sock
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

        timer = threading.Timer(self.deadline, give_up)
        timer.daemon = True
        timer.start()
        try:
            client.connect(self.host, self.port)
            if expired.is_set():  # the deadline passed while connecting: no socket to shut then
                give_up()
            if self.starttls:
                client.starttls(context=_tls_context())
            if self.username:
                client.login(self.username, self.password or "")
            client.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            if expired.is_set():
                raise TimeoutError(
                    f"envoi abandonné : délai de {self.deadline:g} s dépassé"
                ) from exc
            raise
        else:
            # Accepted: a relay that drops the connection at QUIT changes nothing to that.
            with contextlib.suppress(OSError, smtplib.SMTPException):
                client.quit()
        finally:
            timer.cancel()
            client.close()


# --- delivery --------------------------------------------------------------------------------


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    # Rows whose lease ran out during their send and that another dispatcher took: their
    # outcome is that one's to record.
    lost: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed + self.lost


def backoff(attempts: int) -> dt.timedelta:
    """30 s, 1 min, 2 min, ... capped at one hour."""
    return dt.timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def lease_update(
    model,
    due: tuple,
    order_by: tuple,
    index: str,
    now: dt.datetime,
    owner: str,
    lease: dt.timedelta,
) -> Update:
    """Lease the first due row of an outbox table (mail, provisioning) to `owner`.

    One statement, reading the partial index `index` in `order_by` order: on PostgreSQL the
    inner select locks the row (SKIP LOCKED passes over one another dispatcher is taking);
    on SQLite the statement runs alone. Either way the update checks the conditions again."""
    first_due = (
        select(model.id)
        .where(*due)
        .order_by(*order_by)
        .limit(1)
        .with_for_update(skip_locked=True)
        # SQLite, without statistics, would rather sort every due row each time.
        .with_hint(model, f"INDEXED BY {index}", "sqlite")
        .scalar_subquery()
    )
    return (
        update(model)
        .where(model.id == first_due, *due)
        .values(lease_owner=owner, lease_until=now + lease)
        .returning(model)
        .execution_options(synchronize_session=False)
    )


def lease_statement(now: dt.datetime, owner: str) -> Update:
    """Lease the next due mail, in turn (partial index ix_outbox_turn), to `owner`."""
    due = (
        # Written out, not bound: the planners must see the partial index's own condition.
        OutboxEmail.status == literal_column("'pending'"),
        OutboxEmail.next_attempt_at <= now,
        or_(OutboxEmail.lease_until.is_(None), OutboxEmail.lease_until < now),
    )
    order = (OutboxEmail.turn_at, OutboxEmail.id)
    return lease_update(OutboxEmail, due, order, "ix_outbox_turn", now, owner, LEASE)


def _lease_next(
    session_factory: sessionmaker[Session], now: dt.datetime, owner: str
) -> OutboxEmail | None:
    with session_factory() as session:
        row = session.scalars(lease_statement(now, owner)).one_or_none()
        session.commit()
        return row


def _record(session_factory: sessionmaker[Session], row: OutboxEmail, owner: str, **values) -> bool:
    """Record the outcome of the row's send, if `owner` still holds its lease."""
    with session_factory() as session:
        won = session.execute(
            update(OutboxEmail)
            .where(
                OutboxEmail.id == row.id,
                OutboxEmail.lease_owner == owner,
                OutboxEmail.status == "pending",
            )
            .values(lease_owner=None, lease_until=None, attempts=row.attempts + 1, **values)
            .execution_options(synchronize_session=False)
        ).rowcount
        session.commit()
    return bool(won)


def _error_text(exc: Exception, row: OutboxEmail) -> str:
    text = f"{type(exc).__name__}: {exc}"
    if row.recipient:  # relays quote the address they refuse: keep it out of the row
        text = text.replace(row.recipient, "<destinataire>")
    return text[:2000]


def deliver_due(
    session_factory: sessionmaker[Session],
    settings: Settings,
    transport: Transport,
    *,
    clock=utcnow,
    batch: int = BATCH,
    stop: threading.Event | None = None,
) -> DeliveryReport:
    """Send up to `batch` due rows, one at a time in their turn; a failure is retried later
    with back-off. `stop` (when set) ends the run after the row being sent."""
    report = DeliveryReport()
    owner = uuid.uuid4().hex  # this run's lease token
    for _ in range(batch):
        if stop is not None and stop.is_set():
            break
        row = _lease_next(session_factory, clock(), owner)
        if row is None:
            break
        try:
            transport.send(build_message(row, settings))
        except Exception as exc:  # any transport error: keep the row, retry later
            attempts = row.attempts + 1
            if attempts >= MAX_ATTEMPTS:
                outcome, values = "failed", {"status": "failed"}
            else:
                due = clock() + backoff(attempts)
                outcome = "retried"
                values = {"next_attempt_at": due, "turn_at": due + RETRY_YIELD}
            recorded = _record(
                session_factory, row, owner, last_error=_error_text(exc, row), **values
            )
            # No personal data in logs: the row's id and the kind of error only.
            log.warning("mail %s not delivered (%s)", row.id, type(exc).__name__)
        else:
            context = row.context
            if context and "sealed_link" in context:
                # The link is not needed once sent: do not keep it, even sealed.
                context = {k: v for k, v in context.items() if k != "sealed_link"}
            outcome = "sent"
            recorded = _record(
                session_factory,
                row,
                owner,
                status="sent",
                sent_at=clock(),
                last_error=None,
                context=context,
            )
        if not recorded:
            outcome = "lost"
            log.warning("mail %s: lease lost during the send, left to its new holder", row.id)
        setattr(report, outcome, getattr(report, outcome) + 1)
    return report


def transport_from_settings(settings: Settings) -> Transport | None:
    return SmtpTransport.from_url(settings.smtp_url) if settings.smtp_url else None


# --- development mailbox -------------------------------------------------------------------


@dataclass(frozen=True)
class MailboxMessage:
    id: int
    recipient: str | None
    subject: str
    text: str
    link: str | None
    created_at: str
    status: str


def mailbox(uow: UnitOfWork, limit: int = 50) -> list[MailboxMessage]:
    """The latest outbox mail, rendered (development mailbox page)."""
    rows = uow.session.scalars(
        select(OutboxEmail).order_by(OutboxEmail.id.desc()).limit(limit)
    ).all()
    out = []
    for row in rows:
        rendered = render(row, uow.settings)
        sealed = (row.context or {}).get("sealed_link")
        out.append(
            MailboxMessage(
                row.id,
                row.recipient,
                rendered.subject,
                rendered.text,
                unseal(uow.settings.secret_key, sealed, uow.settings.secret_key_fallbacks)
                if sealed
                else None,
                long_date_time(row.created_at),  # the reader's language, Luxembourg time
                row.status,
            )
        )
    return out
