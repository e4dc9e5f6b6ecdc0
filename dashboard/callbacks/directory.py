"""The embedded directory's read-only view: its Users (by directory id, no personal data)
and their groups (the professionals' codes)."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, html

from dashboard import auth
from dashboard.enrolment import provisioning
from dashboard.i18n import gettext as _


@auth.require(auth.DEVELOPER, auth.ADMIN)
def show_directory(_tick):
    from dashboard.app import backend

    be = backend()
    if be.directory_app is None:
        return html.P(_("L'annuaire intégré n'est pas utilisé : SCIM_URL est défini."))
    try:
        users = provisioning.directory_view(be.directory)
    except provisioning.DirectoryError as exc:
        return dbc.Alert(str(exc), color="warning")
    if not users:
        return html.P(_("Aucun utilisateur pour l'instant."))
    head = html.Thead(
        html.Tr(
            [html.Th(_("Identifiant (externalId)")), html.Th(_("Actif")), html.Th(_("Groupes"))]
        )
    )
    rows = [
        html.Tr(
            [
                html.Td(html.Code(u.directory_id)),
                html.Td(_("oui") if u.active else _("non")),
                html.Td(", ".join(u.groups) or "—"),
            ]
        )
        for u in users
    ]
    return dbc.Table([head, html.Tbody(rows)], bordered=True, size="sm")


def register(app: Dash) -> None:
    app.callback(Output("directory-list", "children"), Input("directory-refresh", "n_intervals"))(
        show_directory
    )
