"""Web hardening: CSRF (Dash's cookie/header pair), Origin checks, security headers with a
Content-Security-Policy that Dash works under, and rate limits (flask-limiter).

Limits are kept in memory by default and in Redis when RATELIMIT_STORAGE_URI is set, so
that several workers share them.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import flask
from dash import Dash
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect, generate_csrf
from limits import parse_many
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import TooManyRequests
from werkzeug.middleware.proxy_fix import ProxyFix

from dashboard.config import Settings
from dashboard.enrolment import text
from dashboard.i18n import gettext as _

CSRF_COOKIE = "_csrf_token"  # the name Dash's renderer reads and echoes as X-CSRFToken
csrf = CSRFProtect()

# Named limits (per client address), used by routes and callbacks.
LIMITS = {
    "staff_login": "10 per minute; 50 per hour",
    "matricule": "20 per minute; 100 per hour",
    "luxtrust": "30 per minute",
    "resend": "20 per hour",
}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def init_app(server: flask.Flask, settings: Settings) -> None:
    server.config.update(
        WTF_CSRF_TIME_LIMIT=None,  # valid as long as the session: a page may stay open long
        WTF_CSRF_SSL_STRICT=False,  # the Origin check below does this job, for HTTP too
        # Pages opened before a key rotation keep their token: itsdangerous tries every key
        # of the list and signs with the last one.
        WTF_CSRF_SECRET_KEY=[*settings.secret_key_fallbacks, settings.secret_key],
        RATELIMIT_STORAGE_URI=settings.ratelimit_storage_uri or "memory://",
        RATELIMIT_HEADERS_ENABLED=True,
        # A Redis outage must not take logins down: count in memory meanwhile.
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        RATELIMIT_SWALLOW_ERRORS=True,
    )
    csrf.init_app(server)
    if settings.trusted_proxies:
        # Behind N reverse proxies, the client's address is in X-Forwarded-For.
        server.wsgi_app = ProxyFix(
            server.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies
        )
    # One limiter per app (its counters live in its storage: memory, or Redis when shared).
    limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)
    limiter.init_app(server)
    server.extensions["esante_limiter"] = limiter
    server.extensions["esante_limiter_fallback"] = FixedWindowRateLimiter(MemoryStorage())
    own_origin = _origin(settings.base_url)

    @server.before_request
    def refuse_cross_site_writes():
        """State-changing requests must come from our own pages (Origin / Fetch metadata)."""
        if flask.request.method in ("GET", "HEAD", "OPTIONS"):
            return None
        if flask.request.blueprint in CSRF_EXEMPT_BLUEPRINTS:
            return None
        origin = flask.request.headers.get("Origin")
        if origin and origin != own_origin:
            flask.abort(403)
        if flask.request.headers.get("Sec-Fetch-Site") == "cross-site":
            flask.abort(403)
        return None

    @server.after_request
    def csrf_cookie(response: flask.Response) -> flask.Response:
        # Dash reads this cookie and sends it back as the X-CSRFToken header.
        if (
            flask.request.path == "/"
            or flask.request.path.startswith("/_dash-layout")
            or (response.mimetype == "text/html" and response.status_code == 200)
        ):
            response.set_cookie(
                CSRF_COOKIE,
                generate_csrf(),
                samesite="Strict",
                secure=settings.is_production,
                httponly=False,  # the renderer must read it
            )
        return response

    @server.errorhandler(RateLimitExceeded)
    def too_many(exc):
        response = flask.make_response(too_many_message(), 429)
        response.headers["Retry-After"] = str(getattr(exc, "retry_after", None) or 60)
        return response

    @server.errorhandler(OperationalError)
    def database_unavailable(_exc):
        # The transaction was rolled back: say so, and let the person retry.
        return flask.make_response(
            _(
                "Service momentanément indisponible : rien n'a été enregistré. Réessayez "
                "dans un instant."
            ),
            503,
        )


CSRF_EXEMPT_BLUEPRINTS = {"luxtrust_simulator"}


def exempt_simulator(server: flask.Flask) -> None:
    # The simulator is a separate party (an OpenID provider): its token endpoint is called
    # server to server and its form carries its own signed request; CSRF does not apply.
    blueprint = server.blueprints.get("luxtrust_simulator")
    if blueprint is not None:
        csrf.exempt(blueprint)


MAX_BODY_BYTES = 8 * 1024 * 1024  # far above any real callback; refuses a flood early


def guard_callback_bodies(app: Dash) -> None:
    """Refuse, with a 400, a callback request Dash would choke on (a 500 and a stack trace
    for every forged body), and make its text storable before any callback reads it."""
    app.server.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    path = app.config.requests_pathname_prefix + "_dash-update-component"
    shapes = CallbackShapes(app.callback_map, app.config.requests_pathname_prefix)

    @app.server.before_request
    def check_callback_body():
        if flask.request.path != path or flask.request.method != "POST":
            return None
        try:
            body = text.scrub(flask.request.get_json())  # cached: Dash reads this very object
        except RecursionError:
            body = None
        problem = callback_body_problem(body, shapes)
        if problem:
            return flask.make_response({"message": problem}, 400)
        return None


@dataclass(frozen=True)
class _Dependency:
    """One declared output, input or state: the id as the browser sends it (a string, or
    a dict for pattern-matching ids) and the property."""

    id: str | dict
    property: str
    wildcard: bool  # ALL, MATCH or ALLSMALLER inside a dict id: the browser sends matches

    @classmethod
    def of(cls, declared: dict) -> _Dependency:
        component_id, prop = declared["id"], declared["property"]
        if component_id.startswith("{"):  # Dash writes dict ids as JSON
            component_id = json.loads(component_id)
            wildcard = any(isinstance(v, list) for v in component_id.values())
            return cls(component_id, prop, wildcard)
        return cls(component_id, prop, False)

    def matches(self, item, output: bool = False) -> bool:
        if self.wildcard:
            items = item if isinstance(item, list) else [item]
            return all(self._matches_pattern(i) for i in items)
        if not isinstance(item, dict) or item.get("id") != self.id:
            return False
        prop = item.get("property")
        # allow_duplicate outputs carry "@<hash>" after the property
        return prop == self.property or (
            output and isinstance(prop, str) and prop.partition("@")[0] == self.property
        )

    def _matches_pattern(self, item) -> bool:
        if not isinstance(item, dict) or item.get("property") != self.property:
            return False
        given = item.get("id")
        if not isinstance(given, dict) or given.keys() != self.id.keys():
            return False
        return all(
            isinstance(given[k], (str, int, float, bool)) if isinstance(v, list) else given[k] == v
            for k, v in self.id.items()
        )


@dataclass(frozen=True)
class _Shape:
    """What a body for one server callback holds, as the renderer builds it."""

    outputs: tuple[_Dependency, ...]
    multi: bool  # outputs as a list (the key starts with ".."), else the one output itself
    no_output: bool
    inputs: tuple[_Dependency, ...]
    state: tuple[_Dependency, ...]
    pathname_at: int | None  # Dash's page router: where its location inputs are
    search_at: int | None

    @classmethod
    def of(cls, key: str, spec: dict) -> _Shape:
        declared = spec["output"] if isinstance(spec["output"], (list, tuple)) else [spec["output"]]
        inputs = tuple(_Dependency.of(d) for d in spec["inputs"])
        where = {(d.id, d.property): i for i, d in enumerate(inputs) if isinstance(d.id, str)}
        return cls(
            outputs=tuple(_Dependency.of(o.to_dict()) for o in declared),
            multi=key.startswith(".."),
            no_output=bool(spec.get("no_output")),
            inputs=inputs,
            state=tuple(_Dependency.of(d) for d in spec["state"]),
            pathname_at=where.get((PAGE_LOCATION, "pathname")),
            search_at=where.get((PAGE_LOCATION, "search")),
        )


PAGE_LOCATION = "_pages_location"  # the dcc.Location of Dash's page router (use_pages)


class CallbackShapes:
    """The shape of each server callback's body, read from the app's callback map once
    per callback (the check runs on every callback request)."""

    def __init__(self, callback_map: dict, pathname_prefix: str = "/"):
        self._map = callback_map  # Dash adds the pages' callbacks at its first request
        self._shapes: dict[str, _Shape] = {}
        self.pathname_prefix = pathname_prefix

    def get(self, key) -> _Shape | None:
        if not isinstance(key, str):
            return None
        shape = self._shapes.get(key)
        if shape is None:
            spec = self._map.get(key)
            if spec is None or "callback" not in spec:  # clientside callbacks run in the browser
                return None
            shape = self._shapes[key] = _Shape.of(key, spec)
        return shape


def _outputs_match(shape: _Shape, given) -> bool:
    if shape.no_output:
        return given in (None, [])  # the renderer sends none; Dash ignores them
    if shape.multi:
        return _dependencies_match(shape.outputs, given, output=True)
    return shape.outputs[0].matches(given, True)


def _dependencies_match(declared: tuple[_Dependency, ...], given, output: bool = False) -> bool:
    if not isinstance(given, list) or len(given) != len(declared):
        return False
    for dependency, item in zip(declared, given, strict=True):  # a plain loop: the hot path
        if not dependency.matches(item, output):
            return False
    return True


def _location_ok(shape: _Shape, inputs: list, prefix: str) -> bool:
    """Dash's page router fails (a 500) on a location no browser has: a pathname that is not
    text under the app's prefix, a search that is not text."""
    if shape.pathname_at is not None:
        pathname = inputs[shape.pathname_at].get("value")
        if not isinstance(pathname, str) or not pathname.startswith(prefix):
            return False
    if shape.search_at is not None:
        search = inputs[shape.search_at].get("value")
        if search is not None and not isinstance(search, str):
            return False
    return True


def callback_body_problem(body, shapes: CallbackShapes) -> str | None:
    """Why a decoded /_dash-update-component body is not one our callbacks can take. The
    reasons stay general: what a callback expects is not told to whoever forged a body."""
    if not isinstance(body, dict):
        return _("Requête invalide.")
    shape = shapes.get(body.get("output"))
    if shape is None:
        return _("Requête invalide : action inconnue.")
    if not _outputs_match(shape, body.get("outputs")):
        return _("Requête invalide : sorties inattendues.")
    if not _dependencies_match(shape.inputs, body.get("inputs")):
        return _("Requête invalide : entrées inattendues.")
    if not _dependencies_match(shape.state, body.get("state", [])):
        return _("Requête invalide : entrées inattendues.")
    if not _location_ok(shape, body["inputs"], shapes.pathname_prefix):
        return _("Requête invalide : entrées inattendues.")
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        return _("Requête invalide.")
    return None


def content_security_policy(app: Dash, settings: Settings) -> str:
    # Dash's inline scripts (its config, clientside callbacks) are allowed by their hashes.
    script_hashes = " ".join(app.csp_hashes())  # already quoted: 'sha256-…'
    issuer = settings.oidc_issuer if not settings.uses_simulator else settings.base_url
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' {script_hashes}",
            # Dash, Plotly and AG Grid set inline style attributes.
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            f"form-action 'self' {_origin(issuer)}",
            "frame-ancestors 'none'",
        ]
    )


def secure_headers(app: Dash, settings: Settings) -> None:
    """Security headers on every response."""
    cache: dict[str, str] = {}

    @app.server.after_request
    def headers(response: flask.Response) -> flask.Response:
        h = response.headers
        if flask.request.blueprint not in CSRF_EXEMPT_BLUEPRINTS:
            # Built at the first response: Dash adds some inline scripts at its first request.
            if "policy" not in cache:
                cache["policy"] = content_security_policy(app, settings)
            h.setdefault("Content-Security-Policy", cache["policy"])
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")
        # Never send our URLs (which may hold a link token) to other sites.
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if settings.is_production:
            h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response


def client_address() -> str:
    """The client's address as the rate limits count it (behind TRUSTED_PROXIES, the one
    the nearest trusted proxy saw)."""
    return get_remote_address() or "unknown"


def limited(name: str):
    """A route decorator applying the named limit (per client address)."""

    def wrap(view):
        def limited_view(*args, **kwargs):
            check_limit(name)
            return view(*args, **kwargs)

        limited_view.__name__ = view.__name__
        limited_view.__doc__ = view.__doc__
        return limited_view

    return wrap


class LimitReached(RateLimitExceeded):
    """A named limit is exhausted for this client (answered 429, or a message in a callback)."""

    def __init__(self, name: str, retry_after: int = 60):
        self.limit = None
        self.response = None
        self.limit_name = name
        TooManyRequests.__init__(self, description=too_many_message(), retry_after=retry_after)


_ITEMS = {name: tuple(parse_many(spec)) for name, spec in LIMITS.items()}


def check_limit(name: str) -> None:
    """Count one hit of the named limit for this client; raises LimitReached (429).

    Counted straight in the limiter's storage under the limit's own name (flask-limiter's
    context manager keys limits by call site, so all named limits would share one slot).
    """
    limiter: Limiter = flask.current_app.extensions["esante_limiter"]
    key = ("esante", name, get_remote_address())
    strategy = limiter.limiter
    try:
        allowed = [strategy.hit(item, *key) for item in _ITEMS[name]]
    except Exception:  # noqa: BLE001 - storage (Redis) down: count in memory meanwhile
        strategy = flask.current_app.extensions["esante_limiter_fallback"]
        allowed = [strategy.hit(item, *key) for item in _ITEMS[name]]
    if not all(allowed):
        exhausted = [item for item, ok in zip(_ITEMS[name], allowed, strict=True) if not ok]
        reset = max(strategy.get_window_stats(item, *key).reset_time for item in exhausted)
        raise LimitReached(name, retry_after=max(1, math.ceil(reset - time.time())))


def too_many_message() -> str:
    from dashboard.i18n import gettext as _

    return _("Trop de tentatives. Patientez quelques minutes avant de réessayer.")
