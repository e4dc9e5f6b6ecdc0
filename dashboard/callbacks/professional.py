"""The health professional's pages: translate between his browser and the service.

Who he is comes from his flask-login session only, never from the browser's data; every
action on a declaration goes through the service's ownership check.
"""

from __future__ import annotations

from dataclasses import dataclass

import flask
from dash import Dash, Input, Output, State, ctx, no_update
from flask_limiter import RateLimitExceeded
from flask_login import current_user

from dashboard import auth, declaration_layout, i18n, security
from dashboard.callbacks import disabled_while_running
from dashboard.callbacks.browser_input import first_row, mapping, record_id, text
from dashboard.enrolment import declarations, kernel, sessions
from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment.errors import (
    DomainError,
    DuplicateDeclaration,
    NotFound,
    ValidationFailed,
)
from dashboard.enrolment.working_days import LUXEMBOURG
from dashboard.i18n import gettext as _
from dashboard.i18n import long_date
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
        return (_summary(), None, *_errors_out(errors))
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
                result = declarations.redeclare(uow, old_id, me, **data)
            else:
                result = declarations.declare(uow, me, if_open="refuse", **data)
            sent = declarations.get_declaration(uow, result.enrolment_id, me)
        except DuplicateDeclaration as exc:
            # Said once, under the field (and linked from the summary); the box says only
            # that nothing was stored.
            return (_summary(), None, *_errors_out({"matricule": exc.message}))
        except ValidationFailed as exc:
            return (_summary(), None, *_errors_out(exc.errors))
        except DomainError as exc:
            return (exc.message, None, *_errors_out({}))
        days = uow.settings.invitation_days
    return ("", declaration_layout.sent_message(sent, days), *_errors_out({}))


def _summary() -> str:
    return _("Corrigez les champs indiqués ; rien n'a été enregistré.")


@auth.require(auth.PROFESSIONAL)
def show_declared(result):
    """Once stored: the confirmation instead of the form, and the form emptied (a second
    click can neither look like a failure nor declare her twice)."""
    _me()
    if not (isinstance(result, str) and result):
        return (no_update,) * (4 + len(FIELDS))
    return (True, False, _("Invitation envoyée"), None, *([""] * len(FIELDS)))


# --- my declarations ---------------------------------------------------------------------------


def _local(moment) -> str:
    # Sortable text, in Luxembourg time (what the professional's clock says).
    return moment.astimezone(LUXEMBOURG).strftime("%Y-%m-%d %H:%M")


def _declarations(professional_id: int) -> list[declarations.DeclarationRow]:
    with _backend().uow() as uow:
        return declarations.list_declarations(uow, professional_id)


def _rows(professional_id: int) -> list[dict]:
    return [
        {
            "id": r.enrolment_id,
            "secretary": declaration_layout.person(r),
            "matricule": declaration_layout.grouped_matricule(r.matricule),
            "email": r.email,
            "state": r.state,
            "state_label": r.state_label,
            # What the grid shows: the states that call for his attention in bold.
            "state_display": f"**{r.state_label}**"
            if r.state in ("locked", "expired", "rejected", "account_created")
            else r.state_label,
            # The columns sort on the *_at texts and show the *_on dates (his language).
            "declared_at": _local(r.declared_at),
            "declared_on": long_date(r.declared_at),
            "updated_at": _local(r.updated_at),
            "updated_on": long_date(r.updated_at),
            "expires_at": _local(r.expires_at) if r.can_resend else "",
            "expires_on": long_date(r.expires_at) if r.can_resend else "",
            "can_resend": r.can_resend,
            "can_cancel": r.can_cancel,
            "can_redeclare": r.can_redeclare,
            "can_declare_again": r.can_declare_again,
            "next_action": declaration_layout.next_action(r),
        }
        for r in _declarations(professional_id)
    ]


@auth.require(auth.PROFESSIONAL)
def load_declarations(_loaded):
    return _rows(_me())


@auth.require(auth.PROFESSIONAL)
def load_cards(_row_data):
    """The same declarations as cards (shown on narrow screens): read again from the
    service whenever the grid's rows change, never from what the browser sent."""
    return declaration_layout.cards(_declarations(_me()))


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


def _perform(me: int, enrolment_id: int, action: str) -> tuple[str, str]:
    """Resend or cancel one of his declarations: ("done" | "refused" | "limited", what to
    tell him). The service checks that it is his, and that its state allows it."""
    if action == declaration_layout.RESEND:
        try:
            security.check_limit("resend")
        except RateLimitExceeded:
            return "limited", security.too_many_message()
    with _backend().uow() as uow:
        try:
            if action == declaration_layout.RESEND:
                # An expired one is declared again in the same click (issue 21).
                declarations.send_new_invitation(uow, enrolment_id, me)
                return "done", _resent(declarations.get_declaration(uow, enrolment_id, me).email)
            declarations.cancel(
                uow, enrolment_id, kernel.Actor("professional", str(me)), professional_id=me
            )
            return "done", _cancelled()
        except DomainError as exc:
            return "refused", exc.message


def _resent(email) -> str:
    return _(
        "Une nouvelle invitation a été envoyée à {email}. Le lien précédent ne fonctionne plus.",
        email=email,
    )


def _cancelled() -> str:
    return _("La déclaration a été annulée ; le lien envoyé ne fonctionne plus.")


@auth.require(auth.PROFESSIONAL)
def act_on_declaration(resend_clicks, cancel_confirmed, selected):
    me = _me()
    row = first_row(selected)
    if not row or not ctx.triggered_id:
        return no_update, no_update, no_update
    enrolment_id = record_id(row.get("id"))
    if enrolment_id is None:
        return _("Cette déclaration n'existe pas."), "warning", _rows(me)
    resend = ctx.triggered_id == "decl-resend"
    action = declaration_layout.RESEND if resend else declaration_layout.CANCEL
    outcome, message = _perform(me, enrolment_id, action)
    if outcome == "limited":
        return message, "warning", no_update
    return message, "success" if outcome == "done" else "warning", _rows(me)


# --- a card's action (narrow screens): its address, its confirmation ---------------------------


@dataclass(frozen=True)
class CardView:
    """What the home page's address asks for: a confirmation (`row`, `action`), or a
    message (`message`, `color`: done, or why not)."""

    row: declarations.DeclarationRow | None = None
    action: str | None = None
    message: str | None = None
    color: str = "info"


def card_view(renvoyer=None, annuler=None, renvoyee=None, annulee=None) -> CardView:
    """The home page's address: `?renvoyer=<id>` / `?annuler=<id>` ask for a confirmation
    (nothing is written by opening an address), `?renvoyee=<id>` / `?annulee=<id>` say it
    is done. His own declarations only; another's is "absent", as in the service."""
    asked = [
        (kind, value)
        for kind, value in (
            ("renvoyer", renvoyer),
            ("annuler", annuler),
            ("renvoyee", renvoyee),
            ("annulee", annulee),
        )
        if value is not None
    ]
    if not asked:
        return CardView()
    kind, value = asked[0]
    me = _me()
    enrolment_id = record_id(value if isinstance(value, str) else None)
    if enrolment_id is None:
        return CardView(message=_("Cette déclaration n'existe pas."), color="warning")
    with _backend().uow() as uow:
        try:
            row = declarations.get_declaration(uow, enrolment_id, me)
        except DomainError as exc:
            return CardView(message=exc.message, color="warning")
    if kind == "annulee":
        return (
            CardView(message=_cancelled(), color="success")
            if row.state == lc.CANCELLED
            else CardView()
        )
    if kind == "renvoyee":
        return CardView(message=_resent(row.email), color="success") if row.email else CardView()
    action = declaration_layout.RESEND if kind == "renvoyer" else declaration_layout.CANCEL
    if declaration_layout.allows(row, action):
        return CardView(row=row, action=action)
    if action == declaration_layout.RESEND:
        why = _("L'invitation ne peut plus être renvoyée ({state}).", state=row.state_label)
    else:
        why = _("Cette déclaration ne peut plus être annulée ({state}).", state=row.state_label)
    return CardView(message=why, color="warning")


@auth.require(auth.PROFESSIONAL)
def act_from_card(n_clicks, target):
    """The confirmation's button: the same service call as the grid's, on his own
    declaration only; then the page says it is done (`?renvoyee=` / `?annulee=`)."""
    if not n_clicks:
        return no_update, no_update
    me = _me()
    target = mapping(target)
    enrolment_id = record_id(target.get("id"))
    action = target.get("action")
    if enrolment_id is None or action not in (declaration_layout.RESEND, declaration_layout.CANCEL):
        return no_update, _("Cette déclaration n'existe pas.")
    outcome, message = _perform(me, enrolment_id, action)
    if outcome != "done":
        return no_update, message
    after = "renvoyee" if action == declaration_layout.RESEND else "annulee"
    return f"{declaration_layout.HOME}?{after}={enrolment_id}", ""


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
        Output("decl-form", "hidden"),
        Output("decl-done", "hidden"),
        Output("page-heading", "children"),
        Output("decl-correcting", "data"),
        *[Output(FIELD_IDS[n], "value") for n in FIELDS],
        Input("decl-result", "children"),
        prevent_initial_call=True,
    )(show_declared)
    # Focus follows the view: the heading of the confirmation (the button just pressed
    # is gone with the form).
    app.clientside_callback(
        """function(hidden) {
            if (hidden === false) {
                const heading = document.getElementById("page-heading");
                if (heading) { heading.focus(); }
            }
            return window.dash_clientside.no_update;
        }""",
        Output("decl-focus", "data"),
        Input("decl-done", "hidden"),
        prevent_initial_call=True,
    )
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
    app.callback(
        Output("decl-cards", "children"),
        Input("declarations-grid", "rowData"),
        prevent_initial_call=True,
    )(load_cards)
    app.callback(
        Output("decl-next-go", "href"),
        Output("decl-next-error", "children"),
        Input("decl-next-confirm", "n_clicks"),
        State("decl-next-target", "data"),
        prevent_initial_call=True,
        # One action per tap: a second one would send a second invitation.
        running=disabled_while_running("decl-next-confirm"),
    )(act_from_card)
