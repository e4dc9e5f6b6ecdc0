"""Who is asking: the one guard for page layouts AND callbacks, checked on the server.

Dash serves every layout and every callback through POST /_dash-update-component, which
anyone can call; hiding a link protects nothing. So each layout function and each callback
declares who may use it, and `require()` checks that against the server-side session.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable

import flask
from flask_login import LoginManager, current_user

PUBLIC = "public"
SECRETARY = "secretary"  # holds an enrolment session (from her invitation link)
PROFESSIONAL = "professional"
REVIEWER = "reviewer"
MANAGER = "manager"
ADMIN = "admin"
DEVELOPER = "developer"  # development-only tools (dev mailbox); never in production
ROLES = (PUBLIC, SECRETARY, PROFESSIONAL, REVIEWER, MANAGER, ADMIN, DEVELOPER)

login_manager = LoginManager()


class Principal:
    """A logged-in person known to flask-login: staff or professional."""

    def __init__(self, kind: str, id_: int, roles: Iterable[str], name: str = ""):
        self.kind = kind
        self.id = id_
        self.roles = frozenset(roles)
        self.name = name
        self.is_authenticated = True
        self.is_active = True
        self.is_anonymous = False

    def get_id(self) -> str:
        return f"{self.kind}:{self.id}"


def current_roles() -> frozenset[str]:
    roles = {PUBLIC}
    if getattr(current_user, "is_authenticated", False):
        roles |= set(current_user.roles)
    if flask.session.get("enrolment") or flask.session.get("invitation"):
        roles.add(SECRETARY)
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


def expire_idle_staff():
    """Log staff out after STAFF_IDLE_MINUTES without a request (shared screens in offices)."""
    import time

    from flask_login import logout_user

    if getattr(current_user, "kind", None) != "staff":
        return None
    now = int(time.time())
    last = flask.session.get("last_seen", now)
    if now - last > STAFF_IDLE_MINUTES * 60:
        logout_user()
        fresh_session()
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

    if flask.session.get("expired"):
        # Idle staff session: say so, and lead back to the login form.
        return html.Div(
            [
                html.H1(_("Session expirée")),
                html.P(_("Votre session a expiré après 30 minutes d'inactivité.")),
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
    pages already open in the browser keep working."""
    token = flask.session.get("csrf_token")
    flask.session.clear()
    if token is not None:
        flask.session["csrf_token"] = token
