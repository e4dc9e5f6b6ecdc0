"""The secretary's pages and callbacks through the real Flask/Dash server (no browser)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from dashboard.app import create_app
from dashboard.enrolment import declarations, kernel, matricule, secretary
from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment.model import Enrolment, Event
from tests import dashclient as dc
from tests import factories as f


@pytest.fixture
def app(backend):
    return create_app(backend.settings, backend=backend)


@pytest.fixture
def client(app):
    return app.server.test_client()


def _state(backend, enrolment_id) -> str:
    with backend.uow() as uow:
        return uow.session.get(Enrolment, enrolment_id).state


def _event_count(backend) -> int:
    with backend.uow() as uow:
        return len(uow.session.scalars(select(Event.id)).all())


def _page_text(client, path) -> str:
    response = dc.render_page(client, path)
    assert response.status_code == 200, response.data[:300]
    return json.dumps(response.get_json(), ensure_ascii=False)


def _start(client):
    return dc.call(
        client,
        [("start-nav", "href"), ("start-error", "children")],
        [("start-button", "n_clicks", 1)],
    )


def _accept(client, accepted=True, version="2024-01"):
    return dc.call(
        client,
        [("cgu-nav", "href"), ("cgu-accepted-error", "children")],
        [("cgu-submit", "n_clicks", 1)],
        state=[("cgu-accepted", "value", accepted), ("cgu-version", "data", version)],
    )


def _matricule(client, typed):
    return dc.call(
        client,
        [
            ("matricule-nav", "href"),
            ("matricule-input-error", "children"),
            ("matricule-input", "invalid"),
        ],
        [("matricule-submit", "n_clicks", 1), ("matricule-input", "n_submit", None)],
        state=[("matricule-input", "value", typed)],
    )


def test_the_link_writes_nothing_and_leaves_the_address_bar(backend, client):
    prof = f.professional(backend)
    declared = f.declare(backend, prof)
    events = _event_count(backend)
    response = client.get(f"/enrolment/invitation/{declared.token}")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/enrolment/debut")
    assert declared.token not in response.headers["Location"]
    assert response.headers["Referrer-Policy"] == "no-referrer"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert declared.token not in cookie
    text = _page_text(client, "/enrolment/debut")
    assert "Commencer" in text
    assert _event_count(backend) == events  # a scanner's GET and render used nothing up
    assert _state(backend, declared.enrolment_id) == lc.DECLARED


def test_the_whole_path_up_to_luxtrust(backend, client):
    prof = f.professional(backend)
    declared = f.declare(backend, prof)
    client.get(f"/enrolment/invitation/{declared.token}")
    assert dc.values(_start(client))[("start-nav", "href")] == "/enrolment/conditions"
    assert "Conditions Générales" in _page_text(client, "/enrolment/conditions")
    # Not ticked: a clear message, nothing recorded.
    refused = dc.values(_accept(client, accepted=False))
    assert "Cochez la case" in refused[("cgu-accepted-error", "children")]
    assert _state(backend, declared.enrolment_id) == lc.DECLARED
    assert dc.values(_accept(client))[("cgu-nav", "href")] == "/enrolment/matricule"
    text = _page_text(client, "/enrolment/matricule")
    assert "Veuillez entrer votre matricule CNS (13 chiffres)" in text
    bad = dc.values(_matricule(client, "1234"))
    assert "13 chiffres" in bad[("matricule-input-error", "children")]
    assert bad[("matricule-input", "invalid")] is True
    wrong = dc.values(_matricule(client, matricule.make("19900101", "001")))
    # French typography: a no-break space before the colon (read here as a plain space).
    message = wrong[("matricule-input-error", "children")].replace("\u00a0", " ")
    assert "contacter le médecin" in message and "Tentatives restantes : 4" in message
    ok = dc.values(
        _matricule(client, " ".join([f.MARIE["matricule"][:4], f.MARIE["matricule"][4:]]))
    )
    assert ok[("matricule-nav", "href")] == "/enrolment/luxtrust"
    assert _state(backend, declared.enrolment_id) == lc.MATRICULE_VERIFIED
    text = _page_text(client, "/enrolment/luxtrust")
    assert "/auth/luxtrust/login?for=enrolment" in text


def test_pages_send_her_to_her_current_step(backend, client):
    prof = f.professional(backend)
    declared = f.declare(backend, prof)
    client.get(f"/enrolment/invitation/{declared.token}")
    _start(client)
    # She tries to jump ahead: the page redirects her back to the CGU.
    text = _page_text(client, "/enrolment/luxtrust")
    assert '"href": "/enrolment/conditions"' in text
    assert "Continuer avec LuxTrust" not in text


def test_steps_out_of_order_are_refused_by_the_server(backend, client):
    prof = f.professional(backend)
    declared = f.declare(backend, prof)
    # No session at all: every step callback is refused.
    assert _accept(client).status_code == 403
    assert _matricule(client, f.MARIE["matricule"]).status_code == 403
    client.get(f"/enrolment/invitation/{declared.token}")
    # Invitation opened but "Commencer" not pressed: no CGU, no matricule.
    assert _accept(client).status_code == 403
    _start(client)
    # CGU not accepted: the matricule step is refused by the service, nothing moves.
    refused = dc.values(_matricule(client, f.MARIE["matricule"]))
    assert "conditions" in refused[("matricule-input-error", "children")].lower()
    device = dc.call(
        client,
        [("device-nav", "href"), ("device-error", "children")],
        [("device-yes", "n_clicks", 1), ("device-no", "n_clicks", None)],
        triggered="device-yes.n_clicks",
    )
    assert "LuxTrust" in dc.values(device)[("device-error", "children")]
    assert _state(backend, declared.enrolment_id) == lc.DECLARED


def test_five_wrong_matricules_lock_and_show_the_guide_message(backend, client):
    prof = f.professional(backend)
    declared = f.declare(backend, prof)
    client.get(f"/enrolment/invitation/{declared.token}")
    _start(client)
    _accept(client)
    for attempt in range(4):
        _matricule(client, f.wrong_matricule(attempt))
    last = dc.values(_matricule(client, f.wrong_matricule(4)))
    assert last[("matricule-nav", "href")] == "/enrolment/resultat"
    assert _state(backend, declared.enrolment_id) == lc.LOCKED
    text = _page_text(client, "/enrolment/resultat")
    assert "nouvelle déclaration" in text


@pytest.mark.parametrize(
    ("how", "expected"),
    [
        ("cancel", "annulée"),
        ("supersede", "remplacée par une nouvelle déclaration"),
        ("expire", "expiré"),
        ("unknown", "n'est pas valide"),
    ],
)
def test_dead_links_say_what_to_do(backend, client, clock, how, expected):
    prof = f.professional(backend)
    declared = f.declare(backend, prof)
    token = declared.token
    if how == "cancel":
        with backend.uow() as uow:
            declarations.cancel(
                uow,
                declared.enrolment_id,
                kernel.Actor("professional", str(prof)),
                professional_id=prof,
            )
    elif how == "supersede":
        f.declare(backend, prof, first_names="Marie Louise")
    elif how == "expire":
        clock.advance(days=31)
    else:
        token = "x" * 43
    client.get(f"/enrolment/invitation/{token}")
    text = _page_text(client, "/enrolment/debut")
    assert '"href": "/enrolment/resultat"' in text
    assert expected in _page_text(client, "/enrolment/resultat")


def test_completed_link_reopened_says_the_account_exists(backend, client):
    prof = f.professional(backend)
    declared = f.declare(backend, prof)
    th = kernel.hash_token(declared.token)
    with backend.uow() as uow:
        secretary.accept_cgu(uow, th, uow.settings.cgu_version)
    with backend.uow() as uow:
        secretary.verify_matricule(uow, th, f.MARIE["matricule"])
    with backend.uow() as uow:
        secretary.record_luxtrust_identity(uow, th, f.identity_of())
    client.get(f"/enrolment/invitation/{declared.token}")
    assert "Votre compte a été créé" in _page_text(client, "/enrolment/resultat")


def test_an_overlong_token_is_not_found(client):
    assert client.get("/enrolment/invitation/" + "a" * 500).status_code == 404
