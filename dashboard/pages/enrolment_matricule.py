import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard import auth, components
from dashboard.callbacks import enrolment as view
from dashboard.i18n import gettext as _

dash.register_page(
    __name__,
    path="/enrolment/matricule",
    title=lambda **_kw: _("Vérification du matricule — eSanté"),
)


@auth.page(auth.PUBLIC)
def layout(**_params):
    blocked = view.guard_step("/enrolment/matricule")
    if blocked is not None:
        return blocked
    return components.secretary_page(
        2,
        _("Vérification de votre matricule"),
        html.P(
            _(
                "Afin de vérifier que vous êtes bien la destinataire de la demande, introduisez "
                "votre matricule luxembourgeois."
            )
        ),
        components.field(
            dbc.Input(
                id="matricule-input",
                type="text",
                inputmode="numeric",
                autocomplete="off",
                maxlength=40,
                className="matricule-input",
                placeholder=_("AAAA MMJJ XXX XX"),
            ),
            input_id="matricule-input",
            label=_("Veuillez entrer votre matricule CNS (13 chiffres)"),
            help_text=_(
                "Il figure sur votre carte de sécurité sociale (CNS) : 13 chiffres commençant "
                "par votre année de naissance, par exemple 1985 0412 123 45. Les espaces sont "
                "acceptés."
            ),
        ),
        dbc.Button(_("Vérifier"), id="matricule-submit", color="primary", size="lg"),
        # What she typed survives the language switch (a reload): this tab's sessionStorage
        # only (never localStorage, never the address or a log), emptied when she submits.
        dcc.Store(id="matricule-draft", storage_type="session"),
        nav_id="matricule-nav",
    )
