"""Health professionals: who may declare secretaries."""

from __future__ import annotations

import re

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.exc import IntegrityError

from dashboard.enrolment import sessions, text
from dashboard.enrolment.errors import ValidationFailed
from dashboard.enrolment.model import LoginSession, Professional
from dashboard.enrolment.text import clean_email
from dashboard.enrolment.uow import UnitOfWork
from dashboard.i18n import gettext as _

CODE_MAX = 32  # professionals.code
CODE_RE = re.compile(r"[A-Za-z0-9./-]+")
SPECIALTY_MAX = 120  # professionals.specialty
SUBJECT_MAX = 255  # an OpenID Connect `sub` is at most 255 ASCII characters
SUBJECT_RE = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no space

_ACTIVE_NAME = select(Professional.first_names, Professional.last_name).where(
    Professional.id == bindparam("professional_id"), Professional.active.is_(True)
)


def active_name(uow: UnitOfWork, professional_id: int) -> str | None:
    """The professional's name while his account is active, else None."""
    row = uow.session.execute(_ACTIVE_NAME, {"professional_id": professional_id}).one_or_none()
    return Professional.name_of(row.first_names, row.last_name) if row else None


# His name, read with his session's handle in one statement, built once: this runs on
# each of his requests (building it cost more than running it).
_SESSION_NAME = (
    select(Professional.first_names, Professional.last_name)
    .select_from(LoginSession)
    .join(Professional, Professional.id == LoginSession.subject_id)
    .where(
        LoginSession.id == bindparam("session_id"),
        LoginSession.kind == sessions.PROFESSIONAL,
        LoginSession.subject_id == bindparam("professional_id"),
        LoginSession.created_at > bindparam("not_before"),
        Professional.active.is_(True),
    )
)


def session_name(uow: UnitOfWork, professional_id: int, session_token: str) -> str | None:
    """The professional's name while his account is active and this session of his lives,
    else None."""
    if not sessions.usable(session_token):
        return None
    row = uow.session.execute(
        _SESSION_NAME,
        {
            "session_id": sessions.digest(session_token),
            "professional_id": professional_id,
            "not_before": sessions.not_before(uow),
        },
    ).one_or_none()
    return Professional.name_of(row.first_names, row.last_name) if row else None


def _clean_code(value: str | None, errors: dict) -> str | None:
    code = (value or "").strip() or None
    if code is None:
        return None
    if len(code) > CODE_MAX:
        errors["code"] = _("Le code médecin ne peut dépasser {n} caractères.", n=CODE_MAX)
    elif not CODE_RE.fullmatch(code):
        errors["code"] = _(
            "Le code médecin ne peut contenir que des lettres, des chiffres et les signes "
            "« - », « . » et « / »."
        )
    return code


def _clean_specialty(value: str | None, errors: dict) -> str | None:
    specialty = " ".join((value or "").split()) or None
    if specialty is None:
        return None
    if len(specialty) > SPECIALTY_MAX:
        errors["specialty"] = _("La spécialité ne peut dépasser {n} caractères.", n=SPECIALTY_MAX)
    elif text.has_forbidden(specialty):
        errors["specialty"] = _("La spécialité contient des caractères non admis.")
    return specialty


def _clean_subject(value: str | None, errors: dict) -> str | None:
    subject = (value or "").strip() or None
    if subject is None:
        return None
    if len(subject) > SUBJECT_MAX:
        errors["luxtrust_subject"] = _(
            "L'identité LuxTrust ne peut dépasser {n} caractères.", n=SUBJECT_MAX
        )
    elif not SUBJECT_RE.fullmatch(subject):
        errors["luxtrust_subject"] = _(
            "L'identité LuxTrust ne peut contenir que des caractères ASCII visibles, sans espace."
        )
    return subject


def _already_registered(uow: UnitOfWork, code: str | None, subject: str | None) -> dict:
    taken = uow.session.execute(
        select(Professional.code, Professional.luxtrust_subject).where(
            or_(
                and_(Professional.code.is_not(None), Professional.code == code),
                and_(
                    Professional.luxtrust_subject.is_not(None),
                    Professional.luxtrust_subject == subject,
                ),
            )
        )
    ).all()
    errors = {}
    if code and any(row.code == code for row in taken):
        errors["code"] = _("Ce code médecin est déjà enregistré.")
    if subject and any(row.luxtrust_subject == subject for row in taken):
        errors["luxtrust_subject"] = _("Cette identité LuxTrust est déjà enregistrée.")
    return errors


def add_professional(
    uow: UnitOfWork,
    *,
    last_name: str,
    first_names: str,
    email: str,
    specialty: str | None = None,
    code: str | None = None,
    luxtrust_subject: str | None = None,
    language: str = "fr",
) -> Professional:
    """Register a professional; his names follow the declaration's rules (text.clean_name),
    as they go into the emails his secretaries receive."""
    errors: dict[str, str] = {}
    last_name = text.clean_name(last_name, "last_name", _("Nom"), errors)
    first_names = text.clean_name(first_names, "first_names", _("Prénom(s)"), errors)
    email = clean_email(email, errors)
    specialty = _clean_specialty(specialty, errors)
    code = _clean_code(code, errors)
    luxtrust_subject = _clean_subject(luxtrust_subject, errors)
    # Every problem at once: a taken code or identity too, unless already refused above.
    errors = {
        **_already_registered(
            uow,
            None if "code" in errors else code,
            None if "luxtrust_subject" in errors else luxtrust_subject,
        ),
        **errors,
    }
    if errors:
        raise ValidationFailed(errors)
    prof = Professional(
        last_name=last_name,
        first_names=first_names,
        email=email,
        specialty=specialty,
        code=code,
        luxtrust_subject=luxtrust_subject,
        language=language,
        active=True,
        created_at=uow.now(),
    )
    uow.session.add(prof)
    try:
        uow.commit()
    except IntegrityError:
        # Registered by someone else since the check above: say which, as the check would.
        uow.rollback()
        errors = _already_registered(uow, code, luxtrust_subject)
        if errors:
            raise ValidationFailed(errors) from None
        raise
    return prof
