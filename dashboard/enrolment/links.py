"""The end of access (leaver): a secretary's link to a professional ends.

The professional ends the links to his practice, the secretary her own, an admin any; when
the professional himself is deactivated every link of his ends. Each end keeps the link row
(history: who, when, why), writes a `link_ended` event on the link's enrolment (the
notification table emails both people), deactivates the account when no link remains, and
asks the identity platform to follow (provisioning outbox, same transaction: the
membership goes, and the SCIM User becomes inactive with the last link). A later
declaration links the same account again and reactivates it (accounts.create_or_link).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, or_, select

from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment import provisioning
from dashboard.enrolment.codes import LINK_END_REASONS, EventAction, LinkEndReason
from dashboard.enrolment.errors import Forbidden, NotFound, ValidationFailed
from dashboard.enrolment.kernel import Actor, move, record_event
from dashboard.enrolment.model import AccountLink, Enrolment, Professional, SecretaryAccount
from dashboard.enrolment.text import clean_note
from dashboard.enrolment.uow import UnitOfWork
from dashboard.i18n import gettext as _

PROFESSIONAL, SECRETARY, STAFF = "professional", "secretary", "staff"  # Actor.kind


@dataclass(frozen=True)
class LinkEnded:
    link_id: int
    account_id: int
    account_active: bool  # False: that was her last link, the account is deactivated


def _ended_by(actor: Actor) -> str:
    return {PROFESSIONAL: "professional", SECRETARY: "secretary"}.get(actor.kind, "admin")


def _allowed(actor: Actor, link: AccountLink, *, admin: bool) -> bool:
    if actor.kind == PROFESSIONAL:
        return str(link.professional_id) == str(actor.id)
    if actor.kind == SECRETARY:
        return str(link.account_id) == str(actor.id)
    # Staff: the caller checked the admin role (staff.require_admin) and says so.
    return actor.kind == STAFF and admin or actor.kind in ("system", "cli")


def end_link(
    uow: UnitOfWork,
    link_id: int,
    actor: Actor,
    reason: str,
    note: str | None = None,
    *,
    admin: bool = False,
) -> LinkEnded:
    """End one open link. `actor`: the professional (his links), the secretary (hers: her
    account id), an admin (`admin=True`, any link), or the system/CLI."""
    if reason not in LINK_END_REASONS:
        raise ValidationFailed({"reason": _("Choisissez le motif de la fin de l'accès.")})
    cleaned_note = clean_note(note, "note", required=False) or None
    link = uow.session.get(AccountLink, link_id, with_for_update=True)
    if link is None or not _allowed(actor, link, admin=admin):
        # The same answer for a link that does not exist and one that is not yours.
        raise NotFound(_("Cet accès n'existe pas ou ne vous concerne pas."))
    if link.ended_at is not None:
        raise Forbidden(_("Cet accès a déjà pris fin."))
    return _end(uow, link, actor, reason, cleaned_note)


def _end(
    uow: UnitOfWork, link: AccountLink, actor: Actor, reason: str, note: str | None
) -> LinkEnded:
    now = uow.now()
    link.ended_at = now
    link.end_reason = reason
    link.end_note = note
    link.ended_by_type = actor.kind
    link.ended_by_id = None if actor.id is None else str(actor.id)
    uow.session.flush()
    account = link.account
    still_active = bool(account.active_links)
    data = {
        "account_id": account.id,
        "link_id": link.id,
        "professional_id": link.professional_id,
        "reason_code": reason,
        "ended_by": _ended_by(actor),
        "still_active": still_active,
    }
    enrolment = uow.session.get(Enrolment, link.enrolment_id) if link.enrolment_id else None
    record_event(uow, enrolment, EventAction.LINK_ENDED, actor, data=data)
    if not still_active and account.status == "active":
        account.status = "inactive"
        record_event(
            uow, enrolment, EventAction.ACCOUNT_DEACTIVATED, actor, data={"account_id": account.id}
        )
    provisioning.request(uow, account, EventAction.LINK_ENDED)
    return LinkEnded(link.id, account.id, still_active)


def deactivate_professional(
    uow: UnitOfWork, professional_id: int, actor: Actor, reason: str | None = None
) -> int:
    """The professional stops (retires, leaves): his account is disabled — he can no longer
    log in or declare —, every open link of his ends and the invitations still open are
    cancelled (a case in review stays, and cannot be approved: decisions.approve).
    Returns how many links ended."""
    prof = uow.session.get(Professional, professional_id, with_for_update=True)
    if prof is None:
        raise NotFound(_("Ce professionnel n'existe pas."))
    if not prof.active:
        raise Forbidden(_("Ce professionnel est déjà désactivé."))
    prof.active = False
    links = uow.session.scalars(
        select(AccountLink)
        .where(AccountLink.professional_id == prof.id, AccountLink.ended_at.is_(None))
        .order_by(AccountLink.id)
        .with_for_update()
    ).all()
    for link in links:
        _end(uow, link, actor, reason or LinkEndReason.PROFESSIONAL_DEACTIVATED, None)
    invitations = uow.session.scalars(
        select(Enrolment)
        .where(
            Enrolment.professional_id == prof.id,
            Enrolment.state.in_(lc.OPEN_FOR_SECRETARY),
        )
        .order_by(Enrolment.id)
        .with_for_update()
    ).all()
    for enrolment in invitations:
        move(uow, enrolment, lc.CANCELLED, "cancelled", actor)
    record_event(
        uow,
        None,
        EventAction.PROFESSIONAL_DEACTIVATED,
        actor,
        data={
            "professional_id": prof.id,
            "links_ended": len(links),
            "declarations_cancelled": len(invitations),
        },
    )
    return len(links)


def professional_by_code(uow: UnitOfWork, code: str) -> int:
    found = uow.session.scalar(select(Professional.id).where(Professional.code == code))
    if found is None:
        raise NotFound(_("Aucun professionnel n'a ce code."))
    return found


# --- the lists ("Mes secrétaires", "Mon compte") ----------------------------------------------


@dataclass(frozen=True)
class LinkRow:
    link_id: int
    person: str  # the secretary's name (professional's list) or the professional's (hers)
    linked_at: dt.datetime
    ended_at: dt.datetime | None
    end_reason: str | None
    ended_by: str | None = None  # Actor.kind of who ended it


def _row(link: AccountLink, person: str) -> LinkRow:
    return LinkRow(
        link.id, person, link.linked_at, link.ended_at, link.end_reason, link.ended_by_type
    )


def _secretary_name(account: SecretaryAccount) -> str:
    return f"{account.first_names or ''} {account.last_name or ''}".strip()


def professional_links(uow: UnitOfWork, professional_id: int) -> list[LinkRow]:
    """His secretaries, open links first (newest first), then the ended ones."""
    rows = uow.session.execute(
        select(AccountLink, SecretaryAccount)
        .join(SecretaryAccount, SecretaryAccount.id == AccountLink.account_id)
        .where(AccountLink.professional_id == professional_id)
        .order_by(AccountLink.ended_at.is_not(None), AccountLink.linked_at.desc())
    ).all()
    return [_row(link, _secretary_name(account)) for link, account in rows]


def account_links(uow: UnitOfWork, account_id: int) -> list[LinkRow]:
    """Her professionals, open links first."""
    rows = uow.session.execute(
        select(AccountLink, Professional)
        .join(Professional, Professional.id == AccountLink.professional_id)
        .where(AccountLink.account_id == account_id)
        .order_by(AccountLink.ended_at.is_not(None), AccountLink.linked_at.desc())
    ).all()
    return [_row(link, prof.display_name) for link, prof in rows]


def link_to_end(uow: UnitOfWork, link_id: int, actor: Actor, *, admin: bool = False) -> LinkRow:
    """The open link a confirmation names (the secretary's name for a professional or an
    admin, the professional's for her); the same refusal as `end_link` otherwise."""
    link = uow.session.get(AccountLink, link_id)
    if link is None or not _allowed(actor, link, admin=admin):
        raise NotFound(_("Cet accès n'existe pas ou ne vous concerne pas."))
    if link.ended_at is not None:
        raise Forbidden(_("Cet accès a déjà pris fin."))
    if actor.kind == SECRETARY:
        return _row(link, link.professional.display_name)
    return _row(link, _secretary_name(link.account))


# --- the admin's search ------------------------------------------------------------------------


@dataclass(frozen=True)
class ProfessionalRow:
    professional_id: int
    code: str | None
    name: str
    active: bool
    open_links: int


def find_professionals(uow: UnitOfWork, query: str, limit: int = 20) -> list[ProfessionalRow]:
    """Professionals whose code is `query` or whose name contains it (admins only: the
    caller checked the role)."""
    text = " ".join((query or "").split())[:100]
    if not text:
        return []
    open_links = (
        select(func.count())
        .where(AccountLink.professional_id == Professional.id, AccountLink.ended_at.is_(None))
        .scalar_subquery()
    )
    full_name = func.lower(Professional.first_names + " " + Professional.last_name)
    rows = uow.session.execute(
        select(Professional, open_links)
        .where(
            or_(
                func.lower(Professional.code) == text.lower(),
                full_name.contains(text.lower(), autoescape=True),
            )
        )
        .order_by(Professional.last_name, Professional.first_names, Professional.id)
        .limit(limit)
    ).all()
    return [
        ProfessionalRow(prof.id, prof.code, prof.display_name, prof.active, count)
        for prof, count in rows
    ]


def professional_row(uow: UnitOfWork, professional_id: int) -> ProfessionalRow:
    prof = uow.session.get(Professional, professional_id)
    if prof is None:
        raise NotFound(_("Ce professionnel n'existe pas."))
    count = uow.session.scalar(
        select(func.count()).where(
            AccountLink.professional_id == prof.id, AccountLink.ended_at.is_(None)
        )
    )
    return ProfessionalRow(prof.id, prof.code, prof.display_name, prof.active, count or 0)
