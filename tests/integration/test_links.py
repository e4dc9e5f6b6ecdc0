"""The end of access (leaver), on SQLite and PostgreSQL: who may end which link, the last
link deactivates the account, a new declaration reactivates the same one (history kept),
deactivating a professional ends all his links and his declarations; every end writes its
event, its emails (both people, each in their language) and its provisioning request in the
same transaction — and, against a real SCIM server, the directory follows."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from dashboard.__main__ import main
from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment import links
from dashboard.enrolment.errors import Forbidden, NotFound, ValidationFailed
from dashboard.enrolment.kernel import Actor
from dashboard.enrolment.model import (
    AccountLink,
    Event,
    OutboxEmail,
    Professional,
    ProvisioningRequest,
    SecretaryAccount,
)
from dashboard.enrolment.scim import ScimDirectory
from tests import factories as f
from tests.scim_server import TOKEN


def _open_link(backend, prof_id: int) -> AccountLink:
    with backend.uow() as uow:
        return uow.session.scalars(
            select(AccountLink).where(
                AccountLink.professional_id == prof_id, AccountLink.ended_at.is_(None)
            )
        ).one()


def _account(backend) -> SecretaryAccount:
    with backend.uow() as uow:
        return uow.session.scalars(select(SecretaryAccount)).one()


def _count(backend, model, *where) -> int:
    with backend.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(model).where(*where))


def _mails(backend, template: str) -> list[OutboxEmail]:
    with backend.uow() as uow:
        return list(
            uow.session.scalars(select(OutboxEmail).where(OutboxEmail.template == template))
        )


@pytest.fixture
def two_practices(backend):
    """Marie works for two professionals; her account is in the directory."""
    one = f.professional(backend, 1, code="P1")
    two = f.professional(backend, 2, code="P2")
    f.walk_to(backend, one, lc.ACCOUNT_CREATED)
    f.walk_to(backend, two, lc.ACCOUNT_CREATED)
    f.provision(backend)
    return one, two


def _end(backend, link_id, actor, reason="left_practice", **kw):
    with backend.uow() as uow:
        done = links.end_link(uow, link_id, actor, reason, **kw)
        uow.commit()
    return done


def test_the_professional_ends_his_link_and_both_are_told(backend, two_practices):
    one, _two = two_practices
    link = _open_link(backend, one)
    done = _end(backend, link.id, Actor("professional", str(one)), note="Départ en juin")
    assert done.account_active is True  # she still works for the other one
    with backend.uow() as uow:
        ended = uow.session.get(AccountLink, link.id)
        assert ended.ended_at is not None and ended.end_reason == "left_practice"
        assert (ended.ended_by_type, ended.ended_by_id, ended.end_note) == (
            "professional",
            str(one),
            "Départ en juin",
        )
        event = uow.session.scalars(select(Event).where(Event.action == "link_ended")).one()
        assert event.data["ended_by"] == "professional" and event.data["still_active"] is True
    [to_her] = _mails(backend, "link_ended")
    [to_him] = _mails(backend, "professional_link_ended")
    assert to_her.recipient == "marie.schmit@example.lu"
    assert to_her.context["reason_code"] == "left_practice"
    assert to_her.context["ended_by"] == "professional" and to_her.context["still_active"]
    with backend.uow() as uow:
        assert to_him.recipient == uow.session.get(Professional, one).email
    assert _account(backend).status == "active"


def test_nobody_ends_a_link_that_is_not_theirs(backend, two_practices):
    one, two = two_practices
    link = _open_link(backend, one)
    account = _account(backend)
    for actor, admin in (
        (Actor("professional", str(two)), False),  # another professional
        (Actor("secretary", str(account.id + 1)), False),  # another secretary
        (Actor("staff", "1"), False),  # staff without the admin role said by the caller
    ):
        with pytest.raises(NotFound), backend.uow() as uow:
            links.end_link(uow, link.id, actor, "other", admin=admin)
    with pytest.raises(NotFound), backend.uow() as uow:
        links.end_link(uow, 999_999, Actor("staff", "1"), "other", admin=True)
    assert _count(backend, AccountLink, AccountLink.ended_at.is_not(None)) == 0
    assert _count(backend, Event, Event.action == "link_ended") == 0


def test_a_bad_reason_or_note_ends_nothing(backend, two_practices):
    one, _two = two_practices
    link = _open_link(backend, one)
    me = Actor("professional", str(one))
    with pytest.raises(ValidationFailed) as err, backend.uow() as uow:
        links.end_link(uow, link.id, me, "fired")
    assert "reason" in err.value.errors
    with pytest.raises(ValidationFailed) as err, backend.uow() as uow:
        links.end_link(uow, link.id, me, "other", note="bad\u202enote")
    assert "note" in err.value.errors
    assert _open_link(backend, one).id == link.id


def test_the_secretary_leaves_and_her_last_link_deactivates_the_account(backend, two_practices):
    one, two = two_practices
    account = _account(backend)
    her = Actor("secretary", str(account.id))
    _end(backend, _open_link(backend, one).id, her, "end_of_contract")
    last = _end(backend, _open_link(backend, two).id, her, "end_of_contract")
    assert last.account_active is False
    assert _account(backend).status == "inactive"
    assert _count(backend, Event, Event.action == "account_deactivated") == 1
    [_first, final] = sorted(_mails(backend, "link_ended"), key=lambda m: m.id)
    assert final.context["still_active"] is False and final.context["ended_by"] == "secretary"
    # A link that ended cannot end twice.
    link_id = last.link_id
    with pytest.raises(Forbidden), backend.uow() as uow:
        links.end_link(uow, link_id, her, "other")


def test_an_admin_ends_any_link(backend, two_practices):
    one, _two = two_practices
    done = _end(backend, _open_link(backend, one).id, Actor("staff", "7"), "other", admin=True)
    assert done.account_active is True
    [event] = [
        e for e in _events(backend) if e.action == "link_ended"
    ]  # the admin is recorded as the actor
    assert (event.actor_type, event.actor_id, event.data["ended_by"]) == ("staff", "7", "admin")


def _events(backend) -> list[Event]:
    with backend.uow() as uow:
        return list(uow.session.scalars(select(Event).order_by(Event.id)))


def test_a_new_declaration_reactivates_the_same_account_with_its_history(backend, two_practices):
    one, two = two_practices
    account = _account(backend)
    her = Actor("secretary", str(account.id))
    for prof in (one, two):
        _end(backend, _open_link(backend, prof).id, her)
    assert _account(backend).status == "inactive"
    f.walk_to(backend, one, lc.ACCOUNT_CREATED)
    again = _account(backend)  # .one(): no second account
    assert again.id == account.id and again.status == "active"
    assert _count(backend, AccountLink, AccountLink.professional_id == one) == 2  # history
    assert _count(backend, Event, Event.action == "account_reactivated") == 1


def test_every_end_asks_the_directory_in_the_same_transaction(backend, two_practices):
    one, _two = two_practices
    before = _count(backend, ProvisioningRequest)
    link = _open_link(backend, one)
    with backend.uow() as uow:  # not committed: nothing stays, not even the request
        links.end_link(uow, link.id, Actor("professional", str(one)), "other")
    assert _count(backend, ProvisioningRequest) == before
    assert _count(backend, OutboxEmail, OutboxEmail.template == "link_ended") == 0
    _end(backend, link.id, Actor("professional", str(one)), "other")
    assert _count(backend, ProvisioningRequest) == before + 1


def test_deactivating_a_professional_ends_his_links_and_his_declarations(backend, two_practices):
    one, two = two_practices
    with backend.uow() as uow:
        ended = links.deactivate_professional(uow, one, Actor("staff", "7"))
        uow.commit()
    assert ended == 1
    with backend.uow() as uow:
        assert uow.session.get(Professional, one).active is False
        link = uow.session.scalars(
            select(AccountLink).where(AccountLink.professional_id == one)
        ).one()
        assert link.end_reason == "professional_deactivated"
    assert _open_link(backend, two)  # her other practice is untouched
    with pytest.raises(NotFound):
        f.declare(backend, one, email="another@example.lu")
    with pytest.raises(Forbidden), backend.uow() as uow:
        links.deactivate_professional(uow, one, Actor("staff", "7"))


def test_the_command_line_deactivates_a_professional(backend, two_practices, capsys):
    one, _two = two_practices
    assert main(["professionals", "deactivate", "P1"], settings=backend.settings) == 0
    assert "P1 désactivé : 1 accès" in capsys.readouterr().out
    with backend.uow() as uow:
        assert uow.session.get(Professional, one).active is False
    assert main(["professionals", "deactivate", "P1"], settings=backend.settings) == 1
    assert "déjà désactivé" in capsys.readouterr().err
    assert main(["professionals", "deactivate", "NOPE"], settings=backend.settings) == 1
    assert "Aucun professionnel" in capsys.readouterr().err


def test_the_lists_of_links_show_open_ones_first(backend, two_practices):
    one, two = two_practices
    account = _account(backend)
    _end(backend, _open_link(backend, one).id, Actor("secretary", str(account.id)))
    with backend.uow() as uow:
        mine = links.account_links(uow, account.id)
        his = links.professional_links(uow, two)
    assert [row.ended_at is None for row in mine] == [True, False]
    assert [row.person for row in his] == ["Marie Schmit"]


def test_the_directory_follows_the_ends_and_the_return(backend, scim_server):
    """Against a real scim2-server: membership gone, User inactive, then active again."""
    directory = ScimDirectory.over_http(scim_server.url, TOKEN)
    one = f.professional(backend, 1, code="R1")
    f.walk_to(backend, one, lc.ACCOUNT_CREATED)
    backend.deliver_provisioning(directory)
    account = _account(backend)
    assert scim_server.user(account.directory_id)["active"] is True
    assert scim_server.members("R1") == {account.directory_id}
    _end(backend, _open_link(backend, one).id, Actor("professional", str(one)))
    assert backend.deliver_provisioning(directory).done == 1
    assert scim_server.user(account.directory_id)["active"] is False
    assert scim_server.members("R1") == set()
    f.walk_to(backend, one, lc.ACCOUNT_CREATED)
    backend.deliver_provisioning(directory)
    assert scim_server.user(account.directory_id)["active"] is True
    assert scim_server.members("R1") == {account.directory_id}
