"""The "Exploitation" page (admins): stuck outbox items, retried or cancelled.

The admin acting is the flask-login session's (`current_user.id`); the row the browser
names is only an id, read again on the server (dashboard.enrolment.operations decides).
"""

from __future__ import annotations

import flask
from dash import Dash, Input, Output, State, ctx, no_update
from flask_login import current_user

from dashboard import auth
from dashboard.callbacks.browser_input import first_row, record_id
from dashboard.enrolment import operations
from dashboard.enrolment.errors import DomainError
from dashboard.enrolment.working_days import LUXEMBOURG
from dashboard.i18n import gettext as _


def _backend():
    return flask.current_app.extensions["esante"]


def _me() -> int:
    if not auth.has_role(auth.ADMIN) or getattr(current_user, "kind", None) != "staff":
        flask.abort(403)
    return current_user.id


def kind_labels() -> dict[str, str]:
    return {"mail": _("Courrier"), "provisioning": _("Annuaire (SCIM)")}


def status_labels() -> dict[str, str]:
    return {"pending": _("En attente"), "failed": _("Abandonné après échecs")}


def threshold_minutes() -> int:
    return _backend().settings.outbox_stuck_minutes


def _when(value) -> str:
    return value.astimezone(LUXEMBOURG).strftime("%Y-%m-%d %H:%M") if value else "—"


def item_rows() -> list[dict]:
    """The stuck items, for the grid (the page's layout is itself admin-only)."""
    _me()
    with _backend().uow() as uow:
        items = operations.stuck_items(uow)
    kinds, statuses = kind_labels(), status_labels()
    return [
        {
            "id": f"{item.kind}-{item.id}",
            "kind": kinds.get(item.kind, item.kind),
            "number": item.id,
            "what": item.what,
            "enrolment": item.enrolment_id or "",
            "status": statuses.get(item.status, item.status),
            "failed": item.status == operations.FAILED,
            "attempts": item.attempts,
            "error": item.last_error or "—",
            "created": _when(item.created_at),
            "next": _("en cours d'envoi") if item.leased else _when(item.next_attempt_at),
        }
        for item in items
    ]


def _selected(selected) -> tuple[str, int] | None:
    row = first_row(selected)
    if not row or not isinstance(row.get("id"), str):
        return None
    kind, _sep, number = row["id"].partition("-")
    item_id = record_id(number)
    if kind not in operations.KINDS or item_id is None:
        return None
    return kind, item_id


@auth.require(auth.ADMIN)
def act(retry_clicks, cancel_clicks, refresh_clicks, selected):
    """Retry or cancel the selected item (each confirmed in the browser), or refresh."""
    me = _me()
    trigger = ctx.triggered_id
    if trigger == "ops-refresh":
        return "", "alert alert-info empty-hidden", item_rows(), []
    if trigger not in ("ops-retry-confirm", "ops-cancel-confirm"):
        return no_update, no_update, no_update, no_update
    chosen = _selected(selected)
    if chosen is None:
        return (
            _("Sélectionnez d'abord un élément dans le tableau."),
            "alert alert-warning",
            no_update,
            no_update,
        )
    kind, item_id = chosen
    with _backend().uow() as uow:
        try:
            if trigger == "ops-retry-confirm":
                operations.retry(uow, me, kind, item_id)
                message = _("L'élément n°{n} sera renvoyé dès maintenant.", n=item_id)
            else:
                operations.cancel(uow, me, kind, item_id)
                message = _("L'élément n°{n} est annulé : il ne sera plus envoyé.", n=item_id)
            tone = "success"
        except DomainError as exc:
            message = _("{reason} Rien n'a été modifié.", reason=exc.message.rstrip(".") + ".")
            tone = "danger"
    return message, f"alert alert-{tone}", item_rows(), []


@auth.require(auth.ADMIN)
def show_selection(selected):
    chosen = _selected(selected)
    row = first_row(selected) if chosen else None
    if row is None:
        return _("Sélectionnez un élément dans le tableau."), True
    return (
        _(
            "Élément sélectionné : {kind} n°{n} ({what}).",
            kind=kind_labels().get(chosen[0], chosen[0]),
            n=chosen[1],
            what=str(row.get("what") or ""),
        ),
        False,
    )


def register(app: Dash) -> None:
    app.callback(
        Output("ops-selected", "children"),
        Output("ops-actions", "disabled"),
        Input("ops-grid", "selectedRows"),
    )(show_selection)
    app.callback(
        Output("ops-message", "children"),
        Output("ops-message", "className"),
        Output("ops-grid", "rowData"),
        Output("ops-grid", "selectedRows"),
        Input("ops-retry-confirm", "submit_n_clicks"),
        Input("ops-cancel-confirm", "submit_n_clicks"),
        Input("ops-refresh", "n_clicks"),
        State("ops-grid", "selectedRows"),
        prevent_initial_call=True,
    )(act)
