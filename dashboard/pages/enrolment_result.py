import dash
import dash_bootstrap_components as dbc
from dash import html

from dashboard import auth, components
from dashboard.callbacks import enrolment as view
from dashboard.enrolment import lifecycle as lc
from dashboard.i18n import gettext as _

dash.register_page(__name__, path="/enrolment/resultat", title=lambda **_kw: _("Résultat — eSanté"))


@auth.page(auth.PUBLIC)
def layout(**_params):
    blocked = view.guard_step("/enrolment/resultat")
    if blocked is not None:
        return blocked
    problem = view.problem_of_current_view()
    reason = problem.reason if problem else None
    if reason == lc.ACCOUNT_CREATED:
        return components.secretary_page(
            4,
            _("Votre compte a été créé"),
            dbc.Alert(
                _(
                    "Les données de votre dispositif LuxTrust correspondent à la déclaration : "
                    "votre compte eSanté a été créé. Un email de confirmation vous a été envoyé."
                ),
                color="success",
                id="result-message",
            ),
            html.P(
                [
                    _("Vous pouvez dès à présent vous connecter au portail de l'Agence eSanté "),
                    html.A("www.esante.lu", href="https://www.esante.lu"),
                    _(" avec votre dispositif LuxTrust."),
                ]
            ),
            html.A(_("Voir mon compte"), href="/mon-compte", className="btn btn-outline-primary"),
        )
    if reason == lc.PENDING_REVIEW:
        return components.secretary_page(
            4,
            _("Vérification manuelle de votre identité"),
            dbc.Alert(
                _(
                    "Notre équipe d'identito-vigilance va vérifier votre identité manuellement ; "
                    "ce processus n'est pas immédiat ; vous serez notifiée par email."
                ),
                color="info",
                id="result-message",
            ),
        )
    return components.problem_panel(
        problem.message if problem else "",
        title=components.link_problem_title(reason),
        tone="warning",
    )
