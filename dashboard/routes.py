"""Plain Flask routes that are not Dash pages: the emailed link, logouts, health."""

from __future__ import annotations

import flask

from dashboard import auth, security
from dashboard.enrolment import sessions
from dashboard.enrolment.kernel import hash_token

MAX_TOKEN_LENGTH = 128


def _no_store(response: flask.Response) -> flask.Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _is_step(path: str) -> bool:
    """The secretary's step pages (and her link): /enrolment and everything under it."""
    return path == "/enrolment" or path.startswith("/enrolment/")


def steps_not_stored(response: flask.Response) -> flask.Response:
    """A step is never kept by the browser (HTTP cache, back-forward cache): Back after her
    account was created loads the page again, and the server shows the result, not a live
    step (the layouts send her where her enrolment is)."""
    if _is_step(flask.request.path):
        response.headers["Cache-Control"] = "no-store"
    return response


def invitation(token: str):
    """The emailed link. A GET writes nothing to the database (mail scanners open links);
    the token's hash moves into her signed session cookie and the token leaves the URL."""
    if len(token) > MAX_TOKEN_LENGTH:
        flask.abort(404)
    token_hash = hash_token(token)
    if auth.enrolment_hash() != token_hash:
        # Another link (or a session that ended): start from this one. Only the cookie
        # changes — a GET writes nothing to the database.
        for key in ("enrolment", auth.ENROLMENT_SESSION):
            flask.session.pop(key, None)
        flask.session["invitation"] = token_hash
    return _no_store(flask.redirect("/enrolment/debut", 303))


def leave_enrolment():
    auth.end_secretary_session(sessions.ENROLMENT)
    return _no_store(flask.redirect("/", 303))


def leave_account():
    auth.end_secretary_session(sessions.ACCOUNT)
    return _no_store(flask.redirect("/", 303))


def leave_professional():
    auth.log_out()
    return _no_store(flask.redirect("/professionnel/connexion", 303))


def staff_login():
    """Email and password from the back-office login form (a plain POST, for password managers)."""
    from dashboard.auth import Principal
    from dashboard.enrolment import staff

    email = flask.request.form.get("email", "")[:320]
    password = flask.request.form.get("password", "")[:1024]
    # The address the throttle counts, as the rate limits see it (TRUSTED_PROXIES).
    with flask.current_app.extensions["esante"].uow() as uow:
        result = staff.login(uow, email, password, security.client_address())
    if result.user_id is None:
        flask.session["login_error"] = result.message
        flask.session["login_email"] = email
        return _no_store(flask.redirect("/backoffice/connexion", 303))
    # A fresh session: no fixation of the one before login.
    auth.log_in(Principal("staff", result.user_id, result.roles, result.name, result.session_token))
    target = "/backoffice" if "reviewer" in result.roles else "/backoffice/accueil"
    return _no_store(flask.redirect(target, 303))


def staff_logout():
    auth.log_out()
    return _no_store(flask.redirect("/backoffice/connexion", 303))


def health():
    return {"status": "ok"}


def init_app(server: flask.Flask) -> None:
    server.add_url_rule("/enrolment/invitation/<token>", view_func=invitation)
    server.add_url_rule("/enrolment/quitter", view_func=leave_enrolment, methods=["POST"])
    server.add_url_rule("/mon-compte/deconnexion", view_func=leave_account, methods=["POST"])
    server.add_url_rule(
        "/professionnel/deconnexion", view_func=leave_professional, methods=["POST"]
    )
    server.add_url_rule(
        "/backoffice/login",
        view_func=security.limited("staff_login")(staff_login),
        methods=["POST"],
    )
    server.add_url_rule("/backoffice/deconnexion", view_func=staff_logout, methods=["POST"])
    server.add_url_rule("/healthz", view_func=health)
    server.after_request(steps_not_stored)
