"""Built-in LuxTrust simulator: a small OpenID Connect provider, for development only.

It speaks the same authorisation-code flow (with PKCE, `state` and `nonce`) as the agency's
broker in front of LuxTrust, so the application's client code path is identical in
development, tests and production. The login page looks like LuxTrust's: the person picks a
device (Mobile, Scan, SmartCard, Signing Stick, eID — the Token was switched off at the end of
2024) and an identity to send back, from the demo personas or typed by hand. Nothing is
authenticated: `init_app` refuses to run in production.

Several worker processes can serve it without shared memory:
- the ES256 signing key is derived deterministically from the secret key, so every worker
  publishes the same JWKS;
- the authorisation code, the access token and the login form's copy of the request are
  self-contained values signed with the secret key (distinct salts), so any worker can
  check a value another one issued.
The only process-local state is the set of codes already redeemed (see `_UsedCodes`).
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass
from urllib.parse import unquote, urlencode, urlsplit

import flask
from cryptography.hazmat.primitives.asymmetric import ec
from itsdangerous import BadData, URLSafeSerializer
from joserfc import jwt
from joserfc.jwk import ECKey

from dashboard import i18n
from dashboard.config import ConfigurationError
from dashboard.enrolment.personas import PERSONAS, PERSONAS_BY_KEY, SECRETARIES
from dashboard.i18n import N_
from dashboard.i18n import gettext as _

ISSUER_PATH = "/simulator/luxtrust"

CODE_LIFETIME = 60  # seconds an authorisation code may wait before being redeemed
TOKEN_LIFETIME = 300  # seconds an access token and an ID token are valid
FORM_LIFETIME = 30 * 60  # seconds the login page may stay open before its form is refused
SCOPE = "openid profile"
CUSTOM = "custom"

# Order of the secp256r1 group: the private scalar must lie in [1, n - 1].
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_KEY_LABEL = b"luxtrust-simulator-signing-key"
_SALT_FORM = "luxtrust-simulator-authorize-form"
_SALT_CODE = "luxtrust-simulator-authorization-code"
_SALT_TOKEN = "luxtrust-simulator-access-token"  # noqa: S105 (a salt, not a secret)  # nosec B105
# RFC 7636 §4.1-4.2: verifier 43-128 unreserved characters; an S256 challenge is 43 base64url.
_VERIFIER_RE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
_CHALLENGE_RE = re.compile(r"^[A-Za-z0-9\-_]{43}$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MAX_PARAM = 2048  # longest state / nonce accepted
_MAX_NAME = 100


@dataclass(frozen=True)
class Device:
    key: str
    label: str
    hint: str


DEVICES = (
    Device(
        "mobile",
        "LuxTrust Mobile",
        N_("Identifiant et mot de passe, puis validation dans l'application sur votre smartphone."),
    ),
    Device(
        "scan",
        "LuxTrust Scan",
        N_("Identifiant et mot de passe, puis code lu par votre lecteur LuxTrust Scan."),
    ),
    Device("smartcard", "SmartCard", N_("Carte à puce LuxTrust dans un lecteur, et code PIN.")),
    Device("signing_stick", "Signing Stick", N_("Clé USB LuxTrust, et code PIN.")),
    Device(
        "eid",
        N_("Carte d'identité électronique (eID)"),
        N_("Carte d'identité luxembourgeoise dans un lecteur, et code PIN."),
    ),
)
DEVICES_BY_KEY = {d.key: d for d in DEVICES}

_KIND_LABELS = {
    "identical": N_("identique"),
    "formatting": N_("mise en forme"),
    "subset": N_("prénoms en plus"),
    "swapped": N_("nom et prénom inversés"),
    "typo": N_("faute de frappe"),
    "different": N_("différent"),
    "missing": N_("donnée manquante"),
}


@dataclass(frozen=True)
class ProfessionalPersona:
    """What LuxTrust would return for demo health professional number `index` (1-based)."""

    index: int
    family_name: str
    given_name: str
    specialty: str

    @property
    def key(self) -> str:
        return f"pro-{self.index}"

    @property
    def subject(self) -> str:
        return f"demo-professional-{self.index}"

    @property
    def label(self) -> str:
        return f"Dr {self.given_name} {self.family_name} — {self.specialty}"

    def claims(self) -> dict:
        return {
            "sub": self.subject,
            "family_name": self.family_name,
            "given_name": self.given_name,
        }


def issuer_url(settings) -> str:
    return settings.base_url.rstrip("/") + ISSUER_PATH


def professional_personas() -> list[ProfessionalPersona]:
    """One persona per demo professional, with the LuxTrust subject the demo gives them."""
    # Imported here: the demo loader pulls in the whole service layer.
    from dashboard.enrolment.demo import PROFESSIONALS

    return [
        ProfessionalPersona(i, last, first, specialty)
        for i, (last, first, specialty) in enumerate(PROFESSIONALS, start=1)
    ]


def resolve_persona(key: str | None) -> dict | None:
    """The claims a persona key stands for (`custom` and unknown keys: None)."""
    if not key:
        return None
    persona = PERSONAS_BY_KEY.get(key)
    if persona is not None:
        return persona.claims()
    for pro in professional_personas():
        if pro.key == key:
            return pro.claims()
    return None


def custom_claims(
    family_name: str, given_name: str, birthdate: str | None, matricule: str | None
) -> dict:
    """Claims for an identity typed by hand; the same identity always gets the same `sub`."""
    fingerprint = json.dumps([family_name, given_name, birthdate, matricule], ensure_ascii=False)
    claims = {
        "sub": "sim-custom-" + hashlib.sha256(fingerprint.encode()).hexdigest()[:20],
        "family_name": family_name,
        "given_name": given_name,
    }
    if birthdate:
        claims["birthdate"] = birthdate
    if matricule:
        claims["matricule"] = matricule
    return claims


# --- keys and signed values -------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _signing_key(secret_key: str) -> ECKey:
    digest = hmac.new(secret_key.encode(), _KEY_LABEL, hashlib.sha256).digest()
    scalar = int.from_bytes(digest, "big") % _P256_ORDER or 1
    private = ec.derive_private_key(scalar, ec.SECP256R1())
    key = ECKey.import_key(private, {"use": "sig", "alg": "ES256"})
    key.ensure_kid()  # RFC 7638 thumbprint: identical in every worker
    return key


def public_jwks(settings) -> dict:
    """The simulator's public signing key as a JWKS (the same for every process)."""
    return {"keys": [_signing_key(settings.secret_key).as_dict(private=False)]}


def _serializer(settings, salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(
        settings.secret_key, salt=salt, signer_kwargs={"digest_method": hashlib.sha256}
    )


def _now() -> int:
    """Current time in whole seconds (tests monkeypatch this to age codes)."""
    return int(time.time())


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _s256(verifier: str) -> str:
    return _b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def _half_hash(value: str) -> str:
    """OIDC Core §3.1.3.6 at_hash for ES256: left half of SHA-256, base64url."""
    return _b64url(hashlib.sha256(value.encode("ascii")).digest()[:16])


class _UsedCodes:
    """Ids of redeemed authorisation codes, kept until the code would have expired anyway.

    DEVELOPMENT SIMULATOR ONLY: this set lives in one process's memory. With several
    workers a code could be redeemed once per worker; a real provider keeps this in shared
    storage. Codes live 60 seconds, so the set stays tiny.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._until: dict[str, int] = {}

    def consume(self, code_id: str, expires: int) -> bool:
        """Mark `code_id` used; False when it already was."""
        now = _now()
        with self._lock:
            for stale in [k for k, exp in self._until.items() if exp < now]:
                del self._until[stale]
            if code_id in self._until:
                return False
            self._until[code_id] = expires
            return True


_used_codes = _UsedCodes()


# --- helpers for responses ----------------------------------------------------------------


def _redirect_allowed(settings, uri: str) -> bool:
    """Only absolute URIs under the application's own base URL: never an open redirector."""
    base = settings.base_url.rstrip("/") + "/"
    if not uri or len(uri) > _MAX_PARAM or not uri.startswith(base):
        return False
    if "#" in uri or "\\" in uri or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in uri):
        return False
    parts, base_parts = urlsplit(uri), urlsplit(base)
    if (parts.scheme, parts.netloc) != (base_parts.scheme, base_parts.netloc):
        return False
    segments = unquote(parts.path).split("/")
    return "." not in segments and ".." not in segments


def _with_params(uri: str, params: dict) -> str:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    if "?" not in uri:
        return f"{uri}?{query}"
    return uri + ("" if uri.endswith(("?", "&")) else "&") + query


def _no_store(response: flask.Response) -> flask.Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def _json(payload: dict, status: int = 200, headers: dict | None = None) -> flask.Response:
    response = flask.jsonify(payload)
    response.status_code = status
    response.headers.update(headers or {})
    return _no_store(response)


def _oauth_error(error: str, description: str, status: int = 400, headers=None):
    """RFC 6749 §5.2 error. Descriptions stay ASCII, as the RFC requires."""
    return _json({"error": error, "error_description": description}, status, headers)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _html(settings, template: str, status: int = 200, **context) -> flask.Response:
    nonce = secrets.token_urlsafe(16)
    body = flask.render_template(template, csp_nonce=nonce, **context)
    response = flask.make_response(body, status)
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src 'nonce-{nonce}'; "
        f"form-action 'self' {_origin(settings.base_url)}; "
        "frame-ancestors 'none'; base-uri 'none'"
    )
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return _no_store(response)


def _error_page(settings, message: str, status: int = 400) -> flask.Response:
    return _html(settings, "simulator/error.html", status, message=message)


def _redirect(uri: str, **params) -> flask.Response:
    return _no_store(flask.redirect(_with_params(uri, params), 302))


# --- the login page ----------------------------------------------------------------------


def _persona_groups() -> list[dict]:
    secretaries = {s.key: s for s in SECRETARIES}
    secretary_items = []
    for p in PERSONAS:
        declared = secretaries.get(p.secretary)
        parts = []
        if declared is not None:
            parts.append(
                _(
                    "déclaration de {first_names} {last_name}",
                    first_names=declared.first_names,
                    last_name=declared.last_name,
                )
            )
        kind = p.expected
        parts.append(
            _("cas : {kind}", kind=_(_KIND_LABELS[kind]) if kind in _KIND_LABELS else kind)
        )
        secretary_items.append(
            {"key": p.key, "label": _(p.label), "hint": " · ".join(parts), "claims": p.claims()}
        )
    pro_items = [
        {
            "key": p.key,
            "label": p.label,
            "hint": _("sujet {subject}", subject=p.subject),
            "claims": p.claims(),
        }
        for p in professional_personas()
    ]
    return [
        {"id": "secretaries", "legend": _("Secrétaires (démo)"), "items": secretary_items},
        {"id": "professionals", "legend": _("Professionnels de santé (démo)"), "items": pro_items},
    ]


def _render_login(settings, request: dict, form: dict, errors: dict, status: int = 200):
    blob = _serializer(settings, _SALT_FORM).dumps(request)
    return _html(
        settings,
        "simulator/login.html",
        status,
        authz=blob,
        auth_request=request,
        devices=[Device(d.key, _(d.label), _(d.hint)) for d in DEVICES],
        groups=_persona_groups(),
        form=form,
        errors=errors,
        issuer=issuer_url(settings),
    )


def _validate_choice(form: dict) -> tuple[dict | None, dict]:
    """(claims, errors) from the login form."""
    errors: dict[str, str] = {}
    if form["device"] not in DEVICES_BY_KEY:
        errors["device"] = _("Choisissez le dispositif LuxTrust à utiliser.")
    claims = None
    persona = form["persona"]
    if persona == CUSTOM:
        family = form["family_name"].strip()
        given = form["given_name"].strip()
        birth = form["birthdate"].strip()
        matricule = re.sub(r"\s+", "", form["matricule"])
        if not family:
            errors["family_name"] = _("Indiquez le nom de famille.")
        elif len(family) > _MAX_NAME or not family.isprintable():
            errors["family_name"] = _(
                "Le nom doit compter au plus {n} caractères visibles.", n=_MAX_NAME
            )
        if not given:
            errors["given_name"] = _("Indiquez le ou les prénoms.")
        elif len(given) > _MAX_NAME or not given.isprintable():
            errors["given_name"] = _(
                "Les prénoms doivent compter au plus {n} caractères visibles.", n=_MAX_NAME
            )
        if birth:
            try:
                if not _DATE_RE.match(birth):
                    raise ValueError(birth)
                birth = dt.date.fromisoformat(birth).isoformat()
            except ValueError:
                errors["birthdate"] = _(
                    "Date de naissance invalide : écrivez-la sous la forme AAAA-MM-JJ, "
                    "par exemple 1985-04-12."
                )
        if matricule and not re.fullmatch(r"\d{13}", matricule):
            errors["matricule"] = _("Le matricule compte 13 chiffres.")
        if not errors:
            claims = custom_claims(family, given, birth or None, matricule or None)
    else:
        claims = resolve_persona(persona)
        if claims is None:
            errors["persona"] = _("Choisissez l'identité que LuxTrust doit renvoyer.")
    return (None if errors else claims), errors


# --- the provider ------------------------------------------------------------------------


def init_app(server: flask.Flask, settings) -> None:
    """Mount the simulator at ISSUER_PATH. Refused in production."""
    if settings.is_production:
        raise ConfigurationError(
            "Le simulateur LuxTrust est réservé au développement et aux tests : il ne peut "
            "pas être activé en production (OIDC_ISSUER doit désigner le fournisseur réel)."
        )
    issuer = issuer_url(settings)
    bp = flask.Blueprint(
        "luxtrust_simulator", __name__, url_prefix=ISSUER_PATH, template_folder="templates"
    )
    # Its pages speak the app's languages (the same cookie and Accept-Language choose).
    server.jinja_env.globals.update(_=i18n.gettext, current_language=i18n.current_language)

    @bp.get("/.well-known/openid-configuration")
    def discovery():
        return _json(
            {
                "issuer": issuer,
                "authorization_endpoint": f"{issuer}/authorize",
                "token_endpoint": f"{issuer}/token",
                "jwks_uri": f"{issuer}/jwks",
                "userinfo_endpoint": f"{issuer}/userinfo",
                "response_types_supported": ["code"],
                "response_modes_supported": ["query"],
                "grant_types_supported": ["authorization_code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["ES256"],
                "scopes_supported": ["openid", "profile"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                ],
                "code_challenge_methods_supported": ["S256"],
                "claims_supported": [
                    "sub",
                    "family_name",
                    "given_name",
                    "birthdate",
                    "matricule",
                    "luxtrust_device",
                ],
                "claims_parameter_supported": False,
                "request_parameter_supported": False,
                "request_uri_parameter_supported": False,
                "authorization_response_iss_parameter_supported": True,
                "ui_locales_supported": list(i18n.LANGUAGES),
            }
        )

    @bp.get("/jwks")
    def jwks():
        return _json(public_jwks(settings))

    @bp.get("/authorize")
    def authorize():
        args = flask.request.args
        for name in ("client_id", "redirect_uri"):
            if len(args.getlist(name)) > 1:
                return _error_page(settings, _("Le paramètre {name} est répété.", name=name))
        client_id = args.get("client_id", "")
        if not client_id or not hmac.compare_digest(
            client_id.encode(), settings.oidc_client_id.encode()
        ):
            return _error_page(
                settings,
                _(
                    "Application inconnue : le paramètre client_id ne correspond à aucune "
                    "application enregistrée."
                ),
            )
        redirect_uri = args.get("redirect_uri", "")
        if not _redirect_allowed(settings, redirect_uri):
            return _error_page(
                settings,
                _(
                    "Adresse de retour refusée : redirect_uri doit être une adresse de "
                    "l'application, sous {base_url}/. Par sécurité, vous n'y êtes pas "
                    "renvoyé.",
                    base_url=settings.base_url,
                ),
            )
        state = args.get("state")

        def fail(error: str, description: str) -> flask.Response:
            return _redirect(
                redirect_uri, error=error, error_description=description, state=state, iss=issuer
            )

        repeated = sorted(name for name in args if len(args.getlist(name)) > 1)
        if repeated:
            return fail("invalid_request", f"Repeated parameter: {repeated[0]}")
        if len(state or "") > _MAX_PARAM or len(args.get("nonce", "")) > _MAX_PARAM:
            return fail("invalid_request", "state or nonce too long")
        if "request" in args:
            return fail("request_not_supported", "Request objects are not supported")
        if "request_uri" in args:
            return fail("request_uri_not_supported", "request_uri is not supported")
        response_type = args.get("response_type")
        if not response_type:
            return fail("invalid_request", "Missing response_type")
        if response_type != "code":
            return fail("unsupported_response_type", "Only response_type=code is supported")
        if args.get("response_mode", "query") != "query":
            return fail("invalid_request", "Only response_mode=query is supported")
        scopes = args.get("scope", "").split()
        if "openid" not in scopes:
            return fail("invalid_request", "The openid scope is required")
        challenge = args.get("code_challenge")
        if not challenge:
            return fail("invalid_request", "PKCE is required: missing code_challenge")
        if args.get("code_challenge_method") != "S256":
            return fail("invalid_request", "PKCE code_challenge_method must be S256")
        if not _CHALLENGE_RE.match(challenge):
            return fail("invalid_request", "Malformed code_challenge")
        if "none" in args.get("prompt", "").split():
            # No session is ever kept: the person must always interact.
            return fail("login_required", "The simulator always shows its login page")
        request = {
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "nonce": args.get("nonce"),
            "code_challenge": challenge,
            "exp": _now() + FORM_LIFETIME,
        }
        return _render_login(settings, request, _empty_form(), {})

    @bp.post("/authorize")
    def authorize_submit():
        form = flask.request.form
        try:
            request = _serializer(settings, _SALT_FORM).loads(form.get("authz", ""))
        except BadData:
            return _error_page(
                settings,
                _(
                    "Formulaire refusé : sa signature ne correspond pas. Recommencez la "
                    "connexion depuis l'application."
                ),
            )
        if not isinstance(request, dict) or request.get("exp", 0) < _now():
            return _error_page(
                settings,
                _(
                    "Cette page de connexion a expiré. Recommencez la connexion depuis "
                    "l'application."
                ),
            )
        if request.get("client_id") != settings.oidc_client_id or not _redirect_allowed(
            settings, request.get("redirect_uri", "")
        ):
            return _error_page(settings, _("Demande d'authentification invalide."))
        redirect_uri, state = request["redirect_uri"], request.get("state")
        action = form.get("action", "submit")
        if action == "cancel":
            return _redirect(
                redirect_uri,
                error="access_denied",
                error_description="The user cancelled the LuxTrust authentication",
                state=state,
                iss=issuer,
            )
        if action == "error":
            return _redirect(
                redirect_uri,
                error="server_error",
                error_description="Simulated LuxTrust provider failure",
                state=state,
                iss=issuer,
            )
        if action != "submit":
            return _error_page(settings, _("Action inconnue."))
        values = {
            name: form.get(name, "")
            for name in ("device", "persona", "family_name", "given_name", "birthdate", "matricule")
        }
        claims, errors = _validate_choice(values)
        if errors:
            return _render_login(settings, request, values, errors, status=400)
        now = _now()
        code = _serializer(settings, _SALT_CODE).dumps(
            {
                "jti": secrets.token_urlsafe(16),
                "client_id": request["client_id"],
                "redirect_uri": redirect_uri,
                "code_challenge": request["code_challenge"],
                "nonce": request.get("nonce"),
                "claims": claims,
                "device": values["device"],
                "auth_time": now,
                "exp": now + CODE_LIFETIME,
            }
        )
        return _redirect(redirect_uri, code=code, state=state, iss=issuer)

    @bp.post("/token")
    def token():
        form = flask.request.form
        auth = flask.request.authorization
        basic = auth if auth is not None and auth.type == "basic" else None
        if basic is not None and "client_secret" in form:
            return _oauth_error("invalid_request", "Use one client authentication method only")
        if basic is not None:
            # RFC 6749 §2.3.1: the id and secret are form-urlencoded before base64.
            client_id = unquote(basic.username or "")
            secret = unquote(basic.password or "")
        elif "client_secret" in form:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        else:
            client_id, secret = None, None
        authenticated = (
            client_id is not None
            and hmac.compare_digest(client_id.encode(), settings.oidc_client_id.encode())
            and hmac.compare_digest(secret.encode(), settings.oidc_client_secret.encode())
        )
        if not authenticated:
            return _oauth_error(
                "invalid_client",
                "Client authentication failed",
                401,
                {"WWW-Authenticate": 'Basic realm="luxtrust-simulator"'},
            )
        if form.get("client_id", client_id) != client_id:
            return _oauth_error("invalid_request", "client_id does not match the credentials")
        grant_type = form.get("grant_type")
        if not grant_type:
            return _oauth_error("invalid_request", "Missing grant_type")
        if grant_type != "authorization_code":
            return _oauth_error("unsupported_grant_type", "Only authorization_code is supported")
        if not form.get("code"):
            return _oauth_error("invalid_request", "Missing code")
        try:
            code = _serializer(settings, _SALT_CODE).loads(form["code"])
        except BadData:
            return _oauth_error("invalid_grant", "Invalid authorization code")
        if not isinstance(code, dict) or code.get("exp", 0) < _now():
            return _oauth_error("invalid_grant", "Authorization code expired")
        if code["client_id"] != client_id:
            return _oauth_error("invalid_grant", "Code issued to another client")
        if form.get("redirect_uri") != code["redirect_uri"]:
            return _oauth_error("invalid_grant", "redirect_uri does not match the authorization")
        verifier = form.get("code_verifier", "")
        if not _VERIFIER_RE.match(verifier):
            return _oauth_error("invalid_grant", "Missing or malformed code_verifier")
        if not hmac.compare_digest(_s256(verifier), code["code_challenge"]):
            return _oauth_error("invalid_grant", "PKCE verification failed")
        if not _used_codes.consume(code["jti"], code["exp"]):
            return _oauth_error("invalid_grant", "Authorization code already used")

        now = _now()
        claims = dict(code["claims"], luxtrust_device=code["device"])
        access_token = _serializer(settings, _SALT_TOKEN).dumps(
            {
                "jti": secrets.token_urlsafe(16),
                "client_id": client_id,
                "claims": claims,
                "scope": SCOPE,
                "exp": now + TOKEN_LIFETIME,
            }
        )
        id_claims = {
            "iss": issuer,
            "sub": claims["sub"],
            "aud": client_id,
            "iat": now,
            "exp": now + TOKEN_LIFETIME,
            "auth_time": code["auth_time"],
            **claims,
            "amr": [code["device"]],
            "at_hash": _half_hash(access_token),
        }
        if code.get("nonce"):
            id_claims["nonce"] = code["nonce"]
        key = _signing_key(settings.secret_key)
        id_token = jwt.encode({"alg": "ES256", "typ": "JWT", "kid": key.kid}, id_claims, key)
        return _json(
            {
                "access_token": access_token,
                "token_type": "Bearer",  # nosec B105
                "expires_in": TOKEN_LIFETIME,
                "id_token": id_token,
                "scope": SCOPE,
            }
        )

    @bp.route("/userinfo", methods=["GET", "POST"])
    def userinfo():
        header = flask.request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        payload = None
        if scheme.lower() == "bearer" and value.strip():
            try:
                payload = _serializer(settings, _SALT_TOKEN).loads(value.strip())
            except BadData:
                payload = None
        if not isinstance(payload, dict) or payload.get("exp", 0) < _now():
            return _oauth_error(
                "invalid_token",
                "Missing, invalid or expired access token",
                401,
                {"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        return _json(payload["claims"])

    server.register_blueprint(bp)
    # For whoever mounts it: e.g. exempt it from a CSRF extension (its POSTs come from other
    # sites by design: the token endpoint) and from the login guard.
    server.extensions["luxtrust_simulator"] = bp


def _empty_form() -> dict:
    return dict.fromkeys(
        ("device", "persona", "family_name", "given_name", "birthdate", "matricule"), ""
    )
