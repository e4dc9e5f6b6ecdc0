"""The team lead's page: the reviewers' load, and moving cases between them in bulk.

The lead acting is the flask-login session's; the cases and people the browser names are
only ids, read again and checked by dashboard.enrolment.team.
"""

from __future__ import annotations

import flask
from dash import Dash, Input, Output, State, ctx, html, no_update
from flask_login import current_user

from dashboard import auth, charts
from dashboard.callbacks import disabled_while_running
from dashboard.callbacks.browser_input import choices, record_id, text
from dashboard.enrolment import team
from dashboard.enrolment.errors import DomainError, ValidationFailed
from dashboard.i18n import gettext as _

NOBODY = "nobody"  # the "from" choice for the unassigned cases


def _backend():
    return flask.current_app.extensions["esante"]


def _me() -> int:
    if not auth.has_role(auth.LEAD) or getattr(current_user, "kind", None) != "staff":
        flask.abort(403)
    return current_user.id


def _who(value) -> int | None:
    return None if value == NOBODY else record_id(value)


def load_table(loads: list[team.ReviewerLoad]) -> html.Table:
    head = html.Thead(
        html.Tr(
            [
                html.Th(_("Relecteur(rice)"), scope="col"),
                html.Th(_("Dossiers ouverts"), scope="col", className="text-end"),
                html.Th(_("dont en retard"), scope="col", className="text-end"),
            ]
        )
    )
    body = html.Tbody(
        [
            html.Tr(
                [
                    html.Th(load.name, scope="row"),
                    html.Td(str(load.open_cases), className="text-end"),
                    html.Td(
                        str(load.overdue),
                        className="text-end fw-bold text-danger" if load.overdue else "text-end",
                    ),
                ]
            )
            for load in loads
        ]
    )
    return html.Table([head, body], className="table table-sm", id="team-load-table")


def _people(loads: list[team.ReviewerLoad]) -> tuple[list[dict], list[dict]]:
    """The "from" choices (everyone with cases, and nobody) and the "to" choices."""
    sources = [
        {"label": _("{name} ({n})", name=load.name, n=load.open_cases), "value": NOBODY}
        if load.staff_id is None
        else {
            "label": _("{name} ({n})", name=load.name, n=load.open_cases),
            "value": str(load.staff_id),
        }
        for load in loads
    ]
    return sources, [
        {"label": load.name, "value": str(load.staff_id)}
        for load in loads
        if load.staff_id is not None
    ]


@auth.require(auth.LEAD)
def refresh(_tick, done):
    """The load (table and chart) and the people to choose from."""
    with _backend().uow() as uow:
        loads = team.team_load(uow, _me())
    sources, targets = _people(loads)
    return load_table(loads), charts.team_load(loads), sources, targets


def _case_options(cases: list[team.TeamCase]) -> list[dict]:
    return [
        {
            "label": _("{name} — en retard", name=c.secretary) if c.overdue else c.secretary,
            "value": str(c.enrolment_id),
        }
        for c in cases
    ]


@auth.require(auth.LEAD)
def cases_for(source, _done):
    if source is None:
        return [], [], _("Choisissez d'abord de qui vous déplacez des dossiers.")
    with _backend().uow() as uow:
        cases = team.cases_of(uow, _me(), _who(text(source)))
    if not cases:
        return [], [], _("Aucun dossier ouvert ici.")
    return _case_options(cases), [], ""


@auth.require(auth.LEAD)
def move(n_clicks, source, chosen, target):
    if not n_clicks:
        return no_update, no_update, no_update, no_update
    ids = [i for i in (record_id(v) for v in choices(chosen)) if i is not None]
    to_id = record_id(text(target))
    try:
        with _backend().uow() as uow:
            done = team.reassign(uow, _me(), ids, to_id or 0, _who(text(source)))
    except ValidationFailed as exc:
        return exc.message, "danger", True, no_update
    except DomainError as exc:
        return exc.message, "danger", True, no_update
    message = _("{n} dossier(s) réattribué(s).", n=done.moved)
    if done.skipped:
        message += " " + _(
            "{n} dossier(s) laissé(s) tel(s) quel(s) : décidé(s) ou déplacé(s) entre-temps.",
            n=done.skipped,
        )
    return message, "success", True, ctx.triggered_id


def register(app: Dash) -> None:
    app.callback(
        Output("team-load", "children"),
        Output("team-chart", "figure"),
        Output("team-from", "options"),
        Output("team-to", "options"),
        Input("team-load", "id"),
        Input("team-done", "data"),
    )(refresh)
    app.callback(
        Output("team-cases", "options"),
        Output("team-cases", "value"),
        Output("team-cases-empty", "children"),
        Input("team-from", "value"),
        Input("team-done", "data"),
    )(cases_for)
    app.callback(
        Output("team-message", "children"),
        Output("team-message", "color"),
        Output("team-message", "is_open"),
        Output("team-done", "data"),
        Input("team-move", "n_clicks"),
        State("team-from", "value"),
        State("team-cases", "value"),
        State("team-to", "value"),
        prevent_initial_call=True,
        running=disabled_while_running("team-move"),
    )(move)
