"""The secretary's steps day to day (issue 22, "The secretary"): what happens next and when,
an old link after a correction, no step kept by the browser, the drafts of a language switch.
Through the real Flask/Dash server (no browser; tests/e2e/test_secretary_daily.py drives
Chromium)."""

from __future__ import annotations

import dataclasses
import json

import pytest
from sqlalchemy import select

from dashboard.app import create_app
from dashboard.enrolment import declarations, kernel, secretary, sessions
from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment.model import OutboxEmail
from tests import dashclient as dc
from tests import factories as f

STEPS = (
    "/enrolment",
    "/enrolment/debut",
    "/enrolment/conditions",
    "/enrolment/matricule",
    "/enrolment/luxtrust",
    "/enrolment/appareil",
    "/enrolment/resultat",
)


def _client(backend, **settings):
    """A test client of an app on `backend`, with `settings` changed (same database)."""
    changed = dataclasses.replace(backend.settings, **settings)
    return create_app(changed, backend=backend).server.test_client()


@pytest.fixture
def client(backend):
    return _client(backend)


def _page(client, path) -> dict:
    response = dc.render_page(client, path)
    assert response.status_code == 200, response.data[:300]
    return response.get_json()


def _text(client, path) -> str:
    return json.dumps(_page(client, path), ensure_ascii=False)


def _by_id(tree, component_id):
    return next(c for c in dc.components(tree) if c["props"].get("id") == component_id)


def _words(component) -> str:
    """The visible text under a rendered component, as one string."""
    parts = []

    def walk(node):
        if isinstance(node, str):
            parts.append(node)
        elif isinstance(node, list):
            for child in node:
                walk(child)
        elif isinstance(node, dict):
            walk(node.get("props", {}).get("children"))

    walk(component)
    return " ".join(parts).replace("\u00a0", " ")


def _her(client, token_hash):
    """Her browser, with the session her link and "Commencer" opened."""
    return f.signed_in(client, sessions.ENROLMENT, token_hash=token_hash)


# --- what happens next, and when -----------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "said"),
    [
        (None, "dans un délai de 2 jours ouvrables"),  # the default REVIEW_SLA_WORKING_DAYS
        (5, "dans un délai de 5 jours ouvrables"),
        (1, "dans un délai d'un jour ouvrable"),
    ],
)
def test_the_manual_review_page_gives_the_delay_and_the_email(backend, days, said):
    prof = f.professional(backend)
    _, th = f.walk_to(backend, prof, lc.PENDING_REVIEW)
    client = _client(backend, **({"review_sla_working_days": days} if days else {}))
    page = _page(_her(client, th), "/enrolment/resultat")
    assert "vérifier votre identité manuellement" in _words(_by_id(page, "result-message"))
    following = _words(_by_id(page, "result-next"))
    assert said in following
    assert "par email" in following
    assert "du lundi au vendredi, hors jours fériés" in following


def test_the_delay_follows_the_setting_in_every_language(backend):
    prof = f.professional(backend)
    _, th = f.walk_to(backend, prof, lc.PENDING_REVIEW)
    client = _her(_client(backend, review_sla_working_days=7), th)
    for code in ("de", "en"):
        client.set_cookie("esante_lang", code)
        assert "7" in _words(_by_id(_page(client, "/enrolment/resultat"), "result-next"))


def test_the_locked_page_says_her_doctor_was_told(backend, client):
    prof = f.professional(backend)
    declared = f.declare(backend, prof)
    client.get(f"/enrolment/invitation/{declared.token}")
    dc.call(
        client,
        [("start-nav", "href"), ("start-error", "children")],
        [("start-button", "n_clicks", 1)],
    )
    th = kernel.hash_token(declared.token)
    with backend.uow() as uow:
        secretary.accept_cgu(uow, th, uow.settings.cgu_version)
    for attempt in range(5):
        with backend.uow() as uow:
            secretary.verify_matricule(uow, th, f.wrong_matricule(attempt))
    page = _page(client, "/enrolment/resultat")
    assert "bloquée" in _words(_by_id(page, "link-problem"))
    following = _words(_by_id(page, "result-next"))
    assert "Nous avons informé votre médecin par email" in following
    assert "un email vous a aussi été envoyé" in following
    assert "nouveau lien" in following
    # …which is true: the table of who is told what queued both.
    with backend.uow() as uow:
        templates = set(uow.session.scalars(select(OutboxEmail.template)).all())
    assert {"locked", "professional_locked"} <= templates


# --- an old link after a correction ----------------------------------------------------------


def _opened(client, token) -> dict:
    """Her old link opened in a browser: it lands on the result page."""
    client.get(f"/enrolment/invitation/{token}")
    assert '"href": "/enrolment/resultat"' in _text(client, "/enrolment/debut")
    return _page(client, "/enrolment/resultat")


def _says_replaced(page) -> None:
    assert _words(_by_id(page, "page-heading")) == "Lien remplacé"
    assert "remplacée par une nouvelle déclaration" in _words(_by_id(page, "link-problem"))
    following = _words(_by_id(page, "result-next"))
    assert "Un email plus récent vous a été envoyé avec un nouveau lien" in following
    assert "bloquée" not in json.dumps(page, ensure_ascii=False)


def test_an_open_link_replaced_by_a_correction_says_so(backend, client):
    prof = f.professional(backend)
    old = f.declare(backend, prof)
    with backend.uow() as uow:
        declarations.redeclare(
            uow, old.enrolment_id, prof, **{**f.MARIE, "first_names": "Marie Anne"}
        )
    _says_replaced(_opened(client, old.token))


def test_a_locked_link_replaced_by_a_correction_says_so_not_blocked(backend, client):
    prof = f.professional(backend)
    old = f.declare(backend, prof)
    th = kernel.hash_token(old.token)
    with backend.uow() as uow:
        secretary.accept_cgu(uow, th, uow.settings.cgu_version)
    for attempt in range(5):
        with backend.uow() as uow:
            secretary.verify_matricule(uow, th, f.wrong_matricule(attempt))
    with backend.uow() as uow:
        declarations.redeclare(uow, old.enrolment_id, prof, **f.MARIE)
    _says_replaced(_opened(client, old.token))


# --- no step kept by the browser -------------------------------------------------------------


@pytest.mark.parametrize("path", STEPS)
def test_step_pages_are_never_stored(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    # The other headers stay as security.py sets them.
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


def test_only_the_steps_are_no_store(backend, client):
    for path in ("/", "/professionnel/connexion", "/assets/step-focus.js"):
        assert client.get(path).headers.get("Cache-Control") != "no-store", path
    # The emailed link keeps its own headers.
    declared = f.declare(backend, f.professional(backend))
    response = client.get(f"/enrolment/invitation/{declared.token}")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize("decided", [lc.ACCOUNT_CREATED, lc.PENDING_REVIEW])
def test_once_decided_every_step_shows_the_result(backend, client, decided):
    prof = f.professional(backend)
    _, th = f.walk_to(backend, prof, decided)
    _her(client, th)
    for path in STEPS[:-1]:
        text = _text(client, path)
        assert '"href": "/enrolment/resultat"' in text, path
        for live in ("start-button", "cgu-accepted", "matricule-input", "luxtrust-start"):
            assert f'"id": "{live}"' not in text, (path, live)
    assert '"id": "result-message"' in _text(client, "/enrolment/resultat")


# --- the drafts of a language switch ----------------------------------------------------------


def test_the_drafts_live_in_the_tab_only_and_are_forgotten_on_submit(backend, client):
    prof = f.professional(backend)
    _, th = f.walk_to(backend, prof, lc.DECLARED)
    _her(client, th)
    stores = {}
    for path, step in (("/enrolment/conditions", "cgu"), ("/enrolment/matricule", "matricule")):
        if step == "matricule":
            with backend.uow() as uow:
                secretary.accept_cgu(uow, th, uow.settings.cgu_version)
        for c in dc.components(_page(client, path)):
            if c["type"] == "Store":
                stores[c["props"]["id"]] = c["props"].get("storage_type", "memory")
    assert stores["cgu-draft"] == "session"
    assert stores["matricule-draft"] == "session"
    assert "local" not in stores.values()  # never the matricule in localStorage
    # Kept and forgotten in the browser (no server round trip holds or logs the draft):
    # one clientside callback per step, which the submit also triggers.
    deps = client.get("/_dash-dependencies").get_json()
    drafts = {
        d["output"]: {i["id"] + "." + i["property"] for i in d["inputs"]}
        for d in deps
        if (d.get("clientside_function") or {}).get("function_name") == "keep_draft"
    }
    assert drafts == {
        "..cgu-accepted.value...cgu-draft.data..": {
            "cgu-accepted.value",
            "cgu-draft.data",
            "cgu-submit.n_clicks",
        },
        "..matricule-input.value...matricule-draft.data..": {
            "matricule-input.value",
            "matricule-draft.data",
            "matricule-submit.n_clicks",
            "matricule-input.n_submit",
        },
    }
