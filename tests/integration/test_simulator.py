"""The built-in LuxTrust simulator, an OpenID Connect provider, through Flask's test client
(and once over real HTTP with authlib's own client)."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import threading
import time
from urllib.parse import parse_qs, urlsplit

import flask
import pytest
import requests
from authlib.oidc.core import CodeIDToken
from itsdangerous import URLSafeSerializer
from joserfc import jwt
from joserfc.jwk import KeySet

from dashboard.config import ConfigurationError, Settings
from dashboard.enrolment.demo import PROFESSIONALS
from dashboard.enrolment.personas import PERSONAS, PERSONAS_BY_KEY
from dashboard.luxtrust import simulator
from dashboard.luxtrust.simulator import (
    ISSUER_PATH,
    init_app,
    issuer_url,
    professional_personas,
    resolve_persona,
)

BASE = "http://testserver"
SECRET = "test-secret-key-for-the-luxtrust-simulator-0123456789"
CLIENT_ID = "esante-enrolment"
CLIENT_SECRET = "simulator-secret"
REDIRECT = f"{BASE}/auth/luxtrust/callback"
ISSUER = BASE + ISSUER_PATH
DEVICE_IDS = ["mobile", "scan", "smartcard", "signing_stick", "eid"]


def make_settings(**changes) -> Settings:
    values = dict(
        env="test",
        base_url=BASE,
        secret_key=SECRET,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET,
    )
    values.update(changes)
    return Settings(**values)


def make_app(settings: Settings | None = None) -> flask.Flask:
    server = flask.Flask(__name__)
    server.secret_key = SECRET
    init_app(server, settings or make_settings())
    return server


@pytest.fixture
def client():
    return make_app().test_client()


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def authorize_params(challenge: str, **overrides) -> dict:
    params = {
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": "openid profile",
        "state": "state-123",
        "nonce": "nonce-456",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "ui_locales": "fr",
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def open_page(client, challenge: str, **overrides):
    return client.get(
        f"{ISSUER_PATH}/authorize", query_string=authorize_params(challenge, **overrides)
    )


def authz_of(html: str) -> str:
    match = re.search(r'name="authz" value="([^"]+)"', html)
    assert match, "the login page carries the signed request"
    return match.group(1)


def submit(client, authz: str, **fields):
    data = {"authz": authz, "action": "submit"}
    data.update(fields)
    return client.post(f"{ISSUER_PATH}/authorize", data=data)


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def login(client, device="mobile", persona="marie", nonce="nonce-456", **fields):
    """Open the page and submit it; returns (code, verifier)."""
    verifier, challenge = pkce_pair()
    page = open_page(client, challenge, nonce=nonce)
    assert page.status_code == 200
    response = submit(client, authz_of(page.text), device=device, persona=persona, **fields)
    assert response.status_code == 302, response.text
    assert response.location.startswith(REDIRECT + "?")
    query = query_of(response.location)
    assert query["state"] == "state-123"
    assert query["iss"] == ISSUER
    return query["code"], verifier


def exchange(client, code, verifier, *, basic=True, secret=CLIENT_SECRET, redirect_uri=REDIRECT):
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
    }
    headers = {}
    if basic:
        raw = f"{CLIENT_ID}:{secret}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
    else:
        data.update(client_id=CLIENT_ID, client_secret=secret)
    return client.post(f"{ISSUER_PATH}/token", data=data, headers=headers)


def verify_id_token(client, id_token: str):
    keys = KeySet.import_key_set(client.get(f"{ISSUER_PATH}/jwks").get_json())
    return jwt.decode(id_token, keys, algorithms=["ES256"])


# --- discovery and keys ---------------------------------------------------------------------


def test_discovery_document(client):
    response = client.get(f"{ISSUER_PATH}/.well-known/openid-configuration")
    assert response.status_code == 200
    doc = response.get_json()
    assert doc["issuer"] == ISSUER == issuer_url(make_settings())
    assert doc["authorization_endpoint"] == f"{ISSUER}/authorize"
    assert doc["token_endpoint"] == f"{ISSUER}/token"
    assert doc["jwks_uri"] == f"{ISSUER}/jwks"
    assert doc["userinfo_endpoint"] == f"{ISSUER}/userinfo"
    assert doc["response_types_supported"] == ["code"]
    assert doc["subject_types_supported"] == ["public"]
    assert doc["id_token_signing_alg_values_supported"] == ["ES256"]
    assert doc["scopes_supported"] == ["openid", "profile"]
    assert doc["token_endpoint_auth_methods_supported"] == [
        "client_secret_basic",
        "client_secret_post",
    ]
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert set(doc["claims_supported"]) >= {
        "sub",
        "family_name",
        "given_name",
        "birthdate",
        "matricule",
        "luxtrust_device",
    }


def test_jwks_publishes_one_public_es256_key(client):
    jwks = client.get(f"{ISSUER_PATH}/jwks").get_json()
    [key] = jwks["keys"]
    assert key["kty"] == "EC" and key["crv"] == "P-256"
    assert key["alg"] == "ES256" and key["use"] == "sig" and key["kid"]
    assert "d" not in key, "never the private part"


def test_two_workers_with_the_same_secret_publish_the_same_key_and_accept_each_others_codes():
    worker_a, worker_b = make_app().test_client(), make_app().test_client()
    assert (
        worker_a.get(f"{ISSUER_PATH}/jwks").get_json()
        == worker_b.get(f"{ISSUER_PATH}/jwks").get_json()
    )
    code, verifier = login(worker_a)
    response = exchange(worker_b, code, verifier)
    assert response.status_code == 200
    verify_id_token(worker_a, response.get_json()["id_token"])

    other = make_app(make_settings(secret_key="another-secret-key-" + "x" * 32)).test_client()
    assert (
        other.get(f"{ISSUER_PATH}/jwks").get_json()
        != worker_a.get(f"{ISSUER_PATH}/jwks").get_json()
    )


def test_refused_in_production():
    with pytest.raises(ConfigurationError, match="production"):
        init_app(flask.Flask(__name__), make_settings(env="production"))


# --- the full flow ----------------------------------------------------------------------------


def test_full_code_flow(client):
    verifier, challenge = pkce_pair()
    page = open_page(client, challenge)
    assert page.status_code == 200
    html = page.text
    assert '<html lang="fr">' in html and "<title>" in html
    assert "Simulateur de développement — aucune authentification réelle" in html
    assert "Choisissez votre dispositif LuxTrust" in html and "Identité à renvoyer" in html
    for device in DEVICE_IDS:
        assert f'id="device-{device}"' in html
    for label in [
        "LuxTrust Mobile",
        "LuxTrust Scan",
        "SmartCard",
        "Signing Stick",
        "Carte d&#39;identité électronique (eID)",
    ]:
        assert label in html
    assert 'value="token"' not in html, "the LuxTrust Token was switched off"
    for persona in PERSONAS:
        assert f'id="persona-{persona.key}"' in html
    for i in range(1, len(PROFESSIONALS) + 1):
        assert f'id="persona-pro-{i}"' in html
    for element_id in [
        "persona-custom",
        "custom-family-name",
        "custom-given-name",
        "custom-birthdate",
        "custom-matricule",
        "luxtrust-submit",
        "luxtrust-cancel",
        "luxtrust-error",
    ]:
        assert f'id="{element_id}"' in html
    for label_for in ["custom-family-name", "custom-given-name", "custom-birthdate"]:
        assert f'<label for="{label_for}">' in html
    assert "Secrétaires (démo)" in html and "Professionnels de santé (démo)" in html
    assert "Saisir une autre identité" in html
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert page.headers["X-Frame-Options"] == "DENY"

    before = int(time.time())
    redirect = submit(client, authz_of(html), device="smartcard", persona="marie")
    assert redirect.status_code == 302
    query = query_of(redirect.location)
    assert redirect.location.startswith(REDIRECT + "?")
    assert query["state"] == "state-123" and query["code"]

    response = exchange(client, query["code"], verifier)
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    tokens = response.get_json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 300
    assert tokens["scope"] == "openid profile"

    token = verify_id_token(client, tokens["id_token"])
    jwks = client.get(f"{ISSUER_PATH}/jwks").get_json()
    assert token.header["alg"] == "ES256"
    assert token.header["kid"] == jwks["keys"][0]["kid"]
    claims = token.claims
    marie = PERSONAS_BY_KEY["marie"].claims()
    assert claims["iss"] == ISSUER
    assert claims["aud"] == CLIENT_ID
    assert claims["nonce"] == "nonce-456"
    assert before <= claims["iat"] <= int(time.time()) + 1
    assert claims["exp"] == claims["iat"] + 300
    assert claims["auth_time"] <= claims["iat"]
    assert {k: claims[k] for k in marie} == marie
    assert claims["matricule"] == marie["matricule"]
    assert claims["luxtrust_device"] == "smartcard"
    assert claims["amr"] == ["smartcard"]

    # What authlib's client checks after decoding (iss, aud, exp, iat, nonce, at_hash).
    checked = CodeIDToken(
        claims,
        token.header,
        {"iss": {"values": [ISSUER]}},
        {"nonce": "nonce-456", "client_id": CLIENT_ID, "access_token": tokens["access_token"]},
    )
    checked.validate(leeway=30)

    info = client.get(
        f"{ISSUER_PATH}/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert info.status_code == 200
    assert info.get_json() == {**marie, "luxtrust_device": "smartcard"}


def test_client_secret_post_is_accepted(client):
    code, verifier = login(client, device="eid")
    response = exchange(client, code, verifier, basic=False)
    assert response.status_code == 200
    assert verify_id_token(client, response.get_json()["id_token"]).claims["amr"] == ["eid"]


def test_professional_persona_carries_the_demo_subject(client):
    code, verifier = login(client, device="signing_stick", persona="pro-1")
    claims = verify_id_token(client, exchange(client, code, verifier).get_json()["id_token"]).claims
    last, first, _ = PROFESSIONALS[0]
    assert claims["sub"] == "demo-professional-1"
    assert (claims["family_name"], claims["given_name"]) == (last, first)
    assert "birthdate" not in claims


def test_persona_helpers():
    pros = professional_personas()
    assert [p.key for p in pros] == [f"pro-{i}" for i in range(1, len(PROFESSIONALS) + 1)]
    assert resolve_persona("pro-2") == {
        "sub": "demo-professional-2",
        "family_name": PROFESSIONALS[1][0],
        "given_name": PROFESSIONALS[1][1],
    }
    for persona in PERSONAS:
        assert resolve_persona(persona.key) == persona.claims()
    assert resolve_persona("custom") is None
    assert resolve_persona("nobody") is None
    assert resolve_persona(None) is None


def test_without_nonce_the_id_token_has_none(client):
    code, verifier = login(client, nonce=None)
    claims = verify_id_token(client, exchange(client, code, verifier).get_json()["id_token"]).claims
    assert "nonce" not in claims


# --- custom identity and form errors ----------------------------------------------------------


def test_custom_identity(client):
    fields = dict(
        family_name="  Da Silva ",
        given_name="Ana Maria",
        birthdate="1992-02-29",
        matricule="1992 0229 12345",
    )
    code, verifier = login(client, device="scan", persona="custom", **fields)
    claims = verify_id_token(client, exchange(client, code, verifier).get_json()["id_token"]).claims
    assert claims["family_name"] == "Da Silva"
    assert claims["given_name"] == "Ana Maria"
    assert claims["birthdate"] == "1992-02-29"
    assert claims["matricule"] == "1992022912345"
    assert claims["sub"].startswith("sim-custom-")
    assert claims["luxtrust_device"] == "scan"

    # The same identity typed again is the same LuxTrust subject; optional fields may be empty.
    code2, verifier2 = login(client, device="scan", persona="custom", **fields)
    again = verify_id_token(client, exchange(client, code2, verifier2).get_json()["id_token"])
    assert again.claims["sub"] == claims["sub"]
    code3, verifier3 = login(
        client, persona="custom", family_name="Weber", given_name="Laura", birthdate=""
    )
    bare = verify_id_token(client, exchange(client, code3, verifier3).get_json()["id_token"])
    assert "birthdate" not in bare.claims and "matricule" not in bare.claims


def test_custom_identity_errors_are_tied_to_fields_and_keep_what_was_typed(client):
    _, challenge = pkce_pair()
    authz = authz_of(open_page(client, challenge).text)
    response = submit(
        client,
        authz,
        device="mobile",
        persona="custom",
        family_name="   ",
        given_name="Marie",
        birthdate="12/04/1985",
        matricule="123",
    )
    assert response.status_code == 400
    html = response.text
    assert 'id="custom-family-name-error" role="alert"' in html
    assert "Indiquez le nom de famille." in html
    assert 'id="custom-birthdate-error" role="alert"' in html
    assert "AAAA-MM-JJ" in html
    assert 'id="custom-matricule-error" role="alert"' in html
    family_input = re.search(r'<input[^>]*id="custom-family-name"[^>]*>', html).group(0)
    assert 'aria-describedby="custom-family-name-error"' in family_input
    assert 'aria-invalid="true"' in family_input and "autofocus" in family_input
    birth_input = re.search(r'<input[^>]*id="custom-birthdate"[^>]*>', html).group(0)
    assert "custom-birthdate-error" in birth_input and 'value="12/04/1985"' in birth_input
    assert re.search(r'id="custom-given-name"[^>]*value="Marie"', html)
    assert re.search(r'id="device-mobile"[^>]*checked', html)
    assert re.search(r'id="persona-custom"[^>]*checked', html)

    # A date that looks right but does not exist is refused too.
    response = submit(
        client,
        authz,
        device="mobile",
        persona="custom",
        family_name="Schmit",
        birthdate="1985-02-30",
    )
    assert response.status_code == 400
    assert 'id="custom-birthdate-error"' in response.text
    assert "custom-family-name-error" not in response.text


def test_missing_device_shows_an_error_and_keeps_the_persona(client):
    _, challenge = pkce_pair()
    authz = authz_of(open_page(client, challenge).text)
    response = submit(client, authz, persona="sophie")
    assert response.status_code == 400
    html = response.text
    assert 'id="device-error" role="alert"' in html
    assert 'aria-describedby="device-error"' in html
    assert re.search(r'id="persona-sophie"[^>]*checked', html)
    # The page can still be completed from there: nothing was lost.
    again = submit(client, authz_of(html), device="mobile", persona="sophie")
    assert again.status_code == 302 and "code=" in again.location

    unknown = submit(client, authz, device="token", persona="nobody")
    assert unknown.status_code == 400
    assert 'id="device-error"' in unknown.text and 'id="persona-error"' in unknown.text


def test_custom_family_name_is_escaped_when_shown_again(client):
    _, challenge = pkce_pair()
    authz = authz_of(open_page(client, challenge).text)
    response = submit(
        client,
        authz,
        device="mobile",
        persona="custom",
        family_name="<script>alert(1)</script>",
        given_name='"><img src=x onerror=alert(2)>',
        birthdate="pas une date",
    )
    assert response.status_code == 400
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert "<img src=x" not in response.text


# --- cancel and provider error ----------------------------------------------------------------


def test_cancel_returns_access_denied(client):
    _, challenge = pkce_pair()
    authz = authz_of(open_page(client, challenge).text)
    response = client.post(f"{ISSUER_PATH}/authorize", data={"authz": authz, "action": "cancel"})
    assert response.status_code == 302
    assert response.location.startswith(REDIRECT + "?")
    query = query_of(response.location)
    assert query["error"] == "access_denied"
    assert query["error_description"]
    assert query["state"] == "state-123"
    assert "code" not in query


def test_simulated_provider_error_returns_server_error(client):
    _, challenge = pkce_pair()
    authz = authz_of(open_page(client, challenge).text)
    response = client.post(f"{ISSUER_PATH}/authorize", data={"authz": authz, "action": "error"})
    assert response.status_code == 302
    query = query_of(response.location)
    assert query["error"] == "server_error"
    assert query["state"] == "state-123"
    assert "code" not in query


# --- the authorize request is checked ---------------------------------------------------------


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "http://evil.example/callback",
        "http://testserver.evil.example/callback",
        "http://testserver@evil.example/callback",
        "https://testserver/callback",
        "http://testserver",
        "//evil.example/callback",
        "http://testserver/callback#fragment",
        "http://testserver/a/../../callback",
        "",
    ],
)
def test_redirect_uri_outside_the_application_gets_an_error_page_not_a_redirect(
    client, redirect_uri
):
    _, challenge = pkce_pair()
    response = open_page(client, challenge, redirect_uri=redirect_uri)
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "redirect_uri" in response.text
    assert '<html lang="fr">' in response.text


@pytest.mark.parametrize("client_id", ["someone-else", "", None])
def test_unknown_client_gets_an_error_page(client, client_id):
    _, challenge = pkce_pair()
    response = open_page(client, challenge, client_id=client_id)
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "Application inconnue" in response.text


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"code_challenge": None}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": "too-short"}, "invalid_request"),
        ({"scope": "profile"}, "invalid_request"),
        ({"response_type": None}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"prompt": "none"}, "login_required"),
    ],
)
def test_invalid_requests_go_back_to_the_client_with_an_error(client, overrides, error):
    _, challenge = pkce_pair()
    response = open_page(client, challenge, **overrides)
    assert response.status_code == 302
    assert response.location.startswith(REDIRECT + "?")
    query = query_of(response.location)
    assert query["error"] == error
    assert query["state"] == "state-123"
    assert "code" not in query


def test_redirect_uri_query_is_kept(client):
    verifier, challenge = pkce_pair()
    redirect_uri = f"{BASE}/auth/luxtrust/callback?for=enrolment"
    page = open_page(client, challenge, redirect_uri=redirect_uri)
    response = submit(client, authz_of(page.text), device="mobile", persona="laura")
    assert response.location.startswith(redirect_uri + "&code=")
    code = query_of(response.location)["code"]
    assert exchange(client, code, verifier, redirect_uri=redirect_uri).status_code == 200


def test_tampered_form_blob_is_refused(client):
    _, challenge = pkce_pair()
    authz = authz_of(open_page(client, challenge).text)
    forged = URLSafeSerializer("attacker-key", salt="luxtrust-simulator-authorize-form").dumps(
        {
            "client_id": CLIENT_ID,
            "redirect_uri": "http://evil.example/",
            "state": "x",
            "nonce": None,
            "code_challenge": challenge,
            "exp": int(time.time()) + 600,
        }
    )
    for blob in [authz[:-2] + ("AA" if not authz.endswith("AA") else "BB"), forged, "", "garbage"]:
        response = submit(client, blob, device="mobile", persona="marie")
        assert response.status_code == 400
        assert "Location" not in response.headers
    missing = client.post(f"{ISSUER_PATH}/authorize", data={"device": "mobile"})
    assert missing.status_code == 400


def test_login_page_left_open_too_long_is_refused(client, monkeypatch):
    _, challenge = pkce_pair()
    authz = authz_of(open_page(client, challenge).text)
    later = int(time.time()) + simulator.FORM_LIFETIME + 1
    monkeypatch.setattr(simulator, "_now", lambda: later)
    response = submit(client, authz, device="mobile", persona="marie")
    assert response.status_code == 400
    assert "expiré" in response.text


# --- the token endpoint -----------------------------------------------------------------------


def test_a_code_works_once(client):
    code, verifier = login(client)
    assert exchange(client, code, verifier).status_code == 200
    replay = exchange(client, code, verifier)
    assert replay.status_code == 400
    assert replay.get_json()["error"] == "invalid_grant"


def test_wrong_code_verifier_is_refused_and_does_not_burn_the_code(client):
    code, verifier = login(client)
    other, _ = pkce_pair()
    for bad in [other, "", "short"]:
        response = exchange(client, code, bad)
        assert response.status_code == 400
        assert response.get_json()["error"] == "invalid_grant"
    assert exchange(client, code, verifier).status_code == 200


def test_wrong_client_secret_is_401(client):
    code, verifier = login(client)
    for basic in (True, False):
        response = exchange(client, code, verifier, basic=basic, secret="wrong")
        assert response.status_code == 401
        assert response.get_json()["error"] == "invalid_client"
    anonymous = client.post(
        f"{ISSUER_PATH}/token",
        data={"grant_type": "authorization_code", "code": code, "code_verifier": verifier},
    )
    assert anonymous.status_code == 401
    assert exchange(client, code, verifier).status_code == 200, "the code was not spent"


def test_redirect_uri_must_match_at_the_token_endpoint(client):
    code, verifier = login(client)
    response = exchange(client, code, verifier, redirect_uri=f"{BASE}/other")
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"


def test_expired_code_is_refused(client, monkeypatch):
    code, verifier = login(client)
    later = int(time.time()) + simulator.CODE_LIFETIME + 2
    monkeypatch.setattr(simulator, "_now", lambda: later)
    response = exchange(client, code, verifier)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"


def test_forged_or_garbage_codes_are_refused(client):
    _, verifier = login(client)
    for code in ["garbage", "", "x" * 500]:
        response = exchange(client, code, verifier)
        assert response.status_code == 400
        assert response.get_json()["error"] in ("invalid_grant", "invalid_request")
    wrong_grant = client.post(
        f"{ISSUER_PATH}/token",
        data={
            "grant_type": "password",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
    )
    assert wrong_grant.status_code == 400
    assert wrong_grant.get_json()["error"] == "unsupported_grant_type"


def test_userinfo_needs_a_valid_access_token(client, monkeypatch):
    for headers in [{}, {"Authorization": "Bearer forged"}, {"Authorization": "Basic abc"}]:
        response = client.get(f"{ISSUER_PATH}/userinfo", headers=headers)
        assert response.status_code == 401
        assert "invalid_token" in response.headers["WWW-Authenticate"]
    code, verifier = login(client)
    access = exchange(client, code, verifier).get_json()["access_token"]
    later = int(time.time()) + simulator.TOKEN_LIFETIME + 2
    monkeypatch.setattr(simulator, "_now", lambda: later)
    expired = client.get(f"{ISSUER_PATH}/userinfo", headers={"Authorization": f"Bearer {access}"})
    assert expired.status_code == 401


# --- interoperability: authlib's own client over real HTTP ------------------------------------


def test_authlib_client_completes_the_flow_over_http():
    import werkzeug.serving
    from authlib.integrations.requests_client import OAuth2Session
    from authlib.oidc.core import UserInfo

    server = werkzeug.serving.make_server("127.0.0.1", 0, flask.Flask(__name__), threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app = make_app(make_settings(base_url=base))
    server.app = app
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        issuer = base + ISSUER_PATH
        meta = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=5).json()
        redirect_uri = f"{base}/auth/luxtrust/callback"
        session = OAuth2Session(
            CLIENT_ID,
            CLIENT_SECRET,
            scope="openid profile",
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
        )
        verifier = secrets.token_urlsafe(48)
        url, state = session.create_authorization_url(
            meta["authorization_endpoint"], code_verifier=verifier, nonce="n-1"
        )
        browser = requests.Session()
        page = browser.get(url, timeout=5)
        assert page.status_code == 200
        back = browser.post(
            meta["authorization_endpoint"],
            data={"authz": authz_of(page.text), "device": "mobile", "persona": "anne"},
            allow_redirects=False,
            timeout=5,
        )
        assert back.status_code == 302
        token = session.fetch_token(
            meta["token_endpoint"],
            authorization_response=back.headers["Location"],
            code_verifier=verifier,
            state=state,
        )
        keys = KeySet.import_key_set(requests.get(meta["jwks_uri"], timeout=5).json())
        decoded = jwt.decode(token["id_token"], keys, algorithms=["ES256"])
        claims = CodeIDToken(
            decoded.claims,
            decoded.header,
            {"iss": {"values": [issuer]}},
            {"nonce": "n-1", "client_id": CLIENT_ID, "access_token": token["access_token"]},
        )
        claims.validate(leeway=30)
        assert UserInfo(claims)["family_name"] == "DANGELO"
        info = session.get(meta["userinfo_endpoint"], timeout=5).json()
        assert info["sub"] == claims["sub"] == PERSONAS_BY_KEY["anne"].subject
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
