"""The pieces of "Mes secrétaires", "Mon compte" and the admin's "Accès" page: the open
links with their "end" action, the ended ones as history, and the one confirmation.

Each page passes its `prefix` (the ids of its components) and its own `base` path: the
"end" action of a row is a link to `base?fin=<link id>`, whose layout opens the
confirmation; the page's callback (dashboard.callbacks.links) ends the link and sends the
browser to `base?termine=<link id>`, whose layout says it is done. Plain links, so Back and
reload behave, and the server checks the link on every load.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.enrolment import codes
from dashboard.enrolment.links import LinkRow
from dashboard.i18n import gettext as _
from dashboard.i18n import long_date


def _ended_by(kind: str | None) -> str:
    return {
        "professional": _("par le professionnel"),
        "secretary": _("par la personne elle-même"),
    }.get(kind or "", _("par l'Agence eSanté"))


def open_links(
    rows: list[LinkRow], *, prefix: str, base: str, action: str, empty: str, since: str
) -> html.Div:
    """One card per open link: who, since when, and the action that ends it."""
    rows = [r for r in rows if r.ended_at is None]
    if not rows:
        return html.P(empty, id=f"{prefix}-none", className="text-muted")
    return html.Ul(
        [
            html.Li(
                dbc.Card(
                    dbc.CardBody(
                        [
                            html.Div(
                                [
                                    html.H3(r.person, className="h6 mb-1"),
                                    html.P(
                                        since.format(date=long_date(r.linked_at)),
                                        className="mb-0 text-muted",
                                    ),
                                ],
                                className="me-auto",
                            ),
                            dcc.Link(
                                # The visible text is the same on every row: say whose access.
                                [action, html.Span(f" — {r.person}", className="visually-hidden")],
                                href=f"{base}{'&' if '?' in base else '?'}fin={r.link_id}",
                                id=f"{prefix}-end-{r.link_id}",
                                className="btn btn-outline-danger",
                            ),
                        ],
                        className="d-flex flex-wrap align-items-center gap-2",
                    )
                ),
                className="mb-2",
            )
            for r in rows
        ],
        id=f"{prefix}-open",
        className="list-unstyled",
    )


def history(rows: list[LinkRow], *, prefix: str, title: str) -> html.Div | None:
    """The ended links, newest first: when, why and by whom."""
    ended = sorted((r for r in rows if r.ended_at is not None), key=lambda r: r.ended_at)
    if not ended:
        return None
    return html.Div(
        [
            html.H2(title, className="h5 mt-4"),
            html.Ul(
                [
                    html.Li(
                        _(
                            "{person} : du {start} au {end} — {reason} ({by})",
                            person=r.person,
                            start=long_date(r.linked_at),
                            end=long_date(r.ended_at),
                            reason=codes.link_end_label(r.end_reason),
                            by=_ended_by(r.ended_by),
                        )
                    )
                    for r in reversed(ended)
                ],
                id=f"{prefix}-history",
            ),
        ]
    )


def done_message(row: LinkRow | None, *, prefix: str, text: str) -> dbc.Alert | None:
    if row is None or row.ended_at is None:
        return None
    return html.Div(
        text.format(person=row.person, date=long_date(row.ended_at)),
        id=f"{prefix}-done",
        className="alert alert-success",
        role="status",
    )


def end_confirmation(
    row: LinkRow | None, problem: str | None, *, prefix: str, base: str, title: str, text: str
) -> list:
    """The confirmation: whose access ends, why (required), an optional note. Opened by the
    page's layout when the address names a link that may be ended (`row`), or showing why
    not (`problem`)."""
    target = dcc.Store(id=f"{prefix}-target", data=row.link_id if row else None)
    if row is None:
        alert = dbc.Alert(problem, color="warning", id=f"{prefix}-problem") if problem else None
        return [target, alert]
    reason_id, note_id = f"{prefix}-reason", f"{prefix}-note"
    modal = dbc.Modal(
        [
            dbc.ModalHeader(
                dbc.ModalTitle(title.format(person=row.person), id=f"{prefix}-confirm-title"),
                close_button=False,
            ),
            dbc.ModalBody(
                [
                    html.P(text.format(person=row.person)),
                    html.Fieldset(
                        [
                            html.Legend(_("Motif (obligatoire)"), className="h6"),
                            dbc.RadioItems(
                                id=reason_id,
                                options=[
                                    {"label": codes.link_end_label(code), "value": str(code)}
                                    for code in codes.LINK_END_CHOICES
                                ],
                                value=None,
                            ),
                            html.Div(
                                id=f"{reason_id}-error",
                                className="text-danger small empty-hidden",
                                role="alert",
                            ),
                        ],
                        className="mb-3",
                    ),
                    dbc.Label(_("Note (facultative)"), html_for=note_id),
                    dbc.Textarea(id=note_id, maxlength=5000, rows=2),
                    html.Div(
                        id=f"{note_id}-error",
                        className="text-danger small empty-hidden",
                        role="alert",
                    ),
                    html.Div(
                        id=f"{prefix}-error", className="alert alert-danger empty-hidden mt-3"
                    ),
                ]
            ),
            dbc.ModalFooter(
                [
                    dcc.Link(_("Retour"), href=base, className="btn btn-outline-secondary"),
                    dbc.Button(_("Mettre fin à l'accès"), id=f"{prefix}-confirm", color="danger"),
                ]
            ),
        ],
        id=f"{prefix}-modal",
        is_open=True,
        centered=True,
        backdrop="static",  # a click beside it must not look like a choice
        labelledby=f"{prefix}-confirm-title",
    )
    return [target, modal]


def navigator(prefix: str) -> dcc.Location:
    """Where the callback sends the browser once the link has ended."""
    return dcc.Location(id=f"{prefix}-go", refresh="callback-nav")
