import dash
from dash import dcc, html

from dashboard import auth
from dashboard.i18n import gettext as _

dash.register_page(
    __name__, path="/dev/mailbox", title=lambda **_kw: _("Boîte aux lettres de développement")
)


@auth.page(auth.DEVELOPER)
def layout(**_params):
    return html.Div(
        [
            html.H1(_("Boîte aux lettres de développement")),
            html.P(
                _(
                    "Sans SMTP_URL, les emails restent ici. Le plus récent en premier ; "
                    "la liste se met à jour toute seule."
                ),
                className="text-muted",
            ),
            dcc.Interval(id="mailbox-refresh", interval=3000),
            dcc.Loading(html.Div(id="mailbox-list")),
        ]
    )
