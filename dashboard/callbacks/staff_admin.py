"""The back-office's own pages (login, landing, staff administration): browser ↔ service.

Who acts comes from the flask-login session only (`current_user.id`), never from the
browser's data; every change goes through `dashboard.enrolment.staff`, whose guards decide.
"""

from __future__ import annotations

import flask
from dash import Dash, Input, Output, State, ctx, html, no_update
from flask_login import current_user

from dashboard import auth
from dashboard.callbacks import disabled_while_running
from dashboard.callbacks.browser_input import choices, first_row, record_id, text
from dashboard.enrolment import staff
from dashboard.enrolment.errors import DomainError, ValidationFailed
from dashboard.enrolment.working_days import LUXEMBOURG
from dashboard.i18n import gettext as _

STAFF_ROLES = (auth.REVIEWER, auth.LEAD, auth.MANAGER, auth.ADMIN)


def _backend():
    return flask.current_app.extensions["esante"]


def role_labels() -> dict[str, str]:
    return {
        "reviewer": _("Vérification d'identité"),
        "lead": _("Chef(fe) d'équipe"),
        "manager": _("Indicateurs"),
        "admin": _("Administration"),
    }


def role_options(disabled: bool = False) -> list[dict]:
    return [
        {"label": label, "value": code, "disabled": disabled}
        for code, label in role_labels().items()
    ]


# --- login page and landing page ---------------------------------------------------------------


def is_staff() -> bool:
    return getattr(current_user, "kind", None) == "staff" and auth.has_role(*STAFF_ROLES)


def login_notices() -> tuple[str | None, str, str | None]:
    """(error message, email to prefill, how the last session ended: "idle", "ended" or
    None) left by the login route and the session checks; shown once."""
    error = flask.session.pop("login_error", None)
    email = flask.session.pop("login_email", "") or ""
    ended = flask.session.pop("ended", False)
    ended = "idle" if flask.session.pop("expired", False) else "ended" if ended else None
    return error, email, ended


def my_parts() -> list[dict]:
    """The back-office parts the logged-in staff member may use, as cards to show."""
    parts = []
    if auth.has_role(auth.REVIEWER):
        parts.append(
            {
                "id": "part-queue",
                "title": _("File des dossiers"),
                "text": _("Vérifier l'identité des secrétaires dont le dossier attend."),
                "href": "/backoffice",
            }
        )
    if auth.has_role(auth.LEAD):
        parts.append(
            {
                "id": "part-team",
                "title": _("Équipe"),
                "text": _("Voir les dossiers de chacun(e), réattribuer en nombre."),
                "href": "/backoffice/equipe",
            }
        )
    if auth.has_role(auth.MANAGER):
        parts.append(
            {
                "id": "part-indicators",
                "title": _("Indicateurs"),
                "text": _("Suivre les demandes de compte et les délais de traitement."),
                "href": "/backoffice/indicateurs",
            }
        )
    if auth.has_role(auth.ADMIN):
        parts.append(
            {
                "id": "part-staff",
                "title": _("Personnel"),
                "text": _("Créer les comptes de l'équipe, attribuer les rôles, désactiver."),
                "href": "/backoffice/personnel",
            }
        )
        parts.append(
            {
                "id": "part-operations",
                "title": _("Exploitation"),
                "text": _("Voir les envois en difficulté, les relancer ou les annuler."),
                "href": "/backoffice/exploitation",
            }
        )
        parts.append(
            {
                "id": "part-access",
                "title": _("Accès des secrétaires"),
                "text": _("Mettre fin à un accès, désactiver un professionnel qui n'exerce plus."),
                "href": "/backoffice/acces",
            }
        )
    return parts


# --- staff administration ----------------------------------------------------------------------


def _me() -> int:
    if not auth.has_role(auth.ADMIN) or getattr(current_user, "kind", None) != "staff":
        flask.abort(403)
    return current_user.id


def _as_row(r: staff.StaffRow) -> dict:
    labels = role_labels()
    return {
        "id": r.id,
        "email": r.email,
        "name": r.display_name,
        "roles": ", ".join(labels.get(code, code) for code in r.roles),
        "role_codes": list(r.roles),
        "active": r.active,
        "created": r.created_at.strftime("%Y-%m-%d %H:%M"),
    }


def staff_rows() -> list[dict]:
    """Every staff account, for the grid (the page's layout is itself admin-only)."""
    _me()
    with _backend().uow() as uow:
        return [_as_row(r) for r in staff.list_staff(uow)]


def _fresh(rows: list[dict], user_id: int) -> dict | None:
    return next((r for r in rows if r["id"] == user_id), None)


def _selected_id(selected) -> int | None:
    row = first_row(selected)
    return record_id(row.get("id")) if row else None


@auth.require(auth.ADMIN)
def show_selection(selected):
    """Fill the panel for the selected account from the server's current data."""
    user_id = _selected_id(selected)
    row = _fresh(staff_rows(), user_id) if user_id is not None else None
    if row is None:
        return (
            _("Sélectionnez un compte dans le tableau."),
            True,
            role_options(disabled=True),
            [],
            True,
            True,
            _("Désactiver"),
        )
    toggle = _("Désactiver") if row["active"] else _("Réactiver")
    return (
        _("Compte sélectionné : {name} ({email})", name=row["name"], email=row["email"]),
        False,
        role_options(),
        row["role_codes"],
        False,
        False,
        toggle,
    )


ACTION_OUTPUTS = 10


def _result(message, tone, rows, selected=no_update, password=None, clear_form=False, errors=None):
    """The action callback's outputs; `password` None hides the one-time password again."""
    errors = errors or {}
    cleared = ("", "", []) if clear_form else (no_update,) * 3
    return (
        message,
        f"alert alert-{tone} empty-hidden",
        rows,
        selected,
        password,
        *cleared,
        errors.get("email", ""),
        errors.get("roles", ""),
    )


def _new_password_notice(email: str, password: str) -> list:
    return [
        html.Strong(_("Compte créé pour {email}.", email=email)),
        html.Br(),
        _("Mot de passe provisoire : "),
        html.Code(password, id="staff-new-password-value", className="fs-5 user-select-all"),
        html.Br(),
        _(
            "Notez-le maintenant : il ne sera plus jamais affiché. Remettez-le à la personne de "
            "façon sûre (en main propre ou par téléphone), jamais par email ni par messagerie."
        ),
    ]


@auth.require(auth.ADMIN)
def act(save_clicks, toggle_clicks, add_clicks, selected, roles, new_email, new_name, new_roles):
    """Save roles, disable/enable, or add an account, as the logged-in admin."""
    me = _me()
    trigger = ctx.triggered_id
    if trigger not in ("staff-save-roles", "staff-toggle-active", "staff-add"):
        return (no_update,) * ACTION_OUTPUTS
    if trigger == "staff-add":
        return _add(me, new_email, new_name, new_roles)
    user_id = _selected_id(selected)
    if user_id is None:
        return _result(_("Sélectionnez d'abord un compte dans le tableau."), "warning", no_update)
    with _backend().uow() as uow:
        try:
            if trigger == "staff-save-roles":
                staff.set_roles(uow, me, user_id, choices(roles))
                message = _("Les rôles ont été enregistrés.")
            else:
                # The direction is what the button offered; the service decides if allowed.
                enable = not bool(selected[0].get("active"))
                staff.set_active(uow, me, user_id, enable)
                message = (
                    _("Le compte a été réactivé.")
                    if enable
                    else _("Le compte a été désactivé : cette personne ne peut plus se connecter.")
                )
            tone = "success"
        except DomainError as exc:
            message, tone = _refused(exc), "danger"
    rows = staff_rows()
    fresh = _fresh(rows, user_id)
    return _result(message, tone, rows, [fresh] if fresh else [])


def _refused(exc: DomainError) -> str:
    return _("{reason} Rien n'a été modifié.", reason=exc.message.rstrip(".") + ".")


def _add(me: int, email, name, roles):
    with _backend().uow() as uow:
        try:
            user, password = staff.admin_add_user(
                uow,
                me,
                (text(email) or "").strip(),
                choices(roles),
                (text(name) or "").strip() or None,
            )
            created_email = user.email
        except ValidationFailed as exc:
            return _result(
                " ".join(
                    [_("Corrigez les champs indiqués ; aucun compte n'a été créé.")]
                    + ([exc.errors["display_name"]] if "display_name" in exc.errors else [])
                ),
                "danger",
                no_update,
                errors=exc.errors,
            )
        except DomainError as exc:
            return _result(_refused(exc), "danger", no_update)
    return _result(
        _("Le compte {email} a été créé.", email=created_email),
        "success",
        staff_rows(),
        password=_new_password_notice(created_email, password),
        clear_form=True,
    )


# --- passwords and sessions --------------------------------------------------------------------

SESSION_ACTIONS = (
    "staff-reset-password-confirm",
    "staff-end-sessions-confirm",
    "staff-end-all-confirm",
)


def _reset_notice(email: str, password: str) -> list:
    return [
        html.Strong(_("Nouveau mot de passe pour {email}.", email=email)),
        html.Br(),
        _("Mot de passe provisoire : "),
        html.Code(password, id="staff-reset-password-value", className="fs-5 user-select-all"),
        html.Br(),
        _(
            "Notez-le maintenant : il ne sera plus jamais affiché. Remettez-le à la personne de "
            "façon sûre (en main propre ou par téléphone), jamais par email ni par messagerie."
        ),
    ]


def _said(message, tone, notice=None):
    """The session actions' outputs; `notice` None hides a new password shown before."""
    return message, f"alert alert-{tone} empty-hidden", notice


@auth.require(auth.ADMIN)
def act_on_sessions(reset_clicks, end_clicks, end_all_clicks, selected):
    """A new password for the selected account, the end of its sessions, or of everyone's
    (each confirmed in the browser first), as the logged-in admin."""
    me = _me()
    trigger = ctx.triggered_id
    if trigger not in SESSION_ACTIONS:
        return no_update, no_update, no_update
    user_id = _selected_id(selected)
    if trigger != "staff-end-all-confirm" and user_id is None:
        return _said(_("Sélectionnez d'abord un compte dans le tableau."), "warning")
    with _backend().uow() as uow:
        try:
            if trigger == "staff-end-all-confirm":
                # Her own session is the one she is using now: it stays.
                count = staff.end_all_sessions(uow, me, current_user.session_token)
                return _said(
                    _("Sessions terminées : {n}. La vôtre reste ouverte.", n=count), "success"
                )
            if trigger == "staff-reset-password-confirm":
                email, password = staff.reset_password(uow, me, user_id)
                return _said(
                    _(
                        "Nouveau mot de passe créé pour {email} ; l'ancien ne fonctionne plus "
                        "et ses sessions ouvertes ont été terminées.",
                        email=email,
                    ),
                    "success",
                    _reset_notice(email, password),
                )
            email, count = staff.end_sessions(uow, me, user_id)
            return _said(_("Sessions de {email} terminées : {n}.", email=email, n=count), "success")
        except DomainError as exc:
            return _said(_refused(exc), "danger")


def reason_labels() -> dict[str, str]:
    return {
        "password": _("mot de passe erroné"),
        "unknown": _("adresse inconnue"),
        "disabled": _("compte désactivé"),
        "throttled": _("tentative freinée"),
    }


def session_max_hours() -> int:
    return _backend().settings.session_max_hours


def failure_rows() -> list[dict]:
    """Failed logins of the last days, per account and client fingerprint (admins only)."""
    me = _me()
    with _backend().uow() as uow:
        failures = staff.recent_login_failures(uow, me)
    labels = reason_labels()
    return [
        {
            "when": row.last_at.astimezone(LUXEMBOURG).strftime("%Y-%m-%d %H:%M"),
            "account": row.account_email or "—",
            "source": row.source,
            "count": row.count,
            "reasons": ", ".join(f"{labels.get(code, code)} ({n})" for code, n in row.reasons),
        }
        for row in failures
    ]


def register(app: Dash) -> None:
    app.callback(
        Output("staff-selected", "children"),
        Output("staff-selected-fieldset", "disabled"),
        Output("staff-roles", "options"),
        Output("staff-roles", "value"),
        Output("staff-save-roles", "disabled"),
        Output("staff-toggle-active", "disabled"),
        Output("staff-toggle-active", "children"),
        Input("staff-grid", "selectedRows"),
    )(show_selection)
    app.callback(
        Output("staff-message", "children"),
        Output("staff-message", "className"),
        Output("staff-grid", "rowData"),
        Output("staff-grid", "selectedRows"),
        Output("staff-new-password", "children"),
        Output("staff-new-email", "value"),
        Output("staff-new-name", "value"),
        Output("staff-new-roles", "value"),
        Output("staff-new-email-error", "children"),
        Output("staff-new-roles-error", "children"),
        Input("staff-save-roles", "n_clicks"),
        Input("staff-toggle-active", "n_clicks"),
        Input("staff-add", "n_clicks"),
        State("staff-grid", "selectedRows"),
        State("staff-roles", "value"),
        State("staff-new-email", "value"),
        State("staff-new-name", "value"),
        State("staff-new-roles", "value"),
        prevent_initial_call=True,
        # A second click on "Créer" would be refused and hide the one-time password.
        running=disabled_while_running("staff-add"),
    )(act)
    app.callback(
        Output("staff-session-message", "children"),
        Output("staff-session-message", "className"),
        Output("staff-reset-notice", "children"),
        Input("staff-reset-password-confirm", "submit_n_clicks"),
        Input("staff-end-sessions-confirm", "submit_n_clicks"),
        Input("staff-end-all-confirm", "submit_n_clicks"),
        State("staff-grid", "selectedRows"),
        prevent_initial_call=True,
    )(act_on_sessions)
