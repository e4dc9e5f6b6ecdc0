"""Staff users (reviewers, managers, administrators) and their passwords."""

from __future__ import annotations

import datetime as dt
import math
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, func, select

from dashboard.enrolment import text as typed
from dashboard.enrolment.errors import Forbidden, NotFound, ValidationFailed
from dashboard.enrolment.kernel import Actor, record_event
from dashboard.enrolment.model import StaffRole, StaffUser
from dashboard.enrolment.text import clean_email
from dashboard.enrolment.uow import UnitOfWork
from dashboard.i18n import gettext as _

ROLES = ("reviewer", "manager", "admin")
MIN_PASSWORD = 12  # NIST SP 800-63B asks for length, not composition rules
_hasher = PasswordHasher()
# Verifying against this keeps the timing the same for unknown emails.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


# --- who a staff member is now, and what she may do -----------------------------------------


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


def require_reviewer(uow: UnitOfWork, staff_id: int) -> None:
    """Refuse unless this staff member is an active reviewer now (roles re-read each time)."""
    user = staff_member(uow, staff_id)
    if user is None or "reviewer" not in user.roles:
        raise reviewers_only()


# --- passwords and accounts ---------------------------------------------------------------------


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
    if display_name and (typed.has_forbidden(display_name) or len(display_name) > 200):
        errors["display_name"] = _("Le nom contient des caractères non admis.")
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


MAX_FAILURES = 5
LOCKOUT = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class LoginResult:
    user_id: int | None
    roles: frozenset[str] = frozenset()
    name: str = ""
    message: str = ""


def login(uow: UnitOfWork, email: str, password: str) -> LoginResult:
    """Check a staff login; after MAX_FAILURES wrong passwords the account waits LOCKOUT.

    The same message for an unknown email and a wrong password: nothing to probe.
    """
    wrong = _("Adresse email ou mot de passe incorrect.")
    email = (email or "").strip().lower()
    if typed.has_forbidden(email) or len(email) > 320:
        return LoginResult(None, message=wrong)  # no account has such an address
    user = uow.session.scalar(select(StaffUser).where(StaffUser.email == email))
    now = uow.now()
    if user is not None and user.locked_until and user.locked_until > now:
        minutes = max(1, math.ceil((user.locked_until - now).total_seconds() / 60))
        return LoginResult(
            None, message=_("Trop d'essais infructueux : réessayez dans {n} minutes.", n=minutes)
        )
    if authenticate(uow, email, password) is None or user is None:
        if user is not None:
            user.failed_logins += 1
            if user.failed_logins >= MAX_FAILURES:
                user.locked_until = now + LOCKOUT
                user.failed_logins = 0
            _audit(uow, "staff_login_failed", user.id)
            uow.commit()
        return LoginResult(None, message=wrong)
    user.failed_logins = 0
    user.locked_until = None
    _audit(uow, "staff_login", user.id)
    uow.commit()
    return LoginResult(user.id, user.role_names, user.display_name)


def _audit(uow: UnitOfWork, action: str, staff_id: int, **data) -> None:
    record_event(uow, None, action, Actor("staff", str(staff_id)), data=data or None)


def principal_data(uow: UnitOfWork, staff_id: int) -> LoginResult | None:
    """Who this staff member is now (None when disabled): roles are re-read each request."""
    who = staff_member(uow, staff_id)
    return LoginResult(staff_id, who.roles, who.name) if who is not None else None


@dataclass(frozen=True)
class StaffRow:
    id: int
    email: str
    display_name: str
    roles: tuple[str, ...]
    active: bool
    locked: bool
    created_at: dt.datetime


def list_staff(uow: UnitOfWork) -> list[StaffRow]:
    now = uow.now()
    users = uow.session.scalars(select(StaffUser).order_by(StaffUser.email)).all()
    return [
        StaffRow(
            u.id,
            u.email,
            u.display_name,
            tuple(sorted(u.role_names)),
            u.active,
            bool(u.locked_until and u.locked_until > now),
            u.created_at,
        )
        for u in users
    ]


def _admin_guard(uow: UnitOfWork, actor_id: int) -> None:
    actor = staff_member(uow, actor_id)
    if actor is None or "admin" not in actor.roles:
        raise Forbidden(_("Action réservée aux administrateurs."))


def _active_admins(uow: UnitOfWork) -> set[int]:
    return set(
        uow.session.scalars(
            select(StaffUser.id)
            .join(StaffRole)
            .where(StaffRole.role == "admin", StaffUser.active.is_(True))
        )
    )


def set_roles(uow: UnitOfWork, actor_id: int, user_id: int, roles) -> None:
    _admin_guard(uow, actor_id)
    roles = _check_roles(roles)
    user = uow.session.get(StaffUser, user_id)
    if user is None:
        raise NotFound(_("Ce compte n'existe pas."))
    if "admin" not in roles and _active_admins(uow) == {user.id}:
        raise ValidationFailed({"roles": _("Il doit rester au moins un administrateur actif.")})
    user.roles = [StaffRole(role=r) for r in roles]
    _audit(uow, "staff_roles_changed", actor_id, user_id=user.id, roles=roles)
    uow.commit()


def set_active(uow: UnitOfWork, actor_id: int, user_id: int, active: bool) -> None:
    _admin_guard(uow, actor_id)
    user = uow.session.get(StaffUser, user_id)
    if user is None:
        raise NotFound(_("Ce compte n'existe pas."))
    if not active and user.id == actor_id:
        raise ValidationFailed({"active": _("Vous ne pouvez pas désactiver votre propre compte.")})
    if not active and _active_admins(uow) == {user.id}:
        raise ValidationFailed({"active": _("Il doit rester au moins un administrateur actif.")})
    user.active = active
    _audit(uow, "staff_enabled" if active else "staff_disabled", actor_id, user_id=user.id)
    uow.commit()


def admin_add_user(uow: UnitOfWork, actor_id: int, email: str, roles, display_name: str | None):
    """An admin creates an account; the generated password is returned once, to be handed over."""
    _admin_guard(uow, actor_id)
    password = generate_password()
    user = add_user(uow, email, password, roles, display_name=display_name)
    with_audit = uow.session.get(StaffUser, user.id)
    _audit(uow, "staff_added", actor_id, user_id=with_audit.id)
    uow.commit()
    return user, password
