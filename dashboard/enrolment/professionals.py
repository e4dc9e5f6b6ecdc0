"""Health professionals: who may declare secretaries."""

from __future__ import annotations

from sqlalchemy import and_, bindparam, or_, select

from dashboard.enrolment import sessions
from dashboard.enrolment.errors import ValidationFailed
from dashboard.enrolment.model import LoginSession, Professional
from dashboard.enrolment.services import clean_email
from dashboard.enrolment.uow import UnitOfWork
from dashboard.i18n import gettext as _

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
    errors: dict[str, str] = {}
    email = clean_email(email, errors)
    last_name = " ".join((last_name or "").split())
    first_names = " ".join((first_names or "").split())
    if not last_name:
        errors["last_name"] = _("Le nom est obligatoire.")
    if not first_names:
        errors["first_names"] = _("Le prénom est obligatoire.")
    code = (code or "").strip() or None
    luxtrust_subject = (luxtrust_subject or "").strip() or None
    taken = uow.session.execute(
        select(Professional.code, Professional.luxtrust_subject).where(
            or_(
                and_(Professional.code.is_not(None), Professional.code == code),
                and_(
                    Professional.luxtrust_subject.is_not(None),
                    Professional.luxtrust_subject == luxtrust_subject,
                ),
            )
        )
    ).all()
    if code and any(row.code == code for row in taken):
        errors["code"] = _("Ce code médecin est déjà enregistré.")
    if luxtrust_subject and any(row.luxtrust_subject == luxtrust_subject for row in taken):
        errors["luxtrust_subject"] = _("Cette identité LuxTrust est déjà enregistrée.")
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
    uow.commit()
    return prof
