import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_login import current_user

from dashboard import auth, components
from dashboard.callbacks import staff_admin as view
from dashboard.i18n import gettext as _

dash.register_page(
    __name__, path="/backoffice/accueil", title=lambda **_kw: _("Back-office — eSanté")
)


def _card(part: dict):
    return dbc.Col(
        dbc.Card(
            dbc.CardBody(
                [
                    html.H2(part["title"], className="h5 card-title"),
                    html.P(part["text"], className="card-text"),
                    dcc.Link(
                        _("Ouvrir « {title} »", title=part["title"]),
                        href=part["href"],
                        className="btn btn-primary",
                    ),
                ]
            ),
            id=part["id"],
            className="h-100 backoffice-card",
        ),
        md=4,
        className="mb-3",
    )


@auth.page(auth.REVIEWER, auth.LEAD, auth.MANAGER, auth.ADMIN)
def layout(**_params):
    return html.Div(
        [
            html.Div(
                [
                    html.H1(
                        _("Back-office eSanté"),
                        id="page-heading",
                        tabIndex="-1",
                        className="me-auto",
                    ),
                    html.Span(current_user.name, id="staff-name", className="me-3 text-muted"),
                    components.logout_button(
                        "/backoffice/deconnexion", button_id="staff-logout", small=True
                    ),
                ],
                className="d-flex align-items-center flex-wrap gap-2",
            ),
            html.P(
                _("Bonjour {name}. Choisissez une partie du back-office.", name=current_user.name)
            ),
            dbc.Row([_card(part) for part in view.my_parts()], id="backoffice-parts"),
        ]
    )
