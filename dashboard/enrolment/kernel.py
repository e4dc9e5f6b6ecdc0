"""What every use case shares: who acts, invitation tokens, the audit event, and the one
state move.

`move` is the only place that changes `Enrolment.state` (the model refuses any other
change): it checks `lifecycle.TRANSITIONS`, writes the event, and `record_event` queues
whatever emails `notifications.TABLE` names for that event — all in the caller's unit of
work, so a state change, its event and its emails commit together or not at all.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import insert

from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment import notifications
from dashboard.enrolment.codes import EVENT_ACTIONS
from dashboard.enrolment.errors import ConcurrentUpdate, NotFound
from dashboard.enrolment.model import Enrolment, Event, state_move
from dashboard.enrolment.uow import UnitOfWork
from dashboard.i18n import LANGUAGES
from dashboard.i18n import gettext as _


@dataclass(frozen=True)
class Actor:
    """Who acts: kind is secretary, professional, staff, system or cli."""

    kind: str
    id: str | None = None

    @classmethod
    def system(cls) -> Actor:
        return cls("system")


SYSTEM = Actor.system()


# --- tokens ---------------------------------------------------------------------------------


def new_token() -> str:
    """An invitation token: 256 bits from `secrets`, URL-safe."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    # A plain SHA-256 suffices: the token has 256 bits of entropy, so no guessing attack.
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def invitation_link(uow: UnitOfWork, token: str) -> str:
    return f"{uow.settings.base_url}/enrolment/invitation/{token}"


# --- events and the state move -----------------------------------------------------------------

# Events are append-only and never used as objects once written: a plain insert, built once,
# written at once (no unit-of-work bookkeeping for the commonest write of every service).
_INSERT_EVENT = insert(Event.__table__)


def record_event(
    uow: UnitOfWork,
    enrolment: Enrolment | None,
    action: str,
    actor: Actor,
    *,
    before: str | None = None,
    after: str | None = None,
    data: dict | None = None,
    link: str | None = None,
) -> None:
    """Append the event; queue the emails the notification table names for it.

    `link` is the invitation link, for the events whose email carries one.
    """
    if action not in EVENT_ACTIONS:
        raise ValueError(f"unknown event action {action!r}: add it to codes.EventAction")
    state = enrolment.state if enrolment is not None else None
    uow.session.execute(
        _INSERT_EVENT,
        {
            "enrolment_id": enrolment.id if enrolment is not None else None,
            "action": action,
            "actor_type": actor.kind,
            "actor_id": actor.id,
            "state_before": before if before is not None else state,
            "state_after": after if after is not None else state,
            "data": data,
            "created_at": uow.now(),
        },
    )
    if enrolment is not None:
        notifications.notify(uow, action, enrolment, link=link, data=data)


def move(
    uow: UnitOfWork,
    enrolment: Enrolment,
    target: str,
    action: str,
    actor: Actor,
    data: dict | None = None,
) -> None:
    """The only place that changes `Enrolment.state`: checks the table, writes the event."""
    source = enrolment.state
    lc.check(source, target)
    with state_move(enrolment):
        enrolment.state = target
    enrolment.updated_at = uow.now()
    # Write now: a colleague's concurrent change surfaces here as ConcurrentUpdate (the
    # optimistic version check), whatever the database's locking.
    uow.flush()
    record_event(uow, enrolment, action, actor, before=source, after=target, data=data)


# --- loading ------------------------------------------------------------------------------------


def get_enrolment(uow: UnitOfWork, enrolment_id: int, *, for_update: bool = False) -> Enrolment:
    enrolment = uow.session.get(Enrolment, enrolment_id, with_for_update=for_update)
    if enrolment is None:
        raise NotFound(_("Cette demande n'existe pas."))
    return enrolment


def remember_language(holder, language: str | None) -> bool:
    """Emails go out in the language their reader last used: keep it (True if changed)."""
    if language in LANGUAGES and holder.language != language:
        holder.language = language
        return True
    return False


def raise_concurrent():
    raise ConcurrentUpdate(
        _("Ce dossier vient d'être modifié par un(e) collègue. Rechargez-le avant de décider.")
    )
