import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard import auth, components
from dashboard.callbacks import review as view
from dashboard.i18n import gettext as _

dash.register_page(
    __name__, path="/backoffice", title=lambda **_kw: _("File des dossiers — eSanté")
)


def _columns(sort=()):
    # Five columns that each read whole at 1280 px (issue 22): the deadline is the waiting
    # time's tooltip, the differences are short badges (their full text as title).
    columns = [
        {
            "field": "secretary",
            "headerName": _("Secrétaire"),
            "cellRenderer": "markdown",
            "sortable": True,
            "flex": 2,
            "minWidth": 180,
        },
        {
            "field": "waiting_days",
            "headerName": _("Attente"),
            "headerTooltip": _(
                "Jours ouvrés depuis la confirmation de la secrétaire "
                "(sans les week-ends ni les jours fériés)"
            ),
            "tooltipField": "due_title",
            "sortable": True,
            "minWidth": 140,
            "flex": 1,
            "sort": "desc",
            # Markdown, not cellClassRules: AG Grid evaluates those with new Function(),
            # which the Content-Security-Policy forbids.
            "cellRenderer": "markdown",
        },
        {
            "field": "professional",
            "headerName": _("Professionnel"),
            "sortable": True,
            "filter": "agTextColumnFilter",
            "flex": 2,
            "minWidth": 170,
            "filterParams": {"filterOptions": ["contains"], "maxNumConditions": 1},
        },
        {
            "field": "differences",
            "headerName": _("Différences"),
            "cellRenderer": "DifferenceBadges",  # assets/dashAgGridComponentFunctions.js
            "tooltipField": "summary",
            "flex": 2,
            "minWidth": 220,
        },
        {
            "field": "assignee",
            "headerName": _("Attribué à"),
            "tooltipField": "state",
            "minWidth": 170,
            "sortable": True,
            "filter": "agTextColumnFilter",
            "flex": 1,
            "filterParams": {"filterOptions": ["contains"], "maxNumConditions": 1},
            "cellRenderer": "markdown",
        },
    ]
    if sort:  # the view's sort (from the URL) replaces the default one
        directions = dict((column, direction) for column, direction in sort)
        for column in columns:
            column.pop("sort", None)
            if column["field"] in directions:
                column["sort"] = directions[column["field"]]
    return columns


def _views_bar():
    """Saved views: choose one (it opens as the queue's URL), keep the current one."""
    return html.Div(
        [
            dcc.Location(id="queue-views-nav", refresh="callback-nav"),
            dcc.Store(id="queue-views-changed"),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            dbc.Label(
                                _("Vues"), html_for="queue-views", className="visually-hidden"
                            ),
                            # A native select: Dash 4's dropdown leaves a focusable
                            # element under aria-hidden (axe: aria-hidden-focus).
                            dbc.Select(
                                id="queue-views", options=[], placeholder=_("Ouvrir une vue…")
                            ),
                        ],
                        md=4,
                    ),
                    dbc.Col(
                        [
                            dbc.Label(
                                _("Nom de la vue actuelle"),
                                html_for="queue-view-name",
                                className="visually-hidden",
                            ),
                            dbc.Input(
                                id="queue-view-name",
                                placeholder=_("Nom de la vue actuelle"),
                                maxlength=60,
                            ),
                        ],
                        md=4,
                    ),
                    dbc.Col(
                        [
                            dbc.Button(
                                _("Enregistrer la vue"),
                                id="queue-save-view",
                                color="secondary",
                                outline=True,
                                size="sm",
                                className="me-2",
                            ),
                            dbc.Button(
                                _("Supprimer la vue choisie"),
                                id="queue-delete-view",
                                color="danger",
                                outline=True,
                                size="sm",
                            ),
                        ],
                        md=4,
                    ),
                ],
                className="mb-2 align-items-center g-2",
            ),
            html.Div(id="queue-views-message", role="status", className="small mb-2"),
        ]
    )


@auth.page(auth.REVIEWER)
def layout(**params):
    # The view in the URL (quick filters, search, sort): Back and reload show it again.
    shown = view.view_of(params)
    return html.Div(
        [
            components.backoffice_header(_("File des dossiers à vérifier")),
            dbc.Row(
                [
                    dbc.Col(
                        dbc.Checklist(
                            id="queue-quick",
                            options=view.quick_options(),  # with counts once the grid asks
                            value=shown["quick"],
                            inline=True,
                            switch=True,
                        ),
                        md=8,
                    ),
                    dbc.Col(
                        [
                            dbc.Label(
                                _("Rechercher"),
                                html_for="queue-search",
                                className="visually-hidden",
                            ),
                            dbc.Input(
                                id="queue-search",
                                type="search",
                                debounce=True,
                                placeholder=_("Nom, email ou matricule"),
                                maxlength=200,
                                value=shown["q"],
                            ),
                        ],
                        md=4,
                    ),
                ],
                className="mb-2 align-items-center",
            ),
            _views_bar(),
            dcc.Store(id="queue-refresh"),
            dcc.Store(id="queue-view"),
            dag.AgGrid(
                id="queue-grid",
                rowModelType="infinite",
                columnDefs=_columns(shown["sort"]),
                defaultColDef={"resizable": True, "sortable": False},
                dashGridOptions={
                    "cacheBlockSize": 100,
                    "maxBlocksInCache": 10,
                    "infiniteInitialRowCount": 1,
                    "rowBuffer": 0,
                    "localeText": components.grid_locale(_("Aucun dossier ne correspond.")),
                },
                className="ag-theme-quartz",
                style={"height": "70vh", "width": "100%"},
            ),
        ]
    )
