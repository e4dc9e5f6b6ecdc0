import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard import auth
from dashboard.callbacks import review as view
from dashboard.case_layout import case_body
from dashboard.i18n import gettext as _

dash.register_page(
    __name__,
    path_template="/backoffice/dossier/<case_id>",
    title=lambda **_kw: _("Dossier — eSanté"),
)


@auth.page(auth.REVIEWER)
def layout(case_id=None, **_params):
    loaded, problem = view.load_case(case_id, audit=True)
    return html.Div(
        [
            dcc.Link(_("← File des dossiers"), href="/backoffice"),
            dcc.Store(id="case-id", data=case_id),
            dbc.Alert(id="case-message", color="info", className="empty-hidden mt-2"),
            dcc.Loading(
                html.Div(case_body(*loaded) if loaded else html.P(problem), id="case-body")
            ),
        ]
    )
