import dash

from dashboard import auth
from dashboard.callbacks import enrolment as view

dash.register_page(__name__, path="/enrolment", title="Création de votre compte eSanté")


@auth.page(auth.PUBLIC)
def layout(**_params):
    return view.guard_step("/enrolment")
