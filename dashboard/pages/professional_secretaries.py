import dash
from dash import dcc, html
from flask_login import current_user

from dashboard import auth, components, link_layout
from dashboard.callbacks import links as view
from dashboard.i18n import gettext as _

dash.register_page(
    __name__, path=view.PROFESSIONAL_BASE, title=lambda **_kw: _("Mes secrétaires — eSanté")
)

PREFIX = "pro-link"


@auth.page(auth.PROFESSIONAL)
def layout(fin=None, termine=None, **_params):
    rows, to_end, problem, ended = view.professional_view(fin, termine)
    return html.Div(
        [
            html.Div(
                [
                    html.H1(_("Mes secrétaires"), id="page-heading", className="me-auto"),
                    html.Span(current_user.name, className="me-3 text-muted"),
                    components.logout_button(
                        "/professionnel/deconnexion", button_id="pro-logout", small=True
                    ),
                ],
                className="d-flex align-items-center flex-wrap gap-2",
            ),
            html.Nav(
                [
                    dcc.Link(_("Mes déclarations"), href="/professionnel", className="me-3"),
                    dcc.Link(_("Déclarer une secrétaire"), href="/professionnel/declarer"),
                ],
                className="mb-3",
                **{"aria-label": _("Espace professionnel")},
            ),
            link_layout.done_message(
                ended,
                prefix=PREFIX,
                text=_(
                    "L'accès de {person} a pris fin le {date}. Vous et la personne recevez un "
                    "email de confirmation."
                ),
            ),
            html.P(
                _(
                    "Les personnes dont le compte eSanté est lié à votre cabinet. Quand l'une "
                    "d'elles ne travaille plus pour vous, mettez fin à son accès : elle ne "
                    "pourra plus agir pour vous dans l'espace eSanté."
                )
            ),
            link_layout.open_links(
                rows,
                prefix=PREFIX,
                base=view.PROFESSIONAL_BASE,
                action=_("Mettre fin à l'accès"),
                empty=_("Aucune secrétaire n'a d'accès à votre cabinet pour l'instant."),
                since=_("Accès depuis le {date}"),
            ),
            link_layout.history(rows, prefix=PREFIX, title=_("Accès terminés")),
            *link_layout.end_confirmation(
                to_end,
                problem,
                prefix=PREFIX,
                base=view.PROFESSIONAL_BASE,
                title=_("Mettre fin à l'accès de {person} ?"),
                text=_(
                    "{person} ne pourra plus agir pour vous dans l'espace eSanté. Vous et la "
                    "personne recevrez un email. Son compte reste ouvert si elle travaille "
                    "pour d'autres professionnels."
                ),
            ),
            link_layout.navigator(PREFIX),
        ]
    )
