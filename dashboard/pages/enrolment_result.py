import dash
import dash_bootstrap_components as dbc
import flask
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
                    "Les données de votre dispositif LuxTrust correspondent à la déclaration : "
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
                _("Notre équipe d'identito-vigilance va vérifier votre identité manuellement."),
                color="info",
                id="result-message",
            ),
            _next_steps(_review_delay(), _("Vous n'avez rien d'autre à faire d'ici là.")),
        )
    panel = components.problem_panel(
        problem.message if problem else "",
        title=components.link_problem_title(reason),
        tone="warning",
    )
    if reason == lc.LOCKED:
        panel.children.append(
            _next_steps(
                _("Nous avons informé votre médecin par email ; un email vous a aussi été envoyé."),
                _(
                    "Dès que votre médecin aura fait une nouvelle déclaration avec votre "
                    "matricule, vous recevrez un nouvel email avec un nouveau lien."
                ),
            )
        )
    elif reason == "superseded":
        panel.children.append(
            _next_steps(
                _(
                    "Un email plus récent vous a été envoyé avec un nouveau lien : ouvrez ce "
                    "lien-là, celui-ci ne fonctionne plus."
                ),
            )
        )
    return panel


def _review_delay() -> str:
    """The identity-vigilance team's deadline (REVIEW_SLA_WORKING_DAYS), in working days:
    the queue's "En retard" counts the same days (enrolment/working_days.py)."""
    days = flask.current_app.extensions["esante"].settings.review_sla_working_days
    if days == 1:
        return _(
            "Notre équipe traite chaque demande dans un délai d'un jour ouvrable (du lundi au "
            "vendredi, hors jours fériés). Vous recevrez le résultat par email."
        )
    return _(
        "Notre équipe traite chaque demande dans un délai de {days} jours ouvrables (du lundi "
        "au vendredi, hors jours fériés). Vous recevrez le résultat par email.",
        days=days,
    )


def _next_steps(*sentences: str) -> html.Section:
    """What happens next, and when: under its own heading, after the result."""
    return html.Section(
        [
            html.H2(_("Et ensuite ?"), className="h5 mt-4", id="result-next-heading"),
            *(html.P(sentence) for sentence in sentences),
        ],
        id="result-next",
        **{"aria-labelledby": "result-next-heading"},
    )
