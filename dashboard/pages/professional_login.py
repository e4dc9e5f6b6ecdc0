import dash
import dash_bootstrap_components as dbc
from dash import html

from dashboard import auth, components
from dashboard.callbacks import professional as view
from dashboard.i18n import gettext as _

dash.register_page(
    __name__,
    path="/professionnel/connexion",
    title=lambda **_kw: _("Connexion des professionnels de santé — eSanté"),
)


@auth.page(auth.PUBLIC)
def layout(erreur=None, **_params):
    if auth.has_role(auth.PROFESSIONAL):
        return components.redirect("/professionnel")
    problem = view.login_error(erreur)
    return html.Div(
        [
            html.H1(_("Espace des professionnels de santé")),
            dbc.Alert(problem, color="warning", id="pro-login-error") if problem else None,
            html.P(
                _(
                    "Déclarez vos secrétaires médicales et suivez leurs demandes de compte "
                    "eSanté. Connectez-vous avec votre dispositif LuxTrust."
                )
            ),
            html.A(
                _("Se connecter avec LuxTrust"),
                href="/auth/luxtrust/login?for=professional",
                id="pro-login",
                className="btn btn-primary btn-lg",
                role="button",
            ),
        ],
        className="secretary-page",
    )
