import dash
import dash_bootstrap_components as dbc
from dash import html

from dashboard import auth, components, link_layout
from dashboard.callbacks import enrolment as view
from dashboard.callbacks import links
from dashboard.i18n import gettext as _
from dashboard.i18n import long_date
from dashboard.luxtrust.client import error_message

PREFIX = "account-link"

dash.register_page(__name__, path=links.ACCOUNT_BASE, title=lambda **_kw: _("Mon compte — eSanté"))


@auth.page(auth.PUBLIC)
def layout(erreur=None, fin=None, termine=None, **_params):
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
    status = {"active": _("Actif"), "inactive": _("Inactif (plus aucun accès)")}.get(
        account.status, account.status
    )
    rows, to_end, problem, ended = links.account_view(fin, termine)
    return html.Div(
        [
            html.H1(_("Mon compte eSanté"), id="page-heading"),
            link_layout.done_message(
                ended,
                prefix=PREFIX,
                text=_(
                    "Vous ne travaillez plus pour {person} depuis le {date} ; le professionnel "
                    "et vous recevez un email de confirmation."
                ),
            ),
            dbc.Card(
                dbc.CardBody(
                    [
                        html.P(
                            [
                                html.Strong(_("Titulaire : ")),
                                f"{account.first_names} {account.last_name}",
                            ]
                        ),
                        html.P(
                            [html.Strong(_("Statut : ")), html.Span(status, id="account-status")]
                        ),
                        html.P(
                            [html.Strong(_("Créé le : ")), long_date(account.created_at)],
                            id="account-created",
                        ),
                    ]
                ),
                className="mb-3",
            ),
            html.H2(_("Professionnels pour lesquels vous travaillez"), className="h5"),
            link_layout.open_links(
                rows,
                prefix=PREFIX,
                base=links.ACCOUNT_BASE,
                action=_("Ne plus travailler pour ce professionnel"),
                empty=_("Vous ne travaillez actuellement pour aucun professionnel."),
                since=_("Depuis le {date}"),
            ),
            link_layout.history(rows, prefix=PREFIX, title=_("Accès terminés")),
            *link_layout.end_confirmation(
                to_end,
                problem,
                prefix=PREFIX,
                base=links.ACCOUNT_BASE,
                title=_("Ne plus travailler pour {person} ?"),
                text=_(
                    "Vous n'aurez plus accès à l'espace eSanté de {person}. Le professionnel et "
                    "vous recevrez un email. Votre compte reste ouvert si vous travaillez pour "
                    "d'autres professionnels."
                ),
            ),
            link_layout.navigator(PREFIX),
            components.logout_button(
                "/mon-compte/deconnexion", button_id="account-logout", className="mt-3 d-block"
            ),
        ],
        className="secretary-page",
    )
