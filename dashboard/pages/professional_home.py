import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_login import current_user

from dashboard import auth, components, declaration_layout
from dashboard.callbacks import professional as view
from dashboard.i18n import gettext as _

dash.register_page(
    __name__, path="/professionnel", title=lambda **_kw: _("Mes déclarations — eSanté")
)

# Cells wrap rather than cut anything off (a long email, a long date in German).
_WRAP = {"wrapText": True, "autoHeight": True}


def _date(field: str, header: str, **extra) -> dict:
    # Sorted on the sortable text (*_at), shown as the long date of his language (*_on).
    shown = field.replace("_at", "_on")
    return {
        "field": field,
        "headerName": header,
        "valueFormatter": {"function": f"params.data.{shown}"},
        "flex": 1,
        "minWidth": 160,
        **_WRAP,
        **extra,
    }


def _columns():
    return [
        {
            "field": "secretary",
            "headerName": _("Secrétaire"),
            "flex": 2,
            "minWidth": 140,
            "filter": True,
            **_WRAP,
        },
        {"field": "email", "headerName": _("Email"), "flex": 3, "minWidth": 170, **_WRAP},
        # Whole and grouped (1985 0412 123 93), on one line.
        {
            "field": "matricule",
            "headerName": _("Matricule"),
            "minWidth": 165,
            "width": 165,
            "cellClass": "decl-nowrap",
            **_WRAP,
        },
        {
            "field": "state_display",
            "headerName": _("État"),
            "flex": 2,
            "minWidth": 140,
            "filter": True,
            # Emphasis comes as Markdown from the server (no AG Grid expressions under CSP).
            "cellRenderer": "markdown",
            **_WRAP,
        },
        _date("declared_at", _("Déclarée le"), sort="desc"),
        _date("expires_at", _("Lien valable jusqu'au")),
        _date("updated_at", _("Dernier changement")),
    ]


def _grid() -> html.Div:
    """From 768 px: the grid, and the actions on the selected row."""
    return html.Div(
        [
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
                message=_("Annuler cette déclaration ? Le lien envoyé ne fonctionnera plus."),
            ),
            dcc.Loading(
                dag.AgGrid(
                    id="declarations-grid",
                    columnDefs=_columns(),
                    defaultColDef={"wrapHeaderText": True, "autoHeaderHeight": True},
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
        ],
        className="decl-wide",
    )


@auth.page(auth.PROFESSIONAL)
def layout(renvoyer=None, annuler=None, renvoyee=None, annulee=None, **_params):
    asked = view.card_view(renvoyer, annuler, renvoyee, annulee)
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
                    "déclaration. La personne déclarée reçoit ensuite un email avec un lien "
                    "pour créer son compte."
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
            # The page's one message: what an action did, or why it could not.
            dbc.Alert(
                asked.message,
                id="decl-action-message",
                is_open=True,
                color=asked.color,
                className="empty-hidden",
            ),
            dcc.Store(id="declarations-loaded", data=True),
            _grid(),
            # Below 768 px: one card per declaration, each with its one next action.
            html.Div(dcc.Loading(html.Div(id="decl-cards")), className="decl-narrow"),
            *declaration_layout.card_confirmation(asked.row, asked.action),
            dcc.Location(id="decl-next-go", refresh="callback-nav"),
        ]
    )
