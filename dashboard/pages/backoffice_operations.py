import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard import auth, components
from dashboard.callbacks import operations as view
from dashboard.i18n import gettext as _

dash.register_page(
    __name__, path="/backoffice/exploitation", title=lambda **_kw: _("Exploitation — eSanté")
)


def _columns():
    return [
        {"field": "kind", "headerName": _("File"), "flex": 1, "filter": True},
        {"field": "number", "headerName": _("N°"), "flex": 1, "maxWidth": 100},
        {"field": "what", "headerName": _("Objet"), "flex": 2, "filter": True},
        {"field": "enrolment", "headerName": _("Demande"), "flex": 1, "maxWidth": 120},
        {
            "field": "status",
            "headerName": _("État"),
            "flex": 2,
            "filter": True,
            # Parsed by dash-ag-grid itself: the CSP forbids AG Grid's own compilation.
            "cellClassRules": {"state-attention": {"function": "params.data.failed"}},
        },
        {"field": "attempts", "headerName": _("Essais"), "flex": 1, "maxWidth": 110},
        {"field": "error", "headerName": _("Dernière erreur"), "flex": 4, "wrapText": True},
        {"field": "created", "headerName": _("En file depuis"), "flex": 2, "minWidth": 150},
        {"field": "next", "headerName": _("Prochain essai"), "flex": 2, "minWidth": 150},
    ]


def _actions():
    return html.Fieldset(
        [
            html.Legend(_("Élément sélectionné"), className="staff-legend"),
            html.P(
                _("Sélectionnez un élément dans le tableau."),
                id="ops-selected",
                className="fw-semibold",
                **{"aria-live": "polite"},
            ),
            dcc.ConfirmDialogProvider(
                dbc.Button(_("Renvoyer maintenant"), id="ops-retry", color="primary"),
                id="ops-retry-confirm",
                message=_(
                    "Renvoyer cet élément maintenant ? Son compteur d'essais repart de zéro "
                    "(l'historique garde l'ancien)."
                ),
            ),
            dcc.ConfirmDialogProvider(
                dbc.Button(_("Annuler l'envoi"), id="ops-cancel", color="danger", outline=True),
                id="ops-cancel-confirm",
                message=_(
                    "Annuler cet élément pour de bon ? Il ne sera plus jamais envoyé. Pour "
                    "l'annuaire : les courriels qui attendent sa confirmation ne partiront pas."
                ),
            ),
        ],
        id="ops-actions",
        disabled=True,
        className="staff-panel d-flex flex-wrap gap-2 align-items-center",
    )


@auth.page(auth.ADMIN)
def layout(**_params):
    return html.Div(
        [
            html.Div(
                [
                    html.H1(
                        _("Exploitation"), id="page-heading", tabIndex="-1", className="me-auto"
                    ),
                    dcc.Link(_("← Accueil du back-office"), href="/backoffice/accueil"),
                    components.logout_button(
                        "/backoffice/deconnexion", button_id="staff-logout", small=True
                    ),
                ],
                className="d-flex align-items-center flex-wrap gap-3",
            ),
            html.P(
                _(
                    "Courriels et demandes à l'annuaire qui ont échoué, ou qui attendent depuis "
                    "plus de {minutes} minutes. Le destinataire et le contenu n'apparaissent "
                    "pas ; les adresses citées dans les erreurs sont masquées.",
                    minutes=view.threshold_minutes(),
                ),
                className="text-muted",
            ),
            html.Div(id="ops-message", className="alert alert-info empty-hidden", role="alert"),
            dbc.Button(
                _("Actualiser"), id="ops-refresh", color="secondary", outline=True, size="sm"
            ),
            dag.AgGrid(
                id="ops-grid",
                columnDefs=_columns(),
                rowData=view.item_rows(),
                getRowId="params.data.id",
                dashGridOptions={
                    "rowSelection": {"mode": "singleRow", "enableClickSelection": True},
                    "localeText": components.grid_locale(_("Aucun envoi en difficulté.")),
                    "domLayout": "autoHeight",
                },
                className="ag-theme-quartz my-2",
                style={"width": "100%"},
            ),
            _actions(),
        ]
    )
