"""Ending an access from the pages — "Mes secrétaires", "Mon compte", the admin's "Accès" —
through the real Flask/Dash server (callbacks posted as the browser posts them), on SQLite
and PostgreSQL: each actor sees and ends only what is theirs, a forged link id changes
nothing, a missing reason keeps the confirmation open with its message, and the page then
says it is done and lists the end in the history."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from dashboard.app import create_app
from dashboard.enrolment import decisions, matricule
from dashboard.enrolment import lifecycle as lc
from dashboard.enrolment.errors import Forbidden
from dashboard.enrolment.model import AccountLink, Enrolment, Event, Professional, SecretaryAccount
from dashboard.i18n import long_date
from tests import dashclient as dc
from tests import factories as f


@pytest.fixture
def world(backend):
    """Marie works for Dr 1 and Dr 2; her account is in the directory."""
    one = f.professional(backend, 1, code="P1")
    two = f.professional(backend, 2, code="P2")
    f.walk_to(backend, one, lc.ACCOUNT_CREATED)
    f.walk_to(backend, two, lc.ACCOUNT_CREATED)
    f.provision(backend)
    app = create_app(backend.settings, backend=backend)
    with backend.uow() as uow:
        account_id = uow.session.scalar(select(SecretaryAccount.id))
        link_ids = {
            link.professional_id: link.id for link in uow.session.scalars(select(AccountLink))
        }
    admin = f.reviewer(backend, email="admin@esante.lu", roles=("admin",))
    return {
        "backend": backend,
        "app": app,
        "one": one,
        "two": two,
        "account": account_id,
        "links": link_ids,
        "admin": admin,
    }


def _client(world, kind: str, subject):
    client = world["app"].server.test_client()
    f.signed_in(client, kind, subject)
    return client


def _page(client, path: str, search: str = "") -> str:
    response = dc.call(
        client,
        [("_pages_content", "children"), ("_pages_store", "data")],
        [("_pages_location", "pathname", path), ("_pages_location", "search", search)],
    )
    assert response.status_code == 200, response.data[:300]
    return json.dumps(response.get_json(), ensure_ascii=False)


def _confirm(client, prefix: str, target, reason="left_practice", note=None, extra=()):
    return dc.call(
        client,
        [
            (f"{prefix}-reason-error", "children"),
            (f"{prefix}-note-error", "children"),
            (f"{prefix}-error", "children"),
            (f"{prefix}-go", "href"),
        ],
        [(f"{prefix}-confirm", "n_clicks", 1)],
        [
            (f"{prefix}-target", "data", target),
            (f"{prefix}-reason", "value", reason),
            (f"{prefix}-note", "value", note),
            *extra,
        ],
    )


def _ended(backend, link_id):
    with backend.uow() as uow:
        link = uow.session.get(AccountLink, link_id)
        return link.ended_at, link.end_reason, link.ended_by_type, link.end_note


def _event_count(backend, action: str) -> int:
    with backend.uow() as uow:
        return uow.session.scalar(select(func.count()).where(Event.action == action))


def test_the_professional_lists_his_secretaries_and_ends_one(world):
    be, one = world["backend"], world["one"]
    link_id = world["links"][one]
    doctor = _client(world, "professional", one)
    page = _page(doctor, "/professionnel/secretaires")
    assert "Marie Schmit" in page and f"fin={link_id}" in page
    assert '"pro-link-modal"' not in page  # nothing to confirm yet

    # The row's action opens the confirmation, naming her.
    page = _page(doctor, "/professionnel/secretaires", f"?fin={link_id}")
    assert "Mettre fin à l'accès de Marie Schmit ?" in page
    assert "Le professionnel n'exerce plus" not in page  # the system's reason is not offered

    response = _confirm(doctor, "pro-link", link_id, note="Départ à la retraite")
    assert response.status_code == 200
    assert dc.values(response)[("pro-link-go", "href")] == (
        f"/professionnel/secretaires?termine={link_id}"
    )
    ended_at, reason, by, note = _ended(be, link_id)
    assert (reason, by, note) == ("left_practice", "professional", "Départ à la retraite")

    page = _page(doctor, "/professionnel/secretaires", f"?termine={link_id}")
    assert f"L'accès de Marie Schmit a pris fin le {long_date(ended_at)}" in page
    assert '"pro-link-history"' in page and "A quitté le cabinet" in page
    assert '"pro-link-none"' in page  # no open link left for him


def test_a_missing_reason_keeps_the_confirmation_and_changes_nothing(world):
    be, one = world["backend"], world["one"]
    link_id = world["links"][one]
    doctor = _client(world, "professional", one)
    for reason in (None, "", "professional_deactivated_typo"):
        got = dc.values(_confirm(doctor, "pro-link", link_id, reason=reason))
        assert got[("pro-link-reason-error", "children")] == (
            "Choisissez le motif de la fin de l'accès."
        )
        assert ("pro-link-go", "href") not in got  # the browser stays on the confirmation
    got = dc.values(_confirm(doctor, "pro-link", link_id, note="x\u202ey"))
    assert "caractères non admis" in got[("pro-link-note-error", "children")]
    assert _ended(be, link_id)[0] is None
    assert _event_count(be, "link_ended") == 0


def test_a_professional_cannot_end_or_even_name_another_practice_s_link(world):
    be, one, two = world["backend"], world["one"], world["two"]
    other = world["links"][two]
    doctor = _client(world, "professional", one)
    page = _page(doctor, "/professionnel/secretaires", f"?fin={other}")
    assert "Cet accès n'existe pas ou ne vous concerne pas." in page
    assert '"pro-link-modal"' not in page
    for forged in (other, 999_999, "1 OR 1=1", [other], None):
        got = dc.values(_confirm(doctor, "pro-link", forged))
        assert "ne vous concerne pas" in got[("pro-link-error", "children")], forged
    assert _ended(be, other)[0] is None
    # Another session kind cannot call his callback at all.
    secretary = _client(world, "account", world["account"])
    assert _confirm(secretary, "pro-link", world["links"][one]).status_code == 403


def test_the_secretary_leaves_one_professional_and_keeps_her_account(world):
    be, one, two = world["backend"], world["one"], world["two"]
    me = _client(world, "account", world["account"])
    page = _page(me, "/mon-compte")
    assert page.count("Ne plus travailler pour ce professionnel") == 2
    link_id = world["links"][one]
    page = _page(me, "/mon-compte", f"?fin={link_id}")
    assert '"account-link-modal"' in page
    with be.uow() as uow:
        doctor_name = uow.session.get(Professional, one).display_name
    assert f"Ne plus travailler pour {doctor_name} ?" in page

    got = dc.values(_confirm(me, "account-link", link_id, reason="end_of_contract"))
    assert got[("account-link-go", "href")] == f"/mon-compte?termine={link_id}"
    assert _ended(be, link_id)[1:3] == ("end_of_contract", "secretary")
    with be.uow() as uow:
        assert uow.session.get(SecretaryAccount, world["account"]).status == "active"
    page = _page(me, "/mon-compte", f"?termine={link_id}")
    assert f"Vous ne travaillez plus pour {doctor_name}" in page
    assert page.count("Ne plus travailler pour ce professionnel") == 1

    # Her other link is hers too; a professional's session cannot use her callback.
    doctor = _client(world, "professional", two)
    assert _confirm(doctor, "account-link", world["links"][two]).status_code == 403
    anonymous = world["app"].server.test_client()
    assert _confirm(anonymous, "account-link", world["links"][two]).status_code == 403

    # Her last link: the account becomes inactive and the page says so.
    got = dc.values(_confirm(me, "account-link", world["links"][two]))
    assert got[("account-link-go", "href")].endswith(f"termine={world['links'][two]}")
    with be.uow() as uow:
        assert uow.session.get(SecretaryAccount, world["account"]).status == "inactive"
    page = _page(me, "/mon-compte")
    assert "Inactif (plus aucun accès)" in page
    assert "Vous ne travaillez actuellement pour aucun professionnel." in page


def _admin_extra(pro_id):
    return (("admin-pro", "data", pro_id),)


def test_the_admin_finds_a_professional_and_ends_a_link(world):
    be, one = world["backend"], world["one"]
    admin = _client(world, "staff", world["admin"])
    page = _page(admin, "/backoffice/acces", "?q=p1")
    assert '"admin-found"' in page and f"pro={one}" in page
    page = _page(admin, "/backoffice/acces", "?q=%25")  # a LIKE wildcard is only a character
    assert '"admin-none"' in page
    link_id = world["links"][one]
    page = _page(admin, "/backoffice/acces", f"?pro={one}&fin={link_id}")
    assert "Mettre fin à l'accès de Marie Schmit ?" in page
    got = dc.values(_confirm(admin, "admin-link", link_id, reason="other", extra=_admin_extra(one)))
    assert got[("admin-link-go", "href")] == f"/backoffice/acces?pro={one}&termine={link_id}"
    assert _ended(be, link_id)[1:3] == ("other", "staff")
    with be.uow() as uow:
        event = uow.session.scalars(select(Event).where(Event.action == "link_ended")).one()
        assert (event.actor_type, event.actor_id) == ("staff", str(world["admin"]))
    page = _page(admin, "/backoffice/acces", f"?pro={one}&termine={link_id}")
    assert "a pris fin le" in page and "par l'Agence eSanté" in page


@pytest.mark.parametrize("role", ["reviewer", "manager"])
def test_only_an_admin_uses_the_access_page(world, role):
    staff = f.reviewer(world["backend"], email=f"{role}@esante.lu", roles=(role,))
    client = _client(world, "staff", staff)
    assert '"access-denied"' in _page(client, "/backoffice/acces", f"?pro={world['one']}")
    link_id = world["links"][world["one"]]
    response = _confirm(client, "admin-link", link_id, extra=_admin_extra(world["one"]))
    assert response.status_code == 403
    assert _ended(world["backend"], link_id)[0] is None


def _deactivate(client, pro_id):
    return dc.call_by_input(
        client,
        "admin-deactivate-confirm",
        [("admin-deactivate-confirm", "n_clicks", 1)],
        [("admin-pro", "data", pro_id)],
    )


def _href(got: dict):
    return next(v for (i, p), v in got.items() if i.startswith("admin-link-go") and p == "href")


def test_the_admin_deactivates_a_professional_everything_of_his_stops(world):
    be, one = world["backend"], world["one"]
    # Dr 1 also has an invitation still open and a case in review.
    open_id = f.declare(
        be,
        one,
        matricule=matricule.make("19900203", "456"),
        email="lea@example.lu",
        first_names="Léa",
    ).enrolment_id
    review_id, _hash = f.walk_to(
        be,
        one,
        lc.PENDING_REVIEW,
        matricule=matricule.make("19880305", "123"),
        email="ana@example.lu",
    )
    admin = _client(world, "staff", world["admin"])
    page = _page(admin, "/backoffice/acces", f"?pro={one}")
    assert '"admin-deactivate"' in page
    got = dc.values(_deactivate(admin, one))
    assert _href(got) == f"/backoffice/acces?pro={one}&desactive=1"
    with be.uow() as uow:
        assert uow.session.get(Professional, one).active is False
        assert uow.session.get(Enrolment, open_id).state == lc.CANCELLED
        assert uow.session.get(Enrolment, review_id).state == lc.PENDING_REVIEW
        open_links = uow.session.scalar(
            select(func.count()).where(
                AccountLink.professional_id == one, AccountLink.ended_at.is_(None)
            )
        )
    assert open_links == 0
    assert _ended(be, world["links"][one])[1] == "professional_deactivated"
    page = _page(admin, "/backoffice/acces", f"?pro={one}&desactive=1")
    assert '"admin-deactivated"' in page and '"admin-pro-inactive"' in page
    # A second click is refused with its reason, nothing changes.
    again = dc.values(_deactivate(admin, one))
    assert "déjà désactivé" in again[("admin-deactivate-error", "children")]
    # The case in review can no longer be approved (it would link her to no practice).
    reviewer = f.reviewer(be, email="rev@esante.lu")
    with be.uow() as uow, pytest.raises(Forbidden, match="désactivé"):
        decisions.approve(uow, review_id, reviewer)
