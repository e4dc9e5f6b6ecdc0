"""Plain Flask routes that are not Dash pages: the emailed link, logouts, health."""

from __future__ import annotations

import flask

from dashboard.enrolment.services import hash_token

MAX_TOKEN_LENGTH = 128


def _no_store(response: flask.Response) -> flask.Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def invitation(token: str):
    """The emailed link. A GET writes nothing to the database (mail scanners open links);
    the token's hash moves into her signed session cookie and the token leaves the URL."""
    if len(token) > MAX_TOKEN_LENGTH:
        flask.abort(404)
    token_hash = hash_token(token)
    if flask.session.get("enrolment") != token_hash:
        flask.session.pop("enrolment", None)
        flask.session["invitation"] = token_hash
    return _no_store(flask.redirect("/enrolment/debut", 303))


def leave_enrolment():
    for key in ("invitation", "enrolment"):
        flask.session.pop(key, None)
    return _no_store(flask.redirect("/", 303))


def leave_account():
    flask.session.pop("account", None)
    return _no_store(flask.redirect("/", 303))


def health():
    return {"status": "ok"}


def init_app(server: flask.Flask) -> None:
    server.add_url_rule("/enrolment/invitation/<token>", view_func=invitation)
    server.add_url_rule("/enrolment/quitter", view_func=leave_enrolment, methods=["POST", "GET"])
    server.add_url_rule("/mon-compte/deconnexion", view_func=leave_account, methods=["POST", "GET"])
    server.add_url_rule("/healthz", view_func=health)
