"""Email: the transactional outbox, its templates, and delivery over SMTP.

`queue()` writes an outbox row inside the caller's unit of work, so a mail exists if and
only if its state change committed. `deliver_due()` sends due rows: each row is leased
with a compare-and-set update (and `FOR UPDATE SKIP LOCKED` on PostgreSQL), so several
dispatcher processes never send the same row at once; failures back off and retry.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from cryptography.fernet import Fernet, InvalidToken
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from dashboard.config import DATA_DIR, Settings
from dashboard.enrolment.model import OutboxEmail
from dashboard.enrolment.uow import UnitOfWork, utcnow

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
)
MAX_ATTEMPTS = 12
LEASE = dt.timedelta(minutes=5)

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


def unseal(secret_key: str, value: str) -> str | None:
    try:
        return _fernet(secret_key).decrypt(value.encode()).decode()
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
    ctx["link"] = unseal(settings.secret_key, sealed) if sealed else None
    if sealed and ctx["link"] is None:
        # Another SECRET_KEY sealed it: never send an invitation without its link.
        raise ValueError("the sealed link cannot be opened with this SECRET_KEY")
    ctx.setdefault("portal_url", "https://www.esante.lu")
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


@dataclass(frozen=True)
class SmtpTransport:
    """SMTP from a URL: smtp://[user:password@]host[:port][?starttls=1], or smtps://."""

    host: str
    port: int
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    implicit_tls: bool = False
    timeout: float = 10.0

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
        context = ssl.create_default_context()
        if self.implicit_tls:
            client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with client:
            if self.starttls:
                client.starttls(context=context)
            if self.username:
                client.login(self.username, self.password or "")
            client.send_message(message)


# --- delivery --------------------------------------------------------------------------------


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0


def backoff(attempts: int) -> dt.timedelta:
    """30 s, 1 min, 2 min, ... capped at one hour."""
    return dt.timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def _lease_due(session: Session, now: dt.datetime, batch: int) -> list[int]:
    due = (
        select(OutboxEmail.id)
        .where(
            OutboxEmail.status == "pending",
            OutboxEmail.next_attempt_at <= now,
            or_(OutboxEmail.lease_until.is_(None), OutboxEmail.lease_until < now),
        )
        .order_by(OutboxEmail.id)
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    leased = []
    for row_id in session.scalars(due).all():
        # Compare-and-set: only one dispatcher wins the row even where SKIP LOCKED is absent.
        won = session.execute(
            update(OutboxEmail)
            .where(
                OutboxEmail.id == row_id,
                OutboxEmail.status == "pending",
                or_(OutboxEmail.lease_until.is_(None), OutboxEmail.lease_until < now),
            )
            .values(lease_until=now + LEASE)
        ).rowcount
        if won:
            leased.append(row_id)
    session.commit()
    return leased


def deliver_due(
    session_factory: sessionmaker[Session],
    settings: Settings,
    transport: Transport,
    *,
    clock=utcnow,
    batch: int = 50,
) -> DeliveryReport:
    """Send every due outbox row once; a failure is retried later with back-off."""
    report = DeliveryReport()
    with session_factory() as session:
        leased = _lease_due(session, clock(), batch)
    for row_id in leased:
        with session_factory() as session:
            row = session.get(OutboxEmail, row_id)
            try:
                transport.send(build_message(row, settings))
            except Exception as exc:  # any transport error: keep the row, retry later
                row.attempts += 1
                row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                row.lease_until = None
                if row.attempts >= MAX_ATTEMPTS:
                    row.status = "failed"
                    report.failed += 1
                else:
                    row.next_attempt_at = clock() + backoff(row.attempts)
                    report.retried += 1
                log.warning("mail %s not delivered: %s", row.id, row.last_error)
            else:
                row.attempts += 1
                row.status = "sent"
                row.sent_at = clock()
                row.lease_until = None
                row.last_error = None
                # The link is not needed once sent: do not keep it, even sealed.
                if row.context and "sealed_link" in row.context:
                    row.context = {k: v for k, v in row.context.items() if k != "sealed_link"}
                report.sent += 1
            session.commit()
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
                unseal(uow.settings.secret_key, sealed) if sealed else None,
                row.created_at.strftime("%d/%m/%Y %H:%M"),
                row.status,
            )
        )
    return out
