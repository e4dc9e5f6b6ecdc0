"""Who is asking: the one guard for page layouts AND callbacks, checked on the server.

Dash serves every layout and every callback through POST /_dash-update-component, which
anyone can call; hiding a link protects nothing. So each layout function and each callback
declares who may use it, and `require()` checks that against the server-side session.

Every session has a handle in the database (`dashboard.enrolment.sessions`), checked on
every request: staff and professionals through flask-login (the handle's token is part of
the user id it keeps), secretaries through `enrolment_hash()` and `account_id()`. Ending
a session deletes the handle, so a copy of the cookie dies with it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable

import flask
from flask_login import LoginManager, current_user, login_user, logout_user

from dashboard.enrolment import sessions

PUBLIC = "public"
SECRETARY = "secretary"  # holds an enrolment session (from her invitation link)
ACCOUNT_HOLDER = "account"  # logged in to "Mon compte" (her account session)
PROFESSIONAL = "professional"
REVIEWER = "reviewer"
LEAD = "lead"  # the reviewers' team lead: their load, reassignment in bulk
MANAGER = "manager"
ADMIN = "admin"
DEVELOPER = "developer"  # development-only tools (dev mailbox); never in production
ROLES = (PUBLIC, SECRETARY, ACCOUNT_HOLDER, PROFESSIONAL, REVIEWER, LEAD, MANAGER, ADMIN, DEVELOPER)

login_manager = LoginManager()


class Principal:
    """A logged-in person known to flask-login: staff or professional, in one session."""

    def __init__(self, kind: str, id_: int, roles: Iterable[str], name: str, session_token: str):
        self.kind = kind
        self.id = id_
        self.roles = frozenset(roles)
        self.name = name
        self.session_token = session_token
        self.is_authenticated = True
        self.is_active = True
        self.is_anonymous = False

    def get_id(self) -> str:
        return user_id_of(self.kind, self.id, self.session_token)


def user_id_of(kind: str, id_: int, session_token: str) -> str:
    """What flask-login keeps in the cookie: who, and which of her sessions (flask-login's
    "alternative token": ending the session changes what the id can load)."""
    return f"{kind}:{id_}:{session_token}"


def parse_user_id(user_id) -> tuple[str, int, str] | None:
    """(kind, id, session token) from flask-login's user id, or None if it is not one."""
    parts = user_id.split(":", 2) if isinstance(user_id, str) else []
    if len(parts) != 3 or not (parts[1].isascii() and parts[1].isdigit()):
        return None
    if len(parts[1]) > 9 or not sessions.usable(parts[2]):
        return None  # no id of ours is that long (nor overflows a database integer)
    return parts[0], int(parts[1]), parts[2]


def current_roles() -> frozenset[str]:
    roles = {PUBLIC}
    if getattr(current_user, "is_authenticated", False):
        roles |= set(current_user.roles)
    if flask.session.get("invitation") or enrolment_hash():
        roles.add(SECRETARY)
    if flask.session.get(ACCOUNT_SESSION) and account_id():
        roles.add(ACCOUNT_HOLDER)
    settings = flask.current_app.extensions["esante"].settings
    if settings.env != "production" and settings.uses_dev_mailbox:
        roles.add(DEVELOPER)
    return frozenset(roles)


def has_role(*roles: str) -> bool:
    return bool(current_roles() & set(roles))


def require(*roles: str) -> Callable:
    """Decorate a callback or layout function: refuse with 403 unless one of `roles`."""

    def wrap(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def guarded(*args, **kwargs):
            if not has_role(*roles):
                flask.abort(403)
            return fn(*args, **kwargs)

        guarded.allowed_roles = frozenset(roles)
        return guarded

    return wrap


STAFF_IDLE_MINUTES = 30
# last_seen moves in steps of a minute: within a step the session is unchanged, so it is
# not signed and sent again on every request (the idle limit is kept to the minute).
LAST_SEEN_STEP_SECONDS = 60


def _backend():
    return flask.current_app.extensions["esante"]


def expire_idle_staff():
    """Log staff out after STAFF_IDLE_MINUTES without a request (shared screens in offices).

    Time comes from the service's clock, as everywhere, so that tests move it by hand."""
    if getattr(current_user, "kind", None) != "staff":
        return None
    now = int(_backend().clock().timestamp())
    last = flask.session.get("last_seen", now)
    if now - last > STAFF_IDLE_MINUTES * 60:
        log_out()
        flask.session["expired"] = True
        return None
    if now - last >= LAST_SEEN_STEP_SECONDS or "last_seen" not in flask.session:
        flask.session["last_seen"] = now
    return None


def init_app(server: flask.Flask, user_loader: Callable[[str], Principal | None]) -> None:
    login_manager.init_app(server)
    login_manager.user_loader(user_loader)


def page(*roles: str) -> Callable:
    """Decorate a page's layout function: others get an "access refused" page, no data."""

    def wrap(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def guarded(*args, **kwargs):
            if not has_role(*roles):
                return denied()
            return fn(*args, **kwargs)

        guarded.allowed_roles = frozenset(roles)
        return guarded

    return wrap


def denied():
    from dash import dcc, html

    from dashboard.i18n import gettext as _

    if flask.session.get("expired") or flask.session.get("ended"):
        # A staff session that ended (idle, past its lifetime, or ended on the server):
        # say so, and lead back to the login form.
        return html.Div(
            [
                html.H1(_("Session expirée")),
                html.P(
                    _("Votre session a expiré après 30 minutes d'inactivité.")
                    if flask.session.get("expired")
                    else _("Votre session a pris fin ; reconnectez-vous.")
                ),
                html.A(_("Se reconnecter"), href="/backoffice/connexion"),
            ],
            role="alert",
            id="access-denied",
        )
    return html.Div(
        [
            html.H1(_("Accès refusé")),
            html.P(_("Cette page est réservée aux personnes autorisées.")),
            dcc.Link(_("Retour à l'accueil"), href="/"),
        ],
        role="alert",
        id="access-denied",
    )


def fresh_session() -> None:
    """Start a clean session (at login and logout), keeping only the CSRF secret, so that
    pages already open in the browser keep working. Whatever sessions the old one held
    end on the server too: a copy of the old cookie opens nothing."""
    _end_held_sessions()
    token = flask.session.get("csrf_token")
    flask.session.clear()
    if token is not None:
        flask.session["csrf_token"] = token


def log_in(principal: Principal) -> None:
    """A staff member or professional whose session (principal.session_token) was just
    opened: a fresh cookie, so that no session from before the login carries on."""
    fresh_session()
    login_user(principal)


def log_out() -> None:
    fresh_session()
    logout_user()


def session_refused(kind: str) -> None:
    """flask-login's loader found no live session behind the cookie's user id: forget the
    id (no second look at each request), and tell staff their session ended."""
    for key in ("_user_id", "_fresh", "_id"):
        flask.session.pop(key, None)
    if kind == "staff":
        flask.session["ended"] = True


# --- the secretary's sessions ---------------------------------------------------------------
# Both live beside anything else in the cookie: `enrolment` (her invitation token's hash, as
# the service knows her) with its handle, and `account` with its handle.

ENROLMENT_SESSION = "enrolment_session"
ACCOUNT_SESSION = "account_session"


def hold_session(
    session, kind: str, subject_id: int, token: str, token_hash: str | None = None
) -> None:
    """Write into `session` (a cookie's mapping) what a just opened session of `kind` keeps."""
    if kind in (sessions.STAFF, sessions.PROFESSIONAL):
        session["_user_id"] = user_id_of(kind, subject_id, token)
        session["_fresh"] = True
    elif kind == sessions.ENROLMENT:
        session.pop("invitation", None)
        session["enrolment"] = token_hash
        session[ENROLMENT_SESSION] = token
    elif kind == sessions.ACCOUNT:
        session["account"] = subject_id
        session[ACCOUNT_SESSION] = token
    else:
        raise ValueError(f"unknown session kind {kind!r}")


def _live(kind: str, key: str, token_key: str):
    """The cookie's `key` while its session of `kind` lives, else None (the keys dropped).
    One indexed read per request, and only for requests that ask."""
    checked = flask.g.setdefault("esante_secretary_sessions", {})
    if kind not in checked:
        value, token = flask.session.get(key), flask.session.get(token_key)
        subject = None
        if value and token:
            with _backend().uow() as uow:
                subject = sessions.live_subject(uow, kind, token)
        if subject is None or (kind == sessions.ACCOUNT and subject != value):
            if value or token:
                flask.session.pop(key, None)
                flask.session.pop(token_key, None)
            value = None
        checked[kind] = value
    return checked[kind]


def enrolment_hash() -> str | None:
    """Her invitation token's hash while the enrolment session she started lives."""
    return _live(sessions.ENROLMENT, "enrolment", ENROLMENT_SESSION)


def account_id() -> int | None:
    """The secretary account of this "Mon compte" session while it lives."""
    return _live(sessions.ACCOUNT, "account", ACCOUNT_SESSION)


def start_secretary_session(kind: str, subject_id: int, token_hash: str | None = None) -> None:
    """Open her enrolment session (she pressed « Commencer ») or her "Mon compte" one."""
    with _backend().uow() as uow:
        token = sessions.open_session(uow, kind, subject_id)
    hold_session(flask.session, kind, subject_id, token, token_hash)
    flask.g.pop("esante_secretary_sessions", None)


def end_secretary_session(kind: str) -> None:
    """She leaves: her enrolment or "Mon compte" session ends on the server."""
    if kind == sessions.ENROLMENT:
        key, token_key = "enrolment", ENROLMENT_SESSION
    else:
        key, token_key = "account", ACCOUNT_SESSION
    token = flask.session.pop(token_key, None)
    flask.session.pop(key, None)
    if kind == sessions.ENROLMENT:
        flask.session.pop("invitation", None)
    _end_tokens([token])
    flask.g.pop("esante_secretary_sessions", None)


def _end_held_sessions() -> None:
    held = [flask.session.get(ENROLMENT_SESSION), flask.session.get(ACCOUNT_SESSION)]
    parsed = parse_user_id(flask.session.get("_user_id"))
    if parsed is not None:
        held.append(parsed[2])
    _end_tokens(held)
    flask.g.pop("esante_secretary_sessions", None)


def _end_tokens(tokens) -> None:
    tokens = [t for t in tokens if sessions.usable(t)]
    if tokens:
        with _backend().uow() as uow:
            sessions.end(uow, tokens)
