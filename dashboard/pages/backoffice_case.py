import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard import auth
from dashboard.callbacks import review as view
from dashboard.case_layout import case_body, confirm_modal
from dashboard.i18n import gettext as _

dash.register_page(
    __name__,
    path_template="/backoffice/dossier/<case_id>",
    title=lambda **_kw: _("Dossier — eSanté"),
)


@auth.page(auth.REVIEWER)
def layout(case_id=None, **params):
    # Opened from the queue: the view she came from (?from=queue&…) is kept, and an
    # unassigned case becomes hers.
    queue = view.queue_view(params)
    loaded, problem = view.load_case(
        case_id, audit=True, claim=queue is not None, via=params.get("via")
    )
    done = view.done_message(params.get("decided")) if queue is not None else ""
    nav = [dcc.Link(_("← File des dossiers"), href=view.queue_href(queue), id="case-back")]
    if queue is not None:
        nav.append(
            dbc.Button(
                _("Dossier suivant"), id="case-next", color="secondary", outline=True, size="sm"
            )
        )
    # The shortcuts (assets/shortcuts.js), said in words; "?" opens this help too.
    shortcuts = html.Details(
        [
            html.Summary(_("Raccourcis clavier (?)"), id="case-shortcuts-toggle"),
            html.Ul(
                [
                    html.Li([html.Kbd("a"), " ", _("approuver l'identité")]),
                    html.Li([html.Kbd("r"), " ", _("refuser (choisir d'abord un motif)")]),
                    html.Li([html.Kbd("n"), " ", _("dossier suivant de votre vue")]),
                    html.Li([html.Kbd("?"), " ", _("afficher ou masquer cette aide")]),
                ],
                className="mb-0 small",
            ),
            html.P(
                _("Sans effet pendant la saisie dans un champ."), className="small text-muted mb-0"
            ),
        ],
        id="case-shortcuts",
        className="small",
    )
    return html.Div(
        [
            html.Div(
                [html.Div(nav, className="d-flex align-items-center gap-3"), shortcuts],
                className="d-flex justify-content-between align-items-start gap-3 flex-wrap",
            ),
            dcc.Store(id="case-id", data=case_id),
            dcc.Store(id="case-view", data=queue),
            dcc.Store(id="case-confirming"),
            dcc.Location(id="case-nav", refresh="callback-nav"),
            dbc.Alert(
                done or None,
                id="case-message",
                color="success" if done else "info",
                className="empty-hidden mt-2",
            ),
            confirm_modal(),
            dcc.Loading(
                html.Div(case_body(*loaded) if loaded else html.P(problem), id="case-body")
            ),
        ]
    )
