"""Application factory: `create_app(settings)` → a Dash app on a Flask server."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import dash
import dash_bootstrap_components as dbc
import flask
import sqlalchemy.orm
from dash import Dash

from dashboard import auth, language, logs, observability, request_logs, routes, security
from dashboard.config import PROJECT_ROOT, Settings
from dashboard.enrolment import professionals, staff, working_days
from dashboard.enrolment.bootstrap import Backend
from dashboard.i18n import gettext as _
from dashboard.luxtrust import client as luxtrust_client
from dashboard.luxtrust import simulator

PAGES = Path(__file__).with_name("pages")


def backend() -> Backend:
    """The service backend of the app that serves the current request."""
    return flask.current_app.extensions["esante"]


def _load_user(user_id: str) -> auth.Principal | None:
    """flask-login's loader: the session holds "kind:id:token"; the database says whether
    that session still lives and who it is now (one statement: the handle and the person)."""
    parsed = auth.parse_user_id(user_id)
    if parsed is None:
        auth.session_refused(str(user_id).partition(":")[0])
        return None
    kind, id_, token = parsed
    with backend().uow() as uow:
        if kind == "professional":
            name = professionals.session_name(uow, id_, token)
            if name is not None:
                return auth.Principal("professional", id_, {auth.PROFESSIONAL}, name, token)
        elif kind == "staff":
            who = staff.principal_data(uow, id_, token)
            if who is not None:
                return auth.Principal("staff", id_, who.roles, who.name, token)
    auth.session_refused(kind)
    return None


def create_app(settings: Settings | None = None, *, backend: Backend | None = None) -> Dash:
    settings = (settings or Settings.from_env()).check()
    logs.configure(settings.log_format)  # before Flask's logger exists (LOG_FORMAT)
    server = flask.Flask(__name__)
    server.config.update(
        SECRET_KEY=settings.secret_key,
        SECRET_KEY_FALLBACKS=list(settings.secret_key_fallbacks),  # a rotation (Flask ≥ 3.1.1)
        SESSION_COOKIE_NAME="esante_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.is_production,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=settings.is_production,
    )
    if backend is not None and backend.settings != settings:
        backend = dataclasses.replace(backend, settings=settings)  # same engine and clock
    server.extensions["esante"] = backend or Backend.from_settings(settings)
    # Set the ORM up now, not in whatever request a worker serves first (~150 ms).
    sqlalchemy.orm.configure_mappers()
    working_days.prepare()  # and the holiday calendar (the holidays package: ~0.3 s)
    auth.init_app(server, _load_user)
    server.before_request(auth.expire_idle_staff)
    security.init_app(server, settings)
    routes.init_app(server)
    request_logs.init_app(server)  # the emailed link's token stays out of request logs
    if settings.uses_simulator:
        simulator.init_app(server, settings)
        security.exempt_simulator(server)
    luxtrust_client.init_app(server, settings)
    _mount_embedded_directory(server, settings)

    app = Dash(
        __name__,
        server=server,
        use_pages=True,
        pages_folder=str(PAGES),
        assets_folder=str(PROJECT_ROOT / "assets"),
        # Bootstrap is served from assets/ (vendored): no third-party CDN for a public service.
        # Layouts depend on who asks, so Dash cannot validate them up front.
        suppress_callback_exceptions=True,
        title="Agence eSanté",
        update_title=None,
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    app.layout = _shell
    from dashboard.callbacks import register_all

    register_all(app)
    security.guard_callback_bodies(app)
    observability.init_app(app)  # request ids, route names, /readyz, /metrics
    language.init_app(app)
    security.secure_headers(app, settings)
    return app


def _mount_embedded_directory(server: flask.Flask, settings: Settings) -> None:
    """Without SCIM_URL (never in production, which refuses to start so), the app serves
    its own SCIM directory under /dev/scim/v2 (scim2-server's WSGI application, behind the
    development bearer token): the whole provisioning path, with nothing else to run."""
    directory_app = server.extensions["esante"].directory_app
    if directory_app is None or settings.is_production:
        return
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    from dashboard.enrolment.scim import EMBEDDED_PATH

    server.wsgi_app = DispatcherMiddleware(server.wsgi_app, {EMBEDDED_PATH: directory_app})


def _shell():
    return dbc.Container(
        [
            dash.html.Header(
                [
                    dash.html.A("Agence eSanté", href="/", className="brand"),
                    language.language_switch(),
                ],
                className="site-header",
            ),
            # Filled and shown by assets/refused.js when an action is refused (400, 401, 403)
            # or the service cannot answer (429, 5xx): the renderer itself shows nothing then.
            dash.html.Div(
                id="request-refused",
                role="alert",
                hidden=True,
                className="alert alert-warning",
                **{
                    "data-refused": _(
                        "Cette action n'a pas abouti : votre session a expiré ou cette page "
                        "ne vous est plus accessible. Rechargez la page pour continuer."
                    ),
                    "data-unavailable": _(
                        "Le service est momentanément indisponible ou très sollicité. "
                        "Réessayez dans quelques instants."
                    ),
                },
            ),
            dash.html.Main(dash.page_container, id="main"),
        ],
        fluid=False,
        className="app-shell",
    )
