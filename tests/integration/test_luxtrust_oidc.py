"""The OpenID Connect client over real HTTP: interop with an independent provider
(oidc-provider-mock), and refusal of every kind of bad answer (a faulty test provider)."""

from __future__ import annotations

import json
import re

import pytest
import requests
from oidc_provider_mock import User, run_server_in_thread

from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment.model import Enrolment, LuxTrustIdentity
from tests import factories as f
from tests.conftest import LiveServer, free_port, serve_with_issuer
from tests.dashclient import output_key
from tests.oidc_rogue import DEFECTS, RogueProvider

MARIE_CLAIMS = {"family_name": "SCHMIT", "given_name": "Marie", "birthdate": "1985-04-12"}


def dash_call(browser, base, outputs, inputs, state=()):
    body = {
        "output": output_key(outputs),
        "outputs": [{"id": i, "property": p} for i, p in outputs],
        "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs],
        "changedPropIds": [f"{inputs[0][0]}.{inputs[0][1]}"],
        "state": [{"id": i, "property": p, "value": v} for i, p, v in state],
    }
    response = browser.post(
        f"{base}/_dash-update-component",
        data=json.dumps(body),
        headers={
            "Content-Type": "application/json",
            "X-CSRFToken": browser.cookies.get("_csrf_token", ""),
        },
    )
    response.raise_for_status()
    return response.json()["response"]


def up_to_luxtrust(browser, base, token) -> None:
    """The secretary's steps before LuxTrust, as her browser would post them."""
    assert browser.get(f"{base}/enrolment/invitation/{token}").ok
    dash_call(
        browser,
        base,
        [("start-nav", "href"), ("start-error", "children")],
        [("start-button", "n_clicks", 1)],
    )
    dash_call(
        browser,
        base,
        [("cgu-nav", "href"), ("cgu-accepted-error", "children")],
        [("cgu-submit", "n_clicks", 1)],
        [("cgu-accepted", "value", True), ("cgu-version", "data", "2024-01")],
    )
    out = dash_call(
        browser,
        base,
        [
            ("matricule-nav", "href"),
            ("matricule-input-error", "children"),
            ("matricule-input", "invalid"),
        ],
        [("matricule-submit", "n_clicks", 1), ("matricule-input", "n_submit", None)],
        [("matricule-input", "value", f.MARIE["matricule"])],
    )
    assert out["matricule-nav"]["href"] == "/enrolment/luxtrust"


def _state(backend, enrolment_id):
    with backend.uow() as uow:
        return uow.session.get(Enrolment, enrolment_id).state


def _served(sqlite_backend, issuer: str):
    return serve_with_issuer(sqlite_backend, issuer)


def test_code_flow_against_an_independent_provider(sqlite_backend):
    users = [User(sub="lt-marie", claims=MARIE_CLAIMS)]
    with run_server_in_thread(user_claims=users, require_nonce=True) as provider:
        issuer = f"http://127.0.0.1:{provider.server_port}"
        prof = f.professional(sqlite_backend)
        declared = f.declare(sqlite_backend, prof)
        with _served(sqlite_backend, issuer) as live:
            browser = requests.Session()
            up_to_luxtrust(browser, live.url, declared.token)
            start = browser.get(
                f"{live.url}/auth/luxtrust/login?for=enrolment", allow_redirects=False
            )
            assert start.status_code == 302
            authorize_url = start.headers["Location"]
            assert authorize_url.startswith(f"{issuer}/oauth2/authorize")
            for param in ("code_challenge=", "code_challenge_method=S256", "state=", "nonce="):
                assert param in authorize_url
            # The person picks her identity at the provider; it redirects to our callback.
            back = browser.post(authorize_url, data={"sub": "lt-marie"}, allow_redirects=False)
            assert back.status_code == 302
            assert back.headers["Location"].startswith(f"{live.url}/auth/luxtrust/callback")
            done = browser.get(back.headers["Location"], allow_redirects=False)
            assert done.status_code == 303
            assert done.headers["Location"] == "/enrolment/resultat"
    assert _state(sqlite_backend, declared.enrolment_id) == lc.ACCOUNT_CREATED
    with sqlite_backend.uow() as uow:
        seen = uow.session.query(LuxTrustIdentity).one()
        assert (seen.subject, seen.last_name, seen.first_names) == ("lt-marie", "SCHMIT", "Marie")


@pytest.fixture
def rogue(sqlite_backend):
    provider = RogueProvider(dict(MARIE_CLAIMS, sub="lt-marie"))
    port = free_port()
    provider.issuer = f"http://127.0.0.1:{port}"
    with LiveServer(provider.app, port):
        yield provider


def _login_once(browser, live) -> str:
    start = browser.get(f"{live.url}/auth/luxtrust/login?for=enrolment", allow_redirects=False)
    at_provider = browser.get(start.headers["Location"], allow_redirects=False)
    back = browser.get(at_provider.headers["Location"], allow_redirects=False)
    return back.headers["Location"]


@pytest.mark.parametrize("defect", DEFECTS)
def test_bad_id_tokens_are_refused_and_nothing_moves(sqlite_backend, rogue, defect):
    prof = f.professional(sqlite_backend)
    declared = f.declare(sqlite_backend, prof)
    with _served(sqlite_backend, rogue.issuer) as live:
        browser = requests.Session()
        up_to_luxtrust(browser, live.url, declared.token)
        rogue.defect = defect
        assert _login_once(browser, live) == "/enrolment/luxtrust?erreur=jeton"
        assert _state(sqlite_backend, declared.enrolment_id) == lc.MATRICULE_VERIFIED
        page = browser.get(f"{live.url}/enrolment/luxtrust?erreur=jeton")
        assert page.ok
        # She retries with a good answer: it goes through.
        rogue.defect = None
        assert _login_once(browser, live) == "/enrolment/resultat"
    assert _state(sqlite_backend, declared.enrolment_id) == lc.ACCOUNT_CREATED


def test_wrong_state_and_replayed_callbacks_are_refused(sqlite_backend, rogue):
    prof = f.professional(sqlite_backend)
    declared = f.declare(sqlite_backend, prof)
    with _served(sqlite_backend, rogue.issuer) as live:
        browser = requests.Session()
        up_to_luxtrust(browser, live.url, declared.token)
        start = browser.get(f"{live.url}/auth/luxtrust/login?for=enrolment", allow_redirects=False)
        at_provider = browser.get(start.headers["Location"], allow_redirects=False)
        callback = at_provider.headers["Location"]
        forged = re.sub(r"state=[^&]+", "state=forged", callback)
        refused = browser.get(forged, allow_redirects=False)
        assert refused.headers["Location"] == "/enrolment/luxtrust?erreur=session"
        # The genuine callback after the forged one: the login was already consumed.
        replay = browser.get(callback, allow_redirects=False)
        assert "erreur=session" in replay.headers["Location"]
        # A callback from another browser that never started a login.
        stranger = requests.Session()
        up = stranger.get(callback, allow_redirects=False)
        assert "erreur=session" in up.headers["Location"]
        assert _state(sqlite_backend, declared.enrolment_id) == lc.MATRICULE_VERIFIED


def test_cancel_and_provider_error_leave_the_enrolment_ready_to_retry(sqlite_backend, rogue):
    prof = f.professional(sqlite_backend)
    declared = f.declare(sqlite_backend, prof)
    with _served(sqlite_backend, rogue.issuer) as live:
        browser = requests.Session()
        up_to_luxtrust(browser, live.url, declared.token)
        for error, code in (("access_denied", "annule"), ("server_error", "fournisseur")):
            start = browser.get(
                f"{live.url}/auth/luxtrust/login?for=enrolment", allow_redirects=False
            )
            state = re.search(r"state=([^&]+)", start.headers["Location"]).group(1)
            back = browser.get(
                f"{live.url}/auth/luxtrust/callback?error={error}&state={state}",
                allow_redirects=False,
            )
            assert back.headers["Location"] == f"/enrolment/luxtrust?erreur={code}"
        assert _state(sqlite_backend, declared.enrolment_id) == lc.MATRICULE_VERIFIED


def test_unreachable_provider_gives_a_clear_message(sqlite_backend):
    prof = f.professional(sqlite_backend)
    declared = f.declare(sqlite_backend, prof)
    with _served(sqlite_backend, f"http://127.0.0.1:{free_port()}") as live:
        browser = requests.Session()
        up_to_luxtrust(browser, live.url, declared.token)
        start = browser.get(f"{live.url}/auth/luxtrust/login?for=enrolment", allow_redirects=False)
        assert start.headers["Location"] == "/enrolment/luxtrust?erreur=indisponible"
    assert _state(sqlite_backend, declared.enrolment_id) == lc.MATRICULE_VERIFIED


def test_login_for_an_unknown_purpose_is_refused(sqlite_backend, rogue):
    with _served(sqlite_backend, rogue.issuer) as live:
        assert (
            requests.get(
                f"{live.url}/auth/luxtrust/login?for=admin", allow_redirects=False
            ).status_code
            == 400
        )
