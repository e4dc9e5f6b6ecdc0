"""The admins' "Exploitation" page (issue 20): stuck mail and provisioning items, their
error and attempts without personal data, and an audited retry or cancel."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, update

from dashboard.app import create_app
from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment import mail, operations, provisioning
from dashboard.enrolment.errors import ConcurrentUpdate
from dashboard.enrolment.model import Event, OutboxEmail, ProvisioningRequest, SecretaryAccount
from tests import dashclient as dc
from tests import factories as f

ACT_OUTPUTS = [
    ("ops-message", "children"),
    ("ops-message", "className"),
    ("ops-grid", "rowData"),
    ("ops-grid", "selectedRows"),
]


@pytest.fixture
def world(backend, clock):
    prof = f.professional(backend)
    f.walk_to(backend, prof, lc.ACCOUNT_CREATED)
    admin = f.reviewer(backend, email="anne.admin@esante.lu", roles=("admin",))
    with backend.uow() as uow:
        account = uow.session.scalars(select(SecretaryAccount)).first()
        provisioning.request(uow, account, "account_opened")
        uow.commit()
    return {"prof": prof, "admin": admin}


def _fail_everything(backend, error: str):
    with backend.engine.begin() as conn:
        conn.execute(
            update(OutboxEmail).values(
                status="failed", attempts=mail.MAX_ATTEMPTS, last_error=error
            )
        )
        conn.execute(
            update(ProvisioningRequest).values(status="failed", attempts=9, last_error=error)
        )


def _admin_client(backend, admin):
    app = create_app(backend.settings, backend=backend)
    return f.signed_in(app.server.test_client(), "staff", admin)


def _act(client, trigger, selected):
    inputs = [
        ("ops-retry-confirm", "submit_n_clicks", 1 if trigger == "ops-retry-confirm" else None),
        ("ops-cancel-confirm", "submit_n_clicks", 1 if trigger == "ops-cancel-confirm" else None),
        ("ops-refresh", "n_clicks", 1 if trigger == "ops-refresh" else None),
    ]
    return dc.call(
        client,
        ACT_OUTPUTS,
        inputs,
        state=[("ops-grid", "selectedRows", selected)],
        triggered=f"{trigger}.{'n_clicks' if trigger == 'ops-refresh' else 'submit_n_clicks'}",
    )


def test_failed_and_old_items_are_listed_without_personal_data(backend, world, clock):
    _fail_everything(backend, "SMTPRecipientsRefused: marie.schmit@example.lu refused")
    with backend.uow() as uow:
        items = operations.stuck_items(uow)
    kinds = {item.kind for item in items}
    assert kinds == {"mail", "provisioning"}
    assert all(item.status == "failed" for item in items)
    assert all("marie.schmit" not in item.last_error for item in items)
    page = json.dumps(
        dc.render_page(
            _admin_client(backend, world["admin"]), "/backoffice/exploitation"
        ).get_json(),
        ensure_ascii=False,
    )
    assert "ops-grid" in page and "account_opened" in page and "invitation" in page
    for value in ("Schmit", "marie.schmit@example.lu", f.MARIE["matricule"], "dr1@cabinet.lu"):
        assert value not in page


def test_a_pending_item_is_listed_only_once_past_the_threshold(backend, world, clock):
    with backend.uow() as uow:
        assert operations.stuck_items(uow) == []  # all fresh, none failed
    clock.advance(minutes=backend.settings.outbox_stuck_minutes + 1)
    with backend.uow() as uow:
        assert {i.status for i in operations.stuck_items(uow)} == {"pending"}


def test_retry_makes_it_due_now_with_fresh_attempts_and_is_audited(backend, world, clock):
    _fail_everything(backend, "TimeoutError")
    client = _admin_client(backend, world["admin"])
    with backend.uow() as uow:
        target = next(i for i in operations.stuck_items(uow) if i.kind == "mail")
    clock.advance(hours=2)
    out = dc.values(_act(client, "ops-retry-confirm", [{"id": f"mail-{target.id}"}]))
    assert "renvoyé" in out[("ops-message", "children")]
    # Still listed (it has waited long), now waiting again rather than given up.
    shown = {r["id"]: r for r in out[("ops-grid", "rowData")]}
    assert shown[f"mail-{target.id}"]["status"] == "En attente"
    assert shown[f"mail-{target.id}"]["attempts"] == 0
    with backend.uow() as uow:
        row = uow.session.get(OutboxEmail, target.id)
        assert (row.status, row.attempts) == ("pending", 0)
        assert row.next_attempt_at.replace(tzinfo=None) == clock().replace(tzinfo=None)
        event = uow.session.scalars(select(Event).where(Event.action == "outbox_retried")).one()
    assert event.actor_type == "staff" and event.actor_id == str(world["admin"])
    assert event.data == {
        "kind": "mail",
        "item": target.id,
        "what": target.what,
        "status": "failed",
        "attempts": mail.MAX_ATTEMPTS,
    }


def test_cancel_stops_it_for_good_and_is_audited(backend, world):
    _fail_everything(backend, "HTTP 503")
    client = _admin_client(backend, world["admin"])
    with backend.uow() as uow:
        target = next(i for i in operations.stuck_items(uow) if i.kind == "provisioning")
    out = dc.values(_act(client, "ops-cancel-confirm", [{"id": f"provisioning-{target.id}"}]))
    assert "annulé" in out[("ops-message", "children")]
    with backend.uow() as uow:
        assert uow.session.get(ProvisioningRequest, target.id).status == "cancelled"
        assert uow.session.scalars(
            select(Event.action).where(Event.action == "outbox_cancelled")
        ).one()
    again = dc.values(_act(client, "ops-cancel-confirm", [{"id": f"provisioning-{target.id}"}]))
    assert "Rien n'a été modifié" in again[("ops-message", "children")]


def test_an_item_being_sent_is_left_to_its_dispatcher(backend, world, clock):
    with backend.uow() as uow:
        row = uow.session.scalars(select(OutboxEmail)).first()
        row.lease_owner, row.lease_until = "other", clock() + mail.LEASE
        uow.commit()
        item_id = row.id
    with backend.uow() as uow, pytest.raises(ConcurrentUpdate):
        operations.retry(uow, world["admin"], "mail", item_id)


@pytest.mark.parametrize("selected", [None, [], ["x"], [{"id": "mail-abc"}], [{"id": "smtp-1"}]])
def test_a_forged_selection_changes_nothing(backend, world, selected):
    client = _admin_client(backend, world["admin"])
    response = _act(client, "ops-retry-confirm", selected)
    assert response.status_code == 200
    assert "Sélectionnez" in dc.values(response)[("ops-message", "children")]


@pytest.mark.parametrize("role", ["reviewer", "manager"])
def test_only_admins_reach_the_page_or_its_actions(backend, world, role):
    _fail_everything(backend, "x")
    other = f.reviewer(backend, email=f"{role}@esante.lu", roles=(role,))
    app = create_app(backend.settings, backend=backend)
    client = f.signed_in(app.server.test_client(), "staff", other)
    page = json.dumps(dc.render_page(client, "/backoffice/exploitation").get_json())
    assert "access-denied" in page and "ops-grid" not in page
    assert _act(client, "ops-retry-confirm", [{"id": "mail-1"}]).status_code == 403
    with backend.uow() as uow:
        assert uow.session.get(OutboxEmail, 1).status == "failed"
