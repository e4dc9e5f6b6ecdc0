import dash

from dashboard import auth
from dashboard.callbacks import enrolment as view
from dashboard.i18n import gettext as _

dash.register_page(
    __name__, path="/enrolment", title=lambda **_kw: _("Création de votre compte eSanté")
)


@auth.page(auth.PUBLIC)
def layout(**_params):
    return view.guard_step("/enrolment")
