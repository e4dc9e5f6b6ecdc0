"""The identity-vigilance back-office: the queue grid and the case file.

The reviewer's identity comes from the server session; the grid's requests and the case's
actions are translated into service calls, which check role, state and version.
"""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlencode

import flask
from babel.numbers import format_decimal
from dash import Dash, Input, Output, State, ctx, html, no_update
from flask_login import current_user

from dashboard import auth, response_cache
from dashboard.callbacks.browser_input import choices, items, mapping, record_id, row_count, text
from dashboard.enrolment import (
    case_file,
    codes,
    decisions,
    identity,
    review,
)
from dashboard.enrolment.errors import DomainError, ValidationFailed
from dashboard.i18n import DATE_LOCALES, N_, current_language, long_date_time
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


# --- the queue view in the URL ----------------------------------------------------------------
# The reviewer's view (quick filters, search, sort) is kept in the query string of the queue
# and of every case opened from it: Back and reload show the same view, and "next case"
# reads it. assets/queue_view.js writes the same format into the address bar.

SORT_DIRECTIONS = ("asc", "desc")


def queue_view(params) -> dict | None:
    """The view in a page's query parameters ({quick, q, sort}), cleaned; None when the
    page was not opened from the queue."""
    params = mapping(params)
    if params.get("from") != "queue":
        return None
    return view_of(params)


def view_of(params) -> dict:
    params = mapping(params)
    quick = [q for q in (text(params.get("quick")) or "").split(",") if q in review.QUICK_FILTERS]
    sort = []
    for part in (text(params.get("sort")) or "").split(","):
        column, _dot, direction = part.partition(".")
        if column in SORT_COLUMNS and direction in SORT_DIRECTIONS:
            sort.append([column, direction])
    return {"quick": sorted(set(quick)), "q": (text(params.get("q")) or "")[:200], "sort": sort}


def view_search(view: dict | None, **extra) -> str:
    """The query string of a view ("?from=queue&…"), for a case opened from it."""
    view = view_of({"from": "queue", **_flat(view)})
    pairs = [("from", "queue")] + [(k, v) for k, v in _flat(view).items() if v]
    pairs += [(k, v) for k, v in extra.items() if v]
    return "?" + urlencode(pairs, quote_via=quote)


def queue_href(view: dict | None) -> str:
    """The queue as the reviewer left it."""
    pairs = [(k, v) for k, v in _flat(view_of(_flat(view))).items() if v]
    return "/backoffice" + ("?" + urlencode(pairs, quote_via=quote) if pairs else "")


def _flat(view) -> dict:
    view = mapping(view)
    if isinstance(view.get("quick"), str):  # already flat (query parameters)
        return dict(view)
    return {
        "quick": ",".join(choices(view.get("quick"))),
        "q": text(view.get("q")) or "",
        "sort": ",".join(
            f"{s[0]}.{s[1]}"
            for s in items(view.get("sort"))
            if isinstance(s, list) and len(s) == 2 and all(isinstance(x, str) for x in s)
        ),
    }


def query_of_view(view: dict | None) -> review.QueueQuery:
    view = view_of(_flat(view))
    sort_model = [{"colId": c, "sort": d} for c, d in view["sort"]]
    return queue_query({"sortModel": sort_model}, view["quick"], view["q"])


def parse_query_string(search) -> dict:
    """'?a=1&b=2' → {'a': '1', 'b': '2'} (the first value of each)."""
    search = text(search) or ""
    return {k: v[0] for k, v in parse_qs(search.lstrip("?")).items()}


def _due_title(row) -> str:
    """The deadline, as the waiting time's tooltip."""
    if not row.due_at:
        return ""
    when = long_date_time(row.due_at)
    if row.overdue:
        return _("Échéance dépassée : {when}", when=when)
    return _("Échéance : {when}", when=when)


def _assignee_text(row) -> str:
    """Who has it, and "2ᵉ validation" when a proposal waits for a second reviewer."""
    who = _escape_markdown(row.assignee) if row.assignee else _("— non attribué —")
    return _("{who} · *2ᵉ validation*", who=who) if row.awaiting_second else who


def _waiting_text(row) -> str:
    """ "12 j", or "**⚠ 12 j**" once past the deadline (the grid's markdown cell)."""
    days = format_decimal(row.waiting_days, "0.#", locale=DATE_LOCALES[current_language()])
    shown = _("{n} j", n=days)
    return _("**⚠ {waiting}** en retard", waiting=shown) if row.overdue else shown


# The differences as short badges: the field, coloured by the kind of difference; the
# whole "nom : faute de frappe" is the badge's title and accessible name.
BADGE_FIELDS = {
    "last_name": N_("Nom"),
    "first_names": N_("Prénoms"),
    "birth_date": N_("Naissance"),
    "matricule": N_("Matricule"),
}
BADGE_TONES = {"typo": "warning", "formatting": "info", "subset": "info", "swapped": "primary"}


def _badges(row) -> list[dict]:
    return [
        {
            "text": _(BADGE_FIELDS.get(field, field)),
            "title": _(
                "{field} : {kind}",
                field=identity.field_label(field),
                kind=identity.kind_label(kind, field),
            ),
            "detail": _(" : {kind}", kind=identity.kind_label(kind, field)),
            "tone": BADGE_TONES.get(kind, "danger"),
        }
        for field, kind in row.differences
    ]


def quick_options(counts: dict[str, int] | None = None) -> list[dict]:
    """The quick filters, with how many cases each shows when known ("En retard (176)")."""
    labels = {
        "mine": _("Mes dossiers"),
        "unassigned": _("Non attribués"),
        "overdue": _("En retard"),
        "second": _("En attente de seconde validation"),
    }
    return [
        {
            "label": label
            if counts is None
            else _("{label} ({n})", label=label, n=counts.get(value, 0)),
            "value": value,
        }
        for value, label in labels.items()
    ]


@auth.require(auth.REVIEWER)
def quick_counts(_request):
    """The quick filters' counts, refreshed with the grid (kept until the next event or
    minute, like its pages)."""
    me = _me()
    with _backend().uow() as uow:
        key = ("counts", me, review.queue_version(uow), uow.now().replace(second=0, microsecond=0))
        key += (current_language(),)
        cached = _queue_cache().get(key)
        if cached is None:
            cached = quick_options(review.quick_counts(uow, me))
            _queue_cache().put(key, cached)
    return cached


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
    # Each case link carries the view, so that the case page knows where "next" is.
    link = view_search(
        {
            "quick": sorted(query.quick),
            "q": query.search,
            "sort": [
                [s["colId"], "desc" if s.get("sort") == "desc" else "asc"]
                for s in items(mapping(request).get("sortModel"))
                if isinstance(s, dict) and s.get("colId") in SORT_COLUMNS
            ],
        }
    )
    data = [
        {
            "id": r.enrolment_id,
            "secretary": f"[{_escape_markdown(r.secretary)}]"
            f"(/backoffice/dossier/{r.enrolment_id}{link})",
            "professional": r.professional,
            "waiting_days": _waiting_text(r),
            "overdue": r.overdue,
            "summary": r.summary,
            "differences": _badges(r),
            "due_title": _due_title(r),
            "assignee": _assignee_text(r),
            "state": r.state_label,
            "awaiting_second": r.awaiting_second,
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


def load_case(case_id, *, audit: bool, claim: bool = False, via=None):
    """(CaseView, reviewers, my id) or (None, message) for the case page. `claim`: opened
    from the queue, so an unassigned case becomes hers. `via`: the case whose related
    requests listed this one (?via=<n>; checked by the service)."""
    enrolment_id = record_id(case_id)
    if enrolment_id is None:
        return None, _("Dossier introuvable.")
    me = _me()
    with _backend().uow() as uow:
        try:
            if claim:
                decisions.claim_if_free(uow, enrolment_id, me)
            read = case_file.open_case if audit else case_file.case_view
            view = read(uow, enrolment_id, me, record_id(via) if via is not None else None)
        except DomainError as exc:
            return None, exc.message
    return (view, view.colleagues, me), None


# What the reviewer just did, shown at the top of the next case (?decided=<id>.<code>).
def _done_texts() -> dict[str, str]:
    return {
        "approved": _(
            "Dossier n° {n} : identité approuvée ; le compte est créé et les emails envoyés."
        ),
        "approval_proposed": _(
            "Dossier n° {n} : approbation proposée ; un(e) second(e) relecteur(rice) doit la "
            "confirmer."
        ),
        "rejected": _("Dossier n° {n} : demande refusée ; la secrétaire a été informée par email."),
        "rejection_proposed": _(
            "Dossier n° {n} : refus proposé ; un(e) second(e) relecteur(rice) doit le confirmer."
        ),
    }


def done_message(decided) -> str:
    """The message for ?decided=<id>.<code>, or "" for anything else."""
    number, _dot, code = (text(decided) or "").partition(".")
    texts = _done_texts()
    if record_id(number) is None or code not in texts:
        return ""
    return texts[code].format(n=number) + " " + _("Voici le dossier suivant de votre vue.")


def _decided_here(code: str) -> str:
    """What was decided, on the case page itself (opened by its number, not from a view)."""
    return {
        "approved": _("Identité approuvée : le compte est créé et les emails envoyés."),
        "approval_proposed": _(
            "Approbation enregistrée : un(e) second(e) relecteur(rice) doit la "
            "confirmer avant la création du compte."
        ),
        "rejected": _("Demande refusée : la secrétaire a été informée par email."),
        "rejection_proposed": _(
            "Refus proposé : un(e) second(e) relecteur(rice) doit le confirmer."
        ),
    }[code]


def _done_code(decision: str, outcome: str) -> str:
    if decision == "approve":
        return "approval_proposed" if outcome == "awaiting_second" else "approved"
    return "rejection_proposed" if outcome == "awaiting_second" else "rejected"


def _next_href(view, current: int, me: int, **extra) -> str | None:
    """The next case of her queue view, as a link that keeps the view; None if none."""
    with _backend().uow() as uow:
        following = review.next_case(uow, query_of_view(view), me, current)
    if following is None:
        return None
    return f"/backoffice/dossier/{following}{view_search(view, **extra)}"


def _decide(uow, decision, enrolment_id, me, version, reason, reject_note) -> str:
    # The back-office asks for a note: a refusal and a proposal say why.
    if decision == "approve":
        return decisions.approve(
            uow,
            enrolment_id,
            me,
            note=text(reject_note) or "",
            expected_version=version,
            require_note=True,
        )
    reason = text(reason)
    if not reason:
        raise ValidationFailed({"reason_code": _("Choisissez un motif de refus.")})
    return decisions.reject(
        uow,
        enrolment_id,
        me,
        reason_code=reason,
        note=text(reject_note) or "",
        expected_version=version,
        require_note=True,
    )


DECISIONS = ("approve", "reject")


@auth.require(auth.REVIEWER)
def act_on_case(
    claim,
    release,
    assign,
    confirm,
    withdraw,
    case_id,
    version,
    assignee,
    reason,
    reject_note,
    confirming,
    view,
):
    from dashboard.case_layout import case_body

    action = ctx.triggered_id
    clicks = {
        "case-claim": claim,
        "case-release": release,
        "case-assign": assign,
        "case-confirm-yes": confirm,
        "case-withdraw": withdraw,
    }
    # A redrawn case body inserts its buttons anew, which Dash reports as a trigger.
    if not clicks.get(action):
        return no_update, no_update, no_update, no_update, no_update
    me = _me()
    enrolment_id = record_id(case_id)
    if enrolment_id is None:
        return no_update, _("Dossier introuvable."), "danger", no_update, False
    decision = text(mapping(confirming).get("decision"))
    if action == "case-confirm-yes" and decision not in DECISIONS:
        return no_update, no_update, no_update, no_update, False
    view = mapping(view) or None
    message, color = "", "success"
    # Read while the case is still in her view: its place says which case comes next.
    following = (
        _next_href(view, enrolment_id, me) if view and action == "case-confirm-yes" else None
    )
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
            elif action == "case-confirm-yes":
                outcome = _decide(uow, decision, enrolment_id, me, version, reason, reject_note)
                code = _done_code(decision, outcome)
                if following:
                    # Decided: straight to the next case, which says what was just done.
                    href = following + "&" + urlencode({"decided": f"{enrolment_id}.{code}"})
                    return no_update, no_update, no_update, href, False
                if view:  # decided, and nothing else left in her view
                    message = (
                        _done_texts()[code].format(n=enrolment_id)
                        + " "
                        + _("Il n'y a plus d'autre dossier à traiter dans votre vue.")
                    )
                else:
                    message = _decided_here(code)
            elif action == "case-withdraw":
                decisions.withdraw_proposal(uow, enrolment_id, me, expected_version=version)
                message = _("La proposition a été écartée ; le dossier revient dans la file.")
        except ValidationFailed as exc:
            # Something to correct: the page stays as it is, with the note and reason typed.
            return no_update, exc.message, "danger", no_update, False
        except DomainError as exc:
            # The case changed under her (a colleague decided, claimed, …): show it as it is.
            message, color = exc.message, "danger"
    loaded, problem = load_case(enrolment_id, audit=False)
    if loaded is None:
        return html.P(problem), message, color, no_update, False
    return case_body(*loaded), message, color, no_update, False


@auth.require(auth.REVIEWER)
def ask_to_confirm(approve, reject, cancel, facts, reason, note):
    """The in-page confirmation: names the person and the decision, and says when a second
    reviewer will confirm it. Nothing is decided here."""
    from dashboard.case_layout import confirmation

    action = ctx.triggered_id
    clicks = {"case-approve": approve, "case-reject": reject, "case-confirm-no": cancel}
    if not clicks.get(action):  # buttons inserted by a redrawn case body: not a click
        return (no_update,) * 7
    if action == "case-confirm-no":
        return False, no_update, no_update, no_update, None, no_update, no_update
    facts = mapping(facts)
    reason = text(reason) or ""
    if action == "case-reject" and reason not in codes.REJECTION_REASONS:
        return (
            False,
            no_update,
            no_update,
            no_update,
            None,
            _("Choisissez un motif de refus."),
            "danger",
        )
    decision = "approve" if action == "case-approve" else "reject"
    title, body, button = confirmation(facts, decision, reason)
    return True, title, body, button, {"decision": decision}, "", "info"


@auth.require(auth.REVIEWER)
def go_to_next(n_clicks, case_id, view):
    """ "Dossier suivant" without deciding: the next case of her view."""
    enrolment_id = record_id(case_id)
    view = mapping(view) or None
    if not n_clicks or enrolment_id is None or view is None:
        return no_update, no_update, no_update
    href = _next_href(view, enrolment_id, _me())
    if href is None:
        return no_update, _("Il n'y a plus d'autre dossier à traiter dans votre vue."), "info"
    return href, no_update, no_update


@auth.require(auth.REVIEWER)
def return_to_author(n_clicks, case_id, version, comment):
    """ "Renvoyer avec un commentaire": the proposal goes back to its author, the case hers."""
    from dashboard.case_layout import case_body

    if not n_clicks:
        return no_update, no_update, no_update
    enrolment_id = record_id(case_id)
    if enrolment_id is None:
        return no_update, _("Dossier introuvable."), "danger"
    with _backend().uow() as uow:
        try:
            decisions.return_proposal(
                uow, enrolment_id, _me(), text(comment) or "", expected_version=version
            )
        except ValidationFailed as exc:
            return no_update, exc.message, "danger"
        except DomainError as exc:
            message, color = exc.message, "danger"
        else:
            message = _("La proposition est renvoyée à son auteur(e), avec votre commentaire.")
            color = "success"
    loaded, problem = load_case(enrolment_id, audit=False)
    return (case_body(*loaded) if loaded else html.P(problem)), message, color


@auth.require(auth.REVIEWER)
def note_from_reason(reason, note):
    """A reason chosen: the note starts from its text, unless she already wrote her own."""
    starts = {codes.reason_note_template(code) for code in codes.REJECTION_REASONS}
    if (text(note) or "") not in starts | {""}:
        return no_update
    return codes.reason_note_template(text(reason)) or no_update


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
    app.callback(
        Output("queue-quick", "options"),
        Input("queue-grid", "getRowsRequest"),
    )(quick_counts)

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
    # The view in the address bar (replaced, not pushed: a filter is not a page to go back
    # to), in the format view_of reads; the case links carry the same (queue_rows).
    app.clientside_callback(
        """function(quick, search, request) {
            const params = new URLSearchParams();
            if (quick && quick.length) { params.set("quick", [...quick].sort().join(",")); }
            if (search) { params.set("q", search); }
            const sort = ((request && request.sortModel) || [])
                .map(s => s.colId + "." + (s.sort === "desc" ? "desc" : "asc"));
            if (sort.length) { params.set("sort", sort.join(",")); }
            const query = params.toString();
            const url = window.location.pathname + (query ? "?" + query : "");
            if (url !== window.location.pathname + window.location.search) {
                window.history.replaceState(window.history.state, "", url);
            }
            return window.dash_clientside.no_update;
        }""",
        Output("queue-view", "data"),
        Input("queue-quick", "value"),
        Input("queue-search", "value"),
        Input("queue-grid", "getRowsRequest"),
        prevent_initial_call=True,
    )
    app.callback(
        Output("case-body", "children"),
        Output("case-message", "children"),
        Output("case-message", "color"),
        Output("case-nav", "href"),
        Output("case-confirm", "is_open"),
        Input("case-claim", "n_clicks"),
        Input("case-release", "n_clicks"),
        Input("case-assign", "n_clicks"),
        Input("case-confirm-yes", "n_clicks"),
        Input("case-withdraw", "n_clicks"),
        State("case-id", "data"),
        State("case-version", "data"),
        State("case-assignee", "value"),
        State("case-reason", "value"),
        State("case-reject-note", "value"),
        State("case-confirming", "data"),
        State("case-view", "data"),
        prevent_initial_call=True,
    )(act_on_case)
    app.callback(
        Output("case-confirm", "is_open", allow_duplicate=True),
        Output("case-confirm-title", "children"),
        Output("case-confirm-text", "children"),
        Output("case-confirm-yes", "children"),
        Output("case-confirming", "data"),
        Output("case-message", "children", allow_duplicate=True),
        Output("case-message", "color", allow_duplicate=True),
        Input("case-approve", "n_clicks"),
        Input("case-reject", "n_clicks"),
        Input("case-confirm-no", "n_clicks"),
        State("case-facts", "data"),
        State("case-reason", "value"),
        State("case-reject-note", "value"),
        prevent_initial_call=True,
    )(ask_to_confirm)
    app.callback(
        Output("case-nav", "href", allow_duplicate=True),
        Output("case-message", "children", allow_duplicate=True),
        Output("case-message", "color", allow_duplicate=True),
        Input("case-next", "n_clicks"),
        State("case-id", "data"),
        State("case-view", "data"),
        prevent_initial_call=True,
    )(go_to_next)
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
        Output("case-body", "children", allow_duplicate=True),
        Output("case-message", "children", allow_duplicate=True),
        Output("case-message", "color", allow_duplicate=True),
        Input("case-return", "n_clicks"),
        State("case-id", "data"),
        State("case-version", "data"),
        State("case-return-comment", "value"),
        prevent_initial_call=True,
    )(return_to_author)
    app.callback(
        Output("case-reject-note", "value"),
        Input("case-reason", "value"),
        State("case-reject-note", "value"),
        prevent_initial_call=True,
    )(note_from_reason)
