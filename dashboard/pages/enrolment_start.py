import dash
import dash_bootstrap_components as dbc
from dash import html

from dashboard import auth, components
from dashboard.callbacks import enrolment as view
from dashboard.i18n import gettext as _

dash.register_page(
    __name__, path="/enrolment/debut", title=lambda **_kw: _("Créer votre compte eSanté")
)


@auth.page(auth.PUBLIC)
def layout(**_params):
    blocked = view.guard_step("/enrolment/debut")
    if blocked is not None:
        return blocked
    return components.secretary_page(
        0,
        _("Créer votre compte eSanté"),
        html.P(
            _(
                "Un professionnel de santé vous a déclarée comme secrétaire médicale. Pour "
                "créer votre compte eSanté, vous allez :"
            )
        ),
        html.Ol(
            [
                html.Li(_("accepter les Conditions Générales d'Utilisation ;")),
                html.Li(_("saisir votre matricule luxembourgeois (13 chiffres) ;")),
                html.Li(_("vérifier votre identité avec votre dispositif LuxTrust.")),
            ]
        ),
        dbc.Alert(
            _("Il est obligatoire de disposer d'un dispositif LuxTrust pour créer un compte."),
            color="info",
        ),
        dbc.Button(_("Commencer"), id="start-button", color="primary", size="lg"),
        html.Div(id="start-error", className="field-error", role="alert"),
        nav_id="start-nav",
    )
