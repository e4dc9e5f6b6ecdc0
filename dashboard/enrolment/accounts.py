"""The secretary's eSanté account: created once per person, linked to every professional
who declared her, and what she sees of it ("Mon compte").
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import bindparam, select

from dashboard.enrolment import provisioning
from dashboard.enrolment.errors import NotFound
from dashboard.enrolment.kernel import SYSTEM, record_event
from dashboard.enrolment.model import (
    AccountLink,
    Decision,
    Enrolment,
    LuxTrustIdentity,
    SecretaryAccount,
)
from dashboard.enrolment.uow import UnitOfWork
from dashboard.i18n import gettext as _


def create_or_link(
    uow: UnitOfWork,
    enrolment: Enrolment,
    observed: LuxTrustIdentity,
    *,
    outcome: str,
    reviewer_id: int | None,
    decision: Decision | None = None,
) -> SecretaryAccount:
    """One account per person: a second professional's declaration links, never duplicates.

    Called in the transaction that moved the enrolment to account_created (automatic match
    or approval); `decision` is the confirmed four-eyes proposal, if any.
    """
    now = uow.now()
    account = uow.session.scalar(
        select(SecretaryAccount).where(SecretaryAccount.matricule == enrolment.declared_matricule)
    )
    created = account is None
    if created:
        account = SecretaryAccount(
            directory_id=str(uuid.uuid4()),
            matricule=enrolment.declared_matricule,
            last_name=observed.last_name or enrolment.declared_last_name,
            first_names=observed.first_names or enrolment.declared_first_names,
            birth_date=observed.birth_date,
            email=enrolment.email,
            luxtrust_subject=observed.subject,
            status="active",
            created_at=now,
        )
        uow.session.add(account)
        uow.session.flush()
    else:
        if observed.subject and not account.luxtrust_subject:
            account.luxtrust_subject = observed.subject
        if account.status != "active":
            # Her last link had ended (links.py): a new declaration gives the account back,
            # the same one, with its history.
            account.status = "active"
            record_event(
                uow, enrolment, "account_reactivated", SYSTEM, data={"account_id": account.id}
            )
    if open_link(uow, account.id, enrolment.professional_id) is None:
        uow.session.add(
            AccountLink(
                account_id=account.id,
                professional_id=enrolment.professional_id,
                enrolment_id=enrolment.id,
                linked_at=now,
            )
        )
    enrolment.account_id = account.id
    enrolment.decision = outcome
    enrolment.decided_at = now
    if decision is None:
        uow.session.add(
            Decision(
                enrolment_id=enrolment.id,
                outcome=outcome,
                reviewer_id=reviewer_id,
                status="final",
                created_at=now,
            )
        )
    action = "account_opened" if created else "account_linked"
    record_event(uow, enrolment, action, SYSTEM, data={"account_id": account.id})
    # The identity platform is told in the same transaction (provisioning outbox).
    provisioning.request(uow, account, action, enrolment_id=enrolment.id)
    return account


# An account's open link to a professional (built once: read at every account decision).
_OPEN_LINK = select(AccountLink).where(
    AccountLink.account_id == bindparam("account_id"),
    AccountLink.professional_id == bindparam("professional_id"),
    AccountLink.ended_at.is_(None),
)


def open_link(uow: UnitOfWork, account_id: int, professional_id: int) -> AccountLink | None:
    return uow.session.scalar(
        _OPEN_LINK, {"account_id": account_id, "professional_id": professional_id}
    )


# --- "Mon compte" ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountOverview:
    account_id: int
    first_names: str | None
    last_name: str | None
    status: str
    created_at: dt.datetime
    professionals: tuple[str, ...]


def find_account(uow: UnitOfWork, subject: str | None, matricule_claim: str | None) -> int | None:
    """The account of whoever just logged in with LuxTrust (by subject, else matricule)."""
    if subject:
        found = uow.session.scalar(
            select(SecretaryAccount.id).where(SecretaryAccount.luxtrust_subject == subject)
        )
        if found:
            return found
    if matricule_claim:
        return uow.session.scalar(
            select(SecretaryAccount.id).where(SecretaryAccount.matricule == matricule_claim)
        )
    return None


def account_overview(uow: UnitOfWork, account_id: int) -> AccountOverview:
    account = uow.session.get(SecretaryAccount, account_id)
    if account is None:
        raise NotFound(_("Ce compte n'existe pas."))
    professionals = tuple(sorted(link.professional.display_name for link in account.active_links))
    return AccountOverview(
        account.id,
        account.first_names,
        account.last_name,
        account.status,
        account.created_at,
        professionals,
    )
