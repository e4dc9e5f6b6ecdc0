import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard import auth, components, declaration_layout
from dashboard.callbacks import professional as view
from dashboard.i18n import gettext as _

# The browser's own bound, well above the service's limits (200 for a name, 254 for an
# address): a longer entry is answered with a message, never cut silently as typed.
TYPED_MAX = 1000

dash.register_page(
    __name__,
    path="/professionnel/declarer",
    title=lambda **_kw: _("Déclarer une secrétaire — eSanté"),
)


def _input(name, **kwargs):
    return dbc.Input(id=view.FIELD_IDS[name], **kwargs)


@auth.page(auth.PROFESSIONAL)
def layout(corriger=None, **_params):
    old = view.declaration_to_correct(corriger) if corriger else None

    def value(attr):
        return getattr(old, attr) if old else None

    title = _("Corriger une déclaration") if old else _("Déclarer une secrétaire médicale")
    form = html.Div(
        [
            dbc.Alert(
                _(
                    "La nouvelle déclaration remplacera l'ancienne ; le lien déjà envoyé ne "
                    "fonctionnera plus."
                ),
                color="info",
            )
            if old
            else None,
            components.field(
                _input(
                    "last_name", value=value("last_name"), autocomplete="off", maxlength=TYPED_MAX
                ),
                input_id="decl-last-name",
                label=_("Nom"),
            ),
            components.field(
                _input(
                    "first_names",
                    value=value("first_names"),
                    autocomplete="off",
                    maxlength=TYPED_MAX,
                ),
                input_id="decl-first-names",
                label=_("Prénom(s)"),
                help_text=_("Tels qu'ils figurent sur sa pièce d'identité."),
            ),
            components.field(
                _input(
                    "matricule",
                    value=value("matricule"),
                    inputmode="numeric",
                    autocomplete="off",
                    maxlength=40,
                ),
                input_id="decl-matricule",
                label=_("Matricule national (13 chiffres)"),
                help_text=_("Par exemple 1985 0412 123 45 ; les espaces sont acceptés."),
            ),
            components.field(
                _input(
                    "email",
                    type="email",
                    value=value("email"),
                    autocomplete="off",
                    maxlength=TYPED_MAX,
                ),
                input_id="decl-email",
                label=_("Adresse email de la secrétaire"),
            ),
            components.field(
                _input(
                    "email_confirm",
                    type="email",
                    value=value("email"),
                    autocomplete="off",
                    maxlength=TYPED_MAX,
                ),
                input_id="decl-email-confirm",
                label=_("Confirmez l'adresse email"),
            ),
            components.field(
                _input("phone", type="tel", value=value("phone"), autocomplete="off", maxlength=40),
                input_id="decl-phone",
                label=_("Téléphone (facultatif)"),
            ),
            dcc.Store(id="decl-correcting", data=old.enrolment_id if old else None),
            dbc.Button(
                _("Enregistrer la déclaration"), id="decl-submit", color="primary", size="lg"
            ),
        ],
        id="decl-form",
    )
    return html.Div(
        [
            dcc.Link(_("← Mes déclarations"), href="/professionnel"),
            html.H1(title, id="page-heading", tabIndex="-1"),
            # Each message once: under its field; the box above says nothing was stored
            # and links to the fields (assets/a11y.js), or says why when no field is at fault.
            declaration_layout.problems(),
            form,
            # Once stored: what happens next and where to go, instead of the form.
            declaration_layout.declared_panel(),
            dcc.Store(id="decl-focus"),
        ],
        className="secretary-page",
    )
