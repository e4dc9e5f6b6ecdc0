"""Work nobody asks for by a click: expiring stale invitations, erasing the personal data
of enrolments that ended without an account, and the counts by state.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, select, text

from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment import mail
from dashboard.enrolment.errors import ValidationFailed
from dashboard.enrolment.kernel import (
    SYSTEM,
    hash_token,
    invitation_link,
    move,
    new_token,
    record_event,
)
from dashboard.enrolment.model import (
    REMINDABLE_SQL,
    Decision,
    Enrolment,
    LuxTrustIdentity,
    ReviewNote,
)
from dashboard.enrolment.uow import UnitOfWork
from dashboard.i18n import gettext as _


def expire_stale(uow: UnitOfWork, batch: int = 1000) -> int:
    """Expire every open invitation past its date; returns how many were expired."""
    now = uow.now()
    count = 0
    while True:
        stale = uow.session.scalars(
            select(Enrolment)
            .where(Enrolment.state.in_(lc.OPEN_FOR_SECRETARY), Enrolment.expires_at <= now)
            .order_by(Enrolment.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
        ).all()
        if not stale:
            return count
        for enrolment in stale:
            move(uow, enrolment, lc.EXPIRED, "expired", SYSTEM)
        uow.commit()
        count += len(stale)


@dataclass
class Overview:
    """Counts by state (for the home page and the CLI)."""

    by_state: dict[str, int] = field(default_factory=dict)


def overview(uow: UnitOfWork) -> Overview:
    rows = uow.session.execute(select(Enrolment.state, func.count()).group_by(Enrolment.state))
    return Overview({state: n for state, n in rows})


# --- retention -----------------------------------------------------------------------------------

PURGEABLE = (lc.EXPIRED, lc.CANCELLED, lc.LOCKED, lc.REJECTED)


def purge_personal_data(
    uow: UnitOfWork, older_than_days: int | None = None, batch: int = 500, progress=None
) -> int:
    """Erase the personal data of enrolments that ended without an account long enough ago.

    Kept: states, dates, decisions' outcomes and reason codes, comparison kinds and the
    events (which never held personal data), so the metrics stay right. Returns how many.
    """
    days = uow.settings.retention_days if older_than_days is None else older_than_days
    if days < 0:
        raise ValidationFailed({"days": _("La durée de conservation doit être positive.")})
    cutoff = uow.now() - dt.timedelta(days=days)
    count = 0
    while True:
        enrolments = uow.session.scalars(
            select(Enrolment)
            .where(
                Enrolment.state.in_(PURGEABLE),
                Enrolment.updated_at < cutoff,
                Enrolment.purged_at.is_(None),
            )
            .order_by(Enrolment.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
        ).all()
        if not enrolments:
            return count
        ids = [e.id for e in enrolments]
        for e in enrolments:
            e.declared_last_name = e.declared_first_names = e.declared_matricule = None
            e.email = e.phone = e.token_hash = e.last_wrong_matricule = None
            e.purged_at = uow.now()
            record_event(uow, e, "personal_data_purged", SYSTEM)
        for row in uow.session.scalars(
            select(LuxTrustIdentity).where(LuxTrustIdentity.enrolment_id.in_(ids))
        ):
            row.subject = row.last_name = row.first_names = row.matricule = None
            row.birth_date = None
            row.comparison = {
                "matches": (row.comparison or {}).get("matches"),
                "fields": [
                    {
                        "field": f.get("field"),
                        "kind": f.get("kind"),
                        "declared": None,
                        "observed": None,
                        "blocking": f.get("blocking"),
                    }
                    for f in (row.comparison or {}).get("fields", [])
                ],
            }
        for row in uow.session.scalars(
            select(mail.OutboxEmail).where(mail.OutboxEmail.enrolment_id.in_(ids))
        ):
            row.recipient = None
            row.context = None
        for note in uow.session.scalars(select(ReviewNote).where(ReviewNote.enrolment_id.in_(ids))):
            note.text = _("[note supprimée : durée de conservation écoulée]")
        for decision in uow.session.scalars(select(Decision).where(Decision.enrolment_id.in_(ids))):
            decision.note = None
        uow.commit()
        count += len(enrolments)
        if progress is not None:  # `progress(n)`: a bar on the command line
            progress(len(enrolments))


# --- reminders -----------------------------------------------------------------------------------

AFTER_DECLARATION = "after_declaration"  # REMINDER_AFTER_DAYS after the declaration
BEFORE_EXPIRY = "before_expiry"  # REMINDER_BEFORE_EXPIRY_DAYS before the link dies
# Written as the partial indexes' own condition (model.REMINDABLE_SQL), not bound: the
# planners then see that the indexes cover the query.
_LIVE = text(REMINDABLE_SQL)


def _due_reminders(uow: UnitOfWork, stage: str, batch: int) -> list[Enrolment]:
    now = uow.now()
    settings = uow.settings
    if stage == AFTER_DECLARATION:
        # Not once she is within the last days: the second reminder is the one due then.
        condition = (
            text("reminders_sent = 0"),
            Enrolment.created_at <= now - dt.timedelta(days=settings.reminder_after_days),
            Enrolment.expires_at > now + dt.timedelta(days=settings.reminder_before_expiry_days),
        )
        order, index = Enrolment.created_at, "ix_enrolments_reminder_first"
    else:
        condition = (
            text("reminders_sent < 2"),
            Enrolment.expires_at > now,
            Enrolment.expires_at <= now + dt.timedelta(days=settings.reminder_before_expiry_days),
        )
        order, index = Enrolment.expires_at, "ix_enrolments_reminder_last"
    return uow.session.scalars(
        select(Enrolment)
        .where(_LIVE, *condition, Enrolment.email.is_not(None))
        .order_by(order, Enrolment.id)
        .limit(batch)
        .with_for_update(skip_locked=True)
        # SQLite, without statistics, would rather read every row of the state index.
        .with_hint(Enrolment, f"INDEXED BY {index}", "sqlite")
    ).all()


def send_reminders(uow: UnitOfWork, batch: int = 500, stop=None) -> int:
    """Remind every secretary whose link is live and who has not finished: once
    REMINDER_AFTER_DAYS after the declaration, once REMINDER_BEFORE_EXPIRY_DAYS before her
    link expires; never more than these two. Returns how many reminders were queued.

    Only the token's hash is stored, so each reminder carries a fresh link (the previous
    one dies); the expiry stays as it was and the professional's resends are not counted.
    `stop` (a threading.Event) ends the pass between two batches."""
    count = 0
    for stage in (BEFORE_EXPIRY, AFTER_DECLARATION):
        while not (stop is not None and stop.is_set()):
            due = _due_reminders(uow, stage, batch)
            if not due:
                break
            for enrolment in due:
                token = new_token()
                enrolment.token_hash = hash_token(token)
                enrolment.token_issued_at = uow.now()
                # The last one due counts for both: at most two in all.
                enrolment.reminders_sent = 2 if stage == BEFORE_EXPIRY else 1
                record_event(
                    uow,
                    enrolment,
                    "reminder_sent",
                    SYSTEM,
                    data={"stage": stage},
                    link=invitation_link(uow, token),
                )
            uow.commit()
            count += len(due)
    return count
