"""The health professional's pages and callbacks through the real Flask/Dash server.

No browser: every callback is posted to /_dash-update-component exactly as the browser
posts it (tests/dashclient.py), so what is checked is what the server answers to anyone
who can reach it, including a forged request.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import threading

import flask
import pytest
from flask_login import current_user, login_user
from sqlalchemy import event, func, select

from dashboard import auth
from dashboard.app import create_app
from dashboard.callbacks import professional as view
from dashboard.config import Settings
from dashboard.enrolment import (
    decisions,
    declarations,
    housekeeping,
    kernel,
    mail,
    matricule,
    secretary,
)
from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment.bootstrap import Backend
from dashboard.enrolment.db import make_engine
from dashboard.enrolment.errors import InvalidLink
from dashboard.enrolment.model import Enrolment, Event, OutboxEmail, Professional
from tests import dashclient as dc
from tests import factories as f
from tests.conftest import PG_URL, _truncate_pg

FIELDS = ("last_name", "first_names", "matricule", "email", "email_confirm", "phone")
FIELD_IDS = {
    "last_name": "decl-last-name",
    "first_names": "decl-first-names",
    "matricule": "decl-matricule",
    "email": "decl-email",
    "email_confirm": "decl-email-confirm",
    "phone": "decl-phone",
}
DECL_OUTPUTS = (
    [("decl-summary", "children"), ("decl-result", "children")]
    + [(f"{FIELD_IDS[n]}-error", "children") for n in FIELDS]
    + [(FIELD_IDS[n], "invalid") for n in FIELDS]
)
SUMMARY = "Corrigez les champs indiqués ; rien n'a été enregistré."
DUPLICATE = "Vous avez déjà une déclaration en cours pour ce matricule."
NOT_FOUND = "Cette déclaration n'existe pas."
UNKNOWN_PRO = "n'est pas enregistrée comme professionnel de santé"

# What the doctor types for Marie (the matricule with the spaces of the page's example).
MARIE_FORM = {
    "last_name": "Schmit",
    "first_names": "Marie",
    "matricule": matricule.format_display(f.MARIE["matricule"]),
    "email": "Marie.Schmit@example.lu",
    "email_confirm": "marie.schmit@example.lu ",
    "phone": "+352 621 123 456",
}
# A second professional's secretary: nothing of her may ever reach the first one.
SOPHIE = {
    "last_name": "Wagner",
    "first_names": "Sophie",
    "matricule": matricule.make("19900723", "045"),
    "email": "sophie.wagner@example.lu",
}
WRONG_MATRICULE = matricule.make("19850412", "321")  # well formed, but not Marie's


def _with_check_digits(first11: str) -> str:
    """13 digits whose check digits are right, whatever the date in them says."""
    return first11 + matricule.calc_check_digits(first11)


def _flip(digit: str) -> str:
    return str((int(digit) + 1) % 10)


# --- fixtures and helpers ----------------------------------------------------------------------


@pytest.fixture
def app(sqlite_backend):
    return create_app(sqlite_backend.settings, backend=sqlite_backend)


@pytest.fixture
def client(app):
    return app.server.test_client()


def _login(client, prof_id: int) -> None:
    """What professional_login() leaves: his session's handle, and flask-login's id."""
    f.signed_in(client, "professional", prof_id)


def _as_professional(app, prof_id: int):
    client = app.server.test_client()
    _login(client, prof_id)
    return client


def _as_secretary(app, token: str):
    """A browser holding only a secretary's enrolment session (her invitation link)."""
    client = app.server.test_client()
    assert client.get(f"/enrolment/invitation/{token}").status_code == 303
    started = dc.call(
        client,
        [("start-nav", "href"), ("start-error", "children")],
        [("start-button", "n_clicks", 1)],
    )
    assert dc.values(started)[("start-nav", "href")] == "/enrolment/conditions"
    with client.session_transaction() as s:
        assert s.get("enrolment") and "_user_id" not in s
    return client


def _submit(client, *, correcting=None, **fields):
    data = {**MARIE_FORM, **fields}
    return dc.call(
        client,
        DECL_OUTPUTS,
        [("decl-submit", "n_clicks", 1)],
        state=[(FIELD_IDS[n], "value", data[n]) for n in FIELDS]
        + [("decl-correcting", "data", correcting)],
    )


def _load(client):
    return dc.call(
        client, [("declarations-grid", "rowData")], [("declarations-loaded", "data", True)]
    )


def _rows(client) -> list[dict]:
    response = _load(client)
    assert response.status_code == 200, response.data[:300]
    return dc.values(response)[("declarations-grid", "rowData")]


def _selection(client, selected):
    return dc.call(
        client,
        [
            ("decl-resend", "disabled"),
            ("decl-cancel", "disabled"),
            ("decl-correct", "disabled"),
            ("decl-correct", "href"),
        ],
        [("declarations-grid", "selectedRows", selected)],
    )


def _ask_cancel(client):
    return dc.call(client, [("decl-cancel-confirm", "displayed")], [("decl-cancel", "n_clicks", 1)])


def _grid_output(app) -> tuple[str, str]:
    """The action callback writes rowData with allow_duplicate: Dash renames the property."""
    [key] = [k for k in app.callback_map if "decl-action-message.children" in k]
    prop = key.split("declarations-grid.", 1)[1].rstrip(".")
    assert prop.startswith("rowData@")
    return ("declarations-grid", prop)


def _act(app, client, action: str, selected):
    """Resend (button) or cancel (after the confirm dialog) on the selected row."""
    resend = action == "resend"
    return dc.call(
        client,
        [("decl-action-message", "children"), ("decl-action-message", "color"), _grid_output(app)],
        [
            ("decl-resend", "n_clicks", 1 if resend else None),
            ("decl-cancel-confirm", "submit_n_clicks", None if resend else 1),
        ],
        state=[("declarations-grid", "selectedRows", selected)],
        triggered="decl-resend.n_clicks" if resend else "decl-cancel-confirm.submit_n_clicks",
    )


def _acted(response) -> tuple[str, str, list[dict]]:
    assert response.status_code == 200, response.data[:300]
    out = dc.values(response)
    return (
        out[("decl-action-message", "children")],
        out[("decl-action-message", "color")],
        out[("declarations-grid", "rowData")],
    )


def _render(client, path: str, search: str = ""):
    return dc.call(
        client,
        [("_pages_content", "children"), ("_pages_store", "data")],
        [("_pages_location", "pathname", path), ("_pages_location", "search", search)],
    )


def _page_text(client, path: str, search: str = "") -> str:
    response = _render(client, path, search)
    assert response.status_code == 200, response.data[:300]
    return json.dumps(response.get_json(), ensure_ascii=False)


def _text(response) -> str:
    return json.dumps(response.get_json(), ensure_ascii=False)


def _snapshot(backend):
    """Everything a professional's action could change."""
    with backend.uow() as uow:
        enrolments = [
            (
                e.id,
                e.professional_id,
                e.state,
                e.token_hash,
                e.expires_at,
                e.superseded_by_id,
                e.declared_last_name,
                e.declared_first_names,
                e.declared_matricule,
                e.email,
                e.version,
            )
            for e in uow.session.scalars(select(Enrolment).order_by(Enrolment.id))
        ]
        events = uow.session.scalar(select(func.count(Event.id)))
        outbox = uow.session.scalar(select(func.count(OutboxEmail.id)))
    return enrolments, events, outbox


def _enrolment(backend, enrolment_id) -> Enrolment:
    with backend.uow() as uow:
        return uow.session.get(Enrolment, enrolment_id)


def _enrolments(backend) -> list[Enrolment]:
    with backend.uow() as uow:
        return list(uow.session.scalars(select(Enrolment).order_by(Enrolment.id)))


def _outbox(backend, template: str | None = None) -> list[OutboxEmail]:
    with backend.uow() as uow:
        query = select(OutboxEmail).order_by(OutboxEmail.id)
        if template:
            query = query.where(OutboxEmail.template == template)
        return list(uow.session.scalars(query))


def _latest_token(backend, enrolment_id: int) -> str:
    """The token of the newest invitation queued for this enrolment (the emailed link)."""
    rows = [r for r in _outbox(backend, "invitation") if r.enrolment_id == enrolment_id]
    link = mail.unseal(backend.settings.secret_key, rows[-1].context["sealed_link"])
    return link.rsplit("/", 1)[1]


def _link_problem(backend, token: str) -> InvalidLink | None:
    with backend.uow() as uow:
        try:
            secretary.check_invitation(uow, token)
        except InvalidLink as exc:
            return exc
    return None


def _deactivate(backend, prof_id: int) -> None:
    with backend.uow() as uow:
        uow.session.get(Professional, prof_id).active = False
        uow.commit()


def _walk_to_locked(backend, prof_id, **declare_overrides):
    enrolment_id, th = f.walk_to(backend, prof_id, lc.CGU_ACCEPTED, **declare_overrides)
    for attempt in range(backend.settings.max_matricule_attempts):
        with backend.uow() as uow:
            secretary.verify_matricule(uow, th, f.wrong_matricule(attempt))
    assert _enrolment(backend, enrolment_id).state == lc.LOCKED
    return enrolment_id, th


def _two_professionals(backend):
    """Dr 1 has declared Marie, Dr 2 has declared Sophie."""
    one, two = f.professional(backend, 1), f.professional(backend, 2)
    marie = f.declare(backend, one)
    sophie = f.declare(backend, two, **SOPHIE)
    return one, two, marie, sophie


def _sophie_traces(text: str) -> list[str]:
    needles = [
        SOPHIE["last_name"],
        SOPHIE["first_names"],
        SOPHIE["email"],
        SOPHIE["matricule"],
        matricule.format_display(SOPHIE["matricule"]),
        "Hoffmann2",  # Dr 2's own name
        "dr2@cabinet.lu",
    ]
    return [n for n in needles if n in text]


# --- who may use the pages and callbacks ---------------------------------------------------------


@pytest.mark.parametrize("who", ["anonymous", "secretary"])
@pytest.mark.parametrize(
    ("path", "search"),
    [
        ("/professionnel", ""),
        ("/professionnel/declarer", ""),
        ("/professionnel/declarer", "?corriger=1"),
    ],
)
def test_pages_are_refused_to_anyone_but_a_professional(sqlite_backend, app, who, path, search):
    prof = f.professional(sqlite_backend)
    declared = f.declare(sqlite_backend, prof)
    client = app.server.test_client() if who == "anonymous" else _as_secretary(app, declared.token)
    text = _page_text(client, path, search)
    assert '"id": "access-denied"' in text
    assert "Accès refusé" in text
    for secret in (f.MARIE["matricule"], f.MARIE["email"], "Hoffmann1", "declarations-grid"):
        assert secret not in text


@pytest.mark.parametrize("who", ["anonymous", "secretary"])
def test_every_professional_callback_answers_403_and_changes_nothing(sqlite_backend, app, who):
    prof = f.professional(sqlite_backend)
    declared = f.declare(sqlite_backend, prof)
    client = app.server.test_client() if who == "anonymous" else _as_secretary(app, declared.token)
    mine = [{"id": declared.enrolment_id, "email": f.MARIE["email"], "can_resend": True}]
    before = _snapshot(sqlite_backend)
    calls = {
        "submit": _submit(client, matricule=matricule.make("19900101", "001")),
        "correct": _submit(client, correcting=declared.enrolment_id, matricule=WRONG_MATRICULE),
        "load": _load(client),
        "selection": _selection(client, mine),
        "ask-cancel": _ask_cancel(client),
        "resend": _act(app, client, "resend", mine),
        "cancel": _act(app, client, "cancel", mine),
    }
    assert {name: r.status_code for name, r in calls.items()} == dict.fromkeys(calls, 403)
    for response in calls.values():
        assert f.MARIE["matricule"].encode() not in response.data
    assert _snapshot(sqlite_backend) == before


def test_every_callback_of_the_professional_pages_is_guarded(app):
    """A callback added later without @auth.require(PROFESSIONAL) fails here."""
    professional_ids = ("decl-", "declarations-")
    found = 0
    for key, spec in app.callback_map.items():
        if not any(part in key for part in professional_ids) or "callback" not in spec:
            continue  # clientside callbacks (focus) run in the browser
        found += 1
        assert getattr(spec["callback"], "allowed_roles", None) == frozenset({"professional"}), key
    # submit, confirmation view, rows, cards, selection, cancel dialog, grid action, card action
    assert found == 8


def test_logout_ends_the_session(sqlite_backend, app):
    prof = f.professional(sqlite_backend)
    f.declare(sqlite_backend, prof)
    client = _as_professional(app, prof)
    assert len(_rows(client)) == 1
    # Not by a link: a GET (an image or link on another site) changes nothing.
    client.get("/professionnel/deconnexion")
    with client.session_transaction() as s:
        assert s["_user_id"].startswith(f"professional:{prof}:")
    response = dc.submit_form(client, "/professionnel", "/professionnel/deconnexion")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/professionnel/connexion")
    assert response.headers["Cache-Control"] == "no-store"
    with client.session_transaction() as s:
        assert "_user_id" not in s
    client.get("/professionnel/connexion")  # the browser follows the redirect (new CSRF cookie)
    assert _load(client).status_code == 403
    assert '"id": "access-denied"' in _page_text(client, "/professionnel")


def test_a_deactivated_professional_loses_access_at_once(sqlite_backend, app):
    prof = f.professional(sqlite_backend)
    f.declare(sqlite_backend, prof)
    client = _as_professional(app, prof)
    assert len(_rows(client)) == 1
    _deactivate(sqlite_backend, prof)
    assert _load(client).status_code == 403
    assert _submit(client, matricule=WRONG_MATRICULE).status_code == 403


def test_a_forged_session_for_another_kind_of_user_is_refused(sqlite_backend, app):
    prof = f.professional(sqlite_backend)
    f.declare(sqlite_backend, prof)
    client = app.server.test_client()
    with client.session_transaction() as s:
        s["_user_id"] = f"staff:{prof}"
        s["_fresh"] = True
    assert _load(client).status_code == 403


# --- login through LuxTrust: the handler the OIDC client calls ----------------------------------


def test_login_handler_logs_a_registered_professional_in(sqlite_backend, app):
    prof = f.professional(sqlite_backend, 1, luxtrust_subject="demo-professional-1")
    with app.server.test_request_context():
        flask.session["enrolment"] = "a-secretary-session-of-earlier"
        assert view.professional_login({"sub": "demo-professional-1"}) == "/professionnel"
        assert current_user.is_authenticated
        assert current_user.id == prof
        assert current_user.name == "Dr Jean Hoffmann1"
        assert flask.session["_user_id"].startswith(f"professional:{prof}:")
        # A new session: nothing of the one before survives (no fixation).
        assert "enrolment" not in flask.session


@pytest.mark.parametrize("case", ["unknown", "inactive", "no-subject"])
def test_login_handler_refuses_anyone_else(sqlite_backend, app, case):
    prof = f.professional(sqlite_backend, 1, luxtrust_subject="demo-professional-1")
    claims = {"sub": "demo-professional-1"}
    if case == "unknown":
        claims = {"sub": "demo-professional-2", "family_name": "Weber", "given_name": "Paul"}
    elif case == "inactive":
        _deactivate(sqlite_backend, prof)
    else:
        claims = {"family_name": "Hoffmann1"}
    with app.server.test_request_context():
        target = view.professional_login(claims)
        assert target == "/professionnel/connexion?erreur=inconnu_pro"
        assert not current_user.is_authenticated
        assert "_user_id" not in flask.session


def test_login_page_explains_an_unknown_identity_in_french(client):
    text = _page_text(client, "/professionnel/connexion", "?erreur=inconnu_pro")
    assert '"id": "pro-login-error"' in text
    assert UNKNOWN_PRO in text
    assert "/auth/luxtrust/login?for=professional" in text
    plain = _page_text(client, "/professionnel/connexion")
    assert "pro-login-error" not in plain
    assert '"id": "pro-login"' in plain


def test_login_page_sends_a_logged_in_professional_to_his_list(sqlite_backend, app):
    client = _as_professional(app, f.professional(sqlite_backend))
    text = _page_text(client, "/professionnel/connexion")
    assert '"href": "/professionnel"' in text
    assert "pro-login" not in text


# --- the pages, as he sees them ------------------------------------------------------------------


def test_my_declarations_page_renders_for_him(sqlite_backend, app):
    prof = f.professional(sqlite_backend)
    f.declare(sqlite_backend, prof)
    text = _page_text(_as_professional(app, prof), "/professionnel")
    assert "Mes déclarations" in text and "Dr Jean Hoffmann1" in text
    for element in ("declarations-grid", "decl-resend", "decl-cancel", "decl-correct"):
        assert f'"id": "{element}"' in text
    assert "/professionnel/deconnexion" in text
    # Rows arrive through the load callback only.
    assert f.MARIE["matricule"] not in text


def test_declare_page_renders_the_empty_form(sqlite_backend, app):
    text = _page_text(
        _as_professional(app, f.professional(sqlite_backend)), "/professionnel/declarer"
    )
    assert "Déclarer une secrétaire médicale" in text
    for element in [*FIELD_IDS.values(), "decl-submit", "decl-summary", "decl-result"]:
        assert f'"id": "{element}"' in text


def test_correction_page_prefills_his_own_declaration(sqlite_backend, app):
    prof = f.professional(sqlite_backend)
    declared = f.declare(sqlite_backend, prof)
    client = _as_professional(app, prof)
    text = _page_text(client, "/professionnel/declarer", f"?corriger={declared.enrolment_id}")
    assert "Corriger une déclaration" in text
    assert f'"value": "{f.MARIE["matricule"]}"' in text
    assert f'"data": {declared.enrolment_id}' in text


def test_correction_page_never_prefills_another_professionals_declaration(sqlite_backend, app):
    one, _two, _marie, sophie = _two_professionals(sqlite_backend)
    client = _as_professional(app, one)
    text = _page_text(client, "/professionnel/declarer", f"?corriger={sophie.enrolment_id}")
    assert _sophie_traces(text) == []
    assert "Déclarer une secrétaire médicale" in text
    assert f'"data": {sophie.enrolment_id}' not in text


def test_correction_prefill_is_his_own_declaration_only(sqlite_backend, app):
    """The layout's data source, by id: his own rows only, whatever the id looks like."""
    one, two, marie, sophie = _two_professionals(sqlite_backend)
    for prof_id, own, other in ((one, marie, sophie), (two, sophie, marie)):
        with app.server.test_request_context():
            # Logged in within this request only: no session handle is read.
            login_user(auth.Principal("professional", prof_id, {auth.PROFESSIONAL}, "", "-"))
            mine = view.declaration_to_correct(str(own.enrolment_id))
            assert mine is not None and mine.enrolment_id == own.enrolment_id
            assert view.declaration_to_correct(other.enrolment_id) is None
            assert view.declaration_to_correct("999999") is None
            assert view.declaration_to_correct("1 OR 1=1") is None


# --- declaring ----------------------------------------------------------------------------------


def test_declaring_stores_queues_the_invitation_and_says_what_comes_next(sqlite_backend, app):
    prof = f.professional(sqlite_backend)
    client = _as_professional(app, prof)
    response = _submit(client)
    assert response.status_code == 200, response.data[:300]
    out = dc.values(response)
    done = out[("decl-result", "children")]
    # To whom, and until when: the configured validity of the link (INVITATION_DAYS).
    assert done == (
        "La déclaration a été enregistrée. Invitation envoyée à marie.schmit@example.lu : "
        "la personne déclarée a 30 jours, jusqu'au 1er avril 2026, pour créer son compte eSanté."
    )
    assert out[("decl-summary", "children")] == ""
    for name in FIELDS:
        assert out[(f"{FIELD_IDS[name]}-error", "children")] == ""
        assert out[(FIELD_IDS[name], "invalid")] is False

    [enrolment] = _enrolments(sqlite_backend)
    assert enrolment.professional_id == prof
    assert enrolment.state == lc.DECLARED
    assert enrolment.declared_matricule == f.MARIE["matricule"]  # spaces removed
    assert enrolment.email == "marie.schmit@example.lu"  # lower-cased
    assert (enrolment.declared_last_name, enrolment.declared_first_names) == ("Schmit", "Marie")
    assert enrolment.phone == "+352 621 123 456"
    [invitation] = _outbox(sqlite_backend)
    assert (invitation.template, invitation.recipient, invitation.enrolment_id) == (
        "invitation",
        "marie.schmit@example.lu",
        enrolment.id,
    )
    token = _latest_token(sqlite_backend, enrolment.id)
    assert _link_problem(sqlite_backend, token) is None
    with sqlite_backend.uow() as uow:
        [event] = uow.session.scalars(select(Event).where(Event.enrolment_id == enrolment.id))
        assert (event.action, event.actor_type, event.actor_id) == (
            "declared",
            "professional",
            str(prof),
        )
    # The phone is optional.
    second = _submit(
        client,
        matricule=SOPHIE["matricule"],
        email=SOPHIE["email"],
        email_confirm=SOPHIE["email"],
        phone="",
    )
    assert dc.values(second)[("decl-result", "children")] == done.replace(
        "marie.schmit@example.lu", SOPHIE["email"]
    )
    assert _enrolments(sqlite_backend)[-1].phone is None


BAD_FIELDS = [
    pytest.param({"matricule": ""}, "matricule", "Veuillez saisir les 13 chiffres", id="empty"),
    pytest.param(
        {"matricule": "1985 0412 12"}, "matricule", "doit comporter 13 chiffres", id="length"
    ),
    pytest.param({"matricule": "1985-04-12-123-AB"}, "matricule", "que des chiffres", id="digits"),
    pytest.param({"matricule": "19850412123"}, "matricule", "ancien format", id="legacy"),
    pytest.param(
        {"matricule": _with_check_digits("19851312123")},
        "matricule",
        "n'est pas valide",
        id="date",
    ),
    pytest.param(
        {"matricule": _with_check_digits("20990101123")},
        "matricule",
        "postérieure à la date du jour",
        id="future",
    ),
    pytest.param(
        {"matricule": f.MARIE["matricule"][:11] + _flip(f.MARIE["matricule"][11]) + "0"},
        "matricule",
        "chiffre de contrôle incorrect",
        id="luhn",
    ),
    pytest.param(
        {"matricule": f.MARIE["matricule"][:12] + _flip(f.MARIE["matricule"][12])},
        "matricule",
        "chiffre de contrôle incorrect",
        id="verhoeff",
    ),
    pytest.param(
        {"email_confirm": "marie.schmidt@example.lu"},
        "email_confirm",
        "Les deux adresses email ne sont pas identiques.",
        id="email-mismatch",
    ),
    pytest.param(
        {"email_confirm": ""},
        "email_confirm",
        "Les deux adresses email ne sont pas identiques.",
        id="email-not-retyped",
    ),
    pytest.param(
        {"email": "marie.schmit@", "email_confirm": "marie.schmit@"},
        "email",
        "L'adresse email n'est pas valide",
        id="email-invalid",
    ),
    pytest.param(
        {"email": "", "email_confirm": ""},
        "email",
        "L'adresse email est obligatoire.",
        id="email-missing",
    ),
    pytest.param(
        {"last_name": "   "}, "last_name", "Le champ « Nom » est obligatoire.", id="no-last-name"
    ),
    pytest.param(
        {"first_names": None},
        "first_names",
        "Le champ « Prénom(s) » est obligatoire.",
        id="no-first-names",
    ),
    pytest.param(
        {"last_name": "1234"}, "last_name", "doit contenir des lettres", id="name-no-letters"
    ),
    pytest.param(
        {"phone": "appelez-moi"},
        "phone",
        "Le numéro de téléphone n'est pas valide",
        id="phone",
    ),
    pytest.param(
        {"matricule": matricule.make("20200101", "123")},
        "matricule",
        "la personne déclarée aurait moins de 14 ans",
        id="matricule-too-young",
    ),
    pytest.param(
        {"matricule": matricule.make("19000101", "123")},
        "matricule",
        "serait née il y a plus de 100 ans",
        id="matricule-too-old",
    ),
]


@pytest.mark.parametrize(("typed", "field", "message"), BAD_FIELDS)
def test_each_bad_field_gets_its_french_message_and_nothing_is_written(
    sqlite_backend, app, typed, field, message
):
    prof = f.professional(sqlite_backend)
    client = _as_professional(app, prof)
    before = _snapshot(sqlite_backend)
    response = _submit(client, **typed)
    assert response.status_code == 200, response.data[:300]
    out = dc.values(response)
    assert message in out[(f"{FIELD_IDS[field]}-error", "children")]
    assert out[(FIELD_IDS[field], "invalid")] is True
    for other in FIELDS:
        if other != field:
            assert out[(f"{FIELD_IDS[other]}-error", "children")] == "", other
            assert out[(FIELD_IDS[other], "invalid")] is False, other
    assert out[("decl-summary", "children")] == SUMMARY
    assert out[("decl-result", "children")] is None
    assert _snapshot(sqlite_backend) == before
    if field == "matricule" and typed["matricule"]:
        # The message never echoes the number typed (personal data).
        assert typed["matricule"] not in out[("decl-matricule-error", "children")]


def test_every_bad_field_at_once_is_reported_at_once(sqlite_backend, app):
    client = _as_professional(app, f.professional(sqlite_backend))
    out = dc.values(
        _submit(
            client,
            last_name="",
            first_names="",
            matricule="123",
            email="nope",
            email_confirm="other",
            phone="x",
        )
    )
    assert all(out[(FIELD_IDS[n], "invalid")] is True for n in FIELDS)
    assert all(out[(f"{FIELD_IDS[n]}-error", "children")] for n in FIELDS)
    assert _enrolments(sqlite_backend) == []


def test_an_open_declaration_for_the_same_matricule_is_not_duplicated(sqlite_backend, app):
    prof = f.professional(sqlite_backend)
    client = _as_professional(app, prof)
    assert "enregistrée" in dc.values(_submit(client))[("decl-result", "children")]
    before = _snapshot(sqlite_backend)
    # Same person typed differently (no spaces, another email): still the same matricule.
    again = dc.values(
        _submit(
            client,
            matricule=f.MARIE["matricule"],
            email="m.schmit@example.lu",
            email_confirm="m.schmit@example.lu",
        )
    )
    # Said once, under the field (the box above only says that nothing was stored).
    assert again[("decl-summary", "children")] == SUMMARY
    assert DUPLICATE in again[("decl-matricule-error", "children")]
    assert (
        "Renvoyez l'invitation ou corrigez la déclaration existante"
        in again[("decl-matricule-error", "children")]
    )
    assert again[("decl-matricule", "invalid")] is True
    assert again[("decl-result", "children")] is None
    assert _snapshot(sqlite_backend) == before
    assert len(_outbox(sqlite_backend, "invitation")) == 1


def test_a_declaration_with_manual_check_in_progress_is_not_duplicated(sqlite_backend, app):
    prof = f.professional(sqlite_backend)
    f.walk_to(sqlite_backend, prof, lc.PENDING_REVIEW)
    client = _as_professional(app, prof)
    before = _snapshot(sqlite_backend)
    out = dc.values(_submit(client))
    assert out[("decl-matricule", "invalid")] is True
    assert out[("decl-matricule-error", "children")]
    assert out[("decl-result", "children")] is None
    assert _snapshot(sqlite_backend) == before


def test_a_closed_declaration_or_another_doctors_is_no_duplicate(sqlite_backend, app):
    one, two = f.professional(sqlite_backend, 1), f.professional(sqlite_backend, 2)
    old = f.declare(sqlite_backend, one)
    with sqlite_backend.uow() as uow:
        declarations.cancel(uow, old.enrolment_id, kernel.Actor("professional", str(one)), one)
    # Dr 2 declares the same secretary: his own declaration, not a duplicate of Dr 1's.
    out_two = dc.values(_submit(_as_professional(app, two)))
    assert "enregistrée" in out_two[("decl-result", "children")]
    # Dr 1's earlier one is cancelled, so declaring her again is allowed.
    out_one = dc.values(_submit(_as_professional(app, one)))
    assert "enregistrée" in out_one[("decl-result", "children")]
    states = sorted((e.professional_id, e.state) for e in _enrolments(sqlite_backend))
    assert states == [(one, lc.CANCELLED), (one, lc.DECLARED), (two, lc.DECLARED)]


# --- my declarations: two professionals never see each other's --------------------------------


def test_each_professional_lists_only_his_own_declarations(sqlite_backend, app):
    one, two, marie, sophie = _two_professionals(sqlite_backend)
    response = _load(_as_professional(app, one))
    assert response.status_code == 200
    [row] = dc.values(response)[("declarations-grid", "rowData")]
    assert row["id"] == marie.enrolment_id
    assert (row["secretary"], row["email"], row["matricule"]) == (
        "Marie Schmit",
        f.MARIE["email"],
        "1985 0412 123 93",  # whole, grouped as it is read
    )
    assert (row["state"], row["state_label"]) == (lc.DECLARED, "Invitation envoyée")
    # Luxembourg time (CET in March): 09:00 UTC is 10:00 on his clock; the grid sorts on
    # that text and shows the long date.
    assert row["declared_at"] == row["updated_at"] == "2026-03-02 10:00"
    assert row["declared_on"] == row["updated_on"] == "2 mars 2026"
    assert row["expires_on"] == "1er avril 2026"
    assert _sophie_traces(_text(response)) == []
    # And the other way round.
    response = _load(_as_professional(app, two))
    [row] = dc.values(response)[("declarations-grid", "rowData")]
    assert row["id"] == sophie.enrolment_id
    text = _text(response)
    assert "Schmit" not in text and f.MARIE["email"] not in text
    assert f.MARIE["matricule"] not in text


@pytest.mark.parametrize("action", ["resend", "cancel"])
def test_a_forged_selection_of_another_professionals_declaration_is_refused(
    sqlite_backend, app, action
):
    one, _two, marie, sophie = _two_professionals(sqlite_backend)
    client = _as_professional(app, one)
    before = _snapshot(sqlite_backend)
    forged = [{"id": sophie.enrolment_id, "can_resend": True, "can_cancel": True}]
    message, color, rows = _acted(_act(app, client, action, forged))
    assert message == NOT_FOUND
    assert color == "warning"
    assert [r["id"] for r in rows] == [marie.enrolment_id]
    assert _sophie_traces(json.dumps(rows, ensure_ascii=False)) == []
    assert _snapshot(sqlite_backend) == before
    assert _link_problem(sqlite_backend, sophie.token) is None
    # "Absent" and "not yours" get the same answer: no probing of ids.
    message, color, _rows_ = _acted(_act(app, client, action, [{"id": 999_999}]))
    assert (message, color) == (NOT_FOUND, "warning")
    assert _snapshot(sqlite_backend) == before


def test_a_forged_correction_of_another_professionals_declaration_is_refused(sqlite_backend, app):
    one, _two, _marie, sophie = _two_professionals(sqlite_backend)
    client = _as_professional(app, one)
    before = _snapshot(sqlite_backend)
    out = dc.values(
        _submit(
            client,
            correcting=sophie.enrolment_id,
            last_name="Wagner",
            first_names="Sophie",
            matricule=matricule.make("19900723", "046"),
            email="sophie.wagner@example.lu",
            email_confirm="sophie.wagner@example.lu",
        )
    )
    assert out[("decl-summary", "children")] == NOT_FOUND
    assert out[("decl-result", "children")] is None
    assert _snapshot(sqlite_backend) == before
    assert _enrolment(sqlite_backend, sophie.enrolment_id).state == lc.DECLARED


def test_selection_enables_only_the_actions_the_row_allows(sqlite_backend, app):
    client = _as_professional(app, f.professional(sqlite_backend))
    nothing = dc.values(_selection(client, None))
    assert list(nothing.values()) == [True, True, True, "#"]
    assert list(dc.values(_selection(client, [])).values()) == [True, True, True, "#"]
    row = {"id": 7, "can_resend": True, "can_cancel": True, "can_redeclare": True}
    assert list(dc.values(_selection(client, [row])).values()) == [
        False,
        False,
        False,
        "/professionnel/declarer?corriger=7",
    ]
    locked = {"id": 8, "can_resend": False, "can_cancel": False, "can_redeclare": True}
    assert list(dc.values(_selection(client, [locked])).values()) == [
        True,
        True,
        False,
        "/professionnel/declarer?corriger=8",
    ]


# --- resend, cancel, re-declare ------------------------------------------------------------------


def test_resend_mails_a_new_link_and_the_old_one_stops_working(sqlite_backend, app, clock):
    prof = f.professional(sqlite_backend)
    declared = f.declare(sqlite_backend, prof)
    client = _as_professional(app, prof)
    [row] = _rows(client)
    clock.advance(hours=2)
    message, color, rows = _acted(_act(app, client, "resend", [row]))
    assert color == "success"
    assert message == (
        f"Une nouvelle invitation a été envoyée à {f.MARIE['email']}. "
        "Le lien précédent ne fonctionne plus."
    )
    assert [r["updated_at"] for r in rows] == ["2026-03-02 12:00"]  # 11:00 UTC, CET
    assert len(_outbox(sqlite_backend, "invitation")) == 2
    new_token = _latest_token(sqlite_backend, declared.enrolment_id)
    assert new_token != declared.token
    old = _link_problem(sqlite_backend, declared.token)
    assert old is not None and old.reason == "unknown"
    assert _link_problem(sqlite_backend, new_token) is None
    enrolment = _enrolment(sqlite_backend, declared.enrolment_id)
    assert enrolment.state == lc.DECLARED
    # The new link is valid for the full period again.
    assert enrolment.expires_at == clock.now + dt.timedelta(days=30)


def test_resend_is_limited_to_three_a_day(sqlite_backend, app, clock):
    prof = f.professional(sqlite_backend)
    declared = f.declare(sqlite_backend, prof)
    client = _as_professional(app, prof)
    [row] = _rows(client)
    for _ in range(3):
        assert _acted(_act(app, client, "resend", [row]))[1] == "success"
        clock.advance(hours=1)
    token = _latest_token(sqlite_backend, declared.enrolment_id)
    before = _snapshot(sqlite_backend)
    message, color, _rows_ = _acted(_act(app, client, "resend", [row]))
    assert color == "warning"
    assert message == ("L'invitation a déjà été renvoyée 3 fois en 24 heures ; réessayez demain.")
    assert _snapshot(sqlite_backend) == before
    assert _link_problem(sqlite_backend, token) is None  # the last link still works
    # A day after the first resend (and a new login: sessions last 12 hours), one more.
    clock.advance(hours=21, minutes=1)
    _login(client, prof)
    assert _acted(_act(app, client, "resend", [row]))[1] == "success"


def test_cancel_asks_first_then_kills_the_link(sqlite_backend, app):
    prof = f.professional(sqlite_backend)
    declared = f.declare(sqlite_backend, prof)
    client = _as_professional(app, prof)
    assert dc.values(_ask_cancel(client))[("decl-cancel-confirm", "displayed")] is True
    assert _enrolment(sqlite_backend, declared.enrolment_id).state == lc.DECLARED
    [row] = _rows(client)
    message, color, rows = _acted(_act(app, client, "cancel", [row]))
    assert color == "success"
    assert message == "La déclaration a été annulée ; le lien envoyé ne fonctionne plus."
    [after] = rows
    assert (after["state"], after["state_label"]) == (lc.CANCELLED, "Annulée")
    assert not (after["can_resend"] or after["can_cancel"] or after["can_redeclare"])
    assert _enrolment(sqlite_backend, declared.enrolment_id).state == lc.CANCELLED
    problem = _link_problem(sqlite_backend, declared.token)
    assert problem is not None and problem.reason == lc.CANCELLED
    assert "annulée" in problem.message
    # Resending a cancelled declaration is refused in French.
    message, color, _rows_ = _acted(_act(app, client, "resend", [row]))
    assert color == "warning" and "ne peut plus être renvoyée" in message


def test_a_decided_declaration_cannot_be_cancelled(sqlite_backend, app):
    prof = f.professional(sqlite_backend)
    enrolment_id, _th = f.walk_to(sqlite_backend, prof, lc.ACCOUNT_CREATED)
    client = _as_professional(app, prof)
    before = _snapshot(sqlite_backend)
    message, color, _rows_ = _acted(_act(app, client, "cancel", [{"id": enrolment_id}]))
    assert color == "warning" and "Compte créé" in message
    assert _snapshot(sqlite_backend) == before


def test_redeclaring_with_a_corrected_matricule_supersedes_the_old_one(backend):
    """The guide's remedy for a wrong matricule, through the form (both databases)."""
    app = create_app(backend.settings, backend=backend)
    prof = f.professional(backend)
    wrong = f.declare(backend, prof, matricule=WRONG_MATRICULE)
    client = _as_professional(app, prof)
    [row] = _rows(client)
    assert row["can_redeclare"] is True
    out = dc.values(_submit(client, correcting=wrong.enrolment_id))
    assert out[("decl-result", "children")].startswith("La déclaration a été enregistrée.")
    old, new = _enrolments(backend)
    assert old.id == wrong.enrolment_id
    assert (old.state, old.superseded_by_id) == (lc.CANCELLED, new.id)
    assert (new.state, new.declared_matricule) == (lc.DECLARED, f.MARIE["matricule"])
    assert new.professional_id == prof
    problem = _link_problem(backend, wrong.token)
    assert problem is not None and problem.reason == "superseded"
    assert _link_problem(backend, _latest_token(backend, new.id)) is None
    assert [r.enrolment_id for r in _outbox(backend, "invitation")] == [old.id, new.id]
    rows = {r["id"]: r["state_label"] for r in _rows(client)}
    assert rows == {old.id: "Annulée", new.id: "Invitation envoyée"}


@pytest.mark.parametrize("how", ["bad-field", "service-refuses"])
def test_a_refused_correction_changes_nothing_at_all(backend, how):
    app = create_app(backend.settings, backend=backend)
    prof = f.professional(backend)
    wrong = f.declare(backend, prof, matricule=WRONG_MATRICULE)
    fields = {"matricule": f.MARIE["matricule"][:12] + _flip(f.MARIE["matricule"][12])}
    if how == "service-refuses":
        # Valid form, but the corrected matricule is under manual check: the service
        # refuses half-way through redeclare(), after validating.
        f.walk_to(backend, prof, lc.PENDING_REVIEW, email="autre@example.lu")
        fields = {}
    client = _as_professional(app, prof)
    before = _snapshot(backend)
    out = dc.values(_submit(client, correcting=wrong.enrolment_id, **fields))
    assert out[("decl-result", "children")] is None
    assert out[("decl-matricule", "invalid")] is True
    assert out[("decl-matricule-error", "children")]
    assert _snapshot(backend) == before
    assert _link_problem(backend, wrong.token) is None


def test_a_correction_cannot_be_submitted_twice(sqlite_backend, app):
    prof = f.professional(sqlite_backend)
    wrong = f.declare(sqlite_backend, prof, matricule=WRONG_MATRICULE)
    client = _as_professional(app, prof)
    assert (
        "enregistrée"
        in dc.values(_submit(client, correcting=wrong.enrolment_id))[("decl-result", "children")]
    )
    before = _snapshot(sqlite_backend)
    again = dc.values(_submit(client, correcting=wrong.enrolment_id))
    assert "déjà été corrigée" in again[("decl-summary", "children")]
    assert again[("decl-result", "children")] is None
    assert _snapshot(sqlite_backend) == before


def test_a_locked_declaration_is_corrected_by_a_new_one(sqlite_backend, app):
    prof = f.professional(sqlite_backend)
    locked_id, _th = _walk_to_locked(sqlite_backend, prof, matricule=WRONG_MATRICULE)
    client = _as_professional(app, prof)
    [row] = _rows(client)
    assert (row["state_label"], row["can_resend"], row["can_redeclare"]) == (
        "Bloquée",
        False,
        True,
    )
    out = dc.values(_submit(client, correcting=locked_id))
    assert "enregistrée" in out[("decl-result", "children")]
    old, new = _enrolments(sqlite_backend)
    assert old.state == lc.LOCKED
    assert (new.state, new.declared_matricule) == (lc.DECLARED, f.MARIE["matricule"])


def test_a_correction_to_a_matricule_already_declared_leaves_one_open_declaration(
    sqlite_backend, app
):
    """He corrects a wrong matricule into one he had also declared: never two open ones."""
    prof = f.professional(sqlite_backend)
    wrong = f.declare(sqlite_backend, prof, matricule=WRONG_MATRICULE)
    right = f.declare(sqlite_backend, prof, email="autre.adresse@example.lu")
    client = _as_professional(app, prof)
    out = dc.values(_submit(client, correcting=wrong.enrolment_id))
    assert "enregistrée" in out[("decl-result", "children")]
    open_ones = [e for e in _enrolments(sqlite_backend) if e.state in lc.OPEN]
    assert [e.declared_matricule for e in open_ones] == [f.MARIE["matricule"]]
    for old in (wrong, right):
        superseded = _enrolment(sqlite_backend, old.enrolment_id)
        assert (superseded.state, superseded.superseded_by_id) == (lc.CANCELLED, open_ones[0].id)


# --- states in plain French ---------------------------------------------------------------------


def test_the_list_says_each_state_in_plain_french(sqlite_backend, app, clock):
    prof = f.professional(sqlite_backend)
    reviewer = f.reviewer(sqlite_backend)

    def person(n):
        return {
            "matricule": matricule.make(f"19{70 + n}0101", f"{n:03d}"),
            "email": f"secretaire{n}@example.lu",
        }

    expired = f.declare(sqlite_backend, prof, **person(1)).enrolment_id
    clock.advance(days=31)
    with sqlite_backend.uow() as uow:
        assert housekeeping.expire_stale(uow) == 1
    ids = {"expired": expired}
    ids["declared"] = f.declare(sqlite_backend, prof, **person(2)).enrolment_id
    ids["cgu"], _ = f.walk_to(sqlite_backend, prof, lc.CGU_ACCEPTED, **person(3))
    ids["pending"], _ = f.walk_to(sqlite_backend, prof, lc.PENDING_REVIEW, **person(4))
    ids["created"], _ = f.walk_to(sqlite_backend, prof, lc.ACCOUNT_CREATED, **person(5))
    ids["rejected"], _ = f.walk_to(sqlite_backend, prof, lc.PENDING_REVIEW, **person(6))
    with sqlite_backend.uow() as uow:
        decisions.reject(uow, ids["rejected"], reviewer, reason_code="identity_not_established")
    ids["locked"], _ = _walk_to_locked(sqlite_backend, prof)
    ids["cancelled"] = f.declare(sqlite_backend, prof, **person(8)).enrolment_id
    with sqlite_backend.uow() as uow:
        declarations.cancel(uow, ids["cancelled"], kernel.Actor("professional", str(prof)), prof)
    rows = {r["id"]: r for r in _rows(_as_professional(app, prof))}
    labels = {name: rows[i]["state_label"] for name, i in ids.items()}
    assert labels == {
        "expired": "Expirée",
        "declared": "Invitation envoyée",
        "cgu": "Conditions acceptées",
        "pending": "Vérification manuelle en cours",
        "created": "Compte créé",
        "rejected": "Refusée",
        "locked": "Bloquée",
        "cancelled": "Annulée",
    }
    assert rows[expired]["declared_at"] == "2026-03-02 10:00"  # CET
    assert rows[expired]["updated_at"] == "2026-04-02 11:00"  # CEST
    actions = {
        name: (rows[i]["can_resend"], rows[i]["can_cancel"], rows[i]["can_redeclare"])
        for name, i in ids.items()
    }
    assert actions == {
        "expired": (False, False, True),
        "declared": (True, True, True),
        "cgu": (True, True, True),
        "pending": (False, False, False),
        "created": (False, False, False),
        # A rejection for a declaration error asks him to re-declare: he may correct it.
        "rejected": (False, False, True),
        "locked": (False, False, True),
        "cancelled": (False, False, False),
    }
    # Newest first.
    assert list(rows) == sorted(rows, key=lambda i: (rows[i]["declared_at"], i), reverse=True)


# --- the professional is told how his secretary's request ends --------------------------------


@pytest.mark.parametrize(
    ("outcome", "template", "subject"),
    [
        (
            "created",
            "professional_account_created",
            "Le compte eSanté de votre secrétaire a été créé",
        ),
        (
            "approved",
            "professional_account_created",
            "Le compte eSanté de votre secrétaire a été créé",
        ),
        (
            "rejected",
            "professional_rejected",
            "La demande de compte eSanté de votre secrétaire n'a pas été acceptée",
        ),
        (
            "locked",
            "professional_locked",
            "La demande de compte eSanté de votre secrétaire est bloquée",
        ),
    ],
)
def test_the_professional_is_emailed_the_outcome(sqlite_backend, outcome, template, subject):
    one, two = f.professional(sqlite_backend, 1), f.professional(sqlite_backend, 2)
    f.declare(sqlite_backend, two, **SOPHIE)
    if outcome == "created":
        enrolment_id, _th = f.walk_to(sqlite_backend, one, lc.ACCOUNT_CREATED)
    elif outcome in ("approved", "rejected"):
        reviewer = f.reviewer(sqlite_backend)
        enrolment_id, _th = f.walk_to(sqlite_backend, one, lc.PENDING_REVIEW)
        with sqlite_backend.uow() as uow:
            if outcome == "approved":
                decisions.approve(uow, enrolment_id, reviewer)
            else:
                decisions.reject(uow, enrolment_id, reviewer, reason_code="declaration_error")
    else:
        enrolment_id, _th = _walk_to_locked(sqlite_backend, one)
    f.provision(sqlite_backend)  # an account's emails wait for the identity platform
    to_doctors = [r for r in _outbox(sqlite_backend) if r.template.startswith("professional_")]
    assert [(r.template, r.recipient, r.enrolment_id) for r in to_doctors] == [
        (template, "dr1@cabinet.lu", enrolment_id)
    ]
    rendered = mail.render(to_doctors[0], sqlite_backend.settings)
    assert rendered.subject == subject
    assert "Bonjour Dr Jean Hoffmann1," in rendered.text
    assert "Marie Schmit" in rendered.text
    if outcome == "rejected":
        assert "nouvelle déclaration" in rendered.text
    if outcome == "locked":
        assert "nouvelle déclaration" in rendered.text and "5 fois" in rendered.text


# --- two submissions at once (a double click): still no duplicate -----------------------------


@pytest.fixture
def pg_backend(request, clock):
    """PostgreSQL only: row locks are what this is about (production runs PostgreSQL)."""
    if not PG_URL:
        pytest.skip("TEST_DATABASE_URL not set (PostgreSQL tests run in CI)")
    url = request.getfixturevalue("pg_migrated")
    _truncate_pg(url)
    settings = Settings(
        env="test",
        database_url=url,
        base_url="http://testserver",
        secret_key="test-secret-key-" + "x" * 32,
    )
    be = Backend(settings, make_engine(url), clock)
    yield be
    be.dispose()


DOUBLE_SUBMIT_BUG = (
    "dashboard/enrolment/declarations.py _declare(): the duplicate check is "
    "SELECT ... FROM enrolments WHERE professional_id=? AND declared_matricule=? AND state IN "
    "(open) FOR UPDATE, which locks nothing when no such row exists yet, and no unique index "
    "backs it; two submissions of the same declaration at once (a double click on "
    "« Enregistrer la déclaration », two tabs) both find no open declaration and both insert: "
    "two open declarations and two invitation emails for the same matricule. Serialise a "
    "professional's declarations (e.g. lock his professionals row FOR UPDATE first) or add a "
    "partial unique index on (professional_id, declared_matricule) for the open states and "
    "turn its IntegrityError into DuplicateDeclaration"
)


@pytest.mark.postgres
def test_two_simultaneous_submissions_make_one_declaration(pg_backend):
    app = create_app(pg_backend.settings, backend=pg_backend)
    prof = f.professional(pg_backend)
    # Hold each request just after its duplicate check until the other one has made its
    # own check too. If the check serialises requests (as it must), the second request
    # waits before its check, the barrier times out and the first one goes on alone.
    barrier = threading.Barrier(2, timeout=3)

    def after_check(conn, cursor, statement, *args):
        if "FROM enrolments" in statement and "FOR UPDATE" in statement:
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait()

    clients = [_as_professional(app, prof) for _ in range(2)]
    results: list = [None, None]

    def submit(i):
        results[i] = _submit(clients[i])

    event.listen(pg_backend.engine, "after_cursor_execute", after_check)
    try:
        threads = [threading.Thread(target=submit, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        event.remove(pg_backend.engine, "after_cursor_execute", after_check)
    assert [r.status_code for r in results] == [200, 200]
    outcomes = sorted(
        "declared" if dc.values(r)[("decl-result", "children")] else "refused" for r in results
    )
    assert outcomes == ["declared", "refused"]
    open_ones = [e for e in _enrolments(pg_backend) if e.state in lc.OPEN]
    assert len(open_ones) == 1
    assert len(_outbox(pg_backend, "invitation")) == 1


def test_each_of_two_doctors_is_told_when_their_common_secretary_has_her_account(
    sqlite_backend,
):
    """The second declaration links the existing account; its doctor is told too."""
    one, two = f.professional(sqlite_backend, 1), f.professional(sqlite_backend, 2)
    first, _ = f.walk_to(sqlite_backend, one, lc.ACCOUNT_CREATED)
    second, _ = f.walk_to(sqlite_backend, two, lc.ACCOUNT_CREATED)
    f.provision(sqlite_backend)
    to_doctors = [
        (r.template, r.recipient, r.enrolment_id)
        for r in _outbox(sqlite_backend)
        if r.template.startswith("professional_")
    ]
    assert to_doctors == [
        ("professional_account_created", "dr1@cabinet.lu", first),
        ("professional_account_created", "dr2@cabinet.lu", second),
    ]


def test_a_name_longer_than_the_limit_gets_a_message_not_a_silent_cut(sqlite_backend, app):
    """The form's inputs let a longer entry through (their bound is far above the limit),
    so that the service's message says what is wrong; nothing is declared (issue 22)."""
    prof = f.professional(sqlite_backend)
    client = _as_professional(app, prof)
    page = _render(client, "/professionnel/declarer").get_json()

    def props_of(node, wanted):
        if isinstance(node, dict):
            props = node.get("props", {})
            if props.get("id") == wanted:
                return props
            return next((p for v in node.values() if (p := props_of(v, wanted)) is not None), None)
        if isinstance(node, list):
            return next((p for v in node if (p := props_of(v, wanted)) is not None), None)
        return None

    for field in ("last_name", "first_names", "email"):
        props = props_of(page, FIELD_IDS[field])
        assert props is not None and int(props.get("maxlength", 0)) > 254, (field, props)
    before = _snapshot(sqlite_backend)
    out = dc.values(_submit(client, last_name="W" * 201, first_names="M" * 205))
    assert out[(f"{FIELD_IDS['last_name']}-error", "children")] == (
        "Le champ « Nom » ne peut dépasser 200 caractères."
    )
    assert "200 caractères" in out[(f"{FIELD_IDS['first_names']}-error", "children")]
    assert _snapshot(sqlite_backend) == before
