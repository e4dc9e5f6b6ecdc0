import datetime as dt

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard import auth, charts, components
from dashboard.callbacks.metrics import READERS
from dashboard.i18n import gettext as _

dash.register_page(
    __name__, path="/backoffice/indicateurs", title=lambda **_kw: _("Indicateurs — eSanté")
)


def _graph(graph_id: str, description: str):
    # The figure is described in text beside it, for screen readers (Graph takes no aria-*).
    return dbc.Col(
        html.Figure(
            [
                dcc.Loading(dcc.Graph(id=graph_id, config=charts.graph_config())),
                html.Figcaption(description, className="visually-hidden"),
            ],
            **{"aria-label": description},
        ),
        lg=6,
        className="mb-4",
    )


def _export(label: str, suffix: str, class_name: str) -> tuple:
    """An export button and the download it fills (ids metrics-export[-xlsx])."""
    return (
        dbc.Button(
            label,
            id=f"metrics-export{suffix}",
            color="secondary",
            outline=True,
            className=class_name,
        ),
        dcc.Download(id=f"metrics-download{suffix}"),
    )


@auth.page(*READERS)
def layout(**_params):
    today = dt.date.today()
    return html.Div(
        [
            components.backoffice_header(_("Indicateurs d'inscription")),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            dbc.Label(_("Déclarations du … au …"), html_for="metrics-dates"),
                            html.Div(
                                dcc.DatePickerRange(
                                    id="metrics-dates",
                                    start_date=(today - dt.timedelta(days=90)).isoformat(),
                                    end_date=today.isoformat(),
                                    display_format="DD/MM/YYYY",
                                    first_day_of_week=1,
                                    start_date_placeholder_text=_("Début"),
                                    end_date_placeholder_text=_("Fin"),
                                )
                            ),
                        ],
                        md=5,
                    ),
                    dbc.Col(
                        [
                            dbc.Label(
                                _("Spécialité du professionnel"), html_for="metrics-specialty"
                            ),
                            # A native select: Dash 4's dropdown leaves a focusable
                            # element under aria-hidden (axe: aria-hidden-focus).
                            dbc.Select(
                                id="metrics-specialty",
                                options=[{"label": _("Toutes les spécialités"), "value": ""}],
                                value="",
                            ),
                        ],
                        md=4,
                    ),
                    dbc.Col(
                        [
                            *_export(_("Exporter les agrégats (CSV)"), "", "mt-4 me-2"),
                            *_export(_("Exporter les agrégats (Excel)"), "-xlsx", "mt-4"),
                        ],
                        md=3,
                    ),
                ],
                className="mb-3",
            ),
            dcc.Loading(dbc.Row(id="metrics-kpis")),
            dbc.Row(
                [
                    _graph("metrics-funnel", _("Entonnoir d'inscription")),
                    _graph("metrics-trend", _("Déclarations par semaine selon leur issue")),
                    _graph("metrics-ageing", _("Ancienneté des dossiers en attente")),
                    _graph("metrics-mismatches", _("Motifs d'écart par champ et par type")),
                    _graph(
                        "metrics-reviewers",
                        _("Décisions, secondes validations et délai médian par relecteur"),
                    ),
                    _graph("metrics-links-ended", _("Accès terminés par mois, selon le motif")),
                ]
            ),
            html.P(
                _(
                    "Les indicateurs ne contiennent aucune donnée sur les secrétaires ni sur les "
                    "professionnels de santé : uniquement des comptages et des durées agrégées. "
                    "Seule l'activité de l'équipe de vérification est présentée par relecteur."
                ),
                className="text-muted small",
            ),
        ]
    )
