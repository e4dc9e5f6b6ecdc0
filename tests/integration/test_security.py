"""Web hardening (issue #7, points 2 to 4): CSRF, Origin checks, cookies, security headers
with a Content-Security-Policy that Dash works under, and rate limits.

Every request goes through the real Flask/Dash server (its test client): what is checked is
what the server answers to anyone who can reach it. The browser side of the CSP (no
violation reported by Chromium on the real pages) is tests/e2e/test_csp.py.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets

import pytest
from sqlalchemy import func, select

from dashboard import security
from dashboard.app import create_app
from dashboard.config import Settings
from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment import matricule
from dashboard.enrolment.model import Enrolment, Event, OutboxEmail
from tests import dashclient as dc
from tests import factories as f

EVIL = "https://evil.example"
TOO_MANY = "Trop de tentatives. Patientez quelques minutes avant de réessayer."
STAFF_EMAIL = "rita@esante.lu"
STAFF_PASSWORD = "correct horse battery staple"  # what tests/factories.reviewer() sets
CGU_OUTPUTS = [("cgu-nav", "href"), ("cgu-accepted-error", "children")]
MATRICULE_OUTPUTS = [
    ("matricule-nav", "href"),
    ("matricule-input-error", "children"),
    ("matricule-input", "invalid"),
]
PRODUCTION_URL = "https://enrolment.esante.example"


# --- helpers -------------------------------------------------------------------------------------


def _body(outputs, inputs, state=(), triggered=None) -> str:
    """The JSON body the renderer posts to /_dash-update-component (as tests/dashclient)."""
    return json.dumps(
        {
            "output": dc.output_key(outputs),
            "outputs": [{"id": i, "property": p} for i, p in outputs]
            if len(outputs) > 1
            else {"id": outputs[0][0], "property": outputs[0][1]},
            "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs],
            "changedPropIds": [triggered or f"{inputs[0][0]}.{inputs[0][1]}"],
            "state": [{"id": i, "property": p, "value": v} for i, p, v in state],
        }
    )


def _cgu_body() -> str:
    return _body(
        CGU_OUTPUTS,
        [("cgu-submit", "n_clicks", 1)],
        [("cgu-accepted", "value", True), ("cgu-version", "data", "2024-01")],
    )


def _post(client, body: str, **headers):
    return client.post(
        "/_dash-update-component",
        data=body,
        content_type="application/json",
        headers={k.replace("_", "-"): v for k, v in headers.items() if v is not None},
    )


def _state(backend, enrolment_id) -> str:
    with backend.uow() as uow:
        return uow.session.get(Enrolment, enrolment_id).state


def _counts(backend) -> tuple[int, int, int]:
    with backend.uow() as uow:
        return (
            uow.session.scalar(select(func.count(Enrolment.id))),
            uow.session.scalar(select(func.count(Event.id))),
            uow.session.scalar(select(func.count(OutboxEmail.id))),
        )


def _set_cookie(response, name: str) -> dict:
    """The attributes of the Set-Cookie header for `name` ({'httponly': True, ...})."""
    for header in response.headers.getlist("Set-Cookie"):
        if header.split("=", 1)[0] == name:
            attrs = {"value": header.split("=", 1)[1].split(";", 1)[0]}
            for part in header.split(";")[1:]:
                key, _, value = part.strip().partition("=")
                attrs[key.lower()] = value or True
            return attrs
    raise AssertionError(f"no Set-Cookie for {name}: {response.headers.getlist('Set-Cookie')}")


def _secretary(app, token: str):
    """A browser that opened the invitation link and pressed « Commencer »."""
    client = app.server.test_client()
    assert client.get(f"/enrolment/invitation/{token}").status_code == 303
    started = dc.call(
        client,
        [("start-nav", "href"), ("start-error", "children")],
        [("start-button", "n_clicks", 1)],
    )
    assert dc.values(started)[("start-nav", "href")] == "/enrolment/conditions"
    return client


def _as_professional(app, prof_id: int):
    return f.signed_in(app.server.test_client(), "professional", prof_id)


def _staff_login(client, email=STAFF_EMAIL, password=STAFF_PASSWORD, token=None, **kw):
    data = {"email": email, "password": password}
    if token is not False:
        data["csrf_token"] = token if token is not None else dc.csrf_token(client)
    return client.post("/backoffice/login", data=data, **kw)


@pytest.fixture
def world(sqlite_backend):
    be = sqlite_backend
    prof = f.professional(be)
    declared = f.declare(be, prof)
    f.reviewer(be, email=STAFF_EMAIL, roles=("reviewer", "manager"))
    return {
        "backend": be,
        "prof": prof,
        "declared": declared,
        "app": create_app(be.settings, backend=be),
    }


def _production_settings(backend, **changes) -> Settings:
    """Settings that pass check() in production (check() sees a PostgreSQL URL). The engine
    stays the test's SQLite one, as create_app takes the backend given: what is checked with
    it (cookie flags, headers) does not depend on the database."""
    settings = Settings(
        env="production",
        database_url="postgresql://esante@db.esante.invalid:5432/esante",
        secret_key=secrets.token_urlsafe(48),
        base_url=PRODUCTION_URL,
        smtp_url="smtp://127.0.0.1:2525",
        oidc_issuer="https://login.luxtrust.example",
        oidc_client_id="esante-enrolment",
        oidc_client_secret="broker-secret",
        scim_url="https://idp.esante.invalid/scim/v2",
        scim_token="a-bearer-token-from-the-identity-platform",
    ).replace(**changes)
    return settings.check()


@pytest.fixture
def production_app(sqlite_backend):
    """The app as production builds it (Secure cookies, HSTS, no simulator)."""
    return create_app(_production_settings(sqlite_backend), backend=sqlite_backend)


# --- 2. CSRF -------------------------------------------------------------------------------------


def _tampered(token: str) -> str:
    return token[:-2] + ("AA" if not token.endswith("AA") else "BB")


@pytest.mark.parametrize(
    "header", ["missing", "empty", "garbage", "tampered", "other-session", "old-session-cookie"]
)
def test_a_callback_without_the_right_csrf_header_is_refused_and_changes_nothing(world, header):
    be, app = world["backend"], world["app"]
    client = _secretary(app, world["declared"].token)
    good = dc.csrf_token(client)
    stranger = app.server.test_client()
    values = {
        "missing": None,
        "empty": "",
        "garbage": "not-a-token",
        "tampered": _tampered(good),
        # A well-signed token, but bound to another browser's session.
        "other-session": dc.csrf_token(stranger),
        # The CSRF cookie value itself, sent as the header after the session was replaced:
        # tokens are bound to the session's secret, not only to the cookie.
        "old-session-cookie": good,
    }
    if header == "old-session-cookie":
        with client.session_transaction() as s:
            s["csrf_token"] = secrets.token_hex(20)
    before = _counts(be)
    response = _post(client, _cgu_body(), X_CSRFToken=values[header])
    assert response.status_code == 400, response.data[:200]
    assert b"CSRF" in response.data
    assert _state(be, world["declared"].enrolment_id) == lc.DECLARED
    assert _counts(be) == before


def test_the_same_callback_with_the_renderers_header_works(world):
    be, app = world["backend"], world["app"]
    client = _secretary(app, world["declared"].token)
    # Exactly what Dash's renderer does: read the _csrf_token cookie, echo it as X-CSRFToken.
    response = _post(client, _cgu_body(), X_CSRFToken=client.get_cookie("_csrf_token").value)
    assert response.status_code == 200, response.data[:300]
    assert dc.values(response)[("cgu-nav", "href")] == "/enrolment/matricule"
    assert _state(be, world["declared"].enrolment_id) == lc.CGU_ACCEPTED


def test_a_declaration_posted_without_the_csrf_header_stores_nothing(world):
    be, app = world["backend"], world["app"]
    client = _as_professional(app, world["prof"])
    fields = {
        "decl-last-name": "Weber",
        "decl-first-names": "Laura",
        "decl-matricule": matricule.make("19900203", "456"),
        "decl-email": "laura.weber@example.lu",
        "decl-email-confirm": "laura.weber@example.lu",
        "decl-phone": "",
    }
    outputs = [("decl-summary", "children"), ("decl-result", "children")]
    outputs += [(f"{i}-error", "children") for i in fields] + [(i, "invalid") for i in fields]
    body = _body(
        outputs,
        [("decl-submit", "n_clicks", 1)],
        [(i, "value", v) for i, v in fields.items()] + [("decl-correcting", "data", None)],
    )
    before = _counts(be)
    assert _post(client, body).status_code == 400
    assert _post(client, body, X_CSRFToken="forged").status_code == 400
    assert _counts(be) == before
    done = _post(client, body, X_CSRFToken=dc.csrf_token(client))
    assert done.status_code == 200
    assert "enregistrée" in dc.values(done)[("decl-result", "children")]
    assert _counts(be)[0] == before[0] + 1


def _post_routes(app):
    """Every route that accepts POST, except the simulator (a separate party, exempt)."""
    for rule in app.server.url_map.iter_rules():
        if "POST" in rule.methods and not rule.endpoint.startswith("luxtrust_simulator."):
            assert not rule.arguments, rule.rule  # none takes a path argument today
            yield rule.rule


def test_every_post_route_requires_the_csrf_token(world):
    app = world["app"]
    routes = list(_post_routes(app))
    assert {"/_dash-update-component", "/backoffice/login", "/enrolment/quitter"} <= set(routes)
    for route in routes:
        client = _secretary(app, world["declared"].token)
        response = client.post(route, data={"email": STAFF_EMAIL})
        assert response.status_code == 400, route
        # Nothing happened: the secretary's session is intact (no logout by forged POST).
        with client.session_transaction() as s:
            assert s.get("enrolment"), route


def test_staff_login_without_csrf_token_is_refused(world):
    app = world["app"]
    client = app.server.test_client()
    assert _staff_login(client, token=False).status_code == 400
    assert _staff_login(client, token="forged").status_code == 400
    assert _staff_login(client, token=dc.csrf_token(app.server.test_client())).status_code == 400
    with client.session_transaction() as s:
        assert "_user_id" not in s
    # The token the login page puts in its hidden field works.
    page = dc.render_page(client, "/backoffice/connexion").get_json()
    [token] = [
        c["props"]["value"] for c in dc.components(page) if c["props"].get("name") == "csrf_token"
    ]
    ok = _staff_login(client, token=token)
    assert ok.status_code == 303 and ok.headers["Location"] == "/backoffice"
    with client.session_transaction() as s:
        assert s["_user_id"].startswith("staff:")


# --- 2. Origin and Fetch metadata ----------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": EVIL},
        {"Origin": "null"},
        {"Origin": "http://testserver.evil.example"},
        {"Origin": "https://testserver"},  # another scheme is another origin
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "http://testserver", "Sec-Fetch-Site": "cross-site"},
    ],
    ids=["evil", "null", "suffix", "https", "fetch-cross-site", "same-origin-but-cross-site"],
)
def test_a_cross_site_post_is_refused_even_with_a_valid_token(world, headers):
    be, app = world["backend"], world["app"]
    client = _secretary(app, world["declared"].token)
    token = dc.csrf_token(client)
    before = _counts(be)
    response = client.post(
        "/_dash-update-component",
        data=_cgu_body(),
        content_type="application/json",
        headers={"X-CSRFToken": token, **headers},
    )
    assert response.status_code == 403
    assert _state(be, world["declared"].enrolment_id) == lc.DECLARED
    assert _counts(be) == before
    # The login form and the logouts too.
    login = _staff_login(app.server.test_client(), headers=headers)
    assert login.status_code == 403
    leave = client.post("/enrolment/quitter", data={"csrf_token": token}, headers=headers)
    assert leave.status_code == 403
    with client.session_transaction() as s:
        assert s.get("enrolment")


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://testserver"},
        {"Sec-Fetch-Site": "same-origin"},
        {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"},
        {},  # old browsers send neither: the CSRF token alone decides
    ],
)
def test_a_same_origin_post_goes_through(world, headers):
    be, app = world["backend"], world["app"]
    client = _secretary(app, world["declared"].token)
    response = client.post(
        "/_dash-update-component",
        data=_cgu_body(),
        content_type="application/json",
        headers={"X-CSRFToken": dc.csrf_token(client), **headers},
    )
    assert response.status_code == 200
    assert _state(be, world["declared"].enrolment_id) == lc.CGU_ACCEPTED


def test_only_the_simulator_is_exempt_from_the_origin_check(world):
    """The simulator's token endpoint is called server to server: no Origin check, no CSRF
    token (it answers as an OAuth server would), and it is absent in production."""
    client = world["app"].server.test_client()
    response = client.post(
        "/simulator/luxtrust/token",
        data={"grant_type": "authorization_code", "code": "x"},
        headers={"Origin": EVIL},
    )
    assert response.status_code != 403
    assert response.is_json  # an OAuth error document, not the CSRF/Origin refusal page
    assert b"CSRF" not in response.data


# --- 2. cookies ----------------------------------------------------------------------------------


def test_session_and_csrf_cookies_outside_production(world):
    client = world["app"].server.test_client()
    home = client.get("/")
    csrf = _set_cookie(home, "_csrf_token")
    assert csrf["samesite"] == "Strict"
    assert "httponly" not in csrf  # Dash's renderer must read it to echo it
    assert "secure" not in csrf  # plain http in development and tests
    link = client.get(f"/enrolment/invitation/{world['declared'].token}")
    session = _set_cookie(link, "esante_session")
    assert session.get("httponly") is True
    assert session["samesite"] == "Lax"
    assert "secure" not in session
    assert world["declared"].token not in session["value"]  # only its hash is kept
    # The staff login's fresh session carries the same flags.
    login = _staff_login(client)
    assert login.status_code == 303
    after = _set_cookie(login, "esante_session")
    assert after.get("httponly") is True and after["samesite"] == "Lax"
    assert "remember_token" not in login.headers.get("Set-Cookie", "")


def test_cookies_are_secure_in_production(production_app, sqlite_backend):
    f.reviewer(sqlite_backend, email=STAFF_EMAIL)
    client = production_app.server.test_client()
    home = client.get("/", base_url=PRODUCTION_URL)
    csrf = _set_cookie(home, "_csrf_token")
    assert csrf.get("secure") is True and csrf["samesite"] == "Strict"
    link = client.get("/enrolment/invitation/" + "t" * 43, base_url=PRODUCTION_URL)
    session = _set_cookie(link, "esante_session")
    assert session.get("secure") is True
    assert session.get("httponly") is True and session["samesite"] == "Lax"
    login = _staff_login(
        client,
        token=client.get_cookie("_csrf_token", domain="enrolment.esante.example").value,
        base_url=PRODUCTION_URL,
        headers={"Origin": PRODUCTION_URL},
    )
    assert login.status_code == 303, login.data[:200]
    after = _set_cookie(login, "esante_session")
    assert after.get("secure") is True and after.get("httponly") is True
    assert after["samesite"] == "Lax"


# --- 3. headers ----------------------------------------------------------------------------------


def _directives(policy: str) -> dict[str, list[str]]:
    out = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def _inline_script_hashes(html: str) -> set[str]:
    """sha256 of every inline <script> the browser would run, in CSP source syntax (not
    those inside an HTML comment, such as Dash's IE warning, nor JSON data blocks)."""
    hashes = set()
    html = re.sub(r"<!--.*?-->", "", html, flags=re.S)
    for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S):
        kind = re.search(r'type="([^"]+)"', attrs)
        if "src=" in attrs or not body or (kind and "javascript" not in kind.group(1)):
            continue
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        hashes.add(f"'sha256-{digest}'")
    return hashes


def _assert_hardened(app, response, *, referrer="same-origin", hsts=False, csp=True):
    h = response.headers
    where = f"{response.request.method} {response.request.path} → {response.status_code}"
    assert h.get("X-Frame-Options") == "DENY", where
    assert h.get("X-Content-Type-Options") == "nosniff", where
    assert h.get("Referrer-Policy") == referrer, where
    assert h.get("Cross-Origin-Opener-Policy") == "same-origin", where
    assert "camera=()" in h.get("Permissions-Policy", ""), where
    if hsts:
        hsts_value = h.get("Strict-Transport-Security", "")
        max_age = int(re.search(r"max-age=(\d+)", hsts_value).group(1))
        assert max_age >= 31536000 and "includeSubDomains" in hsts_value, where
    else:
        assert "Strict-Transport-Security" not in h, where
    if not csp:
        return
    policy = _directives(h.get("Content-Security-Policy", ""))
    assert policy, f"no CSP on {where}"
    script_src = policy["script-src"]
    for digest in app.csp_hashes():
        assert digest in script_src, (where, digest)
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src, where
    assert not any(s.startswith(("'nonce-", "*", "http:", "https:", "data:")) for s in script_src)
    assert policy["frame-ancestors"] == ["'none'"], where
    assert policy["object-src"] == ["'none'"], where
    assert policy["default-src"] == ["'self'"], where
    assert policy["base-uri"] == ["'self'"], where
    assert "*" not in policy["connect-src"], where


def _responses(app, backend, *, base_url="http://testserver", origin="http://testserver"):
    """A page, Dash's JSON endpoints, a callback, a redirect, a 404, the health check."""
    client = app.server.test_client()
    get = lambda path: client.get(path, base_url=base_url)  # noqa: E731
    out = {
        "page": get("/"),
        "page-deep": get("/backoffice/connexion"),
        "layout": get("/_dash-layout"),
        "dependencies": get("/_dash-dependencies"),
        "health": get("/healthz"),
        "not-found": get("/nothing/here.php"),
        "asset": get("/assets/style.css"),
    }
    token = client.get_cookie("_csrf_token", domain=base_url.split("//")[1]).value
    out["callback"] = client.post(
        "/_dash-update-component",
        data=_body(
            [("_pages_content", "children"), ("_pages_store", "data")],
            [("_pages_location", "pathname", "/"), ("_pages_location", "search", "")],
        ),
        content_type="application/json",
        headers={"X-CSRFToken": token, "Origin": origin},
        base_url=base_url,
    )
    out["csrf-refusal"] = client.post(
        "/_dash-update-component", data="{}", content_type="application/json", base_url=base_url
    )
    out["login-redirect"] = _staff_login(
        client, "nobody@esante.lu", "x", token=token, base_url=base_url, headers={"Origin": origin}
    )
    return client, out


def test_security_headers_on_every_kind_of_response(world):
    app = world["app"]
    client, responses = _responses(app, world["backend"])
    assert responses["page"].status_code == 200
    assert responses["callback"].status_code == 200
    assert responses["not-found"].status_code in (200, 404)  # Dash's 404 page or Flask's
    assert responses["csrf-refusal"].status_code == 400
    for name, response in responses.items():
        referrer = "no-referrer" if name == "login-redirect" else "same-origin"
        _assert_hardened(app, response, referrer=referrer)
    # The emailed link: its token must never leave in a Referer header.
    link = client.get(f"/enrolment/invitation/{world['declared'].token}")
    assert link.status_code == 303
    _assert_hardened(app, link, referrer="no-referrer")
    assert link.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/", "/backoffice/connexion", "/enrolment/debut"])
def test_the_policy_allows_exactly_the_inline_scripts_dash_writes(world, path):
    """Every inline <script> of the page has its hash in script-src, and nothing else
    inline is allowed (the hashes of app.csp_hashes() are the page's scripts)."""
    app = world["app"]
    page = app.server.test_client().get(path)
    inline = _inline_script_hashes(page.get_data(as_text=True))
    assert inline, "Dash writes its config and renderer start-up inline"
    script_src = set(_directives(page.headers["Content-Security-Policy"])["script-src"])
    assert inline <= script_src
    assert inline <= set(app.csp_hashes())


def test_the_policy_is_complete_when_the_first_request_is_not_a_page(sqlite_backend):
    """The policy is built once, at the first response: a health check or a callback
    arriving first must not freeze a policy that lacks Dash's page scripts."""
    app = create_app(sqlite_backend.settings, backend=sqlite_backend)
    client = app.server.test_client()
    first = client.get("/healthz")
    page = client.get("/")
    inline = _inline_script_hashes(page.get_data(as_text=True))
    for response in (first, page):
        assert inline <= set(_directives(response.headers["Content-Security-Policy"])["script-src"])


def test_production_adds_hsts_everywhere(production_app, sqlite_backend):
    _client, responses = _responses(
        production_app, sqlite_backend, base_url=PRODUCTION_URL, origin=PRODUCTION_URL
    )
    assert responses["callback"].status_code == 200
    for name, response in responses.items():
        referrer = "no-referrer" if name == "login-redirect" else "same-origin"
        _assert_hardened(production_app, response, referrer=referrer, hsts=True)
    policy = _directives(responses["page"].headers["Content-Security-Policy"])
    # The login form posts to our own routes; the provider is the only other form target.
    assert policy["form-action"] == ["'self'", "https://login.luxtrust.example"]


def test_production_serves_no_simulator(production_app):
    client = production_app.server.test_client()
    discovery = client.get(
        "/simulator/luxtrust/.well-known/openid-configuration", base_url=PRODUCTION_URL
    )
    assert not discovery.is_json  # Dash's catch-all page, not an OpenID provider


# --- 4. rate limits ------------------------------------------------------------------------------


def test_the_limiter_keeps_its_counters_in_memory_by_default(world):
    limiter = world["app"].server.extensions["esante_limiter"]
    assert type(limiter.storage).__name__ == "MemoryStorage"
    assert world["app"].server.config["RATELIMIT_STORAGE_URI"] == "memory://"


def test_the_eleventh_staff_login_in_a_minute_is_refused_in_french(world):
    client = world["app"].server.test_client()
    for attempt in range(10):
        response = _staff_login(client, "nobody@esante.lu", f"wrong {attempt}")
        assert response.status_code == 303, attempt
    # The 11th is refused before the password is even looked at: the right one too.
    refused = _staff_login(client)
    assert refused.status_code == 429
    assert refused.get_data(as_text=True) == TOO_MANY
    assert refused.headers["Retry-After"]
    with client.session_transaction() as s:
        assert "_user_id" not in s
    with world["backend"].uow() as uow:
        failures = uow.session.scalar(
            select(func.count(Event.id)).where(Event.action == "staff_login_failed")
        )
        assert failures == 10  # the 11th was never looked at


def test_matricule_attempts_beyond_twenty_a_minute_get_the_message_and_cost_nothing(world):
    be = world["backend"]
    eid, th = f.walk_to(
        be, world["prof"], lc.CGU_ACCEPTED, matricule=matricule.make("19920304", "222")
    )
    client = f.signed_in(world["app"].server.test_client(), "enrolment", eid, token_hash=th)
    for attempt in range(20):
        out = dc.values(
            dc.call(
                client,
                MATRICULE_OUTPUTS,
                [
                    ("matricule-submit", "n_clicks", attempt + 1),
                    ("matricule-input", "n_submit", None),
                ],
                [("matricule-input", "value", "1234")],
            )
        )
        assert "13 chiffres" in out[("matricule-input-error", "children")], attempt
    events_before = _counts(be)[1]
    wrong = matricule.make("19920304", "223")
    for typed in (wrong, matricule.make("19920304", "222")):  # wrong, then even the right one
        response = dc.call(
            client,
            MATRICULE_OUTPUTS,
            [("matricule-submit", "n_clicks", 30), ("matricule-input", "n_submit", None)],
            [("matricule-input", "value", typed)],
        )
        assert response.status_code == 200
        out = dc.values(response)
        assert out[("matricule-input-error", "children")] == TOO_MANY
        assert out[("matricule-input", "invalid")] is True
        assert ("matricule-nav", "href") not in out
    with be.uow() as uow:
        enrolment = uow.session.get(Enrolment, eid)
        assert enrolment.wrong_matricule_count == 0
        assert enrolment.state == lc.CGU_ACCEPTED
    assert _counts(be)[1] == events_before


def _resend(app, client, enrolment_id):
    [key] = [k for k in app.callback_map if "decl-action-message.children" in k]
    grid_prop = key.split("declarations-grid.", 1)[1].rstrip(".")
    return dc.call(
        client,
        [
            ("decl-action-message", "children"),
            ("decl-action-message", "color"),
            ("declarations-grid", grid_prop),
        ],
        [("decl-resend", "n_clicks", 1), ("decl-cancel-confirm", "submit_n_clicks", None)],
        state=[("declarations-grid", "selectedRows", [{"id": enrolment_id}])],
        triggered="decl-resend.n_clicks",
    )


def test_resends_beyond_twenty_an_hour_get_the_message(sqlite_backend):
    be = sqlite_backend
    # The service's own limit (RESENDS_PER_DAY) is raised, so only the web limit can refuse.
    settings = be.settings.replace(resends_per_day=100)
    be.settings = settings
    prof = f.professional(be)
    declared = f.declare(be, prof)
    app = create_app(settings, backend=be)
    client = _as_professional(app, prof)
    for attempt in range(20):
        out = dc.values(_resend(app, client, declared.enrolment_id))
        assert out[("decl-action-message", "color")] == "success", (attempt, out)
    with be.uow() as uow:
        token_hash = uow.session.get(Enrolment, declared.enrolment_id).token_hash
    before = _counts(be)
    response = _resend(app, client, declared.enrolment_id)
    assert response.status_code == 200
    out = dc.values(response)
    assert out[("decl-action-message", "children")] == TOO_MANY
    assert out[("decl-action-message", "color")] == "warning"
    assert _counts(be) == before
    with be.uow() as uow:
        assert uow.session.get(Enrolment, declared.enrolment_id).token_hash == token_hash


@pytest.mark.parametrize(
    "path", ["/auth/luxtrust/login?for=enrolment", "/auth/luxtrust/callback?state=x&code=y"]
)
def test_luxtrust_logins_and_callbacks_beyond_thirty_a_minute_get_429(world, path):
    client = world["app"].server.test_client()
    for attempt in range(30):
        # Without a started enrolment / login, both answer at once with a redirect: no
        # provider is contacted, only the limit is exercised.
        assert client.get(path).status_code == 303, attempt
    refused = client.get(path)
    assert refused.status_code == 429
    assert refused.get_data(as_text=True) == TOO_MANY
    # Another client address is not held back by this one.
    other = client.get(path, environ_base={"REMOTE_ADDR": "10.1.1.1"})
    assert other.status_code == 303


def _redis():
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis at {REDIS_URL} ({exc}); under CI=true this skip fails")
    return client


# Another address lets a run check that the suite passes on a machine without Redis.
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def test_two_app_instances_share_the_limit_through_redis(sqlite_backend):
    redis = _redis()
    redis.flushdb()
    try:
        settings = sqlite_backend.settings.replace(ratelimit_storage_uri=REDIS_URL)
        one = create_app(settings, backend=sqlite_backend).server.test_client()
        two = create_app(settings, backend=sqlite_backend).server.test_client()
        for attempt in range(5):
            assert _staff_login(one, "nobody@esante.lu", "x").status_code == 303, attempt
            assert _staff_login(two, "nobody@esante.lu", "x").status_code == 303, attempt
        assert redis.keys("*staff_login*"), "the counters live in Redis"
        for client in (one, two):
            refused = _staff_login(client, "nobody@esante.lu", "x")
            assert refused.status_code == 429
            assert refused.get_data(as_text=True) == TOO_MANY
    finally:
        redis.flushdb()
        redis.close()


def test_behind_a_trusted_proxy_each_client_has_its_own_counter(sqlite_backend):
    settings = sqlite_backend.settings.replace(trusted_proxies=1)
    client = create_app(settings, backend=sqlite_backend).server.test_client()

    def login(forwarded_for):
        return _staff_login(
            client, "nobody@esante.lu", "x", headers={"X-Forwarded-For": forwarded_for}
        )

    for attempt in range(10):
        assert login("203.0.113.1").status_code == 303, attempt
    assert login("203.0.113.1").status_code == 429
    assert login("203.0.113.2").status_code == 303  # another client behind the same proxy
    # Only the address the trusted proxy appended counts: a client cannot pick its own.
    assert login("198.51.100.9, 203.0.113.1").status_code == 429


def test_without_trusted_proxies_forwarded_for_is_ignored(world):
    client = world["app"].server.test_client()
    for attempt in range(10):
        forged = f"203.0.113.{attempt}"
        response = _staff_login(
            client, "nobody@esante.lu", "x", headers={"X-Forwarded-For": forged}
        )
        assert response.status_code == 303, attempt
    refused = _staff_login(
        client, "nobody@esante.lu", "x", headers={"X-Forwarded-For": "203.0.113.99"}
    )
    assert refused.status_code == 429


def test_the_named_limits_are_the_documented_ones():
    assert security.LIMITS == {
        "staff_login": "10 per minute; 50 per hour",
        "matricule": "20 per minute; 100 per hour",
        "luxtrust": "30 per minute",
        "resend": "20 per hour",
    }


def test_each_named_limit_counts_on_its_own(world):
    """Exhausting one named limit (resends) leaves the others (matricule) untouched, and
    the refusal says when to come back."""
    from dashboard import security

    app = world["app"].server
    app.extensions["esante_limiter"].reset()
    resends = int(security.LIMITS["resend"].split()[0])
    with app.test_request_context("/", environ_base={"REMOTE_ADDR": "10.9.9.9"}):
        for _ in range(resends):
            security.check_limit("resend")
        with pytest.raises(security.LimitReached) as refused:
            security.check_limit("resend")
        assert 1 <= refused.value.retry_after <= 3600
        security.check_limit("matricule")  # its own counter: not refused
    with app.test_request_context("/", environ_base={"REMOTE_ADDR": "10.9.9.10"}):
        security.check_limit("resend")  # another client: its own counter too
