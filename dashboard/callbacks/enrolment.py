"""The secretary's steps: translate between her browser and the enrolment service.

Her session (a signed, HttpOnly cookie) holds only the hash of her invitation token:
`invitation` until she presses "Commencer", then `enrolment`, with the handle of the
session that press opened (auth.enrolment_hash() reads it while it lives). Every callback
re-reads the enrolment's state from the database; the service refuses any step out of order.
"""

from __future__ import annotations

from dataclasses import dataclass

import flask
from dash import ClientsideFunction, Dash, Input, Output, State, no_update
from flask_limiter import RateLimitExceeded

from dashboard import auth, components, i18n, security
from dashboard.callbacks import disabled_while_running
from dashboard.callbacks.browser_input import text
from dashboard.enrolment import accounts, matricule, secretary, sessions
from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment.errors import DomainError, InvalidLink
from dashboard.enrolment.luxtrust import ClaimNames, device_from_claims, identity_from_claims
from dashboard.i18n import gettext as _
from dashboard.luxtrust import client as luxtrust

# The page where each state is worked on.
STEP_PATHS = {
    lc.DECLARED: "/enrolment/conditions",
    lc.CGU_ACCEPTED: "/enrolment/matricule",
    lc.MATRICULE_VERIFIED: "/enrolment/luxtrust",
    lc.IDENTITY_MISMATCH: "/enrolment/appareil",
}
RESULT_PATH = "/enrolment/resultat"
START_PATH = "/enrolment/debut"


def _backend():
    return flask.current_app.extensions["esante"]


@dataclass(frozen=True)
class SecretaryView:
    token_hash: str | None
    started: bool
    state: str | None = None
    problem: InvalidLink | None = None
    attempts_left: int | None = None


def current_view() -> SecretaryView:
    """Her enrolment as this request's session knows it."""
    started_hash = auth.enrolment_hash()
    token_hash = started_hash or flask.session.get("invitation")
    started = bool(started_hash)
    if not token_hash:
        return SecretaryView(None, False)
    be = _backend()
    with be.uow() as uow:
        try:
            status = secretary.session_status(uow, token_hash)
        except InvalidLink as exc:
            return SecretaryView(token_hash, started, problem=exc)
        return SecretaryView(token_hash, started, status.state, None, status.attempts_left)


def path_for(view: SecretaryView) -> str:
    if view.token_hash is None:
        return "/enrolment"
    if view.problem is not None:
        return RESULT_PATH
    if not view.started:
        return START_PATH
    return STEP_PATHS.get(view.state, RESULT_PATH)


def guard_step(path: str):
    """None when she belongs on `path`; otherwise what to show instead (redirect or message)."""
    view = current_view()
    if view.token_hash is None:
        return components.problem_panel(
            _(
                "Pour créer votre compte eSanté, ouvrez le lien reçu par email après la "
                "déclaration faite par votre médecin."
            ),
            title=_("Ouvrez le lien reçu par email"),
            tone="info",
        )
    target = path_for(view)
    if target != path:
        return components.redirect(target)
    return None


def problem_of_current_view() -> InvalidLink | None:
    return current_view().problem


# --- callbacks -------------------------------------------------------------------------------


@auth.require(auth.SECRETARY)
def start(n_clicks):
    if not n_clicks:
        return no_update, no_update
    started_hash = auth.enrolment_hash()
    token_hash = flask.session.get("invitation") or started_hash
    with _backend().uow() as uow:
        try:
            status = secretary.open_invitation(uow, token_hash, i18n.current_language())
        except InvalidLink:
            return RESULT_PATH, ""
    if started_hash != token_hash:  # a second press keeps the session the first opened
        auth.start_secretary_session(sessions.ENROLMENT, status.enrolment_id, token_hash)
    return STEP_PATHS[lc.DECLARED], ""


def _session_hash() -> str:
    token_hash = auth.enrolment_hash()
    if not token_hash:
        flask.abort(403)  # the secretary must have started from her link
    return token_hash


@auth.require(auth.SECRETARY)
def accept_cgu(n_clicks, accepted, version):
    if not n_clicks:
        return no_update, no_update
    if not accepted:
        return no_update, _(
            "Cochez la case pour indiquer que vous acceptez les Conditions Générales d'Utilisation."
        )
    with _backend().uow() as uow:
        try:
            secretary.accept_cgu(uow, _session_hash(), text(version) or "", i18n.current_language())
        except InvalidLink:
            return RESULT_PATH, ""
        except DomainError as exc:
            return no_update, exc.message
    return STEP_PATHS[lc.CGU_ACCEPTED], ""


@auth.require(auth.SECRETARY)
def check_matricule(n_clicks, n_submit, typed):
    if not (n_clicks or n_submit):
        return no_update, no_update, no_update
    try:
        security.check_limit("matricule")  # per client, beside the 5 attempts per enrolment
    except RateLimitExceeded:
        return no_update, security.too_many_message(), True
    with _backend().uow() as uow:
        try:
            result = secretary.verify_matricule(
                uow, _session_hash(), text(typed) or "", i18n.current_language()
            )
        except matricule.InvalidMatricule as exc:
            return no_update, str(exc), True
        except InvalidLink:
            return RESULT_PATH, "", False
        except DomainError as exc:
            return no_update, exc.message, True
    if result.verified:
        return STEP_PATHS[lc.MATRICULE_VERIFIED], "", False
    if result.locked:
        return RESULT_PATH, "", True
    return no_update, result.message, True


@auth.require(auth.SECRETARY)
def confirm_device(yes_clicks, no_clicks):
    from dash import ctx

    if not (yes_clicks or no_clicks):
        return no_update, no_update
    confirmed = ctx.triggered_id == "device-yes"
    with _backend().uow() as uow:
        try:
            state = secretary.confirm_personal_device(
                uow, _session_hash(), confirmed, i18n.current_language()
            )
        except InvalidLink:
            return RESULT_PATH, ""
        except DomainError as exc:
            return no_update, exc.message
    return (RESULT_PATH if state == lc.PENDING_REVIEW else STEP_PATHS[lc.MATRICULE_VERIFIED]), ""


def register(app: Dash) -> None:
    app.callback(
        Output("start-nav", "href"),
        Output("start-error", "children"),
        Input("start-button", "n_clicks"),
        prevent_initial_call=True,
        running=disabled_while_running("start-button"),
    )(start)
    app.callback(
        Output("cgu-nav", "href"),
        Output("cgu-accepted-error", "children"),
        Input("cgu-submit", "n_clicks"),
        State("cgu-accepted", "value"),
        State("cgu-version", "data"),
        prevent_initial_call=True,
        running=disabled_while_running("cgu-submit"),
    )(accept_cgu)
    app.callback(
        Output("matricule-nav", "href"),
        Output("matricule-input-error", "children"),
        Output("matricule-input", "invalid"),
        Input("matricule-submit", "n_clicks"),
        Input("matricule-input", "n_submit"),
        State("matricule-input", "value"),
        prevent_initial_call=True,
        # One check per click (the service also charges a repeated wrong value only once).
        running=disabled_while_running("matricule-submit"),
    )(check_matricule)
    app.callback(
        Output("device-nav", "href"),
        Output("device-error", "children"),
        Input("device-yes", "n_clicks"),
        Input("device-no", "n_clicks"),
        prevent_initial_call=True,
        running=disabled_while_running("device-yes", "device-no"),
    )(confirm_device)
    # Her tick and her typing kept across the language switch (a reload of the page), in
    # this tab's sessionStorage only, and forgotten when she submits (assets/step-focus.js).
    app.clientside_callback(
        ClientsideFunction("secretary", "keep_draft"),
        Output("cgu-accepted", "value"),
        Output("cgu-draft", "data"),
        Input("cgu-accepted", "value"),
        Input("cgu-draft", "data"),
        Input("cgu-submit", "n_clicks"),
    )
    app.clientside_callback(
        ClientsideFunction("secretary", "keep_draft"),
        Output("matricule-input", "value"),
        Output("matricule-draft", "data"),
        Input("matricule-input", "value"),
        Input("matricule-draft", "data"),
        Input("matricule-submit", "n_clicks"),
        Input("matricule-input", "n_submit"),
    )


# --- LuxTrust logins ---------------------------------------------------------------------------


@luxtrust.on_login("enrolment")
def enrolment_login(claims: dict) -> str:
    token_hash = auth.enrolment_hash()
    if not token_hash:
        return "/enrolment"
    be = _backend()
    names = ClaimNames.from_settings(be.settings)
    with be.uow() as uow:
        try:
            result = secretary.record_luxtrust_identity(
                uow,
                token_hash,
                identity_from_claims(claims, names),
                subject=claims.get("sub"),
                device=device_from_claims(claims, names),
                language=i18n.current_language(),
            )
        except InvalidLink:
            return RESULT_PATH
        except DomainError:
            return "/enrolment"
    if result.state == lc.ACCOUNT_CREATED:
        return RESULT_PATH
    return STEP_PATHS.get(result.state, RESULT_PATH)


@luxtrust.on_login("account")
def account_login(claims: dict) -> str:
    be = _backend()
    names = ClaimNames.from_settings(be.settings)
    with be.uow() as uow:
        account_id = accounts.find_account(
            uow, claims.get("sub"), identity_from_claims(claims, names).matricule
        )
    if account_id is None:
        return "/mon-compte?erreur=inconnu"
    auth.end_secretary_session(sessions.ACCOUNT)  # one "Mon compte" session per browser
    auth.start_secretary_session(sessions.ACCOUNT, account_id)
    return "/mon-compte"


def account_view():
    account_id = auth.account_id()
    if not account_id:
        return None
    with _backend().uow() as uow:
        try:
            return accounts.account_overview(uow, account_id)
        except DomainError:
            auth.end_secretary_session(sessions.ACCOUNT)
            return None
