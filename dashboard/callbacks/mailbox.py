"""The development mailbox: lists outbox mail rendered as the reader will see it."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, html

from dashboard import auth
from dashboard.enrolment import mail
from dashboard.i18n import gettext as _


@auth.require(auth.DEVELOPER)
def show_mailbox(_tick):
    from dashboard.app import backend

    be = backend()
    with be.uow() as uow:
        messages = mail.mailbox(uow, limit=50)
    if not messages:
        return html.P(_("Aucun email pour l'instant."))
    return [
        dbc.Card(
            dbc.CardBody(
                [
                    html.H2(m.subject, className="h6"),
                    html.P(
                        [html.Strong(_("À : ")), m.recipient or "—", " · ", m.created_at],
                        className="small text-muted",
                    ),
                    html.Pre(m.text, className="mailbox-body"),
                    html.A(_("Ouvrir le lien"), href=m.link) if m.link else None,
                ]
            ),
            className="mb-2",
        )
        for m in messages
    ]


def register(app: Dash) -> None:
    app.callback(Output("mailbox-list", "children"), Input("mailbox-refresh", "n_intervals"))(
        show_mailbox
    )
