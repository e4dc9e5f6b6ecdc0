import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard import auth, components, link_layout
from dashboard.callbacks import links as view
from dashboard.i18n import gettext as _

dash.register_page(
    __name__, path=view.ADMIN_BASE, title=lambda **_kw: _("Accès des secrétaires — eSanté")
)

PREFIX = "admin-link"


def _search(query: str):
    # A plain GET form: the search is in the address, so Back and reload keep it.
    return html.Form(
        [
            dbc.Label(_("Professionnel (code ou nom)"), html_for="admin-q"),
            html.Div(
                [
                    dbc.Input(id="admin-q", name="q", value=query, maxLength=100, type="search"),
                    dbc.Button(_("Rechercher"), type="submit", color="primary"),
                ],
                className="d-flex gap-2",
            ),
        ],
        action=view.ADMIN_BASE,
        method="get",
        role="search",
        className="staff-panel mb-3",
    )


def _found(v: view.AdminView):
    if not v.query:
        return None
    if not v.found:
        return html.P(_("Aucun professionnel ne correspond à « {q} ».", q=v.query), id="admin-none")
    return html.Ul(
        [
            html.Li(
                dcc.Link(
                    _(
                        "{name} ({code}) — {n} accès ouverts",
                        name=p.name,
                        code=p.code or "—",
                        n=p.open_links,
                    )
                    + ("" if p.active else " — " + _("désactivé")),
                    href=f"{view.ADMIN_BASE}?pro={p.professional_id}",
                )
            )
            for p in v.found
        ],
        id="admin-found",
    )


def _deactivation(p):
    if not p.active:
        return html.P(
            _("Ce professionnel est désactivé : il ne peut plus se connecter ni déclarer."),
            id="admin-pro-inactive",
            className="fw-semibold",
        )
    return html.Details(
        [
            html.Summary(_("Désactiver ce professionnel…"), className="text-danger"),
            html.P(
                _(
                    "Il ne pourra plus se connecter ni déclarer, ses déclarations en cours sont "
                    "annulées et les {n} accès ouverts prennent fin (chaque personne et lui "
                    "sont informés par email).",
                    n=p.open_links,
                ),
                className="mt-2",
            ),
            dbc.Button(
                _("Désactiver {name}", name=p.name),
                id="admin-deactivate-confirm",
                color="danger",
            ),
            html.Div(id="admin-deactivate-error", className="text-danger mt-2", role="alert"),
        ],
        id="admin-deactivate",
        className="staff-panel mt-4",
    )


def _professional(v: view.AdminView):
    p = v.chosen
    if p is None:
        return None
    return html.Section(
        [
            html.H2(_("{name} — code {code}", name=p.name, code=p.code or "—"), className="h4"),
            link_layout.done_message(
                v.ended,
                prefix=PREFIX,
                text=_(
                    "L'accès de {person} a pris fin le {date} ; les deux personnes sont "
                    "informées par email."
                ),
            ),
            link_layout.open_links(
                v.rows,
                prefix=PREFIX,
                base=f"{view.ADMIN_BASE}?pro={p.professional_id}",
                action=_("Mettre fin à l'accès"),
                empty=_("Aucun accès ouvert."),
                since=_("Accès depuis le {date}"),
            ),
            link_layout.history(v.rows, prefix=PREFIX, title=_("Accès terminés")),
            _deactivation(p),
        ],
        id="admin-pro-section",
    )


@auth.page(auth.ADMIN)
def layout(q=None, pro=None, fin=None, termine=None, desactive=None, **_params):
    v = view.admin_view(q, pro, fin, termine)
    back = view.ADMIN_BASE + (f"?pro={v.chosen.professional_id}" if v.chosen else "")
    return html.Div(
        [
            components.backoffice_header(_("Accès des secrétaires")),
            html.P(
                _(
                    "Mettre fin à l'accès d'une secrétaire auprès d'un professionnel, ou "
                    "désactiver un professionnel qui n'exerce plus. Chaque action est "
                    "enregistrée à votre nom."
                ),
                className="text-muted",
            ),
            _search(v.query),
            _found(v),
            dbc.Alert(
                _("Le professionnel est désactivé ; ses accès ont pris fin."),
                color="success",
                id="admin-deactivated",
            )
            if desactive and v.chosen and not v.chosen.active
            else None,
            _professional(v),
            dcc.Store(id="admin-pro", data=v.chosen.professional_id if v.chosen else None),
            *link_layout.end_confirmation(
                v.to_end,
                v.problem,
                prefix=PREFIX,
                base=back,
                title=_("Mettre fin à l'accès de {person} ?"),
                text=_(
                    "{person} n'aura plus accès à l'espace eSanté de ce professionnel. Les deux "
                    "personnes recevront un email ; l'action est enregistrée à votre nom."
                ),
            ),
            link_layout.navigator(PREFIX),
        ]
    )
