import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_login import current_user

from dashboard import auth, components
from dashboard.i18n import gettext as _

dash.register_page(
    __name__, path="/professionnel", title=lambda **_kw: _("Mes déclarations — eSanté")
)


def _columns():
    return [
        {"field": "secretary", "headerName": _("Secrétaire"), "flex": 2, "filter": True},
        {"field": "email", "headerName": _("Email"), "flex": 2},
        {"field": "matricule", "headerName": _("Matricule"), "flex": 1},
        {
            "field": "state_display",
            "headerName": _("État"),
            "flex": 2,
            "filter": True,
            # Emphasis comes as Markdown from the server (no AG Grid expressions under CSP).
            "cellRenderer": "markdown",
        },
        {"field": "declared_at", "headerName": _("Déclarée le"), "flex": 1, "sort": "desc"},
        {"field": "expires_at", "headerName": _("Lien valable jusqu'au"), "flex": 1},
        {"field": "updated_at", "headerName": _("Dernier changement"), "flex": 1},
    ]


@auth.page(auth.PROFESSIONAL)
def layout(**_params):
    return html.Div(
        [
            html.Div(
                [
                    html.H1(_("Mes déclarations"), className="me-auto"),
                    html.Span(current_user.name, className="me-3 text-muted"),
                    components.logout_button(
                        "/professionnel/deconnexion", button_id="pro-logout", small=True
                    ),
                ],
                className="d-flex align-items-center flex-wrap gap-2",
            ),
            html.P(
                _(
                    "La création d'un compte eSanté pour votre secrétaire commence par votre "
                    "déclaration. Elle reçoit ensuite un email avec un lien pour créer son compte."
                )
            ),
            html.Div(
                [
                    dcc.Link(
                        _("Déclarer une secrétaire"),
                        href="/professionnel/declarer",
                        className="btn btn-primary",
                        id="pro-declare-link",
                    ),
                    dcc.Link(
                        _("Mes secrétaires"),
                        href="/professionnel/secretaires",
                        className="btn btn-outline-primary",
                        id="pro-secretaries-link",
                    ),
                ],
                className="d-flex flex-wrap gap-2 mb-3",
            ),
            dbc.Alert(
                id="decl-action-message",
                is_open=True,
                color="info",
                className="empty-hidden",
            ),
            html.Fieldset(
                [
                    dbc.Button(
                        _("Renvoyer l'invitation"),
                        id="decl-resend",
                        disabled=True,
                        color="secondary",
                        className="me-2 mb-2",
                    ),
                    dbc.Button(
                        _("Corriger et déclarer à nouveau"),
                        id="decl-correct",
                        disabled=True,
                        color="secondary",
                        className="me-2 mb-2",
                        href="#",
                    ),
                    dbc.Button(
                        _("Annuler la déclaration"),
                        id="decl-cancel",
                        disabled=True,
                        color="danger",
                        outline=True,
                        className="mb-2",
                    ),
                ],
                **{"aria-label": _("Actions sur la déclaration sélectionnée")},
                id="decl-actions",
            ),
            dcc.ConfirmDialog(
                id="decl-cancel-confirm",
                message=_("Annuler cette déclaration ? Le lien envoyé ne fonctionnera plus."),
            ),
            dcc.Store(id="declarations-loaded", data=True),
            dcc.Loading(
                dag.AgGrid(
                    id="declarations-grid",
                    columnDefs=_columns(),
                    rowData=[],
                    getRowId="params.data.id",
                    dashGridOptions={
                        "rowSelection": {"mode": "singleRow", "enableClickSelection": True},
                        "localeText": components.grid_locale(
                            _("Aucune déclaration pour l'instant.")
                        ),
                        "domLayout": "autoHeight",
                    },
                    className="ag-theme-quartz",
                    style={"width": "100%"},
                )
            ),
            html.P(
                _("Sélectionnez une ligne pour agir sur la déclaration."),
                className="text-muted small mt-2",
            ),
        ]
    )
