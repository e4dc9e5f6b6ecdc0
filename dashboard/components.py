"""Small layout pieces shared by pages: step indicator, fields with tied errors, redirects."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_wtf.csrf import generate_csrf

from dashboard.i18n import gettext as _


def secretary_steps() -> list[str]:
    return [_("Conditions"), _("Matricule"), _("LuxTrust"), _("Résultat")]


def step_indicator(current: int) -> html.Nav:
    """Where she is in the guide's steps; `current` is 1-based (0: not started)."""
    items = []
    for number, label in enumerate(secretary_steps(), start=1):
        state = "done" if number < current else "current" if number == current else "todo"
        extra = {"aria-current": "step"} if state == "current" else {}
        status = {"done": _("terminé"), "current": _("en cours"), "todo": _("à venir")}[state]
        items.append(
            html.Li(
                [
                    html.Span(str(number), className="step-number", **{"aria-hidden": "true"}),
                    html.Span(label, className="step-label"),
                    html.Span(f" ({status})", className="visually-hidden"),
                ],
                className=f"step step-{state}",
                **extra,
            )
        )
    return html.Nav(
        html.Ol(items, className="steps"),
        className="step-indicator",
        **{"aria-label": _("Étapes de la création du compte")},
    )


def error_summary() -> html.Div:
    """At the top of a form page: the errors of its fields, each a link to its field
    (filled by assets/a11y.js from the fields' own error texts, so it never disagrees)."""
    return html.Div(
        id="error-summary",
        className="error-summary",
        hidden=True,
        **{"data-title": _("Corrigez les points suivants :")},
    )


def secretary_page(step: int, title: str, *children, nav_id: str | None = None) -> html.Div:
    parts = [
        step_indicator(step),
        html.H1(title, id="page-heading", tabIndex="-1"),
        error_summary(),
    ]
    parts.extend(children)
    if nav_id:
        parts.append(dcc.Location(id=nav_id, refresh="callback-nav"))
    return html.Div(parts, className="secretary-page")


def field(
    input_component,
    *,
    input_id: str,
    label: str,
    help_text: str | None = None,
) -> html.Div:
    """A labelled input whose help and error texts are tied to it (see assets/a11y.js)."""
    described = [f"{input_id}-help"] if help_text else []
    described.append(f"{input_id}-error")
    return html.Div(
        [
            dbc.Label(label, html_for=input_id, className="form-label fw-semibold"),
            html.Div(help_text, id=f"{input_id}-help", className="form-text mb-1")
            if help_text
            else None,
            html.Div(
                input_component,
                **{"data-describedby": " ".join(described), "data-input": input_id},
            ),
            html.Div(
                id=f"{input_id}-error",
                className="field-error",
                role="alert",
                **{"aria-live": "assertive"},
            ),
        ],
        className="mb-3",
    )


def redirect(path: str) -> dcc.Location:
    # A Location rendered by a layout only navigates by reloading (refresh=True):
    # "callback-nav" acts on later changes of href, not on the first render.
    return dcc.Location(id="redirect", href=path, refresh=True)


def problem_panel(message: str, *, title: str | None = None, tone: str = "warning") -> html.Div:
    return html.Div(
        [
            html.H1(
                title or _("Ce lien ne peut pas être utilisé"), id="page-heading", tabIndex="-1"
            ),
            dbc.Alert(message, color=tone, id="link-problem", className="mt-3"),
        ],
        className="secretary-page",
    )


def link_problem_title(reason: str | None) -> str:
    """The heading of a dead link's page, by why it is dead."""
    return {
        "expired": _("Lien expiré"),
        "cancelled": _("Demande annulée"),
        "superseded": _("Lien remplacé"),
        "locked": _("Demande bloquée"),
        "rejected": _("Demande non acceptée"),
    }.get(reason or "", _("Ce lien ne peut pas être utilisé"))


def grid_locale(no_rows: str) -> dict:
    """AG Grid's own words in French (its default is English)."""
    return {
        "noRowsToShow": no_rows,
        "loadingOoo": _("Chargement…"),
        "contains": _("Contient"),
        "notContains": _("Ne contient pas"),
        "equals": _("Égal à"),
        "notEqual": _("Différent de"),
        "startsWith": _("Commence par"),
        "endsWith": _("Se termine par"),
        "blank": _("Vide"),
        "notBlank": _("Non vide"),
        "filterOoo": _("Filtrer…"),
        "andCondition": _("ET"),
        "orCondition": _("OU"),
        "applyFilter": _("Appliquer"),
        "resetFilter": _("Réinitialiser"),
        "clearFilter": _("Effacer"),
        "cancelFilter": _("Annuler"),
        "page": _("Page"),
        "of": _("sur"),
        "to": _("à"),
        "sortAscending": _("Tri croissant"),
        "sortDescending": _("Tri décroissant"),
    }


def backoffice_header(title: str) -> html.Div:
    """The back-office pages' title bar: title, home link, logout."""
    return html.Div(
        [
            html.H1(title, className="h3 me-auto"),
            dcc.Link(_("Accueil"), href="/backoffice/accueil", className="me-3"),
            logout_button("/backoffice/deconnexion", small=True),
        ],
        className="d-flex align-items-center flex-wrap gap-2 mb-3",
    )


def csrf_field() -> dcc.Input:
    """Flask-WTF's token for a plain form POST (Dash's own requests use the cookie/header
    pair instead)."""
    return dcc.Input(type="hidden", name="csrf_token", value=generate_csrf())


def logout_button(
    action: str, *, button_id: str | None = None, small: bool = False, className: str = ""
) -> html.Form:
    """The logout button, as a POST carrying the form's CSRF token: a link or an image on
    another site cannot end anyone's session."""
    size = " btn-sm" if small else ""
    button = html.Button(
        _("Se déconnecter"),
        type="submit",
        className=f"btn btn-outline-secondary{size}",
        **({"id": button_id} if button_id else {}),
    )
    return html.Form(
        [csrf_field(), button],
        action=action,
        method="post",
        className=f"d-inline {className}".strip(),
    )


def dropdown_labels() -> dict:
    """dcc.Dropdown's own texts (English by default) in the page's language."""
    return {
        "select_all": _("Tout sélectionner"),
        "deselect_all": _("Tout désélectionner"),
        "selected_count": _("{num_selected} sélectionné(s)"),  # filled in by the browser
        "search": _("Rechercher"),
        "clear_search": _("Effacer la recherche"),
        "clear_selection": _("Effacer la sélection"),
        "no_options_found": _("Aucun choix ne correspond"),
    }
