"""Provisioning: the secretary's account made real in the agency's identity platform.

`request` adds a row to the provisioning outbox in the caller's unit of work, in the
transaction that changed the account or its links, so the directory is asked to change if
and only if the change committed (transactional outbox, as for mail). What the directory
must then hold is read from the database when the row is delivered (`directory_state`),
not from the row: a replay, or rows delivered out of order, converge.

`deliver_due` is the dispatcher, with mail's guarantees: each row leased to one run
(`lease_owner`, FOR UPDATE SKIP LOCKED on PostgreSQL), failures retried with back-off,
"failed" after MAX_ATTEMPTS, the error kept on the row. When the directory confirmed a row
that carries an enrolment, an `account_provisioned` event is written on it, and
notifications.TABLE sends the account's emails then, not before.

`Directory` is the port; dashboard/enrolment/scim.py holds the SCIM 2.0 adapter.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import uuid
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import literal_column, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from dashboard.config import Settings
from dashboard.enrolment import mail
from dashboard.enrolment.kernel import SYSTEM, record_event
from dashboard.enrolment.model import (
    AccountLink,
    Enrolment,
    Event,
    Professional,
    ProvisioningRequest,
    SecretaryAccount,
)
from dashboard.enrolment.uow import UnitOfWork, utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = mail.MAX_ATTEMPTS
BATCH = 50  # rows one deliver_due run handles at most
# A delivery is a handful of SCIM requests (each bounded by scim.REQUEST_TIMEOUT): a
# dispatcher that dies holds back its row this long.
LEASE = dt.timedelta(minutes=2)
# The state is read again after it was applied: a link ended meanwhile is applied by the
# same run (and a run that applied an older state than another's corrects it).
MAX_APPLIES = 3
GROUP_PREFIX = "esante-professional-"  # the externalId of a professional's Group


# --- writing side ---------------------------------------------------------------------------


def request(
    uow: UnitOfWork,
    account: SecretaryAccount,
    reason: str,
    *,
    enrolment_id: int | None = None,
) -> ProvisioningRequest:
    """Ask for the account's directory state to be brought up to date.

    `reason` is the event that asked (e.g. account_opened, account_linked, link_ended);
    `enrolment_id` the enrolment whose emails wait for the directory's confirmation.
    """
    now = uow.now()
    row = ProvisioningRequest(
        account_id=account.id,
        enrolment_id=enrolment_id,
        reason=reason,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    uow.session.add(row)
    return row


# --- what the directory must hold -----------------------------------------------------------


@dataclass(frozen=True, order=True)
class GroupRef:
    """A professional's Group: externalId from his id (stable), displayName his code."""

    external_id: str
    display_name: str


def group_of(professional: Professional) -> GroupRef:
    external_id = f"{GROUP_PREFIX}{professional.id}"
    # Named by the medical code, never by the person's name; the id when there is no code.
    return GroupRef(external_id, professional.code or external_id)


@dataclass(frozen=True)
class DirectoryState:
    """One account as the directory must hold it (computed from the database).

    `user_name` is the directory id: unique, stable when her email or name changes, free of
    personal data (she logs in with LuxTrust, never types it; a practice's shared mailbox
    would not be unique)."""

    directory_id: str
    given_name: str | None
    family_name: str | None
    email: str | None
    active: bool
    groups: frozenset[GroupRef] = field(default_factory=frozenset)

    @property
    def user_name(self) -> str:
        return self.directory_id


def directory_state(session: Session, account_id: int) -> DirectoryState:
    """Memberships: the account's open links; active: at least one of them."""
    account = session.get(SecretaryAccount, account_id)
    professionals = session.scalars(
        select(Professional)
        .join(AccountLink, AccountLink.professional_id == Professional.id)
        .where(AccountLink.account_id == account_id, AccountLink.ended_at.is_(None))
    ).all()
    groups = frozenset(group_of(p) for p in professionals)
    return DirectoryState(
        directory_id=account.directory_id,
        given_name=account.first_names,
        family_name=account.last_name,
        email=account.email,
        active=bool(groups),
        groups=groups,
    )


@dataclass(frozen=True)
class DirectoryEntry:
    """A User as the directory holds it (reconciliation): groups by externalId."""

    directory_id: str
    active: bool
    groups: frozenset[str]


class DirectoryError(Exception):
    """The directory did not do what was asked; `str()` says why, in French, without
    personal data (it is kept on the outbox row and shown to admins)."""


class Directory(Protocol):
    """The identity platform, seen from here (the port; scim.ScimDirectory adapts SCIM)."""

    def apply(self, state: DirectoryState) -> None:
        """Make the directory hold `state` (idempotent); raise DirectoryError otherwise."""

    def read(self) -> list[DirectoryEntry]:
        """Every User the directory holds under an externalId, with its managed groups."""


# --- the dispatcher -----------------------------------------------------------------------------


def lease_statement(now: dt.datetime, owner: str):
    """Lease the oldest due request (partial index ix_provisioning_outbox_due) to `owner`."""
    due = (
        ProvisioningRequest.status == literal_column("'pending'"),
        ProvisioningRequest.next_attempt_at <= now,
        or_(ProvisioningRequest.lease_until.is_(None), ProvisioningRequest.lease_until < now),
    )
    order = (ProvisioningRequest.next_attempt_at, ProvisioningRequest.id)
    return mail.lease_update(
        ProvisioningRequest, due, order, "ix_provisioning_outbox_due", now, owner, LEASE
    )


def _lease_next(session_factory, now: dt.datetime, owner: str) -> ProvisioningRequest | None:
    with session_factory() as session:
        row = session.scalars(lease_statement(now, owner)).one_or_none()
        session.commit()
        return row


def _still_held(row: ProvisioningRequest, owner: str):
    return update(ProvisioningRequest).where(
        ProvisioningRequest.id == row.id,
        ProvisioningRequest.lease_owner == owner,
        ProvisioningRequest.status == "pending",
    )


def _record_failure(session_factory, row, owner: str, error: str, now: dt.datetime) -> str:
    attempts = row.attempts + 1
    if attempts >= MAX_ATTEMPTS:
        outcome, values = "failed", {"status": "failed"}
    else:
        outcome, values = "retried", {"next_attempt_at": now + mail.backoff(attempts)}
    with session_factory() as session:
        won = session.execute(
            _still_held(row, owner)
            .values(
                lease_owner=None, lease_until=None, attempts=attempts, last_error=error, **values
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        session.commit()
    return outcome if won else "lost"


def _record_success(session_factory, settings: Settings, clock, row, owner: str) -> str:
    """Mark the row done and, if it carries an enrolment, write `account_provisioned` (its
    emails) — one transaction, and only while this run still holds the row."""
    with UnitOfWork(session_factory, settings, clock) as uow:
        won = uow.session.execute(
            _still_held(row, owner)
            .values(
                lease_owner=None,
                lease_until=None,
                attempts=row.attempts + 1,
                status="done",
                done_at=uow.now(),
                last_error=None,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        if not won:
            return "lost"
        if row.enrolment_id is not None:
            enrolment = uow.session.get(Enrolment, row.enrolment_id)
            told = uow.session.scalar(
                select(Event.id).where(
                    Event.enrolment_id == row.enrolment_id,
                    Event.action == "account_provisioned",
                )
            )
            # Once per enrolment: an admin's retry of a done row sends no second email.
            if enrolment is not None and told is None:
                record_event(
                    uow,
                    enrolment,
                    "account_provisioned",
                    SYSTEM,
                    data={"account_id": row.account_id, "request_id": row.id},
                )
        uow.commit()
    return "done"


def _error_text(exc: Exception) -> str:
    if isinstance(exc, DirectoryError):
        return str(exc)[:2000]
    # Not the message: an unexpected error may quote the payload (personal data).
    return f"erreur inattendue ({type(exc).__name__})"


@dataclass
class DeliveryReport:
    done: int = 0
    retried: int = 0
    failed: int = 0
    lost: int = 0  # lease ran out during the delivery: the new holder records it

    @property
    def handled(self) -> int:
        return self.done + self.retried + self.failed + self.lost


def deliver_due(
    session_factory: sessionmaker[Session],
    settings: Settings,
    directory: Directory,
    *,
    clock=utcnow,
    batch: int = BATCH,
    stop: threading.Event | None = None,
) -> DeliveryReport:
    """Deliver up to `batch` due requests, oldest first; a failure is retried later with
    back-off. `stop` (when set) ends the run after the row being delivered."""
    report = DeliveryReport()
    owner = uuid.uuid4().hex  # this run's lease token
    for _ in range(batch):
        if stop is not None and stop.is_set():
            break
        row = _lease_next(session_factory, clock(), owner)
        if row is None:
            break
        try:
            applied = None
            for _ in range(MAX_APPLIES):
                with session_factory() as session:
                    state = directory_state(session, row.account_id)
                if state == applied:
                    break
                directory.apply(state)
                applied = state
        except Exception as exc:  # the directory's answer or the network: retry later
            outcome = _record_failure(session_factory, row, owner, _error_text(exc), clock())
            # No personal data in logs: the row's id and the kind of error only.
            log.warning("provisioning %s not delivered (%s)", row.id, type(exc).__name__)
        else:
            outcome = _record_success(session_factory, settings, clock, row, owner)
        if outcome == "lost":
            log.warning("provisioning %s: lease lost during the delivery", row.id)
        setattr(report, outcome, getattr(report, outcome) + 1)
    return report


# --- reconciliation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Drift:
    """One difference between the directory and the database, said in French."""

    account_id: int | None
    directory_id: str
    message: str


def reconcile(uow: UnitOfWork, directory: Directory, *, fix: bool = False) -> list[Drift]:
    """Every drift between the directory and the accounts and open links here; with `fix`,
    a provisioning request per drifting account (delivered by `deliver_due`)."""
    held = {entry.directory_id: entry for entry in directory.read()}
    drifts: list[Drift] = []
    accounts = uow.session.scalars(select(SecretaryAccount).order_by(SecretaryAccount.id)).all()
    known = set()
    for account in accounts:
        known.add(account.directory_id)
        want = directory_state(uow.session, account.id)
        entry = held.get(account.directory_id)
        found: list[str] = []
        if entry is None:
            if want.groups:
                found.append("utilisateur absent de l'annuaire")
        else:
            wanted = {g.external_id for g in want.groups}
            names = {g.external_id: g.display_name for g in want.groups}
            for missing in sorted(wanted - entry.groups):
                found.append(f"appartenance manquante au groupe {names[missing]}")
            for extra in sorted(entry.groups - wanted):
                found.append(f"appartenance en trop au groupe {extra}")
            if entry.active != want.active:
                found.append("devrait être actif" if want.active else "devrait être désactivé")
        drifts += [Drift(account.id, account.directory_id, text) for text in found]
        if fix and found:
            request(uow, account, "reconcile")
    for directory_id in sorted(set(held) - known):
        entry = held[directory_id]
        if entry.active or entry.groups:
            drifts.append(Drift(None, directory_id, "utilisateur inconnu ici, encore actif"))
    if fix:
        uow.commit()
    return drifts


# --- the embedded directory's view (development) -------------------------------------------


@dataclass(frozen=True)
class DirectoryUser:
    directory_id: str
    active: bool
    groups: tuple[str, ...]  # the groups' names (professionals' codes)


def directory_view(directory: Directory) -> list[DirectoryUser]:
    """What the directory holds, for the development view: no names, no emails."""
    names = getattr(directory, "group_names", dict)()
    return [
        DirectoryUser(e.directory_id, e.active, tuple(sorted(names.get(g, g) for g in e.groups)))
        for e in sorted(directory.read(), key=lambda e: e.directory_id)
    ]
