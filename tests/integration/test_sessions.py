"""Sessions that end on the server (issue #18): every staff, professional and secretary
session has a handle in the database, checked on every request.

The attack each test replays: someone copies the session cookie (a shared office computer,
a stolen backup, a proxy log). The copy must stop working when the session ends — logout,
an administrator's decision, a changed password or roles — and, whatever happens, after
SESSION_MAX_HOURS. Browsers are Flask test clients or, where LuxTrust is involved,
`requests` sessions against the app served over HTTP with an independent OpenID Connect
provider; a copied cookie is a second client holding the same cookies.
"""

from __future__ import annotations

import json

import pytest
import requests
from oidc_provider_mock import User, run_server_in_thread
from sqlalchemy import func, select

from dashboard.app import create_app
from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment import matricule, staff
from dashboard.enrolment.model import Base, Enrolment, Event, StaffUser
from tests import dashclient as dc
from tests import factories as f
from tests.conftest import serve_with_issuer
from tests.dashclient import output_key

PASSWORD = "correct horse battery staple"  # what factories.reviewer() sets
ADMIN = "anne.admin@esante.lu"
RITA = "rita.reviewer@esante.lu"
CGU_OUTPUTS = [("cgu-nav", "href"), ("cgu-accepted-error", "children")]
SELECT_OUTPUTS = [
    ("staff-selected", "children"),
    ("staff-selected-fieldset", "disabled"),
    ("staff-roles", "options"),
    ("staff-roles", "value"),
    ("staff-save-roles", "disabled"),
    ("staff-toggle-active", "disabled"),
    ("staff-toggle-active", "children"),
]
ENDED_NOTICE = "Votre session a pris fin ; reconnectez-vous."
# A second secretary (her own matricule), who already has her account.
OTHER = {"email": "laura.weber@example.lu", "matricule": matricule.make("19900203", "456")}


@pytest.fixture
def app(backend):
    return create_app(backend.settings, backend=backend)


@pytest.fixture
def people(backend):
    return {
        "admin": f.reviewer(backend, email=ADMIN, roles=("admin",)),
        "rita": f.reviewer(backend, email=RITA, roles=("reviewer",)),
    }


def _login(client, email, password=PASSWORD):
    response = client.post(
        "/backoffice/login",
        data={"email": email, "password": password, "csrf_token": dc.csrf_token(client)},
    )
    assert response.status_code == 303
    return response


def _logged_in(app, email):
    client = app.server.test_client()
    assert "connexion" not in _login(client, email).headers["Location"]
    return client


def copy_of(app, browser):
    """Another browser holding the very same cookies."""
    thief = app.server.test_client()
    for name in ("esante_session", "_csrf_token"):
        cookie = browser.get_cookie(name)
        if cookie is not None:
            thief.set_cookie(name, cookie.value)
    return thief


def _page(client, path) -> dict:
    response = dc.render_page(client, path)
    assert response.status_code == 200, response.data[:300]
    return response.get_json()


def _has(tree, component_id) -> bool:
    return any(c["props"].get("id") == component_id for c in dc.components(tree))


def _denied(client, path) -> bool:
    return _has(_page(client, path), "access-denied")


def _reviewer_can_work(client) -> bool:
    """The queue page, as a reviewer sees it (not the "access refused" page)."""
    return not _denied(client, "/backoffice")


def _admin_can_work(client) -> bool:
    page_ok = _has(_page(client, "/backoffice/personnel"), "staff-grid")
    callback = dc.call(client, SELECT_OUTPUTS, [("staff-grid", "selectedRows", [])])
    assert page_ok == (callback.status_code == 200), callback.status_code
    return page_ok


# --- staff -----------------------------------------------------------------------------------


def test_a_staff_cookie_copied_before_logout_is_refused_after_it(app, people):
    browser = _logged_in(app, ADMIN)
    thief = copy_of(app, browser)
    assert _admin_can_work(thief)  # the copy works as long as the session lives
    response = dc.submit_form(browser, "/backoffice/personnel", "/backoffice/deconnexion")
    assert response.headers["Location"] == "/backoffice/connexion"
    assert not _admin_can_work(browser)
    # The copy, made before the logout, is refused from the next request on: page and
    # callback alike, and it stays refused.
    assert not _admin_can_work(thief)
    assert not _admin_can_work(thief)


def test_the_staff_session_handle_is_stored_as_a_digest(app, backend, people):
    browser = _logged_in(app, RITA)
    with browser.session_transaction() as s:
        held = s["_user_id"]
    kind, staff_id, token = held.split(":")
    assert (kind, int(staff_id)) == ("staff", people["rita"])
    assert len(token) >= 40  # 256 bits from secrets
    with backend.uow() as uow:
        dump = "\n".join(
            repr(tuple(row))
            for table in Base.metadata.sorted_tables
            for row in uow.session.execute(table.select())
        )
    assert token not in dump  # a copy of the database gives no session away


def test_a_session_cookie_without_a_live_handle_is_refused(app, people):
    """A cookie signed with the right key but naming no handle (as every session before
    this change did, or as anyone holding the key could forge) opens nothing."""
    forged = app.server.test_client()
    with forged.session_transaction() as s:
        s["_user_id"] = f"staff:{people['admin']}"
        s["_fresh"] = True
    assert not _admin_can_work(forged)
    with forged.session_transaction() as s:
        s["_user_id"] = f"staff:{people['admin']}:not-a-handle-of-ours"
    assert not _admin_can_work(forged)


def test_disabling_an_account_ends_its_sessions_for_good(app, backend, people):
    browser = _logged_in(app, RITA)
    thief = copy_of(app, browser)
    with backend.uow() as uow:
        staff.set_active(uow, people["admin"], people["rita"], False)
    with backend.uow() as uow:
        staff.set_active(uow, people["admin"], people["rita"], True)
    # Enabled again, she logs in anew; what was open before stays closed.
    assert not _reviewer_can_work(browser)
    assert not _reviewer_can_work(thief)
    assert _reviewer_can_work(_logged_in(app, RITA))


def test_a_change_of_roles_ends_the_sessions(app, backend, people):
    browser = _logged_in(app, RITA)
    other_device = _logged_in(app, RITA)
    with backend.uow() as uow:
        staff.set_roles(uow, people["admin"], people["rita"], ["reviewer", "manager"])
    assert not _reviewer_can_work(browser)
    assert not _reviewer_can_work(other_device)
    fresh = _logged_in(app, RITA)
    assert _reviewer_can_work(fresh)
    assert not _denied(fresh, "/backoffice/indicateurs")  # the new role, from a new login
    # Saving the same roles again changes nothing, so it ends nothing.
    with backend.uow() as uow:
        staff.set_roles(uow, people["admin"], people["rita"], ["manager", "reviewer"])
    assert _reviewer_can_work(fresh)


def _reset_password(admin, user_id):
    return dc.call_by_input(
        admin,
        "staff-reset-password-confirm",
        [
            ("staff-reset-password-confirm", "submit_n_clicks", 1),
            ("staff-end-sessions-confirm", "submit_n_clicks", None),
            ("staff-end-all-confirm", "submit_n_clicks", None),
        ],
        state=[("staff-grid", "selectedRows", [{"id": user_id}])],
        triggered="staff-reset-password-confirm.submit_n_clicks",
    )


def _end_sessions(admin, user_id=None, *, everyone=False):
    trigger = "staff-end-all-confirm" if everyone else "staff-end-sessions-confirm"
    return dc.call_by_input(
        admin,
        "staff-reset-password-confirm",
        [
            ("staff-reset-password-confirm", "submit_n_clicks", None),
            ("staff-end-sessions-confirm", "submit_n_clicks", None if everyone else 1),
            ("staff-end-all-confirm", "submit_n_clicks", 1 if everyone else None),
        ],
        state=[("staff-grid", "selectedRows", [{"id": user_id}] if user_id else [])],
        triggered=f"{trigger}.submit_n_clicks",
    )


def _notice_password(out) -> str:
    notice = out[("staff-reset-notice", "children")]
    return next(
        c["props"]["children"]
        for c in dc.components(notice)
        if c["props"].get("id") == "staff-reset-password-value"
    )


def test_a_new_password_ends_the_sessions_and_replaces_the_old_one(app, backend, people):
    browser = _logged_in(app, RITA)
    thief = copy_of(app, browser)
    admin = _logged_in(app, ADMIN)
    response = _reset_password(admin, people["rita"])
    assert response.status_code == 200, response.data[:300]
    out = dc.values(response)
    password = _notice_password(out)
    assert len(password) >= staff.MIN_PASSWORD
    notice = json.dumps(out[("staff-reset-notice", "children")], ensure_ascii=False)
    assert "ne sera plus jamais affiché" in notice and RITA in notice
    assert "alert-success" in out[("staff-session-message", "className")]
    assert not _reviewer_can_work(browser)
    assert not _reviewer_can_work(thief)
    assert _admin_can_work(admin)  # the admin's own session is not touched
    # The old password no longer opens anything; the new one does.
    assert _login(app.server.test_client(), RITA).headers["Location"] == "/backoffice/connexion"
    assert _login(app.server.test_client(), RITA, password).headers["Location"] == "/backoffice"
    with backend.uow() as uow:
        event = uow.session.scalars(
            select(Event).where(Event.action == "staff_password_reset")
        ).one()
        assert (event.actor_type, event.actor_id) == ("staff", str(people["admin"]))
        assert event.data == {"user_id": people["rita"]}
        assert password not in repr(event.data)
        user = uow.session.get(StaffUser, people["rita"])
        assert password not in user.password_hash and user.password_hash.startswith("$argon2")


def test_an_admin_cannot_reset_her_own_password_here(app, backend, people):
    admin = _logged_in(app, ADMIN)
    with backend.uow() as uow:
        before = uow.session.get(StaffUser, people["admin"]).password_hash
    out = dc.values(_reset_password(admin, people["admin"]))
    assert "Rien n'a été modifié" in out[("staff-session-message", "children")]
    assert out[("staff-reset-notice", "children")] is None
    with backend.uow() as uow:
        assert uow.session.get(StaffUser, people["admin"]).password_hash == before
    assert _admin_can_work(admin)


def test_an_admin_ends_the_sessions_of_one_account(app, backend, people):
    browser = _logged_in(app, RITA)
    thief = copy_of(app, browser)
    other_device = _logged_in(app, RITA)
    f.reviewer(backend, email="bob@esante.lu", roles=("reviewer",))
    bob = _logged_in(app, "bob@esante.lu")
    admin = _logged_in(app, ADMIN)
    out = dc.values(_end_sessions(admin, people["rita"]))
    assert "alert-success" in out[("staff-session-message", "className")]
    assert RITA in out[("staff-session-message", "children")]
    assert not _reviewer_can_work(browser)
    assert not _reviewer_can_work(thief)
    assert not _reviewer_can_work(other_device)
    assert _reviewer_can_work(bob)  # only hers
    assert _admin_can_work(admin)
    with backend.uow() as uow:
        event = uow.session.scalars(
            select(Event).where(Event.action == "staff_sessions_ended")
        ).one()
        assert event.actor_id == str(people["admin"])
        assert event.data == {"user_id": people["rita"], "count": 2}


def test_end_all_sessions_ends_every_kind_but_the_admins_own(app, backend, people):
    prof = f.professional(backend)
    declared = f.declare(backend, prof)
    account_enrolment, _hash = f.walk_to(backend, prof, lc.ACCOUNT_CREATED, **OTHER)
    with backend.uow() as uow:
        account_id = uow.session.get(Enrolment, account_enrolment).account_id
    reviewer = _logged_in(app, RITA)
    professional = f.signed_in(app.server.test_client(), "professional", prof)
    account = f.signed_in(app.server.test_client(), "account", account_id)
    secretary = _started(app, declared.token)
    admin = _logged_in(app, ADMIN)
    second_admin_tab = copy_of(app, admin)
    assert _has(_page(account, "/mon-compte"), "account-status")
    assert not _denied(professional, "/professionnel")
    out = dc.values(_end_sessions(admin, everyone=True))
    assert "alert-success" in out[("staff-session-message", "className")]
    assert "4" in out[("staff-session-message", "children")]
    assert not _reviewer_can_work(reviewer)
    assert _denied(professional, "/professionnel")
    assert not _has(_page(account, "/mon-compte"), "account-status")
    assert _cgu(secretary).status_code == 403
    assert _state(backend, declared.enrolment_id) == lc.DECLARED
    # The admin who pressed the button keeps her session (in every tab of that browser).
    assert _admin_can_work(admin) and _admin_can_work(second_admin_tab)
    with backend.uow() as uow:
        event = uow.session.scalars(select(Event).where(Event.action == "sessions_ended_all")).one()
        assert event.actor_id == str(people["admin"])
        assert event.data == {"count": 4}


@pytest.mark.parametrize("who", ["reviewer", "manager", "anonymous", "secretary", "professional"])
def test_only_admins_reset_passwords_or_end_sessions(app, backend, people, who):
    victim = _logged_in(app, RITA)
    client = app.server.test_client()
    if who in ("reviewer", "manager"):
        f.reviewer(backend, email=f"{who}@esante.lu", roles=(who,))
        client = _logged_in(app, f"{who}@esante.lu")
    elif who == "secretary":
        client = _started(app, f.declare(backend, f.professional(backend)).token)
    elif who == "professional":
        client = f.signed_in(client, "professional", f.professional(backend, 2))
    with backend.uow() as uow:
        before = (
            uow.session.get(StaffUser, people["rita"]).password_hash,
            uow.session.scalar(select(func.count(Event.id))),
        )
    responses = [
        _reset_password(client, people["rita"]),
        _end_sessions(client, people["rita"]),
        _end_sessions(client, everyone=True),
    ]
    assert [r.status_code for r in responses] == [403, 403, 403]
    assert all(b"rita" not in r.data for r in responses)
    with backend.uow() as uow:
        after = (
            uow.session.get(StaffUser, people["rita"]).password_hash,
            uow.session.scalar(select(func.count(Event.id))),
        )
    assert after == before
    assert _reviewer_can_work(victim)


# --- the secretary's enrolment session (from her emailed link) --------------------------------


def _started(app, token):
    client = app.server.test_client()
    assert client.get(f"/enrolment/invitation/{token}").status_code == 303
    out = dc.values(
        dc.call(
            client,
            [("start-nav", "href"), ("start-error", "children")],
            [("start-button", "n_clicks", 1)],
        )
    )
    assert out[("start-nav", "href")] == "/enrolment/conditions"
    return client


def _cgu(client):
    return dc.call(
        client,
        CGU_OUTPUTS,
        [("cgu-submit", "n_clicks", 1)],
        [("cgu-accepted", "value", True), ("cgu-version", "data", "2024-01")],
    )


def _state(backend, enrolment_id) -> str:
    with backend.uow() as uow:
        return uow.session.get(Enrolment, enrolment_id).state


def _on_her_step(client, path="/enrolment/conditions") -> bool:
    return _has(_page(client, path), "cgu-submit")


def test_an_enrolment_cookie_copied_before_she_leaves_is_refused_after_it(app, backend):
    declared = f.declare(backend, f.professional(backend))
    browser = _started(app, declared.token)
    thief = copy_of(app, browser)
    assert _on_her_step(thief)
    left = browser.post("/enrolment/quitter", headers={"X-CSRFToken": dc.csrf_token(browser)})
    assert left.status_code == 303
    assert not _on_her_step(browser)
    assert not _on_her_step(thief)
    assert _cgu(thief).status_code == 403
    assert _state(backend, declared.enrolment_id) == lc.DECLARED
    # Her link itself still works: she starts again from it.
    again = _started(app, declared.token)
    assert _cgu(again).status_code == 200
    assert _state(backend, declared.enrolment_id) == lc.CGU_ACCEPTED


def test_pressing_start_twice_keeps_one_session(app, backend):
    declared = f.declare(backend, f.professional(backend))
    browser = _started(app, declared.token)
    with browser.session_transaction() as s:
        first = dict(s)
    dc.call(
        browser,
        [("start-nav", "href"), ("start-error", "children")],
        [("start-button", "n_clicks", 2)],
    )
    with browser.session_transaction() as s:
        assert s.get("enrolment_session") == first.get("enrolment_session")
    assert _on_her_step(browser)


# --- LuxTrust sessions: professional, and the secretary's "Mon compte" ------------------------


def _dash(browser, base, outputs, inputs):
    body = {
        "output": output_key(outputs),
        "outputs": [{"id": i, "property": p} for i, p in outputs],
        "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs],
        "changedPropIds": [f"{inputs[0][0]}.{inputs[0][1]}"],
        "state": [],
    }
    return browser.post(
        f"{base}/_dash-update-component",
        data=json.dumps(body),
        headers={
            "Content-Type": "application/json",
            "X-CSRFToken": browser.cookies.get("_csrf_token", ""),
        },
    )


def _live_page(browser, base, path) -> dict:
    response = _dash(
        browser,
        base,
        [("_pages_content", "children"), ("_pages_store", "data")],
        [("_pages_location", "pathname", path), ("_pages_location", "search", "")],
    )
    assert response.status_code == 200, response.text[:300]
    return response.json()


def _luxtrust_login(browser, base, purpose, subject) -> str:
    browser.get(f"{base}/", allow_redirects=False)  # the CSRF cookie, as a first visit sets it
    start = browser.get(f"{base}/auth/luxtrust/login?for={purpose}", allow_redirects=False)
    assert start.status_code == 302, start.headers
    back = browser.post(start.headers["Location"], data={"sub": subject}, allow_redirects=False)
    done = browser.get(back.headers["Location"], allow_redirects=False)
    assert done.status_code == 303
    return done.headers["Location"]


def _live_logout(browser, base, page_path, action):
    page = _live_page(browser, base, page_path)
    form = next(
        c for c in dc.components(page) if c["type"] == "Form" and c["props"].get("action") == action
    )
    token = next(
        c["props"]["value"] for c in dc.components(form) if c["props"].get("name") == "csrf_token"
    )
    response = browser.post(f"{base}{action}", data={"csrf_token": token}, allow_redirects=False)
    assert response.status_code == 303


def _thief_of(browser) -> requests.Session:
    thief = requests.Session()
    thief.cookies.update(browser.cookies)
    return thief


@pytest.fixture
def provider():
    users = [
        User(sub="prof-1", claims={"family_name": "HOFFMANN", "given_name": "Jean"}),
        User(
            sub="lt-marie",
            claims={
                "family_name": "SCHMIT",
                "given_name": "Marie",
                "birthdate": "1985-04-12",
                "matricule": f.MARIE["matricule"],
            },
        ),
    ]
    with run_server_in_thread(user_claims=users) as server:
        yield f"http://127.0.0.1:{server.server_port}"


def test_a_professional_cookie_copied_before_logout_is_refused_after_it(backend, provider):
    prof = f.professional(backend)  # LuxTrust subject "prof-1"
    f.declare(backend, prof)
    with serve_with_issuer(backend, provider) as live:
        browser = requests.Session()
        assert _luxtrust_login(browser, live.url, "professional", "prof-1") == "/professionnel"
        thief = _thief_of(browser)
        assert not _has(_live_page(thief, live.url, "/professionnel"), "access-denied")
        _live_logout(browser, live.url, "/professionnel", "/professionnel/deconnexion")
        assert _has(_live_page(browser, live.url, "/professionnel"), "access-denied")
        assert _has(_live_page(thief, live.url, "/professionnel"), "access-denied")


def test_a_mon_compte_cookie_copied_before_logout_is_refused_after_it(backend, provider):
    prof = f.professional(backend, luxtrust_subject="another-professional")
    f.walk_to(backend, prof, lc.ACCOUNT_CREATED)
    with serve_with_issuer(backend, provider) as live:
        browser = requests.Session()
        assert _luxtrust_login(browser, live.url, "account", "lt-marie") == "/mon-compte"
        thief = _thief_of(browser)
        assert _has(_live_page(thief, live.url, "/mon-compte"), "account-status")
        _live_logout(browser, live.url, "/mon-compte", "/mon-compte/deconnexion")
        assert not _has(_live_page(browser, live.url, "/mon-compte"), "account-status")
        page = _live_page(thief, live.url, "/mon-compte")
        assert not _has(page, "account-status")
        assert _has(page, "account-login")
        assert "Schmit" not in json.dumps(page)


# --- lifetimes: the 30-minute idle limit and the absolute one (SESSION_MAX_HOURS) ---------------


def test_staff_idle_time_is_read_from_the_clock(app, people, clock):
    browser = _logged_in(app, RITA)
    clock.advance(minutes=29)
    assert _reviewer_can_work(browser)
    clock.advance(minutes=29)
    assert _reviewer_can_work(browser)  # each request counts as activity
    clock.advance(minutes=31)
    assert not _reviewer_can_work(browser)


def test_an_active_staff_session_still_ends_after_twelve_hours(app, people, clock):
    browser = _logged_in(app, RITA)
    for _step in range(35):  # busy all day long: a request every 20 minutes
        clock.advance(minutes=20)
        assert _reviewer_can_work(browser)
    thief = copy_of(app, browser)  # copied late in the day: fresh for the idle limit
    clock.advance(minutes=19)  # 11 h 59 after the login
    assert _reviewer_can_work(thief)
    clock.advance(minutes=2)
    assert not _reviewer_can_work(thief)
    assert not _reviewer_can_work(browser)
    login_page = _page(browser, "/backoffice/connexion")
    notice = next(
        c for c in dc.components(login_page) if c["props"].get("id") == "staff-session-ended"
    )
    assert notice["props"]["children"] == ENDED_NOTICE
    assert _reviewer_can_work(_logged_in(app, RITA))  # a new login starts a new day


def test_the_absolute_lifetime_is_the_setting(backend, people, clock):
    backend.settings = backend.settings.replace(session_max_hours=2)
    app = create_app(backend.settings, backend=backend)
    browser = _logged_in(app, RITA)
    for _step in range(5):
        clock.advance(minutes=23)
        assert _reviewer_can_work(browser)
    clock.advance(minutes=6)  # 2 h 01
    assert not _reviewer_can_work(browser)


def test_professional_and_secretary_sessions_end_after_twelve_hours(app, backend, clock):
    prof = f.professional(backend)
    declared = f.declare(backend, prof)
    done, _hash = f.walk_to(backend, prof, lc.ACCOUNT_CREATED, **OTHER)
    with backend.uow() as uow:
        account_id = uow.session.get(Enrolment, done).account_id
    professional = f.signed_in(app.server.test_client(), "professional", prof)
    account = f.signed_in(app.server.test_client(), "account", account_id)
    secretary = _started(app, declared.token)
    clock.advance(hours=11, minutes=59)
    assert not _denied(professional, "/professionnel")
    assert _has(_page(account, "/mon-compte"), "account-status")
    assert _on_her_step(secretary)
    clock.advance(minutes=2)
    assert _denied(professional, "/professionnel")
    assert not _has(_page(account, "/mon-compte"), "account-status")
    assert not _on_her_step(secretary)
    assert _cgu(secretary).status_code == 403
