import dash
import dash_bootstrap_components as dbc
from dash import html

from dashboard import auth, components
from dashboard.callbacks import enrolment as view
from dashboard.i18n import gettext as _
from dashboard.luxtrust.client import error_message

dash.register_page(
    __name__, path="/enrolment/luxtrust", title=lambda **_kw: _("Vérification LuxTrust — eSanté")
)


@auth.page(auth.PUBLIC)
def layout(erreur=None, **_params):
    blocked = view.guard_step("/enrolment/luxtrust")
    if blocked is not None:
        return blocked
    problem = error_message(erreur)
    return components.secretary_page(
        3,
        _("Vérification de votre identité avec LuxTrust"),
        html.Div(
            dbc.Alert(
                problem, color="warning" if erreur == "annule" else "danger", id="luxtrust-error"
            ),
            role="alert",
        )
        if problem
        else None,
        html.P(_("Votre matricule correspond à la demande faite par le professionnel de santé.")),
        html.P(
            _(
                "Vérifiez maintenant votre identité au moyen de votre dispositif LuxTrust : "
                "choisissez votre type de dispositif (LuxTrust Mobile, Scan, SmartCard, "
                "Signing Stick ou carte d'identité électronique) et suivez les étapes "
                "habituelles."
            )
        ),
        html.A(
            _("Continuer avec LuxTrust"),
            href="/auth/luxtrust/login?for=enrolment",
            id="luxtrust-start",
            className="btn btn-primary btn-lg",
            role="button",
        ),
    )
