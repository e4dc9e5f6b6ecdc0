"""The enrolment service: one function per step of the lifecycle.

Every function takes a `UnitOfWork`, checks its input and the transition, writes the new
state, an event and any outbox email, and commits once. A domain error raised before the
commit leaves the database unchanged. The secretary pages, the professional pages, the
back-office and the command line all call these functions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field

from babel.dates import format_date
from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.orm.attributes import flag_modified

from dashboard.enrolment import identity as identity_mod
from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment import mail, matricule
from dashboard.enrolment import text as typed
from dashboard.enrolment.errors import (
    ConcurrentUpdate,
    DomainError,
    DuplicateDeclaration,
    Forbidden,
    IllegalTransition,
    InvalidLink,
    LimitReached,
    NotFound,
    ValidationFailed,
)
from dashboard.enrolment.model import (
    AccountLink,
    Decision,
    Enrolment,
    Event,
    LuxTrustIdentity,
    Professional,
    ReviewNote,
    SecretaryAccount,
    StaffRole,
    StaffUser,
)
from dashboard.enrolment.uow import UnitOfWork
from dashboard.i18n import DATE_LOCALES, LANGUAGES
from dashboard.i18n import gettext as _

REJECTION_REASONS = (
    "identity_not_established",
    "not_declared_person",
    "suspected_fraud",
    "declaration_error",
)
LUXTRUST_DEVICES = ("mobile", "scan", "smartcard", "signing_stick", "eid")
EMAIL_RE = re.compile(
    r"^[^@\s<>\"',;]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$"
)
PHONE_RE = re.compile(r"^\+?[0-9 ./()-]{6,20}$")
NAME_MAX = 200


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


# --- helpers --------------------------------------------------------------------------------


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
) -> None:
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


def _move(
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
    enrolment.state = target
    enrolment.updated_at = uow.now()
    # Write now: a colleague's concurrent change surfaces here as ConcurrentUpdate (the
    # optimistic version check), whatever the database's locking.
    uow.flush()
    record_event(uow, enrolment, action, actor, before=source, after=target, data=data)


def _get(uow: UnitOfWork, enrolment_id: int, *, for_update: bool = False) -> Enrolment:
    enrolment = uow.session.get(Enrolment, enrolment_id, with_for_update=for_update)
    if enrolment is None:
        raise NotFound(_("Cette demande n'existe pas."))
    return enrolment


def _ensure_alive(uow: UnitOfWork, enrolment: Enrolment, actor: Actor) -> None:
    """Expire the enrolment if its time ran out; then refuse to go on."""
    if enrolment.state in lc.OPEN_FOR_SECRETARY and uow.now() >= enrolment.expires_at:
        _move(uow, enrolment, lc.EXPIRED, "expired", actor)
        uow.commit()
        raise InvalidLink(_link_message(lc.EXPIRED), lc.EXPIRED)


def _clean_name(value: str | None, field_name: str, label: str, errors: dict) -> str:
    text = " ".join((value or "").split())
    if not text:
        errors[field_name] = _("Le champ « {label} » est obligatoire.", label=label)
    elif len(text) > NAME_MAX:
        errors[field_name] = _(
            "Le champ « {label} » ne peut dépasser {n} caractères.", label=label, n=NAME_MAX
        )
    elif typed.has_forbidden(text):
        errors[field_name] = _(
            "Le champ « {label} » contient des caractères non admis.", label=label
        )
    elif not any(c.isalpha() for c in text):
        errors[field_name] = _("Le champ « {label} » doit contenir des lettres.", label=label)
    return text


def clean_email(value: str | None, errors: dict, field_name: str = "email") -> str:
    text = (value or "").strip()
    if not text:
        errors[field_name] = _("L'adresse email est obligatoire.")
    elif len(text) > 254 or not EMAIL_RE.match(text) or typed.has_forbidden(text):
        errors[field_name] = _(
            "L'adresse email n'est pas valide (exemple : prenom.nom@exemple.lu)."
        )
    return text.lower()


def validate_declaration(
    last_name: str | None,
    first_names: str | None,
    matricule_text: str | None,
    email: str | None,
    phone: str | None = None,
) -> dict:
    """Check every field at once; raise ValidationFailed listing each bad field."""
    errors: dict[str, str] = {}
    cleaned = {
        "last_name": _clean_name(last_name, "last_name", _("Nom"), errors),
        "first_names": _clean_name(first_names, "first_names", _("Prénom(s)"), errors),
        "email": clean_email(email, errors),
        "phone": (phone or "").strip() or None,
    }
    try:
        cleaned["matricule"] = matricule.validate(matricule_text or "")
    except matricule.InvalidMatricule as exc:
        errors["matricule"] = str(exc)
    if cleaned["phone"] and not PHONE_RE.match(cleaned["phone"]):
        errors["phone"] = _("Le numéro de téléphone n'est pas valide (exemple : +352 621 123 456).")
    if errors:
        raise ValidationFailed(errors)
    return cleaned


# --- declaration ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Declared:
    enrolment_id: int
    token: str
    superseded_id: int | None = None


def _queue_invitation(uow: UnitOfWork, enrolment: Enrolment, token: str) -> None:
    prof = enrolment.professional
    mail.queue(
        uow,
        "invitation",
        enrolment.email,
        {
            "first_names": enrolment.declared_first_names,
            "last_name": enrolment.declared_last_name,
            "professional": prof.display_name,
            "expires_on": format_date(
                enrolment.expires_at.date(),
                format="long",
                locale=DATE_LOCALES.get(enrolment.language, "fr_LU"),
            ),
        },
        enrolment_id=enrolment.id,
        language=enrolment.language,
        link=invitation_link(uow, token),
    )


def declare(
    uow: UnitOfWork,
    professional_id: int,
    *,
    last_name: str,
    first_names: str,
    matricule: str,
    email: str,
    phone: str | None = None,
    language: str | None = None,  # None: the professional's own
    if_open: str = "supersede",
    actor: Actor | None = None,
) -> Declared:
    """Store a declaration and queue the invitation email.

    An open declaration by the same professional for the same matricule is superseded
    (`if_open="supersede"`) or refused with DuplicateDeclaration (`if_open="refuse"`).
    """
    result = _declare(
        uow,
        professional_id,
        dict(
            last_name=last_name,
            first_names=first_names,
            matricule=matricule,
            email=email,
            phone=phone,
        ),
        language=language,
        if_open=if_open,
        actor=actor,
        # He declared in this language (not an import or a colleague's declaration).
        remember_language=actor is None or actor.kind == "professional",
    )
    uow.commit()
    return result


def declare_many(
    uow: UnitOfWork,
    professional_id: int,
    rows: list[dict],
    *,
    if_open: str = "supersede",
    actor: Actor | None = None,
) -> list[Declared]:
    """Several declarations in one transaction: all are stored, or none (e.g. a CSV file)."""
    results = []
    for index, row in enumerate(rows):
        try:
            results.append(
                _declare(uow, professional_id, row, language=None, if_open=if_open, actor=actor)
            )
        except DomainError as exc:
            exc.details["row"] = index  # which row was refused; nothing is committed
            raise
    uow.commit()
    return results


# The professional's open declarations for a matricule, locked (built once: hot path).
_OPEN_DECLARATIONS = (
    select(Enrolment)
    .where(
        Enrolment.professional_id == bindparam("professional_id"),
        Enrolment.declared_matricule == bindparam("matricule"),
        Enrolment.state.in_(lc.OPEN),
    )
    .with_for_update()
)


def _declare(
    uow: UnitOfWork,
    professional_id: int,
    row: dict,
    *,
    language: str | None,
    if_open: str,
    actor: Actor | None,
    remember_language: bool = False,
) -> Declared:
    data = validate_declaration(
        row.get("last_name"),
        row.get("first_names"),
        row.get("matricule"),
        row.get("email"),
        row.get("phone"),
    )
    # Lock the professional's row: two simultaneous submissions of the same declaration
    # then run one after the other, and the second sees the first (no duplicate).
    prof = uow.session.get(Professional, professional_id, with_for_update=True)
    if prof is None or not prof.active:
        raise NotFound(_("Professionnel de santé inconnu ou inactif."))
    if remember_language:
        _remember_language(prof, language)
    # The invitation goes out in the declaring professional's language.
    language = language if language in LANGUAGES else prof.language
    actor = actor or Actor("professional", str(professional_id))
    now = uow.now()
    open_ones = uow.session.scalars(
        _OPEN_DECLARATIONS, {"professional_id": professional_id, "matricule": data["matricule"]}
    ).all()
    if open_ones and if_open == "refuse":
        raise DuplicateDeclaration(
            _(
                "Vous avez déjà une déclaration en cours pour ce matricule. "
                "Renvoyez l'invitation ou corrigez la déclaration existante."
            ),
            enrolment_id=open_ones[0].id,
        )
    for old in open_ones:
        if old.state == lc.PENDING_REVIEW:
            # A case already with the identity-vigilance team is theirs to decide.
            raise DuplicateDeclaration(
                _(
                    "Une vérification manuelle est en cours pour ce matricule ; "
                    "attendez sa conclusion avant de déclarer à nouveau."
                ),
                enrolment_id=old.id,
            )
    token = new_token()
    enrolment = Enrolment(
        professional_id=professional_id,
        declared_last_name=data["last_name"],
        declared_first_names=data["first_names"],
        declared_matricule=data["matricule"],
        email=data["email"],
        phone=data["phone"],
        language=language,
        state=lc.DECLARED,
        wrong_matricule_count=0,
        token_hash=hash_token(token),
        token_issued_at=now,
        expires_at=now + dt.timedelta(days=uow.settings.invitation_days),
        created_at=now,
        updated_at=now,
    )
    uow.session.add(enrolment)
    uow.session.flush()
    record_event(uow, enrolment, "declared", actor, before="", after=lc.DECLARED)
    superseded_id = None
    for old in open_ones:
        old.superseded_by_id = enrolment.id
        _move(uow, old, lc.CANCELLED, "superseded", actor, {"superseded_by": enrolment.id})
        superseded_id = old.id
    _queue_invitation(uow, enrolment, token)
    return Declared(enrolment.id, token, superseded_id)


# What a professional may correct by a new declaration (the guide's remedy).
CORRECTABLE = lc.OPEN_FOR_SECRETARY | {lc.LOCKED, lc.EXPIRED, lc.REJECTED}


def redeclare(
    uow: UnitOfWork,
    enrolment_id: int,
    professional_id: int,
    *,
    last_name: str,
    first_names: str,
    matricule: str,
    email: str,
    phone: str | None = None,
    language: str | None = None,
) -> Declared:
    """The guide's remedy for a wrong matricule: a corrected declaration superseding the old.

    One transaction: the new declaration, the old one cancelled as superseded, the email.
    """
    old = _get_owned(uow, enrolment_id, professional_id)
    if old.superseded_by_id is not None:
        raise IllegalTransition(_("Cette déclaration a déjà été corrigée."))
    if old.state not in CORRECTABLE:
        raise IllegalTransition(
            _(
                "Cette déclaration ne peut plus être corrigée ({state}).",
                state=lc.state_label(old.state),
            )
        )
    actor = Actor("professional", str(professional_id))
    result = _declare(
        uow,
        professional_id,
        dict(
            last_name=last_name,
            first_names=first_names,
            matricule=matricule,
            email=email,
            phone=phone,
        ),
        language=language if language in LANGUAGES else old.language,
        if_open="supersede",
        actor=actor,
    )
    if old.state in lc.OPEN_FOR_SECRETARY:
        # Same matricule: _declare already superseded it; another one: supersede it here.
        _move(uow, old, lc.CANCELLED, "superseded", actor, {"superseded_by": result.enrolment_id})
    # Locked, expired or rejected ones keep their state but point to their correction.
    old.superseded_by_id = result.enrolment_id
    record_event(uow, old, "redeclared", actor, data={"new_enrolment": result.enrolment_id})
    uow.commit()
    return Declared(result.enrolment_id, result.token, enrolment_id)


@dataclass(frozen=True)
class DeclarationRow:
    """One of a professional's declarations, as his "my declarations" page lists it."""

    enrolment_id: int
    last_name: str | None
    first_names: str | None
    matricule: str | None
    email: str | None
    phone: str | None
    state: str
    state_label: str
    declared_at: dt.datetime
    updated_at: dt.datetime
    expires_at: dt.datetime
    can_resend: bool
    can_cancel: bool
    can_redeclare: bool


def _declaration_row(e: Enrolment, now: dt.datetime) -> DeclarationRow:
    # An invitation past its date is expired for him even before the nightly `expire` runs.
    state = lc.EXPIRED if e.state in lc.OPEN_FOR_SECRETARY and e.expires_at <= now else e.state
    corrected = e.superseded_by_id is not None
    label = lc.state_label(state)
    if corrected and state != lc.CANCELLED:
        label = _("{state} — corrigée par une nouvelle déclaration", state=label)
    return DeclarationRow(
        e.id,
        e.declared_last_name,
        e.declared_first_names,
        e.declared_matricule,
        e.email,
        e.phone,
        state,
        label,
        e.created_at,
        e.updated_at,
        e.expires_at,
        can_resend=state in lc.OPEN_FOR_SECRETARY,
        can_cancel=state in lc.OPEN_FOR_SECRETARY,
        can_redeclare=state in CORRECTABLE and not corrected,
    )


def list_declarations(
    uow: UnitOfWork, professional_id: int, limit: int = 500
) -> list[DeclarationRow]:
    """His own declarations only, newest first."""
    rows = uow.session.scalars(
        select(Enrolment)
        .where(Enrolment.professional_id == professional_id)
        .order_by(Enrolment.created_at.desc(), Enrolment.id.desc())
        .limit(limit)
    ).all()
    now = uow.now()
    return [_declaration_row(e, now) for e in rows]


def get_declaration(uow: UnitOfWork, enrolment_id: int, professional_id: int) -> DeclarationRow:
    return _declaration_row(_get_owned(uow, enrolment_id, professional_id), uow.now())


def professional_for_subject(uow: UnitOfWork, subject: str | None) -> Professional | None:
    if not subject:
        return None
    return uow.session.scalar(
        select(Professional).where(
            Professional.luxtrust_subject == subject, Professional.active.is_(True)
        )
    )


def _get_owned(uow: UnitOfWork, enrolment_id: int, professional_id: int) -> Enrolment:
    enrolment = uow.session.get(Enrolment, enrolment_id)
    if enrolment is None or enrolment.professional_id != professional_id:
        # Same answer for "absent" and "not yours": no probing of other declarations.
        raise NotFound(_("Cette déclaration n'existe pas."))
    return enrolment


def resend_invitation(uow: UnitOfWork, enrolment_id: int, professional_id: int) -> str:
    """A new link by email; the previous link stops working. At most N a day."""
    enrolment = _get_owned(uow, enrolment_id, professional_id)
    if enrolment.state in lc.OPEN_FOR_SECRETARY and enrolment.expires_at <= uow.now():
        raise IllegalTransition(
            _("Cette invitation a expiré : corrigez la déclaration pour en envoyer une nouvelle.")
        )
    if enrolment.state not in lc.OPEN_FOR_SECRETARY:
        raise IllegalTransition(
            _(
                "L'invitation ne peut plus être renvoyée ({state}).",
                state=lc.state_label(enrolment.state),
            )
        )
    now = uow.now()
    since = now - dt.timedelta(days=1)
    sent_today = uow.session.scalar(
        select(func.count(Event.id)).where(
            Event.enrolment_id == enrolment.id,
            Event.action == "invitation_resent",
            Event.created_at >= since,
        )
    )
    limit = uow.settings.resends_per_day
    if sent_today >= limit:
        raise LimitReached(
            _("L'invitation a déjà été renvoyée {n} fois en 24 heures ; réessayez demain.", n=limit)
        )
    token = new_token()
    enrolment.token_hash = hash_token(token)
    enrolment.token_issued_at = now
    enrolment.expires_at = now + dt.timedelta(days=uow.settings.invitation_days)
    enrolment.updated_at = now
    record_event(uow, enrolment, "invitation_resent", Actor("professional", str(professional_id)))
    _queue_invitation(uow, enrolment, token)
    uow.commit()
    return token


def cancel(uow: UnitOfWork, enrolment_id: int, actor: Actor, professional_id: int | None = None):
    """Withdraw a declaration (by its professional, or by staff when professional_id is None)."""
    enrolment = (
        _get_owned(uow, enrolment_id, professional_id)
        if professional_id is not None
        else _get(uow, enrolment_id)
    )
    if enrolment.state == lc.CANCELLED:
        return enrolment.state  # idempotent
    _move(uow, enrolment, lc.CANCELLED, "cancelled", actor)
    uow.commit()
    return enrolment.state


# --- the secretary's steps -------------------------------------------------------------------


def _link_message(reason: str) -> str:
    messages = {
        "unknown": _(
            "Ce lien n'est pas valide ou a été remplacé par un lien plus récent. "
            "Utilisez le lien du dernier email reçu, ou demandez au médecin qui vous a "
            "déclarée de vous renvoyer l'invitation."
        ),
        lc.EXPIRED: _(
            "Ce lien a expiré. Demandez au médecin qui vous a déclarée de vous renvoyer "
            "une invitation ou d'effectuer une nouvelle déclaration."
        ),
        lc.CANCELLED: _(
            "Cette demande a été annulée par le médecin qui vous a déclarée. "
            "Contactez-le si vous pensez qu'il s'agit d'une erreur."
        ),
        "superseded": _(
            "Cette demande a été remplacée par une nouvelle déclaration. "
            "Utilisez le lien du dernier email reçu."
        ),
        lc.LOCKED: _(
            "Cette demande est bloquée après trop de matricules erronés. Contactez le médecin "
            "qui vous a déclarée : il devra effectuer une nouvelle déclaration avec votre "
            "matricule."
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
            "Votre demande n'a pas pu être acceptée. Vous en avez été informée par email ; "
            "contactez le médecin qui vous a déclarée pour une nouvelle déclaration."
        ),
    }
    return messages[reason]


@dataclass(frozen=True)
class LinkStatus:
    enrolment_id: int
    state: str
    token_hash: str
    first_names: str | None
    expires_at: dt.datetime


# Read on every request of a secretary: built once (building cost more than running it).
_BY_TOKEN_HASH = select(Enrolment).where(Enrolment.token_hash == bindparam("token_hash"))


def _resolve_link(uow: UnitOfWork, token_hash: str) -> Enrolment:
    enrolment = uow.session.scalar(_BY_TOKEN_HASH, {"token_hash": token_hash})
    if enrolment is None:
        raise InvalidLink(_link_message("unknown"), "unknown")
    if enrolment.state == lc.CANCELLED and enrolment.superseded_by_id:
        raise InvalidLink(_link_message("superseded"), "superseded")
    if enrolment.state in lc.TERMINAL or enrolment.state == lc.PENDING_REVIEW:
        raise InvalidLink(_link_message(enrolment.state), enrolment.state)
    return enrolment


def check_invitation(uow: UnitOfWork, token: str) -> LinkStatus:
    """Read-only look at a link (safe for mail scanners' GETs): no write at all."""
    return _status_for_hash(uow, hash_token(token), write=False)


def link_problem(uow: UnitOfWork, token_hash: str) -> InvalidLink | None:
    """Why the link behind this hash can no longer be used, or None if it still can."""
    try:
        _status_for_hash(uow, token_hash, write=False)
    except InvalidLink as exc:
        return exc
    return None


def session_status(uow: UnitOfWork, token_hash: str) -> LinkStatus:
    """The enrolment behind the secretary's session (which holds only the token hash)."""
    return _status_for_hash(uow, token_hash, write=True)


def _status_for_hash(uow: UnitOfWork, token_hash: str, *, write: bool) -> LinkStatus:
    enrolment = _resolve_link(uow, token_hash)
    if uow.now() >= enrolment.expires_at:
        if write:
            _ensure_alive(uow, enrolment, SYSTEM)
        raise InvalidLink(_link_message(lc.EXPIRED), lc.EXPIRED)
    return LinkStatus(
        enrolment.id,
        enrolment.state,
        token_hash,
        enrolment.declared_first_names,
        enrolment.expires_at,
    )


def open_invitation(uow: UnitOfWork, token_hash: str, language: str | None = None) -> LinkStatus:
    """Her explicit "start" on the link's page: records the first opening (funnel)."""
    enrolment = _resolve_link(uow, token_hash)
    actor = Actor("secretary", str(enrolment.id))
    _ensure_alive(uow, enrolment, actor)
    changed = _remember_language(enrolment, language)
    opened = uow.session.scalar(
        select(func.count(Event.id)).where(
            Event.enrolment_id == enrolment.id, Event.action == "link_opened"
        )
    )
    if not opened:
        record_event(uow, enrolment, "link_opened", actor)
    if changed or not opened:
        uow.commit()
    return LinkStatus(
        enrolment.id,
        enrolment.state,
        token_hash,
        enrolment.declared_first_names,
        enrolment.expires_at,
    )


def _remember_language(holder, language: str | None) -> bool:
    """Emails go out in the language their reader last used: keep it (True if changed)."""
    if language in LANGUAGES and holder.language != language:
        holder.language = language
        return True
    return False


def _secretary_enrolment(
    uow: UnitOfWork, token_hash: str, language: str | None = None
) -> tuple[Enrolment, Actor]:
    enrolment = _resolve_link(uow, token_hash)
    actor = Actor("secretary", str(enrolment.id))
    _ensure_alive(uow, enrolment, actor)
    _remember_language(enrolment, language)
    return enrolment, actor


def accept_cgu(
    uow: UnitOfWork, token_hash: str, cgu_version: str, language: str | None = None
) -> str:
    enrolment, actor = _secretary_enrolment(uow, token_hash, language)
    if lc.PROGRESS.get(enrolment.state, 0) >= lc.PROGRESS[lc.CGU_ACCEPTED]:
        return enrolment.state  # replayed: already accepted
    if cgu_version != uow.settings.cgu_version:
        raise IllegalTransition(
            _("Les conditions d'utilisation ont changé : relisez la version en vigueur.")
        )
    enrolment.cgu_version = cgu_version
    enrolment.cgu_accepted_at = uow.now()
    _move(uow, enrolment, lc.CGU_ACCEPTED, "cgu_accepted", actor, {"cgu_version": cgu_version})
    uow.commit()
    return enrolment.state


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
        _move(uow, enrolment, lc.MATRICULE_VERIFIED, "matricule_verified", actor)
        uow.commit()
        return MatriculeResult(True, max_attempts - enrolment.wrong_matricule_count)
    digest = _wrong_matricule_digest(uow, value)
    if enrolment.last_wrong_matricule and hmac.compare_digest(
        digest, enrolment.last_wrong_matricule
    ):
        return _mismatch(max_attempts - enrolment.wrong_matricule_count)
    enrolment.last_wrong_matricule = digest
    enrolment.wrong_matricule_count += 1
    left = max_attempts - enrolment.wrong_matricule_count
    if left <= 0:
        _move(
            uow,
            enrolment,
            lc.LOCKED,
            "locked",
            actor,
            {"attempts": enrolment.wrong_matricule_count},
        )
        _queue_locked(uow, enrolment)
        uow.commit()
        return MatriculeResult(False, 0, locked=True, message=_link_message(lc.LOCKED))
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
            "S'il est correct, veuillez contacter le médecin vous ayant déclarée : il devra "
            "effectuer une nouvelle déclaration avec votre matricule. "
            "Tentatives restantes : {left}.",
            left=left,
        ),
    )


def _wrong_matricule_digest(uow: UnitOfWork, value: str) -> str:
    # Keyed: thirteen digits of which eight are a birth date are easily enumerated.
    key = uow.settings.secret_key.encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def _queue_locked(uow: UnitOfWork, enrolment: Enrolment) -> None:
    prof = enrolment.professional
    ctx = {
        "first_names": enrolment.declared_first_names,
        "last_name": enrolment.declared_last_name,
        "professional": prof.display_name,
        "attempts": enrolment.wrong_matricule_count,
    }
    mail.queue(
        uow, "locked", enrolment.email, ctx, enrolment_id=enrolment.id, language=enrolment.language
    )
    mail.queue(
        uow,
        "professional_locked",
        prof.email,
        ctx,
        enrolment_id=enrolment.id,
        language=prof.language,
    )


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
    return identity_mod.Policy.from_config(uow.settings.blocking_kinds)


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
        _move(
            uow,
            enrolment,
            lc.ACCOUNT_CREATED,
            "account_created",
            actor,
            {"decision": "auto_match", "kinds": kinds, "device": row.device},
        )
        _create_or_link_account(uow, enrolment, row, outcome="auto_match", reviewer_id=None)
    else:
        _move(
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


def confirm_personal_device(
    uow: UnitOfWork, token_hash: str, confirmed: bool, language: str | None = None
) -> str:
    """Yes → the identity-vigilance queue; no → back to the LuxTrust step to retry."""
    enrolment = uow.session.scalar(select(Enrolment).where(Enrolment.token_hash == token_hash))
    if enrolment is not None and enrolment.state == lc.PENDING_REVIEW and confirmed:
        return enrolment.state  # replayed "yes"
    enrolment, actor = _secretary_enrolment(uow, token_hash, language)
    if enrolment.state != lc.IDENTITY_MISMATCH:
        if enrolment.state == lc.MATRICULE_VERIFIED and not confirmed:
            return enrolment.state  # replayed "no"
        raise IllegalTransition(_("Authentifiez-vous d'abord avec LuxTrust."))
    if confirmed:
        enrolment.device_confirmed_at = uow.now()
        _move(uow, enrolment, lc.PENDING_REVIEW, "device_confirmed", actor)
        mail.queue(
            uow,
            "pending_review",
            enrolment.email,
            {
                "first_names": enrolment.declared_first_names,
                "last_name": enrolment.declared_last_name,
            },
            enrolment_id=enrolment.id,
            language=enrolment.language,
        )
    else:
        _move(uow, enrolment, lc.MATRICULE_VERIFIED, "device_not_confirmed", actor)
    uow.commit()
    return enrolment.state


# --- accounts ---------------------------------------------------------------------------------


def _create_or_link_account(
    uow: UnitOfWork,
    enrolment: Enrolment,
    observed: LuxTrustIdentity,
    *,
    outcome: str,
    reviewer_id: int | None,
    decision: Decision | None = None,
) -> SecretaryAccount:
    """One account per person: a second professional's declaration links, never duplicates."""
    now = uow.now()
    account = uow.session.scalar(
        select(SecretaryAccount).where(SecretaryAccount.matricule == enrolment.declared_matricule)
    )
    created = account is None
    if created:
        account = SecretaryAccount(
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
    elif observed.subject and not account.luxtrust_subject:
        account.luxtrust_subject = observed.subject
    linked = uow.session.get(AccountLink, (account.id, enrolment.professional_id))
    if linked is None:
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

    record_event(
        uow,
        enrolment,
        "account_linked" if not created else "account_opened",
        Actor.system(),
        data={"account_id": account.id},
    )
    prof = enrolment.professional
    ctx = {
        "first_names": enrolment.declared_first_names,
        "last_name": enrolment.declared_last_name,
        "professional": prof.display_name,
    }
    template = "account_created" if outcome == "auto_match" else "approved"
    mail.queue(
        uow, template, enrolment.email, ctx, enrolment_id=enrolment.id, language=enrolment.language
    )
    mail.queue(
        uow,
        "professional_account_created",
        prof.email,
        ctx,
        enrolment_id=enrolment.id,
        language=prof.language,
    )
    return account


# --- identity-vigilance review ------------------------------------------------------------------


@dataclass(frozen=True)
class StaffMember:
    name: str
    roles: frozenset[str]


# One row per role; built once (read on every staff request and before every staff action).
_ACTIVE_STAFF_MEMBER = (
    select(StaffUser.display_name, StaffRole.role)
    .outerjoin(StaffRole, StaffRole.user_id == StaffUser.id)
    .where(StaffUser.id == bindparam("staff_id"), StaffUser.active.is_(True))
)


def staff_member(uow: UnitOfWork, staff_id: int) -> StaffMember | None:
    """Who this staff member is now — name and roles — or None when unknown or disabled."""
    rows = uow.session.execute(_ACTIVE_STAFF_MEMBER, {"staff_id": staff_id}).all()
    if not rows:
        return None
    return StaffMember(rows[0].display_name, frozenset(r.role for r in rows if r.role))


def reviewers_only() -> Forbidden:
    return Forbidden(_("Action réservée à l'équipe d'identito-vigilance."))


def _staff(uow: UnitOfWork, staff_id: int, role: str = "reviewer") -> None:
    user = staff_member(uow, staff_id)
    if user is None or role not in user.roles:
        raise reviewers_only()


def _pending(uow: UnitOfWork, enrolment_id: int, expected_version: int | None) -> Enrolment:
    # FOR UPDATE: a second reviewer deciding at the same moment waits, then sees the first.
    enrolment = _get(uow, enrolment_id, for_update=True)
    if enrolment.state != lc.PENDING_REVIEW:
        raise IllegalTransition(
            _("Ce dossier a déjà été traité ({state}).", state=lc.state_label(enrolment.state))
        )
    if expected_version is not None and enrolment.version != expected_version:
        raise_concurrent()
    return enrolment


def raise_concurrent():
    raise ConcurrentUpdate(
        _("Ce dossier vient d'être modifié par un(e) collègue. Rechargez-le avant de décider.")
    )


def claim(uow: UnitOfWork, enrolment_id: int, reviewer_id: int) -> None:
    _staff(uow, reviewer_id)
    enrolment = _pending(uow, enrolment_id, None)
    if enrolment.assignee_id == reviewer_id:
        return
    if enrolment.assignee_id is not None:
        raise IllegalTransition(_("Ce dossier est déjà pris en charge par un(e) collègue."))
    enrolment.assignee_id = reviewer_id
    enrolment.updated_at = uow.now()
    record_event(uow, enrolment, "claimed", Actor("staff", str(reviewer_id)))
    uow.commit()


def assign(uow: UnitOfWork, enrolment_id: int, assignee_id: int, actor_id: int) -> None:
    _staff(uow, actor_id)
    _staff(uow, assignee_id)
    enrolment = _pending(uow, enrolment_id, None)
    if enrolment.assignee_id == assignee_id:
        return
    enrolment.assignee_id = assignee_id
    enrolment.updated_at = uow.now()
    record_event(
        uow, enrolment, "assigned", Actor("staff", str(actor_id)), data={"assignee_id": assignee_id}
    )
    uow.commit()


def release(uow: UnitOfWork, enrolment_id: int, reviewer_id: int) -> None:
    _staff(uow, reviewer_id)
    enrolment = _pending(uow, enrolment_id, None)
    if enrolment.assignee_id is None:
        return
    enrolment.assignee_id = None
    enrolment.updated_at = uow.now()
    record_event(uow, enrolment, "released", Actor("staff", str(reviewer_id)))
    uow.commit()


NOTE_MAX = 5000


def clean_note(text: str | None, field_name: str = "note", *, required: bool = True) -> str:
    """A reviewer's free text: several lines allowed, invisible or control characters not."""
    text = (text or "").strip()
    if not text and required:
        raise ValidationFailed({field_name: _("La note est vide.")})
    if len(text) > NOTE_MAX:
        raise ValidationFailed(
            {field_name: _("La note ne peut dépasser {n} caractères.", n=NOTE_MAX)}
        )
    if typed.has_forbidden(text, multiline=True):
        raise ValidationFailed(
            {field_name: _("La note contient des caractères non admis ; rien n'a été enregistré.")}
        )
    return text


def add_note(uow: UnitOfWork, enrolment_id: int, author_id: int, text: str) -> None:
    _staff(uow, author_id)
    text = clean_note(text)
    enrolment = _get(uow, enrolment_id)
    uow.session.add(
        ReviewNote(enrolment_id=enrolment.id, author_id=author_id, text=text, created_at=uow.now())
    )
    record_event(uow, enrolment, "note_added", Actor("staff", str(author_id)))
    uow.commit()


# Four-eyes rules (configuration FOUR_EYES): "approve:<field>=<kind>" needs a second
# reviewer to confirm an approval of such a case; "reject:<reason>" likewise a rejection.
def four_eyes_rules(uow: UnitOfWork) -> tuple[set[tuple[str, str]], set[str]]:
    approve_rules, reject_rules = set(), set()
    for item in (uow.settings.four_eyes or "").split(","):
        verb, _sep, rule = item.strip().partition(":")
        if verb == "approve" and "=" in rule:
            field_name, kind = rule.split("=", 1)
            approve_rules.add((field_name.strip(), kind.strip()))
        elif verb == "reject" and rule:
            reject_rules.add(rule.strip())
    return approve_rules, reject_rules


def needs_second_reviewer(
    uow: UnitOfWork, enrolment: Enrolment, outcome: str, reason_code: str | None = None
) -> bool:
    approve_rules, reject_rules = four_eyes_rules(uow)
    if outcome == "rejected":
        return reason_code in reject_rules
    latest = enrolment.latest_identity
    fields = (latest.comparison or {}).get("fields", []) if latest else []
    return any((f.get("field"), f.get("kind")) in approve_rules for f in fields)


def pending_proposal(uow: UnitOfWork, enrolment_id: int) -> Decision | None:
    return uow.session.scalar(
        select(Decision).where(
            Decision.enrolment_id == enrolment_id, Decision.status == "awaiting_second"
        )
    )


def _second_look(uow, enrolment, reviewer_id, outcome, reason_code=None) -> Decision | None:
    """The awaiting proposal this decision confirms, or None when there is none.

    Refuses a confirmation by the proposer (never the same person twice) and a decision
    that contradicts the proposal (withdraw it first).
    """
    proposal = pending_proposal(uow, enrolment.id)
    if proposal is None:
        return None
    if proposal.reviewer_id == reviewer_id:
        raise Forbidden(
            _("La seconde validation doit être faite par un(e) autre membre de l'équipe.")
        )
    if proposal.outcome != outcome or proposal.reason_code != reason_code:
        raise IllegalTransition(
            _(
                "Une autre décision attend une seconde validation sur ce dossier : "
                "confirmez-la ou écartez-la d'abord."
            )
        )
    return proposal


def _propose(uow, enrolment, reviewer_id, outcome, reason_code=None, note=None) -> str:
    uow.session.add(
        Decision(
            enrolment_id=enrolment.id,
            outcome=outcome,
            reason_code=reason_code,
            note=(note or "").strip()[:5000] or None,
            reviewer_id=reviewer_id,
            status="awaiting_second",
            created_at=uow.now(),
        )
    )
    enrolment.updated_at = uow.now()
    flag_modified(enrolment, "updated_at")  # always an UPDATE, so the version moves on
    uow.flush()
    record_event(
        uow,
        enrolment,
        "decision_proposed",
        Actor("staff", str(reviewer_id)),
        data={"outcome": outcome, "reason_code": reason_code},
    )
    uow.commit()
    return "awaiting_second"


def approve(
    uow: UnitOfWork,
    enrolment_id: int,
    reviewer_id: int,
    *,
    note: str | None = None,
    expected_version: int | None = None,
) -> str:
    """The reviewer establishes her identity: the account is created, emails sent.

    Returns "account_created", or "awaiting_second" when the case needs a second reviewer.
    """
    note = clean_note(note, required=False)
    _staff(uow, reviewer_id)
    enrolment = _pending(uow, enrolment_id, expected_version)
    observed = enrolment.latest_identity
    if observed is None:
        raise IllegalTransition(_("Aucune identité LuxTrust n'est enregistrée pour ce dossier."))
    if note:
        uow.session.add(
            ReviewNote(
                enrolment_id=enrolment.id,
                author_id=reviewer_id,
                text=note,
                created_at=uow.now(),
            )
        )
    proposal = _second_look(uow, enrolment, reviewer_id, "reviewer_approved")
    if proposal is None and needs_second_reviewer(uow, enrolment, "reviewer_approved"):
        return _propose(uow, enrolment, reviewer_id, "reviewer_approved")
    actor = Actor("staff", str(reviewer_id))
    _move(
        uow,
        enrolment,
        lc.ACCOUNT_CREATED,
        "approved",
        actor,
        {"decision": "reviewer_approved", "second_of": proposal.id if proposal else None},
    )
    if proposal is not None:
        proposal.status, proposal.confirmed_by_id = "final", reviewer_id
        proposal.confirmed_at = uow.now()
    _create_or_link_account(
        uow,
        enrolment,
        observed,
        outcome="reviewer_approved",
        reviewer_id=proposal.reviewer_id if proposal else reviewer_id,
        decision=proposal,
    )
    enrolment.assignee_id = enrolment.assignee_id or reviewer_id
    uow.commit()
    return lc.ACCOUNT_CREATED


def reject(
    uow: UnitOfWork,
    enrolment_id: int,
    reviewer_id: int,
    *,
    reason_code: str,
    note: str = "",
    expected_version: int | None = None,
) -> str:
    """Refuse with a reason code; returns "rejected" or "awaiting_second" (four-eyes)."""
    if reason_code not in REJECTION_REASONS:
        raise ValidationFailed({"reason_code": _("Choisissez un motif de refus.")})
    note = clean_note(note, "reject_note", required=False)
    _staff(uow, reviewer_id)
    enrolment = _pending(uow, enrolment_id, expected_version)
    proposal = _second_look(uow, enrolment, reviewer_id, "rejected", reason_code)
    if proposal is None and needs_second_reviewer(uow, enrolment, "rejected", reason_code):
        return _propose(uow, enrolment, reviewer_id, "rejected", reason_code, note)
    now = uow.now()
    actor = Actor("staff", str(reviewer_id))
    enrolment.decision = "rejected"
    enrolment.reason_code = reason_code
    enrolment.decided_at = now
    enrolment.assignee_id = enrolment.assignee_id or reviewer_id
    _move(
        uow,
        enrolment,
        lc.REJECTED,
        "rejected",
        actor,
        {"reason_code": reason_code, "second_of": proposal.id if proposal else None},
    )
    if proposal is not None:
        proposal.status, proposal.confirmed_by_id, proposal.confirmed_at = "final", reviewer_id, now
        if note:
            uow.session.add(
                ReviewNote(
                    enrolment_id=enrolment.id,
                    author_id=reviewer_id,
                    text=note,
                    created_at=now,
                )
            )
    else:
        uow.session.add(
            Decision(
                enrolment_id=enrolment.id,
                outcome="rejected",
                reason_code=reason_code,
                note=(note or "").strip()[:5000] or None,
                reviewer_id=reviewer_id,
                status="final",
                created_at=now,
            )
        )
    prof = enrolment.professional
    ctx = {
        "first_names": enrolment.declared_first_names,
        "last_name": enrolment.declared_last_name,
        "professional": prof.display_name,
        "reason_code": reason_code,
    }
    mail.queue(
        uow,
        "rejected",
        enrolment.email,
        ctx,
        enrolment_id=enrolment.id,
        language=enrolment.language,
    )
    # The professional is told of every rejection; for a declaration error he must re-declare.
    mail.queue(
        uow,
        "professional_rejected",
        prof.email,
        ctx,
        enrolment_id=enrolment.id,
        language=prof.language,
    )
    uow.commit()
    return enrolment.state


def withdraw_proposal(
    uow: UnitOfWork, enrolment_id: int, reviewer_id: int, expected_version: int | None = None
) -> None:
    """A second reviewer disagrees (or the proposer changes her mind): back to the queue."""
    _staff(uow, reviewer_id)
    enrolment = _pending(uow, enrolment_id, expected_version)
    proposal = pending_proposal(uow, enrolment.id)
    if proposal is None:
        return
    proposal.status = "withdrawn"
    proposal.confirmed_by_id = reviewer_id
    proposal.confirmed_at = uow.now()
    enrolment.updated_at = uow.now()
    flag_modified(enrolment, "updated_at")
    uow.flush()
    record_event(
        uow,
        enrolment,
        "proposal_withdrawn",
        Actor("staff", str(reviewer_id)),
        data={"decision_id": proposal.id},
    )
    uow.commit()


# --- housekeeping -----------------------------------------------------------------------------


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
            _move(uow, enrolment, lc.EXPIRED, "expired", SYSTEM)
        uow.commit()
        count += len(stale)


@dataclass
class Overview:
    """Counts by state (for the home page and the CLI)."""

    by_state: dict[str, int] = field(default_factory=dict)


def overview(uow: UnitOfWork) -> Overview:
    rows = uow.session.execute(select(Enrolment.state, func.count()).group_by(Enrolment.state))
    return Overview({state: n for state, n in rows})


# --- the secretary's account ------------------------------------------------------------------


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
    professionals = tuple(sorted(link.professional.display_name for link in account.links))
    return AccountOverview(
        account.id,
        account.first_names,
        account.last_name,
        account.status,
        account.created_at,
        professionals,
    )


# --- retention -----------------------------------------------------------------------------------

PURGEABLE = (lc.EXPIRED, lc.CANCELLED, lc.LOCKED, lc.REJECTED)


def purge_personal_data(
    uow: UnitOfWork, older_than_days: int | None = None, batch: int = 500
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
            note.text = _("[note supprimée : durée de conservation écoulée]")
        for decision in uow.session.scalars(select(Decision).where(Decision.enrolment_id.in_(ids))):
            decision.note = None
        uow.commit()
        count += len(enrolments)


def remember_professional_language(uow: UnitOfWork, professional_id: int, language: str) -> None:
    """At his login: his emails follow the language he uses."""
    prof = uow.session.get(Professional, professional_id)
    if prof is not None and _remember_language(prof, language):
        uow.commit()
