import dash
import dash_bootstrap_components as dbc
import flask
from dash import dcc, html

from dashboard import auth, components
from dashboard.callbacks import enrolment as view
from dashboard.enrolment import cgu
from dashboard.i18n import current_language
from dashboard.i18n import gettext as _

dash.register_page(
    __name__,
    path="/enrolment/conditions",
    title=lambda **_kw: _("Conditions Générales d'Utilisation — eSanté"),
)


@auth.page(auth.PUBLIC)
def layout(**_params):
    blocked = view.guard_step("/enrolment/conditions")
    if blocked is not None:
        return blocked
    version = flask.current_app.extensions["esante"].settings.cgu_version
    return components.secretary_page(
        1,
        _("Conditions Générales d'Utilisation"),
        html.P(
            _(
                "Avant toute utilisation de l'application, vous devez accepter les Conditions "
                "Générales d'Utilisation (version {version}).",
                version=version,
            )
        ),
        html.Div(
            dcc.Markdown(cgu.text(version, current_language())),
            className="cgu-text",
            tabIndex="0",
            role="region",
            **{"aria-label": _("Texte des conditions")},
        ),
        dcc.Store(id="cgu-version", data=version),
        # The tick survives the language switch (a reload): this tab's sessionStorage,
        # emptied when she submits (callbacks/enrolment.py, assets/step-focus.js).
        dcc.Store(id="cgu-draft", storage_type="session"),
        html.Div(
            [
                dbc.Checkbox(
                    id="cgu-accepted",
                    label=_("J'ai lu et j'accepte les Conditions Générales d'Utilisation."),
                    value=False,
                ),
                html.Div(
                    id="cgu-accepted-error",
                    className="field-error",
                    role="alert",
                    **{"aria-live": "assertive"},
                ),
            ],
            className="my-3",
            **{"data-describedby": "cgu-accepted-error", "data-input": "cgu-accepted"},
        ),
        dbc.Button(_("Accepter et continuer"), id="cgu-submit", color="primary", size="lg"),
        nav_id="cgu-nav",
    )
