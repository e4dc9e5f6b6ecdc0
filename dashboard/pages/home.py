import dash
import dash_bootstrap_components as dbc
from dash import html

from dashboard import auth
from dashboard.i18n import gettext as _

dash.register_page(__name__, path="/", title=lambda **_kw: _("Agence eSanté"))


@auth.page(auth.PUBLIC)
def layout(**_params):
    parts = [
        dbc.ListGroupItem(
            [
                html.H2(_("Vous êtes secrétaire médicale ?"), className="h5"),
                html.P(
                    _(
                        "La création de votre compte eSanté commence par une déclaration de "
                        "votre médecin. Ouvrez ensuite le lien reçu par email."
                    )
                ),
            ]
        )
    ]
    parts.append(
        dbc.ListGroupItem(
            [
                html.H2(_("Vous êtes professionnel de santé ?"), className="h5"),
                html.P(_("Déclarez votre secrétaire et suivez ses demandes.")),
                dcc_link("/professionnel/connexion", _("Espace professionnel")),
            ]
        )
    )
    parts.append(
        dbc.ListGroupItem(
            [
                html.H2(_("Vous avez déjà un compte ?"), className="h5"),
                dcc_link("/mon-compte", _("Mon compte eSanté")),
            ]
        )
    )
    if auth.has_role(auth.DEVELOPER):
        parts.append(
            dbc.ListGroupItem(
                [
                    html.H2(_("Boîte aux lettres de développement"), className="h5"),
                    html.P(_("Les emails envoyés par l'application, sans serveur SMTP.")),
                    dcc_link("/dev/mailbox", _("Ouvrir la boîte aux lettres")),
                ]
            )
        )
    if auth.has_role(auth.DEVELOPER):
        parts.append(
            dbc.ListGroupItem(
                [
                    html.H2(_("Annuaire intégré (développement)"), className="h5"),
                    html.P(
                        _("Les comptes transmis à l'annuaire SCIM, sans plateforme d'identité.")
                    ),
                    dcc_link("/dev/annuaire", _("Voir l'annuaire")),
                ]
            )
        )
    return html.Div(
        [
            html.H1(_("Compte eSanté pour secrétaires médicales")),
            dbc.ListGroup(parts, className="mt-3"),
        ]
    )


def dcc_link(href: str, text: str):
    return dash.dcc.Link(text, href=href)
