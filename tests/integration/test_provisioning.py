"""Provisioning against a real SCIM 2.0 server process (`scim2-server`), on SQLite and
PostgreSQL: the User and its memberships are created once, whatever is replayed; the
account's emails wait for the directory; failures (down, 401, 403, 409, 5xx, a User
deleted by hand) are retried without losing or doubling anything; reconcile finds every
drift and --fix repairs it through the outbox."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from dashboard.__main__ import main
from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment import matricule, provisioning
from dashboard.enrolment.model import (
    AccountLink,
    Event,
    OutboxEmail,
    ProvisioningRequest,
    SecretaryAccount,
)
from dashboard.enrolment.scim import ScimDirectory
from tests import factories as f
from tests.scim_server import TOKEN

SOPHIE = {
    "last_name": "Weber",
    "first_names": "Sophie",
    "matricule": matricule.make("19900315", "123"),
    "email": "sophie.weber@example.lu",
}


@pytest.fixture
def directory(scim_server):
    return ScimDirectory.over_http(scim_server.url, TOKEN)


def _deliver(backend, directory, **kw) -> provisioning.DeliveryReport:
    return provisioning.deliver_due(
        backend.session_factory, backend.settings, directory, clock=backend.clock, **kw
    )


def _rows(backend) -> list[ProvisioningRequest]:
    with backend.uow() as uow:
        return uow.session.scalars(
            select(ProvisioningRequest).order_by(ProvisioningRequest.id)
        ).all()


def _account(backend) -> SecretaryAccount:
    with backend.uow() as uow:
        return uow.session.scalars(select(SecretaryAccount)).one()


def _account_mail(backend) -> list[tuple[str, str]]:
    with backend.uow() as uow:
        return [
            (m.template, m.recipient)
            for m in uow.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id))
            if m.template != "invitation"
        ]


def test_the_account_is_created_in_the_directory_and_only_then_emailed(
    backend, scim_server, directory
):
    prof = f.professional(backend, code="M12345")
    f.walk_to(backend, prof, lc.ACCOUNT_CREATED)
    account = _account(backend)
    assert scim_server.users() == [] and _account_mail(backend) == []

    assert _deliver(backend, directory).done == 1
    user = scim_server.user(account.directory_id)
    assert user["userName"] == account.directory_id  # no personal data in the login name
    assert (user["name"]["givenName"], user["name"]["familyName"]) == ("Marie", "Schmit")
    assert [e["value"] for e in user["emails"]] == ["marie.schmit@example.lu"]
    assert user["active"] is True
    [group] = scim_server.groups()
    assert group["displayName"] == "M12345"  # the professional's code, not his name
    assert scim_server.members("M12345") == {account.directory_id}
    assert _account_mail(backend) == [
        ("account_created", "marie.schmit@example.lu"),
        ("professional_account_created", "dr1@cabinet.lu"),
    ]
    [row] = _rows(backend)
    assert (row.status, row.attempts, row.last_error) == ("done", 1, None)


def test_a_second_professional_adds_a_membership_to_the_same_user(backend, scim_server, directory):
    one = f.professional(backend, 1, code="M1")
    two = f.professional(backend, 2, code="M2")
    f.walk_to(backend, one, lc.ACCOUNT_CREATED)
    _deliver(backend, directory)
    f.walk_to(backend, two, lc.ACCOUNT_CREATED)
    assert _deliver(backend, directory).done == 1
    account = _account(backend)
    assert [u["externalId"] for u in scim_server.users()] == [account.directory_id]
    assert scim_server.members("M1") == scim_server.members("M2") == {account.directory_id}
    assert sorted(g["displayName"] for g in scim_server.groups()) == ["M1", "M2"]
    # Each doctor is told once, when his link reached the directory.
    assert [t for t, _ in _account_mail(backend)].count("professional_account_created") == 2


def test_a_dispatcher_killed_before_its_scim_call_holds_the_row_until_its_lease_ends(
    backend, scim_server, directory, clock
):
    f.walk_to(backend, f.professional(backend, code="M1"), lc.ACCOUNT_CREATED)
    # A dispatcher leased the row and died (committed its lease, never called SCIM).
    assert provisioning._lease_next(backend.session_factory, clock(), "dead-dispatcher")
    assert _deliver(backend, directory).handled == 0  # held: nobody else applies it
    clock.advance(seconds=provisioning.LEASE.total_seconds() + 1)
    assert _deliver(backend, directory).done == 1
    assert len(scim_server.users()) == 1 and len(_account_mail(backend)) == 2


def test_a_replay_after_the_scim_call_but_before_the_commit_converges(
    backend, scim_server, directory
):
    """The directory applied the state, the process died before recording it: the row is
    delivered again, and the directory holds one User, one membership."""
    f.walk_to(backend, f.professional(backend, code="M1"), lc.ACCOUNT_CREATED)
    account = _account(backend)
    with backend.uow() as uow:
        directory.apply(provisioning.directory_state(uow.session, account.id))
    assert _deliver(backend, directory).done == 1
    assert len(scim_server.users()) == 1
    [group] = scim_server.groups()
    assert len(group["members"]) == 1
    assert len(_account_mail(backend)) == 2  # emailed once, when the row was recorded


def test_the_server_down_then_back_loses_nothing_and_doubles_nothing(
    backend, scim_server, scim_proxy, clock
):
    directory = ScimDirectory.over_http(scim_proxy.url, TOKEN)
    prof = f.professional(backend, code="M1")
    f.walk_to(backend, prof, lc.ACCOUNT_CREATED)
    scim_proxy.down()
    assert _deliver(backend, directory).retried == 1
    [row] = _rows(backend)
    assert row.status == "pending" and row.attempts == 1
    assert "injoignable" in row.last_error
    assert _account_mail(backend) == []  # not "you can log in" while it is not true
    assert _deliver(backend, directory).handled == 0  # backing off
    scim_proxy.up()
    clock.advance(minutes=1)
    assert _deliver(backend, directory).done == 1
    assert len(scim_server.users()) == 1 and len(_account_mail(backend)) == 2
    clock.advance(hours=2)
    assert _deliver(backend, directory).handled == 0


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_server_error_is_retried(backend, scim_server, scim_proxy, clock, status):
    directory = ScimDirectory.over_http(scim_proxy.url, TOKEN)
    f.walk_to(backend, f.professional(backend, code="M1"), lc.ACCOUNT_CREATED)
    scim_proxy.fail_with = status
    assert _deliver(backend, directory).retried == 1
    assert f"erreur du serveur ({status})" in _rows(backend)[0].last_error
    scim_proxy.fail_with = None
    clock.advance(minutes=1)
    assert _deliver(backend, directory).done == 1
    assert len(scim_server.users()) == 1


def test_a_wrong_token_is_a_failed_attempt_that_says_so(backend, scim_server, clock):
    f.walk_to(backend, f.professional(backend, code="M1"), lc.ACCOUNT_CREATED)
    wrong = ScimDirectory.over_http(scim_server.url, "not-the-token")
    assert _deliver(backend, wrong).retried == 1
    [row] = _rows(backend)
    assert "accès refusé (401)" in row.last_error and "SCIM_TOKEN" in row.last_error
    assert scim_server.users() == [] and _account_mail(backend) == []
    clock.advance(minutes=1)
    assert _deliver(backend, ScimDirectory.over_http(scim_server.url, TOKEN)).done == 1


def test_a_forbidden_answer_is_retried_with_back_off(backend, scim_server, scim_proxy, clock):
    directory = ScimDirectory.over_http(scim_proxy.url, TOKEN)
    f.walk_to(backend, f.professional(backend, code="M1"), lc.ACCOUNT_CREATED)
    scim_proxy.fail_with = 403
    for _ in range(1, provisioning.MAX_ATTEMPTS):
        assert _deliver(backend, directory).retried == 1
        assert _deliver(backend, directory).handled == 0  # not before its back-off
        clock.advance(hours=1)
    assert _deliver(backend, directory).failed == 1  # the last attempt: visible as failed
    [row] = _rows(backend)
    assert (row.status, row.attempts) == ("failed", provisioning.MAX_ATTEMPTS)
    assert "accès refusé (403)" in row.last_error
    assert _account_mail(backend) == []


def test_a_conflict_on_creation_looks_up_and_converges(backend, scim_server, directory):
    """A User with her userName exists but not under her externalId (created by another
    dispatcher, or a half-done replay): 409, then the look-up by userName, then replace."""
    f.walk_to(backend, f.professional(backend, code="M1"), lc.ACCOUNT_CREATED)
    account = _account(backend)
    scim_server.post(
        "Users",
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": account.directory_id,
        },
    )
    assert _deliver(backend, directory).done == 1
    [user] = scim_server.users()
    assert user["externalId"] == account.directory_id and user["active"] is True
    assert scim_server.members("M1") == {account.directory_id}


def test_a_user_deleted_by_hand_is_created_again(backend, scim_server, directory, clock):
    f.walk_to(backend, f.professional(backend, code="M1"), lc.ACCOUNT_CREATED)
    _deliver(backend, directory)
    account = _account(backend)
    scim_server.delete("Users", scim_server.user(account.directory_id)["id"])
    with backend.uow() as uow:
        provisioning.request(uow, uow.session.get(SecretaryAccount, account.id), "reconcile")
        uow.commit()
    assert _deliver(backend, directory).done == 1
    assert scim_server.user(account.directory_id)["active"] is True
    assert scim_server.members("M1") == {account.directory_id}


def test_an_ended_link_is_withdrawn_and_the_last_one_deactivates(backend, scim_server, directory):
    """What the leaver part relies on: the state is read at delivery time."""
    one = f.professional(backend, 1, code="M1")
    two = f.professional(backend, 2, code="M2")
    f.walk_to(backend, one, lc.ACCOUNT_CREATED)
    f.walk_to(backend, two, lc.ACCOUNT_CREATED)
    _deliver(backend, directory)
    account = _account(backend)
    for prof, active in ((one, True), (two, False)):
        with backend.uow() as uow:
            link = uow.session.scalars(
                select(AccountLink).where(
                    AccountLink.professional_id == prof, AccountLink.ended_at.is_(None)
                )
            ).one()
            link.ended_at = uow.now()
            provisioning.request(uow, link.account, "link_ended")
            uow.commit()
        assert _deliver(backend, directory).done == 1
        assert scim_server.user(account.directory_id)["active"] is active
    assert scim_server.members("M1") == scim_server.members("M2") == set()


def test_reconcile_reports_every_drift_and_fix_repairs_it(
    backend, settings, scim_server, directory, capsys
):
    one = f.professional(backend, 1, code="M1")
    two = f.professional(backend, 2, code="M2")
    f.walk_to(backend, one, lc.ACCOUNT_CREATED)
    f.walk_to(backend, two, lc.ACCOUNT_CREATED)
    f.walk_to(backend, two, lc.ACCOUNT_CREATED, **SOPHIE)
    _deliver(backend, directory)
    cli = settings.replace(scim_url=scim_server.url, scim_token=TOKEN)
    assert main(["provisioning", "reconcile"], settings=cli) == 0
    assert "aucun écart" in capsys.readouterr().out

    with backend.uow() as uow:
        marie, sophie = uow.session.scalars(select(SecretaryAccount).order_by("id")).all()
        marie, sophie = marie.directory_id, sophie.directory_id
    # Damage: Sophie deleted by hand, Marie out of M2, deactivated, and added to a group
    # of a professional she has no link with.
    scim_server.delete("Users", scim_server.user(sophie)["id"])
    marie_id = scim_server.user(marie)["id"]
    [m2] = [g for g in scim_server.groups() if g["displayName"] == "M2"]
    scim_server.patch(
        "Groups", m2["id"], {"op": "remove", "path": f'members[value eq "{marie_id}"]'}
    )
    scim_server.patch("Users", marie_id, {"op": "replace", "path": "active", "value": False})
    stranger = scim_server.post(
        "Groups",
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "M9",
            "externalId": f"{provisioning.GROUP_PREFIX}999",
            "members": [{"value": marie_id}],
        },
    )

    assert main(["provisioning", "reconcile"], settings=cli) == 1
    out = capsys.readouterr().out
    assert "utilisateur absent de l'annuaire" in out
    assert "appartenance manquante au groupe M2" in out
    assert f"appartenance en trop au groupe {provisioning.GROUP_PREFIX}999" in out
    assert "devrait être actif" in out
    assert "Écarts : 4 (2 compte(s))." in out
    assert _rows(backend)[-1].status == "done"  # without --fix, nothing is queued

    assert main(["provisioning", "reconcile", "--fix"], settings=cli) == 1
    assert [r.reason for r in _rows(backend) if r.status == "pending"] == ["reconcile"] * 2
    capsys.readouterr()
    assert main(["provisioning", "send"], settings=cli) == 0
    assert "Comptes transmis à l'annuaire : 2" in capsys.readouterr().out
    assert main(["provisioning", "reconcile"], settings=cli) == 0
    assert "aucun écart" in capsys.readouterr().out
    assert scim_server.members("M9") == set() and stranger["id"]
    # Repairs send no email: only the enrolments' own deliveries did.
    assert len(_account_mail(backend)) == 6


def test_reconcile_says_when_the_directory_cannot_be_read(settings, capsys):
    cli = settings.replace(scim_url="http://127.0.0.1:9/v2", scim_token=TOKEN)
    assert main(["provisioning", "reconcile"], settings=cli) == 1
    assert "lecture de l'annuaire impossible : annuaire SCIM injoignable" in capsys.readouterr().err


def test_two_dispatchers_at_once_apply_each_row_once(backend, scim_server, directory):
    """PostgreSQL (SKIP LOCKED) and SQLite (one writer at a time): 12 accounts of two
    professionals, two dispatchers racing; every row once, one User each, emails once."""
    profs = [f.professional(backend, n, code=f"M{n}") for n in (1, 2)]
    for n in range(12):
        person = {
            "last_name": f"Muller{n}",
            "first_names": "Anne",
            "matricule": matricule.make("19800101", f"{100 + n:03d}"),
            "email": f"anne{n}@example.lu",
        }
        f.walk_to(backend, profs[n % 2], lc.ACCOUNT_CREATED, **person)
    reports: list[provisioning.DeliveryReport] = []
    start = threading.Barrier(2)

    def dispatch():
        start.wait()
        reports.append(_deliver(backend, ScimDirectory.over_http(scim_server.url, TOKEN)))

    threads = [threading.Thread(target=dispatch) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.done for r in reports) == 12 and not any(r.retried or r.lost for r in reports)
    assert len(scim_server.users()) == 12
    assert sorted(g["displayName"] for g in scim_server.groups()) == ["M1", "M2"]
    assert len(scim_server.members("M1")) == len(scim_server.members("M2")) == 6
    with backend.uow() as uow:
        told = uow.session.scalar(
            select(func.count()).select_from(Event).where(Event.action == "account_provisioned")
        )
    assert told == 12 and len(_account_mail(backend)) == 24
