"""The professional's use cases: declare a secretary (one, or many from a file), correct a
declaration by a new one, resend the invitation, cancel, and his lists.

Each function takes a `UnitOfWork` and commits once; a refusal leaves nothing written.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from sqlalchemy import bindparam, func, select

from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment import matricule
from dashboard.enrolment.errors import (
    DomainError,
    DuplicateDeclaration,
    IllegalTransition,
    LimitReached,
    NotFound,
    ValidationFailed,
)
from dashboard.enrolment.kernel import (
    Actor,
    get_enrolment,
    hash_token,
    invitation_link,
    move,
    new_token,
    record_event,
    remember_language,
)
from dashboard.enrolment.model import Enrolment, Event, Professional
from dashboard.enrolment.text import PHONE_RE, clean_email, clean_name
from dashboard.enrolment.uow import UnitOfWork
from dashboard.enrolment.working_days import LUXEMBOURG
from dashboard.i18n import LANGUAGES
from dashboard.i18n import gettext as _

# A declared secretary's plausible age: the matricule's format allows any past date.
MIN_AGE, MAX_AGE = 14, 100


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year - years, day=28)


def age_problem(value: str, today: dt.date) -> str | None:
    """Why the birth date in a valid matricule is implausible for a secretary, or None.

    An unknown month or day (``00``) gets the benefit of the doubt both ways.
    """
    year, month, day = matricule.birth_parts(value)
    earliest = dt.date(year, month or 1, day or 1)
    latest_month = month or 12
    latest = dt.date(year, latest_month, day or calendar.monthrange(year, latest_month)[1])
    if earliest > _years_before(today, MIN_AGE):
        return _(
            "D'après ce matricule, la personne déclarée aurait moins de {n} ans\u00a0: "
            "vérifiez les 8 premiers chiffres (sa date de naissance).",
            n=MIN_AGE,
        )
    if latest < _years_before(today, MAX_AGE):
        return _(
            "D'après ce matricule, la personne déclarée serait née il y a plus de {n} ans\u00a0: "
            "vérifiez les 8 premiers chiffres (sa date de naissance).",
            n=MAX_AGE,
        )
    return None


def validate_declaration(
    last_name: str | None,
    first_names: str | None,
    matricule_text: str | None,
    email: str | None,
    phone: str | None = None,
    *,
    today: dt.date | None = None,
) -> dict:
    """Check every field at once; raise ValidationFailed listing each bad field.

    `today` (default: the current date in Luxembourg) bounds the matricule's birth date
    and the declared person's plausible age.
    """
    today = today or dt.datetime.now(LUXEMBOURG).date()
    errors: dict[str, str] = {}
    cleaned = {
        "last_name": clean_name(last_name, "last_name", _("Nom"), errors),
        "first_names": clean_name(first_names, "first_names", _("Prénom(s)"), errors),
        "email": clean_email(email, errors),
        "phone": (phone or "").strip() or None,
    }
    try:
        cleaned["matricule"] = matricule.validate(matricule_text or "", today=today)
    except matricule.InvalidMatricule as exc:
        errors["matricule"] = str(exc)
    else:
        if problem := age_problem(cleaned["matricule"], today):
            errors["matricule"] = problem
    if cleaned["phone"] and not PHONE_RE.match(cleaned["phone"]):
        errors["phone"] = _("Le numéro de téléphone n'est pas valide (exemple : +352 621 123 456).")
    if errors:
        raise ValidationFailed(errors)
    return cleaned


# --- declaring ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Declared:
    enrolment_id: int
    token: str
    superseded_id: int | None = None


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
        _row(last_name, first_names, matricule, email, phone),
        language=language,
        if_open=if_open,
        actor=actor,
        # He declared in this language (not an import or a colleague's declaration).
        remember=actor is None or actor.kind == "professional",
    )
    uow.commit()
    return result


def _row(last_name, first_names, matricule, email, phone) -> dict:
    """One declaration's fields, as a row of a file would hold them."""
    return dict(
        last_name=last_name, first_names=first_names, matricule=matricule, email=email, phone=phone
    )


def declare_many(
    uow: UnitOfWork,
    professional_id: int,
    rows: list[dict],
    *,
    if_open: str = "supersede",
    actor: Actor | None = None,
    progress=None,
) -> list[Declared]:
    """Several declarations in one transaction: all are stored, or none (e.g. a CSV file).
    `progress(n)`, when given, is told of each row done (a bar on the command line)."""
    results = []
    for index, row in enumerate(rows):
        try:
            results.append(
                _declare(uow, professional_id, row, language=None, if_open=if_open, actor=actor)
            )
        except DomainError as exc:
            exc.details["row"] = index  # which row was refused; nothing is committed
            raise
        if progress is not None:
            progress(1)
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
    remember: bool = False,
) -> Declared:
    data = validate_declaration(
        row.get("last_name"),
        row.get("first_names"),
        row.get("matricule"),
        row.get("email"),
        row.get("phone"),
        today=uow.now().astimezone(LUXEMBOURG).date(),
    )
    # Lock the professional's row: two simultaneous submissions of the same declaration
    # then run one after the other, and the second sees the first (no duplicate).
    prof = uow.session.get(Professional, professional_id, with_for_update=True)
    if prof is None or not prof.active:
        raise NotFound(_("Professionnel de santé inconnu ou inactif."))
    if remember:
        remember_language(prof, language)
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
                    "Une vérification manuelle est en cours pour ce matricule ; "
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
    # The event sends the invitation (notifications.TABLE).
    record_event(
        uow,
        enrolment,
        "declared",
        actor,
        before="",
        after=lc.DECLARED,
        link=invitation_link(uow, token),
    )
    superseded_id = None
    for old in open_ones:
        old.superseded_by_id = enrolment.id
        move(uow, old, lc.CANCELLED, "superseded", actor, {"superseded_by": enrolment.id})
        superseded_id = old.id
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
        _row(last_name, first_names, matricule, email, phone),
        language=language if language in LANGUAGES else old.language,
        if_open="supersede",
        actor=actor,
    )
    if old.state in lc.OPEN_FOR_SECRETARY:
        # Same matricule: _declare already superseded it; another one: supersede it here.
        move(uow, old, lc.CANCELLED, "superseded", actor, {"superseded_by": result.enrolment_id})
    # Locked, expired or rejected ones keep their state but point to their correction.
    old.superseded_by_id = result.enrolment_id
    record_event(uow, old, "redeclared", actor, data={"new_enrolment": result.enrolment_id})
    uow.commit()
    return Declared(result.enrolment_id, result.token, enrolment_id)


# --- his list ---------------------------------------------------------------------------------


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
    # An expired invitation: "Renvoyer l'invitation" declares her again, same data (one click).
    can_declare_again: bool = False


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
        can_declare_again=_can_declare_again(e, state),
    )


def _can_declare_again(e: Enrolment, state: str) -> bool:
    # Purged data cannot be declared again: he types it anew ("Corriger").
    return (
        state == lc.EXPIRED
        and e.superseded_by_id is None
        and e.purged_at is None
        and e.declared_matricule is not None
        and e.email is not None
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


def _get_owned(uow: UnitOfWork, enrolment_id: int, professional_id: int) -> Enrolment:
    enrolment = uow.session.get(Enrolment, enrolment_id)
    if enrolment is None or enrolment.professional_id != professional_id:
        # Same answer for "absent" and "not yours": no probing of other declarations.
        raise NotFound(_("Cette déclaration n'existe pas."))
    return enrolment


# --- resend and cancel -------------------------------------------------------------------------


def resend_invitation(uow: UnitOfWork, enrolment_id: int, professional_id: int) -> str:
    """A new link by email; the previous link stops working. At most N a day."""
    enrolment = _get_owned(uow, enrolment_id, professional_id)
    if enrolment.state in lc.OPEN_FOR_SECRETARY and enrolment.expires_at <= uow.now():
        raise IllegalTransition(
            _("Cette invitation a expiré : corrigez la déclaration pour en envoyer une nouvelle.")
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
            _("L'invitation a déjà été renvoyée {n} fois en 24 heures ; réessayez demain.", n=limit)
        )
    token = new_token()
    enrolment.token_hash = hash_token(token)
    enrolment.token_issued_at = now
    enrolment.expires_at = now + dt.timedelta(days=uow.settings.invitation_days)
    enrolment.updated_at = now
    record_event(
        uow,
        enrolment,
        "invitation_resent",
        Actor("professional", str(professional_id)),
        link=invitation_link(uow, token),
    )
    uow.commit()
    return token


def send_new_invitation(uow: UnitOfWork, enrolment_id: int, professional_id: int) -> str:
    """ "Renvoyer l'invitation" in his list: a new link for a live invitation
    (resend_invitation), or, once it expired, the same secretary declared again (a new
    declaration with the same data, the expired one pointing to it). Returns the token."""
    enrolment = _get_owned(uow, enrolment_id, professional_id)
    if not _can_declare_again(enrolment, _declaration_row(enrolment, uow.now()).state):
        return resend_invitation(uow, enrolment_id, professional_id)
    return redeclare(
        uow,
        enrolment_id,
        professional_id,
        last_name=enrolment.declared_last_name,
        first_names=enrolment.declared_first_names,
        matricule=enrolment.declared_matricule,
        email=enrolment.email,
        phone=enrolment.phone,
    ).token


def cancel(uow: UnitOfWork, enrolment_id: int, actor: Actor, professional_id: int | None = None):
    """Withdraw a declaration (by its professional, or by staff when professional_id is None)."""
    enrolment = (
        _get_owned(uow, enrolment_id, professional_id)
        if professional_id is not None
        else get_enrolment(uow, enrolment_id)
    )
    if enrolment.state == lc.CANCELLED:
        return enrolment.state  # idempotent
    move(uow, enrolment, lc.CANCELLED, "cancelled", actor)
    uow.commit()
    return enrolment.state


# --- the professional himself ------------------------------------------------------------------


def professional_for_subject(uow: UnitOfWork, subject: str | None) -> Professional | None:
    if not subject:
        return None
    return uow.session.scalar(
        select(Professional).where(
            Professional.luxtrust_subject == subject, Professional.active.is_(True)
        )
    )


def remember_professional_language(uow: UnitOfWork, professional_id: int, language: str) -> None:
    """At his login: his emails follow the language he uses."""
    prof = uow.session.get(Professional, professional_id)
    if prof is not None and remember_language(prof, language):
        uow.commit()
