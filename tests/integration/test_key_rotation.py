"""Rotating SECRET_KEY loses nothing (issue #18): with the previous key in
SECRET_KEY_FALLBACKS, sessions (and the CSRF tokens of pages already open) signed with it
keep working, and mail sealed with it is still sent; everything new uses the new key.
Without the fallback, the same cookies and rows are refused, as they must be.

The app runs in Flask's test client over a real database; mail goes to a real SMTP server.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dashboard.app import create_app
from dashboard.enrolment import mail
from dashboard.enrolment.model import OutboxEmail
from tests import dashclient as dc
from tests import factories as f

OLD = "old-secret-key-" + "a" * 40
NEW = "new-secret-key-" + "b" * 40
STAFF_EMAIL = "reviewer@esante.lu"
STAFF_PASSWORD = "correct horse battery staple"  # tests.factories.reviewer's


def _app(backend, key: str, fallbacks: tuple[str, ...] = ()):
    settings = backend.settings.replace(secret_key=key, secret_key_fallbacks=fallbacks)
    return create_app(settings, backend=backend)


def _staff_cookies(app) -> dict[str, str]:
    """The cookies of a reviewer logged in through the real form, with the queue open."""
    client = app.server.test_client()
    login = client.post(
        "/backoffice/login",
        data={
            "email": STAFF_EMAIL,
            "password": STAFF_PASSWORD,
            "csrf_token": dc.csrf_token(client),
        },
    )
    assert login.status_code == 303, login.data[:300]
    assert _sees_the_queue(client)
    return {name: client.get_cookie(name).value for name in ("esante_session", "_csrf_token")}


def _browser(app, cookies: dict[str, str]):
    client = app.server.test_client()
    for name, value in cookies.items():
        client.set_cookie(name, value)
    return client


def _queue_response(client):
    return dc.render_page(client, "/backoffice")


def _sees_the_queue(client) -> bool:
    response = _queue_response(client)
    assert response.status_code == 200, response.data[:300]
    ids = {c["props"].get("id") for c in dc.components(response.get_json())}
    assert ("queue-grid" in ids) != ("access-denied" in ids)
    return "queue-grid" in ids


@pytest.fixture
def world(sqlite_backend):
    f.reviewer(sqlite_backend, email=STAFF_EMAIL)
    sqlite_backend.settings = sqlite_backend.settings.replace(secret_key=OLD)
    return sqlite_backend


# --- sessions and the CSRF tokens of open pages -------------------------------------------------


def test_a_session_signed_with_the_previous_key_works_during_the_rotation(world):
    cookies = _staff_cookies(_app(world, OLD))
    rotated = _app(world, NEW, fallbacks=(OLD,))
    # The page she had open: its next action carries the old CSRF token, and works.
    browser = _browser(rotated, cookies)
    assert _sees_the_queue(browser)
    # After a reload too: still logged in, now with a token signed with the new key.
    browser.get("/")
    assert _sees_the_queue(browser)


def test_without_the_previous_key_every_session_is_lost(world):
    cookies = _staff_cookies(_app(world, OLD))
    replaced = _app(world, NEW)
    browser = _browser(replaced, cookies)
    assert _queue_response(browser).status_code == 400  # the open page's CSRF token
    browser.get("/")
    assert not _sees_the_queue(browser)  # and the session: logged out


def test_what_is_signed_during_the_rotation_uses_the_new_key(world):
    cookies = _staff_cookies(_app(world, NEW, fallbacks=(OLD,)))
    # Once the previous key is dropped, sessions begun during the rotation still work.
    assert _sees_the_queue(_browser(_app(world, NEW), cookies))
    assert not _sees_the_queue(
        _browser(_app(world, OLD), {"esante_session": cookies["esante_session"]})
    )


# --- links sealed in the outbox -------------------------------------------------------------------


def test_mail_sealed_with_the_previous_key_is_still_sent_with_its_link(world, smtp_server):
    declared = f.declare(world, f.professional(world))  # sealed with OLD
    link = f"{world.settings.base_url}/enrolment/invitation/{declared.token}"
    transport = mail.SmtpTransport.from_url(smtp_server.url)

    refused = world.settings.replace(secret_key=NEW)
    report = mail.deliver_due(world.session_factory, refused, transport, clock=world.clock)
    assert (report.sent, report.retried) == (0, 1)  # not without the previous key
    world.clock.advance(minutes=1)

    rotated = world.settings.replace(secret_key=NEW, secret_key_fallbacks=(OLD,))
    report = mail.deliver_due(world.session_factory, rotated, transport, clock=world.clock)
    assert report.sent == 1
    [(_rcpt, msg)] = smtp_server.inbox.wait_for(1)
    assert link in msg.get_body(preferencelist=("plain",)).get_content()


def test_links_sealed_during_the_rotation_use_the_new_key(world):
    world.settings = world.settings.replace(secret_key=NEW, secret_key_fallbacks=(OLD,))
    declared = f.declare(world, f.professional(world))
    with world.uow() as uow:
        [row] = uow.session.scalars(select(OutboxEmail)).all()
    sealed = row.context["sealed_link"]
    link = f"{world.settings.base_url}/enrolment/invitation/{declared.token}"
    assert mail.unseal(NEW, sealed) == link
    assert mail.unseal(OLD, sealed) is None
    assert mail.unseal(NEW, mail.seal(OLD, link)) is None
    assert mail.unseal(NEW, mail.seal(OLD, link), fallbacks=(OLD,)) == link
