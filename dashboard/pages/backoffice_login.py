import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_login import current_user

from dashboard import auth, components
from dashboard.callbacks import staff_admin as view
from dashboard.i18n import gettext as _

dash.register_page(
    __name__,
    path="/backoffice/connexion",
    title=lambda **_kw: _("Connexion de l'équipe eSanté — eSanté"),
)


def _already_in():
    links = [
        dcc.Link(part["title"], href=part["href"], className="btn btn-primary me-2 mb-2")
        for part in view.my_parts()
    ]
    return html.Div(
        [
            html.H1(_("Connexion de l'équipe eSanté"), id="page-heading", tabIndex="-1"),
            html.P(_("Vous êtes connecté(e) en tant que {name}.", name=current_user.name)),
            html.Div(links, id="staff-already-links"),
            components.logout_button("/backoffice/deconnexion", button_id="staff-logout"),
        ],
        className="secretary-page",
    )


@auth.page(auth.PUBLIC)
def layout(**_params):
    error, email, ended = view.login_notices()
    if view.is_staff():
        return _already_in()
    return html.Div(
        [
            html.H1(_("Connexion de l'équipe eSanté"), id="page-heading", tabIndex="-1"),
            html.Div(
                _("Votre session a expiré après 30 minutes d'inactivité ; reconnectez-vous."),
                className="alert alert-info",
                id="staff-session-expired",
                role="status",
            )
            if ended == "idle"
            else None,
            # Past SESSION_MAX_HOURS, or ended on the server (logout elsewhere, an admin).
            html.Div(
                _("Votre session a pris fin ; reconnectez-vous."),
                className="alert alert-info",
                id="staff-session-ended",
                role="status",
            )
            if ended == "ended"
            else None,
            html.Div(error, className="alert alert-danger", id="staff-login-error", role="alert")
            if error
            else None,
            html.P(_("Espace réservé au personnel de l'Agence eSanté."), className="text-muted"),
            html.Form(
                [
                    components.csrf_field(),
                    html.Div(
                        [
                            dbc.Label(
                                _("Adresse email"),
                                html_for="staff-email",
                                className="form-label fw-semibold",
                            ),
                            dbc.Input(
                                id="staff-email",
                                name="email",
                                type="email",
                                value=email,
                                autocomplete="username",
                                required=True,
                                maxlength=320,
                                autofocus=not email,
                            ),
                        ],
                        className="mb-3",
                    ),
                    html.Div(
                        [
                            dbc.Label(
                                _("Mot de passe"),
                                html_for="staff-password",
                                className="form-label fw-semibold",
                            ),
                            dbc.Input(
                                id="staff-password",
                                name="password",
                                type="password",
                                autocomplete="current-password",
                                required=True,
                                maxlength=1024,
                                autofocus=bool(email),
                            ),
                        ],
                        className="mb-3",
                    ),
                    dbc.Button(
                        _("Se connecter"),
                        id="staff-login-submit",
                        type="submit",
                        color="primary",
                        size="lg",
                    ),
                ],
                action="/backoffice/login",
                method="POST",
                id="staff-login-form",
            ),
            html.P(
                _(
                    "Mot de passe oublié ou compte désactivé ? Adressez-vous à un administrateur "
                    "du back-office."
                ),
                className="text-muted small mt-3",
            ),
        ],
        className="secretary-page",
    )
