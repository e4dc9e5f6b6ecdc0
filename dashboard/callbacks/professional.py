"""The health professional's pages: translate between his browser and the service.

Who he is comes from his flask-login session only, never from the browser's data; every
action on a declaration goes through the service's ownership check.
"""

from __future__ import annotations

import flask
from dash import Dash, Input, Output, State, ctx, no_update
from flask_limiter import RateLimitExceeded
from flask_login import current_user

from dashboard import auth, i18n, security
from dashboard.callbacks import disabled_while_running
from dashboard.callbacks.browser_input import first_row, record_id, text
from dashboard.enrolment import declarations, kernel, sessions
from dashboard.enrolment.errors import (
    DomainError,
    DuplicateDeclaration,
    NotFound,
    ValidationFailed,
)
from dashboard.enrolment.working_days import LUXEMBOURG
from dashboard.i18n import gettext as _
from dashboard.luxtrust import client as luxtrust

FIELDS = ("last_name", "first_names", "matricule", "email", "email_confirm", "phone")
FIELD_IDS = {name: "decl-" + name.replace("_", "-") for name in FIELDS}


def _backend():
    return flask.current_app.extensions["esante"]


def _me() -> int:
    if not auth.has_role(auth.PROFESSIONAL):
        flask.abort(403)
    return current_user.id


@luxtrust.on_login("professional")
def professional_login(claims: dict) -> str:
    with _backend().uow() as uow:
        prof = declarations.professional_for_subject(uow, claims.get("sub"))
        if prof is None:
            return "/professionnel/connexion?erreur=inconnu_pro"
        prof_id, name = prof.id, prof.display_name
        declarations.remember_professional_language(uow, prof_id, i18n.current_language())
        token = sessions.open_session(uow, sessions.PROFESSIONAL, prof_id)
    # A new session for the logged-in professional (no fixation of an earlier one).
    auth.log_in(auth.Principal("professional", prof_id, {auth.PROFESSIONAL}, name, token))
    return "/professionnel"


def login_error(code: str | None) -> str | None:
    if code == "inconnu_pro":
        return _(
            "Votre identité LuxTrust n'est pas enregistrée comme professionnel de santé auprès "
            "de l'Agence eSanté."
        )
    return luxtrust.error_message(code)


# --- declaring ---------------------------------------------------------------------------------


def declaration_to_correct(enrolment_id) -> declarations.DeclarationRow | None:
    """Prefill of the form when he corrects a declaration (his own only)."""
    enrolment_id = record_id(enrolment_id)
    if enrolment_id is None:
        return None
    with _backend().uow() as uow:
        try:
            return declarations.get_declaration(uow, enrolment_id, _me())
        except DomainError:
            return None


def _errors_out(errors: dict[str, str]) -> list:
    return [errors.get(name, "") for name in FIELDS] + [bool(errors.get(name)) for name in FIELDS]


@auth.require(auth.PROFESSIONAL)
def submit_declaration(
    n_clicks, last_name, first_names, matricule, email, email_confirm, phone, correcting
):
    if not n_clicks:
        return (no_update,) * (2 + 2 * len(FIELDS))
    me = _me()
    last_name, first_names, matricule, email, email_confirm, phone = (
        text(v) for v in (last_name, first_names, matricule, email, email_confirm, phone)
    )
    errors: dict[str, str] = {}
    try:
        declarations.validate_declaration(last_name, first_names, matricule, email, phone)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if (email or "").strip().lower() != (email_confirm or "").strip().lower():
        errors["email_confirm"] = _("Les deux adresses email ne sont pas identiques.")
    if errors:
        summary = _("Corrigez les champs indiqués ; rien n'a été enregistré.")
        return (summary, None, *_errors_out(errors))
    data = dict(
        last_name=last_name,
        first_names=first_names,
        matricule=matricule,
        email=email,
        phone=phone,
        language=i18n.current_language(),  # his invitation goes out in his language
    )
    with _backend().uow() as uow:
        try:
            if correcting:
                old_id = record_id(correcting)
                if old_id is None:
                    raise NotFound(_("Cette déclaration n'existe pas."))
                declarations.redeclare(uow, old_id, me, **data)
            else:
                declarations.declare(uow, me, if_open="refuse", **data)
        except DuplicateDeclaration as exc:
            return (exc.message, None, *_errors_out({"matricule": exc.message}))
        except ValidationFailed as exc:
            return (
                _("Corrigez les champs indiqués ; rien n'a été enregistré."),
                None,
                *_errors_out(exc.errors),
            )
        except DomainError as exc:
            return (exc.message, None, *_errors_out({}))
    done = _(
        "La déclaration a été enregistrée. Votre secrétaire va recevoir un email contenant un "
        "lien lui permettant de créer son compte eSanté : elle devra accepter les Conditions "
        "Générales d'Utilisation, saisir son matricule puis vérifier son identité avec son "
        "dispositif LuxTrust. Vous serez informé par email de la création de son compte."
    )
    return ("", done, *_errors_out({}))


# --- my declarations ---------------------------------------------------------------------------


def _local(moment) -> str:
    # Sortable text, in Luxembourg time (what the professional's clock says).
    return moment.astimezone(LUXEMBOURG).strftime("%Y-%m-%d %H:%M")


def _rows(professional_id: int) -> list[dict]:
    with _backend().uow() as uow:
        rows = declarations.list_declarations(uow, professional_id)
    return [
        {
            "id": r.enrolment_id,
            "secretary": f"{r.first_names} {r.last_name}",
            "matricule": r.matricule,
            "email": r.email,
            "state": r.state,
            "state_label": r.state_label,
            # What the grid shows: the states that call for his attention in bold.
            "state_display": f"**{r.state_label}**"
            if r.state in ("locked", "expired", "rejected", "account_created")
            else r.state_label,
            "declared_at": _local(r.declared_at),
            "updated_at": _local(r.updated_at),
            "expires_at": _local(r.expires_at) if r.can_resend else "",
            "can_resend": r.can_resend,
            "can_cancel": r.can_cancel,
            "can_redeclare": r.can_redeclare,
            "can_declare_again": r.can_declare_again,
        }
        for r in rows
    ]


@auth.require(auth.PROFESSIONAL)
def load_declarations(_loaded):
    return _rows(_me())


@auth.require(auth.PROFESSIONAL)
def selection_actions(selected):
    row = first_row(selected)
    if not row:
        return True, True, True, "#"
    return (
        not (row.get("can_resend") or row.get("can_declare_again")),
        not row.get("can_cancel"),
        not row.get("can_redeclare"),
        f"/professionnel/declarer?corriger={record_id(row.get('id')) or ''}",
    )


@auth.require(auth.PROFESSIONAL)
def act_on_declaration(resend_clicks, cancel_confirmed, selected):
    me = _me()
    row = first_row(selected)
    if not row or not ctx.triggered_id:
        return no_update, no_update, no_update
    enrolment_id = record_id(row.get("id"))
    if enrolment_id is None:
        return _("Cette déclaration n'existe pas."), "warning", _rows(me)
    if ctx.triggered_id == "decl-resend":
        try:
            security.check_limit("resend")
        except RateLimitExceeded:
            return security.too_many_message(), "warning", no_update
    with _backend().uow() as uow:
        try:
            if ctx.triggered_id == "decl-resend":
                # An expired one is declared again in the same click (issue 21).
                declarations.send_new_invitation(uow, enrolment_id, me)
                email = declarations.get_declaration(uow, enrolment_id, me).email
                message = _(
                    "Une nouvelle invitation a été envoyée à {email}. Le lien précédent ne "
                    "fonctionne plus.",
                    email=email,
                )
            else:
                declarations.cancel(
                    uow, enrolment_id, kernel.Actor("professional", str(me)), professional_id=me
                )
                message = _("La déclaration a été annulée ; le lien envoyé ne fonctionne plus.")
            color = "success"
        except DomainError as exc:
            message, color = exc.message, "warning"
    return message, color, _rows(me)


def register(app: Dash) -> None:
    outputs = [Output("decl-summary", "children"), Output("decl-result", "children")]
    outputs += [Output(f"{FIELD_IDS[n]}-error", "children") for n in FIELDS]
    outputs += [Output(FIELD_IDS[n], "invalid") for n in FIELDS]
    app.callback(
        *outputs,
        Input("decl-submit", "n_clicks"),
        *[State(FIELD_IDS[n], "value") for n in FIELDS],
        State("decl-correcting", "data"),
        prevent_initial_call=True,
        # One declaration per click: a second click while it is stored would be refused
        # as a duplicate and hide the confirmation.
        running=disabled_while_running("decl-submit"),
    )(submit_declaration)
    app.callback(
        Output("declarations-grid", "rowData"),
        Input("declarations-loaded", "data"),
    )(load_declarations)
    app.callback(
        Output("decl-resend", "disabled"),
        Output("decl-cancel", "disabled"),
        Output("decl-correct", "disabled"),
        Output("decl-correct", "href"),
        Input("declarations-grid", "selectedRows"),
    )(selection_actions)
    app.callback(
        Output("decl-cancel-confirm", "displayed"),
        Input("decl-cancel", "n_clicks"),
        prevent_initial_call=True,
    )(auth.require(auth.PROFESSIONAL)(lambda n: bool(n)))
    app.callback(
        Output("decl-action-message", "children"),
        Output("decl-action-message", "color"),
        Output("declarations-grid", "rowData", allow_duplicate=True),
        Input("decl-resend", "n_clicks"),
        Input("decl-cancel-confirm", "submit_n_clicks"),
        State("declarations-grid", "selectedRows"),
        prevent_initial_call=True,
        # A second click would send a second invitation (and kill the first link).
        running=disabled_while_running("decl-actions"),
    )(act_on_declaration)
