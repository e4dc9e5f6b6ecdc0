"""Back-office staff: password login, idle expiry, and the admin's staff page (the
throttle: test_staff_login.py; sessions that end: test_sessions.py).

Through the real Flask/Dash server (no browser): the login form's POST, the page router's
callback and the admin callbacks, exactly as the browser calls them.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from dashboard.app import create_app
from dashboard.enrolment import staff
from dashboard.enrolment.model import Base, Event, StaffUser
from tests import dashclient as dc

PASSWORD = "correct horse battery"
WRONG_MESSAGE = "Adresse email ou mot de passe incorrect."
EXPIRED_MESSAGE = "Votre session a expiré après 30 minutes d'inactivité ; reconnectez-vous."


@pytest.fixture
def app(sqlite_backend):
    return create_app(sqlite_backend.settings, backend=sqlite_backend)


@pytest.fixture
def client(app):
    return app.server.test_client()


@pytest.fixture
def people(sqlite_backend):
    """One staff member per role, created through the service (argon2 hashes)."""
    made = {}
    with sqlite_backend.uow() as uow:
        for key, email, roles, name in [
            ("admin", "admin@esante.lu", ["admin"], "Anne Admin"),
            ("reviewer", "rita@esante.lu", ["reviewer"], "Rita Reviewer"),
            ("manager", "marc@esante.lu", ["manager"], "Marc Manager"),
            ("both", "bea@esante.lu", ["reviewer", "admin"], "Béa Both"),
        ]:
            made[key] = staff.add_user(uow, email, PASSWORD, roles, display_name=name).id
    return made


def _login(client, email, password=PASSWORD):
    token = dc.csrf_token(client)
    return client.post(
        "/backoffice/login", data={"email": email, "password": password, "csrf_token": token}
    )


def _page(client, path) -> dict:
    response = dc.render_page(client, path)
    assert response.status_code == 200, response.data[:300]
    return response.get_json()


def _text(client, path) -> str:
    return json.dumps(_page(client, path), ensure_ascii=False)


def _find(tree, component_id):
    """The component with this id in a rendered layout (JSON), or None."""
    if isinstance(tree, dict):
        if tree.get("props", {}).get("id") == component_id:
            return tree
        for value in tree.values():
            found = _find(value, component_id)
            if found is not None:
                return found
    elif isinstance(tree, list):
        for value in tree:
            found = _find(value, component_id)
            if found is not None:
                return found
    return None


def _staff(backend, user_id) -> StaffUser:
    with backend.uow() as uow:
        user = uow.session.get(StaffUser, user_id)
        uow.session.expunge(user)
        return user


def _snapshot(backend):
    with backend.uow() as uow:
        return [
            (r.id, r.email, r.roles, r.active) for r in staff.list_staff(uow)
        ], uow.session.scalars(select(Event.action)).all()


def _location(response) -> str:
    return response.headers["Location"].replace("http://localhost", "")


# --- logging in ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "target"),
    [
        ("reviewer", "/backoffice"),
        ("both", "/backoffice"),
        ("manager", "/backoffice/accueil"),
        ("admin", "/backoffice/accueil"),
    ],
)
def test_right_password_lands_on_their_page(client, people, who, target):
    email = {
        "admin": "admin@esante.lu",
        "reviewer": "rita@esante.lu",
        "manager": "marc@esante.lu",
        "both": "bea@esante.lu",
    }[who]
    response = _login(client, email.upper())  # emails are not case-sensitive
    assert response.status_code == 303
    assert _location(response) == target
    assert response.headers["Cache-Control"] == "no-store"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    home = _page(client, "/backoffice/accueil")
    assert _find(home, "access-denied") is None
    parts = {
        "reviewer": {"part-queue"},
        "both": {"part-queue", "part-staff"},
        "manager": {"part-indicators"},
        "admin": {"part-staff"},
    }[who]
    for part in ("part-queue", "part-indicators", "part-staff"):
        assert (_find(home, part) is not None) == (part in parts), part
    assert _find(home, "staff-logout")["props"]["type"] == "submit"  # a POST form, not a link
    # The login page now offers her pages instead of the form.
    login_page = _page(client, "/backoffice/connexion")
    assert _find(login_page, "staff-already-links") is not None
    assert _find(login_page, "staff-password") is None


def test_the_landing_page_names_the_user_and_links_each_part(client, people):
    _login(client, "bea@esante.lu")
    home = _page(client, "/backoffice/accueil")
    assert _find(home, "staff-name")["props"]["children"] == "Béa Both"
    text = json.dumps(home, ensure_ascii=False)
    assert "File des dossiers" in text and '"href": "/backoffice"' in text
    assert '"href": "/backoffice/personnel"' in text
    assert "/backoffice/indicateurs" not in text


def test_the_login_form_posts_natively_with_labelled_fields(client):
    page = _page(client, "/backoffice/connexion")
    text = json.dumps(page, ensure_ascii=False)
    assert "Connexion de l'équipe eSanté" in text
    form = _find(page, "staff-login-form")
    assert form["type"] == "Form"
    assert form["props"]["action"] == "/backoffice/login"
    assert form["props"]["method"] == "POST"
    email = _find(page, "staff-email")["props"]
    password = _find(page, "staff-password")["props"]
    assert email["name"] == "email" and email["autocomplete"] == "username"
    assert password["name"] == "password" and password["type"] == "password"
    assert password["autocomplete"] == "current-password"
    assert _find(page, "staff-login-submit")["props"]["type"] == "submit"
    assert '"html_for": "staff-email"' in text and '"html_for": "staff-password"' in text
    assert _find(page, "staff-login-error") is None
    assert _find(page, "staff-session-expired") is None


def test_wrong_password_says_so_once_and_keeps_the_email(client, people):
    response = _login(client, "rita@esante.lu", "not the password")
    assert response.status_code == 303
    assert _location(response) == "/backoffice/connexion"
    page = _page(client, "/backoffice/connexion")
    error = _find(page, "staff-login-error")
    assert error["props"]["children"] == WRONG_MESSAGE
    assert error["props"]["role"] == "alert"
    assert _find(page, "staff-email")["props"]["value"] == "rita@esante.lu"
    assert _find(page, "staff-password")["props"].get("value") in (None, "")
    assert "not the password" not in json.dumps(page)
    # Shown once: a reload is a clean form.
    again = _page(client, "/backoffice/connexion")
    assert _find(again, "staff-login-error") is None
    assert _find(again, "staff-email")["props"]["value"] in (None, "")
    assert _find(_page(client, "/backoffice/accueil"), "access-denied") is not None


def test_unknown_email_gets_the_same_message_as_a_wrong_password(client, people):
    _login(client, "nobody@esante.lu", "whatever password")
    unknown = _find(_page(client, "/backoffice/connexion"), "staff-login-error")
    _login(client, "rita@esante.lu", "whatever password")
    wrong = _find(_page(client, "/backoffice/connexion"), "staff-login-error")
    assert unknown == wrong
    assert unknown["props"]["children"] == WRONG_MESSAGE


def test_a_disabled_account_cannot_log_in_and_loses_a_running_session(
    app, client, people, sqlite_backend
):
    _login(client, "rita@esante.lu")
    assert _find(_page(client, "/backoffice/accueil"), "part-queue") is not None
    with sqlite_backend.uow() as uow:
        staff.set_active(uow, people["admin"], people["reviewer"], False)
    # Her open session: refused at the very next request.
    assert _find(_page(client, "/backoffice/accueil"), "access-denied") is not None
    # And a new login, with the right password, too.
    other = app.server.test_client()
    response = _login(other, "rita@esante.lu")
    assert _location(response) == "/backoffice/connexion"
    page = _page(other, "/backoffice/connexion")
    assert _find(page, "staff-login-error")["props"]["children"] == WRONG_MESSAGE


def test_new_roles_take_effect_at_the_next_login(client, people, sqlite_backend):
    _login(client, "marc@esante.lu")
    assert _find(_page(client, "/backoffice/personnel"), "access-denied") is not None
    with sqlite_backend.uow() as uow:
        staff.set_roles(uow, people["admin"], people["manager"], ["manager", "admin"])
    # The session opened under the old roles has ended (tests/integration/test_sessions.py).
    assert _find(_page(client, "/backoffice/indicateurs"), "access-denied") is not None
    _login(client, "marc@esante.lu")
    assert _find(_page(client, "/backoffice/personnel"), "staff-grid") is not None


def test_thirty_minutes_idle_logs_staff_out(client, people):
    _login(client, "admin@esante.lu")
    assert _find(_page(client, "/backoffice/personnel"), "staff-grid") is not None
    with client.session_transaction() as session:
        assert "last_seen" in session
        session["last_seen"] -= 31 * 60
    # The next request finds her idle: logged out, nothing shown.
    assert _find(_page(client, "/backoffice/personnel"), "access-denied") is not None
    login_page = _page(client, "/backoffice/connexion")
    notice = _find(login_page, "staff-session-expired")
    assert notice["props"]["children"] == EXPIRED_MESSAGE
    assert _find(login_page, "staff-password") is not None
    assert _find(_page(client, "/backoffice/connexion"), "staff-session-expired") is None


def test_twenty_nine_minutes_idle_is_still_logged_in(client, people):
    _login(client, "admin@esante.lu")
    _page(client, "/backoffice/accueil")
    with client.session_transaction() as session:
        session["last_seen"] -= 29 * 60
    assert _find(_page(client, "/backoffice/personnel"), "staff-grid") is not None


def test_last_seen_moves_by_the_minute_so_the_session_is_not_re_sent_each_request(client, people):
    _login(client, "admin@esante.lu")
    _page(client, "/backoffice/accueil")
    with client.session_transaction() as session:
        session["last_seen"] -= 20  # seen 20 s ago: same minute step
        seen = session["last_seen"]
    response = dc.render_page(client, "/backoffice/personnel")
    assert response.status_code == 200
    assert "esante_session=" not in " ".join(response.headers.getlist("Set-Cookie"))
    with client.session_transaction() as session:
        assert session["last_seen"] == seen
        session["last_seen"] -= 61  # a minute later: moved, and the cookie re-sent
    response = dc.render_page(client, "/backoffice/personnel")
    assert "esante_session=" in " ".join(response.headers.getlist("Set-Cookie"))
    with client.session_transaction() as session:
        assert session["last_seen"] > seen


def test_logout_ends_the_session(client, people):
    _login(client, "admin@esante.lu")
    assert _find(_page(client, "/backoffice/accueil"), "part-staff") is not None
    client.get("/backoffice/deconnexion")  # a link (or an image elsewhere) changes nothing
    assert _find(_page(client, "/backoffice/accueil"), "part-staff") is not None
    response = dc.submit_form(client, "/backoffice/accueil", "/backoffice/deconnexion")
    assert _location(response) == "/backoffice/connexion"
    assert _find(_page(client, "/backoffice/accueil"), "access-denied") is not None


def test_logins_are_recorded_and_no_password_is_stored(client, people, sqlite_backend):
    _login(client, "rita@esante.lu", "a wrong password")
    _login(client, "rita@esante.lu")
    _login(client, "nobody@esante.lu", "typed by a stranger")
    with sqlite_backend.uow() as uow:
        events = uow.session.scalars(
            select(Event)
            .where(Event.action.in_(["staff_login", "staff_login_failed"]))
            .order_by(Event.id)
        ).all()
        assert [(e.action, e.actor_type, e.actor_id) for e in events] == [
            ("staff_login_failed", "staff", str(people["reviewer"])),
            ("staff_login", "staff", str(people["reviewer"])),
            ("staff_login_failed", "anonymous", None),
        ]
        dump = _database_dump(uow)
    for secret in (PASSWORD, "a wrong password", "typed by a stranger"):
        assert secret not in dump
    with sqlite_backend.uow() as uow:
        assert uow.session.get(StaffUser, people["reviewer"]).password_hash.startswith("$argon2id$")


def _database_dump(uow) -> str:
    """Every row of every table, as text."""
    rows = []
    for table in Base.metadata.sorted_tables:
        rows.extend(repr(tuple(row)) for row in uow.session.execute(table.select()))
    return "\n".join(rows)


# --- the admin's staff page, through its callbacks --------------------------------------------

ACT_OUTPUTS = [
    ("staff-message", "children"),
    ("staff-message", "className"),
    ("staff-grid", "rowData"),
    ("staff-grid", "selectedRows"),
    ("staff-new-password", "children"),
    ("staff-new-email", "value"),
    ("staff-new-name", "value"),
    ("staff-new-roles", "value"),
    ("staff-new-email-error", "children"),
    ("staff-new-roles-error", "children"),
]
SELECT_OUTPUTS = [
    ("staff-selected", "children"),
    ("staff-selected-fieldset", "disabled"),
    ("staff-roles", "options"),
    ("staff-roles", "value"),
    ("staff-save-roles", "disabled"),
    ("staff-toggle-active", "disabled"),
    ("staff-toggle-active", "children"),
]


def _act(client, trigger, *, selected=None, roles=None, email=None, name=None, new_roles=None):
    return dc.call(
        client,
        ACT_OUTPUTS,
        [
            ("staff-save-roles", "n_clicks", 1 if trigger == "staff-save-roles" else None),
            ("staff-toggle-active", "n_clicks", 1 if trigger == "staff-toggle-active" else None),
            ("staff-add", "n_clicks", 1 if trigger == "staff-add" else None),
        ],
        state=[
            ("staff-grid", "selectedRows", selected),
            ("staff-roles", "value", roles),
            ("staff-new-email", "value", email),
            ("staff-new-name", "value", name),
            ("staff-new-roles", "value", new_roles),
        ],
        triggered=f"{trigger}.n_clicks",
    )


def _select(client, rows):
    return dc.call(client, SELECT_OUTPUTS, [("staff-grid", "selectedRows", rows)])


def _grid_rows(client) -> list[dict]:
    page = _page(client, "/backoffice/personnel")
    return _find(page, "staff-grid")["props"]["rowData"]


def _row(client, email) -> dict:
    return next(r for r in _grid_rows(client) if r["email"] == email)


def _one_time_password(children) -> str:
    return _find(children, "staff-new-password-value")["props"]["children"]


@pytest.fixture
def admin(client, people):
    response = _login(client, "admin@esante.lu")
    assert _location(response) == "/backoffice/accueil"
    return client


def test_the_admin_sees_every_account(admin):
    rows = _grid_rows(admin)
    assert [r["email"] for r in rows] == [
        "admin@esante.lu",
        "bea@esante.lu",
        "marc@esante.lu",
        "rita@esante.lu",
    ]
    rita = rows[-1]
    assert rita["name"] == "Rita Reviewer"
    assert rita["roles"] == "Vérification d'identité"
    assert rita["role_codes"] == ["reviewer"]
    assert rita["active"] is True
    assert rita["created"] == "2026-03-02 09:00"
    page = _page(admin, "/backoffice/personnel")
    columns = [c["field"] for c in _find(page, "staff-grid")["props"]["columnDefs"]]
    assert columns == ["email", "name", "roles", "active", "created"]
    assert "password" not in json.dumps(rows)


def test_selecting_a_row_fills_the_panel_from_the_server(admin):
    empty = dc.values(_select(admin, []))
    assert empty[("staff-selected-fieldset", "disabled")] is True
    assert empty[("staff-save-roles", "disabled")] is True
    rita = _row(admin, "rita@esante.lu")
    # Whatever the browser claims about the row, the panel shows the server's data.
    forged = dict(rita, role_codes=["admin"], active=False)
    chosen = dc.values(_select(admin, [forged]))
    assert chosen[("staff-selected-fieldset", "disabled")] is False
    assert chosen[("staff-roles", "value")] == ["reviewer"]
    assert chosen[("staff-toggle-active", "children")] == "Désactiver"
    assert chosen[("staff-save-roles", "disabled")] is False
    assert "rita@esante.lu" in chosen[("staff-selected", "children")]
    labels = {o["value"]: o["label"] for o in chosen[("staff-roles", "options")]}
    assert labels == {
        "reviewer": "Vérification d'identité",
        "lead": "Chef(fe) d'équipe",
        "manager": "Indicateurs",
        "admin": "Administration",
    }


def test_the_admin_adds_an_account_and_sees_its_password_once(admin, people, sqlite_backend):
    response = _act(
        admin,
        "staff-add",
        email="  Nina@Esante.lu ",
        name="Nina Neuve",
        new_roles=["reviewer", "manager"],
    )
    assert response.status_code == 200
    out = dc.values(response)
    password = _one_time_password(out[("staff-new-password", "children")])
    assert len(password) >= staff.MIN_PASSWORD
    notice = json.dumps(out[("staff-new-password", "children")], ensure_ascii=False)
    assert "nina@esante.lu" in notice and "ne sera plus jamais affiché" in notice
    assert "alert-success" in out[("staff-message", "className")]
    assert out[("staff-new-email", "value")] == ""  # the form is cleared
    assert "nina@esante.lu" in [r["email"] for r in out[("staff-grid", "rowData")]]
    with sqlite_backend.uow() as uow:
        user = uow.session.scalar(select(StaffUser).where(StaffUser.email == "nina@esante.lu"))
        assert user.display_name == "Nina Neuve"
        assert user.role_names == {"reviewer", "manager"}
        assert user.password_hash.startswith("$argon2id$")
        assert password not in user.password_hash
        assert staff.authenticate(uow, "nina@esante.lu", password) is not None
        added = uow.session.scalars(select(Event).where(Event.action == "staff_added")).one()
        assert added.actor_id == str(people["admin"])
        assert password not in _database_dump(uow)
    # Never again: not in the page, and the next action hides it.
    assert password not in _text(admin, "/backoffice/personnel")
    again = dc.values(_act(admin, "staff-save-roles", selected=[], roles=["reviewer"]))
    assert again[("staff-new-password", "children")] is None
    # The new account logs in with it.
    dc.submit_form(admin, "/backoffice/personnel", "/backoffice/deconnexion")
    assert _location(_login(admin, "nina@esante.lu", password)) == "/backoffice"


def test_adding_refuses_bad_input_and_changes_nothing(admin, sqlite_backend):
    before = _snapshot(sqlite_backend)
    bad = dc.values(_act(admin, "staff-add", email="not-an-email", new_roles=[]))
    assert bad[("staff-new-email-error", "children")]
    assert "Rôle inconnu ou absent" in bad[("staff-new-roles-error", "children")]
    assert "aucun compte n'a été créé" in bad[("staff-message", "children")]
    assert "alert-danger" in bad[("staff-message", "className")]
    assert bad[("staff-new-password", "children")] is None
    taken = dc.values(_act(admin, "staff-add", email="rita@esante.lu", new_roles=["reviewer"]))
    assert "existe déjà" in taken[("staff-new-email-error", "children")]
    forged = dc.values(_act(admin, "staff-add", email="x@esante.lu", new_roles=["superuser"]))
    assert "Rôle inconnu" in forged[("staff-new-roles-error", "children")]
    assert _snapshot(sqlite_backend) == before


def test_the_admin_changes_roles(admin, people, sqlite_backend):
    rita = _row(admin, "rita@esante.lu")
    out = dc.values(_act(admin, "staff-save-roles", selected=[rita], roles=["manager", "reviewer"]))
    assert out[("staff-message", "children")] == "Les rôles ont été enregistrés."
    assert "alert-success" in out[("staff-message", "className")]
    assert _staff(sqlite_backend, people["reviewer"]).role_names == {"manager", "reviewer"}
    [fresh] = out[("staff-grid", "selectedRows")]
    assert fresh["role_codes"] == ["manager", "reviewer"]
    with sqlite_backend.uow() as uow:
        event = uow.session.scalars(
            select(Event).where(Event.action == "staff_roles_changed")
        ).one()
        assert event.actor_id == str(people["admin"])  # the session's admin, not the browser
    # No role at all, or an unknown one: refused, nothing changed.
    for roles in ([], ["superuser"]):
        refused = dc.values(_act(admin, "staff-save-roles", selected=[rita], roles=roles))
        assert "Rien n'a été modifié" in refused[("staff-message", "children")]
        assert "alert-danger" in refused[("staff-message", "className")]
    assert _staff(sqlite_backend, people["reviewer"]).role_names == {"manager", "reviewer"}


def test_the_admin_disables_and_enables_an_account(admin, people, sqlite_backend):
    rita = _row(admin, "rita@esante.lu")
    out = dc.values(_act(admin, "staff-toggle-active", selected=[rita]))
    assert "désactivé" in out[("staff-message", "children")]
    assert _staff(sqlite_backend, people["reviewer"]).active is False
    [fresh] = out[("staff-grid", "selectedRows")]
    assert fresh["active"] is False
    assert dc.values(_select(admin, [fresh]))[("staff-toggle-active", "children")] == "Réactiver"
    out = dc.values(_act(admin, "staff-toggle-active", selected=[fresh]))
    assert out[("staff-message", "children")] == "Le compte a été réactivé."
    assert _staff(sqlite_backend, people["reviewer"]).active is True


def test_the_last_admin_keeps_the_admin_role_and_nobody_disables_themselves(client, sqlite_backend):
    with sqlite_backend.uow() as uow:
        solo = staff.add_user(uow, "solo@esante.lu", PASSWORD, ["admin"], "Solo").id
        staff.add_user(uow, "rita@esante.lu", PASSWORD, ["reviewer"], "Rita")
    _login(client, "solo@esante.lu")
    me = _row(client, "solo@esante.lu")
    before = _snapshot(sqlite_backend)
    out = dc.values(_act(client, "staff-save-roles", selected=[me], roles=["reviewer"]))
    assert "Il doit rester au moins un administrateur actif." in out[("staff-message", "children")]
    assert "Rien n'a été modifié" in out[("staff-message", "children")]
    out = dc.values(_act(client, "staff-toggle-active", selected=[me]))
    assert (
        "Vous ne pouvez pas désactiver votre propre compte." in out[("staff-message", "children")]
    )
    assert _snapshot(sqlite_backend) == before
    assert _staff(sqlite_backend, solo).role_names == {"admin"}


def test_an_admin_may_drop_their_own_admin_role_when_another_remains(admin, people):
    me = _row(admin, "admin@esante.lu")
    out = dc.values(_act(admin, "staff-save-roles", selected=[me], roles=["manager"]))
    assert out[("staff-message", "children")] == "Les rôles ont été enregistrés."
    # From her very next request she is no longer an admin.
    assert _find(_page(admin, "/backoffice/personnel"), "access-denied") is not None
    assert _act(admin, "staff-save-roles", selected=[me], roles=["admin"]).status_code == 403


def test_an_unknown_account_is_reported(admin, sqlite_backend):
    before = _snapshot(sqlite_backend)
    ghost = {"id": 9999, "email": "ghost@esante.lu", "active": True}
    out = dc.values(_act(admin, "staff-save-roles", selected=[ghost], roles=["reviewer"]))
    assert "Ce compte n'existe pas." in out[("staff-message", "children")]
    out = dc.values(_act(admin, "staff-toggle-active", selected=[ghost]))
    assert "Ce compte n'existe pas." in out[("staff-message", "children")]
    out = dc.values(_act(admin, "staff-toggle-active", selected=[]))
    assert "Sélectionnez d'abord un compte" in out[("staff-message", "children")]
    assert _snapshot(sqlite_backend) == before


@pytest.mark.parametrize("who", ["reviewer", "manager", "anonymous", "disabled admin"])
def test_others_get_no_page_and_no_callback(app, client, people, sqlite_backend, who):
    if who == "reviewer":
        _login(client, "rita@esante.lu")
    elif who == "manager":
        _login(client, "marc@esante.lu")
    elif who == "disabled admin":
        _login(client, "bea@esante.lu")
        with sqlite_backend.uow() as uow:
            staff.set_active(uow, people["admin"], people["both"], False)
    page = _page(client, "/backoffice/personnel")
    assert _find(page, "access-denied") is not None
    assert "admin@esante.lu" not in json.dumps(page)
    before = _snapshot(sqlite_backend)
    rita = {"id": people["reviewer"], "email": "rita@esante.lu", "active": True}
    me = {"id": people["admin"], "email": "admin@esante.lu", "active": True}
    responses = [
        _select(client, [rita]),
        _act(client, "staff-save-roles", selected=[rita], roles=["admin"]),
        _act(client, "staff-save-roles", selected=[me], roles=["reviewer"]),
        _act(client, "staff-toggle-active", selected=[me]),
        _act(client, "staff-add", email="intruder@esante.lu", new_roles=["admin"]),
    ]
    assert [r.status_code for r in responses] == [403] * len(responses)
    assert all(b"admin@esante.lu" not in r.data for r in responses)
    assert _snapshot(sqlite_backend) == before


def test_the_landing_page_is_for_staff_only(app, client, people):
    assert _find(_page(client, "/backoffice/accueil"), "access-denied") is not None
