import dash
import dash_bootstrap_components as dbc
from dash import html

from dashboard import auth, components
from dashboard.callbacks import enrolment as view
from dashboard.i18n import gettext as _

dash.register_page(
    __name__,
    path="/enrolment/appareil",
    title=lambda **_kw: _("Confirmation du dispositif — eSanté"),
)


@auth.page(auth.PUBLIC)
def layout(**_params):
    blocked = view.guard_step("/enrolment/appareil")
    if blocked is not None:
        return blocked
    return components.secretary_page(
        3,
        _("Les données ne correspondent pas entièrement"),
        dbc.Alert(
            _(
                "Les données de votre dispositif LuxTrust présentent des différences avec la "
                "déclaration faite par le professionnel de santé."
            ),
            color="warning",
        ),
        html.P(
            html.Strong(
                _("Confirmez-vous avoir utilisé votre dispositif LuxTrust personnel ?"),
                id="device-question",
            )
        ),
        html.P(
            _(
                "Si oui, notre équipe d'identito-vigilance vérifiera votre identité "
                "manuellement. Si vous avez utilisé le dispositif d'une autre personne, "
                "recommencez avec le vôtre."
            )
        ),
        html.Div(
            [
                dbc.Button(
                    _("Oui, c'est mon dispositif personnel"),
                    id="device-yes",
                    color="primary",
                    size="lg",
                    className="me-2 mb-2",
                ),
                dbc.Button(
                    _("Non, recommencer avec mon dispositif"),
                    id="device-no",
                    color="secondary",
                    outline=True,
                    size="lg",
                    className="mb-2",
                ),
            ],
            role="group",
            **{"aria-labelledby": "device-question"},
        ),
        html.Div(id="device-error", className="field-error", role="alert"),
        nav_id="device-nav",
    )
