"""LOG_FORMAT=json (issue 21): a whole journey — declared on the command line, the invitation
mailed over real SMTP, the link, the CGU, the matricule, LuxTrust (an independent OpenID
Connect provider) and "Mon compte" over real HTTP — leaves only JSON lines on stderr, each
with its time, level and logger, the requests with their id, route, status and duration,
and not one name, address, matricule or token."""

from __future__ import annotations

import json
import re

import pytest
import requests
from oidc_provider_mock import User, run_server_in_thread

from dashboard.__main__ import main
from dashboard.config import Settings
from dashboard.logs import scrub
from tests import factories as f
from tests.conftest import serve_with_issuer
from tests.dashclient import output_key

MARIE_CLAIMS = {
    "family_name": "SCHMIT",
    "given_name": "Marie",
    "birthdate": "1985-04-12",
    "matricule": f.MARIE["matricule"],
}


@pytest.fixture
def provider():
    users = [User(sub="lt-marie", claims=MARIE_CLAIMS)]
    with run_server_in_thread(user_claims=users) as server:
        yield f"http://127.0.0.1:{server.server_port}"


def _dash(browser, base, outputs, inputs, state=()):
    body = {
        "output": output_key(outputs),
        "outputs": [{"id": i, "property": p} for i, p in outputs]
        if len(outputs) > 1
        else {"id": outputs[0][0], "property": outputs[0][1]},
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
    assert response.status_code == 200, response.text[:300]
    return response.json()["response"]


def _luxtrust(browser, base, purpose) -> str:
    start = browser.get(f"{base}/auth/luxtrust/login?for={purpose}", allow_redirects=False)
    assert start.status_code == 302, start.text[:200]
    back = browser.post(start.headers["Location"], data={"sub": "lt-marie"}, allow_redirects=False)
    done = browser.get(back.headers["Location"], allow_redirects=False)
    assert done.status_code == 303
    return done.headers["Location"]


def _run(args, settings):
    assert main(args, settings=settings) == 0


def test_a_whole_journey_logs_json_lines_without_personal_data(
    backend, smtp_server, provider, capsys
):
    settings: Settings = backend.settings.replace(log_format="json", smtp_url=smtp_server.url)
    backend.settings = settings
    prof = f.professional(backend)
    data = f.MARIE
    _run(
        [
            "declare",
            "--professional",
            str(prof),
            "--last-name",
            data["last_name"],
            "--first-names",
            data["first_names"],
            "--matricule",
            data["matricule"],
            "--email",
            data["email"],
        ],
        settings,
    )
    _run(["mail", "send"], settings)
    invitation = smtp_server.inbox.wait_for(1)[0][1]
    link = re.search(
        r"https?://\S+/enrolment/invitation/(\S+)", invitation.get_body(("plain",)).get_content()
    )
    token = link.group(1)
    with serve_with_issuer(backend, provider) as live:
        base = live.url
        browser = requests.Session()
        browser.get(f"{base}/", allow_redirects=False)  # the CSRF cookie
        assert (
            browser.get(f"{base}/enrolment/invitation/{token}", allow_redirects=False).status_code
            == 303
        )
        _dash(
            browser,
            base,
            [("start-nav", "href"), ("start-error", "children")],
            [("start-button", "n_clicks", 1)],
        )
        _dash(
            browser,
            base,
            [("cgu-nav", "href"), ("cgu-accepted-error", "children")],
            [("cgu-submit", "n_clicks", 1)],
            [("cgu-accepted", "value", True), ("cgu-version", "data", "2024-01")],
        )
        out = _dash(
            browser,
            base,
            [
                ("matricule-nav", "href"),
                ("matricule-input-error", "children"),
                ("matricule-input", "invalid"),
            ],
            [("matricule-submit", "n_clicks", 1), ("matricule-input", "n_submit", None)],
            [("matricule-input", "value", data["matricule"])],
        )
        assert out["matricule-nav"]["href"] == "/enrolment/luxtrust"
        assert _luxtrust(browser, base, "enrolment").startswith("/enrolment/resultat")
        assert _luxtrust(browser, base, "account") == "/mon-compte"
        page = _dash(
            browser,
            base,
            [("_pages_content", "children"), ("_pages_store", "data")],
            [("_pages_location", "pathname", "/mon-compte"), ("_pages_location", "search", "")],
        )
        assert "account-status" in json.dumps(page)
        cookies = [c.value for c in browser.cookies]
    _run(["provisioning", "send"], settings)  # the directory confirms the account…
    _run(["mail", "send"], settings)  # …and only then go the "account created" emails
    assert len(smtp_server.inbox.wait_for(3)) >= 3

    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines, "no log line at all"
    entries = [json.loads(line) for line in lines]  # every line parses
    for entry in entries:
        assert {"time", "level", "logger", "message"} <= entry.keys(), entry
    requests_logged = [e for e in entries if e["logger"] == "dashboard.access"]
    routes = {e["route"] for e in requests_logged}
    assert "/enrolment/invitation/<token>" in routes
    assert "/auth/luxtrust/callback" in routes or any("callback" in r for r in routes)
    assert any(r.startswith("layout:/mon-compte") for r in routes)
    for entry in requests_logged:
        assert {"request_id", "route", "status", "duration_ms"} <= entry.keys(), entry
    personal = [
        data["last_name"],
        "SCHMIT",
        data["email"],
        data["matricule"],
        token,
        *[c for c in cookies if len(c) >= 16],
    ]
    for value in personal:
        assert value not in err, f"{value!r} is in the logs"
    assert "code=" not in err and "state=" not in err  # the OIDC callback's query


def test_scrub_masks_what_a_library_might_log():
    line = scrub(
        "GET /enrolment/invitation/abcDEF123_-xyz user=marie.schmit@example.lu "
        "matricule 1985041212345 token " + "Z" * 43
    )
    assert "abcDEF123" not in line and "marie.schmit" not in line
    assert "1985041212345" not in line and "Z" * 43 not in line


def test_a_bad_log_format_refuses_to_start():
    problems = Settings.from_env({"LOG_FORMAT": "xml"}).problems()
    assert any(p.startswith("LOG_FORMAT") for p in problems)
    assert main(["expire"], settings=Settings(log_format="yaml")) == 1
