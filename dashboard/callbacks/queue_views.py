"""The queue's saved views: list them, open one as the queue's URL, keep or delete one.

The reviewer is the session's; what a view may hold is decided by
dashboard.enrolment.queue_views.
"""

from __future__ import annotations

from dash import Dash, Input, Output, State, ctx, no_update

from dashboard import auth
from dashboard.callbacks import disabled_while_running
from dashboard.callbacks.browser_input import choices, items, mapping, text
from dashboard.callbacks.review import SORT_COLUMNS, _backend, _me, queue_href
from dashboard.enrolment import queue_views
from dashboard.enrolment.errors import DomainError, ValidationFailed
from dashboard.i18n import gettext as _


def _current_view(quick, search, request) -> dict:
    return {
        "quick": choices(quick),
        "q": text(search) or "",
        "sort": [
            [s["colId"], "desc" if s.get("sort") == "desc" else "asc"]
            for s in items(mapping(request).get("sortModel"))
            if isinstance(s, dict) and s.get("colId") in SORT_COLUMNS
        ],
    }


@auth.require(auth.REVIEWER)
def view_options(_id, _changed):
    with _backend().uow() as uow:
        views = queue_views.views_of(uow, _me())
    return [
        {"label": v.name if v.saved else _("{name} (proposée)", name=v.name), "value": v.key}
        for v in views
    ]


@auth.require(auth.REVIEWER)
def open_view(key):
    """A chosen view opens as the queue's URL: Back and reload keep it."""
    if not isinstance(key, str) or not key:
        return no_update
    with _backend().uow() as uow:
        try:
            chosen = queue_views.view_by_key(uow, _me(), key)
        except DomainError:
            return no_update
    return queue_href(chosen.view)


@auth.require(auth.REVIEWER)
def keep_views(save, delete, name, key, quick, search, request):
    """ "Enregistrer la vue" (the filters, search and sort shown now) or "Supprimer"."""
    with _backend().uow() as uow:
        try:
            if ctx.triggered_id == "queue-delete-view":
                queue_views.delete_view(uow, _me(), text(key) or "")
                return _("Vue supprimée."), "", None, True
            kept = queue_views.save_view(
                uow, _me(), text(name), _current_view(quick, search, request)
            )
        except ValidationFailed as exc:
            return exc.message, no_update, no_update, no_update
        except DomainError as exc:
            return exc.message, no_update, no_update, no_update
    return _("Vue « {name} » enregistrée.", name=kept.name), "", kept.key, True


def register(app: Dash) -> None:
    app.callback(
        Output("queue-views", "options"),
        Input("queue-views", "id"),
        Input("queue-views-changed", "data"),
    )(view_options)
    app.callback(
        Output("queue-views-nav", "href"),
        Input("queue-views", "value"),
        prevent_initial_call=True,
    )(open_view)
    app.callback(
        Output("queue-views-message", "children"),
        Output("queue-view-name", "value"),
        Output("queue-views", "value"),
        Output("queue-views-changed", "data"),
        Input("queue-save-view", "n_clicks"),
        Input("queue-delete-view", "n_clicks"),
        State("queue-view-name", "value"),
        State("queue-views", "value"),
        State("queue-quick", "value"),
        State("queue-search", "value"),
        State("queue-grid", "getRowsRequest"),
        prevent_initial_call=True,
        running=disabled_while_running("queue-save-view", "queue-delete-view"),
    )(keep_views)
