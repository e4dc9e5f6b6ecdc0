"""The OpenID Connect client (authlib): LuxTrust login for secretaries and professionals.

`/auth/luxtrust/login?for=enrolment|account|professional` starts the authorisation-code
flow with PKCE, `state` and `nonce`; `/auth/luxtrust/callback` lets authlib check state,
nonce, the ID token's signature (provider's JWKS), issuer, audience and expiry, then hands
the claims to the purpose's handler. Every failure leaves the enrolment untouched and sends
the person back with `?erreur=<code>`, which the page turns into a French message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import urlencode

import flask
import requests
from authlib.integrations.base_client.errors import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import OAuth
from joserfc.errors import JoseError

from dashboard import auth, i18n, security
from dashboard.config import Settings
from dashboard.luxtrust import simulator

log = logging.getLogger(__name__)

PURPOSES = ("enrolment", "account", "professional")
# Where each purpose starts, and so where it returns on error.
RETURN_TO = {
    "enrolment": "/enrolment/luxtrust",
    "account": "/mon-compte",
    "professional": "/professionnel/connexion",
}
LEEWAY_SECONDS = 30
# Purpose → handler(claims) returning the path to go to next; set by the pages' owners.
_handlers: dict[str, Callable[[dict], str]] = {}


def on_login(purpose: str) -> Callable:
    """Register what to do with the verified claims of a login for `purpose`."""

    def wrap(fn: Callable[[dict], str]) -> Callable[[dict], str]:
        _handlers[purpose] = fn
        return fn

    return wrap


def issuer_of(settings: Settings) -> str:
    return simulator.issuer_url(settings) if settings.uses_simulator else settings.oidc_issuer


def _client():
    return flask.current_app.extensions["luxtrust_oauth"].luxtrust


def _back(purpose: str, error: str) -> flask.Response:
    return flask.redirect(f"{RETURN_TO.get(purpose, '/')}?{urlencode({'erreur': error})}", 303)


def login():
    purpose = flask.request.args.get("for", "")
    if purpose not in PURPOSES:
        flask.abort(400)
    if purpose == "enrolment" and not auth.enrolment_hash():
        return flask.redirect("/enrolment", 303)
    settings: Settings = flask.current_app.extensions["esante"].settings
    flask.session["oidc_for"] = purpose
    try:
        _check_discovery(_client().load_server_metadata())
        return _client().authorize_redirect(
            redirect_uri=f"{settings.base_url}/auth/luxtrust/callback",
            ui_locales=i18n.current_language(),
        )
    except (requests.RequestException, ValueError, TypeError, KeyError, RuntimeError) as exc:
        # Unreachable, or answering something that is not a discovery document: do not keep
        # it, so that the next login asks again once the provider is repaired.
        log.warning("identity provider unusable: %s", exc)
        _forget_provider_documents()
        return _back(purpose, "indisponible")


DISCOVERY_KEYS = ("authorization_endpoint", "token_endpoint", "jwks_uri")


def _check_discovery(metadata) -> None:
    missing = [k for k in DISCOVERY_KEYS if not isinstance(metadata.get(k), str)]
    if missing:
        raise ValueError(f"discovery document without {', '.join(missing)}")


def _forget_provider_documents() -> None:
    """Drop the cached discovery document and keys (authlib keeps them for the process's
    life): one bad answer during the provider's maintenance must not outlive it."""
    client = _client()
    client.server_metadata.clear()
    client.server_metadata.update(flask.current_app.extensions["luxtrust_registered_metadata"])


def callback():
    purpose = flask.session.pop("oidc_for", None)
    if purpose not in PURPOSES:
        # A replayed or forged callback: no login was started in this session.
        return _back("enrolment" if flask.session.get("enrolment") else "account", "session")
    error = flask.request.args.get("error")
    if error:
        return _back(purpose, "annule" if error == "access_denied" else "fournisseur")
    settings: Settings = flask.current_app.extensions["esante"].settings
    try:
        token = _client().authorize_access_token(leeway=LEEWAY_SECONDS)
        claims = token.get("userinfo")
        if not claims:
            raise OAuthError(description="no ID token in the token response")
        if claims.get("iss") != issuer_of(settings):
            raise OAuthError(description="unexpected issuer")
    except MismatchingStateError:
        return _back(purpose, "session")
    except (requests.RequestException, RuntimeError, TypeError) as exc:
        log.warning("identity provider unreachable or unusable: %s", exc)
        _forget_provider_documents()
        return _back(purpose, "indisponible")
    except (OAuthError, JoseError, ValueError, KeyError) as exc:
        # Perhaps keys we hold are stale or were garbage: fetch them again next time.
        log.warning("LuxTrust callback refused: %s: %s", type(exc).__name__, exc)
        _forget_provider_documents()
        return _back(purpose, "jeton")
    handler = _handlers.get(purpose)
    if handler is None:
        flask.abort(404)
    return flask.redirect(handler(dict(claims)), 303)


def init_app(server: flask.Flask, settings: Settings) -> None:
    oauth = OAuth(server)
    oauth.register(
        name="luxtrust",
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        server_metadata_url=f"{issuer_of(settings)}/.well-known/openid-configuration",
        client_kwargs={
            "scope": "openid profile",
            "code_challenge_method": "S256",
            "default_timeout": 10,
        },
    )
    server.extensions["luxtrust_oauth"] = oauth
    server.extensions["luxtrust_registered_metadata"] = dict(oauth.luxtrust.server_metadata)
    bp = flask.Blueprint("luxtrust_client", __name__)
    bp.add_url_rule("/auth/luxtrust/login", view_func=security.limited("luxtrust")(login))
    bp.add_url_rule("/auth/luxtrust/callback", view_func=security.limited("luxtrust")(callback))
    server.register_blueprint(bp)


def error_message(code: str | None) -> str | None:
    """French text for the `?erreur=` codes above."""
    from dashboard.i18n import gettext as _

    messages = {
        "annule": _(
            "Vous avez annulé l'authentification LuxTrust. Vous pouvez recommencer quand vous "
            "voulez."
        ),
        "fournisseur": _(
            "LuxTrust n'a pas pu terminer l'authentification. Réessayez dans quelques instants."
        ),
        "session": _(
            "Cette réponse de LuxTrust ne correspond à aucune authentification en cours dans ce "
            "navigateur. Recommencez depuis le bouton ci-dessous."
        ),
        "jeton": _(
            "La réponse de LuxTrust n'a pas pu être vérifiée. Par sécurité, elle a été "
            "refusée ; recommencez l'authentification."
        ),
        "indisponible": _(
            "Le service LuxTrust est momentanément injoignable. Réessayez dans quelques minutes."
        ),
        "inconnu": _(
            "Aucun compte eSanté n'est associé à cette identité LuxTrust. Si vous venez de "
            "faire votre demande, attendez l'email de confirmation."
        ),
    }
    # A repeated ?erreur= arrives as a list: not one of ours, so no message.
    return messages.get(code) if isinstance(code, str) else None
