"""The professional's daily use (issue 22): his declarations readable on a phone and at
1280 px, one next action per state, a declaration that ends on a confirmation, and each
message said once.

No browser: the callbacks are posted as the browser posts them (tests/dashclient.py), so
what is checked is what the server answers to anyone, including a forged request. What
the browser shows (cards below 768 px, no truncated cell): tests/e2e/test_professional_daily.py.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from dashboard.app import create_app
from dashboard.enrolment import decisions, declarations, housekeeping, kernel, matricule, secretary
from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment.errors import InvalidLink
from dashboard.enrolment.model import Enrolment, Event, OutboxEmail
from tests import dashclient as dc
from tests import factories as f

FIELDS = ("last_name", "first_names", "matricule", "email", "email_confirm", "phone")
FIELD_IDS = {n: "decl-" + n.replace("_", "-") for n in FIELDS}
DECL_OUTPUTS = (
    [("decl-summary", "children"), ("decl-result", "children")]
    + [(f"{FIELD_IDS[n]}-error", "children") for n in FIELDS]
    + [(FIELD_IDS[n], "invalid") for n in FIELDS]
)
SHOWN_OUTPUTS = [
    ("decl-form", "hidden"),
    ("decl-done", "hidden"),
    ("page-heading", "children"),
    ("decl-correcting", "data"),
] + [(FIELD_IDS[n], "value") for n in FIELDS]
SUMMARY = "Corrigez les champs indiqués ; rien n'a été enregistré."
NOT_FOUND = "Cette déclaration n'existe pas."
LAURA = {
    "last_name": "Weber",
    "first_names": "Laura",
    "matricule": matricule.format_display(matricule.make("19900203", "456")),
    "email": "laura.weber@example.lu",
    "email_confirm": "laura.weber@example.lu",
    "phone": "",
}
SOPHIE = {
    "last_name": "Wagner",
    "first_names": "Sophie",
    "matricule": matricule.make("19900723", "045"),
    "email": "sophie.wagner@example.lu",
}


# --- helpers -------------------------------------------------------------------------------------


@pytest.fixture
def app(sqlite_backend):
    return create_app(sqlite_backend.settings, backend=sqlite_backend)


def _client(app, prof_id: int | None = None, language: str | None = None):
    client = app.server.test_client()
    if language:
        client.set_cookie("esante_lang", language)
    if prof_id is not None:
        f.signed_in(client, "professional", prof_id)
    return client


def _ok(response) -> dict:
    assert response.status_code == 200, response.data[:300]
    return dc.values(response)


def _rows(client) -> list[dict]:
    response = dc.call(
        client, [("declarations-grid", "rowData")], [("declarations-loaded", "data", True)]
    )
    return _ok(response)[("declarations-grid", "rowData")]


def _cards_response(client, row_data=None):
    return dc.call(
        client, [("decl-cards", "children")], [("declarations-grid", "rowData", row_data)]
    )


def _cards(client) -> dict[int, dict]:
    """{enrolment id: {"state", "action", "href", "text"}} of the cards the server sends."""
    tree = _ok(_cards_response(client, []))[("decl-cards", "children")]
    cards = {}
    for item in dc.components(tree):
        props = item["props"]
        if item["type"] != "Li" or "data-state" not in props:
            continue
        [card] = [c for c in dc.components(props["children"]) if c["type"] == "Card"]
        enrolment_id = int(card["props"]["id"].removeprefix("decl-card-"))
        links = [c for c in dc.components(card) if c["type"] == "Link"]
        cards[enrolment_id] = {
            "state": props["data-state"],
            "action": props["data-action"],
            "href": links[0]["props"]["href"] if links else None,
            "text": json.dumps(card, ensure_ascii=False),
        }
    return cards


def _card_text(tree) -> str:
    return json.dumps(tree, ensure_ascii=False)


def _render(client, path: str, search: str = "") -> dict:
    response = dc.call(
        client,
        [("_pages_content", "children"), ("_pages_store", "data")],
        [("_pages_location", "pathname", path), ("_pages_location", "search", search)],
    )
    assert response.status_code == 200, response.data[:300]
    return response.get_json()


def _by_id(tree, component_id: str) -> dict | None:
    return next((c for c in dc.components(tree) if c["props"].get("id") == component_id), None)


def _submit(client, *, correcting=None, **fields):
    data = {**LAURA, **fields}
    return dc.call(
        client,
        DECL_OUTPUTS,
        [("decl-submit", "n_clicks", 1)],
        state=[(FIELD_IDS[n], "value", data[n]) for n in FIELDS]
        + [("decl-correcting", "data", correcting)],
    )


def _show(client, result):
    return dc.call(client, SHOWN_OUTPUTS, [("decl-result", "children", result)])


def _card_action(client, target):
    return dc.call(
        client,
        [("decl-next-go", "href"), ("decl-next-error", "children")],
        [("decl-next-confirm", "n_clicks", 1)],
        state=[("decl-next-target", "data", target)],
    )


def _snapshot(backend):
    with backend.uow() as uow:
        enrolments = [
            (e.id, e.state, e.token_hash, e.expires_at, e.superseded_by_id, e.version)
            for e in uow.session.scalars(select(Enrolment).order_by(Enrolment.id))
        ]
        events = uow.session.scalar(select(func.count(Event.id)))
        outbox = uow.session.scalar(select(func.count(OutboxEmail.id)))
    return enrolments, events, outbox


def _state(backend, enrolment_id) -> str:
    with backend.uow() as uow:
        return uow.session.get(Enrolment, enrolment_id).state


def _link_works(backend, token: str) -> bool:
    with backend.uow() as uow:
        try:
            secretary.check_invitation(uow, token)
        except InvalidLink:
            return False
    return True


def _person(n: int) -> dict:
    return {
        "matricule": matricule.make(f"19{70 + n}0101", f"{n:03d}"),
        "email": f"secretaire{n}@example.lu",
        "last_name": f"Nom{n}",
    }


def _every_state(backend, clock, prof) -> dict[str, int]:
    """One declaration of his in each state a card can show."""
    reviewer = f.reviewer(backend)
    ids = {}
    # Expired long ago, its data erased since (retention): only a correction can follow.
    ids["expired-erased"] = f.declare(backend, prof, **_person(1)).enrolment_id
    clock.advance(days=31)
    with backend.uow() as uow:
        assert housekeeping.expire_stale(uow) == 1
    clock.advance(days=backend.settings.retention_days + 1)
    with backend.uow() as uow:
        assert housekeeping.purge_personal_data(uow) == 1
    # Past its date (expired for him even before the nightly job): declared again at once.
    ids["expired"] = f.declare(backend, prof, **_person(2)).enrolment_id
    clock.advance(days=31)
    ids["declared"] = f.declare(backend, prof, **_person(4)).enrolment_id
    ids["cgu"], _ = f.walk_to(backend, prof, lc.CGU_ACCEPTED, **_person(5))
    ids["verified"], _ = f.walk_to(backend, prof, lc.MATRICULE_VERIFIED, **_person(6))
    ids["mismatch"], _ = f.walk_to(backend, prof, lc.IDENTITY_MISMATCH, **_person(7))
    ids["pending"], _ = f.walk_to(backend, prof, lc.PENDING_REVIEW, **_person(8))
    ids["created"], _ = f.walk_to(backend, prof, lc.ACCOUNT_CREATED, **_person(9))
    ids["rejected"], _ = f.walk_to(backend, prof, lc.PENDING_REVIEW, **_person(10))
    with backend.uow() as uow:
        decisions.reject(uow, ids["rejected"], reviewer, reason_code="declaration_error")
    ids["locked"], th = f.walk_to(backend, prof, lc.CGU_ACCEPTED, **_person(11))
    for attempt in range(backend.settings.max_matricule_attempts):
        with backend.uow() as uow:
            secretary.verify_matricule(uow, th, f.wrong_matricule(attempt))
    ids["cancelled"] = f.declare(backend, prof, **_person(12)).enrolment_id
    with backend.uow() as uow:
        declarations.cancel(uow, ids["cancelled"], kernel.Actor("professional", str(prof)), prof)
    # Refused, then corrected by a new declaration: nothing left to do on the old one.
    ids["corrected"], _ = f.walk_to(backend, prof, lc.PENDING_REVIEW, **_person(13))
    with backend.uow() as uow:
        decisions.reject(uow, ids["corrected"], reviewer, reason_code="declaration_error")
    with backend.uow() as uow:
        declarations.redeclare(
            uow, ids["corrected"], prof, **{**_person(13), "first_names": "Marie-Anne"}
        )
    return ids


# --- 1. readable: the matricule whole and grouped, long dates in his language -------------------


@pytest.mark.parametrize(
    ("language", "declared", "expires", "state"),
    [
        ("fr", "2 mars 2026", "1er avril 2026", "Invitation envoyée"),
        ("de", "2. März 2026", "1. April 2026", "Einladung versendet"),
        ("en", "2 March 2026", "1 April 2026", "Invitation sent"),
    ],
)
def test_rows_and_cards_show_the_grouped_matricule_and_long_dates_in_his_language(
    sqlite_backend, app, language, declared, expires, state
):
    prof = f.professional(sqlite_backend)
    marie = f.declare(sqlite_backend, prof)  # 2 March 2026, 10:00 in Luxembourg
    client = _client(app, prof, language)
    [row] = _rows(client)
    assert row["matricule"] == "1985 0412 123 93"
    assert (row["declared_on"], row["updated_on"], row["expires_on"]) == (
        declared,
        declared,
        expires,
    )
    # The grid sorts on the sortable text and shows the long date.
    assert row["declared_at"] == "2026-03-02 10:00"
    card = _cards(client)[marie.enrolment_id]
    for shown in ("1985 0412 123 93", declared, expires, f.MARIE["email"], "Marie Schmit"):
        assert shown in card["text"], shown
    assert state in card["text"]
    if language != "fr":
        assert "mars" not in card["text"]


def test_a_date_in_summer_is_luxembourg_time(sqlite_backend, app, clock):
    """23:30 UTC on 31 May is already 1 June in Luxembourg (CEST)."""
    import datetime as dt

    clock.now = dt.datetime(2026, 5, 31, 22, 30, tzinfo=dt.UTC)
    prof = f.professional(sqlite_backend)
    f.declare(sqlite_backend, prof)
    [row] = _rows(_client(app, prof))
    assert row["declared_on"] == "1er juin 2026"


def test_the_grid_wraps_instead_of_cutting_and_keeps_the_matricule_on_one_line(sqlite_backend, app):
    tree = _render(_client(app, f.professional(sqlite_backend)), "/professionnel")
    grid = _by_id(tree, "declarations-grid")
    columns = {c["field"]: c for c in grid["props"]["columnDefs"]}
    for field in ("secretary", "email", "state_display", "declared_at", "expires_at"):
        assert columns[field]["wrapText"] and columns[field]["autoHeight"], field
    assert columns["matricule"]["minWidth"] >= 160
    assert columns["declared_at"]["valueFormatter"] == {"function": "params.data.declared_on"}
    assert grid["props"]["defaultColDef"]["wrapHeaderText"] is True
    # Both views are served; the style sheet shows one of them by the screen's width.
    assert _by_id(tree, "decl-cards") is not None
    classes = {c["props"].get("className") for c in dc.components(tree)}
    assert {"decl-wide", "decl-narrow"} <= classes


# --- 2. one next action per state, on his own declarations only ---------------------------------


def test_each_card_offers_the_one_action_its_state_calls_for(sqlite_backend, app, clock):
    prof = f.professional(sqlite_backend)
    ids = _every_state(sqlite_backend, clock, prof)
    cards = _cards(_client(app, prof))
    found = {
        name: (cards[i]["state"], cards[i]["action"], cards[i]["href"]) for name, i in ids.items()
    }
    home = "/professionnel"
    assert found == {
        "expired-erased": (
            "expired",
            "correct",
            f"{home}/declarer?corriger={ids['expired-erased']}",
        ),
        "expired": ("expired", "resend", f"{home}?renvoyer={ids['expired']}"),
        "declared": ("declared", "resend", f"{home}?renvoyer={ids['declared']}"),
        "cgu": ("cgu_accepted", "cancel", f"{home}?annuler={ids['cgu']}"),
        "verified": ("matricule_verified", "cancel", f"{home}?annuler={ids['verified']}"),
        "mismatch": ("identity_mismatch", "cancel", f"{home}?annuler={ids['mismatch']}"),
        "pending": ("pending_review", "", None),
        "created": ("account_created", "", None),
        "rejected": ("rejected", "correct", f"{home}/declarer?corriger={ids['rejected']}"),
        "locked": ("locked", "correct", f"{home}/declarer?corriger={ids['locked']}"),
        "cancelled": ("cancelled", "", None),
        "corrected": ("rejected", "", None),
    }
    # The state in plain words, the person declared in inclusive wording.
    assert "n'a pas encore commencé" in cards[ids["declared"]]["text"]
    assert "vérifie l'identité de la personne déclarée" in cards[ids["pending"]]["text"]
    assert "Trop de matricules erronés" in cards[ids["locked"]]["text"]
    assert "corrigée par une nouvelle déclaration" in cards[ids["corrected"]]["text"]
    assert "(données effacées)" in cards[ids["expired-erased"]]["text"]
    # The action's visible text says whose declaration to a screen reader too.
    assert "Renvoyer l'invitation" in cards[ids["declared"]]["text"]
    assert " — Marie Nom4" in cards[ids["declared"]]["text"]


def test_cards_are_read_from_the_service_never_from_what_the_browser_sends(sqlite_backend, app):
    one, two = f.professional(sqlite_backend, 1), f.professional(sqlite_backend, 2)
    marie = f.declare(sqlite_backend, one)
    sophie = f.declare(sqlite_backend, two, **SOPHIE)
    client = _client(app, one)
    forged = [{"id": sophie.enrolment_id, "secretary": "Sophie Wagner", "email": SOPHIE["email"]}]
    response = _cards_response(client, forged)
    assert response.status_code == 200
    text = _card_text(response.get_json())
    assert "Marie Schmit" in text
    for trace in ("Wagner", "Sophie", SOPHIE["email"], str(sophie.enrolment_id) + "-action"):
        assert trace not in text
    assert list(_cards(client)) == [marie.enrolment_id]


def test_a_card_action_asks_first_and_writes_nothing_on_opening(sqlite_backend, app):
    prof = f.professional(sqlite_backend)
    marie = f.declare(sqlite_backend, prof)
    client = _client(app, prof)
    before = _snapshot(sqlite_backend)
    tree = _render(client, "/professionnel", f"?renvoyer={marie.enrolment_id}")
    modal = _by_id(tree, "decl-next-modal")
    assert modal is not None and modal["props"]["is_open"] is True
    text = json.dumps(modal, ensure_ascii=False)
    assert "Renvoyer l'invitation à Marie Schmit ?" in text
    assert f.MARIE["email"] in text
    assert _by_id(tree, "decl-next-target")["props"]["data"] == {
        "id": marie.enrolment_id,
        "action": "resend",
    }
    tree = _render(client, "/professionnel", f"?annuler={marie.enrolment_id}")
    assert "Annuler la déclaration de Marie Schmit ?" in json.dumps(tree, ensure_ascii=False)
    assert _snapshot(sqlite_backend) == before


def test_a_card_resend_sends_a_new_link_then_says_so(sqlite_backend, app, clock):
    prof = f.professional(sqlite_backend)
    marie = f.declare(sqlite_backend, prof)
    client = _client(app, prof)
    clock.advance(hours=1)
    out = _ok(_card_action(client, {"id": marie.enrolment_id, "action": "resend"}))
    assert out == {
        ("decl-next-go", "href"): f"/professionnel?renvoyee={marie.enrolment_id}",
        ("decl-next-error", "children"): "",
    }
    assert not _link_works(sqlite_backend, marie.token)
    with sqlite_backend.uow() as uow:
        assert (
            uow.session.scalar(
                select(func.count(OutboxEmail.id)).where(OutboxEmail.template == "invitation")
            )
            == 2
        )
    tree = _render(client, "/professionnel", f"?renvoyee={marie.enrolment_id}")
    message = _by_id(tree, "decl-action-message")["props"]
    assert message["children"] == (
        f"Une nouvelle invitation a été envoyée à {f.MARIE['email']}. "
        "Le lien précédent ne fonctionne plus."
    )
    assert message["color"] == "success"
    assert _by_id(tree, "decl-next-modal") is None  # done: nothing more to confirm


def test_a_card_cancel_ends_the_link_then_says_so(sqlite_backend, app):
    prof = f.professional(sqlite_backend)
    enrolment_id, _th = f.walk_to(sqlite_backend, prof, lc.CGU_ACCEPTED)
    client = _client(app, prof)
    out = _ok(_card_action(client, {"id": enrolment_id, "action": "cancel"}))
    assert out[("decl-next-go", "href")] == f"/professionnel?annulee={enrolment_id}"
    assert _state(sqlite_backend, enrolment_id) == lc.CANCELLED
    tree = _render(client, "/professionnel", f"?annulee={enrolment_id}")
    assert _by_id(tree, "decl-action-message")["props"]["children"] == (
        "La déclaration a été annulée ; le lien envoyé ne fonctionne plus."
    )
    # Its card now offers nothing.
    assert _cards(client)[enrolment_id]["action"] == ""


def test_an_expired_invitation_is_declared_again_from_its_card(sqlite_backend, app, clock):
    prof = f.professional(sqlite_backend)
    old = f.declare(sqlite_backend, prof)
    clock.advance(days=31)
    client = _client(app, prof)
    assert _cards(client)[old.enrolment_id]["action"] == "resend"
    out = _ok(_card_action(client, {"id": old.enrolment_id, "action": "resend"}))
    assert out[("decl-next-go", "href")] == f"/professionnel?renvoyee={old.enrolment_id}"
    cards = _cards(client)
    [new_id] = [i for i in cards if i != old.enrolment_id]
    assert cards[new_id]["state"] == lc.DECLARED


@pytest.mark.parametrize("action", ["resend", "cancel"])
def test_another_professionals_declaration_cannot_be_acted_upon_from_a_card(
    sqlite_backend, app, action
):
    one, two = f.professional(sqlite_backend, 1), f.professional(sqlite_backend, 2)
    f.declare(sqlite_backend, one)
    sophie = f.declare(sqlite_backend, two, **SOPHIE)
    client = _client(app, one)
    before = _snapshot(sqlite_backend)
    # Opening the address: "absent", nothing of hers, no confirmation.
    param = "renvoyer" if action == "resend" else "annuler"
    for search in (f"?{param}={sophie.enrolment_id}", f"?{param}=999999", f"?{param}=1 OR 1=1"):
        tree = _render(client, "/professionnel", search)
        assert _by_id(tree, "decl-next-modal") is None, search
        assert _by_id(tree, "decl-action-message")["props"]["children"] == NOT_FOUND
        text = json.dumps(tree, ensure_ascii=False)
        assert "Wagner" not in text and SOPHIE["email"] not in text
    # A forged confirmation: refused by the service, the same answer as an unknown id.
    for target in (
        {"id": sophie.enrolment_id, "action": action},
        {"id": 999_999, "action": action},
    ):
        out = _ok(_card_action(client, target))
        assert (("decl-next-go", "href") in out) is False
        assert out[("decl-next-error", "children")] == NOT_FOUND
    for forged in ({"id": sophie.enrolment_id, "action": "delete"}, "x", None, [1]):
        out = _ok(_card_action(client, forged))
        assert out[("decl-next-error", "children")] == NOT_FOUND
    # The done addresses say nothing of hers either.
    tree = _render(client, "/professionnel", f"?renvoyee={sophie.enrolment_id}")
    assert _by_id(tree, "decl-action-message")["props"]["children"] == NOT_FOUND
    assert _snapshot(sqlite_backend) == before
    assert _link_works(sqlite_backend, sophie.token)


def test_a_card_action_the_state_no_longer_allows_is_refused_in_plain_words(sqlite_backend, app):
    prof = f.professional(sqlite_backend)
    created, _th = f.walk_to(sqlite_backend, prof, lc.ACCOUNT_CREATED)
    client = _client(app, prof)
    before = _snapshot(sqlite_backend)
    tree = _render(client, "/professionnel", f"?annuler={created}")
    assert _by_id(tree, "decl-next-modal") is None
    assert _by_id(tree, "decl-action-message")["props"]["children"] == (
        "Cette déclaration ne peut plus être annulée (Compte créé)."
    )
    tree = _render(client, "/professionnel", f"?renvoyer={created}")
    assert _by_id(tree, "decl-action-message")["props"]["children"] == (
        "L'invitation ne peut plus être renvoyée (Compte créé)."
    )
    # Confirmed anyway (an old page): the service refuses, in the dialog, once.
    out = _ok(_card_action(client, {"id": created, "action": "cancel"}))
    assert "Compte créé" in out[("decl-next-error", "children")]
    assert ("decl-next-go", "href") not in out
    assert _snapshot(sqlite_backend) == before


def test_card_resends_share_the_daily_limit_with_the_grid(sqlite_backend, app, clock):
    prof = f.professional(sqlite_backend)
    marie = f.declare(sqlite_backend, prof)
    client = _client(app, prof)
    target = {"id": marie.enrolment_id, "action": "resend"}
    for _ in range(sqlite_backend.settings.resends_per_day):
        assert _ok(_card_action(client, target))[("decl-next-error", "children")] == ""
        clock.advance(minutes=5)
    before = _snapshot(sqlite_backend)
    out = _ok(_card_action(client, target))
    assert out[("decl-next-error", "children")] == (
        "L'invitation a déjà été renvoyée 3 fois en 24 heures ; réessayez demain."
    )
    assert _snapshot(sqlite_backend) == before


@pytest.mark.parametrize("who", ["anonymous", "secretary"])
def test_the_new_callbacks_answer_403_to_anyone_but_a_professional(sqlite_backend, app, who):
    prof = f.professional(sqlite_backend)
    declared = f.declare(sqlite_backend, prof)
    client = app.server.test_client()
    if who == "secretary":
        f.signed_in(client, "enrolment", token_hash=kernel.hash_token(declared.token))
    before = _snapshot(sqlite_backend)
    calls = {
        "cards": _cards_response(client, []),
        "card-action": _card_action(client, {"id": declared.enrolment_id, "action": "cancel"}),
        "shown": _show(client, "La déclaration a été enregistrée."),
    }
    assert {name: r.status_code for name, r in calls.items()} == dict.fromkeys(calls, 403)
    for response in calls.values():
        assert f.MARIE["email"].encode() not in response.data
    text = json.dumps(_render(client, "/professionnel", f"?annuler={declared.enrolment_id}"))
    assert "access-denied" in text and "decl-next-modal" not in text
    assert _snapshot(sqlite_backend) == before


# --- 3. a declaration ends on a confirmation; the form is emptied -----------------------------


def test_declaring_ends_on_the_confirmation_and_empties_the_form(sqlite_backend, app):
    prof = f.professional(sqlite_backend)
    client = _client(app, prof)
    out = _ok(_submit(client))
    done = out[("decl-result", "children")]
    assert done == (
        "La déclaration a été enregistrée. Invitation envoyée à laura.weber@example.lu : la "
        "personne déclarée a 30 jours, jusqu'au 1er avril 2026, pour créer son compte eSanté."
    )
    assert out[("decl-summary", "children")] == ""
    # What the browser does with that answer: the confirmation instead of the form, every
    # field emptied, no declaration left to correct.
    shown = _ok(_show(client, done))
    assert shown == {
        ("decl-form", "hidden"): True,
        ("decl-done", "hidden"): False,
        ("page-heading", "children"): "Invitation envoyée",
        ("decl-correcting", "data"): None,
        **{(FIELD_IDS[n], "value"): "" for n in FIELDS},
    }
    # A second click would send the emptied form: refused at the fields, nothing stored.
    before = _snapshot(sqlite_backend)
    again = _ok(_submit(client, **{n: "" for n in FIELDS}))
    assert again[("decl-result", "children")] is None
    assert _snapshot(sqlite_backend) == before
    # An error, or nothing yet, changes nothing on the page.
    for nothing in (None, "", ["forged"]):
        assert _ok(_show(client, nothing)) == {}


def test_the_confirmation_offers_another_declaration_and_his_list(sqlite_backend, app):
    client = _client(app, f.professional(sqlite_backend))
    tree = _render(client, "/professionnel/declarer")
    done = _by_id(tree, "decl-done")
    assert done["props"]["hidden"] is True
    another = _by_id(tree, "decl-another")
    # A plain link: a new page load, so a new, empty form whatever this one held.
    assert (another["type"], another["props"]["href"]) == ("A", "/professionnel/declarer")
    assert another["props"]["children"] == "Déclarer une autre secrétaire"
    mine = _by_id(tree, "decl-done-list")
    assert (mine["props"]["href"], mine["props"]["children"]) == (
        "/professionnel",
        "Mes déclarations",
    )
    assert _by_id(tree, "decl-form")["props"].get("hidden") in (None, False)


def test_the_confirmation_says_the_configured_validity(sqlite_backend):
    expected = "la personne déclarée a 10 jours, jusqu'au 12 mars 2026, pour créer"
    sqlite_backend.settings = sqlite_backend.settings.replace(invitation_days=10)
    app = create_app(sqlite_backend.settings, backend=sqlite_backend)
    client = _client(app, f.professional(sqlite_backend))
    assert expected in _ok(_submit(client))[("decl-result", "children")]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("de", "1. April 2026"),
        ("en", "1 April 2026"),
    ],
)
def test_the_confirmation_is_in_his_language(sqlite_backend, app, language, expected):
    client = _client(app, f.professional(sqlite_backend), language)
    done = _ok(_submit(client))[("decl-result", "children")]
    # (The sentence itself is in his language once the catalogues hold it.)
    assert expected in done and "laura.weber@example.lu" in done
    shown = _ok(_show(client, done))
    assert shown[("page-heading", "children")] != "Invitation envoyée"


def test_a_correction_ends_on_the_confirmation_too(sqlite_backend, app):
    prof = f.professional(sqlite_backend)
    wrong = f.declare(
        sqlite_backend, prof, **{**SOPHIE, "matricule": matricule.make("19900723", "046")}
    )
    client = _client(app, prof)
    done = _ok(
        _submit(client, correcting=wrong.enrolment_id, **SOPHIE, email_confirm=SOPHIE["email"])
    )
    assert done[("decl-result", "children")].startswith("La déclaration a été enregistrée.")
    assert (
        _ok(_show(client, done[("decl-result", "children")]))[("decl-correcting", "data")] is None
    )


# --- 4. each message once ------------------------------------------------------------------------


def _occurrences(response, message: str) -> int:
    return json.dumps(response.get_json(), ensure_ascii=False).count(message)


@pytest.mark.parametrize(
    ("typed", "field", "message"),
    [
        ({"matricule": "1985 0412 12"}, "matricule", "doit comporter 13 chiffres"),
        ({"email_confirm": "autre@example.lu"}, "email_confirm", "ne sont pas identiques"),
        ({"last_name": ""}, "last_name", "Le champ « Nom » est obligatoire."),
        ({"phone": "appelez-moi"}, "phone", "Le numéro de téléphone n'est pas valide"),
    ],
)
def test_a_field_error_is_said_once_under_its_field(sqlite_backend, app, typed, field, message):
    client = _client(app, f.professional(sqlite_backend))
    response = _submit(client, **typed)
    out = _ok(response)
    assert message in out[(f"{FIELD_IDS[field]}-error", "children")]
    assert _occurrences(response, message) == 1
    # The box above says only that nothing was stored (and links to the fields).
    assert out[("decl-summary", "children")] == SUMMARY
    assert out[("decl-result", "children")] is None


def test_a_duplicate_is_said_once_under_the_matricule(sqlite_backend, app):
    prof = f.professional(sqlite_backend)
    client = _client(app, prof)
    assert _ok(_submit(client))[("decl-result", "children")]
    response = _submit(client, email="autre@example.lu", email_confirm="autre@example.lu")
    out = _ok(response)
    duplicate = "Vous avez déjà une déclaration en cours pour ce matricule."
    assert duplicate in out[("decl-matricule-error", "children")]
    assert _occurrences(response, duplicate) == 1
    assert out[("decl-summary", "children")] == SUMMARY


def test_a_problem_no_field_is_at_fault_for_is_said_once_in_the_box(sqlite_backend, app):
    one, two = f.professional(sqlite_backend, 1), f.professional(sqlite_backend, 2)
    sophie = f.declare(sqlite_backend, two, **SOPHIE)
    response = _submit(_client(app, one), correcting=sophie.enrolment_id)
    out = _ok(response)
    assert out[("decl-summary", "children")] == NOT_FOUND
    assert all(out[(f"{FIELD_IDS[n]}-error", "children")] == "" for n in FIELDS)
    assert _occurrences(response, NOT_FOUND) == 1


def test_the_form_has_one_box_for_its_problems(sqlite_backend, app):
    """The fields' errors are summarised (assets/a11y.js: links, focus) in the same box as
    the sentence above them, and that summary has no title of its own: no second banner."""
    tree = _render(_client(app, f.professional(sqlite_backend)), "/professionnel/declarer")
    summaries = [c for c in dc.components(tree) if c["props"].get("id") == "error-summary"]
    assert len(summaries) == 1
    assert summaries[0]["props"]["data-title"] == ""
    box = next(c for c in dc.components(tree) if c["props"].get("className") == "decl-problems")
    inside = [c["props"].get("id") for c in dc.components(box["props"]["children"])]
    assert inside == ["decl-summary", "error-summary"]
    # No other banner that could repeat a message.
    alerts = [c for c in dc.components(tree) if c["type"] == "Alert"]
    assert alerts == []
    text = json.dumps(tree, ensure_ascii=False)
    assert "Corrigez les points suivants" not in text
