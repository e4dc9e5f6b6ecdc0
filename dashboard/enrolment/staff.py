"""Staff users (reviewers, managers, administrators), their passwords and sessions.

The login answers the same way, after the same work, whether the address is unknown, the
password wrong, the account disabled or the attempt throttled: nothing tells whether an
address has an account. Wrong passwords are throttled per (account, client address) with
growing delays, and per client address over all accounts, never per account alone: a
stranger's guesses cannot keep a colleague out.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections import Counter
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, case, delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from dashboard.enrolment import sessions
from dashboard.enrolment import text as typed
from dashboard.enrolment.errors import Forbidden, NotFound, ValidationFailed
from dashboard.enrolment.kernel import Actor, record_event
from dashboard.enrolment.model import (
    Event,
    LoginSession,
    StaffLoginThrottle,
    StaffRole,
    StaffUser,
)
from dashboard.enrolment.text import clean_email
from dashboard.enrolment.uow import UnitOfWork
from dashboard.i18n import gettext as _

ROLES = ("reviewer", "lead", "manager", "admin")  # lead: the team lead (team.py)
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
            {"roles": _("Rôle inconnu ou absent : choisissez parmi reviewer, manager, admin.")}
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
        active=True,
        created_at=uow.now(),
        roles=[StaffRole(role=r) for r in roles],
    )
    uow.session.add(user)
    _set_password(uow, user, password)
    uow.commit()
    return user


def _set_password(uow: UnitOfWork, user: StaffUser, password: str) -> None:
    """The one place a password hash is set: whatever was open with the old one ends."""
    user.password_hash = hash_password(password)
    uow.flush()
    sessions.end_all_of(uow, sessions.STAFF, user.id)


def _password_matches(password_hash: str | None, password: str) -> bool:
    """argon2 verification, against the dummy hash when there is no account: the same
    work whether the address exists or not."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password or "")
    except (VerificationError, InvalidHashError):
        return False


def authenticate(uow: UnitOfWork, email: str, password: str) -> StaffUser | None:
    """The user when email and password are right and the account is usable, else None
    (no throttle: for the command line and tests; people log in through `login`)."""
    user = uow.session.scalar(select(StaffUser).where(StaffUser.email == (email or "").lower()))
    if not _password_matches(user.password_hash if user else None, password):
        return None
    return user if user is not None and user.active else None


# --- the throttle --------------------------------------------------------------------------

FREE_FAILURES = 3  # wrong passwords per (account, address) before any wait
MAX_DELAY = dt.timedelta(minutes=15)
QUIET = dt.timedelta(hours=24)  # a day without failure: that pair starts from zero
SOURCE_LIMIT = 30  # failures from one address over all accounts …
SOURCE_WINDOW = dt.timedelta(hours=1)  # … within an hour from the first
WHOLE_SOURCE = ""  # `account` of the row counting the address as a whole


def delay_after(failures: int) -> dt.timedelta:
    """How long an (account, address) pair waits after `failures` wrong passwords:
    nothing for the first FREE_FAILURES, then 1 s, doubling, up to MAX_DELAY."""
    if failures < FREE_FAILURES:
        return dt.timedelta(0)
    return min(dt.timedelta(seconds=2 ** min(failures - FREE_FAILURES, 20)), MAX_DELAY)


def _keyed(uow: UnitOfWork, purpose: str, value: str, length: int) -> str:
    """A keyed digest (HMAC-SHA256 with SECRET_KEY): comparable, but neither the client
    address nor a typed email can be read back or found by hashing guesses."""
    key = uow.settings.secret_key.encode()
    message = f"{purpose}:{value}".encode("utf-8", "surrogatepass")
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:length]


def source_fingerprint(uow: UnitOfWork, client_address: str | None) -> str:
    """Which client address, as events and the admin page show it (never the address)."""
    return _keyed(uow, "staff-login-source", client_address or "unknown", 16)


_THROTTLE_ROWS = select(
    StaffLoginThrottle.account,
    StaffLoginThrottle.failures,
    StaffLoginThrottle.first_failure_at,
    StaffLoginThrottle.last_failure_at,
).where(
    StaffLoginThrottle.source == bindparam("source"),
    StaffLoginThrottle.account.in_(bindparam("accounts", expanding=True)),
)


def _throttled(uow: UnitOfWork, source: str, account: str, now: dt.datetime) -> bool:
    rows = {
        r.account: r
        for r in uow.session.execute(
            _THROTTLE_ROWS, {"source": source, "accounts": [account, WHOLE_SOURCE]}
        )
    }
    pair, whole = rows.get(account), rows.get(WHOLE_SOURCE)
    # A pair quiet for a day is forgotten, whatever its count.
    if (
        pair is not None
        and now - pair.last_failure_at < QUIET
        and now < pair.last_failure_at + delay_after(pair.failures)
    ):
        return True
    return (
        whole is not None
        and whole.failures >= SOURCE_LIMIT
        and now - whole.first_failure_at < SOURCE_WINDOW
    )


def _count_failure(
    uow: UnitOfWork, source: str, account: str, now: dt.datetime, *, looked_at: bool
) -> None:
    """One more failure for the address, and for the pair if the password was looked at
    (a throttled attempt neither counts nor makes the wait longer). The same two
    statements either way, shared by every worker through the database."""
    insert_ = pg_insert if uow.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    t = StaffLoginThrottle
    for row_account, restart_before, step in (
        (account, now - QUIET, 1 if looked_at else 0),
        (WHOLE_SOURCE, now - SOURCE_WINDOW, 1),
    ):
        # Quiet for long enough (the pair), or the hour over (the address): start again.
        restart = (
            t.last_failure_at < restart_before
            if row_account
            else (t.first_failure_at < restart_before)
        )
        statement = insert_(t).values(
            source=source,
            account=row_account,
            failures=step,
            first_failure_at=now,
            last_failure_at=now,
        )
        statement = statement.on_conflict_do_update(
            index_elements=[t.source, t.account],
            set_={
                "failures": case((restart, step), else_=t.failures + step),
                "first_failure_at": case((restart, now), else_=t.first_failure_at),
                "last_failure_at": now if step else t.last_failure_at,
            },
        )
        uow.session.execute(statement)


@dataclass(frozen=True)
class LoginResult:
    user_id: int | None
    roles: frozenset[str] = frozenset()
    name: str = ""
    message: str = ""
    session_token: str | None = None


_LOGIN_ROW = select(StaffUser.id, StaffUser.password_hash, StaffUser.active).where(
    StaffUser.email == bindparam("email")
)


def login(uow: UnitOfWork, email: str, password: str, client_address: str | None) -> LoginResult:
    """Check a staff login from `client_address`; on success, open her session.

    One message for every failure, and the same work: the throttle read, the account
    read (none for an address no account can have), one argon2 verification, two
    throttle counts and one event.
    """
    wrong = _("Adresse email ou mot de passe incorrect.")
    email = (email or "").strip().lower()
    well_formed = not typed.has_forbidden(email) and len(email) <= 320
    now = uow.now()
    source = source_fingerprint(uow, client_address)
    account = _keyed(uow, "staff-login-account", email, 32)
    throttled = _throttled(uow, source, account, now)
    # No account has a malformed address (and PostgreSQL refuses NUL bytes): not looked up.
    row = uow.session.execute(_LOGIN_ROW, {"email": email}).one_or_none() if well_formed else None
    matches = _password_matches(row.password_hash if row else None, password)
    reason = _failure(row, matches, throttled)
    if reason is not None:
        _count_failure(uow, source, account, now, looked_at=not throttled)
        actor = Actor("staff", str(row.id)) if row is not None else Actor("anonymous")
        record_event(
            uow, None, "staff_login_failed", actor, data={"reason": reason, "source": source}
        )
        uow.commit()
        return LoginResult(None, message=wrong)
    uow.session.execute(
        delete(StaffLoginThrottle).where(
            StaffLoginThrottle.source == source, StaffLoginThrottle.account == account
        )
    )
    # Counts nobody needs any more (quiet for a day) go as logins come.
    uow.session.execute(
        delete(StaffLoginThrottle).where(StaffLoginThrottle.last_failure_at < now - QUIET)
    )
    who = staff_member(uow, row.id)
    _audit(uow, "staff_login", row.id)
    token = sessions.open_session(uow, sessions.STAFF, row.id)  # commits it all
    return LoginResult(row.id, who.roles, who.name, session_token=token)


def _failure(row, matches: bool, throttled: bool) -> str | None:
    """Why the login fails (the event's reason code, for the admins), or None."""
    if throttled:
        return "throttled"  # even with the right password: the wait is not over
    if row is None:
        return "unknown"
    if not row.active:
        return "disabled"
    return None if matches else "password"


def _audit(uow: UnitOfWork, action: str, staff_id: int, **data) -> None:
    record_event(uow, None, action, Actor("staff", str(staff_id)), data=data or None)


# Who the session's staff member is now, read with the session's handle in one statement
# (one row per role), built once: this runs on every staff request.
_SESSION_STAFF_MEMBER = (
    select(StaffUser.display_name, StaffRole.role)
    .select_from(LoginSession)
    .join(StaffUser, StaffUser.id == LoginSession.subject_id)
    .outerjoin(StaffRole, StaffRole.user_id == StaffUser.id)
    .where(
        LoginSession.id == bindparam("session_id"),
        LoginSession.kind == sessions.STAFF,
        LoginSession.subject_id == bindparam("staff_id"),
        LoginSession.created_at > bindparam("not_before"),
        StaffUser.active.is_(True),
    )
)


def principal_data(uow: UnitOfWork, staff_id: int, session_token: str) -> LoginResult | None:
    """Who this staff member is now, while her session lives (None when it has ended or
    she is disabled): roles are re-read each request."""
    if not sessions.usable(session_token):
        return None
    rows = uow.session.execute(
        _SESSION_STAFF_MEMBER,
        {
            "session_id": sessions.digest(session_token),
            "staff_id": staff_id,
            "not_before": sessions.not_before(uow),
        },
    ).all()
    if not rows:
        return None
    roles = frozenset(r.role for r in rows if r.role)
    return LoginResult(staff_id, roles, rows[0].display_name, session_token=session_token)


@dataclass(frozen=True)
class StaffRow:
    id: int
    email: str
    display_name: str
    roles: tuple[str, ...]
    active: bool
    created_at: dt.datetime


def list_staff(uow: UnitOfWork) -> list[StaffRow]:
    users = uow.session.scalars(select(StaffUser).order_by(StaffUser.email)).all()
    return [
        StaffRow(u.id, u.email, u.display_name, tuple(sorted(u.role_names)), u.active, u.created_at)
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
    if set(roles) == user.role_names:
        return  # nothing changes, so nothing ends
    user.roles = [StaffRole(role=r) for r in roles]
    # New rights come with a new login: no session opened under the old ones goes on.
    sessions.end_all_of(uow, sessions.STAFF, user.id)
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
    if not active:
        # Ended, not merely refused while disabled: enabling again reopens none of them.
        sessions.end_all_of(uow, sessions.STAFF, user.id)
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


def reset_password(uow: UnitOfWork, actor_id: int, user_id: int) -> tuple[str, str]:
    """An admin gives someone a new password (forgotten, or possibly known to others):
    returns (email, password), shown once; the old one and every open session end."""
    _admin_guard(uow, actor_id)
    user = uow.session.get(StaffUser, user_id)
    if user is None:
        raise NotFound(_("Ce compte n'existe pas."))
    if user.id == actor_id:
        raise ValidationFailed(
            {
                "password": _(
                    "Votre propre mot de passe ne se change pas ici : demandez-le à un autre "
                    "administrateur."
                )
            }
        )
    password = generate_password()
    _set_password(uow, user, password)
    _audit(uow, "staff_password_reset", actor_id, user_id=user.id)
    uow.commit()
    return user.email, password


def end_sessions(uow: UnitOfWork, actor_id: int, user_id: int) -> tuple[str, int]:
    """An admin ends every open session of one account (a lost laptop, a shared screen);
    returns (email, how many)."""
    _admin_guard(uow, actor_id)
    user = uow.session.get(StaffUser, user_id)
    if user is None:
        raise NotFound(_("Ce compte n'existe pas."))
    count = sessions.end_all_of(uow, sessions.STAFF, user.id)
    _audit(uow, "staff_sessions_ended", actor_id, user_id=user.id, count=count)
    uow.commit()
    return user.email, count


def end_all_sessions(uow: UnitOfWork, actor_id: int, keep_token: str | None) -> int:
    """An admin ends every open session of every kind — staff, professionals, secretaries
    — but her own (`keep_token`), e.g. after a leak; returns how many."""
    _admin_guard(uow, actor_id)
    count = sessions.end_everyone_but(uow, keep_token)
    record_event(
        uow, None, "sessions_ended_all", Actor("staff", str(actor_id)), data={"count": count}
    )
    uow.commit()
    return count


# --- failed logins, for the admins -----------------------------------------------------------

FAILURES_SHOWN = dt.timedelta(days=7)
FAILURES_READ = 5000  # the newest failure events looked at: enough for a week's page


@dataclass(frozen=True)
class FailureRow:
    last_at: dt.datetime
    account_email: str | None  # None: no account has the address typed
    source: str  # source_fingerprint() of the client address
    count: int
    reasons: tuple[tuple[str, int], ...]  # (reason code, how many), most frequent first


def recent_login_failures(uow: UnitOfWork, actor_id: int) -> list[FailureRow]:
    """Failed staff logins of the last FAILURES_SHOWN, per (account, client address),
    newest first: for the admins only."""
    _admin_guard(uow, actor_id)
    events = uow.session.execute(
        select(Event.actor_id, Event.data, Event.created_at)
        .where(
            Event.action == "staff_login_failed",
            Event.created_at >= uow.now() - FAILURES_SHOWN,
        )
        .order_by(Event.id.desc())
        .limit(FAILURES_READ)
    ).all()
    groups: dict[tuple[str | None, str], list] = {}
    for e in events:
        data = e.data if isinstance(e.data, dict) else {}
        groups.setdefault((e.actor_id, str(data.get("source", ""))), []).append(
            (e.created_at, str(data.get("reason", "")))
        )
    ids = {int(actor) for actor, _source in groups if actor and actor.isdigit()}
    found = select(StaffUser.id, StaffUser.email).where(StaffUser.id.in_(ids))
    emails = {row.id: row.email for row in uow.session.execute(found)} if ids else {}
    rows = [
        FailureRow(
            max(at for at, _reason in seen),
            emails.get(int(actor)) if actor and actor.isdigit() else None,
            source,
            len(seen),
            tuple(Counter(reason for _at, reason in seen).most_common()),
        )
        for (actor, source), seen in groups.items()
    ]
    return sorted(rows, key=lambda r: r.last_at, reverse=True)
