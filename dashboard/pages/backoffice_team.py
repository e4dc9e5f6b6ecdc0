import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard import auth, charts, components
from dashboard.i18n import gettext as _

dash.register_page(__name__, path="/backoffice/equipe", title=lambda **_kw: _("Équipe — eSanté"))


@auth.page(auth.LEAD)
def layout(**_params):
    return html.Div(
        [
            components.backoffice_header(_("Équipe de vérification")),
            dcc.Store(id="team-done"),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            html.H2(_("Dossiers ouverts par personne"), className="h5"),
                            dcc.Loading(html.Div(id="team-load")),
                        ],
                        lg=5,
                    ),
                    dbc.Col(
                        html.Figure(
                            [
                                dcc.Loading(
                                    dcc.Graph(id="team-chart", config=charts.graph_config())
                                ),
                                html.Figcaption(
                                    _("Dossiers ouverts et en retard, par relecteur(rice)"),
                                    className="visually-hidden",
                                ),
                            ]
                        ),
                        lg=7,
                    ),
                ]
            ),
            html.H2(_("Réattribuer des dossiers"), className="h5 mt-4"),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            dbc.Label(_("Dossiers de"), html_for="team-from"),
                            dbc.Select(id="team-from", options=[], placeholder=_("Choisir…")),
                        ],
                        md=4,
                    ),
                    dbc.Col(
                        [
                            dbc.Label(_("À confier à"), html_for="team-to"),
                            dbc.Select(id="team-to", options=[], placeholder=_("Choisir…")),
                        ],
                        md=4,
                    ),
                    dbc.Col(
                        dbc.Button(
                            _("Réattribuer les dossiers cochés"),
                            id="team-move",
                            color="primary",
                            className="mt-4",
                        ),
                        md=4,
                    ),
                ],
                className="mb-2",
            ),
            html.Div(dbc.Alert(id="team-message", is_open=False, className="mt-2"), role="status"),
            html.Fieldset(
                [
                    html.Legend(_("Dossiers à déplacer"), className="h6"),
                    html.P(id="team-cases-empty", className="text-muted small"),
                    dbc.Checklist(id="team-cases", options=[], value=[]),
                ]
            ),
            html.P(
                _(
                    "Chaque déplacement est enregistré dans l'historique du dossier, à votre "
                    "nom. Un dossier décidé ou déplacé entre-temps est laissé tel quel."
                ),
                className="text-muted small mt-3",
            ),
        ]
    )
