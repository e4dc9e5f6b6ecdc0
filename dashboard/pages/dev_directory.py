import dash
from dash import dcc, html

from dashboard import auth
from dashboard.i18n import gettext as _

dash.register_page(
    __name__, path="/dev/annuaire", title=lambda **_kw: _("Annuaire intégré (développement)")
)


@auth.page(auth.DEVELOPER, auth.ADMIN)
def layout(**_params):
    return html.Div(
        [
            html.H1(_("Annuaire intégré (développement)")),
            html.P(
                _(
                    "Sans SCIM_URL, les comptes sont transmis à l'annuaire SCIM que "
                    "l'application sert elle-même sous /dev/scim/v2. Lecture seule ; la liste "
                    "se met à jour toute seule."
                ),
                className="text-muted",
            ),
            dcc.Interval(id="directory-refresh", interval=5000),
            dcc.Loading(html.Div(id="directory-list")),
        ]
    )
