import json

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard import auth, components
from dashboard.callbacks import staff_admin as view
from dashboard.i18n import gettext as _

dash.register_page(
    __name__, path="/backoffice/personnel", title=lambda **_kw: _("Personnel — eSanté")
)


def _yes_no(yes: str, no: str) -> dict:
    return {"function": f"params.value ? {json.dumps(yes)} : {json.dumps(no)}"}


def _rule(expression: str) -> dict:
    # Parsed by dash-ag-grid itself: AG Grid would compile a bare string with new Function(),
    # which the Content-Security-Policy forbids.
    return {"function": expression}


def _columns():
    return [
        {"field": "email", "headerName": _("Email"), "flex": 2, "filter": True},
        {"field": "name", "headerName": _("Nom"), "flex": 2, "filter": True},
        {"field": "roles", "headerName": _("Rôles"), "flex": 2, "filter": True},
        {
            "field": "active",
            "headerName": _("État"),
            "flex": 1,
            "cellDataType": False,
            "valueFormatter": _yes_no(_("Actif"), _("Désactivé")),
            "cellClassRules": {"state-attention": _rule("!params.data.active")},
        },
        {"field": "created", "headerName": _("Créé le"), "flex": 1, "minWidth": 150},
    ]


def _selected_panel():
    return html.Section(
        [
            html.H2(_("Modifier le compte sélectionné"), className="h4"),
            html.P(
                _("Sélectionnez un compte dans le tableau."),
                id="staff-selected",
                className="fw-semibold",
                **{"aria-live": "polite"},
            ),
            html.Fieldset(
                [
                    html.Legend(_("Rôles"), className="staff-legend"),
                    dbc.Checklist(
                        id="staff-roles", options=view.role_options(disabled=True), value=[]
                    ),
                    html.Div(
                        [
                            dbc.Button(
                                _("Enregistrer les rôles"),
                                id="staff-save-roles",
                                color="primary",
                                disabled=True,
                                className="me-2 mb-2",
                            ),
                            dbc.Button(
                                _("Désactiver"),
                                id="staff-toggle-active",
                                color="danger",
                                outline=True,
                                disabled=True,
                                className="me-2 mb-2",
                            ),
                            # Disabled with the fieldset until an account is selected.
                            dcc.ConfirmDialogProvider(
                                dbc.Button(
                                    _("Nouveau mot de passe"),
                                    id="staff-reset-password",
                                    color="secondary",
                                    outline=True,
                                    className="me-2 mb-2",
                                ),
                                id="staff-reset-password-confirm",
                                message=_(
                                    "Donner un nouveau mot de passe à ce compte ? L'ancien ne "
                                    "fonctionnera plus et ses sessions ouvertes seront terminées."
                                ),
                            ),
                            dcc.ConfirmDialogProvider(
                                dbc.Button(
                                    _("Terminer ses sessions"),
                                    id="staff-end-sessions",
                                    color="secondary",
                                    outline=True,
                                    className="mb-2",
                                ),
                                id="staff-end-sessions-confirm",
                                message=_(
                                    "Terminer toutes les sessions ouvertes de ce compte ? La "
                                    "personne devra se reconnecter."
                                ),
                            ),
                        ],
                        className="mt-2",
                        role="group",
                        **{"aria-label": _("Actions sur le compte sélectionné")},
                    ),
                ],
                id="staff-selected-fieldset",
                disabled=True,
                className="staff-panel",
            ),
        ],
        className="col-md-6 mb-4",
    )


def _add_panel():
    return html.Section(
        [
            html.H2(_("Ajouter un compte"), className="h4"),
            html.Div(
                [
                    components.field(
                        dbc.Input(
                            id="staff-new-email", type="email", autocomplete="off", maxlength=1000
                        ),
                        input_id="staff-new-email",
                        label=_("Adresse email professionnelle"),
                    ),
                    components.field(
                        dbc.Input(
                            id="staff-new-name", autocomplete="off", maxlength=1000
                        ),  # longer: a message
                        input_id="staff-new-name",
                        label=_("Nom affiché"),
                        help_text=_("Facultatif ; par défaut, le début de l'adresse email."),
                    ),
                    html.Fieldset(
                        [
                            html.Legend(_("Rôles"), className="staff-legend"),
                            dbc.Checklist(
                                id="staff-new-roles", options=view.role_options(), value=[]
                            ),
                            html.Div(
                                id="staff-new-roles-error",
                                className="field-error",
                                role="alert",
                                **{"aria-live": "assertive"},
                            ),
                        ],
                        className="mb-3",
                    ),
                    dbc.Button(_("Créer le compte"), id="staff-add", color="primary"),
                    html.P(
                        _(
                            "Un mot de passe provisoire est généré et affiché une seule fois, "
                            "pour être remis à la personne."
                        ),
                        className="text-muted small mt-2",
                    ),
                ],
                className="staff-panel",
            ),
        ],
        className="col-md-6 mb-4",
    )


def _sessions_panel():
    return html.Section(
        [
            html.H2(_("Sessions"), className="h4"),
            html.P(
                _(
                    "Une session prend fin à la déconnexion, après 30 minutes d'inactivité pour "
                    "le personnel, et dans tous les cas {hours} heures après la connexion. "
                    "Changer les rôles d'un compte, le désactiver ou lui donner un nouveau mot de "
                    "passe termine aussi ses sessions.",
                    hours=view.session_max_hours(),
                ),
                className="text-muted",
            ),
            dcc.ConfirmDialogProvider(
                dbc.Button(_("Terminer toutes les sessions"), id="staff-end-all", color="danger"),
                id="staff-end-all-confirm",
                message=_(
                    "Terminer toutes les sessions ouvertes — personnel, professionnels et "
                    "secrétaires — sauf la vôtre ? Chacun devra se reconnecter."
                ),
            ),
        ],
        className="col-md-6 mb-4",
    )


def _failures_panel():
    return html.Section(
        [
            html.H2(_("Échecs de connexion des 7 derniers jours"), className="h4"),
            html.P(
                _(
                    "Par compte visé et par source (empreinte de l'adresse du poste, qui ne "
                    "révèle pas l'adresse elle-même). Beaucoup d'échecs d'une même source : "
                    "quelqu'un essaie des mots de passe ; elle est alors freinée."
                ),
                className="text-muted small",
            ),
            dag.AgGrid(
                id="staff-failures",
                columnDefs=[
                    {"field": "when", "headerName": _("Dernier échec"), "flex": 1},
                    {"field": "account", "headerName": _("Compte visé"), "flex": 2},
                    {"field": "source", "headerName": _("Source"), "flex": 1},
                    {"field": "count", "headerName": _("Échecs"), "flex": 1},
                    {"field": "reasons", "headerName": _("Motifs"), "flex": 3},
                ],
                rowData=view.failure_rows(),
                dashGridOptions={
                    "localeText": components.grid_locale(_("Aucun échec de connexion.")),
                    "domLayout": "autoHeight",
                },
                className="ag-theme-quartz mb-2",
                style={"width": "100%"},
            ),
        ],
        className="col-12 mb-4",
    )


@auth.page(auth.ADMIN)
def layout(**_params):
    return html.Div(
        [
            html.Div(
                [
                    html.H1(
                        _("Personnel du back-office"),
                        id="page-heading",
                        tabIndex="-1",
                        className="me-auto",
                    ),
                    dcc.Link(_("← Accueil du back-office"), href="/backoffice/accueil"),
                    components.logout_button(
                        "/backoffice/deconnexion", button_id="staff-logout", small=True
                    ),
                ],
                className="d-flex align-items-center flex-wrap gap-3",
            ),
            html.Div(id="staff-message", className="alert alert-info empty-hidden", role="alert"),
            html.Div(
                id="staff-new-password",
                className="alert alert-warning empty-hidden",
                role="status",
            ),
            html.Div(
                id="staff-session-message",
                className="alert alert-info empty-hidden",
                role="alert",
            ),
            html.Div(
                id="staff-reset-notice",
                className="alert alert-warning empty-hidden",
                role="status",
            ),
            dag.AgGrid(
                id="staff-grid",
                columnDefs=_columns(),
                rowData=view.staff_rows(),
                getRowId="params.data.id",
                dashGridOptions={
                    "rowSelection": {"mode": "singleRow", "enableClickSelection": True},
                    "localeText": components.grid_locale(_("Aucun compte.")),
                    "domLayout": "autoHeight",
                },
                className="ag-theme-quartz mb-2",
                style={"width": "100%"},
            ),
            html.P(
                _(
                    "Sélectionnez une ligne pour modifier les rôles, désactiver le compte, lui "
                    "donner un nouveau mot de passe ou terminer ses sessions."
                ),
                className="text-muted small",
            ),
            html.Div([_selected_panel(), _add_panel()], className="row mt-3"),
            html.Div([_sessions_panel()], className="row"),
            html.Div([_failures_panel()], className="row"),
        ]
    )
