"""Who is told what: one table from an event to the emails it sends.

`kernel.record_event` reads `TABLE` for every event it writes about an enrolment and queues
each listed email in the same transaction (the transactional outbox of `mail`). Adding an
email is a row here plus its templates in data/emails/ (fr, de, en; .txt and .html).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from babel.dates import format_date

from dashboard.enrolment import mail
from dashboard.enrolment.model import Enrolment
from dashboard.enrolment.uow import UnitOfWork
from dashboard.i18n import DATE_LOCALES

SECRETARY = "secretary"  # the declared person, at the declared address, in her language
PROFESSIONAL = "professional"  # the declaring professional, in his language


# --- what each email is told (its template context) ------------------------------------------


def _names(e: Enrolment) -> dict:
    return {"first_names": e.declared_first_names, "last_name": e.declared_last_name}


def _with_professional(e: Enrolment) -> dict:
    return {**_names(e), "professional": e.professional.display_name}


def _invitation(e: Enrolment) -> dict:
    return {
        **_with_professional(e),
        "expires_on": format_date(
            e.expires_at.date(), format="long", locale=DATE_LOCALES.get(e.language, "fr_LU")
        ),
    }


def _locked(e: Enrolment) -> dict:
    return {**_with_professional(e), "attempts": e.wrong_matricule_count}


def _rejected(e: Enrolment) -> dict:
    return {**_with_professional(e), "reason_code": e.reason_code}


# What a link's end tells (links.end_link writes these in the event's data).
LINK_END_DATA = ("reason_code", "ended_by", "still_active")


@dataclass(frozen=True)
class Notice:
    template: str
    to: str  # SECRETARY or PROFESSIONAL
    context: Callable[[Enrolment], dict]
    with_link: bool = False  # carries the invitation link (sealed in the outbox)
    event_data: tuple[str, ...] = ()  # keys of the event's data the email is also told
    when: Callable[[Enrolment], bool] | None = None  # sent only if this says so


def _decided_automatically(e: Enrolment) -> bool:
    return e.decision == "auto_match"


def _approved_by_reviewer(e: Enrolment) -> bool:
    return e.decision != "auto_match"


# --- the table ----------------------------------------------------------------------------------

TABLE: dict[str, tuple[Notice, ...]] = {
    # The declaration and every new link: the invitation, in the professional's language.
    "declared": (Notice("invitation", SECRETARY, _invitation, with_link=True),),
    "invitation_resent": (Notice("invitation", SECRETARY, _invitation, with_link=True),),
    # Too many wrong matricules: she and the professional (who must declare again).
    "locked": (
        Notice("locked", SECRETARY, _locked),
        Notice("professional_locked", PROFESSIONAL, _locked),
    ),
    # Her own device confirmed: her case goes to the identity-vigilance team.
    "device_confirmed": (Notice("pending_review", SECRETARY, _names),),
    # The account, once the identity platform confirmed it (provisioning.deliver_due): "you
    # can log in" must be true. Her email says how it was decided (a match, or a reviewer).
    "account_provisioned": (
        Notice("account_created", SECRETARY, _with_professional, when=_decided_automatically),
        Notice("approved", SECRETARY, _with_professional, when=_approved_by_reviewer),
        Notice("professional_account_created", PROFESSIONAL, _with_professional),
    ),
    # A rejection: she, and the professional, who may have to declare again.
    "rejected": (
        Notice("rejected", SECRETARY, _rejected),
        Notice("professional_rejected", PROFESSIONAL, _rejected),
    ),
    # Her access to a professional ended (links.end_link): both are told who ended it, why,
    # and she whether her account stays active. The event is written on the link's enrolment.
    "link_ended": (
        Notice("link_ended", SECRETARY, _with_professional, event_data=LINK_END_DATA),
        Notice(
            "professional_link_ended", PROFESSIONAL, _with_professional, event_data=LINK_END_DATA
        ),
    ),
    # --- the background worker's (issue 21) ---
    # A reminder to the secretary who has not finished: a fresh link, the same expiry.
    "reminder_sent": (Notice("reminder", SECRETARY, _invitation, with_link=True),),
    # Her link died unused: the professional may send a new one from "Mes déclarations".
    "expired": (Notice("professional_expired", PROFESSIONAL, _with_professional),),
}


def notify(
    uow: UnitOfWork,
    action: str,
    enrolment: Enrolment,
    *,
    link: str | None = None,
    data: dict | None = None,
):
    """Queue the emails of `TABLE[action]` (none for most events); `data` is the event's."""
    for notice in TABLE.get(action, ()):
        if notice.when is not None and not notice.when(enrolment):
            continue
        if notice.with_link and link is None:
            raise ValueError(f"the {notice.template!r} email of {action!r} needs its link")
        if notice.to == SECRETARY:
            recipient, language = enrolment.email, enrolment.language
        else:
            recipient, language = enrolment.professional.email, enrolment.professional.language
        mail.queue(
            uow,
            notice.template,
            recipient,
            {
                **notice.context(enrolment),
                **{k: (data or {}).get(k) for k in notice.event_data},
            },
            enrolment_id=enrolment.id,
            language=language,
            link=link if notice.with_link else None,
        )
