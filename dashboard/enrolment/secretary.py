"""The secretary's use cases, in the order of her path: her emailed link, the CGU, her
matricule, the identity LuxTrust returned, and "I used my own device".

She is known by the hash of her link's token (her session holds nothing else). Each step
checks that the previous one is done; a replayed step answers as the first time and never
moves the state twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import bindparam, func, select

from dashboard.enrolment import accounts, matricule
from dashboard.enrolment import identity as identity_mod
from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment.codes import LUXTRUST_DEVICES
from dashboard.enrolment.errors import IllegalTransition, InvalidLink
from dashboard.enrolment.kernel import (
    SYSTEM,
    Actor,
    hash_token,
    move,
    record_event,
    remember_language,
)
from dashboard.enrolment.model import Enrolment, Event, LuxTrustIdentity
from dashboard.enrolment.uow import UnitOfWork
from dashboard.i18n import gettext as _


def link_message(reason: str) -> str:
    """What she reads when her link can no longer be used, by reason."""
    messages = {
        "unknown": _(
            "Ce lien n'est pas valide ou a été remplacé par un lien plus récent. "
            "Utilisez le lien du dernier email reçu, ou demandez à votre médecin de vous "
            "renvoyer l'invitation."
        ),
        lc.EXPIRED: _(
            "Ce lien a expiré. Demandez à votre médecin de vous renvoyer une invitation "
            "ou d'effectuer une nouvelle déclaration."
        ),
        lc.CANCELLED: _(
            "Cette demande a été annulée par votre médecin. "
            "Contactez votre médecin si vous pensez qu'il s'agit d'une erreur."
        ),
        "superseded": _(
            "Cette demande a été remplacée par une nouvelle déclaration. "
            "Utilisez le lien du dernier email reçu."
        ),
        lc.LOCKED: _(
            "Cette demande est bloquée après trop de matricules erronés. Contactez votre "
            "médecin : une nouvelle déclaration devra être faite avec votre matricule."
        ),
        lc.ACCOUNT_CREATED: _(
            "Votre compte eSanté a déjà été créé. Connectez-vous au portail de l'Agence "
            "eSanté (www.esante.lu) avec votre dispositif LuxTrust."
        ),
        lc.PENDING_REVIEW: _(
            "Votre demande est en cours de vérification manuelle par notre équipe "
            "d'identito-vigilance. Vous serez notifiée du résultat par email."
        ),
        lc.REJECTED: _(
            "Votre demande n'a pas pu être acceptée. Vous en avez été informée par email ; "
            "contactez le médecin qui vous a déclarée pour une nouvelle déclaration."
        ),
    }
    return messages[reason]


# --- her link ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkStatus:
    enrolment_id: int
    state: str
    token_hash: str
    first_names: str | None
    expires_at: dt.datetime
    attempts_left: int = 0


# Read on every request of a secretary: built once (building cost more than running it).
_BY_TOKEN_HASH = select(Enrolment).where(Enrolment.token_hash == bindparam("token_hash"))


def _resolve_link(uow: UnitOfWork, token_hash: str) -> Enrolment:
    enrolment = uow.session.scalar(_BY_TOKEN_HASH, {"token_hash": token_hash})
    if enrolment is None:
        raise InvalidLink(link_message("unknown"), "unknown")
    if enrolment.superseded_by_id is not None:  # corrected, whatever state it kept
        raise InvalidLink(link_message("superseded"), "superseded")
    if enrolment.state in lc.TERMINAL or enrolment.state == lc.PENDING_REVIEW:
        raise InvalidLink(link_message(enrolment.state), enrolment.state)
    return enrolment


def _ensure_alive(uow: UnitOfWork, enrolment: Enrolment, actor: Actor) -> None:
    """Expire the enrolment if its time ran out; then refuse to go on."""
    if enrolment.state in lc.OPEN_FOR_SECRETARY and uow.now() >= enrolment.expires_at:
        move(uow, enrolment, lc.EXPIRED, "expired", actor)
        uow.commit()
        raise InvalidLink(link_message(lc.EXPIRED), lc.EXPIRED)


def _status(uow: UnitOfWork, enrolment: Enrolment, token_hash: str) -> LinkStatus:
    return LinkStatus(
        enrolment.id,
        enrolment.state,
        token_hash,
        enrolment.declared_first_names,
        enrolment.expires_at,
        uow.settings.max_matricule_attempts - (enrolment.wrong_matricule_count or 0),
    )


def check_invitation(uow: UnitOfWork, token: str) -> LinkStatus:
    """Read-only look at a link (safe for mail scanners' GETs): no write at all."""
    return _status_for_hash(uow, hash_token(token), write=False)


def session_status(uow: UnitOfWork, token_hash: str) -> LinkStatus:
    """The enrolment behind the secretary's session (which holds only the token hash)."""
    return _status_for_hash(uow, token_hash, write=True)


def _status_for_hash(uow: UnitOfWork, token_hash: str, *, write: bool) -> LinkStatus:
    enrolment = _resolve_link(uow, token_hash)
    if uow.now() >= enrolment.expires_at:
        if write:
            _ensure_alive(uow, enrolment, SYSTEM)
        raise InvalidLink(link_message(lc.EXPIRED), lc.EXPIRED)
    return _status(uow, enrolment, token_hash)


def open_invitation(uow: UnitOfWork, token_hash: str, language: str | None = None) -> LinkStatus:
    """Her explicit "start" on the link's page: records the first opening (funnel)."""
    enrolment = _resolve_link(uow, token_hash)
    actor = Actor("secretary", str(enrolment.id))
    _ensure_alive(uow, enrolment, actor)
    changed = remember_language(enrolment, language)
    opened = uow.session.scalar(
        select(func.count(Event.id)).where(
            Event.enrolment_id == enrolment.id, Event.action == "link_opened"
        )
    )
    if not opened:
        record_event(uow, enrolment, "link_opened", actor)
    if changed or not opened:
        uow.commit()
    return _status(uow, enrolment, token_hash)


def _secretary_enrolment(
    uow: UnitOfWork, token_hash: str, language: str | None = None
) -> tuple[Enrolment, Actor]:
    enrolment = _resolve_link(uow, token_hash)
    actor = Actor("secretary", str(enrolment.id))
    _ensure_alive(uow, enrolment, actor)
    remember_language(enrolment, language)
    return enrolment, actor


# --- the CGU ----------------------------------------------------------------------------------


def accept_cgu(
    uow: UnitOfWork, token_hash: str, cgu_version: str, language: str | None = None
) -> str:
    enrolment, actor = _secretary_enrolment(uow, token_hash, language)
    if lc.PROGRESS.get(enrolment.state, 0) >= lc.PROGRESS[lc.CGU_ACCEPTED]:
        return enrolment.state  # replayed: already accepted
    if cgu_version != uow.settings.cgu_version:
        raise IllegalTransition(
            _("Les conditions d'utilisation ont changé : relisez la version en vigueur.")
        )
    enrolment.cgu_version = cgu_version
    enrolment.cgu_accepted_at = uow.now()
    move(uow, enrolment, lc.CGU_ACCEPTED, "cgu_accepted", actor, {"cgu_version": cgu_version})
    uow.commit()
    return enrolment.state


# --- the matricule ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MatriculeResult:
    verified: bool
    attempts_left: int
    locked: bool = False
    message: str = ""


def verify_matricule(
    uow: UnitOfWork, token_hash: str, typed: str, language: str | None = None
) -> MatriculeResult:
    """Compare the typed matricule with the declared one.

    A badly formed matricule raises InvalidMatricule and costs no attempt; a well-formed
    but different one costs an attempt, and the last one locks the enrolment. The same
    wrong value sent again (a double click, a replayed request) gets the same answer and
    costs nothing more: it tells her, or anyone guessing, nothing new.
    """
    value = matricule.validate(typed)
    enrolment, actor = _secretary_enrolment(uow, token_hash, language)
    max_attempts = uow.settings.max_matricule_attempts
    if lc.PROGRESS.get(enrolment.state, 0) >= lc.PROGRESS[lc.MATRICULE_VERIFIED]:
        return MatriculeResult(True, max_attempts - enrolment.wrong_matricule_count)
    if enrolment.state != lc.CGU_ACCEPTED:
        raise IllegalTransition(_("Acceptez d'abord les conditions d'utilisation."))
    if secrets.compare_digest(value, enrolment.declared_matricule or ""):
        enrolment.matricule_verified_at = uow.now()
        move(uow, enrolment, lc.MATRICULE_VERIFIED, "matricule_verified", actor)
        uow.commit()
        return MatriculeResult(True, max_attempts - enrolment.wrong_matricule_count)
    if enrolment.last_wrong_matricule and any(
        hmac.compare_digest(digest, enrolment.last_wrong_matricule)
        for digest in _wrong_matricule_digests(uow, value)
    ):
        return _mismatch(max_attempts - enrolment.wrong_matricule_count)
    enrolment.last_wrong_matricule = _wrong_matricule_digests(uow, value)[0]
    enrolment.wrong_matricule_count += 1
    left = max_attempts - enrolment.wrong_matricule_count
    if left <= 0:
        # The event tells her and the professional (notifications.TABLE).
        move(
            uow,
            enrolment,
            lc.LOCKED,
            "locked",
            actor,
            {"attempts": enrolment.wrong_matricule_count},
        )
        uow.commit()
        return MatriculeResult(False, 0, locked=True, message=link_message(lc.LOCKED))
    record_event(
        uow,
        enrolment,
        "matricule_mismatch",
        actor,
        data={"attempt": enrolment.wrong_matricule_count},
    )
    enrolment.updated_at = uow.now()
    uow.commit()
    return _mismatch(left)


def _mismatch(left: int) -> MatriculeResult:
    return MatriculeResult(
        False,
        left,
        message=_(
            "Le matricule ne correspond pas à la déclaration. Vérifiez d'abord votre saisie. "
            "S'il est correct, veuillez contacter le médecin vous ayant déclarée : il devra "
            "effectuer une nouvelle déclaration avec votre matricule. "
            "Tentatives restantes : {left}.",
            left=left,
        ),
    )


def _wrong_matricule_digests(uow: UnitOfWork, value: str) -> list[str]:
    """The value's digest under SECRET_KEY (stored), then under each previous key: during a
    key rotation a replay still costs nothing. Keyed: thirteen digits of which eight are a
    birth date are easily enumerated."""
    keys = (uow.settings.secret_key, *uow.settings.secret_key_fallbacks)
    return [hmac.new(k.encode(), value.encode(), hashlib.sha256).hexdigest() for k in keys]


# --- LuxTrust ------------------------------------------------------------------------------------


def declared_identity(enrolment: Enrolment) -> identity_mod.Identity:
    return identity_mod.Identity(
        last_name=enrolment.declared_last_name or "",
        first_names=enrolment.declared_first_names or "",
        birth_date=matricule.birth_date(enrolment.declared_matricule)
        if enrolment.declared_matricule
        else None,
        matricule=enrolment.declared_matricule,
    )


def policy(uow: UnitOfWork) -> identity_mod.Policy:
    """IDENTITY_BLOCKING_KINDS, parsed at start-up."""
    return uow.settings.identity_policy


@dataclass(frozen=True)
class LuxTrustResult:
    state: str
    matches: bool
    comparison: identity_mod.Comparison | None = None
    account_id: int | None = None


def record_luxtrust_identity(
    uow: UnitOfWork,
    token_hash: str,
    observed: identity_mod.Identity,
    *,
    subject: str | None = None,
    device: str | None = None,
    language: str | None = None,
) -> LuxTrustResult:
    """Store the identity LuxTrust returned and compare it with the declaration.

    Match → the account is created at once; differences → identity_mismatch, where she
    is asked to confirm she used her own device.
    """
    enrolment, actor = _secretary_enrolment(uow, token_hash, language)
    if enrolment.state in (lc.IDENTITY_MISMATCH, lc.ACCOUNT_CREATED):
        return _luxtrust_result(enrolment)  # replayed callback
    if enrolment.state != lc.MATRICULE_VERIFIED:
        raise IllegalTransition(_("Vérifiez d'abord votre matricule."))
    comparison = identity_mod.compare(declared_identity(enrolment), observed, policy(uow))
    row = LuxTrustIdentity(
        enrolment_id=enrolment.id,
        subject=subject,
        last_name=observed.last_name or None,
        first_names=observed.first_names or None,
        birth_date=observed.birth_date,
        matricule=observed.matricule,
        device=device if device in LUXTRUST_DEVICES else None,
        matches=comparison.matches,
        comparison=comparison.to_dict(),
        received_at=uow.now(),
    )
    kinds = {f.field: f.kind for f in comparison.fields}
    for name, kind in kinds.items():
        setattr(row, f"{name}_kind", kind)
    uow.session.add(row)
    if comparison.matches:
        move(
            uow,
            enrolment,
            lc.ACCOUNT_CREATED,
            "account_created",
            actor,
            {"decision": "auto_match", "kinds": kinds, "device": row.device},
        )
        accounts.create_or_link(uow, enrolment, row, outcome="auto_match", reviewer_id=None)
    else:
        move(
            uow,
            enrolment,
            lc.IDENTITY_MISMATCH,
            "identity_mismatch",
            actor,
            {"kinds": kinds, "device": row.device},
        )
    uow.commit()
    return LuxTrustResult(enrolment.state, comparison.matches, comparison, enrolment.account_id)


def _luxtrust_result(enrolment: Enrolment) -> LuxTrustResult:
    latest = enrolment.latest_identity
    comparison = identity_mod.Comparison.from_dict(latest.comparison) if latest else None
    return LuxTrustResult(
        enrolment.state, enrolment.state == lc.ACCOUNT_CREATED, comparison, enrolment.account_id
    )


# --- her own device -----------------------------------------------------------------------------


def confirm_personal_device(
    uow: UnitOfWork, token_hash: str, confirmed: bool, language: str | None = None
) -> str:
    """Yes → the identity-vigilance queue; no → back to the LuxTrust step to retry."""
    enrolment = uow.session.scalar(_BY_TOKEN_HASH, {"token_hash": token_hash})
    if enrolment is not None and enrolment.state == lc.PENDING_REVIEW and confirmed:
        return enrolment.state  # replayed "yes"
    enrolment, actor = _secretary_enrolment(uow, token_hash, language)
    if enrolment.state != lc.IDENTITY_MISMATCH:
        if enrolment.state == lc.MATRICULE_VERIFIED and not confirmed:
            return enrolment.state  # replayed "no"
        raise IllegalTransition(_("Authentifiez-vous d'abord avec LuxTrust."))
    if confirmed:
        enrolment.device_confirmed_at = uow.now()
        # The event tells her that her case is being reviewed (notifications.TABLE).
        move(uow, enrolment, lc.PENDING_REVIEW, "device_confirmed", actor)
    else:
        move(uow, enrolment, lc.MATRICULE_VERIFIED, "device_not_confirmed", actor)
    uow.commit()
    return enrolment.state
