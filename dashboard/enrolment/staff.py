"""Staff users (reviewers, managers, administrators) and their passwords."""

from __future__ import annotations

import datetime as dt
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select

from dashboard.enrolment.errors import ValidationFailed
from dashboard.enrolment.model import StaffRole, StaffUser
from dashboard.enrolment.services import clean_email
from dashboard.enrolment.uow import UnitOfWork
from dashboard.i18n import gettext as _

ROLES = ("reviewer", "manager", "admin")
MIN_PASSWORD = 12
_hasher = PasswordHasher()
# Verifying against this keeps the timing the same for unknown emails.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def _check_roles(roles) -> list[str]:
    roles = sorted(set(roles))
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise ValidationFailed(
            {"roles": _("Rôle inconnu ou absent : choisissez parmi reviewer, manager, admin.")}
        )
    return roles


def add_user(
    uow: UnitOfWork, email: str, password: str, roles, display_name: str | None = None
) -> StaffUser:
    errors: dict[str, str] = {}
    email = clean_email(email, errors)
    if len(password or "") < MIN_PASSWORD:
        errors["password"] = _(
            "Le mot de passe doit comporter au moins {n} caractères.", n=MIN_PASSWORD
        )
    try:
        roles = _check_roles(roles)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if not errors and uow.session.scalar(
        select(func.count(StaffUser.id)).where(StaffUser.email == email)
    ):
        errors["email"] = _("Un compte existe déjà pour cette adresse email.")
    if errors:
        raise ValidationFailed(errors)
    user = StaffUser(
        email=email,
        display_name=(display_name or email.split("@")[0]).strip()[:200],
        password_hash=hash_password(password),
        active=True,
        failed_logins=0,
        created_at=uow.now(),
        roles=[StaffRole(role=r) for r in roles],
    )
    uow.session.add(user)
    uow.commit()
    return user


def authenticate(uow: UnitOfWork, email: str, password: str) -> StaffUser | None:
    """The user when email and password are right and the account is usable, else None."""
    user = uow.session.scalar(select(StaffUser).where(StaffUser.email == (email or "").lower()))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password or "")
    except (VerificationError, InvalidHashError):
        return None
    return user if user is not None and user.active else None


def lockout_until(uow: UnitOfWork, user: StaffUser) -> dt.datetime | None:
    return user.locked_until if user.locked_until and user.locked_until > uow.now() else None
