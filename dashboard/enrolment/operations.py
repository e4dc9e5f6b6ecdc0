"""What an operator needs: readiness, the gauges /metrics exposes, and the outbox items
that are stuck (failed, or waiting longer than OUTBOX_STUCK_MINUTES) with an admin's retry
or cancel, each audited.

Both outboxes are read the same way: `mail` (table outbox) and `provisioning` (table
provisioning_outbox). Nothing here reads an email body, a recipient address or a token:
the admin sees the template or reason, the attempts and the error, with any address
masked (a relay or a directory may quote one).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import Engine, func, literal_column, or_, select

from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment import schema
from dashboard.enrolment.codes import EventAction
from dashboard.enrolment.errors import ConcurrentUpdate, NotFound
from dashboard.enrolment.kernel import Actor, record_event
from dashboard.enrolment.model import Enrolment, JobRun, OutboxEmail, ProvisioningRequest
from dashboard.enrolment.uow import UnitOfWork
from dashboard.enrolment.working_days import overdue_before
from dashboard.i18n import gettext as _

KINDS = ("mail", "provisioning")
_TABLES = {"mail": OutboxEmail, "provisioning": ProvisioningRequest}
# What each outbox calls a row that is neither waiting nor failed.
_DONE = {"mail": "sent", "provisioning": "done"}
PENDING, FAILED, CANCELLED = "pending", "failed", "cancelled"
MAX_LISTED = 500  # the page lists the worst first; an operator acts long before this


# --- readiness -------------------------------------------------------------------------------


def readiness(engine: Engine, head: str) -> str | None:
    """None when the database answers and its schema is at `head` (the migrations' newest
    revision, computed once at start); else why not: "database" or "schema"."""
    try:
        current = schema.current_revision(engine)
    except Exception:  # noqa: BLE001 - any failure to answer means not ready
        return "database"
    return None if current == head else "schema"


# --- gauges (read at scrape time) -------------------------------------------------------------


@dataclass(frozen=True)
class OutboxGauge:
    kind: str
    pending: int  # waiting to be delivered (due or not)
    due: int  # of which due now
    oldest_due_seconds: float  # age of the oldest due item (0 when none is due)
    failed: int  # given up after their attempts (delivery / provisioning failures)
    retrying: int  # pending with at least one failed attempt


def outbox_gauges(uow: UnitOfWork) -> list[OutboxGauge]:
    now = uow.now()
    out = []
    for kind, table in _TABLES.items():
        pending = table.status == literal_column("'pending'")
        due = pending & (table.next_attempt_at <= now)
        row = uow.session.execute(
            select(
                func.count().filter(pending),
                func.count().filter(due),
                func.min(table.next_attempt_at).filter(due),
                func.count().filter(table.status == FAILED),
                func.count().filter(pending & (table.attempts > 0)),
            ).where(table.status.in_((PENDING, FAILED)))
        ).one()
        oldest = row[2]
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=dt.UTC)
        age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
        out.append(OutboxGauge(kind, row[0], row[1], age, row[3], row[4]))
    return out


@dataclass(frozen=True)
class ReviewGauge:
    waiting: int  # cases in the reviewers' queue
    overdue: int  # of which past REVIEW_SLA_WORKING_DAYS (as the queue's "overdue" filter)


def review_gauge(uow: UnitOfWork) -> ReviewGauge:
    in_queue = Enrolment.state == literal_column(f"'{lc.PENDING_REVIEW}'")
    cutoff = overdue_before(uow.now(), uow.settings.review_sla_working_days)
    row = uow.session.execute(
        select(func.count(), func.count().filter(Enrolment.device_confirmed_at < cutoff)).where(
            in_queue
        )
    ).one()
    return ReviewGauge(row[0], row[1])


def job_last_success(uow: UnitOfWork) -> dict[str, dt.datetime]:
    """{job name: end of its last successful run}, from the worker's `job_runs` (jobs.py);
    a job that never succeeded is absent. The metrics collector exposes what this returns."""
    rows = uow.session.execute(
        select(JobRun.name, JobRun.last_success_at).where(JobRun.last_success_at.is_not(None))
    )
    return {name: at for name, at in rows}


# --- stuck items: list, retry, cancel ---------------------------------------------------------


@dataclass(frozen=True)
class StuckItem:
    kind: str  # mail | provisioning
    id: int
    what: str  # the mail's template or the provisioning request's reason
    enrolment_id: int | None
    status: str  # pending | failed
    attempts: int
    last_error: str
    created_at: dt.datetime
    next_attempt_at: dt.datetime | None
    leased: bool  # a dispatcher holds it right now


_ADDRESS = re.compile(r"[^\s<>\"'@]+@[^\s<>\"'@]+")
_LONG_SECRET = re.compile(r"[A-Za-z0-9_\-]{32,}")


def safe_error(text: str | None) -> str:
    """The error as an admin may read it: addresses and token-like strings masked."""
    if not text:
        return ""
    text = _ADDRESS.sub("<adresse>", text)
    return _LONG_SECRET.sub("***", text)[:500]


def _what(kind: str, row) -> str:
    return row.template if kind == "mail" else row.reason


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    return value.replace(tzinfo=dt.UTC) if value is not None and value.tzinfo is None else value


def stuck_items(uow: UnitOfWork, threshold: dt.timedelta | None = None) -> list[StuckItem]:
    """Failed items, and pending ones created longer than `threshold` ago (default
    OUTBOX_STUCK_MINUTES), worst first: failed, then the oldest."""
    now = uow.now()
    threshold = threshold or dt.timedelta(minutes=uow.settings.outbox_stuck_minutes)
    items = []
    for kind, table in _TABLES.items():
        rows = uow.session.scalars(
            select(table)
            .where(
                or_(
                    table.status == FAILED,
                    (table.status == PENDING) & (table.created_at <= now - threshold),
                )
            )
            .order_by(table.created_at, table.id)
            .limit(MAX_LISTED)
        ).all()
        for row in rows:
            lease = _utc(row.lease_until)
            items.append(
                StuckItem(
                    kind=kind,
                    id=row.id,
                    what=_what(kind, row),
                    enrolment_id=row.enrolment_id,
                    status=row.status,
                    attempts=row.attempts,
                    last_error=safe_error(row.last_error),
                    created_at=_utc(row.created_at),
                    next_attempt_at=_utc(row.next_attempt_at) if row.status == PENDING else None,
                    leased=lease is not None and lease > now,
                )
            )
    items.sort(key=lambda i: (i.status != FAILED, i.created_at, i.kind, i.id))
    return items[:MAX_LISTED]


def _load(uow: UnitOfWork, kind: str, item_id: int):
    table = _TABLES.get(kind)
    row = uow.session.get(table, item_id, with_for_update=True) if table is not None else None
    if row is None:
        raise NotFound(_("Cet élément n'existe plus."))
    if row.status not in (PENDING, FAILED):
        raise ConcurrentUpdate(_("Cet élément a déjà été traité entre-temps."))
    lease = _utc(row.lease_until)
    if lease is not None and lease > uow.now():
        # A dispatcher is delivering it this very moment: its outcome decides.
        raise ConcurrentUpdate(_("Cet élément est en cours d'envoi ; réessayez dans une minute."))
    return row


def retry(uow: UnitOfWork, staff_id: int, kind: str, item_id: int) -> None:
    """Make the item due now with a fresh count of attempts (a failed item has used them
    all: keeping the count would give it one try only); the event keeps the old count."""
    row = _load(uow, kind, item_id)
    now = uow.now()
    before = {"status": row.status, "attempts": row.attempts}
    row.status = PENDING
    row.attempts = 0
    row.next_attempt_at = now
    row.lease_owner = None
    row.lease_until = None
    if kind == "mail":
        row.turn_at = now  # in turn with mail queued now, not behind its old back-off
    _audit(uow, staff_id, EventAction.OUTBOX_RETRIED, kind, row, before)
    uow.commit()


def cancel(uow: UnitOfWork, staff_id: int, kind: str, item_id: int) -> None:
    """Give the item up for good: no dispatcher takes it again."""
    row = _load(uow, kind, item_id)
    before = {"status": row.status, "attempts": row.attempts}
    row.status = CANCELLED
    row.lease_owner = None
    row.lease_until = None
    if kind == "mail" and row.context and "sealed_link" in row.context:
        # Never to be sent: the invitation link has no reason to stay, even sealed.
        row.context = {k: v for k, v in row.context.items() if k != "sealed_link"}
    _audit(uow, staff_id, EventAction.OUTBOX_CANCELLED, kind, row, before)
    uow.commit()


def _audit(uow, staff_id, action, kind, row, before) -> None:
    uow.flush()
    record_event(
        uow,
        None,
        action,
        Actor("staff", str(staff_id)),
        data={"kind": kind, "item": row.id, "what": _what(kind, row), **before},
    )
