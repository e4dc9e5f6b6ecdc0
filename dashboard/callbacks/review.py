"""The identity-vigilance back-office: the queue grid and the case file.

The reviewer's identity comes from the server session; the grid's requests and the case's
actions are translated into service calls, which check role, state and version.
"""

from __future__ import annotations

import flask
from dash import Dash, Input, Output, State, ctx, html, no_update
from flask_login import current_user

from dashboard import auth, response_cache
from dashboard.callbacks.browser_input import choices, items, mapping, record_id, row_count, text
from dashboard.enrolment import case_file, decisions, review, working_days
from dashboard.enrolment.errors import DomainError, ValidationFailed
from dashboard.i18n import current_language
from dashboard.i18n import gettext as _

SORT_COLUMNS = {
    "waiting_days": "waiting",
    "due": "waiting",
    "secretary": "secretary",
    "professional": "professional",
    "assignee": "assignee",
    "state": "state",
}
PAGE = 100  # the grid's block size
QUEUE_CACHE_SIZE = 256  # pages kept per process
MAX_PAGE = 1000
MAX_ROW = 10_000_000  # beyond any queue; keeps OFFSET within the database's integers


def _backend():
    return flask.current_app.extensions["esante"]


def _me() -> int:
    if not auth.has_role(auth.REVIEWER):
        flask.abort(403)
    return current_user.id


def _text_filter(filter_model: dict, column: str) -> str:
    """The text typed in an AG Grid column filter (simple or combined, AG Grid 35 shape)."""
    entry = mapping(mapping(filter_model).get(column))
    if "conditions" in entry:
        entry = mapping((items(entry.get("conditions")) or [{}])[0])
    value = entry.get("filter")
    return str(value)[:200] if isinstance(value, (str, int, float)) else ""


def _escape_markdown(text: str) -> str:
    return "".join("\\" + c if c in "\\`*_{}[]()<>#+-.!|" else c for c in text)


def queue_query(request: dict | None, quick, search) -> review.QueueQuery:
    """The grid's request as a query; anything malformed falls back to the default."""
    request = mapping(request)
    sort = tuple(
        (SORT_COLUMNS[s["colId"]], "desc" if s.get("sort") == "desc" else "asc")
        for s in items(request.get("sortModel"))
        if isinstance(s, dict) and isinstance(s.get("colId"), str) and s["colId"] in SORT_COLUMNS
    )
    filters = mapping(request.get("filterModel"))
    start = row_count(request.get("startRow"), 0, MAX_ROW)
    end = row_count(request.get("endRow"), start + PAGE, MAX_ROW)
    end = end if start < end <= start + MAX_PAGE else start + PAGE
    return review.QueueQuery(
        start=start,
        end=end,
        sort=sort,
        quick=frozenset(q for q in choices(quick) if q in review.QUICK_FILTERS),
        search=search[:200] if isinstance(search, str) else "",
        professional=_text_filter(filters, "professional"),
        assignee=_text_filter(filters, "assignee"),
    )


def _due_text(row) -> str:
    if not row.due_at:
        return ""
    when = row.due_at.astimezone(working_days.LUXEMBOURG).strftime("%d/%m/%Y %H:%M")
    return _("**⚠ En retard** — {when}", when=when) if row.overdue else when


@auth.require(auth.REVIEWER)
def queue_rows(request, quick, search):
    query = queue_query(request, quick, search)
    me = _me()
    with _backend().uow() as uow:
        # Reviewers scroll and refresh the same pages between two changes: a page is kept
        # until the next event, or the next minute (waiting times and "overdue" move with
        # the clock). Only "mine" depends on who asks.
        key = (
            query,
            me if "mine" in query.quick else None,
            review.queue_version(uow),
            uow.now().replace(second=0, microsecond=0),
            current_language(),
        )
        cached = _queue_cache().get(key)
        if cached is not None:
            return cached
        rows, total = review.queue_page(uow, query, me)
    data = [
        {
            "id": r.enrolment_id,
            "secretary": f"[{_escape_markdown(r.secretary)}](/backoffice/dossier/{r.enrolment_id})",
            "professional": r.professional,
            "waiting_days": r.waiting_days,
            "due": _due_text(r),
            "overdue": r.overdue,
            "summary": r.summary,
            "assignee": r.assignee or _("— non attribué —"),
            "state": r.state_label,
        }
        for r in rows
    ]
    if total is None:  # more than the count cap: "unknown" unless this block is the last
        total = query.start + len(data) if len(data) < query.end - query.start else -1
    response = {"rowData": data, "rowCount": total}
    _queue_cache().put(key, response)
    return response


def _queue_cache():
    return response_cache.of_app("queue", QUEUE_CACHE_SIZE)


# --- the case file --------------------------------------------------------------------------


def load_case(case_id, *, audit: bool):
    """(CaseView, reviewers, my id) or (None, message) for the case page."""
    enrolment_id = record_id(case_id)
    if enrolment_id is None:
        return None, _("Dossier introuvable.")
    me = _me()
    with _backend().uow() as uow:
        try:
            view = (case_file.open_case if audit else case_file.case_view)(uow, enrolment_id, me)
        except DomainError as exc:
            return None, exc.message
    return (view, view.colleagues, me), None


@auth.require(auth.REVIEWER)
def act_on_case(
    claim,
    release,
    assign,
    approve,
    reject,
    withdraw,
    case_id,
    version,
    assignee,
    reason,
    reject_note,
):
    from dashboard.case_layout import case_body

    action = ctx.triggered_id
    if not action:
        return no_update, no_update, no_update
    me = _me()
    enrolment_id = record_id(case_id)
    if enrolment_id is None:
        return no_update, _("Dossier introuvable."), "danger"
    message, color = "", "success"
    with _backend().uow() as uow:
        try:
            if action == "case-claim":
                decisions.claim(uow, enrolment_id, me)
                message = _("Vous avez pris ce dossier en charge.")
            elif action == "case-release":
                decisions.release(uow, enrolment_id, me)
                message = _("Le dossier est de nouveau disponible pour l'équipe.")
            elif action == "case-assign":
                colleague = record_id(assignee)
                if colleague is None:
                    raise ValidationFailed({"assignee": _("Choisissez un(e) collègue.")})
                decisions.assign(uow, enrolment_id, colleague, me)
                message = _("Dossier attribué.")
            elif action == "case-approve-confirm":
                outcome = decisions.approve(uow, enrolment_id, me, expected_version=version)
                message = (
                    _(
                        "Approbation enregistrée : un(e) second(e) relecteur(rice) doit la "
                        "confirmer avant la création du compte."
                    )
                    if outcome == "awaiting_second"
                    else _("Identité approuvée : le compte est créé et les emails envoyés.")
                )
            elif action == "case-reject":
                reason = text(reason)
                if not reason:
                    raise ValidationFailed({"reason_code": _("Choisissez un motif de refus.")})
                outcome = decisions.reject(
                    uow,
                    enrolment_id,
                    me,
                    reason_code=reason,
                    note=text(reject_note) or "",
                    expected_version=version,
                )
                message = (
                    _("Refus proposé : un(e) second(e) relecteur(rice) doit le confirmer.")
                    if outcome == "awaiting_second"
                    else _("Demande refusée : la secrétaire a été informée par email.")
                )
            elif action == "case-withdraw":
                decisions.withdraw_proposal(uow, enrolment_id, me, expected_version=version)
                message = _("La proposition a été écartée ; le dossier revient dans la file.")
        except ValidationFailed as exc:
            # Something to correct: the page stays as it is, with the note and reason typed.
            return no_update, exc.message, "danger"
        except DomainError as exc:
            # The case changed under her (a colleague decided, claimed, …): show it as it is.
            message, color = exc.message, "danger"
    loaded, problem = load_case(enrolment_id, audit=False)
    if loaded is None:
        return html.P(problem), message, color
    return case_body(*loaded), message, color


@auth.require(auth.REVIEWER)
def add_note_to_case(n_clicks, case_id, note):
    """Its own callback: a note can be added to a decided case too."""
    from dashboard.case_layout import case_body

    if not n_clicks:
        return no_update, no_update, no_update
    me = _me()
    enrolment_id = record_id(case_id)
    if enrolment_id is None:
        return no_update, _("Dossier introuvable."), "danger"
    with _backend().uow() as uow:
        try:
            decisions.add_note(uow, enrolment_id, me, text(note) or "")
            message, color = _("Note ajoutée."), "success"
        except DomainError as exc:
            return no_update, exc.message, "danger"
    loaded, problem = load_case(enrolment_id, audit=False)
    return (case_body(*loaded) if loaded else html.P(problem)), message, color


def register(app: Dash) -> None:
    app.callback(
        Output("queue-grid", "getRowsResponse"),
        Input("queue-grid", "getRowsRequest"),
        State("queue-quick", "value"),
        State("queue-search", "value"),
        prevent_initial_call=True,
    )(queue_rows)
    # External filters: empty the grid's cache so it asks again with the new filters.
    app.clientside_callback(
        """function(quick, search) {
            const api = dash_ag_grid.getApi("queue-grid");
            if (api) { api.purgeInfiniteCache(); }
            return window.dash_clientside.no_update;
        }""",
        Output("queue-refresh", "data"),
        Input("queue-quick", "value"),
        Input("queue-search", "value"),
        prevent_initial_call=True,
    )
    app.callback(
        Output("case-body", "children"),
        Output("case-message", "children"),
        Output("case-message", "color"),
        Input("case-claim", "n_clicks"),
        Input("case-release", "n_clicks"),
        Input("case-assign", "n_clicks"),
        Input("case-approve-confirm", "submit_n_clicks"),
        Input("case-reject", "n_clicks"),
        Input("case-withdraw", "n_clicks"),
        State("case-id", "data"),
        State("case-version", "data"),
        State("case-assignee", "value"),
        State("case-reason", "value"),
        State("case-reject-note", "value"),
        prevent_initial_call=True,
    )(act_on_case)
    app.callback(
        Output("case-body", "children", allow_duplicate=True),
        Output("case-message", "children", allow_duplicate=True),
        Output("case-message", "color", allow_duplicate=True),
        Input("case-add-note", "n_clicks"),
        State("case-id", "data"),
        State("case-note", "value"),
        prevent_initial_call=True,
    )(add_note_to_case)
    app.callback(
        Output("case-approve-confirm", "displayed"),
        Input("case-approve", "n_clicks"),
        prevent_initial_call=True,
    )(auth.require(auth.REVIEWER)(lambda n: bool(n)))
