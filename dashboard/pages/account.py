import dash
import dash_bootstrap_components as dbc
from dash import html

from dashboard import auth, components
from dashboard.callbacks import enrolment as view
from dashboard.i18n import gettext as _
from dashboard.luxtrust.client import error_message

dash.register_page(__name__, path="/mon-compte", title=lambda **_kw: _("Mon compte — eSanté"))


@auth.page(auth.PUBLIC)
def layout(erreur=None, **_params):
    account = view.account_view()
    if account is None:
        problem = error_message(erreur)
        return html.Div(
            [
                html.H1(_("Mon compte eSanté")),
                dbc.Alert(problem, color="warning", id="account-error") if problem else None,
                html.P(_("Connectez-vous avec votre dispositif LuxTrust pour voir votre compte.")),
                html.A(
                    _("Se connecter avec LuxTrust"),
                    href="/auth/luxtrust/login?for=account",
                    id="account-login",
                    className="btn btn-primary btn-lg",
                    role="button",
                ),
            ],
            className="secretary-page",
        )
    status = {"active": _("Actif")}.get(account.status, account.status)
    return html.Div(
        [
            html.H1(_("Mon compte eSanté")),
            dbc.Card(
                dbc.CardBody(
                    [
                        html.P(
                            [
                                html.Strong(_("Titulaire : ")),
                                f"{account.first_names} {account.last_name}",
                            ]
                        ),
                        html.P(
                            [html.Strong(_("Statut : ")), html.Span(status, id="account-status")]
                        ),
                        html.P(
                            [html.Strong(_("Créé le : ")), account.created_at.strftime("%d/%m/%Y")]
                        ),
                        html.H2(_("Professionnels pour lesquels vous travaillez"), className="h5"),
                        html.Ul(
                            [html.Li(p) for p in account.professionals], id="account-professionals"
                        ),
                    ]
                )
            ),
            components.logout_button(
                "/mon-compte/deconnexion", button_id="account-logout", className="mt-3 d-block"
            ),
        ],
        className="secretary-page",
    )
